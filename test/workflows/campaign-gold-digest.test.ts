/**
 * Gold items in an email campaign's digests (workflows/campaign-assign.ts assignItems, through
 * RatingCampaign.assignBatch), outside Temporal: each fresh hand-out of a digest is gold at the rater's rate
 * by the same seeded hash as `next`, never a gold item twice in one digest nor one the rater answered (one
 * passed over comes back), gold reserves nothing, an excluded rater gets no digest, and a campaign without
 * gold keeps no rater records for its digests.
 */
import assert from 'node:assert/strict';
import { goldLifecycleId } from '../../workflows/campaign-gold';
import { validateCampaignInput } from '../../workflows/campaign-input';
import { RatingCampaign } from '../../workflows/campaign-state';
import { isGoldTurn } from '../../workflows/rater-quality';
import type { CampaignGoldItem, CampaignItem } from '../../workflows/types';
import { raterId } from '../helpers/votes';
import { openAll } from '../helpers/campaign-fixtures';

const NOW = Date.now();
const UNTIL = NOW + 86_400_000;
const item = (n: number): CampaignItem => ({ prompt: `p${n}`, candidates: [{ text: `left ${n}`, model: 'a' }, { text: `right ${n}`, model: 'b' }] });
const goldItem = (n: number): CampaignGoldItem => ({ ...item(100 + n), answer: 'first', explanation: `gold ${n}: the first one is right` });

/** An email campaign with `items` data items and `gold` gold items, all open. */
function running(items: number, gold: number, input: Record<string, unknown> = {}): RatingCampaign {
  const result = validateCampaignInput({
    items: Array.from({ length: items }, (_, i) => item(i)), ...(gold > 0 ? { gold: Array.from({ length: gold }, (_, i) => goldItem(i)) } : {}),
    responses: 3, channel: 'email:@raters', digestSize: 5, ...input,
  }, 'camp', NOW);
  assert.ok(result.ok, JSON.stringify(result));
  const campaign = RatingCampaign.start('camp', result.plan, {}, NOW);
  return openAll(campaign, items, gold);
}

