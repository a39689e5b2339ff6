/**
 * @module chatConversation: one user's conversation with a model, durable end to end. Its steps:
 *
 *   1. start: validate the start argument (or resume what a previous run carried over, or reopen an
 *      idle conversation from its final carry) and record the start in the outbox;
 *   2. take the owner's requests (chat-messages.ts): a message or a regeneration runs the inference
 *      activity inside its update and answers with the reply; ratings, feedback, corrections and A/B
 *      judgements answer at once;
 *   3. commit accepted events to the ledger (ledger queue), batched, exactly once per event;
 *   4. continue-as-new when history grows long, carrying the transcript by reference;
 *   5. end on Clear or after the idle timeout, commit what is left and return the summary.
 *
 * The state and the handlers live in `ChatConversation` (conversation-state.ts); this file issues the
 * commands.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  sleep,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChatInferenceActivities, ChatLedgerActivities } from '../activities/types';
import type { ChatCarry, ConversationSummary } from './chat-types';
import { INVALID_CHAT_INPUT_ERROR } from './chat-messages';
import { CHAT_COMMIT_CADENCE_PATCH } from './chat-commit-timing';
import { validateChatStart } from './chat-validation';
import { ChatConversation, type ReplyGenerator } from './conversation-state';
import { inferenceQueue, ledgerQueue } from './queues';
import { chatOwnerKey, modelKey, statusKey } from './search-attributes';

export { CHAT_COMMIT_BATCH, DEFAULT_COMMIT_AFTER_MS, MAX_UNCOMMITTED_MS } from './chat-commit-timing';

/** One proxy group per timeout/retry profile, bound to queues derived from the conversation's own queue. */
function activitiesFor(baseQueue: string) {
  // A reply: heartbeats every second while it streams, so a crashed worker's attempt is retried within
  // seconds; a retry finds a finished reply in the artifact store instead of asking the model again.
  const inference = proxyActivities<ChatInferenceActivities>({
    taskQueue: inferenceQueue(baseQueue),
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '10 seconds',
    // Clear stops waiting at once; the activity sees the cancellation at its next heartbeat.
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
  });
  // The ledger: the single DuckDB writer. Retries without limit: accepted events must reach it.
  const ledger = proxyActivities<ChatLedgerActivities>({
    taskQueue: ledgerQueue(baseQueue),
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  return { inference, ledger };
}

function isCarry(arg: unknown): arg is ChatCarry {
  const c = arg as Partial<ChatCarry> | null;
  return typeof c === 'object' && c !== null && typeof c.conversationId === 'string' && typeof c.plan === 'object' && Array.isArray(c.messages) && Array.isArray(c.turns);
}

function invalidStart(errors: string[]): ApplicationFailure {
  return ApplicationFailure.create({ type: INVALID_CHAT_INPUT_ERROR, nonRetryable: true, message: `invalid chat start: ${errors.join('; ')}`, details: [errors] });
}

/** The conversation this run continues, or a new one; a bad argument fails the run at once, naming every problem. */
function openConversation(start: unknown, carry: unknown): ChatConversation {
  const info = workflowInfo();
  if (carry !== undefined && carry !== null) {
    if (!isCarry(carry)) throw invalidStart(['second argument: must be the carry of an earlier run of this conversation']);
    if (carry.conversationId !== info.workflowId) throw invalidStart([`carry: belongs to conversation "${carry.conversationId}", not "${info.workflowId}"`]);
    const reopened = carry.reopened === true;
    if (reopened && carry.endReason !== 'idle') throw invalidStart(['carry: only a conversation that ended for inactivity can be reopened']);
    return ChatConversation.resume(carry, Date.now(), reopened);
  }
  const result = validateChatStart(start, info.workflowId);
  if (!result.ok) throw invalidStart(result.errors);
  return ChatConversation.start(info.workflowId, info.firstExecutionRunId, result.plan, Date.now());
}

export async function chatConversation(start: unknown, carry?: ChatCarry | null): Promise<ConversationSummary> {
  const info = workflowInfo();
  const { inference, ledger } = activitiesFor(info.taskQueue);
  const conversation = openConversation(start, carry);
  // Runs recorded before the cadence rule replay with the rule they were written under.
  if (!patched(CHAT_COMMIT_CADENCE_PATCH)) conversation.commitRule = 'quiet';

  // The reply in progress runs in its own scope, so Clear can stop it without touching anything else.
  let replyScope: CancellationScope | undefined;
  const generator: ReplyGenerator = {
    async generate(request) {
      const scope = new CancellationScope();
      replyScope = scope;
      try {
        return await scope.run(() => inference.generateReply(request));
      } finally {
        replyScope = undefined;
      }
    },
    cancel: () => replyScope?.cancel(),
  };
  conversation.register(generator);
  upsertSearchAttributes([
    { key: chatOwnerKey, value: conversation.plan.owner },
    { key: modelKey, value: [conversation.plan.model] },
    { key: statusKey, value: conversation.ended !== undefined ? 'ended' : 'chatting' },
  ]);

  const record = {
    conversationId: conversation.conversationId,
    conversationRunId: conversation.conversationRunId,
    owner: conversation.plan.owner,
    ownerAuth: conversation.plan.ownerAuth,
    model: conversation.plan.model,
  };
  const commitNext = async (): Promise<void> => {
    const batch = conversation.nextBatch();
    await ledger.commitChatEvents({ conversation: record, events: batch });
    conversation.committed(batch);
  };
  const historyIsLong = (): boolean => {
    const limit = conversation.plan.thresholds.continueAsNewAfterEvents;
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    return continueAsNewSuggested || (limit !== undefined && historyLength >= limit);
  };

  const handOverToNewRun = async (): Promise<never> => {
    // Requests are refused as busy (the gateway retries them on the next run) until handlers finish.
    conversation.draining = true;
    // Cadence: what waits goes now, not after a reply still being written (up to its timeouts).
    if (conversation.commitRule === 'cadence') while (conversation.commitAtMs() !== undefined) await commitNext();
    await condition(allHandlersFinished);
    while (conversation.commitAtMs() !== undefined) await commitNext();
    return continueAsNew<typeof chatConversation>(start, conversation.toCarry());
  };

  // One timer per deadline; the cadence point armed after a commit is the next events' deadline too. A
  // deadline that moves later (every turn moves the idle one) keeps the pending timer, which then fires
  // early and the loop sets the next; only an earlier deadline replaces it. Restarting the timer at each wake cost two history events per wake, four per turn.
  let timer: { atMs: number; scope: CancellationScope } | undefined;
  let timerFirings = 0;
  const wakeBy = (atMs: number): void => {
    if (timer !== undefined && timer.atMs <= atMs) return;
    timer?.scope.cancel();
    const armed = { atMs, scope: new CancellationScope() };
    timer = armed;
    armed.scope.run(() => sleep(Math.max(1, atMs - Date.now()))).then(
      () => {
        if (timer === armed) timer = undefined;
        timerFirings += 1;
      },
      () => undefined, // cancelled: an earlier deadline replaced it
    );
  };

  // Steps 2–4: wait for whatever is due next — a commit, the idle timeout, a long history, the end.
  for (;;) {
    if (conversation.titleChanged) {
      conversation.titleChanged = false;
      upsertMemo({ title: conversation.title });
    }
    const now = Date.now();
    const commitAt = conversation.commitAtMs();
    // A long history goes first (the hand-over commits everything): commits due one after another, as a
    // busy conversation with no commit window has, must not hold it off. The quiet rule checked it after.
    const handOver = conversation.ended === undefined && historyIsLong();
    if (handOver && conversation.commitRule === 'cadence') return handOverToNewRun();
    if (commitAt !== undefined && (now >= commitAt || conversation.ended !== undefined)) {
      await commitNext();
      continue;
    }
    if (conversation.ended !== undefined) break;
    if (handOver) return handOverToNewRun();
    if (!conversation.generating && now >= conversation.idleAtMs) {
      conversation.endForIdle();
      continue;
    }
    // Woken only by what moves a deadline: a timer per accepted event would double the history.
    const seen = conversation.wakeKey();
    const firings = timerFirings;
    const wakeAt = Math.min(conversation.generating ? Infinity : conversation.idleAtMs, commitAt ?? conversation.cadenceWakeMs(now) ?? Infinity);
    if (wakeAt !== Infinity) wakeBy(wakeAt);
    await condition(() => conversation.wakeKey() !== seen || timerFirings !== firings || historyIsLong());
  }
  timer?.scope.cancel();

  // Step 5: the end. Handlers still running (a cancelled reply) finish first; nothing new is accepted.
  await condition(allHandlersFinished);
  while (conversation.commitAtMs() !== undefined) await commitNext();
  upsertSearchAttributes([{ key: statusKey, value: 'ended' }]);
  return {
    conversationId: conversation.conversationId,
    endReason: conversation.ended!,
    turns: conversation.turnCount,
    events: conversation.eventCount,
    carry: conversation.toCarry(),
  };
}
