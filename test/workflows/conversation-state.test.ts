/**
 * ChatConversation's commit timing outside Temporal (workflows/chat-commit-timing.ts), with a fixed clock.
 * The cadence rule: an event waits at most commitAfterMs, and the events within a window of the last
 * commit share the next one, whose timer is armed right after that commit; a full outbox goes at once.
 * The quiet rule, kept for runs recorded before it: a finished reply's turn goes at once unless the last
 * commit was under commitAfterMs ago; other events wait for a quiet spell, but never longer than
 * MAX_UNCOMMITTED_MS. The workflow tests cover the same across real runs.
 */
import assert from 'node:assert/strict';
import { CHAT_COMMIT_BATCH, ChatConversation, DEFAULT_COMMIT_AFTER_MS, MAX_UNCOMMITTED_MS, QUIET_COMMIT_AFTER_MS } from '../../workflows/conversation-state';
import type { ChatPlan, ChatThresholds } from '../../workflows/chat-types';

function plan(thresholds: ChatThresholds = {}): ChatPlan {
  return {
    owner: 'r-alice', ownerAuth: 'invite', model: 'demo:text', params: {}, seed: 1, reasonTags: [],
    idleTimeoutMs: 600_000, maxTurns: 100, maxMessageChars: 4000, contextMessages: 40, thresholds,
  };
}

/** A conversation whose start event was accepted at workflow time 0 and last active at `lastActivityMs`. */
function conversation(lastActivityMs: number, thresholds: ChatThresholds = {}, rule: 'cadence' | 'quiet' = 'quiet'): ChatConversation {
  const c = ChatConversation.start('chat-1', 'run-1', plan(thresholds), 0);
  c.commitRule = rule;
  c.outboxSinceMs = 0;
  c.lastActivityMs = lastActivityMs;
  return c;
}

describe('ChatConversation: when events go to the ledger (cadence)', () => {
  /** Outside a workflow events take the real clock: the start event is set back to workflow time 0. */
  const cadence = (thresholds: ChatThresholds = {}) => {
    const c = conversation(0, thresholds, 'cadence');
    c.outbox[0] = { ...c.outbox[0]!, at: new Date(0).toISOString() };
    return c;
  };
  /** The outbox empty, as after a commit at `atMs`, then one event accepted at `sinceMs`. */
  const afterCommit = (c: ChatConversation, atMs: number, sinceMs?: number) => {
    c.committed(c.nextBatch());
    c.lastCommitMs = atMs;
    c.outboxSinceMs = undefined;
    if (sinceMs !== undefined) {
      c.outbox.push({ seq: 99, at: new Date(sinceMs).toISOString(), kind: 'rating', turn: 1, replyId: 'm2', value: 'up' } as never);
      c.outboxSinceMs = sinceMs;
    }
  };

  it('waits at most commitAfterMs for the first events of a run, whatever the conversation does meanwhile', () => {
    const c = cadence();
    assert.equal(c.commitAtMs(), DEFAULT_COMMIT_AFTER_MS);
    c.generating = { turn: 1, replyId: 'm2' };
    c.lastActivityMs = 25_000;
    c.replyEndedMs = 25_000;
    assert.equal(c.commitAtMs(), DEFAULT_COMMIT_AFTER_MS, 'neither a reply in progress nor a finished one moves it');
    assert.equal(cadence({ commitAfterMs: 0 }).commitAtMs(), 0, 'commitAfterMs 0: at once');
  });

  it('lets every event within a window of the last commit share the next one, at the cadence point armed after that commit', () => {
    const c = cadence();
    afterCommit(c, 40_000);
    assert.equal(c.commitAtMs(), undefined, 'nothing waits');
    assert.equal(c.cadenceWakeMs(40_000), 40_000 + DEFAULT_COMMIT_AFTER_MS, 'the next cadence point is armed with the outbox empty');
    afterCommit(c, 40_000, 45_000);
    assert.equal(c.commitAtMs(), 40_000 + DEFAULT_COMMIT_AFTER_MS, 'an event 5 s after the commit waits for that point, 25 s');
    afterCommit(c, 40_000, 40_000 + DEFAULT_COMMIT_AFTER_MS);
    assert.equal(c.commitAtMs(), 40_000 + DEFAULT_COMMIT_AFTER_MS, 'one accepted at the point itself goes with it');
  });

  it('starts a new window for an event after a pause longer than one, and arms no cadence point once it has passed', () => {
    const c = cadence();
    afterCommit(c, 40_000, 100_000);
    assert.equal(c.commitAtMs(), 100_000 + DEFAULT_COMMIT_AFTER_MS, 'never later than commitAfterMs after the event');
    afterCommit(c, 40_000);
    assert.equal(c.cadenceWakeMs(40_000 + DEFAULT_COMMIT_AFTER_MS), undefined, 'the cadence point passed: the idle timer is all that is left');
    assert.equal(cadence({ commitAfterMs: 0 }).cadenceWakeMs(0), undefined, 'commitAfterMs 0 arms nothing ahead');
  });

  it('never lets an event wait longer than commitAfterMs, on any timeline', () => {
    for (const window of [0, 1000, DEFAULT_COMMIT_AFTER_MS]) {
      for (const lastCommit of [0, 10_000, 29_999, 30_000, 95_000]) {
        for (const since of [lastCommit, lastCommit + 1, lastCommit + window, lastCommit + window + 1, lastCommit + 3 * window + 7]) {
          const c = cadence({ commitAfterMs: window });
          afterCommit(c, lastCommit, since);
          const at = c.commitAtMs()!;
          assert.ok(at <= since + window && at >= since, `window ${window}, commit ${lastCommit}, event ${since}: at ${at}`);
        }
      }
    }
  });

  it('holds an event accepted while the last commit was in flight, or carried over, to its own acceptance time', () => {
    const c = cadence();
    afterCommit(c, 40_000, 39_000);
    assert.equal(c.commitAtMs(), 39_000 + DEFAULT_COMMIT_AFTER_MS, 'accepted at 39 s, during the commit that ended at 40 s');
    const carried = cadence();
    carried.outbox[0] = { ...carried.outbox[0]!, at: new Date(12_000).toISOString() };
    carried.outboxSinceMs = 50_000; // resumed in a new run at 50 s
    assert.equal(carried.commitAtMs(), 12_000 + DEFAULT_COMMIT_AFTER_MS, 'the carried event\'s own time, not the new run\'s start');
  });

  it('commits a full outbox at once', () => {
    const c = cadence();
    while (c.outbox.length < CHAT_COMMIT_BATCH) c.outbox.push({ ...c.outbox[0]!, seq: c.outbox.length + 1 });
    assert.equal(c.commitAtMs(), 0);
  });

  it('is the rule of new conversations; the quiet rule only of runs recorded before it', () => {
    assert.equal(ChatConversation.start('chat-1', 'run-1', plan(), 0).commitRule, 'cadence');
  });
});

