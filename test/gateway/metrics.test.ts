/**
 * gateway/metrics: route labels from route patterns, votes counted by outcome, code or failure, and
 * every answered request reported by the HTTP host. The meter records here; test/gateway/ops.test.ts
 * scrapes the real one from a gateway process.
 */
import assert from 'node:assert/strict';
import { noopMetricMeter, type MetricMeter, type MetricTags } from '@temporalio/common';
import { createEmailRoutes } from '../../channels/email/routes';
import { createWebRoutes } from '../../channels/web/routes';
import { signedArtifactUrl } from '../../gateway/artifact-urls';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { createGatewayMetrics, routeLabel, type HttpRequestSample } from '../../gateway/metrics';
import { FakeDirectory, MemoryArtifacts, votingLifecycle } from '../helpers/fake-directory';
import { RATER_KEY, SESSION_KEY, TTL } from '../helpers/gateway';
import { vote } from '../helpers/votes';

/** A meter that keeps every value added or recorded, by metric name. */
function recordingMeter(): { meter: MetricMeter; values: Array<{ name: string; value: number; tags: MetricTags }> } {
  const values: Array<{ name: string; value: number; tags: MetricTags }> = [];
  const meter: MetricMeter = {
    createCounter: (name) => ({ ...noopMetricMeter.createCounter(name), add: (value, tags = {}) => void values.push({ name, value, tags }) }),
    createHistogram: (name, valueType, unit) => ({ ...noopMetricMeter.createHistogram(name, valueType, unit), record: (value, tags = {}) => void values.push({ name, value, tags }) }),
    createGauge: (name) => noopMetricMeter.createGauge(name),
    withTags: () => meter,
  };
  return { meter, values };
}

describe('gateway/metrics', () => {
  it('should label routes by their templates, never by paths', () => {
    const web = createWebRoutes({ directory: new FakeDirectory(), authenticate: () => ({ rater: 'r', displayName: 'r' }) as never, artifactUrl: (sha256) => `/artifacts/${sha256}`, now: Date.now, log: () => undefined });
    assert.deepEqual(web.map((r) => routeLabel(r.pattern)), ['/api/lifecycles', '/api/lifecycles/*', '/api/lifecycles/*/votes', '/api/lifecycles/*/judgements']);
    assert.equal(routeLabel(/^\/artifacts\/([^/]+)$/), '/artifacts/*');
    assert.equal(routeLabel(/^\/healthz$/), '/healthz');
    assert.equal(routeLabel(/^\/(?:index\.html|app\.js|style\.css)?$/), '/*');
    assert.equal(routeLabel(/^\/(?:index\.html|app\.js|compare\.js|style\.css)?$/), '/*');
    const email = createEmailRoutes({ directory: new FakeDirectory(), tokenKey: Buffer.alloc(32, 1), state: {} as never, log: () => undefined });
    assert.deepEqual(email.map((r) => routeLabel(r.pattern)), ['/email/v/*', '/email/j/*', '/email/unsubscribe/*', '/email/page.css']);
  });

  it('should count votes forwarded by outcome, refused by code, and failed upstream, by channel', async () => {
    const { meter, values } = recordingMeter();
    const fake = new FakeDirectory().add(votingLifecycle('lc-1', 'p', [{ kind: 'text', text: 'a' }]));
    const directory = createGatewayMetrics(meter).directory(fake);
    const candidate = (await fake.status('lc-1'))!.candidates[0]!.id;
    const first = vote(candidate, 'up', 1);
    await directory.vote('lc-1', first);
    await directory.vote('lc-1', first);
    await assert.rejects(directory.vote('lc-1', vote('nope', 'up', 2, { channel: 'slack' })));
    await assert.rejects(directory.vote('lc-gone', vote(candidate, 'up', 3, { channel: 'email' })));
    fake.failNext = new Error('upstream down');
    await assert.rejects(directory.vote('lc-1', vote(candidate, 'up', 4, { channel: 'zz' })), /upstream down/);
    assert.deepEqual(values, [
      { name: 'prefline_gateway_votes_forwarded', value: 1, tags: { channel: 'web', outcome: 'recorded' } },
      { name: 'prefline_gateway_votes_forwarded', value: 1, tags: { channel: 'web', outcome: 'duplicate' } },
      { name: 'prefline_gateway_votes_refused', value: 1, tags: { channel: 'slack', code: 'unknown_candidate' } },
      { name: 'prefline_gateway_votes_refused', value: 1, tags: { channel: 'email', code: 'unknown_lifecycle' } },
      { name: 'prefline_gateway_votes_failed', value: 1, tags: { channel: 'other' } },
    ]);
    assert.equal((await directory.status('lc-1'))?.lifecycleId, 'lc-1', 'reads pass through');
  });

  it('should hear of every answered request with its route label and status, and bound client-chosen methods', async () => {
    const samples: HttpRequestSample[] = [];
    const artifacts = new MemoryArtifacts();
    const png = artifacts.put(Buffer.from('png'), 'image/png');
    const server = createGatewayServer({ directory: new FakeDirectory(), artifacts, raterKey: RATER_KEY, sessionKey: SESSION_KEY, sessionTtlMs: TTL, log: () => undefined, observe: (s) => samples.push(s) });
    const { url } = await listen(server, '127.0.0.1', 0);
    try {
      await fetch(`${url}/`);
      await fetch(`${url}/healthz`);
      // Artifacts are served by signed URL (or to a session): an unknown one signed is a 404.
      await fetch(`${url}${signedArtifactUrl(SESSION_KEY, png.sha256, Date.now())}`);
      await fetch(`${url}${signedArtifactUrl(SESSION_KEY, '0'.repeat(64), Date.now())}`);
      await fetch(`${url}/api/lifecycles/lc-secret-id/votes`, { method: 'POST' });
      await fetch(`${url}/no/such/path`);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
    assert.deepEqual(samples.map(({ route, method, status }) => [route, method, status]), [
      ['static', 'GET', 200],
      ['/healthz', 'GET', 200],
      ['/artifacts/*', 'GET', 200],
      ['/artifacts/*', 'GET', 404],
      ['/api/lifecycles/*/votes', 'POST', 403], // no X-Prefline-Request header
      ['unmatched', 'GET', 404],
    ]);
    assert.ok(samples.every((s) => s.ms >= 0));

    const { meter, values } = recordingMeter();
    createGatewayMetrics(meter).request({ route: '/healthz', method: 'BREW', status: 405, ms: 1.6 });
    assert.deepEqual(values, [
      { name: 'prefline_gateway_http_requests', value: 1, tags: { route: '/healthz', method: 'other', status: '405' } },
      { name: 'prefline_gateway_http_request_duration', value: 2, tags: { route: '/healthz' } },
    ]);
  });
});
