/**
 * A conversation's events as the chatConversation workflow produces them, without running it: for the
 * ledger's and releases' tests. Two turns; the first reply is rated 👎 with a reason, gets feedback and
 * a correction, is regenerated, and the two replies are compared (the second wins); the second turn's
 * reply gets 👍; then Clear.
 */
import type { ChatCommitRequest } from '../../store/chat-ledger-types';
import type { ChatEvent, ReplyProvenance } from '../../workflows/types';

export const OWNER = 'r_0123456789abcdef01234567';

export function provenance(overrides: Partial<ReplyProvenance> = {}): ReplyProvenance {
  return { backend: 'demo', model: 'text', version: 'demo-1', params: {}, seed: 1, latencyMs: 120, ttftMs: 15, chunks: 8, attempt: 1, placeholder: true, finishReason: 'stop', ...overrides };
}

/** Events at one-second steps from `t0`. */
export function sampleChatEvents(t0 = Date.parse('2026-04-01T10:00:00.000Z')): ChatEvent[] {
  const at = (s: number) => new Date(t0 + s * 1000).toISOString();
  const events: Array<Omit<ChatEvent, 'seq'>> = [
    { kind: 'start', at: at(0), model: 'demo:text', detail: { ownerAuth: 'invite', model: 'demo:text', params: { temperature: 0.5 }, seed: 1 } },
    { kind: 'user_message', at: at(1), idempotencyKey: 'chat:k1', turn: 1, messageId: 'm1', role: 'user', content: 'how many r in strawberry?' },
    { kind: 'reply', at: at(2), turn: 1, messageId: 'm2', role: 'assistant', content: 'There are two.', model: 'demo:text', provenance: provenance(), contextIds: ['m1'], replyIndex: 0 },
    { kind: 'rating', at: at(3), idempotencyKey: 'chat:k2', turn: 1, replyId: 'm2', value: 'down', reason: 'incorrect' },
    { kind: 'feedback', at: at(4), idempotencyKey: 'chat:k3', turn: 1, replyId: 'm2', content: 'there are three r\'s in strawberry' },
    { kind: 'correction', at: at(5), idempotencyKey: 'chat:k4', turn: 1, replyId: 'm2', content: 'There are three.' },
    { kind: 'regenerate', at: at(6), idempotencyKey: 'chat:k5', turn: 1, replyId: 'm2' },
    { kind: 'reply', at: at(7), turn: 1, messageId: 'm3', role: 'assistant', content: 'Three: s-t-r-a-w-b-e-r-r-y.', model: 'demo:text', provenance: provenance({ seed: 2 }), contextIds: ['m1'], replyIndex: 1 },
    { kind: 'compare', at: at(8), idempotencyKey: 'chat:k6', turn: 1, left: 'm3', right: 'm2', choice: 'left', winner: 'm3' },
    { kind: 'user_message', at: at(9), idempotencyKey: 'chat:k7', turn: 2, messageId: 'm4', role: 'user', content: 'and in raspberry?' },
    { kind: 'reply', at: at(10), turn: 2, messageId: 'm5', role: 'assistant', content: 'Three as well.', model: 'demo:text', provenance: provenance({ seed: 3 }), contextIds: ['m1', 'm3', 'm4'], replyIndex: 0 },
    { kind: 'rating', at: at(11), idempotencyKey: 'chat:k8', turn: 2, replyId: 'm5', value: 'up' },
    { kind: 'end', at: at(12), idempotencyKey: 'chat:k9', detail: { reason: 'cleared' } },
  ];
  return events.map((e, i) => ({ seq: i + 1, ...e }));
}

export function chatCommit(events: ChatEvent[], conversationId = 'chat-sample', conversationRunId = 'run-chat-1'): ChatCommitRequest {
  return { conversation: { conversationId, conversationRunId, owner: OWNER, ownerAuth: 'invite', model: 'demo:text' }, events };
}
