#!/usr/bin/env bash
# The one test command (`npm test`): setup, build, lint, then every mocha suite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh --with-browser
echo "== build"
npm run build
echo "== lint"
npx eslint .
echo "== tests"
# The reporter (test/helpers/spec-with-summary-reporter.ts, set in .mocharc.json) ends with "N passed, M failed".
npx mocha --config .mocharc.json 'dist/test/**/*.test.js'
