import assert from 'node:assert/strict';
import { malformedVoteReason } from '../../workflows/vote-tally';

const VOTE = { idempotencyKey: 'k-1', candidateId: 'c1', value: 'up', rater: 'r_0123456789abcdef01234567', castAt: '2026-01-01T00:00:00Z' };

describe('workflows/vote-tally: raterAuth', () => {
  it('should accept a vote without it (votes from before it existed replay as they were)', () => {
    for (const channel of ['web', 'slack', 'email', 'cli']) assert.equal(malformedVoteReason({ ...VOTE, channel }), undefined);
  });

  it('should accept the web\'s ways in on web votes, and each other channel as itself', () => {
    for (const raterAuth of ['invite', 'oidc', 'open']) assert.equal(malformedVoteReason({ ...VOTE, channel: 'web', raterAuth }), undefined);
    for (const channel of ['slack', 'email', 'cli']) assert.equal(malformedVoteReason({ ...VOTE, channel, raterAuth: channel }), undefined);
  });

  it('should refuse a way in that does not belong to the vote\'s channel, or none at all', () => {
    const cases: Array<[string, unknown]> = [['web', 'slack'], ['web', 'cli'], ['slack', 'invite'], ['email', 'oidc'], ['cli', 'open'], ['web', 'admin'], ['web', 42], ['web', null]];
    for (const [channel, raterAuth] of cases) assert.match(malformedVoteReason({ ...VOTE, channel, raterAuth }) ?? '', /^raterAuth:/, `${channel} ${String(raterAuth)}`);
  });
});
