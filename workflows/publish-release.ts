/**
 * @module publishRelease: one dated, immutable parquet release of the ledger, run daily by the
 * `prefline-daily-release` schedule and on demand (`prefline release`).
 *
 * The cutoff is fixed here, once, and the workflow id derives from it (`release-2026-11-22`), so a
 * retry or a second start for the same day finds the same workflow instead of a second release. The
 * heavy work is one activity on the ledger queue; it receives the cutoff and returns counts.
 */
import { ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ReleaseActivities, ReleaseSummary } from '../activities/types';
import { ErrorCode } from '../core/errors';
import { ledgerQueue } from './queues';

export const RELEASE_WORKFLOW_TYPE = 'publishRelease';
export const INVALID_RELEASE_INPUT_ERROR = ErrorCode.ReleaseInputInvalid;

export interface PublishReleaseInput {
  /** ISO-8601 watermark; default: the schedule's nominal time, else the workflow's start time. */
  cutoff?: string;
  /** Folder name; default the cutoff's UTC date (`-2`, `-3`… for further releases that day). */
  releaseId?: string;
}

/** `release-<UTC date>` for today's on-demand release, or `release-<instant>` for an explicit cutoff. */
export function releaseWorkflowId(cutoff?: string, now: Date = new Date()): string {
  return cutoff === undefined ? `release-${now.toISOString().slice(0, 10)}` : `release-${new Date(cutoff).toISOString().replace('.000Z', 'Z')}`;
}

/** A schedule starts `release-<RFC 3339 nominal time>`: the nominal time, not the (possibly late) start, is the cutoff. */
function scheduledCutoff(workflowId: string): string | undefined {
  const match = /-(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)$/.exec(workflowId);
  return match ? match[1] : undefined;
}

export async function publishRelease(input: PublishReleaseInput = {}): Promise<ReleaseSummary> {
  const info = workflowInfo();
  const cutoff = input.cutoff ?? scheduledCutoff(info.workflowId) ?? info.startTime.toISOString();
  const ms = Date.parse(cutoff);
  // Date.now() is workflow time here: deterministic on replay.
  if (Number.isNaN(ms) || ms > Date.now()) {
    throw ApplicationFailure.create({
      type: INVALID_RELEASE_INPUT_ERROR,
      nonRetryable: true,
      message: `cutoff "${cutoff}" must be an ISO-8601 time that is not in the future`,
    });
  }
  const { publishReleaseFiles } = proxyActivities<ReleaseActivities>({
    taskQueue: ledgerQueue(info.taskQueue),
    startToCloseTimeout: '2 hours',
    // The activity heartbeats every step and every 10 s during a long COPY.
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
  });
  return publishReleaseFiles({ cutoff: new Date(ms).toISOString(), ...(input.releaseId !== undefined ? { releaseId: input.releaseId } : {}) });
}
