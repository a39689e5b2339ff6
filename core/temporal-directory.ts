/**
 * LifecycleDirectory backed by Temporal: visibility lists open lifecycles, `statusQuery` reads one,
 * `voteUpdate` forwards a vote and `judgeUpdate` a judgement, each returning the workflow's answer,
 * `start` starts one under its business id (refused a second time: Temporal's id-reuse policy keeps one
 * lifecycle per id, closed or not), `closeSignal` closes one. Judgements go exactly the way votes go:
 * the same channel check, limiter, retries and answers.
 *
 * Votes use an Update (the rater needs "recorded"/"voting closed"). The update id is derived from the
 * vote's idempotency key, so the server also collapses duplicate deliveries. The server allows at most
 * 10 in-flight updates per workflow; this process keeps at most `maxInFlightPerLifecycle` in flight per
 * lifecycle and queues the rest, and any RESOURCE_EXHAUSTED (e.g. from other gateway processes, or "workflow
 * is closing" while the run continues as new) is retried with jittered backoff before answering "busy",
 * as is the server's refusal of updates beyond the 2,000 a run may take and the workflow's own run_continuing
 * (the run continues as new, and the retry lands on the next one).
 *
 * A vote (or judgement) through another channel than the lifecycle's is refused here, before it is sent
 * (lifecycle-channels.ts: the lifecycle's channel read once per process, or learnt from a status read).
 */
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { WORKFLOW_TYPE, VoteRejection, channelKey, closeSignal, judgeUpdate, statusQuery, voteUpdate, type VoteRejectionType } from '../workflows/messages';
import type { ChannelSpec, CloseRequest, JudgementReceipt, JudgementRequest, LifecycleStatus, VoteReceipt, VoteRequest } from '../workflows/types';
import { ErrorCode } from './errors';
import { LifecycleChannels, channelKindOf, type ChannelKind } from './lifecycle-channels';
import { KeyedLimiter } from './limiter';
import {
  VoteRejectedError, type CloseOutcome, type LifecycleDirectory, type LifecycleProgress, type LifecycleStartRequest, type StartOutcome,
} from './lifecycle-directory';
import { exponentialBackoff, retrying, systemClock, type Clock } from './retry';

/** The failure types the workflow's vote validator throws: catalogue codes, passed on unchanged. */
const VALIDATOR_REJECTIONS: ReadonlySet<string> = new Set(Object.values(VoteRejection));

function validatorRejection(type: string | undefined | null): VoteRejectionType | undefined {
  return typeof type === 'string' && VALIDATOR_REJECTIONS.has(type) ? (type as VoteRejectionType) : undefined;
}

export interface TemporalDirectoryOptions {
  /** The task queue lifecycles are started on (PREFLINE_TASK_QUEUE); without it `start` refuses. */
  taskQueue?: string;
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

/** How long a listing waits for one lifecycle's status before leaving it out. */
export const LIST_STATUS_DEADLINE_MS = 3000;

export class TemporalLifecycleDirectory implements LifecycleDirectory {
  private readonly limiter: KeyedLimiter;
  private readonly busyRetryBudgetMs: number;
  private readonly clock: Clock;
  /** Which channel each lifecycle takes votes through, as far as this process has read it. */
  readonly channels = new LifecycleChannels((id) => this.status(id), undefined, (id) => this.describedChannel(id));

  private readonly taskQueue?: string;

  constructor(private readonly client: Client, options: TemporalDirectoryOptions = {}) {
    if (options.taskQueue !== undefined) this.taskQueue = options.taskQueue;
    this.limiter = new KeyedLimiter(options.maxInFlightPerLifecycle ?? 8);
    this.busyRetryBudgetMs = options.busyRetryBudgetMs ?? 5000;
    this.clock = options.clock ?? systemClock;
  }

  async listOpen(limit: number): Promise<LifecycleStatus[]> {
    const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND PreflineChannel = 'web' AND PreflineStatus = 'voting'`;
    const statuses = await this.statusesOf(query, limit);
    // Assigned lifecycles (campaign items) are reached through their campaign only, never from the open list.
    return statuses.filter((s) => s.phase === 'voting' && s.closeReason === undefined && s.delivery !== 'assigned');
  }

  async listActive(channel: ChannelSpec['kind'], limit: number): Promise<LifecycleStatus[]> {
    if (!/^[a-z]+$/.test(channel)) throw new RangeError(`not a channel kind: ${channel}`); // spliced into the query below
    // A lifecycle sets PreflineChannel in its first workflow task; one that has not run it yet is not listed.
    const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND PreflineChannel = '${channel}'`;
    const statuses = await this.statusesOf(query, limit);
    return statuses.filter((s) => s.closeReason === undefined && s.phase !== 'committing' && s.phase !== 'completed');
  }

  /** The statuses of (at most `limit` of) the executions a visibility query finds, newest first; unreadable ones left out. */
  private async statusesOf(query: string, limit: number): Promise<LifecycleStatus[]> {
    const ids: string[] = [];
    for await (const execution of this.client.workflow.list({ query, pageSize: limit })) {
      ids.push(execution.workflowId);
      if (ids.length >= limit) break;
    }
    // A lifecycle whose workers are gone answers no query until the gRPC deadline: bounded here, it is left out
    // instead of holding up the whole list (Slack's /prefline status, the rating page's open items).
    const statuses = await Promise.allSettled(ids.map((id) => this.client.withDeadline(Date.now() + LIST_STATUS_DEADLINE_MS, () => this.status(id))));
    return statuses.map((s) => (s.status === 'fulfilled' ? s.value : undefined)).filter((s): s is LifecycleStatus => s !== undefined);
  }

