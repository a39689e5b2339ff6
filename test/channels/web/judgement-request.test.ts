import assert from 'node:assert/strict';
import { orderRefusal, webJudgementRequest } from '../../../channels/web/judgement-request';

const RATER = 'r_0123456789abcdef01234567';
const CAST_AT = '2025-06-01T12:00:05.000Z';
const body = (extra: Record<string, unknown> = {}) => ({ left: 'c2', right: 'c1', choice: 'left', idempotencyKey: 'browser-key-1', ...extra });

describe('channels/web/judgement-request', () => {
  it('should map the page\'s body to a JudgementRequest namespaced by rater, with the trimmed comment', () => {
    assert.deepEqual(webJudgementRequest(body({ comment: '  sharper  ' }), RATER, CAST_AT, 'invite'), {
      ok: true,
      judgement: { idempotencyKey: `web:${RATER}:browser-key-1`, left: 'c2', right: 'c1', choice: 'left', rater: RATER, channel: 'web', castAt: CAST_AT, raterAuth: 'invite', comment: 'sharper' },
    });
    for (const choice of ['left', 'right', 'tie', 'both_bad', 'retract']) {
      const mapped = webJudgementRequest(body({ choice }), RATER, CAST_AT, 'open');
      assert.equal(mapped.ok && mapped.judgement.choice, choice);
    }
    for (const comment of [undefined, null, '', '   ']) {
      const mapped = webJudgementRequest(body({ comment }), RATER, CAST_AT, 'oidc');
      assert.ok(mapped.ok && !('comment' in mapped.judgement), String(comment));
    }
  });

  it('should refuse a bad idempotency key, a malformed answer and an unsafe comment, each with its code', () => {
    const code = (b: Record<string, unknown>, auth: 'invite' | 'slack' = 'invite') => {
      const mapped = webJudgementRequest(b, RATER, CAST_AT, auth);
      return mapped.ok ? 'ok' : `${mapped.code}: ${mapped.message}`;
    };
    assert.match(code(body({ idempotencyKey: 'short' })), /^invalid_idempotency_key: idempotencyKey: 8–128/);
    assert.match(code(body({ choice: 'a' })), /^malformed_vote: choice: must be "left", "right", "tie", "both_bad", "retract"/);
    assert.match(code(body({ choice: undefined })), /^malformed_vote: choice/);
    assert.match(code(body({ left: undefined })), /^malformed_vote: left: required/);
    assert.match(code(body({ right: 7 })), /^malformed_vote: right: required/);
    assert.match(code(body({ left: 'c1', right: 'c1' })), /^malformed_vote: left, right: must be two different candidates/);
    assert.match(code(body({ comment: 42 })), /^malformed_vote: comment/);
    assert.match(code(body({ comment: 'x'.repeat(2001) })), /^malformed_vote: comment/);
    assert.match(code(body(), 'slack'), /^malformed_vote: /);
    assert.match(code(body({ comment: 'evil \u202e text' })), /^invalid_comment: /);
  });

  it('orderRefusal: only the order the rater is shown', () => {
    assert.equal(orderRefusal({ left: 'c2', right: 'c1' }, ['c2', 'c1']), undefined);
    assert.equal(orderRefusal({ left: 'c1', right: 'c2' }, ['c2', 'c1']), 'left, right: must be the order you are shown, left "c2" and right "c1"');
    assert.match(orderRefusal({ left: 'c1', right: 'c9' }, ['c1', 'c2']) ?? '', /must be the order you are shown/);
  });
});
