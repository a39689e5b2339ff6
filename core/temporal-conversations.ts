/**
 * ConversationDirectory backed by Temporal: a conversation is a `chatConversation` workflow whose id
 * is the conversation id. Requests are updates to its latest run, with update ids derived from their
 * idempotency keys (the server collapses repeated deliveries); "busy" answers (the conversation is
 * moving to a fresh run) and RESOURCE_EXHAUSTED are retried with jittered backoff before the user is
 * told. Lists come from visibility (`PreflineChatOwner`), owners from the status query, cached: a
 * conversation's owner never changes.
 */
import { type Client, WorkflowUpdateFailedError, isGrpcServiceError } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type UpdateDefinition } from '@temporalio/common';
import { createHash } from 'node:crypto';
import {
  CHAT_WORKFLOW_TYPE, ChatRejection, compareUpdate, conversationStatusQuery, correctionUpdate, endUpdate, feedbackUpdate, rateReplyUpdate, regenerateUpdate,
  sendMessageUpdate, transcriptQuery, type ChatRejectionType,
} from '../workflows/messages';
import type { ChatCarry, ChatRequestBase, ChatStart, ConversationStatus, ConversationSummary, Transcript } from '../workflows/types';
import { ChatRejectedError, type ConversationDirectory, type ConversationListing } from './conversation-directory';
import { ErrorCode } from './errors';
import { exponentialBackoff, retrying, systemClock, type Clock } from './retry';
import { exists } from './temporal-directory';

const REJECTIONS: ReadonlySet<string> = new Set(Object.values(ChatRejection));
const OWNER = /^[a-z]+_[0-9a-f]{8,64}$/;
const MAX_CACHED_OWNERS = 50_000;
const GRPC_NOT_FOUND = 5;
const GRPC_RESOURCE_EXHAUSTED = 8;
const busyBackoff = exponentialBackoff({ baseMs: 50, capMs: 1000, jitter: 0.5 });

/** The update id of a request: stable per kind and idempotency key, short, and free of user-controlled characters. */
export function chatUpdateId(kind: string, idempotencyKey: string): string {
  return `chat-${kind}-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}`;
}

export interface TemporalConversationOptions {
  taskQueue: string;
  /** Total time spent retrying "busy" before answering it. */
  busyRetryBudgetMs?: number;
  clock?: Clock;
}

export class TemporalConversationDirectory implements ConversationDirectory {
  private readonly owners = new Map<string, string>();
  private readonly clock: Clock;

