/**
 * `npm run bench [-- name ...]`: runs the benchmarks one after another, each in its own process so one
 * benchmark's leftovers never skew the next. Names: votes, compare, inference, slack, email, release, release-compare, cluster, chat, campaign.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ALL = ['votes', 'compare', 'inference', 'slack', 'email', 'release', 'release-compare', 'cluster', 'chat', 'campaign'];

function main(): number {
  const args = process.argv.slice(2);
  const names = args.length > 0 ? args : ALL;
  let failed = 0;
  for (const name of names) {
    const file = join(__dirname, `${name}.js`);
    if (!existsSync(file)) {
      process.stderr.write(`bench: no benchmark "${name}" (known: ${ALL.join(', ')})\n`);
      failed++;
      continue;
    }
    process.stdout.write(`\n=== bench/${name}\n`);
    const result = spawnSync(process.execPath, ['--enable-source-maps', file], { stdio: 'inherit' });
    if (result.status !== 0) {
      process.stderr.write(`bench/${name} exited with ${result.status ?? result.signal}\n`);
      failed++;
    }
  }
  return failed === 0 ? 0 : 1;
}

process.exitCode = main();
