/**
 * `publishReleaseFiles`: writes one dated parquet release from the ledger (releases/publisher.ts).
 * Registered on the ledger queue only: the ledger worker is the one process that may open the DuckDB
 * file. Arguments and result are ids, paths and counts — never rows.
 *
 * Idempotent: a retry after a crash removes the half-written temp folder, and a release of the same
 * cutoff that already exists whole is verified and reused, so retries and backfills never make two.
 */
import { Context, log } from '@temporalio/activity';
import type { ArtifactStore } from '../store/ArtifactStore';
import type { Ledger } from '../store/Ledger';
import type { CardDeclarations } from '../releases/dataset-card';
import { publishRelease, ReleaseError, type PublishStep } from '../releases/publisher';
import { toActivityFailure } from './failures';
import type { PublishReleaseRequest, ReleaseActivities, ReleaseSummary } from './types';

export interface ReleaseActivityDeps {
  ledger: Pick<Ledger, 'withConnection'>;
  releasesDir: string;
  artifacts?: Pick<ArtifactStore, 'rootDir'>;
  /** License and languages the dataset card declares (config: PREFLINE_RELEASE_LICENSE, PREFLINE_RELEASE_LANGUAGE). */
  card?: CardDeclarations;
  /** Test hook: runs after each publishing step (crash injection). */
  afterStep?: (step: PublishStep) => void | Promise<void>;
}

/** Liveness heartbeats while one long COPY runs (steps heartbeat too). */
const HEARTBEAT_EVERY_MS = 10_000;

export function createReleaseActivities(deps: ReleaseActivityDeps): ReleaseActivities {
  return {
    async publishReleaseFiles(request: PublishReleaseRequest): Promise<ReleaseSummary> {
      const ctx = Context.current();
      let current: PublishStep | 'start' = 'start';
      const timer = setInterval(() => ctx.heartbeat({ step: current }), HEARTBEAT_EVERY_MS);
      try {
        const result = await publishRelease({
          ledger: deps.ledger,
          releasesDir: deps.releasesDir,
          cutoff: request.cutoff,
          ...(request.releaseId !== undefined ? { releaseId: request.releaseId } : {}),
          ...(deps.artifacts ? { artifactDir: deps.artifacts.rootDir } : {}),
          ...(deps.card ? { card: deps.card } : {}),
          afterStep: async (step) => {
            current = step;
            ctx.heartbeat({ step });
            // Cancellation reaches a heartbeating activity: stop between steps (the temp folder is cleaned next time).
            if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
            await deps.afterStep?.(step);
          },
        });
        log.info('release published', { releaseId: result.releaseId, cutoff: result.cutoff, reused: result.reused, latest: result.latest });
        return result;
      } catch (err) {
        // Bad input, an id taken by another cutoff, or a corrupt existing release: retrying cannot help.
        if (err instanceof ReleaseError) throw toActivityFailure(err);
        throw err;
      } finally {
        clearInterval(timer);
      }
    },
  };
}
