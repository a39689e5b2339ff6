import { ActivityCancellationDetails } from '@temporalio/common';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { MAX_CANDIDATE_TEXT, createInferenceActivities, planSlots } from '../../activities/generate';
import type { GenerateCandidatesRequest } from '../../activities/types';
import { ErrorCode, InferenceFailedError, InferenceUnavailableError, PreflineError } from '../../core/errors';
import { DEMO_VERSION, createDemoBackend } from '../../connectors/inference/demo';
import { InferenceRegistry } from '../../connectors/inference/registry';
import type { GenerateRequest, GeneratedOutput, InferenceBackend } from '../../connectors/inference/types';
import { ArtifactStore } from '../../store/ArtifactStore';
import type { Candidate } from '../../workflows/types';

interface Progress {
  done: Candidate[];
  inFlight?: { slot: number; handle: string };
}

const quietLogger = () => new DefaultLogger('ERROR');

function request(overrides: Partial<GenerateCandidatesRequest> = {}): GenerateCandidatesRequest {
  return { lifecycleId: 'lc-test', prompt: 'a red fox', models: ['demo:shapes'], candidatesPerModel: 2, params: {}, ...overrides };
}

/** A backend under the name `fake` that records every request and answers with `answer`. */
class FakeBackend implements InferenceBackend {
  readonly name = 'fake';
  readonly requests: GenerateRequest[] = [];
  constructor(private readonly answer: (request: GenerateRequest, call: number) => Promise<GeneratedOutput>) {}
  generate(req: GenerateRequest): Promise<GeneratedOutput> {
    this.requests.push(req);
    return this.answer(req, this.requests.length);
  }
}

function textOutput(text: string, provenance: GeneratedOutput['provenance'] = {}): GeneratedOutput {
  return { kind: 'text', bytes: Buffer.from(text, 'utf8'), mime: 'text/plain; charset=utf-8', text, placeholder: false, provenance };
}

const echo = (req: GenerateRequest): Promise<GeneratedOutput> =>
  Promise.resolve(textOutput(`${req.model} seed ${req.seed}: ${req.prompt}`, { version: 'v1', predictionId: `p-${req.seed}`, predictTimeMs: 12 }));

