/**
 * A gateway process on its own dev server: `/healthz` on the rating page's port reports Temporal
 * (200, then 503 once the server stops; `/livez` stays 200), and its ops endpoint
 * (PREFLINE_GATEWAY_METRICS_ADDRESS) counts requests by route and refused votes by code, beside the
 * Temporal client's metrics. Votes a lifecycle accepts are counted too (test/gateway/metrics.test.ts).
 * It logs JSON: every line is one object, the Temporal core's own warnings included.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../core/errors';
import { DevServer, freePort, temporalBinaryPath } from '../../ops/dev-server';
import { JSON_HEADERS } from '../helpers/gateway';
import { spawnCli, waitUntil, type CliProcess } from '../helpers/processes';
import { scrape, total } from '../helpers/prometheus';

describe('gateway health and ops endpoint', function () {
  this.timeout(120_000);
  let dataDir: string;
  let server: DevServer;
  let gateway: CliProcess;
  let url: string;
  let opsUrl: string;

  const get = async (base: string, path: string) => {
    const res = await fetch(`${base}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'prefline-gateway-ops-'));
    server = await DevServer.start({ binary: temporalBinaryPath(), port: await freePort() });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    gateway = spawnCli(['gateway'], {
      PREFLINE_DATA_DIR: dataDir,
      PREFLINE_TEMPORAL_ADDRESS: server.address,
      PREFLINE_GATEWAY_PORT: String(port),
      PREFLINE_GATEWAY_METRICS_ADDRESS: '127.0.0.1:0',
      PREFLINE_LOG_FORMAT: 'json',
      // A typed name signs in only on the open panel (invite links otherwise: test/cli/raters.test.ts).
      PREFLINE_WEB_OPEN_PANEL: '1',
    });
    await gateway.waitFor(/"message":"rating page and vote API listening"/, 60_000);
    const listening = logLines().find((l) => l.message === 'rating page and vote API listening')!;
    opsUrl = String(listening.fields?.ops);
    assert.match(opsUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  /** Every line the gateway wrote, each of which must be one JSON object. */
  const logLines = () =>
    gateway.output().split('\n').filter(Boolean).map((line) => {
      try {
        return JSON.parse(line) as { time: string; level: string; component: string; message: string; fields?: Record<string, unknown> };
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });

  after(async () => {
    await gateway?.kill('SIGKILL');
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should report Temporal reachable, and count requests and refused votes on its ops endpoint', async () => {
    assert.deepEqual(await get(url, '/healthz'), { status: 200, body: { ok: true, temporal: 'ok' } });
    assert.deepEqual(await get(url, '/livez'), { status: 200, body: { ok: true } });
    assert.deepEqual(await get(opsUrl, '/healthz'), { status: 200, body: { ok: true, temporal: 'ok' } });
    assert.equal((await fetch(`${url}/`)).status, 200);
    assert.equal((await fetch(`${url}/metrics`)).status, 404, 'no metrics on the rating page origin');
    const session = (await (await fetch(`${url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name: 'Alice' }) })).json()) as { token: string };
    const refused = await fetch(`${url}/api/lifecycles/lc-nobody-started/votes`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, Authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ candidateId: 'c1', value: 'up', idempotencyKey: 'ops-test-key-1' }),
    });
    assert.equal(refused.status, 404);
    assert.equal(((await refused.json()) as { code: string }).code, ErrorCode.UnknownLifecycle);

    const { text, samples } = await scrape(`${opsUrl}/metrics`);
    assert.equal(total(samples, 'prefline_gateway_http_requests', { route: 'static', method: 'GET', status: '200' }), 1);
    assert.equal(total(samples, 'prefline_gateway_http_requests', { route: '/api/session', method: 'POST', status: '201' }), 1);
    assert.equal(total(samples, 'prefline_gateway_http_requests', { route: '/api/lifecycles/*/votes', method: 'POST', status: '404' }), 1);
    assert.equal(total(samples, 'prefline_gateway_http_requests', { route: 'unmatched', status: '404' }), 1);
    assert.equal(total(samples, 'prefline_gateway_http_requests', { route: '/healthz', status: '200' }), 1);
    assert.equal(total(samples, 'prefline_gateway_http_request_duration_count', { route: '/api/session' }), 1);
    assert.equal(total(samples, 'prefline_gateway_votes_refused', { channel: 'web', code: ErrorCode.UnknownLifecycle }), 1);
    assert.equal(total(samples, 'prefline_gateway_votes_forwarded'), 0);
    // The Temporal client's own metrics: the health probe's calls, the lookup (describe) of the voted-on lifecycle.
    assert.ok(total(samples, 'temporal_request_latency_count', { operation: 'GetSystemInfo' }) >= 1, text);
    assert.ok(total(samples, 'temporal_request_latency_count', { operation: 'DescribeWorkflowExecution' }) >= 1, text);
    assert.ok(!text.includes('lc-nobody-started'), 'no lifecycle ids in labels');
  });

  it('should answer 503 with Temporal unreachable once the server stops, while /livez stays 200', async () => {
    await server.stop();
    const down = await waitUntil(async () => {
      const answer = await get(url, '/healthz');
      return answer.status === 503 ? answer : undefined;
    }, 20_000, 'the gateway to report Temporal unreachable');
    assert.equal(down.body.ok, false);
    assert.equal(down.body.temporal, 'unreachable');
    assert.equal(typeof down.body.error, 'string');
    assert.equal((await get(opsUrl, '/healthz')).status, 503);
    assert.deepEqual(await get(url, '/livez'), { status: 200, body: { ok: true } });
    // The native core's retries of the probe went through the same logger.
    const lines = logLines();
    assert.ok(lines.some((l) => l.level === 'warn' && l.fields?.sdkComponent === 'core' && l.component === 'gateway'), gateway.output().slice(-3000));
    assert.ok(lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(l.time)));
  });
});
