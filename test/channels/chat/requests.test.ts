/** The chat page's request bodies → the workflow's requests: namespaced keys, text hygiene and caps, each kind's fields. */
import assert from 'node:assert/strict';
import { chatRequest } from '../../../channels/chat/requests';

const RATER = 'r_0123456789abcdef01234567';
const AT = '2026-12-01T10:00:00.000Z';
const LIMITS = { maxMessageChars: 20, reasonTags: ['incorrect'] };
const map = (kind: Parameters<typeof chatRequest>[0], body: Record<string, unknown>) => chatRequest(kind, { idempotencyKey: 'page-key-1', ...body }, RATER, AT, LIMITS);

describe('channels/chat: request mapping', () => {
  it('should namespace the key by rater, stamp the time, and normalise line ends', () => {
    assert.deepEqual(map('send', { text: 'two\r\nlines  ' }), { ok: true, request: { idempotencyKey: `chat:${RATER}:page-key-1`, rater: RATER, sentAt: AT, text: 'two\nlines' } });
    const stream = { streamId: 'abcdefghijklmnopqrstuvwx', streamUrl: 'http://gw:8080/internal/chat-streams/abcdefghijklmnopqrstuvwx' };
    assert.deepEqual(chatRequest('regenerate', { idempotencyKey: 'page-key-2' }, RATER, AT, LIMITS, stream), { ok: true, request: { idempotencyKey: `chat:${RATER}:page-key-2`, rater: RATER, sentAt: AT, stream } });
  });

  it('should take only each kind\'s own fields', () => {
    const mapped = map('rate', { replyId: 'm2', value: 'down', reason: 'incorrect', rater: 'r_someoneelse000000000000', text: 'ignored' });
    assert.deepEqual(mapped, { ok: true, request: { idempotencyKey: `chat:${RATER}:page-key-1`, rater: RATER, sentAt: AT, replyId: 'm2', value: 'down', reason: 'incorrect' } });
    assert.deepEqual(map('compare', { left: 'm2', right: 'm3', choice: 'both_bad' }).ok, true);
  });

  it('should refuse bad keys, bad texts and malformed fields with their codes', () => {
    assert.deepEqual(chatRequest('send', { idempotencyKey: 'short', text: 'hi' }, RATER, AT, LIMITS), { ok: false, code: 'invalid_idempotency_key', message: 'idempotencyKey: 8–128 characters of A–Z, a–z, 0–9, "_" and "-"' });
    for (const text of ['', '   ', 'x'.repeat(21), 'esc \u001b[2J', 'bidi \u2066', 42]) {
      const result = map('send', { text });
      assert.equal(result.ok, false, String(text));
      assert.equal(!result.ok && result.code, 'invalid_chat_text', String(text));
    }
    assert.equal((map('feedback', { replyId: 'm2', text: 'ok', rest: 1 }) as { ok: boolean }).ok, true);
    const cases: Array<[Parameters<typeof chatRequest>[0], Record<string, unknown>, RegExp]> = [
      ['rate', { replyId: 'm2', value: 'meh' }, /value:/],
      ['rate', { replyId: 'm2', value: 'up', reason: 'rude' }, /reason: one of "incorrect"/],
      ['rate', { replyId: 'm2', value: 'retract', reason: 'incorrect' }, /only with "up" or "down"/],
      ['compare', { left: 'm2', right: 'm2', choice: 'left' }, /two different replies/],
      ['compare', { left: 'm2', right: 'm3', choice: 'A' }, /choice:/],
      ['correction', { text: 'right answer' }, /replyId: required/],
    ];
    for (const [kind, body, message] of cases) {
      const result = map(kind, body);
      assert.equal(!result.ok && result.code, 'malformed_chat_request', JSON.stringify(body));
      assert.match(!result.ok ? result.message : '', message);
    }
  });
});