  async start(request: LifecycleStartRequest): Promise<StartOutcome> {
    if (this.taskQueue === undefined) throw new Error('the lifecycle directory was made without a task queue: it cannot start lifecycles');
    try {
      // Exactly what the Temporal UI's "Start Workflow" form sends: type, task queue, one JSON argument.
      await this.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: this.taskQueue,
        workflowId: request.lifecycleId,
        args: [request.input],
        // One lifecycle per business id, ever: a retried request (a Slack retry, a page's retry) starts nothing.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        ...(request.staticSummary !== undefined ? { staticSummary: request.staticSummary } : {}),
        ...(request.staticDetails !== undefined ? { staticDetails: request.staticDetails } : {}),
      });
      return 'started';
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return 'exists';
      throw err;
    }
  }

  async progress(lifecycleId: string): Promise<LifecycleProgress | undefined> {
    const handle = this.client.workflow.getHandle(lifecycleId);
    let state: string;
    try {
      state = (await handle.describe()).status.name;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (state === 'RUNNING' || state === 'CONTINUED_AS_NEW' || state === 'COMPLETED') {
      // A lifecycle that has not run its first workflow task yet cannot answer: it is still starting.
      const status = await this.status(lifecycleId).catch(() => undefined);
      return { state: state === 'COMPLETED' ? 'completed' : 'running', ...(status ? { status } : {}) };
    }
    return { state: 'failed', failure: await failureOf(handle) };
  }

  async requestClose(lifecycleId: string, request: CloseRequest): Promise<CloseOutcome> {
    try {
      await this.client.workflow.getHandle(lifecycleId).signal(closeSignal, request);
      return 'requested';
    } catch (err) {
      if (!isNotFound(err)) throw err;
      // A completed workflow answers NOT_FOUND to signals too; describe tells the two apart.
      return (await this.progress(lifecycleId)) ? 'ended' : 'unknown';
    }
  }

  /** A lifecycle's channel from its search attribute (lifecycle-channels.ts DescribeKind): no worker needed. */
  private async describedChannel(lifecycleId: string): Promise<ChannelKind | null | undefined> {
    let description: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>>;
    try {
      description = await this.client.workflow.getHandle(lifecycleId).describe();
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    // Closed lifecycles keep the attribute: a vote through another channel is refused as such, not as closed.
    const label = description.typedSearchAttributes.get(channelKey);
    if (label !== undefined) return channelKindOf(label) ?? null;
    return description.status.name === 'RUNNING' ? undefined : null;
  }

  async status(lifecycleId: string): Promise<LifecycleStatus | undefined> {
    try {
      const status = await this.client.workflow.getHandle(lifecycleId).query(statusQuery);
      this.channels.learn(status);
      return status;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  async vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt> {
    await this.channels.check(lifecycleId, vote); // refused here, not forwarded: the workflow would refuse it too
    return this.limiter.run(lifecycleId, () => this.updateWithRetry(lifecycleId, voteUpdate, vote, voteUpdateId(vote.idempotencyKey)));
  }

  async judge(lifecycleId: string, judgement: JudgementRequest): Promise<JudgementReceipt> {
    await this.channels.check(lifecycleId, judgement); // like a vote: refused here, not forwarded
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
            // Completed lifecycles answer NOT_FOUND ("workflow execution already completed") to updates. Describe
            // tells the two apart without a query, which a closed workflow answers only by replaying its history.
            if (await exists(handle)) throw new VoteRejectedError(ErrorCode.VotingClosed, 'voting closed');
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
          : !(err instanceof WorkflowUpdateFailedError) && (isResourceExhausted(err) || isRunUpdateLimit(err) || isUpdateLostWithTask(err))),
        giveUp: () => new VoteRejectedError(ErrorCode.Busy, 'the lifecycle is busy, try again'),
      },
      this.clock,
    );
  }
}

/** Whether the workflow exists (running or closed): describe, which needs no worker. */
export async function exists(handle: { describe(): Promise<unknown> }): Promise<boolean> {
  try {
    await handle.describe();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === GrpcStatus.NOT_FOUND);
}

/** Why a closed workflow did not complete: its failure's message (the cause's, which names the reason). */
async function failureOf(handle: ReturnType<Client['workflow']['getHandle']>): Promise<string> {
  try {
    await handle.result();
    return 'the lifecycle ended without a result';
  } catch (err) {
    if (err instanceof WorkflowFailedError) return (err.cause?.message ?? err.message).slice(0, 1000);
    return err instanceof Error ? err.message.slice(0, 1000) : String(err);
  }
}

/**
 * The run took the 2,000 updates a run may take: it continues as new once it sees the server's
 * suggestion (at 90 %), and a retry lands on the new run. Not a refusal of the vote.
 */
export function isRunUpdateLimit(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && e.code === GrpcStatus.FAILED_PRECONDITION && /limit on the total number of distinct updates/i.test(e.details ?? e.message)) return true;
  }
  return false;
}

/**
 * The workflow task that was to take the update failed before accepting it (e.g. the server refused a
 * continue-as-new that a new signal overtook), so the update never ran: another attempt reaches the
 * next task or run. Matched by the server's words. (Votes and judgements keep their update id, so even a
 * retry of one that did land is not applied twice; `next` gets a new id, and a repeated `next` returns the
 * rater's live reservation.)
 */
export function isUpdateLostWithTask(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && e.code === GrpcStatus.FAILED_PRECONDITION && /unexpected workflow task failure/i.test(e.details ?? e.message)) return true;
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
