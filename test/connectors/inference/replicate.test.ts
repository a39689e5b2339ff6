import assert from 'node:assert/strict';
import { ErrorCode, isCodedError, type CodedError } from '../../../core/errors';
import { createReplicateBackend, type ReplicateBackendOptions } from '../../../connectors/inference/replicate/ReplicateBackend';
import type { GenerateRequest } from '../../../connectors/inference/types';
import { waitUntil } from '../../helpers/processes';
import { makePng, STANDIN_DOWNLOADS, startReplicateStandIn, type ReplicateStandIn } from '../../standins/replicate-server';

async function rejection(promise: Promise<unknown>): Promise<CodedError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isCodedError(err), `expected a coded error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

describe('Replicate backend (against a local Replicate stand-in)', () => {
  let server: ReplicateStandIn;
  const backend = (options: Partial<ReplicateBackendOptions> = {}) =>
    createReplicateBackend({ apiToken: server.token, baseUrl: server.baseUrl, pollIntervalMs: 20, syncWaitSeconds: 0, downloads: STANDIN_DOWNLOADS, ...options });
  const request = (model: string, extra: Partial<GenerateRequest> = {}): GenerateRequest & { handles: string[] } => {
    const handles: string[] = [];
    // The backend re-reports its handle on every poll (heartbeat); keep the distinct ones.
    return { prompt: 'a red fox', model, params: { steps: 4 }, seed: 42, onRemoteHandle: (h) => void (handles.includes(h) || handles.push(h)), handles, ...extra };
  };
  const posts = (): number => server.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/predictions')).length;

  beforeEach(async () => {
    server = await startReplicateStandIn();
  });
  afterEach(async () => {
    await server.close();
  });

  describe('routes and outputs', () => {
    it('creates official models on /models/{owner}/{name}/predictions, with the token, and downloads the PNG', async () => {
      const png = makePng(3, 2, [1, 2, 3]);
      server.setModel('acme/painter', { output: { kind: 'file', bytes: png } });
      const req = request('acme/painter');
      const out = await backend({ syncWaitSeconds: 5 }).generate(req);

      const [create] = server.requestsTo('POST', /predictions$/);
      assert.equal(create?.path, '/v1/models/acme/painter/predictions');
      assert.equal(create.headers['authorization'], `Bearer ${server.token}`);
      assert.equal(create.headers['prefer'], 'wait=5');
      assert.deepEqual(create.body, { input: { prompt: 'a red fox', steps: 4, seed: 42 } });

      assert.equal(out.kind, 'image');
      assert.equal(out.mime, 'image/png');
      assert.deepEqual(Buffer.from(out.bytes), Buffer.from(png));
      assert.equal(out.placeholder, false);
      const remote = server.prediction(req.handles[0]!)!;
      assert.deepEqual(req.handles, [remote['id']]);
      assert.equal(out.provenance.predictionId, remote['id']);
      assert.equal(out.provenance.version, remote['version']);
      assert.equal(out.provenance['model'], 'acme/painter');
      assert.equal(out.provenance['createdAt'], remote['created_at']);
      assert.equal(out.provenance['completedAt'], remote['completed_at']);
      assert.equal(out.provenance.predictTimeMs, Math.round((remote['metrics'] as { predict_time: number }).predict_time * 1000));
    });

    it('creates pinned versions on /predictions with the version in the body', async () => {
      const { version } = server.setModel('acme/painter', { version: 'a'.repeat(64) });
      const out = await backend().generate(request(`acme/painter:${version}`, { params: { width: 512 }, seed: 7 }));
      const [create] = server.requestsTo('POST', /predictions$/);
      assert.equal(create?.path, '/v1/predictions');
      assert.equal(create.headers['authorization'], `Bearer ${server.token}`);
      assert.deepEqual(create.body, { version, input: { prompt: 'a red fox', width: 512, seed: 7 } });
      assert.equal(out.provenance.version, version);
    });

    it('lets no param override the candidate seed', async () => {
      server.setModel('acme/painter');
      await backend().generate(request('acme/painter', { params: { seed: 1 }, seed: 99 }));
      assert.equal((server.requests[0]!.body as { input: { seed: number } }).input.seed, 99);
    });

    it('polls starting → processing → succeeded itself and reports predict time', async () => {
      server.setModel('acme/slow', { queueMs: 100, runMs: 300 });
      const reports: string[] = [];
      const out = await backend().generate(request('acme/slow', { onRemoteHandle: (h) => reports.push(h) }));
      const gets = server.requestsTo('GET', /^\/v1\/predictions\//);
      assert.ok(gets.length >= 5, `expected several polls, got ${gets.length}`);
      assert.equal(reports.length, gets.length + 1, 'the handle is re-reported after every poll, for heartbeats');
      assert.equal(new Set(reports).size, 1);
      assert.ok(out.provenance.predictTimeMs! >= 300, `predictTimeMs ${out.provenance.predictTimeMs}`);
      assert.equal(out.kind, 'image');
    });

    it('joins a language model token array into text', async () => {
      server.setModel('meta/llama', { output: { kind: 'tokens', tokens: ['The', ' fox', ' is', ' red', '.'] } });
      const out = await backend().generate(request('meta/llama'));
      assert.equal(out.kind, 'text');
      assert.equal(out.text, 'The fox is red.');
      assert.equal(out.mime, 'text/plain; charset=utf-8');
      assert.equal(Buffer.from(out.bytes).toString('utf8'), 'The fox is red.');
    });

    it('keeps polling when a sync-mode answer is still processing (and ignores its partial output)', async () => {
      server.setModel('meta/llama', { runMs: 4000, output: { kind: 'tokens', tokens: 'one two three four five six'.split(/(?= )/) } });
      const out = await backend({ syncWaitSeconds: 1 }).generate(request('meta/llama'));
      assert.equal(server.requests[0]!.headers['prefer'], 'wait=1');
      assert.ok(server.requestsTo('GET', /^\/v1\/predictions\//).length >= 1, 'must poll after a processing sync answer');
      assert.equal(out.text, 'one two three four five six');
    });

    it('sniffs the mime when the file has no or an octet-stream Content-Type', async () => {
      const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0]);
      server.setModel('acme/jpeg', { output: { kind: 'file', bytes: jpeg, contentType: null } });
      const webp = new Uint8Array([...Buffer.from('RIFF'), 26, 0, 0, 0, ...Buffer.from('WEBPVP8 '), 0, 0, 0, 0]);
      server.setModel('acme/webp', { output: { kind: 'file', bytes: webp, contentType: 'application/octet-stream' } });
      assert.equal((await backend().generate(request('acme/jpeg'))).mime, 'image/jpeg');
      assert.equal((await backend().generate(request('acme/webp'))).mime, 'image/webp');
    });

    it('takes the first of several output files and records how many there were', async () => {
      server.setModel('acme/grid', { output: { kind: 'file', count: 3 } });
      const out = await backend().generate(request('acme/grid'));
      assert.equal(out.mime, 'image/png');
      assert.equal(out.provenance['outputCount'], 3);
      assert.equal(server.requestsTo('GET', /^\/files\//).length, 1);
    });
  });

  describe('resume by handle', () => {
    it('a 404 output is retryable, the id was reported, and the retry resumes without a second prediction', async () => {
      server.setModel('acme/painter', { output: { kind: 'file', failDownloads: 1 } });
      const first = request('acme/painter');
      const err = await rejection(backend().generate(first));
      assert.equal(err.code, ErrorCode.OutputFetchFailed);
      assert.equal(err.retryable, true);
      assert.equal(first.handles.length, 1);

      const out = await backend().generate(request('acme/painter', { resumeHandle: first.handles[0]! }));
      assert.equal(server.createdCount, 1);
      assert.equal(posts(), 1);
      assert.equal(out.provenance.predictionId, first.handles[0]);
      assert.equal(out.mime, 'image/png');
    });

    it('a timed-out attempt does not cancel, and the retry resumes the running prediction', async () => {
      server.setModel('acme/slow', { runMs: 800 });
      const first = request('acme/slow');
      const err = await rejection(backend({ maxWaitMs: 200 }).generate(first));
      assert.equal(err.code, ErrorCode.InferenceUnavailable);
      assert.equal(err.retryable, true);
      assert.equal(server.canceledCount, 0);

      const out = await backend().generate(request('acme/slow', { resumeHandle: first.handles[0]! }));
      assert.equal(server.createdCount, 1);
      assert.equal(out.provenance.predictionId, first.handles[0]);
    });

    it('creates a new prediction when the handle no longer exists', async () => {
      server.setModel('acme/painter');
      const req = request('acme/painter', { resumeHandle: 'gonegonegonegonegonegonego' });
      const out = await backend().generate(req);
      assert.equal(server.requestsTo('GET', /gonegone/).length, 1);
      assert.equal(server.createdCount, 1);
      assert.notEqual(out.provenance.predictionId, 'gonegonegonegonegonegonego');
      assert.deepEqual(req.handles, [out.provenance.predictionId]);
    });

    it('creates a new prediction when the resumed output was deleted (data_removed)', async () => {
      server.setModel('acme/painter', { output: { kind: 'file', failDownloads: 1, expireAfterMs: 200 } });
      const first = request('acme/painter');
      assert.equal((await rejection(backend().generate(first))).code, ErrorCode.OutputFetchFailed);
      // The stand-in removes the output 200 ms after the prediction ends, as Replicate does after an hour.
      await waitUntil(() => server.prediction(first.handles[0]!)?.['data_removed'] === true || undefined, 5_000, 'the output to be removed');

      server.setModel('acme/painter');
      const out = await backend().generate(request('acme/painter', { resumeHandle: first.handles[0]! }));
      assert.equal(server.createdCount, 2);
      assert.notEqual(out.provenance.predictionId, first.handles[0]);
    });
  });

  describe('cancellation', () => {
    it('an abort cancels the prediction on Replicate and throws a non-retryable canceled error', async () => {
      server.setModel('acme/forever', { runMs: Infinity });
      const controller = new AbortController();
      const req = request('acme/forever', { signal: controller.signal });
      req.onRemoteHandle = (h) => {
        if (req.handles.push(h) === 1) setTimeout(() => controller.abort(), 100);
      };
      const err = await rejection(backend().generate(req));
      assert.equal(err.code, ErrorCode.InferenceCanceled);
      assert.equal(err.retryable, false);
      const [cancel] = server.requestsTo('POST', /\/cancel$/);
      assert.equal(cancel?.path, `/v1/predictions/${req.handles[0]}/cancel`);
      assert.equal(cancel.headers['authorization'], `Bearer ${server.token}`);
      assert.equal(server.canceledCount, 1);
      assert.equal(server.prediction(req.handles[0]!)!['status'], 'canceled');
    });

    it('a detaching abort (worker shutdown) leaves the prediction running and the retry resumes it', async () => {
      server.setModel('acme/slowish', { runMs: 600 });
      const controller = new AbortController();
      const detach = new AbortController();
      const req = request('acme/slowish', { signal: controller.signal, detach: detach.signal });
      req.onRemoteHandle = (h) => {
        if (req.handles.push(h) === 1) {
          setTimeout(() => {
            detach.abort();
            controller.abort();
          }, 100);
        }
      };
      const err = await rejection(backend().generate(req));
      assert.equal(err.retryable, true, 'the next attempt must run');
      assert.equal(server.canceledCount, 0, 'nothing cancelled at Replicate');
      const out = await backend().generate(request('acme/slowish', { resumeHandle: req.handles[0]! }));
      assert.equal(out.provenance.predictionId, req.handles[0]);
      assert.equal(server.createdCount, 1, 'paid once');
    });

    it('an already-aborted signal creates nothing', async () => {
      server.setModel('acme/painter');
      const err = await rejection(backend().generate(request('acme/painter', { signal: AbortSignal.abort() })));
      assert.equal(err.code, ErrorCode.InferenceCanceled);
      assert.equal(server.requests.length, 0);
    });
  });

  describe('faults', () => {
    it('429 on create: waits Retry-After for real, then succeeds', async () => {
      server.setModel('acme/painter', { createFaults: [{ status: 429, retryAfter: '1' }] });
      await backend().generate(request('acme/painter'));
      const creates = server.requestsTo('POST', /predictions$/);
      assert.equal(creates.length, 2);
      assert.ok(creates[1]!.at - creates[0]!.at >= 1000, `retried after ${creates[1]!.at - creates[0]!.at} ms`);
      assert.equal(server.createdCount, 1);
    });

    it('429 while polling: waits Retry-After for real, then keeps polling', async () => {
      server.setModel('acme/slow', { runMs: 200, getFaults: [{ status: 429, retryAfter: '1' }] });
      const started = Date.now();
      await backend().generate(request('acme/slow'));
      const gets = server.requestsTo('GET', /^\/v1\/predictions\//);
      assert.ok(gets[1]!.at - gets[0]!.at >= 1000, `retried after ${gets[1]!.at - gets[0]!.at} ms`);
      assert.ok(Date.now() - started >= 1000);
    });

    it('429 without Retry-After backs off (not back-to-back)', async () => {
      server.setModel('acme/painter', { createFaults: [{ status: 429, body: { detail: 'Request was throttled.', status: 429 } }] });
      await backend().generate(request('acme/painter'));
      const creates = server.requestsTo('POST', /predictions$/);
      assert.ok(creates[1]!.at - creates[0]!.at >= 500, `retried after ${creates[1]!.at - creates[0]!.at} ms`);
    });

    it('a 429 storm ends in a retryable rate-limited error with retryAfterSeconds, without the client hammering', async () => {
      server.setModel('acme/painter', { createFaults: Array.from({ length: 10 }, () => ({ status: 429, retryAfter: '1' })) });
      const err = await rejection(backend({ maxRateLimitRetries: 1 }).generate(request('acme/painter')));
      assert.equal(err.code, ErrorCode.InferenceRateLimited);
      assert.equal(err.retryable, true);
      assert.equal(err.retryAfterSeconds, 1);
      assert.equal(posts(), 2); // one try + one real-waited retry; the client's 5 back-to-back retries never reach the network
    });

    it('5xx on create is retryable and not hammered', async () => {
      server.setModel('acme/painter', { createFaults: [{ status: 503 }] });
      const err = await rejection(backend().generate(request('acme/painter')));
      assert.equal(err.code, ErrorCode.InferenceUnavailable);
      assert.equal(err.retryable, true);
      assert.equal(posts(), 1);
      assert.equal(server.createdCount, 0);
    });

    it('transient 5xx while polling is ridden out; persistent 5xx fails retryably', async () => {
      server.setModel('acme/slow', { runMs: 150, getFaults: [{ status: 502, body: '<html>Bad gateway</html>' }, { status: 500 }] });
      const out = await backend().generate(request('acme/slow'));
      assert.equal(out.kind, 'image');

      server.setModel('acme/down', { runMs: 150, getFaults: Array.from({ length: 10 }, () => ({ status: 500 })) });
      const req = request('acme/down');
      const err = await rejection(backend().generate(req));
      assert.equal(err.code, ErrorCode.InferenceUnavailable);
      assert.equal(err.retryable, true);
      assert.equal(req.handles.length, 1, 'the retry can resume it');
    });

    it('401 (wrong token) is a non-retryable config error', async () => {
      server.setModel('acme/painter');
      const err = await rejection(createReplicateBackend({ apiToken: 'r8_wrong', baseUrl: server.baseUrl }).generate(request('acme/painter')));
      assert.equal(err.code, ErrorCode.ConfigMissing);
      assert.equal(err.retryable, false);
      assert.equal(server.requests[0]!.headers['authorization'], 'Bearer r8_wrong');
      assert.equal(server.requests.length, 1);
    });

    it('422 is a non-retryable invalid-params error carrying Replicate detail', async () => {
      server.setModel('acme/painter', { validate: (input) => (Number(input['steps']) > 2 ? 'steps: Must be less than or equal to 2' : undefined) });
      const err = await rejection(backend().generate(request('acme/painter')));
      assert.equal(err.code, ErrorCode.InvalidParams);
      assert.equal(err.retryable, false);
      assert.match(err.message, /steps: Must be less than or equal to 2/);
    });

    it('an unknown model or version is non-retryable', async () => {
      assert.equal((await rejection(backend().generate(request('acme/nothing')))).code, ErrorCode.UnknownModel);
      const err = await rejection(backend().generate(request(`acme/nothing:${'b'.repeat(64)}`)));
      assert.equal(err.retryable, false);
      assert.match(err.message, /Invalid version/);
      assert.equal((await rejection(backend().generate(request('not a model')))).code, ErrorCode.UnknownModel);
    });

    it('failed is non-retryable with the error text from Replicate', async () => {
      server.setModel('acme/oom', { outcome: 'failed', error: 'CUDA out of memory. Tried to allocate 2.00 GiB' });
      const err = await rejection(backend().generate(request('acme/oom')));
      assert.equal(err.code, ErrorCode.InferenceFailed);
      assert.equal(err.retryable, false);
      assert.match(err.message, /CUDA out of memory\. Tried to allocate 2\.00 GiB/);
    });

    it('canceled (elsewhere) is a non-retryable canceled error', async () => {
      server.setModel('acme/painter', { outcome: 'canceled' });
      const err = await rejection(backend().generate(request('acme/painter')));
      assert.equal(err.code, ErrorCode.InferenceCanceled);
      assert.equal(err.retryable, false);
    });

    it('aborted ends promptly with a non-retryable error (no infinite poll)', async () => {
      server.setModel('acme/painter', { outcome: 'aborted', queueMs: 200 });
      const started = Date.now();
      const err = await rejection(backend({ maxWaitMs: 60_000 }).generate(request('acme/painter')));
      assert.equal(err.retryable, false);
      assert.match(err.message, /aborted/);
      assert.ok(Date.now() - started < 5000);
    });

    it('null or empty output is a non-retryable empty-output error', async () => {
      for (const value of [null, [], '']) {
        server.setModel('acme/blank', { output: { kind: 'value', value } });
        const err = await rejection(backend().generate(request('acme/blank')));
        assert.equal(err.code, ErrorCode.EmptyOutput, `output ${JSON.stringify(value)}`);
        assert.equal(err.retryable, false);
      }
    });

    it('a missing token is a non-retryable config error, raised on use', async () => {
      const err = await rejection(createReplicateBackend({ apiToken: '' }).generate(request('acme/painter')));
      assert.equal(err.code, ErrorCode.ConfigMissing);
      assert.equal(err.retryable, false);
    });

    it('an unreachable server is retryable', async () => {
      const baseUrl = server.baseUrl;
      await server.close();
      const err = await rejection(createReplicateBackend({ apiToken: 't', baseUrl }).generate(request('acme/painter')));
      assert.equal(err.code, ErrorCode.InferenceUnavailable);
      assert.equal(err.retryable, true);
      server = await startReplicateStandIn();
    });
  });
});
