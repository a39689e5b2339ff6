/**
 * When a chat conversation's accepted events go to the ledger: a pure rule over the outbox's times, so it
 * is tested with a fixed clock (test/workflows/conversation-state.test.ts) and the workflow loop only arms
 * the timer it names.
 *
 * The rule (`cadence`): an event waits at most `commitAfterMs` (default 30 s), and every event accepted
 * within that window of the last commit shares the next one. Commits follow the conversation's own
 * cadence, one per window while it is active, instead of one per turn: a user who reads and types between
 * turns would otherwise cost a ledger call, its workflow task and its timers on every turn. The timer set
 * after a commit for the next cadence point is also the deadline of whatever arrives before it, so a
 * conversation whose user answers within the window arms one timer per window (a longer pause costs the
 * cadence timer firing on nothing and the idle timer set again). A full outbox and the end commit at once,
 * continue-as-new before it hands over. The bound is from each event's own acceptance time, plus the time
 * a commit takes.
 *
 * The rule before it (`quiet`, kept for histories recorded under it: `patched(CHAT_COMMIT_CADENCE_PATCH)`
 * in chatConversation): a finished reply's turn at once unless the last commit was under commitAfterMs
 * (default 2 s) ago, else after a quiet spell of commitAfterMs, at the latest MAX_UNCOMMITTED_MS after
 * the oldest event.
 */

/** Events per ledger call, and the outbox size that commits at once. */
export const CHAT_COMMIT_BATCH = 200;
/** The most an accepted event waits for the ledger, and the cadence of an active conversation's commits (default). */
export const DEFAULT_COMMIT_AFTER_MS = 30_000;
/** The `quiet` rule's default quiet spell. */
export const QUIET_COMMIT_AFTER_MS = 2000;
/** The `quiet` rule's cap after the oldest event, however busy the conversation. */
export const MAX_UNCOMMITTED_MS = 30_000;
/** patched() id of the cadence rule. */
export const CHAT_COMMIT_CADENCE_PATCH = 'chat-commit-cadence';

export type CommitRule = 'cadence' | 'quiet';

/** What the rule reads: workflow times in ms. */
export interface OutboxTimes {
  rule: CommitRule;
  /** The conversation's threshold, if its starter set one. */
  commitAfterMs?: number;
  outboxLength: number;
  /** When the oldest uncommitted event was accepted (cadence: that event's own time). */
  outboxSinceMs?: number;
  /** When this run last committed. */
  lastCommitMs?: number;
  /** `quiet` only: when the last reply finished, while its turn is uncommitted. */
  replyEndedMs?: number;
  /** `quiet` only. */
  lastActivityMs: number;
  /** `quiet` only: a reply is being written. */
  generating: boolean;
}

export function commitAfterMsOf(times: Pick<OutboxTimes, 'rule' | 'commitAfterMs'>): number {
  return times.commitAfterMs ?? (times.rule === 'cadence' ? DEFAULT_COMMIT_AFTER_MS : QUIET_COMMIT_AFTER_MS);
}

/** When the outbox must go to the ledger (undefined: it is empty). */
export function commitAtMs(times: OutboxTimes): number | undefined {
  const since = times.outboxSinceMs;
  if (times.outboxLength === 0 || since === undefined) return undefined;
  if (times.outboxLength >= CHAT_COMMIT_BATCH) return since;
  const window = commitAfterMsOf(times);
  if (times.rule === 'cadence') {
    // Within a window of the last commit: the next cadence point, already armed (or sooner, for an event
    // accepted while that commit was in flight). After a longer pause: a window from the event.
    const cadence = times.lastCommitMs !== undefined ? times.lastCommitMs + window : undefined;
    return cadence !== undefined && since <= cadence ? Math.min(cadence, since + window) : since + window;
  }
  const capAt = since + Math.max(MAX_UNCOMMITTED_MS, window);
  if (times.generating) return capAt;
  const replyEnded = times.replyEndedMs;
  const withReply = replyEnded !== undefined && (times.lastCommitMs === undefined || replyEnded >= times.lastCommitMs + window) ? replyEnded : Infinity;
  return Math.min(withReply, times.lastActivityMs + window, capAt);
}

/**
 * With nothing waiting, the next cadence point after `now`, if the conversation committed within a window:
 * the timer armed for it is the deadline of the next event too, so an active conversation's next turn
 * arms no timer of its own (`cadence` only).
 */
export function cadenceWakeMs(times: OutboxTimes, now: number): number | undefined {
  if (times.rule !== 'cadence' || times.lastCommitMs === undefined) return undefined;
  const at = times.lastCommitMs + commitAfterMsOf(times);
  return at > now ? at : undefined;
}