/** Runs the activity and returns its rejection (fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return assert.fail('expected the activity to fail');
}

function assertAppFailure(err: unknown): asserts err is ApplicationFailure {
  assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
}

describe('activities/generate', function () {
  this.timeout(30_000);

  describe('planSlots', () => {
    it('should number ids c1.. and labels A.. across models, model by model', () => {
      const slots = planSlots(request({ models: ['demo:shapes', 'demo:text', 'demo:gradient'], candidatesPerModel: 2, params: { seed: 10 } }));
      assert.deepEqual(slots.map((s) => [s.slot, s.id, s.label, s.modelRef]), [
        [0, 'c1', 'A', 'demo:shapes'],
        [1, 'c2', 'B', 'demo:shapes'],
        [2, 'c3', 'C', 'demo:text'],
        [3, 'c4', 'D', 'demo:text'],
        [4, 'c5', 'E', 'demo:gradient'],
        [5, 'c6', 'F', 'demo:gradient'],
      ]);
    });

    it('should share the seed of the k-th candidate across models', () => {
      const slots = planSlots(request({ models: ['demo:shapes', 'demo:text'], candidatesPerModel: 3, params: { seed: 10 } }));
      assert.deepEqual(slots.map((s) => s.seed), [10, 11, 12, 10, 11, 12]);
    });

    it('should honour an explicit params.seed, including 0', () => {
      assert.deepEqual(planSlots(request({ candidatesPerModel: 3, params: { seed: 0 } })).map((s) => s.seed), [0, 1, 2]);
      assert.deepEqual(planSlots(request({ candidatesPerModel: 2, params: { seed: 4242 } })).map((s) => s.seed), [4242, 4243]);
    });

    it('should derive a default seed that is stable per lifecycle id and differs between ids', () => {
      const a1 = planSlots(request({ lifecycleId: 'lc-a', candidatesPerModel: 4 }));
      const a2 = planSlots(request({ lifecycleId: 'lc-a', candidatesPerModel: 4 }));
      const b = planSlots(request({ lifecycleId: 'lc-b', candidatesPerModel: 4 }));
      assert.deepEqual(a1, a2);
      assert.notEqual(a1[0]!.seed, b[0]!.seed);
      const base = a1[0]!.seed;
      assert.ok(Number.isSafeInteger(base) && base >= 0 && base < 2 ** 32, `seed ${base}`);
      assert.deepEqual(a1.map((s) => s.seed), [base, base + 1, base + 2, base + 3]);
    });

    it('should not depend on the prompt or other params for the default seed', () => {
      const a = planSlots(request({ prompt: 'one', params: { steps: 1 } }));
      const b = planSlots(request({ prompt: 'two', params: { steps: 9 } }));
      assert.deepEqual(a.map((s) => s.seed), b.map((s) => s.seed));
    });

    it('should plan nothing without models', () => {
      assert.deepEqual(planSlots(request({ models: [] })), []);
    });
  });

  describe('generateCandidates', () => {
    let root: string;
    let artifacts: ArtifactStore;

    beforeEach(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-generate-'));
      artifacts = await ArtifactStore.open(root);
    });

    afterEach(() => {
      fs.rmSync(root, { recursive: true, force: true });
    });

    function run(backends: InferenceBackend[], req: GenerateCandidatesRequest, env = new MockActivityEnvironment({}, { logger: quietLogger() })): Promise<Candidate[]> {
      const activities = createInferenceActivities({ registry: new InferenceRegistry(backends), artifacts });
      return env.run(activities.generateCandidates, req) as Promise<Candidate[]>;
    }

    function recordHeartbeats(env: MockActivityEnvironment): Progress[] {
      const beats: Progress[] = [];
      // The activity keeps mutating the object it heartbeats: keep a copy of each one as sent.
      env.on('heartbeat', (details: Progress) => beats.push(structuredClone(details)));
      return beats;
    }

    describe('with the demo backend', () => {
      it('should generate every candidate with its kind, mime, stored artifact and provenance', async () => {
        const req = request({ models: ['demo:shapes', 'demo:text'], candidatesPerModel: 2, params: { seed: 5, style: 'flat' } });
        const candidates = await run([createDemoBackend()], req);
        assert.deepEqual(candidates.map((c) => [c.id, c.label, c.model, c.kind, c.artifact.mime]), [
          ['c1', 'A', 'demo:shapes', 'image', 'image/png'],
          ['c2', 'B', 'demo:shapes', 'image', 'image/png'],
          ['c3', 'C', 'demo:text', 'text', 'text/plain; charset=utf-8'],
          ['c4', 'D', 'demo:text', 'text', 'text/plain; charset=utf-8'],
        ]);
        for (const c of candidates) {
          assert.equal(c.placeholder, true);
          const bytes = fs.readFileSync(artifacts.absolutePath(c.artifact));
          assert.equal(bytes.length, c.artifact.size);
          assert.equal(await artifacts.has(c.artifact.sha256), true);
          assert.equal(c.provenance.backend, 'demo');
          assert.equal(c.provenance.model, c.model.slice('demo:'.length));
          assert.equal(c.provenance.version, DEMO_VERSION);
          assert.ok(Number.isInteger(c.provenance.wallTimeMs) && c.provenance.wallTimeMs >= 0);
          assert.deepEqual(c.provenance.params, { style: 'flat' }, 'the seed is a field of its own, not a param');
          assert.equal('seed' in c.provenance.params, false);
          assert.deepEqual(c.provenance.extra, { generator: c.provenance.model });
          if (c.kind === 'text') assert.equal(c.text, bytes.toString('utf8'));
          else {
            assert.equal(c.text, undefined);
            assert.deepEqual([...bytes.subarray(1, 4)], [...Buffer.from('PNG')]);
          }
        }
        assert.deepEqual(candidates.map((c) => c.provenance.seed), [5, 6, 5, 6]);
        assert.notEqual(candidates[0]!.artifact.sha256, candidates[1]!.artifact.sha256, 'different seeds give different images');
        assert.deepEqual(req.params, { seed: 5, style: 'flat' }, 'the request is not mutated');
      });

      it('should be deterministic: the same request stores the same artifacts', async () => {
        const req = request({ models: ['demo:gradient', 'demo:text'], candidatesPerModel: 1 });
        const first = await run([createDemoBackend()], req);
        const second = await run([createDemoBackend()], req);
        assert.deepEqual(first.map((c) => c.artifact), second.map((c) => c.artifact));
      });

      it('should heartbeat progress after each finished candidate', async () => {
        const env = new MockActivityEnvironment({}, { logger: quietLogger() });
        const beats = recordHeartbeats(env);
        const candidates = await run([createDemoBackend()], request({ candidatesPerModel: 3 }), env);
        assert.deepEqual(beats.map((b) => b.done.map((c) => c.id)), [['c1'], ['c1', 'c2'], ['c1', 'c2', 'c3']]);
        assert.ok(beats.every((b) => b.inFlight === undefined));
        assert.deepEqual(beats.at(-1)!.done, candidates);
      });

      it('should fail non-retryably with the connector code for an unknown demo model', async () => {
        const err = await rejection(run([createDemoBackend()], request({ models: ['demo:nope'] })));
        assertAppFailure(err);
        assert.equal(err.type, ErrorCode.UnknownModel);
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /unknown demo model "nope"/);
      });
    });

    it('should fail non-retryably with prefline_unknown_model when no backend serves the model', async () => {
      const backend = new FakeBackend(echo);
      const err = await rejection(run([backend], request({ models: ['replicate:acme/painter'] })));
      assertAppFailure(err);
      assert.equal(err.type, ErrorCode.UnknownModel);
      assert.equal(err.nonRetryable, true, 'a worker without the backend cannot succeed on retry');
      assert.match(err.message, /unknown inference backend "replicate"/);
      assert.equal(backend.requests.length, 0);
    });

    it('should pass prompt, model, params without seed, seed and the cancellation signal to the backend', async () => {
      const backend = new FakeBackend(echo);
      const env = new MockActivityEnvironment({}, { logger: quietLogger() });
      await run([backend], request({ models: ['fake:m1', 'fake:m2'], candidatesPerModel: 1, params: { seed: 3, temperature: 0.5 } }), env);
      assert.equal(backend.requests.length, 2);
      assert.deepEqual(backend.requests.map((r) => [r.prompt, r.model, r.seed, r.params]), [
        ['a red fox', 'm1', 3, { temperature: 0.5 }],
        ['a red fox', 'm2', 3, { temperature: 0.5 }],
      ]);
      for (const r of backend.requests) {
        assert.equal(r.signal, env.context.cancellationSignal);
        assert.equal(r.resumeHandle, undefined);
        assert.equal(typeof r.onRemoteHandle, 'function');
      }
    });

    it('should keep backend provenance: version, prediction id, predict time and extras', async () => {
      const backend = new FakeBackend(async () => textOutput('hi', { version: 'v9', predictionId: 'pred-x', predictTimeMs: 1234, usage: { tokens: 3 } }));
      const [c] = await run([backend], request({ models: ['fake:m'], candidatesPerModel: 1, params: { seed: 1 } }));
      assert.ok(c);
      const { wallTimeMs, ...rest } = c.provenance;
      assert.ok(wallTimeMs >= 0);
      assert.deepEqual(rest, { backend: 'fake', model: 'm', version: 'v9', params: {}, seed: 1, predictionId: 'pred-x', predictTimeMs: 1234, extra: { usage: { tokens: 3 } } });
      assert.equal(c.placeholder, false);
    });

    it('should omit optional provenance fields the backend did not give', async () => {
      const backend = new FakeBackend(async () => textOutput('hi'));
      const [c] = await run([backend], request({ models: ['fake:m'], candidatesPerModel: 1 }));
      assert.ok(c);
      for (const key of ['version', 'predictionId', 'predictTimeMs', 'extra']) assert.equal(key in c.provenance, false, key);
    });

    it('should cap the text shown to raters but store the full output', async () => {
      const long = 'x'.repeat(MAX_CANDIDATE_TEXT + 500);
      const backend = new FakeBackend(async () => textOutput(long));
      const [c] = await run([backend], request({ models: ['fake:m'], candidatesPerModel: 1 }));
      assert.ok(c);
      assert.equal(c.text?.length, MAX_CANDIDATE_TEXT);
      assert.equal(c.artifact.size, long.length);
      assert.equal(fs.readFileSync(artifacts.absolutePath(c.artifact), 'utf8'), long);
    });

    describe('resuming from heartbeat details', () => {
      it('should not call the backend again for candidates already finished', async () => {
        const req = request({ models: ['fake:m'], candidatesPerModel: 3, params: { seed: 1 } });
        const first = await run([new FakeBackend(echo)], req);

        const backend = new FakeBackend(echo);
        const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { done: [first[0]] } }, { logger: quietLogger() });
        const resumed = await run([backend], req, env);
        assert.equal(backend.requests.length, 2);
        assert.deepEqual(backend.requests.map((r) => r.seed), [2, 3]);
        assert.deepEqual(resumed.map((c) => c.id), ['c1', 'c2', 'c3']);
        assert.deepEqual(resumed[0], first[0], 'the finished candidate is returned as heartbeated');
      });

      it('should skip finished candidates out of order and return them sorted by id', async () => {
        const req = request({ models: ['fake:m'], candidatesPerModel: 3 });
        const first = await run([new FakeBackend(echo)], req);
        const backend = new FakeBackend(echo);
        const env = new MockActivityEnvironment({ heartbeatDetails: { done: [first[2], first[0]] } }, { logger: quietLogger() });
        const resumed = await run([backend], req, env);
        assert.equal(backend.requests.length, 1);
        assert.deepEqual(resumed.map((c) => c.id), ['c1', 'c2', 'c3']);
      });

      it('should not call the backend at all when every candidate is finished', async () => {
        const req = request({ models: ['fake:m'], candidatesPerModel: 2 });
        const first = await run([new FakeBackend(echo)], req);
        const backend = new FakeBackend(echo);
        const env = new MockActivityEnvironment({ heartbeatDetails: { done: first } }, { logger: quietLogger() });
        assert.deepEqual(await run([backend], req, env), first);
        assert.equal(backend.requests.length, 0);
      });

      it('should heartbeat the remote handle of the candidate in flight before a retryable failure', async () => {
        const backend = new FakeBackend(async (req, call) => {
          if (call === 1) return echo(req);
          req.onRemoteHandle?.('pred-1');
          throw new InferenceUnavailableError('Replicate answered 503');
        });
        const env = new MockActivityEnvironment({}, { logger: quietLogger() });
        const beats = recordHeartbeats(env);
        const err = await rejection(run([backend], request({ models: ['fake:m'], candidatesPerModel: 3 }), env));
        assertAppFailure(err);
        assert.equal(err.nonRetryable, false);
        assert.equal(err.type, ErrorCode.InferenceUnavailable);
        const last = beats.at(-1)!;
        assert.deepEqual(last.inFlight, { slot: 1, handle: 'pred-1' });
        assert.deepEqual(last.done.map((c) => c.id), ['c1']);
      });

      it('should pass the heartbeated handle to the backend on the next attempt, for that slot only', async () => {
        const req = request({ models: ['fake:m'], candidatesPerModel: 3 });
        const first = await run([new FakeBackend(echo)], req);
        const backend = new FakeBackend(echo);
        const env = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { done: [first[0]], inFlight: { slot: 1, handle: 'pred-1' } } }, { logger: quietLogger() });
        const beats = recordHeartbeats(env);
        const resumed = await run([backend], req, env);
        assert.deepEqual(backend.requests.map((r) => r.resumeHandle), ['pred-1', undefined]);
        assert.deepEqual(backend.requests.map((r) => r.seed), [resumed[1]!.provenance.seed, resumed[2]!.provenance.seed]);
        assert.deepEqual(resumed.map((c) => c.id), ['c1', 'c2', 'c3']);
        assert.ok(beats.length > 0 && beats.every((b) => b.inFlight === undefined), 'the finished slot is no longer in flight');
      });

      it('should replace the in-flight handle when the backend reports a new one', async () => {
        const backend = new FakeBackend(async (req) => {
          req.onRemoteHandle?.('pred-2');
          throw new InferenceUnavailableError('still down');
        });
        const env = new MockActivityEnvironment({ heartbeatDetails: { done: [], inFlight: { slot: 0, handle: 'pred-1' } } }, { logger: quietLogger() });
        const beats = recordHeartbeats(env);
        await rejection(run([backend], request({ models: ['fake:m'], candidatesPerModel: 1 }), env));
        assert.equal(backend.requests[0]?.resumeHandle, 'pred-1');
        assert.deepEqual(beats.at(-1)?.inFlight, { slot: 0, handle: 'pred-2' });
      });
    });

    describe('error mapping', () => {
      it('should turn a non-retryable coded error into a non-retryable ApplicationFailure typed by its code', async () => {
        const cause = new InferenceFailedError('NSFW filter rejected the prompt');
        const err = await rejection(run([new FakeBackend(() => Promise.reject(cause))], request({ models: ['fake:m'] })));
        assertAppFailure(err);
        assert.equal(err.type, ErrorCode.InferenceFailed);
        assert.equal(err.nonRetryable, true);
        assert.equal(err.message, 'NSFW filter rejected the prompt');
        assert.equal(err.cause, cause);
        assert.equal(err.nextRetryDelay, undefined);
      });

      it('should turn a retryable error with Retry-After into a retryable failure with nextRetryDelay', async () => {
        const cause = new InferenceUnavailableError('overloaded', { retryAfterSeconds: 7 });
        const err = await rejection(run([new FakeBackend(() => Promise.reject(cause))], request({ models: ['fake:m'] })));
        assertAppFailure(err);
        assert.equal(err.type, ErrorCode.InferenceUnavailable);
        assert.equal(err.nonRetryable, false);
        assert.equal(err.nextRetryDelay, '7s');
      });

      it('should round a fractional Retry-After up, and never below one second', async () => {
        for (const [seconds, expected] of [[2.1, '3s'], [0, '1s'], [0.2, '1s']] as const) {
          const cause = new PreflineError(ErrorCode.InferenceRateLimited, 'slow down', { retryAfterSeconds: seconds });
          const err = await rejection(run([new FakeBackend(() => Promise.reject(cause))], request({ models: ['fake:m'] })));
          assertAppFailure(err);
          assert.equal(err.type, ErrorCode.InferenceRateLimited);
          assert.equal(err.nextRetryDelay, expected, `retryAfterSeconds ${seconds}`);
        }
      });

      it('should treat an uncoded error as retryable backend unavailability', async () => {
        const err = await rejection(run([new FakeBackend(() => Promise.reject(new TypeError('fetch failed')))], request({ models: ['fake:m'] })));
        assertAppFailure(err);
        assert.equal(err.type, ErrorCode.InferenceUnavailable);
        assert.equal(err.nonRetryable, false);
        assert.equal(err.message, 'fetch failed');
      });

      it('should pass an ApplicationFailure from the backend through unchanged', async () => {
        const original = ApplicationFailure.create({ type: 'custom', message: 'as is', nonRetryable: true });
        const err = await rejection(run([new FakeBackend(() => Promise.reject(original))], request({ models: ['fake:m'] })));
        assert.equal(err, original);
      });

      it('should stop at the first failing candidate', async () => {
        const backend = new FakeBackend(async (req, call) => {
          if (call === 2) throw new InferenceFailedError('bad');
          return echo(req);
        });
        await rejection(run([backend], request({ models: ['fake:m'], candidatesPerModel: 4 })));
        assert.equal(backend.requests.length, 2);
      });
    });

    describe('cancellation', () => {
      /** A backend that starts and then waits until its request's signal aborts. */
      function slowBackend(onAbort: (signal: AbortSignal) => unknown) {
        let started!: () => void;
        const startedPromise = new Promise<void>((resolve) => (started = resolve));
        const backend = new FakeBackend(
          (req) =>
            new Promise<GeneratedOutput>((_, reject) => {
              started();
              const timer = setTimeout(() => reject(new Error('the backend was never cancelled')), 10_000);
              req.signal?.addEventListener('abort', () => {
                clearTimeout(timer);
                reject(onAbort(req.signal as AbortSignal));
              }, { once: true });
            }),
        );
        return { backend, started: startedPromise };
      }

      it('should reject with a cancellation when cancelled during a slow backend call', async () => {
        const { backend, started } = slowBackend((signal) => signal.reason);
        const env = new MockActivityEnvironment({}, { logger: quietLogger() });
        const running = run([backend], request({ models: ['fake:m'], candidatesPerModel: 3 }), env);
        await started;
        env.cancel();
        const err = await rejection(running);
        assert.ok(err instanceof CancelledFailure, `expected a CancelledFailure, got ${String(err)}`);
        assert.equal(backend.requests.length, 1, 'no further candidate is started after the cancellation');
        assert.equal(backend.requests[0]?.signal?.aborted, true);
      });

      for (const [what, onAbort] of [
        ['a non-retryable "canceled" connector error (as the Replicate and demo backends throw)', (signal: AbortSignal) => new PreflineError(ErrorCode.InferenceCanceled, 'prediction canceled', { cause: signal.reason })],
        ['a DOM AbortError (as fetch throws)', () => new DOMException('This operation was aborted', 'AbortError')],
      ] as const) {
        it(`should still reject with the cancellation when the backend reports the abort as ${what}`, async () => {
          // On worker shutdown the SDK cancels running activities and relies on the cancellation being
          // rethrown so the server retries them; a non-retryable failure would fail the lifecycle.
          const { backend, started } = slowBackend(onAbort);
          const env = new MockActivityEnvironment({}, { logger: quietLogger() });
          const running = run([backend], request({ models: ['fake:m'] }), env);
          await started;
          env.cancel('WORKER_SHUTDOWN');
          const err = await rejection(running);
          assert.ok(err instanceof CancelledFailure, `expected a CancelledFailure, got ${String(err)}`);
        });
      }

      for (const [what, details, detached] of [
        ['a cancel request of the lifecycle', { cancelRequested: true }, false],
        ['a worker shutdown', { workerShutdown: true }, true],
        ['a timed-out attempt', { timedOut: true }, true],
        ['a pause', { paused: true }, true],
      ] as const) {
        it(`should ${detached ? 'detach from' : 'cancel'} the remote work on ${what}`, async () => {
          const { backend, started } = slowBackend((signal) => signal.reason);
          const env = new MockActivityEnvironment({}, { logger: quietLogger() });
          const running = run([backend], request({ models: ['fake:m'] }), env);
          await started;
          env.cancel(detached ? 'WORKER_SHUTDOWN' : 'CANCELLED', new ActivityCancellationDetails(details));
          await rejection(running);
          assert.equal(backend.requests[0]?.signal?.aborted, true);
          assert.equal(backend.requests[0]?.detach?.aborted, detached, 'only a lifecycle cancellation may cancel paid remote work');
        });
      }

      it('should reject with a cancellation when already cancelled before the demo backend runs', async () => {
        const env = new MockActivityEnvironment({}, { logger: quietLogger() });
        env.cancel();
        const err = await rejection(run([createDemoBackend()], request(), env));
        assert.ok(err instanceof CancelledFailure, `expected a CancelledFailure, got ${String(err)}`);
        assert.deepEqual(fs.readdirSync(path.join(root, 'sha256')), [], 'nothing was stored');
      });

      it('should keep mapping backend errors normally when not cancelled', async () => {
        const env = new MockActivityEnvironment({}, { logger: quietLogger() });
        const err = await rejection(run([new FakeBackend(() => Promise.reject(new PreflineError(ErrorCode.InferenceCanceled, 'canceled on Replicate')))], request({ models: ['fake:m'] }), env));
        assertAppFailure(err);
        assert.equal(err.type, ErrorCode.InferenceCanceled);
        assert.equal(err.nonRetryable, true);
      });
    });
  });
});
