import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { linkTokenHash, linkVoteRequest, replyVoteRequest } from '../../../channels/email/votes';

const RATER = 'r_0123456789abcdef01234567';
const CAST_AT = '2026-03-01T12:00:00.000Z';

describe('channels/email/votes', () => {
  describe('linkVoteRequest', () => {
    it('should cast the vote the verified link names, keyed by a hash of the token itself', () => {
      const token = 'v1.some-signed-token';
      const vote = linkVoteRequest(token, { rater: RATER, candidateId: 'c2', value: 'down' }, CAST_AT);
      const hash = createHash('sha256').update(token).digest('hex').slice(0, 40);
      assert.equal(linkTokenHash(token), hash);
      assert.deepEqual(vote, { idempotencyKey: `email:link:${hash}`, candidateId: 'c2', value: 'down', rater: RATER, channel: 'email', castAt: CAST_AT });
    });

    it('should give the same link the same key every time, and another link another key', () => {
      const claims = { rater: RATER, candidateId: 'c1', value: 'up' as const };
      assert.equal(linkVoteRequest('t1', claims, CAST_AT).idempotencyKey, linkVoteRequest('t1', claims, '2026-03-02T00:00:00.000Z').idempotencyKey);
      assert.notEqual(linkVoteRequest('t1', claims, CAST_AT).idempotencyKey, linkVoteRequest('t2', claims, CAST_AT).idempotencyKey);
    });
  });

  describe('replyVoteRequest', () => {
    const claims = { token: 'vote-token-abc', rater: RATER };

    it('should cast a parsed vote of a reply for the address\'s rater', () => {
      const vote = replyVoteRequest('<m1@example.com>', claims, { candidateId: 'c1', value: 'up' }, 0, CAST_AT);
      assert.deepEqual({ ...vote, idempotencyKey: undefined }, { idempotencyKey: undefined, candidateId: 'c1', value: 'up', rater: RATER, channel: 'email', castAt: CAST_AT });
      assert.match(vote.idempotencyKey, /^email:reply:[0-9a-f]{40}$/);
    });

    it('should key by message, reply address and position: a redelivered message counts once, anything else is another vote', () => {
      const key = (messageKey: string, token: string, position: number) =>
        replyVoteRequest(messageKey, { token, rater: RATER }, { candidateId: 'c1', value: 'up' }, position, CAST_AT).idempotencyKey;
      assert.equal(key('<m1@x>', 'tok', 0), key('<m1@x>', 'tok', 0));
      const distinct = new Set([key('<m1@x>', 'tok', 0), key('<m2@x>', 'tok', 0), key('<m1@x>', 'tok2', 0), key('<m1@x>', 'tok', 1)]);
      assert.equal(distinct.size, 4);
    });
  });
});
