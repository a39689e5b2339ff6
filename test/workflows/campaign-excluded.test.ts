/**
 * An excluded rater's answers in a campaign (issue 15: "their answers are kept and flagged, excluded from
 * results"), outside Temporal (workflows/campaign-state.ts, campaign-counted.ts): they fill no item's
 * quota (an item that closed with some among them is offered again for the shortfall, to raters who never
 * answered it), weigh nothing for early stopping, also those given before the exclusion, and the outcome
 * says what counted and what was the excluded raters'. Across continue-as-new too.
 */
import assert from 'node:assert/strict';
import { goldLifecycleId } from '../../workflows/campaign-gold';
import { validateCampaignInput } from '../../workflows/campaign-input';
import { RatingCampaign, type CampaignCarry } from '../../workflows/campaign-state';
import type { CampaignItem, CampaignPlan } from '../../workflows/types';
import { raterId } from '../helpers/votes';

const NOW = Date.now();
const ITEMS = 3;
const GOLD = 4;
const item = (n: number): CampaignItem => ({ prompt: `p${n}`, candidates: [{ text: `left ${n}`, model: 'a' }, { text: `right ${n}`, model: 'b' }] });
const goldItem = (n: number) => ({ ...item(100 + n), answer: 'first' as const, explanation: `gold ${n}` });

const BAD = raterId(1);
const BAD2 = raterId(2);
const good = (n: number) => raterId(10 + n);

