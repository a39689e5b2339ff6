/**
 * ops/runtime: one Temporal runtime per process, so each case runs in a Node process of its own:
 * the exporter answers on loopback, a second install returns the first, and a runtime created
 * elsewhere first is kept unless metrics are asked for.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const RUNTIME = resolve(__dirname, '..', '..', 'ops', 'runtime.js');
const WORKER = require.resolve('@temporalio/worker');

/** Runs `body` (an async function's body; `installRuntime`, `Runtime` and `logger` in scope) in a fresh Node; returns what it printed. */
function inFreshProcess(body: string): string {
  const script = `
    const { installRuntime } = require(${JSON.stringify(RUNTIME)});
    const { Runtime } = require(${JSON.stringify(WORKER)});
    const logger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
    (async () => { ${body} })().then(() => process.exit(0), (err) => { console.log('ERROR ' + err.message); process.exit(0); });`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

describe('ops/runtime', () => {
  it("should serve the runtime's Prometheus text on a loopback port, once per process", () => {
    const out = inFreshProcess(`
      const first = await installRuntime(logger, { metrics: true });
      const again = await installRuntime(logger, { metrics: false });
      first.meter.createCounter('prefline_test_counter').add(2, { kind: 'x' });
      const text = await (await fetch(first.metricsUrl)).text();
      console.log(JSON.stringify({ url: first.metricsUrl, same: again === first, sample: text.split('\\n').find((l) => l.startsWith('prefline_test_counter{')) }));`);
    const result = JSON.parse(out) as { url: string; same: boolean; sample: string };
    assert.match(result.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    assert.equal(result.same, true);
    assert.equal(result.sample, 'prefline_test_counter{kind="x"} 2');
  });

  it('should keep a runtime created elsewhere first, and refuse to promise metrics it lacks', () => {
    assert.equal(inFreshProcess(`
      Runtime.install({ logger, shutdownSignals: [] });
      const kept = await installRuntime(logger, { metrics: false });
      console.log(kept.metricsUrl === undefined ? 'kept' : 'replaced');`), 'kept');
    assert.match(inFreshProcess(`
      Runtime.install({ logger, shutdownSignals: [] });
      await installRuntime(logger, { metrics: true });
      console.log('installed');`), /^ERROR the Temporal runtime of this process was created before its metrics could be turned on/);
  });
});
