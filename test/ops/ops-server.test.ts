/**
 * ops/ops-server: `/metrics` passed on from the exporter's URL and `/healthz` from the process's report.
 * The exporter here is a local HTTP server; test/workers/ops.test.ts and test/gateway/ops.test.ts scrape
 * the Temporal runtime's own through real processes.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startOpsServer, type HealthReport, type RunningOpsServer } from '../../ops/ops-server';

describe('ops/ops-server', () => {
  let exporter: http.Server;
  let exporterUrl: string;
  let ops: RunningOpsServer | undefined;
  let report: HealthReport;

  before(async () => {
    exporter = http.createServer((req, res) => {
      if (req.url !== '/metrics') return res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end('# TYPE temporal_workflow_completed counter\ntemporal_workflow_completed{task_queue="q"} 3\n');
    });
    await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
    exporterUrl = `http://127.0.0.1:${(exporter.address() as AddressInfo).port}/metrics`;
  });
  after(() => new Promise((r) => exporter.close(r)));
  afterEach(async () => {
    await ops?.close();
    ops = undefined;
  });

  const start = async (metricsUrl = exporterUrl) => {
    ops = await startOpsServer({ host: '127.0.0.1', port: 0, metricsUrl, health: async () => report });
    return ops.url;
  };

  it('should pass the exporter text on at /metrics', async () => {
    const url = await start();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4');
    assert.equal(await res.text(), '# TYPE temporal_workflow_completed counter\ntemporal_workflow_completed{task_queue="q"} 3\n');
  });

  it('should answer the health report at /healthz: 200 when ok, 503 when not', async () => {
    const url = await start();
    report = { ok: true, temporal: 'ok' };
    let res = await fetch(`${url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, temporal: 'ok' });
    report = { ok: false, temporal: 'unreachable', error: 'tcp connect error' };
    res = await fetch(`${url}/healthz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), report);
    assert.equal((await fetch(`${url}/healthz`, { method: 'HEAD' })).status, 503);
  });

  it('should answer 503 when the exporter does not, and 404/405 off its two routes', async () => {
    const url = await start('http://127.0.0.1:1/metrics');
    assert.equal((await fetch(`${url}/metrics`)).status, 503);
    assert.equal((await fetch(`${url}/`)).status, 404);
    assert.equal((await fetch(`${url}/metrics/extra`)).status, 404);
    const post = await fetch(`${url}/healthz`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });
});
