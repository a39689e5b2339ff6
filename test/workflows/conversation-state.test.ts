/**
 * ChatConversation's commit timing outside Temporal: a finished reply's turn goes at once (in the task
 * that records the reply) unless the last commit was under commitAfterMs ago; other events wait for a
 * quiet spell (no request, no reply being written) so a busy conversation's turns never wait on the
 * ledger, but never longer than MAX_UNCOMMITTED_MS, and a full outbox goes at once. The workflow tests cover the same across real runs.
 */
import assert from 'node:assert/strict';
import { CHAT_COMMIT_BATCH, ChatConversation, DEFAULT_COMMIT_AFTER_MS, MAX_UNCOMMITTED_MS } from '../../workflows/conversation-state';
import type { ChatPlan, ChatThresholds } from '../../workflows/chat-types';

function plan(thresholds: ChatThresholds = {}): ChatPlan {
  return {
    owner: 'r-alice', ownerAuth: 'invite', model: 'demo:text', params: {}, seed: 1, reasonTags: [],
    idleTimeoutMs: 600_000, maxTurns: 100, maxMessageChars: 4000, contextMessages: 40, thresholds,
  };
}

/** A conversation whose start event was accepted at workflow time 0 and last active at `lastActivityMs`. */
function conversation(lastActivityMs: number, thresholds: ChatThresholds = {}): ChatConversation {
  const c = ChatConversation.start('chat-1', 'run-1', plan(thresholds), 0);
  c.outboxSinceMs = 0;
  c.lastActivityMs = lastActivityMs;
  return c;
}

describe('ChatConversation: when events go to the ledger', () => {
  it('commits nothing when nothing is waiting', () => {
    const c = conversation(0);
    c.committed(c.nextBatch());
    assert.equal(c.commitAtMs(), undefined);
  });

  it('commits once the conversation has been quiet for commitAfterMs', () => {
    assert.equal(conversation(5000).commitAtMs(), 5000 + DEFAULT_COMMIT_AFTER_MS);
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
    c.lastCommitMs = 5000 - DEFAULT_COMMIT_AFTER_MS;
    assert.equal(c.commitAtMs(), 5000, 'the last commit was commitAfterMs ago');
  });

  it('lets turns in quick succession share a commit: a reply within commitAfterMs of the last commit waits for the quiet spell', () => {
    const c = conversation(5000);
    c.replyEndedMs = 5000;
    c.lastCommitMs = 4000;
    assert.equal(c.commitAtMs(), 5000 + DEFAULT_COMMIT_AFTER_MS);
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
