/**
 * Replicate backend: creates a prediction with the official `replicate` client, reports its id at
 * once (so a retried activity resumes it instead of paying twice), polls it ourselves and downloads
 * the output immediately. Works around the client's known gaps (research note B6): its retries fire
 * back-to-back, `wait()` never ends on `aborted`, block-mode `run()` returns early on `processing`.
 */
import Replicate, { type Prediction } from 'replicate';
import {
  asCodedError, ConfigMissingError, InferenceCanceledError, InferenceFailedError, InferenceUnavailableError, isCodedError, UnknownModelError,
} from '../../../core/errors';
import { createSafeDownloader, type SafeDownloaderOptions } from '../../http/safe-download';
import { abortableSleep, backoffMs, errorDetail, fetchWaitingOut429, parseRetryAfter, type Sleep } from '../http-util';
import { errorForStatus, InferenceTimeoutError } from '../remote-errors';
import type { GeneratedOutput, GenerateRequest, InferenceBackend } from '../types';
import { readOutput, replicateFileCredentials } from './outputs';

export interface ReplicateBackendOptions {
  apiToken: string;
  /** Default https://api.replicate.com/v1. */
  baseUrl?: string;
  /** Between status polls; default 1000 ms. */
  pollIntervalMs?: number;
  /** How long one attempt waits for a prediction before giving up (retryable: the retry resumes it); default 10 min. */
  maxWaitMs?: number;
  /** 429s waited out per request before failing with a retryable rate-limited error; default 4. */
  maxRateLimitRetries?: number;
  /** `Prefer: wait=n` on create, so fast models answer in one round trip; 0 disables; default 5 s. */
  syncWaitSeconds?: number;
  /** Calls to the API (not the output downloads, which go through `downloads`). */
  fetch?: typeof fetch;
  sleep?: Sleep;
  /**
   * The rules output files are downloaded under (https only, no private addresses, a size cap…);
   * a deployment's come from PREFLINE_DOWNLOAD_*. Tests with stand-ins on http://127.0.0.1 allow that host here.
   */
  downloads?: SafeDownloaderOptions;
}

const TERMINAL = new Set<string>(['succeeded', 'failed', 'canceled', 'aborted']);
/** Transient poll failures (5xx, network) tolerated in a row before the attempt fails. */
const MAX_POLL_FAILURES = 3;
/** A single 429 wait longer than this is left to the activity's retry policy instead of held in a worker slot. */
const MAX_RATE_LIMIT_WAIT_MS = 60_000;
const CANCEL_TIMEOUT_MS = 10_000;

type ModelRef = { model: string } | { model: string; version: string };

/** `owner/name` → official model endpoint; `owner/name:version` → a pinned version. */
export function parseReplicateModel(ref: string): ModelRef {
  const m = /^([\w.-]+)\/([\w.-]+)(?::([\w.-]+))?$/.exec(ref.trim());
  if (!m) throw new UnknownModelError(`"${ref}" is not a Replicate model: expected owner/name or owner/name:version`);
  const model = `${m[1]}/${m[2]}`;
  return m[3] ? { model, version: m[3] } : { model };
}

