import assert from 'node:assert/strict';
import { webVoteRequest } from '../../../channels/web/vote-request';

const RATER = 'r_0123456789abcdef01234567';
const CAST_AT = '2025-06-01T12:00:05.000Z';

describe('channels/web/vote-request', () => {
  it('should map the page\'s body to a VoteRequest namespaced by rater, with the trimmed comment', () => {
    const mapped = webVoteRequest({ candidateId: 'c1', value: 'up', idempotencyKey: 'browser-key-1', comment: '  nice shape  ' }, RATER, CAST_AT, 'invite');
    assert.deepEqual(mapped, {
      ok: true,
      vote: { idempotencyKey: `web:${RATER}:browser-key-1`, candidateId: 'c1', value: 'up', rater: RATER, channel: 'web', castAt: CAST_AT, raterAuth: 'invite', comment: 'nice shape' },
    });
  });

  it('should record how the rater signed in, and refuse a way in the web does not have', () => {
    for (const raterAuth of ['invite', 'oidc', 'open'] as const) {
      const mapped = webVoteRequest({ candidateId: 'c1', value: 'up', idempotencyKey: 'browser-key-3' }, RATER, CAST_AT, raterAuth);
      assert.equal(mapped.ok && mapped.vote.raterAuth, raterAuth);
    }
    const slack = webVoteRequest({ candidateId: 'c1', value: 'up', idempotencyKey: 'browser-key-3' }, RATER, CAST_AT, 'slack');
    assert.equal(slack.ok ? 'ok' : slack.code, 'malformed_vote');
  });

  it('should leave a missing, null or blank comment out', () => {
    for (const comment of [undefined, null, '', '   ']) {
      const mapped = webVoteRequest({ candidateId: 'c1', value: 'down', idempotencyKey: 'browser-key-2', comment }, RATER, CAST_AT, 'invite');
      assert.ok(mapped.ok);
      assert.equal('comment' in mapped.vote, false, String(comment));
    }
  });

  it('should refuse an idempotency key that is not 8–128 characters of A–Z, a–z, 0–9, "_" and "-"', () => {
    for (const key of [undefined, 42, 'short', 'x'.repeat(129), 'has space!', 'web:r_1:x', 'ключ-ключ-ключ']) {
      const mapped = webVoteRequest({ candidateId: 'c1', value: 'up', idempotencyKey: key }, RATER, CAST_AT, 'invite');
      assert.deepEqual(mapped.ok ? undefined : mapped.code, 'invalid_idempotency_key', String(key));
    }
    for (const key of ['x'.repeat(128), 'Ab_-0123']) assert.ok(webVoteRequest({ candidateId: 'c1', value: 'up', idempotencyKey: key }, RATER, CAST_AT, 'invite').ok);
  });

  it('should refuse what the lifecycle would refuse as malformed, with its reason', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ value: 'sideways' }, /^value:/],
      [{ candidateId: '' }, /^candidateId:/],
      [{ candidateId: 7 }, /^candidateId:/],
      [{ comment: 'x'.repeat(2001) }, /^comment:/],
      [{ comment: { html: true } }, /^comment:/],
    ];
    for (const [change, reason] of cases) {
      const mapped = webVoteRequest({ candidateId: 'c1', value: 'up', idempotencyKey: 'key-0000001', ...change }, RATER, CAST_AT, 'invite');
      assert.equal(mapped.ok, false, JSON.stringify(change));
      if (!mapped.ok) {
        assert.equal(mapped.code, 'malformed_vote');
        assert.match(mapped.message, reason);
      }
    }
  });

  it('should refuse a comment with control or bidi-override characters as invalid_comment, naming the character', () => {
    for (const comment of ['\u001b]8;;http://evil\u0007click\u001b]8;;\u0007', 'looks fine \u202eexe.txt', 'isolate \u2067x\u2069', 'bell\u0007', 'carriage\rreturn']) {
      const mapped = webVoteRequest({ candidateId: 'c1', value: 'up', idempotencyKey: 'key-0000001', comment }, RATER, CAST_AT, 'invite');
      assert.equal(mapped.ok ? 'ok' : mapped.code, 'invalid_comment', JSON.stringify(comment));
      if (!mapped.ok) assert.match(mapped.message, /^comment: control and bidirectional-override characters are not allowed \(U\+/);
    }
    // A textarea's CR LF is a line feed; tabs, line feeds and right-to-left marks are text.
    const mapped = webVoteRequest({ candidateId: 'c1', value: 'up', idempotencyKey: 'key-0000001', comment: 'line one\r\n\tשלום\u200f' }, RATER, CAST_AT, 'invite');
    assert.ok(mapped.ok);
    assert.equal(mapped.vote.comment, 'line one\n\tשלום\u200f');
  });

  it('should refuse a rater that is not a pseudonym (never forward a raw name)', () => {
    const mapped = webVoteRequest({ candidateId: 'c1', value: 'up', idempotencyKey: 'key-0000001' }, 'Alice', CAST_AT, 'open');
    assert.equal(mapped.ok ? 'ok' : mapped.code, 'malformed_vote');
  });
});