describe('email digests with gold items (state, outside Temporal)', () => {
  it('should make each fresh hand-out gold by next\'s seeded turn at the new rater\'s rate, the rest data items', () => {
    const campaign = running(10, 10, { responses: 40 });
    let gold = 0;
    for (let r = 1; r <= 20; r++) {
      const rater = raterId(r);
      const digest = campaign.assignBatch(rater, 5, NOW, UNTIL);
      assert.equal(digest.length, 5, rater);
      // Hand-out h of a rater with no gold answers is gold exactly when next's hash says so at goldRateNew.
      const expected = digest.map((_, h) => isGoldTurn('camp', rater, h, 0.5));
      assert.deepEqual(digest.map((id) => campaign.quality.gold.has(id)), expected, rater);
      for (const id of digest.filter((i) => campaign.quality.gold.has(i))) assert.match(id, /^camp-item-(1\d)$/, 'numbered after the data items, like one');
      gold += expected.filter(Boolean).length;
      assert.equal(campaign.quality.raters.get(rater)?.handouts, 5, 'every fresh hand-out counted, as next counts them');
      campaign.digestSettled([{ rater, lifecycleIds: digest }]);
    }
    assert.ok(gold > 20 && gold < 80, `about half of 100 hand-outs gold: ${gold}`);
    // Gold items have no quota: they reserve nothing, and the data items' reservations are the rest.
    assert.equal(campaign.countsNow(NOW).reserved, 100 - gold);
  });

  it('should never put a gold item twice in one digest nor hand back one the rater answered; one passed over comes back', () => {
    const campaign = running(5, 3, { goldRateNew: 1 });
    const rater = raterId(1);
    const goldIds = [0, 1, 2].map((g) => goldLifecycleId('camp', 5, g));
    const first = campaign.assignBatch(rater, 5, NOW, UNTIL);
    assert.deepEqual(first.slice(0, 3).sort(), [...goldIds].sort(), 'every hand-out is a gold turn: the three gold items, each once');
    assert.equal(first.length, 5);
    assert.equal(new Set(first).size, 5);
    assert.ok(first.slice(3).every((id) => campaign.open.has(id)), 'then data items, when no gold item is left for this digest');
    campaign.digestSettled([{ rater, lifecycleIds: first }]);
    // They answer one gold item; the other two they pass over.
    campaign.report({ lifecycleId: goldIds[0]!, kind: 'gold', rater, correct: true });
    const second = campaign.assignBatch(rater, 5, NOW + 1000, UNTIL + 1000);
    assert.deepEqual(second.slice(0, 2).sort(), first.slice(3).sort(), 'the data items they hold first');
    assert.deepEqual(second.slice(2, 4).sort(), [goldIds[1], goldIds[2]].sort(), 'the gold items passed over come back');
    assert.ok(!second.includes(goldIds[0]!), 'never the answered one');
    assert.equal(new Set(second).size, 5);
    // A digest that was not delivered lets go of its data reservations; gold held nothing to let go of.
    campaign.digestSettled([]);
    assert.deepEqual([...campaign.open.values()].filter((o) => o.reservations.some((r) => r.rater === rater)).map((o) => o.lifecycleId).sort(), first.slice(3).sort());
  });

  it('should mail an excluded rater nothing more, and a rater in good standing their items', () => {
    const campaign = running(5, 6, { goldRateNew: 1, goldRateLow: 1, goldRate: 1, minGold: 4 });
    const bad = raterId(1);
    const good = raterId(2);
    // An earlier digest reserved them a data item; this one holds it again, then gold at every turn.
    campaign.open.get('camp-item-0')!.reservations.push({ rater: bad, untilMs: UNTIL });
    const digest = campaign.assignBatch(bad, 5, NOW, UNTIL);
    assert.equal(digest[0], 'camp-item-0');
    assert.ok(digest.slice(1).every((id) => campaign.quality.gold.has(id)) && new Set(digest).size === 5, JSON.stringify(digest));
    campaign.digestSettled([{ rater: bad, lifecycleIds: digest }]);
    for (let g = 0; g < 4; g++) campaign.report({ lifecycleId: goldLifecycleId('camp', 5, g), kind: 'gold', rater: bad, correct: false });
    assert.ok(campaign.quality.isExcluded(bad));
    assert.deepEqual(campaign.assignBatch(bad, 5, NOW + 1000, UNTIL), []);
    assert.equal(campaign.countsNow(NOW + 1000).reserved, 0, 'their reservations went back to the pool');
    const theirs = campaign.assignBatch(good, 5, NOW + 1000, UNTIL);
    assert.equal(new Set(theirs).size, 5);
    assert.ok(theirs.every((id) => campaign.quality.gold.has(id)), 'gold at every turn while any is left');
  });

  it('should send the first digest once the gold lifecycles have opened too (or five minutes after the start)', () => {
    const result = validateCampaignInput({ items: [item(0)], gold: [goldItem(0), goldItem(1)], channel: 'email:@raters' }, 'camp', NOW);
    assert.ok(result.ok, JSON.stringify(result));
    const campaign = RatingCampaign.start('camp', result.plan, {}, NOW);
    campaign.quality.goldStarted(0, goldLifecycleId('camp', 1, 0));
    campaign.quality.goldStarted(1, goldLifecycleId('camp', 1, 1));
    const taken = campaign.takeItem();
    campaign.started(taken.index, taken.lifecycleId);
    campaign.report({ lifecycleId: taken.lifecycleId, kind: 'opened' });
    assert.equal(campaign.digestDue(NOW), false, 'no gold item open yet: the digest could hold none');
    campaign.report({ lifecycleId: goldLifecycleId('camp', 1, 0), kind: 'opened' });
    campaign.report({ lifecycleId: goldLifecycleId('camp', 1, 1), kind: 'failed', message: 'could not start' });
    assert.equal(campaign.digestDue(NOW), true, 'every gold lifecycle open or gone');
    const waiting = RatingCampaign.start('camp', result.plan, {}, NOW);
    waiting.quality.goldStarted(0, goldLifecycleId('camp', 1, 0));
    const started = waiting.takeItem();
    waiting.started(started.index, started.lifecycleId);
    waiting.report({ lifecycleId: started.lifecycleId, kind: 'opened' });
    assert.equal(waiting.digestDue(NOW + 5 * 60_000), true, 'not for ever');
  });

  it('should keep no rater records for the digests of a campaign without gold (as before gold on email)', () => {
    const campaign = running(4, 0);
    assert.equal(campaign.assignBatch(raterId(1), 3, NOW, UNTIL).length, 3);
    assert.equal(campaign.assignBatch(raterId(2), 5, NOW, UNTIL).length, 4);
    assert.deepEqual(campaign.quality.records(), []);
    assert.equal(campaign.toCarry().quality, undefined);
  });

  it('should carry a rater\'s hand-out count across continue-as-new: the next digest takes the next turns', () => {
    const campaign = running(12, 8, { responses: 40 });
    const rater = raterId(7);
    const first = campaign.assignBatch(rater, 5, NOW, UNTIL);
    campaign.digestSettled([{ rater, lifecycleIds: first }]);
    const held = first.filter((id) => campaign.open.has(id)).length;
    const resumed = RatingCampaign.resume('camp', JSON.parse(JSON.stringify(campaign.toCarry())));
    const fresh = resumed.assignBatch(rater, 10, NOW + 1000, UNTIL).slice(held);
    assert.equal(fresh.length, 10 - held);
    const turns = fresh.map((_, i) => isGoldTurn('camp', rater, 5 + i, 0.5));
    assert.deepEqual(fresh.map((id) => resumed.quality.gold.has(id)), turns, 'hand-outs from 5 on');
  });
});
