/**
 * ChatConversation's commit timing outside Temporal: accepted events wait for a quiet spell (no request,
 * no reply being written) so a busy conversation's turns never wait on the ledger, but never longer than
 * MAX_UNCOMMITTED_MS, and a full outbox goes at once. The workflow tests cover the same across real runs.
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

  it('commits a full outbox at once', () => {
    const c = conversation(5000);
    c.generating = { turn: 1, replyId: 'm2' };
    while (c.outbox.length < CHAT_COMMIT_BATCH) c.outbox.push({ ...c.outbox[0]!, seq: c.outbox.length + 1 });
    assert.equal(c.commitAtMs(), 0);
  });
});