export function createReplicateBackend(options: ReplicateBackendOptions): InferenceBackend {
  const baseUrl = (options.baseUrl ?? 'https://api.replicate.com/v1').replace(/\/+$/, '');
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const sleep = options.sleep ?? abortableSleep;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const maxWaitMs = options.maxWaitMs ?? 10 * 60_000;
  const syncWaitSeconds = options.syncWaitSeconds ?? 5;
  const downloader = createSafeDownloader(options.downloads);

  return {
    name: 'replicate',
    async generate(request: GenerateRequest): Promise<GeneratedOutput> {
      // Checked here, not at construction, so a worker without a token still runs other backends.
      if (!options.apiToken) throw new ConfigMissingError('Replicate needs an API token (REPLICATE_API_TOKEN)');
      const ref = parseReplicateModel(request.model);
      const { signal } = request;
      const deadline = Date.now() + maxWaitMs;
      const session = new Session(options.apiToken, baseUrl, fetchFn, sleep, options.maxRateLimitRetries ?? 4);
      let id: string | undefined;
      /** Whether the prediction may still be running, so an abort must cancel it. */
      let running = false;
      try {
        if (signal?.aborted) throw signal.reason;
        let prediction = request.resumeHandle ? await resume(session, request.resumeHandle, signal) : undefined;
        if (!prediction) {
          // No signal on create: an aborted create could still start a prediction whose id we'd never learn.
          const input = { prompt: request.prompt, ...request.params, seed: request.seed };
          prediction = await session.call((c) => c.predictions.create({ ...ref, input, ...(syncWaitSeconds > 0 ? { wait: syncWaitSeconds } : {}) }), signal);
        }
        const handle = (id = prediction.id);
        running = true;
        request.onRemoteHandle?.(handle);

        // Re-reported on every poll: the activity heartbeats it, which keeps a long prediction's attempt alive.
        prediction = await poll(session, prediction, deadline, signal, () => request.onRemoteHandle?.(handle));
        running = false;
        return await toOutput(prediction, ref.model, signal);
      } catch (err) {
        if (signal?.aborted && request.detach?.aborted && id) {
          // The worker is going away, not the lifecycle: leave the prediction running for the next attempt.
          throw new InferenceUnavailableError(`stopped waiting for Replicate prediction ${id}; the next attempt resumes it`, { cause: err });
        }
        if (signal?.aborted) {
          if (id && running) await session.cancel(id);
          throw new InferenceCanceledError(`Replicate prediction ${id ?? '(none created)'} canceled: the activity was cancelled`, { cause: err });
        }
        throw asCodedError(err);
      }
    },
  };

  async function resume(session: Session, id: string, signal: AbortSignal | undefined): Promise<Prediction | undefined> {
    try {
      const prediction = await session.call((c) => c.predictions.get(id, signal ? { signal } : {}), signal);
      // Past Replicate's one-hour retention the output is gone for good: only a new prediction can help.
      return prediction.data_removed ? undefined : prediction;
    } catch (err) {
      // Gone (purged, another account's id): run a new prediction rather than fail the lifecycle.
      if (err instanceof UnknownModelError && err.remoteStatus === 404) return undefined;
      throw err;
    }
  }

  /** Polls until a terminal status. Sync-mode answers may still be `starting`/`processing`: keep going. */
  async function poll(session: Session, prediction: Prediction, deadline: number, signal: AbortSignal | undefined, alive: () => void): Promise<Prediction> {
    let failures = 0;
    while (!TERMINAL.has(prediction.status)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        // Not cancelled on purpose: the retry resumes this prediction through its reported id.
        throw new InferenceTimeoutError(`Replicate prediction ${prediction.id} still ${prediction.status} after ${maxWaitMs} ms`);
      }
      await sleep(Math.min(left, failures > 0 ? backoffMs(failures - 1, pollIntervalMs) : pollIntervalMs), signal);
      try {
        const id = prediction.id;
        prediction = await session.call((c) => c.predictions.get(id, signal ? { signal } : {}), signal);
        failures = 0;
        alive();
      } catch (err) {
        if (signal?.aborted || !isCodedError(err) || !err.retryable || ++failures > MAX_POLL_FAILURES) throw err;
      }
    }
    return prediction;
  }

  async function toOutput(p: Prediction, model: string, signal: AbortSignal | undefined): Promise<GeneratedOutput> {
    const what = `Replicate prediction ${p.id} (${p.model ?? model})`;
    if (p.status === 'failed') throw new InferenceFailedError(`${what} failed: ${typeof p.error === 'string' ? p.error : JSON.stringify(p.error ?? 'no error text')}`);
    if (p.status === 'canceled') throw new InferenceCanceledError(`${what} was canceled on Replicate`);
    // `aborted`: a deadline ended it before it started; the client's wait() would poll it forever.
    if (p.status === 'aborted') throw new InferenceCanceledError(`${what} was aborted before it started (deadline passed)`);

    const content = await readOutput(p.output, {
      downloader,
      ...(signal ? { signal } : {}),
      // Replicate's file URLs on the API origin need the token; nothing else a model outputs may receive it.
      credentials: replicateFileCredentials(baseUrl, options.apiToken),
      predictionId: p.id,
    });
    const { outputCount, ...output } = content;
    const predictTime = p.metrics?.predict_time;
    return {
      ...output,
      placeholder: false,
      provenance: {
        version: p.version,
        predictionId: p.id,
        ...(typeof predictTime === 'number' ? { predictTimeMs: Math.round(predictTime * 1000) } : {}),
        createdAt: p.created_at,
        ...(p.completed_at ? { completedAt: p.completed_at } : {}),
        model: p.model ?? model,
        ...(outputCount !== undefined ? { outputCount } : {}),
      },
    };
  }
}

/**
 * One `replicate` client per generate call, whose fetch waits out 429s for real and turns every other
 * failure into a coded error. The client retries a throwing fetch back-to-back up to 5 more times; a
 * "sticky" error answers those retries without touching the network, and `call` clears it.
 */
class Session {
  readonly client: Replicate;
  private sticky: unknown;
  private waitSignal: AbortSignal | undefined;

  constructor(
    apiToken: string,
    baseUrl: string,
    private readonly fetchFn: typeof fetch,
    private readonly sleep: Sleep,
    private readonly maxRateLimitRetries: number,
  ) {
    this.client = new Replicate({ auth: apiToken, baseUrl, fetch: (input, init) => this.fetch(input, init), useFileOutput: false });
  }

  /** Runs one client call; `waitSignal` interrupts its 429 waits. */
  async call<T>(fn: (client: Replicate) => Promise<T>, waitSignal: AbortSignal | undefined): Promise<T> {
    this.waitSignal = waitSignal;
    try {
      return await fn(this.client);
    } finally {
      this.sticky = undefined;
    }
  }

  /** Best effort: the activity is going away either way, and Replicate stops billing once it lands. */
  async cancel(id: string): Promise<void> {
    const signal = AbortSignal.timeout(CANCEL_TIMEOUT_MS);
    await this.call((c) => c.predictions.cancel(id, { signal }), signal).catch(() => undefined);
  }

  private async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    if (this.sticky !== undefined) throw this.sticky;
    try {
      const response = await fetchWaitingOut429(input, init, {
        fetch: this.fetchFn,
        sleep: this.sleep,
        maxRetries: this.maxRateLimitRetries,
        maxWaitMs: MAX_RATE_LIMIT_WAIT_MS,
        ...(this.waitSignal ? { signal: this.waitSignal } : {}),
        what: 'Replicate',
      });
      if (response.ok) return response;
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
      throw errorForStatus(response.status, errorDetail(await response.text()), { what: 'Replicate', ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
    } catch (err) {
      const abort = err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
      this.sticky = isCodedError(err) || abort ? err : new InferenceUnavailableError(`Replicate is unreachable: ${describe(err)}`, { cause: err });
      throw this.sticky;
    }
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return [err instanceof Error ? err.message : String(err), cause?.code ?? cause?.message].filter(Boolean).join(': ');
}
