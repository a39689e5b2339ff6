/** docs/deploy.md is part of the product: the settings it names exist, and its command lines parse. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ENVIRONMENT } from '../../config';
import { resolveCommandLine } from '../../cli/main';

const ROOT = resolve(__dirname, '..', '..', '..');
const deploy = readFileSync(resolve(ROOT, 'docs', 'deploy.md'), 'utf8');

/** `prefline …` lines of the doc's sh blocks, as argument lists (comments and line breaks dropped). */
function commandLines(text: string): string[][] {
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((block) => block.split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter((line) => line.startsWith('prefline '))
    .map((line) => line.split(/\s+/).slice(1));
}

describe('docs/deploy.md', () => {
  it('should name only environment variables Prefline reads (or Temporal\'s, which it reads too)', () => {
    const known = new Set(ENVIRONMENT.map((e) => e.name));
    // TEMPORAL_GRPC_META_<NAME> is a family; the server's own TEMPORAL_ALLOW_NO_AUTH is not Prefline's to read.
    const named = new Set([...deploy.matchAll(/\b((?:PREFLINE|TEMPORAL)_[A-Z0-9_]*[A-Z0-9])\b/g)].map((m) => m[1]!));
    const unknown = [...named].filter((name) => !known.has(name) && name !== 'TEMPORAL_GRPC_META');
    assert.deepEqual(unknown, []);
    assert.ok(named.size > 20, `${named.size} variables found: the pattern still reads the doc`);
  });

  it('should give command lines the strict CLI accepts', () => {
    const lines = commandLines(deploy);
    assert.ok(lines.length >= 6, JSON.stringify(lines));
    for (const args of lines) {
      assert.doesNotThrow(() => resolveCommandLine(args), `prefline ${args.join(' ')}`);
    }
    const queues = lines.filter((a) => a[0] === 'worker').map((a) => a[a.indexOf('--queues') + 1]);
    assert.deepEqual(new Set(queues), new Set(['workflows', 'inference', 'ledger']), 'the worked example starts every kind of worker');
  });

  it('should cover what issue 13 asks of it', () => {
    const headings = [...deploy.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    for (const wanted of [/^Processes and queues$/, /^The one ledger writer$/, /^The shared data folder$/, /^Connecting$/, /cluster setup/, /^Metrics/, /GPU hosts$/, /three hosts$/]) {
      assert.ok(headings.some((h) => wanted.test(h)), `a section matching ${wanted} (sections: ${headings.join(' | ')})`);
    }
  });
});
