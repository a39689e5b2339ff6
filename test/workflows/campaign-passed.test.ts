/**
 * What an open campaign item keeps of the raters who passed it (`next` with `done`, workflows/campaign-assign.ts),
 * outside Temporal, with a few thousand raters: only a rater it was reserved for passes it, and it keeps
 * the latest PASSED_KEPT, so its carry does not grow with every rater of the campaign.
 */
import assert from 'node:assert/strict';
import { PASSED_KEPT } from '../../workflows/campaign-assign';
import { validateCampaignInput } from '../../workflows/campaign-input';
import { RatingCampaign } from '../../workflows/campaign-state';
import { raterId } from '../helpers/votes';

const NOW = Date.now();
const RATERS = 3000;

function running(): RatingCampaign {
  const result = validateCampaignInput({ items: [{ prompt: 'p', candidates: [{ text: 'l', model: 'a' }, { text: 'r', model: 'b' }] }], responses: 5000, reservation: '1m' }, 'camp', NOW);
  assert.ok(result.ok, JSON.stringify(result));
  const campaign = RatingCampaign.start('camp', result.plan, {}, NOW);
  const taken = campaign.takeItem();
  campaign.started(taken.index, taken.lifecycleId);
  campaign.report({ lifecycleId: taken.lifecycleId, kind: 'opened' });
  return campaign;
}

describe('an open campaign item\'s passes (state, outside Temporal)', () => {
  it('should keep the latest passes of raters it was reserved for, never handing it back to them', () => {
    const campaign = running();
    const item = campaign.open.get('camp-item-0')!;
    for (let r = 1; r <= RATERS; r++) {
      const handed = campaign.next({ rater: raterId(r) }, NOW);
      assert.ok(handed.assigned && handed.lifecycleId === 'camp-item-0');
      assert.deepEqual(campaign.next({ rater: raterId(r), done: 'camp-item-0' }, NOW), { assigned: false, reason: 'waiting' }, 'not handed back at once');
    }
    assert.equal(item.passed?.length, PASSED_KEPT);
    assert.deepEqual(item.passed, Array.from({ length: PASSED_KEPT }, (_, i) => raterId(RATERS - PASSED_KEPT + 1 + i)));
    assert.equal(item.reservations.length, 0, 'each pass let its reservation go');
    assert.equal(campaign.next({ rater: raterId(RATERS) }, NOW).assigned, false, 'a recent pass is kept from it');
    assert.equal(campaign.next({ rater: raterId(1) }, NOW).assigned, true, 'one long before may get it again');
  });

  it('should keep no pass of a rater it was never reserved for', () => {
    const campaign = running();
    for (let r = 1; r <= RATERS; r++) campaign.next({ rater: raterId(r), done: 'camp-item-0' }, NOW);
    assert.equal(campaign.open.get('camp-item-0')!.passed, undefined);
    // The answer a rater's pass came ahead of still keeps them from it once its report arrives.
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(1), progress: 1, seq: 1 });
    assert.equal(campaign.next({ rater: raterId(1) }, NOW).assigned, false);
  });
});