  constructor(private readonly client: Client, private readonly options: TemporalConversationOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async start(conversationId: string, start: ChatStart): Promise<void> {
    await this.client.workflow.start(CHAT_WORKFLOW_TYPE, {
      taskQueue: this.options.taskQueue,
      workflowId: conversationId,
      args: [start],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    this.remember(conversationId, start.owner);
  }

  async owner(conversationId: string): Promise<string | undefined> {
    const known = this.owners.get(conversationId);
    if (known !== undefined) return known;
    const status = await this.status(conversationId);
    if (status) this.remember(conversationId, status.owner);
    return status?.owner;
  }

  status(conversationId: string): Promise<ConversationStatus | undefined> {
    return this.query(conversationId, () => this.client.workflow.getHandle(conversationId).query(conversationStatusQuery));
  }

  transcript(conversationId: string): Promise<Transcript | undefined> {
    return this.query(conversationId, () => this.client.workflow.getHandle(conversationId).query(transcriptQuery));
  }

  async listOwned(owner: string, limit: number): Promise<ConversationListing[]> {
    // Only well-formed pseudonyms reach the query text: visibility queries cannot bind values.
    if (!OWNER.test(owner)) return [];
    const query = `WorkflowType = '${CHAT_WORKFLOW_TYPE}' AND PreflineChatOwner = '${owner}'`;
    const byId = new Map<string, ConversationListing>();
    // Every run is listed (continue-as-new, reopening): the newest run says the status, the oldest when it started.
    for await (const run of this.client.workflow.list({ query, pageSize: 100 })) {
      const started = run.startTime.toISOString();
      const seen = byId.get(run.workflowId);
      const title = typeof run.memo?.title === 'string' ? run.memo.title : undefined;
      const model = (run.searchAttributes?.PreflineModel as string[] | undefined)?.[0] ?? '';
      if (!seen) {
        if (byId.size >= limit) break;
        byId.set(run.workflowId, { conversationId: run.workflowId, model, status: run.status.name === 'RUNNING' ? 'chatting' : 'ended', startedAt: started, ...(title !== undefined ? { title } : {}) });
      } else {
        if (started < seen.startedAt) seen.startedAt = started;
        if (seen.title === undefined && title !== undefined) seen.title = title;
        if (run.status.name === 'RUNNING') seen.status = 'chatting';
      }
    }
    return [...byId.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  send: ConversationDirectory['send'] = (id, request) => this.update(id, 'send', sendMessageUpdate, request);
  regenerate: ConversationDirectory['regenerate'] = (id, request) => this.update(id, 'regenerate', regenerateUpdate, request);
  rate: ConversationDirectory['rate'] = (id, request) => this.update(id, 'rate', rateReplyUpdate, request);
  feedback: ConversationDirectory['feedback'] = (id, request) => this.update(id, 'feedback', feedbackUpdate, request);
  correct: ConversationDirectory['correct'] = (id, request) => this.update(id, 'correction', correctionUpdate, request);
  compare: ConversationDirectory['compare'] = (id, request) => this.update(id, 'compare', compareUpdate, request);
  end: ConversationDirectory['end'] = (id, request) => this.update(id, 'end', endUpdate, request);

  async reopen(conversationId: string): Promise<void> {
    const status = await this.status(conversationId);
    if (!status) throw new ChatRejectedError(ErrorCode.UnknownConversation, `no conversation "${conversationId}"`);
    if (status.phase !== 'ended') return; // open already (another tab reopened it)
    // An ended run finishes by committing its last events: its result (the carry) follows at once.
    const summary = (await this.client.workflow.getHandle(conversationId).result()) as ConversationSummary;
    if (summary.endReason !== 'idle') throw new ChatRejectedError(ErrorCode.ConversationNotReopenable, 'a cleared conversation stays closed; start a new one');
    const { plan } = summary.carry;
    const carry: ChatCarry = { ...summary.carry, reopened: true };
    try {
      await this.client.workflow.start(CHAT_WORKFLOW_TYPE, {
        taskQueue: this.options.taskQueue,
        workflowId: conversationId,
        args: [{ owner: plan.owner, ownerAuth: plan.ownerAuth, model: plan.model }, carry],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return; // reopened by a concurrent request
      throw err;
    }
  }

  private remember(conversationId: string, owner: string): void {
    this.owners.set(conversationId, owner);
    if (this.owners.size > MAX_CACHED_OWNERS) this.owners.delete(this.owners.keys().next().value as string);
  }

  private async query<T>(conversationId: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND)) return undefined;
      throw err;
    }
  }

  private update<R, T extends ChatRequestBase>(conversationId: string, kind: string, update: UpdateDefinition<R, [T]>, request: T): Promise<R> {
    const handle = this.client.workflow.getHandle(conversationId);
    return retrying(
      async () => {
        try {
          return await handle.executeUpdate(update, { args: [request], updateId: chatUpdateId(kind, request.idempotencyKey) });
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError) {
            const cause = err.cause;
            const type = cause instanceof ApplicationFailure && typeof cause.type === 'string' && REJECTIONS.has(cause.type) ? (cause.type as ChatRejectionType) : undefined;
            if (type) throw new ChatRejectedError(type, cause?.message ?? 'refused');
            throw err;
          }
          if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND)) {
            // An ended conversation's workflow has completed: updates answer NOT_FOUND (describe tells, without a replay).
            throw (await exists(handle))
              ? new ChatRejectedError(ErrorCode.ConversationEnded, 'this conversation has ended')
              : new ChatRejectedError(ErrorCode.UnknownConversation, `no conversation "${conversationId}"`);
          }
          throw err;
        }
      },
      {
        delayMs: busyBackoff,
        budgetMs: this.options.busyRetryBudgetMs ?? 10_000,
        retryable: (err) => (err instanceof ChatRejectedError && err.code === ErrorCode.ChatBusy) || isResourceExhausted(err),
        giveUp: (err) => (err instanceof ChatRejectedError ? err : new ChatRejectedError(ErrorCode.ChatBusy, 'the conversation is busy, try again')),
      },
      this.clock,
    );
  }
}

function isResourceExhausted(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (isGrpcServiceError(e) && e.code === GRPC_RESOURCE_EXHAUSTED) return true;
    if (e instanceof Error && /RESOURCE_EXHAUSTED|too many outstanding|in-flight updates/i.test(e.message)) return true;
  }
  return false;
}
