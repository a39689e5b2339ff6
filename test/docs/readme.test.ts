/** The README is part of the product: its commands, example input and settings table must stay true. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ENVIRONMENT, documentedDefault } from '../../config';
import { validateLifecycleInput } from '../../workflows/input';

const ROOT = resolve(__dirname, '..', '..', '..');
const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('README', () => {
  it('should name the two commands, and they should exist as npm scripts', () => {
    assert.match(readme, /npm run up/);
    assert.match(readme, /npm test/);
    assert.ok(pkg.scripts.up && pkg.scripts.test);
    assert.match(readFileSync(resolve(ROOT, '.ci', 'run'), 'utf8'), /scripts\/test\.sh/);
    assert.match(pkg.scripts.test, /scripts\/test\.sh/);
  });

  it('should document every environment variable Prefline reads', () => {
    const missing = ENVIRONMENT.map((e) => e.name).filter((name) => !readme.includes(`\`${name}\``));
    assert.deepEqual(missing, []);
  });

  it('should give every environment variable the default and meaning of the config table', () => {
    const rows = new Map<string, string>();
    for (const line of readme.split('\n')) {
      const row = /^\| `([A-Z_]+)` \| .* \|$/.exec(line);
      if (row) rows.set(row[1] as string, line);
    }
    const differing = ENVIRONMENT.filter((s) => rows.get(s.name) !== `| \`${s.name}\` | ${documentedDefault(s)} | ${s.description} |`).map((s) => s.name);
    assert.deepEqual(differing, []);
  });

  it('should give a copy-paste UI input that is valid', () => {
    const example = /```json\n\s*(\{"prompt".*\})\n/.exec(readme);
    assert.ok(example, 'an example input in a json block');
    const result = validateLifecycleInput(JSON.parse(example[1] as string), Date.now());
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  it('should show the folders that exist', () => {
    for (const folder of ['workflows/', 'activities/', 'connectors/', 'store/', 'gateway/', 'workers/', 'cli/', 'bench/', 'test/']) {
      assert.ok(readme.includes(folder), folder);
    }
  });
});
