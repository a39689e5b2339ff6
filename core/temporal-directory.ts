/**
 * LifecycleDirectory backed by Temporal: visibility lists open web lifecycles, `statusQuery` reads
 * one, `voteUpdate` forwards a vote and `judgeUpdate` a judgement, each returning the workflow's answer.
 * Judgements go exactly the way votes go: the same limiter, retries and answers.
 *
 * Votes use an Update (the rater needs "recorded"/"voting closed"). The update id is derived from the
 * vote's idempotency key, so the server also collapses duplicate deliveries. The server allows at most
 * 10 in-flight updates per workflow; this process keeps at most `maxInFlightPerLifecycle` in flight per
 * lifecycle and queues the rest, and any RESOURCE_EXHAUSTED (e.g. from other gateway processes, or "workflow
 * is closing" while the run continues as new) is retried with jittered backoff before answering "busy",
 * as is the server's refusal of updates beyond the 2,000 a run may take and the workflow's own run_continuing
 * (the run continues as new, and the retry lands on the next one).
 */
import { type Client, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { WORKFLOW_TYPE, VoteRejection, judgeUpdate, statusQuery, voteUpdate, type VoteRejectionType } from '../workflows/messages';
import type { JudgementReceipt, JudgementRequest, LifecycleStatus, VoteReceipt, VoteRequest } from '../workflows/types';
import { ErrorCode } from './errors';
import { KeyedLimiter } from './limiter';
import { VoteRejectedError, type LifecycleDirectory } from './lifecycle-directory';
import { exponentialBackoff, retrying, systemClock, type Clock } from './retry';

/** The failure types the workflow's vote validator throws: catalogue codes, passed on unchanged. */
const VALIDATOR_REJECTIONS: ReadonlySet<string> = new Set(Object.values(VoteRejection));

function validatorRejection(type: string | undefined | null): VoteRejectionType | undefined {
  return typeof type === 'string' && VALIDATOR_REJECTIONS.has(type) ? (type as VoteRejectionType) : undefined;
}

export interface TemporalDirectoryOptions {
  maxInFlightPerLifecycle?: number;
  /** Total time spent retrying RESOURCE_EXHAUSTED before answering "busy". */
  busyRetryBudgetMs?: number;
  clock?: Clock;
}

/** Waits between busy retries: 25 ms doubling up to 1 s, ±50 % jitter. */
const busyBackoff = exponentialBackoff({ baseMs: 25, capMs: 1000, jitter: 0.5 });

/** The update id for a vote: stable per idempotency key, short, and free of user-controlled characters. */
export function voteUpdateId(idempotencyKey: string): string {
  return `vote-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}

/** The update id for a judgement: like voteUpdateId, in a namespace of its own. */
export function judgeUpdateId(idempotencyKey: string): string {
  return `judge-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}

/** gRPC status codes (stable across gRPC implementations). */
const GrpcStatus = { NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9 } as const;

export class TemporalLifecycleDirectory implements LifecycleDirectory {
  private readonly limiter: KeyedLimiter;
  private readonly busyRetryBudgetMs: number;
  private readonly clock: Clock;

  constructor(private readonly client: Client, options: TemporalDirectoryOptions = {}) {
    this.limiter = new KeyedLimiter(options.maxInFlightPerLifecycle ?? 8);
    this.busyRetryBudgetMs = options.busyRetryBudgetMs ?? 5000;
    this.clock = options.clock ?? systemClock;
  }

  async listOpen(limit: number): Promise<LifecycleStatus[]> {
    const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND PreflineChannel = 'web' AND PreflineStatus = 'voting'`;
    const ids: string[] = [];
    for await (const execution of this.client.workflow.list({ query, pageSize: limit })) {
      ids.push(execution.workflowId);
      if (ids.length >= limit) break;
    }
    const statuses = await Promise.allSettled(ids.map((id) => this.status(id)));
    return statuses
      .map((s) => (s.status === 'fulfilled' ? s.value : undefined))
      .filter((s): s is LifecycleStatus => s !== undefined && s.phase === 'voting' && s.closeReason === undefined);
  }

  async status(lifecycleId: string): Promise<LifecycleStatus | undefined> {
    try {
      return await this.client.workflow.getHandle(lifecycleId).query(statusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  async vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt> {
    return this.limiter.run(lifecycleId, () => this.updateWithRetry(lifecycleId, voteUpdate, vote, voteUpdateId(vote.idempotencyKey)));
  }

  async judge(lifecycleId: string, judgement: JudgementRequest): Promise<JudgementReceipt> {
    return this.limiter.run(lifecycleId, () => this.updateWithRetry(lifecycleId, judgeUpdate, judgement, judgeUpdateId(judgement.idempotencyKey)));
  }

  private async updateWithRetry<R, A>(lifecycleId: string, update: UpdateDefinition<R, [A]>, request: A, updateId: string): Promise<R> {
    const handle = this.client.workflow.getHandle(lifecycleId);
    return retrying(
      async () => {
        try {
          return await handle.executeUpdate(update, { args: [request], updateId });
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError) {
            const cause = err.cause;
            const code = cause instanceof ApplicationFailure ? validatorRejection(cause.type) : undefined;
            if (code) throw new VoteRejectedError(code, cause?.message ?? 'vote rejected');
            throw err;
          }
          if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === GrpcStatus.NOT_FOUND)) {
            // Completed lifecycles answer NOT_FOUND ("workflow execution already completed") to updates.
            const known = await this.status(lifecycleId).catch(() => undefined);
            if (known) throw new VoteRejectedError(ErrorCode.VotingClosed, 'voting closed');
            throw new VoteRejectedError(ErrorCode.UnknownLifecycle, `no lifecycle "${lifecycleId}"`);
          }
          throw err;
        }
      },
      {
        delayMs: busyBackoff,
        budgetMs: this.busyRetryBudgetMs,
        // Refusals are answers, not failures: only the server being busy is worth another attempt.
        // So is the run's run_continuing: the retry lands on the next run.
        retryable: (err) => (err instanceof VoteRejectedError
          ? err.code === ErrorCode.RunContinuing
          : !(err instanceof WorkflowUpdateFailedError) && (isResourceExhausted(err) || isRunUpdateLimit(err))),
        giveUp: () => new VoteRejectedError(ErrorCode.Busy, 'the lifecycle is busy, try again'),
      },
      this.clock,
    );
  }
}

/**
 * The run took the 2,000 updates a run may take: it continues as new once it sees the server's
 * suggestion (at 90 %), and a retry lands on the new run. Not a refusal of the vote.
 */
function isRunUpdateLimit(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && e.code === GrpcStatus.FAILED_PRECONDITION && /limit on the total number of distinct updates/i.test(e.details ?? e.message)) return true;
  }
  return false;
}

function isResourceExhausted(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && e.code === GrpcStatus.RESOURCE_EXHAUSTED) return true;
    if (e instanceof Error && /RESOURCE_EXHAUSTED|too many outstanding|in-flight updates/i.test(e.message)) return true;
  }
  return false;
}
