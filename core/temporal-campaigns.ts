/**
 * CampaignDirectory backed by Temporal: `next` is the campaign's update. While a run hands over to the
 * next (run_continuing from the validator, an update aborted by the closing run or lost with a failed
 * workflow task, or the server busy),
 * the request is sent again with jittered backoff, so a rater never sees the hand-over; a campaign that
 * has completed answers `finished`. Every rater asks the one campaign workflow, and the server refuses
 * updates beyond a few in flight per workflow (RESOURCE_EXHAUSTED): so at most `maxInFlightPerCampaign`
 * go out at once and the rest wait here in arrival order, instead of all retrying on jittered backoff.
 */
import { type Client, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { CAMPAIGN_WORKFLOW_TYPE, VoteRejection, campaignStatusQuery, nextItemUpdate } from '../workflows/messages';
import type { CampaignStatus, NextItemAnswer, NextItemRequest } from '../workflows/types';
import { CampaignRefusedError, type CampaignDirectory } from './campaign-directory';
import { ErrorCode } from './errors';
import { VoteRejectedError } from './lifecycle-directory';
import { KeyedLimiter } from './limiter';
import { exponentialBackoff, retrying, systemClock, type Clock } from './retry';
import { LIST_STATUS_DEADLINE_MS, isRunUpdateLimit, isUpdateLostWithTask } from './temporal-directory';

const backoff = exponentialBackoff({ baseMs: 25, capMs: 1000, jitter: 0.5 });
const RESOURCE_EXHAUSTED = 8;

/** The hand-over of a continue-as-new, or a server too busy: worth another attempt, and `busy` once the attempts end. */
const handOver = () => new VoteRejectedError(ErrorCode.Busy, 'the campaign is busy, try again');

export interface TemporalCampaignDirectoryOptions {
  retryBudgetMs?: number;
  clock?: Clock;
  /** `next` updates one gateway sends one campaign at once (the server allows 10 in flight per workflow). Default 8. */
  maxInFlightPerCampaign?: number;
}

export class TemporalCampaignDirectory implements CampaignDirectory {
  private readonly limiter: KeyedLimiter;

  constructor(private readonly client: Client, private readonly options: TemporalCampaignDirectoryOptions = {}) {
    this.limiter = new KeyedLimiter(options.maxInFlightPerCampaign ?? 8);
  }

  async next(campaignId: string, request: NextItemRequest): Promise<NextItemAnswer> {
    const handle = this.client.workflow.getHandle(campaignId);
    return retrying(
      async () => {
        try {
          return await this.limiter.run(campaignId, () => handle.executeUpdate(nextItemUpdate, { args: [request] }));
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError) {
            const type = err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
            if (type === VoteRejection.RunContinuing) throw handOver();
            if (type === VoteRejection.MalformedVote) throw new VoteRejectedError(ErrorCode.MalformedVote, err.cause?.message ?? 'malformed request');
            if (type === VoteRejection.WrongChannel) throw new VoteRejectedError(ErrorCode.WrongChannel, err.cause?.message ?? 'wrong channel');
            if (type === ErrorCode.UnknownCampaign) throw new CampaignRefusedError(ErrorCode.UnknownCampaign, `no campaign "${campaignId}"`);
            throw err;
          }
          if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === 5)) {
            // Completed runs answer NOT_FOUND to updates: the current run may be a new one (continue-as-new), or none.
            const description = await handle.describe().catch(() => undefined);
            if (!description || description.type !== CAMPAIGN_WORKFLOW_TYPE) throw new CampaignRefusedError(ErrorCode.UnknownCampaign, `no campaign "${campaignId}"`);
            if (description.status.name === 'RUNNING') throw handOver();
            return { assigned: false, reason: 'finished' } as const;
          }
          if (isBusy(err)) throw handOver();
          throw err;
        }
      },
      {
        delayMs: backoff,
        budgetMs: this.options.retryBudgetMs ?? 5000,
        retryable: (err) => err instanceof VoteRejectedError && err.code === ErrorCode.Busy,
      },
      this.options.clock ?? systemClock,
    );
  }

  /** Running campaigns from the visibility store, each read by its status query (one that does not answer is left out). */
  async listActive(limit: number): Promise<CampaignStatus[]> {
    const ids: string[] = [];
    for await (const execution of this.client.workflow.list({ query: `WorkflowType = '${CAMPAIGN_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'` })) {
      ids.push(execution.workflowId);
      if (ids.length >= limit) break;
    }
    // A campaign whose workers are gone answers no query until the gRPC deadline: bounded, it is left out.
    const statuses = await Promise.all(ids.map((id) => this.client.withDeadline(Date.now() + LIST_STATUS_DEADLINE_MS, () => this.client.workflow.getHandle(id).query(campaignStatusQuery))
      .catch(() => undefined)));
    return statuses.filter((s): s is CampaignStatus => s !== undefined);
  }
}

function isBusy(err: unknown): boolean {
  // A run that took its 2,000 updates continues as new once its loop turns: the retry reaches the next run.
  if (isUpdateLostWithTask(err) || isRunUpdateLimit(err)) return true;
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && e.code === RESOURCE_EXHAUSTED) return true;
    if (e instanceof Error && /RESOURCE_EXHAUSTED|aborted by closing workflow|workflow is closing/i.test(e.message)) return true;
  }
  return false;
}
