#!/usr/bin/env bash
# One-time (and idempotent) setup: npm dependencies, the Temporal CLI, and for tests (--with-browser)
# Chromium, zstd, Dovecot (the IMAP server the reply-polling tests start privately) and what the
# cluster tests start privately: Temporal Server, its schema tool, PostgreSQL 15, openssl
# (--with-cluster installs only these, besides the basics).
# Usage: scripts/setup.sh [--with-browser] [--with-cluster]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

WITH_BROWSER=0
WITH_CLUSTER=0
for arg in "$@"; do
  case "$arg" in
    --with-browser) WITH_BROWSER=1; WITH_CLUSTER=1 ;;
    --with-cluster) WITH_CLUSTER=1 ;;
    *) echo "usage: $0 [--with-browser] [--with-cluster]" >&2; exit 2 ;;
  esac
done

# `npm install` from the lock file, not `npm ci`: the registry these machines reach lacks some optional
# platform packages (e.g. DuckDB's darwin/win32 bindings), which npm then leaves out of the lock file and
# `npm ci` refuses as "not in sync". `--no-save` keeps package.json and the lock file as committed.
if [[ ! -d node_modules ]]; then
  echo "node_modules missing: installing npm packages…"
  npm install --no-save --no-audit --no-fund
elif [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "package-lock.json is newer than node_modules: installing npm packages…"
  npm install --no-save --no-audit --no-fund
else
  echo "node_modules up to date with package-lock.json: skipping npm ci"
fi

echo "Checking the Temporal CLI…"
bash scripts/install-temporal.sh

if [[ "$WITH_BROWSER" == 1 ]]; then
  echo "Checking Chromium…"
  bash scripts/install-chromium.sh
  echo "Checking Dovecot…"
  bash scripts/install-dovecot.sh
fi
if [[ "$WITH_CLUSTER" == 1 ]]; then
  echo "Checking Temporal Server and PostgreSQL (cluster tests)…"
  bash scripts/install-temporal-server.sh
fi
echo "Setup done."
