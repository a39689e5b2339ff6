/**
 * An email digest's reservations while its send is in flight (workflows/campaign-assign.ts settleDigest),
 * outside Temporal: a reservation `next` told its rater of meanwhile stays as told when the mail fails,
 * one nobody was told of is let go (or back to the earlier time) as before.
 */
import assert from 'node:assert/strict';
import { validateCampaignInput } from '../../workflows/campaign-input';
import { RatingCampaign } from '../../workflows/campaign-state';
import type { CampaignItem, NextItemAnswer } from '../../workflows/types';
import { raterId } from '../helpers/votes';

// The campaign reads the workflow clock (Date.now()) too: one reading, fixed for the test.
const NOW = Date.now();
const HOUR = 3_600_000;
const item = (n: number): CampaignItem => ({ prompt: `p${n}`, models: ['a', 'b'], candidates: [{ text: `left ${n}`, model: 'a' }, { text: `right ${n}`, model: 'b' }] });

/** An email campaign (`next` reservations of one minute) whose items 0…n-1 are open. */
function running(n: number): RatingCampaign {
  const result = validateCampaignInput({ items: Array.from({ length: n }, (_, i) => item(i)), responses: 2, reservation: '1m', channel: 'email:@raters', deadline: '7d' }, 'camp', NOW);
  assert.ok(result.ok, JSON.stringify(result));
  const campaign = RatingCampaign.start('camp', result.plan, {}, NOW);
  for (let i = 0; i < n; i++) {
    const taken = campaign.takeItem();
    campaign.started(taken.index, taken.lifecycleId);
    campaign.report({ lifecycleId: taken.lifecycleId, kind: 'opened' });
  }
  return campaign;
}

const untilOf = (campaign: RatingCampaign, lifecycleId: string, rater: string): number | undefined =>
  campaign.open.get(lifecycleId)?.reservations.find((r) => r.rater === rater)?.untilMs;

const told = (answer: NextItemAnswer) => {
  assert.ok(answer.assigned, JSON.stringify(answer));
  return { lifecycleId: answer.lifecycleId, untilMs: Date.parse(answer.reservedUntil), again: answer.again };
};

describe('a digest send that fails after next told the rater their reservation', () => {
  it('should keep a reservation the digest made as next told it', () => {
    const campaign = running(1);
    const rater = raterId(1);
    const until = NOW + 24 * HOUR;
    assert.deepEqual(campaign.assignBatch(rater, 1, NOW, until), ['camp-item-0']);
    // The send is in flight; the rater asks `next` and is told the digest's reservation.
    const answer = told(campaign.next({ rater }, NOW + 1000));
    assert.deepEqual(answer, { lifecycleId: 'camp-item-0', untilMs: until, again: true });
    campaign.digestSettled([]); // the send failed for good
    assert.equal(untilOf(campaign, 'camp-item-0', rater), until, 'held until the time next told');
    assert.deepEqual(told(campaign.next({ rater }, NOW + 2000)), answer, 'and told the same again');
  });

  it('should keep a reservation the digest extended at the time next told, and still give back the ones nobody was told of', () => {
    const campaign = running(2);
    const rater = raterId(1);
    // A first digest reserved both items for an hour, and its mail went out.
    const first = NOW + HOUR;
    const held = campaign.assignBatch(rater, 2, NOW, first).sort();
    assert.deepEqual(held, ['camp-item-0', 'camp-item-1']);
    campaign.digestSettled([{ rater, lifecycleIds: held }]);
    // The next digest extends both to a day; while it is sent, `next` tells the rater one of them.
    const later = NOW + 24 * HOUR;
    assert.deepEqual(campaign.assignBatch(rater, 2, NOW + 1000, later).sort(), held);
    const answer = told(campaign.next({ rater }, NOW + 2000));
    assert.equal(answer.untilMs, later);
    campaign.digestSettled([]);
    const other = held.find((id) => id !== answer.lifecycleId)!;
    assert.equal(untilOf(campaign, answer.lifecycleId, rater), later, 'what next told stands');
    assert.equal(untilOf(campaign, other, rater), first, 'the extension nobody was told of falls back');
    assert.equal(campaign.digestHolds.size, 0);
  });
});