function plan(input: Record<string, unknown>, items: number): CampaignPlan {
  const result = validateCampaignInput({
    items: Array.from({ length: items }, (_, i) => item(i)), gold: Array.from({ length: GOLD }, (_, i) => goldItem(i)), responses: 3, reservation: '1m',
    // No gold hand-outs: `next` hands data items only, and raters are scored by the gold reports the tests send.
    goldRateNew: 0, goldRate: 0, goldRateLow: 0, minGold: 4, ...input,
  }, 'camp', NOW);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

/** A campaign whose `items` data items and gold items are all open and published. */
function running(input: Record<string, unknown> = {}, items = ITEMS): RatingCampaign {
  const campaign = RatingCampaign.start('camp', plan(input, items), {}, NOW);
  for (let g = 0; g < GOLD; g++) {
    campaign.quality.goldStarted(g, goldLifecycleId('camp', items, g));
    campaign.report({ lifecycleId: goldLifecycleId('camp', items, g), kind: 'opened' });
  }
  for (let i = 0; i < items; i++) {
    const taken = campaign.takeItem();
    campaign.started(taken.index, taken.lifecycleId);
    campaign.report({ lifecycleId: taken.lifecycleId, kind: 'opened' });
  }
  return campaign;
}

/** Four wrong gold answers: below minScore after minGold, the rater is excluded. */
function exclude(campaign: RatingCampaign, rater: string): void {
  for (let g = 0; g < GOLD; g++) campaign.report({ lifecycleId: goldLifecycleId('camp', campaign.plan.itemCount, g), kind: 'gold', rater, correct: false });
  assert.equal(campaign.quality.raters.get(rater)?.status, 'excluded');
}

type Choice = 'first' | 'second' | 'tie' | 'withdrawn';
const answer = (campaign: RatingCampaign, lifecycleId: string, rater: string, seq: number, progress: number, choice: Choice = 'first') => campaign.report({
  lifecycleId, kind: 'answer', rater, progress, seq, choice: { task: 'compare', answer: choice },
});
const closed = (campaign: RatingCampaign, lifecycleId: string, progress: number, closeReason: 'quorum' | 'deadline' | 'closed' = 'quorum') => campaign.report({
  lifecycleId, kind: 'closed', closeReason, progress, votesAccepted: progress,
});
const resumed = (campaign: RatingCampaign): RatingCampaign => RatingCampaign.resume('camp', JSON.parse(JSON.stringify(campaign.toCarry())) as CampaignCarry);
const handedTo = (campaign: RatingCampaign, rater: string): string | undefined => {
  const a = campaign.next({ rater }, NOW);
  return a.assigned ? a.lifecycleId : undefined;
};
const outcome = (campaign: RatingCampaign, n: number) => {
  const o = campaign.outcomes.find((x) => x.item === n);
  return o && { end: o.end, answers: o.answers, excluded: o.excludedAnswers, raters: o.raters, attempts: o.attempts };
};

describe('a campaign\'s excluded raters\' answers (state, outside Temporal)', () => {
  it('should fill no quota: an item filled with an excluded rater\'s answer is offered again for the shortfall, whatever `reask` says', () => {
    const campaign = running({}, 1);
    assert.equal(campaign.plan.reask, 0);
    answer(campaign, 'camp-item-0', BAD, 1, 1);
    answer(campaign, 'camp-item-0', good(1), 2, 2);
    exclude(campaign, BAD);
    // Room for one more in the lifecycle (its quota counts every standing answer): one rater gets it, no more.
    assert.equal(handedTo(campaign, good(2)), 'camp-item-0');
    assert.notEqual(handedTo(campaign, good(3)), 'camp-item-0');
    answer(campaign, 'camp-item-0', good(2), 3, 3);
    closed(campaign, 'camp-item-0', 3);
    assert.deepEqual(campaign.outcomes, [], 'two counted answers of three: not ended');
    assert.deepEqual(campaign.reasks.map((r) => [r.item, r.attempt, r.topUps]), [[0, 1, 1]]);
    assert.deepEqual(campaign.countsNow(NOW).answers, 2, 'counted answers only');

    const quota = campaign.startedReask(campaign.reasks.shift()!, 'camp-item-0-r1');
    assert.equal(quota, 1, 'the new lifecycle asks for the one answer the item lacks');
    campaign.report({ lifecycleId: 'camp-item-0-r1', kind: 'opened' });
    // Never to a rater who answered it in any attempt, nor to the excluded one.
    for (const r of [good(1), good(2)]) assert.notEqual(handedTo(campaign, r), 'camp-item-0-r1');
    assert.equal(campaign.next({ rater: BAD }, NOW).assigned, false);
    assert.equal(handedTo(campaign, good(4)), 'camp-item-0-r1');
    answer(campaign, 'camp-item-0-r1', good(4), 1, 1);
    closed(campaign, 'camp-item-0-r1', 1);
    assert.deepEqual(outcome(campaign, 0), { end: 'quorum', answers: 3, excluded: 1, raters: 4, attempts: 2 });
    assert.equal(campaign.counts.answered, 1, 'answered in full: three counted answers');
  });

  it('should top up an item whose close report comes after the exclusion, and leave an item that ended before it as it ended', () => {
    const campaign = running();
    for (const [seq, rater] of [BAD, good(1), good(2)].entries()) answer(campaign, 'camp-item-1', rater, seq + 1, seq + 1);
    for (const [seq, rater] of [BAD, good(1), good(2)].entries()) answer(campaign, 'camp-item-2', rater, seq + 1, seq + 1);
    // Item 1 ended (the campaign has its outcome) while the rater stood well; item 2's lifecycle closed, its report still on its way.
    closed(campaign, 'camp-item-1', 3);
    exclude(campaign, BAD);
    closed(campaign, 'camp-item-2', 3);
    assert.deepEqual(outcome(campaign, 1), { end: 'quorum', answers: 3, excluded: undefined, raters: 3, attempts: 1 }, 'ended before: not reopened, not recounted');
    assert.equal(outcome(campaign, 2), undefined);
    assert.deepEqual(campaign.reasks.map((r) => [r.item, r.attempt]), [[2, 1]]);
    // A repeated close report of item 1 (or of item 2's old lifecycle) counts nothing.
    closed(campaign, 'camp-item-1', 3);
    closed(campaign, 'camp-item-2', 3);
    assert.deepEqual(campaign.outcomes.map((o) => o.item), [1]);
    assert.deepEqual(campaign.reasks.map((r) => r.item), [2]);
  });

  it('should keep what it knows across continue-as-new: answers given in one run, the exclusion in the next, the top-up in a third', () => {
    let campaign = running({}, 1);
    answer(campaign, 'camp-item-0', BAD, 1, 1);
    answer(campaign, 'camp-item-0', good(1), 2, 2);
    campaign = resumed(campaign);
    exclude(campaign, BAD);
    answer(campaign, 'camp-item-0', good(2), 3, 3);
    closed(campaign, 'camp-item-0', 3);
    campaign = resumed(campaign);
    assert.deepEqual(campaign.reasks.map((r) => [r.item, r.attempt, r.topUps, r.earlier]), [[0, 1, 1, 3]]);
    assert.equal(campaign.countsNow(NOW).answers, 2);
    assert.equal(campaign.startedReask(campaign.reasks.shift()!, 'camp-item-0-r1'), 1);
    campaign = resumed(campaign);
    campaign.report({ lifecycleId: 'camp-item-0-r1', kind: 'opened' });
    assert.equal(handedTo(campaign, good(3)), 'camp-item-0-r1');
    assert.notEqual(handedTo(campaign, good(4)), 'camp-item-0-r1', 'the re-ask\'s quota of one is carried');
    answer(campaign, 'camp-item-0-r1', good(3), 1, 1);
    closed(campaign, 'camp-item-0-r1', 1);
    assert.deepEqual(outcome(campaign, 0), { end: 'quorum', answers: 3, excluded: 1, raters: 4, attempts: 2 });
  });

  it('should count none of an item whose every answer is an excluded rater\'s, and end it insufficient with them said when no re-ask can start', () => {
    const campaign = running({ responses: 2 });
    answer(campaign, 'camp-item-0', BAD, 1, 1);
    answer(campaign, 'camp-item-0', BAD2, 2, 2);
    exclude(campaign, BAD);
    exclude(campaign, BAD2);
    closed(campaign, 'camp-item-0', 2);
    assert.deepEqual(campaign.reasks.map((r) => [r.item, r.earlier]), [[0, 2]]);
    assert.equal(campaign.countsNow(NOW).answers, 0);
    campaign.cancelReason = 'enough';
    campaign.dropReasks();
    assert.deepEqual(outcome(campaign, 0), { end: 'insufficient', answers: 0, excluded: 2, raters: 2, attempts: 1 });
    assert.equal(campaign.counts.answered ?? 0, 0, 'not answered in full');

    // Open, with no re-ask possible when it closes (cancelled): insufficient, and why.
    const other = running({ responses: 2 });
    answer(other, 'camp-item-0', BAD, 1, 1);
    answer(other, 'camp-item-0', good(1), 2, 2);
    exclude(other, BAD);
    other.cancelReason = 'enough';
    closed(other, 'camp-item-0', 2);
    assert.deepEqual(outcome(other, 0), { end: 'insufficient', answers: 1, excluded: 1, raters: 2, attempts: 1 });
    assert.equal(other.outcomes[0]?.message, '1 of its answers are excluded raters\', not counted');
  });

  it('should discount only standing answers: one withdrawn before the exclusion counts nothing, one given again counts as the excluded rater\'s', () => {
    const campaign = running({ responses: 2 });
    // Item 0: the rater withdraws (an older report arriving late changes nothing), the item fills with good raters.
    answer(campaign, 'camp-item-0', BAD, 1, 1);
    answer(campaign, 'camp-item-0', BAD, 2, 0, 'withdrawn');
    answer(campaign, 'camp-item-0', BAD, 1, 1);
    answer(campaign, 'camp-item-0', good(1), 3, 1);
    // Item 1: withdrawn, then given again.
    answer(campaign, 'camp-item-1', BAD, 1, 1, 'second');
    answer(campaign, 'camp-item-1', BAD, 2, 0, 'withdrawn');
    answer(campaign, 'camp-item-1', BAD, 3, 1, 'tie');
    answer(campaign, 'camp-item-1', good(1), 4, 2);
    // Item 2: answered before the exclusion, withdrawn after it.
    answer(campaign, 'camp-item-2', BAD, 1, 1);
    exclude(campaign, BAD);
    assert.equal(campaign.countsNow(NOW).answers, 2, 'item 0: one counted; item 1: one counted of two standing; item 2: none');
    answer(campaign, 'camp-item-2', BAD, 2, 0, 'withdrawn');
    assert.equal(campaign.countsNow(NOW).answers, 2, 'withdrawn: nothing to discount, nothing counted either');
    answer(campaign, 'camp-item-0', good(2), 4, 2);
    answer(campaign, 'camp-item-2', good(1), 3, 1);
    answer(campaign, 'camp-item-2', good(2), 4, 2);
    for (const n of [0, 1, 2]) closed(campaign, `camp-item-${n}`, 2);
    assert.deepEqual(outcome(campaign, 0), { end: 'quorum', answers: 2, excluded: undefined, raters: 3, attempts: 1 });
    assert.deepEqual(outcome(campaign, 2), { end: 'quorum', answers: 2, excluded: undefined, raters: 3, attempts: 1 });
    assert.deepEqual(campaign.reasks.map((r) => [r.item, r.earlier]), [[1, 2]]);
    assert.equal(campaign.startedReask(campaign.reasks.shift()!, 'camp-item-1-r1'), 1, 'item 1 lacks one counted answer');
  });

  it('should weigh no excluded rater\'s answer for early stopping: a clear answer resting on one is taken back, one it kept from being clear closes', () => {
    const campaign = running({ responses: 8, confidence: 0.99 }, 2);
    for (const [seq, rater] of [BAD, good(1), good(2)].entries()) answer(campaign, 'camp-item-0', rater, seq + 1, seq + 1);
    assert.deepEqual(campaign.confidentToClose().map((o) => o.item), [0], 'three agree');
    exclude(campaign, BAD);
    assert.deepEqual(campaign.confidentToClose(), [], 'two good answers: below minResponses 3, before its close went out');
    assert.equal(campaign.open.get('camp-item-0')!.confident, undefined, 'collecting answers again');
    answer(campaign, 'camp-item-0', good(3), 4, 4);
    assert.deepEqual(campaign.confidentToClose().map((o) => o.item), [0], 'three good raters agree');

    // A dissent by a rater excluded later no longer keeps item 1 from being clear.
    for (const [seq, rater] of [good(1), good(2), good(3)].entries()) answer(campaign, 'camp-item-1', rater, seq + 1, seq + 1);
    answer(campaign, 'camp-item-1', good(4), 4, 4, 'second');
    answer(campaign, 'camp-item-1', BAD2, 5, 5, 'second');
    assert.deepEqual(campaign.confidentToClose().map((o) => o.item), [0], 'item 1 split 3–2: not clear');
    exclude(campaign, BAD2);
    assert.deepEqual(campaign.confidentToClose().map((o) => o.item), [0, 1], 're-checked at the exclusion');
  });

  it('should weigh a clear item again at its close report when the exclusion came after its close went out, and collect what it lacks', () => {
    let campaign = running({ responses: 8, confidence: 0.99 });
    for (const [seq, rater] of [BAD, good(1), good(2)].entries()) answer(campaign, 'camp-item-0', rater, seq + 1, seq + 1);
    campaign.confidentToClose()[0]!.confident!.closeSent = true;
    campaign = resumed(campaign);
    exclude(campaign, BAD);
    closed(campaign, 'camp-item-0', 3, 'closed');
    assert.deepEqual(campaign.outcomes, [], 'not confident on two good answers');
    const reask = campaign.reasks.shift()!;
    assert.deepEqual([reask.item, reask.topUps, reask.standing?.length], [0, 1, 3]);
    assert.equal(campaign.startedReask(reask, 'camp-item-0-r1'), 6, 'eight less the two counted');
    campaign.report({ lifecycleId: 'camp-item-0-r1', kind: 'opened' });
    answer(campaign, 'camp-item-0-r1', good(3), 1, 1);
    assert.deepEqual(campaign.confidentToClose().map((o) => o.lifecycleId), ['camp-item-0-r1'], 'earlier good answers and a new one: clear');
    campaign.confidentToClose()[0]!.confident!.closeSent = true;
    closed(campaign, 'camp-item-0-r1', 1, 'closed');
    assert.deepEqual(outcome(campaign, 0), { end: 'confident', answers: 3, excluded: 1, raters: 4, attempts: 2 });
  });
});
