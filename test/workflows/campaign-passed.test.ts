/**
 * What an open campaign item keeps of the raters who passed it (`next` with `done`, workflows/campaign-assign.ts),
 * outside Temporal, with a few thousand raters: only a rater it was reserved for passes it, and it keeps
 * the latest PASSED_KEPT, so its carry does not grow with every rater of the campaign.
 */
import assert from 'node:assert/strict';
import { LAPSED_KEPT, PASSED_KEPT } from '../../workflows/campaign-assign';
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

  it('should keep the pass of a rater whose reservation expired before it came, for the latest LAPSED_KEPT of them', () => {
    const campaign = running();
    const item = campaign.open.get('camp-item-0')!;
    const later = NOW + 2 * 60_000; // past the 1m reservations
    for (let r = 1; r <= 20; r++) assert.ok(campaign.next({ rater: raterId(r) }, NOW).assigned);
    // Another rater's `next` after the expiry lets the reservations go back to the pool.
    assert.ok(campaign.next({ rater: raterId(100) }, later).assigned);
    assert.deepEqual(item.reservations.map((r) => r.rater), [raterId(100)]);
    assert.equal(item.lapsed?.length, LAPSED_KEPT);
    // Rater 20 skips it now: they are not handed it again. Rater 1's lapse is too old to be kept: nothing to pass.
    assert.deepEqual(campaign.next({ rater: raterId(20), done: 'camp-item-0' }, later), { assigned: false, reason: 'waiting' });
    assert.deepEqual(item.passed, [raterId(20)]);
    assert.equal(item.lapsed?.includes(raterId(20)), false);
    assert.equal(campaign.next({ rater: raterId(1), done: 'camp-item-0' }, later).assigned, true, 'no pass kept; handed it again');
    // A lapsed rater whose answer report comes is no longer kept as lapsed (raters holds them now).
    const lapsedRater = item.lapsed!.at(-1)!;
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: lapsedRater, progress: 1, seq: 1 });
    assert.equal(item.lapsed!.includes(lapsedRater), false);
    // Carried as it is.
    const resumed = RatingCampaign.resume('camp', JSON.parse(JSON.stringify(campaign.toCarry())));
    assert.deepEqual(resumed.open.get('camp-item-0')!.lapsed, item.lapsed);

    // Runs recorded before the rule (keepsLapsed false, rating-campaign.ts patched) forget an expired reservation as they did.
    const old = running();
    old.keepsLapsed = false;
    assert.ok(old.next({ rater: raterId(1) }, NOW).assigned);
    assert.ok(old.next({ rater: raterId(2) }, later).assigned);
    assert.equal(old.open.get('camp-item-0')!.lapsed, undefined);
    assert.equal(old.next({ rater: raterId(1), done: 'camp-item-0' }, later).assigned, true);
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
