/**
 * `generateCandidates`: runs inference for every candidate slot and stores the outputs in the
 * content-addressed artifact store. Idempotent and resumable:
 * - finished candidates and the remote handle of the one in progress (e.g. a Replicate prediction id)
 *   are heartbeated, so a retry after a worker crash skips finished work and resumes the prediction
 *   instead of paying for a second one;
 * - artifacts are content-addressed, so storing the same output twice writes it once;
 * - cancellation (lifecycle cancelled) reaches the backend through the activity's AbortSignal.
 */
import { Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { createSafeDownloader, type SafeDownloader } from '../connectors/http/safe-download';
import type { InferenceRegistry } from '../connectors/inference/registry';
import type { ArtifactStore } from '../store/ArtifactStore';
import type { Candidate } from '../workflows/types';
import { MAX_CANDIDATE_TEXT, candidateLabel } from './candidate-text';
import { toActivityFailure } from './failures';
import { createIngestActivities } from './ingest';
import { countPrediction } from './metrics';
import type { GenerateCandidatesRequest, InferenceActivities } from './types';

export { MAX_CANDIDATE_TEXT } from './candidate-text';
/** Well under the workflow's inference heartbeat timeout (30 s). */
export const HEARTBEAT_EVERY_MS = 5000;
/** Cancellation reasons that mean "this attempt stops", not "the lifecycle no longer wants it". */
const DETACHING_REASONS = new Set(['WORKER_SHUTDOWN', 'TIMED_OUT', 'PAUSED', 'RESET', 'NOT_FOUND', 'HEARTBEAT_DETAILS_CONVERSION_FAILED']);

interface GenerationProgress {
  done: Candidate[];
  inFlight?: { slot: number; handle: string };
}

export interface CandidateSlot {
  slot: number;
  id: string;
  label: string;
  modelRef: string;
  seed: number;
}

/** Candidate ids, labels and seeds, fixed up front so every attempt derives the same ones. */
export function planSlots(request: GenerateCandidatesRequest): CandidateSlot[] {
  const explicit = request.params['seed'];
  const base = typeof explicit === 'number' ? explicit : seedFromId(request.lifecycleId);
  const slots: CandidateSlot[] = [];
  request.models.forEach((modelRef, m) => {
    for (let k = 0; k < request.candidatesPerModel; k++) {
      const slot = m * request.candidatesPerModel + k;
      // The k-th candidate of every model shares a seed, so A/B comparisons are like for like.
      slots.push({ slot, id: `c${slot + 1}`, label: candidateLabel(slot), modelRef, seed: base + k });
    }
  });
  return slots;
}

function seedFromId(lifecycleId: string): number {
  return createHash('sha256').update(lifecycleId).digest().readUInt32BE(0);
}

export interface InferenceDeps {
  registry: InferenceRegistry;
  artifacts: ArtifactStore;
  /** Downloads of brought `https:` candidates; default: the strict download rules. */
  downloader?: SafeDownloader;
  /** PREFLINE_IMPORT_ROOT, for brought `file:` candidates. */
  importRoot?: string;
}

/** The inference queue's activities: generating candidates, and bringing in candidates that need no inference. */
export function createInferenceActivities(deps: InferenceDeps): InferenceActivities {
  const downloader = deps.downloader ?? createSafeDownloader();
  return {
    ...createGenerateActivities(deps),
    ...createIngestActivities({
      artifacts: deps.artifacts,
      downloader,
      ...(deps.importRoot !== undefined ? { importRoot: deps.importRoot } : {}),
      maxBytes: downloader.maxBytes,
    }),
  };
}

function createGenerateActivities(deps: Pick<InferenceDeps, 'registry' | 'artifacts'>): Pick<InferenceActivities, 'generateCandidates'> {
  return {
    async generateCandidates(request: GenerateCandidatesRequest): Promise<Candidate[]> {
      const ctx = Context.current();
      const previous = ctx.info.heartbeatDetails as GenerationProgress | undefined;
      const progress: GenerationProgress = { done: previous?.done ?? [] };
      const finished = new Set(progress.done.map((c) => c.id));
      const params = { ...request.params };
      delete params['seed'];
      // Heartbeat on a clock too, not only on progress: a backend may sit in a long rate-limit wait,
      // and the workflow's short heartbeat timeout is what lets a crashed worker's attempt be retried fast.
      const ticker = setInterval(() => ctx.heartbeat(progress), HEARTBEAT_EVERY_MS);
      // Only a cancellation of the lifecycle should cancel paid remote work; a shutdown, pause or timed-out
      // attempt just stops waiting, and the next attempt resumes the heartbeated prediction.
      const detach = new AbortController();
      ctx.cancellationSignal.addEventListener('abort', () => {
        const details = ctx.cancellationDetails;
        const reason: unknown = ctx.cancellationSignal.reason;
        const why = reason instanceof Error ? reason.message : String(reason);
        const workerSide = details?.workerShutdown || details?.paused || details?.timedOut || details?.reset || details?.notFound;
        if (workerSide || DETACHING_REASONS.has(why)) detach.abort(reason);
      }, { once: true });
      try {
        for (const slot of planSlots(request)) {
          if (finished.has(slot.id)) continue;
          const resumeHandle = previous?.inFlight?.slot === slot.slot ? previous.inFlight.handle : undefined;
          const startedAt = Date.now();
          let backendName = 'unknown';
          try {
            // Inside the try: a model no backend on this worker serves is a coded, non-retryable failure.
            const { backend, model } = deps.registry.resolve(slot.modelRef);
            backendName = backend.name;
            const output = await backend.generate({
              prompt: request.prompt,
              model,
              params,
              seed: slot.seed,
              signal: ctx.cancellationSignal,
              detach: detach.signal,
              ...(resumeHandle !== undefined ? { resumeHandle } : {}),
              onRemoteHandle: (handle) => {
                progress.inFlight = { slot: slot.slot, handle };
                ctx.heartbeat(progress);
              },
            });
            const artifact = await deps.artifacts.put(output.bytes, output.mime);
            const { version, predictionId, predictTimeMs, ...extra } = output.provenance;
            progress.done.push({
              id: slot.id,
              label: slot.label,
              model: slot.modelRef,
              kind: output.kind,
              artifact,
              ...(output.text !== undefined ? { text: output.text.slice(0, MAX_CANDIDATE_TEXT) } : {}),
              placeholder: output.placeholder,
              provenance: {
                backend: backend.name,
                model,
                ...(version !== undefined ? { version } : {}),
                params,
                seed: slot.seed,
                ...(predictionId !== undefined ? { predictionId } : {}),
                ...(predictTimeMs !== undefined ? { predictTimeMs } : {}),
                wallTimeMs: Date.now() - startedAt,
                ...(Object.keys(extra).length > 0 ? { extra } : {}),
              },
            });
            delete progress.inFlight;
            ctx.heartbeat(progress);
            countPrediction(backend.name, 'ok', Date.now() - startedAt);
          } catch (err) {
            // Cancelled (lifecycle cancelled, worker shutdown, pause): rethrow the cancellation itself, not the
            // backend's (non-retryable) "canceled" error, so Temporal cancels or retries the activity as it should.
            const { aborted, reason } = ctx.cancellationSignal;
            countPrediction(backendName, aborted ? 'cancelled' : 'failed', Date.now() - startedAt);
            if (aborted && reason instanceof CancelledFailure) throw reason;
            throw toActivityFailure(err);
          }
        }
      } finally {
        clearInterval(ticker);
      }
      return [...progress.done].sort((a, b) => Number(a.id.slice(1)) - Number(b.id.slice(1)));
    },
  };
}