describe('ChatConversation: when events go to the ledger (quiet, runs recorded before the cadence)', () => {
  it('commits nothing when nothing is waiting', () => {
    const c = conversation(0);
    c.committed(c.nextBatch());
    assert.equal(c.commitAtMs(), undefined);
  });

  it('commits once the conversation has been quiet for commitAfterMs', () => {
    assert.equal(conversation(5000).commitAtMs(), 5000 + QUIET_COMMIT_AFTER_MS);
    assert.equal(conversation(5000, { commitAfterMs: 0 }).commitAtMs(), 5000);
  });

  it('waits while a reply is being written, but no longer than MAX_UNCOMMITTED_MS after the oldest event', () => {
    const c = conversation(5000);
    c.generating = { turn: 1, replyId: 'm2' };
    assert.equal(c.commitAtMs(), MAX_UNCOMMITTED_MS);
    const busy = conversation(MAX_UNCOMMITTED_MS - 1);
    assert.equal(busy.commitAtMs(), MAX_UNCOMMITTED_MS, 'a conversation never quiet still commits');
  });

  it('commits a finished reply\'s turn at once, in the task that records the reply', () => {
    const c = conversation(5000);
    c.replyEndedMs = 5000;
    assert.equal(c.commitAtMs(), 5000, 'the first reply of the run');
    c.lastCommitMs = 5000 - QUIET_COMMIT_AFTER_MS;
    assert.equal(c.commitAtMs(), 5000, 'the last commit was commitAfterMs ago');
  });

  it('lets turns in quick succession share a commit: a reply within commitAfterMs of the last commit waits for the quiet spell', () => {
    const c = conversation(5000);
    c.replyEndedMs = 5000;
    c.lastCommitMs = 4000;
    assert.equal(c.commitAtMs(), 5000 + QUIET_COMMIT_AFTER_MS);
    c.generating = { turn: 2, replyId: 'm4' };
    assert.equal(c.commitAtMs(), MAX_UNCOMMITTED_MS, 'the next reply is being written: nothing before the cap');
  });

  it('forgets the finished reply once the ledger has its turn', () => {
    const c = conversation(5000);
    c.replyEndedMs = 5000;
    c.committed(c.nextBatch());
    assert.equal(c.replyEndedMs, undefined);
    assert.equal(typeof c.lastCommitMs, 'number');
  });

  it('commits a full outbox at once', () => {
    const c = conversation(5000);
    c.generating = { turn: 1, replyId: 'm2' };
    while (c.outbox.length < CHAT_COMMIT_BATCH) c.outbox.push({ ...c.outbox[0]!, seq: c.outbox.length + 1 });
    assert.equal(c.commitAtMs(), 0);
  });
});
