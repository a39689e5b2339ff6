/**
 * A campaign's gold items cannot be told from its data items, and a campaign item takes one answer form
 * (outside Temporal): gold lifecycle ids are item ids numbered after the data items, `done` on a gold item
 * leaves it pending (never "seen"), every campaign item's rater view and receipts carry no counts, a
 * campaign item refuses the answer form its campaign does not ask for (wrong_answer_form), and a gold
 * item's first answer is final across forms (answer_final).
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { raterView } from '../../channels/rater-view';
import { pairText, receiptText } from '../../channels/slack/answers';
import { goldLifecycleId } from '../../workflows/campaign-gold';
import { childInput, goldChildInput, itemDeadlineAt, validateCampaignInput } from '../../workflows/campaign-input';
import { RatingCampaign, itemLifecycleId } from '../../workflows/campaign-state';
import { validateLifecycleInput } from '../../workflows/input';
import { RatingLifecycle } from '../../workflows/lifecycle-state';
import type { CampaignGoldItem, CampaignItem, LifecyclePlan } from '../../workflows/types';
import { judgement, raterId, vote } from '../helpers/votes';
import { candidate, openAll } from '../helpers/campaign-fixtures';

const NOW = Date.now();
const item = (n: number): CampaignItem => ({ prompt: `p${n}`, candidates: [{ text: `left ${n}`, model: 'a' }, { text: `right ${n}`, model: 'b' }] });
const goldItem = (n: number): CampaignGoldItem => ({ ...item(100 + n), answer: 'first', explanation: `gold ${n}: the first one is right` });

function lifecyclePlan(input: Record<string, unknown>): LifecyclePlan {
  const result = validateLifecycleInput({ prompt: 'p', ...input }, NOW);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

/** A campaign child (data, or gold with `gold`) open for answers, as ratingLifecycle runs one. */
function child(input: Record<string, unknown>, ids = ['c1', 'c2']): RatingLifecycle {
  const lifecycle = RatingLifecycle.start('camp-item-0', lifecyclePlan(input), {}, NOW);
  lifecycle.openVoting(ids.map(candidate), []);
  lifecycle.campaignChild = { onAnswer: () => {}, onGold: () => {} };
  return lifecycle;
}

const compareItem = { task: 'compare', candidates: [{ text: 'x', model: 'a' }, { text: 'y', model: 'b' }], responses: 3, campaign: 'camp' };
const thumbsItem = { task: 'thumbs', candidates: [{ text: 'x', model: 'a' }, { text: 'y', model: 'b' }], votesPerCandidate: 3, campaign: 'camp' };
const GOLD = { answer: 'first', explanation: 'x is right' };

const refusal = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure);
    return err.type ?? 'untyped';
  }
};

/** A campaign with `items` data items and `gold` gold items, all open, every hand-out gold while one is left. */
function running(items: number, gold: number): RatingCampaign {
  const result = validateCampaignInput({
    items: Array.from({ length: items }, (_, i) => item(i)), gold: Array.from({ length: gold }, (_, i) => goldItem(i)),
    responses: 2, reservation: '1m', itemDeadline: '2h', goldRateNew: 1, goldRateLow: 1, goldRate: 1,
  }, 'camp', NOW);
  assert.ok(result.ok, JSON.stringify(result));
  const campaign = RatingCampaign.start('camp', result.plan, {}, NOW);
  return openAll(campaign, items, gold);
}

describe('a campaign\'s gold items look like its data items', () => {
  it('should give a gold item an item id numbered after the data items, the number next shows', () => {
    const campaign = running(4, 2);
    const answer = campaign.next({ rater: raterId(1) }, NOW);
    assert.ok(answer.assigned && campaign.quality.gold.has(answer.lifecycleId), JSON.stringify(answer));
    assert.equal(answer.lifecycleId, itemLifecycleId('camp', answer.item), 'an item id, by the number shown');
    assert.ok(answer.item >= 4);
    assert.match(answer.lifecycleId, /^camp-item-\d+$/);
    assert.deepEqual([goldLifecycleId('camp', 4, 0), goldLifecycleId('camp', 4, 1)], [itemLifecycleId('camp', 4), itemLifecycleId('camp', 5)]);
  });

  it('should give a gold item the deadline rule of a data item (itemDeadline)', () => {
    const result = validateCampaignInput({ items: [item(0)], gold: [goldItem(0)], responses: 2, itemDeadline: '2h', deadline: '3d' }, 'camp', NOW);
    assert.ok(result.ok, JSON.stringify(result));
    const campaignDeadline = NOW + 3 * 86_400_000;
    const deadline = itemDeadlineAt(result.plan, campaignDeadline, NOW);
    assert.equal(deadline, NOW + 2 * 3_600_000);
    assert.equal(goldChildInput(result.plan, result.plan.gold![0]!, deadline).deadline, childInput(result.plan, result.plan.items![0]!, deadline).deadline);
  });

  it('should keep a gold item pending after done: not seen, not scored, handed again later, then scored', () => {
    const campaign = running(4, 1);
    const rater = raterId(1);
    const gold = campaign.next({ rater }, NOW);
    assert.ok(gold.assigned && campaign.quality.gold.has(gold.lifecycleId));
    const next = campaign.next({ rater, done: gold.lifecycleId }, NOW);
    assert.ok(next.assigned && next.lifecycleId !== gold.lifecycleId, 'the rater moves on, as from a data item');
    const state = campaign.quality.raters.get(rater)!;
    assert.deepEqual([state.seen, state.scored, state.goldAnswered], [[], [], 0], 'passed, not seen and not scored');
    // Later the same gold item comes back, and its answer is scored.
    const later = campaign.next({ rater, done: next.lifecycleId }, NOW);
    assert.ok(later.assigned && later.lifecycleId === gold.lifecycleId, JSON.stringify(later));
    campaign.report({ lifecycleId: gold.lifecycleId, kind: 'gold', rater, correct: false });
    assert.equal(campaign.quality.raters.get(rater)!.goldAnswered, 1);
    const after = campaign.next({ rater, done: gold.lifecycleId }, NOW);
    assert.ok(!after.assigned || after.lifecycleId !== gold.lifecycleId, 'answered: never handed again');
  });

  it('should show raters no counts on any campaign item, in its view and its receipts (web and Slack)', () => {
    const data = child(compareItem);
    const gold = child({ ...compareItem, gold: GOLD });
    for (const lifecycle of [data, gold]) {
      const receipt = lifecycle.recordJudgement(judgement('left', 1));
      assert.deepEqual(receipt.judgements, { byCandidate: { c1: 0, c2: 0 }, tie: 0, bothBad: 0, standing: 0 });
      lifecycle.recordJudgement(judgement('right', 2));
      assert.equal(lifecycle.status().judgements?.standing, 2, 'ops views keep the counts');
      const view = raterView(lifecycle.status());
      assert.deepEqual(view.judgements, { byCandidate: { c1: 0, c2: 0 }, tie: 0, bothBad: 0, standing: 0 });
      assert.equal(view.votesAccepted, 0);
      assert.equal('campaignItem' in view || 'gold' in view, false);
    }
    assert.deepEqual(Object.keys(raterView(gold.status())).sort(), Object.keys(raterView(data.status())).sort(), 'the same shape');
    const thumbs = child(thumbsItem);
    const receipt = thumbs.recordVote(vote('c1', 'up', 1));
    assert.deepEqual([receipt.candidate.up, receipt.candidate.votes], [0, 0]);
    assert.equal(raterView(thumbs.status()).candidates[0]!.tally.up, 0);
    // Slack's answers on a campaign item say nothing of counts.
    assert.equal(pairText('a', { outcome: 'recorded', judgements: { byCandidate: {}, tie: 0, bothBad: 0, standing: 4 } }, false), ':white_check_mark: Recorded your answer: A is better.');
    assert.equal(receiptText({ receipt, value: 'up', label: 'A', counts: false }), ':white_check_mark: Recorded your :+1: on candidate A.');
    // A lifecycle outside campaigns keeps its counts.
    const plain = RatingLifecycle.start('x', lifecyclePlan({ ...compareItem, campaign: undefined }), {}, NOW);
    plain.openVoting([candidate('c1'), candidate('c2')], []);
    assert.equal(plain.recordJudgement(judgement('left', 1)).judgements.standing, 1);
  });
});

describe('a campaign item takes its campaign\'s answer form only', () => {
  it('should refuse a vote on a compare item and a judgement on a thumbs item (wrong_answer_form), gold and data alike', () => {
    assert.equal(refusal(() => child(compareItem).validateVote(vote('c1', 'up', 1))), 'wrong_answer_form');
    assert.equal(refusal(() => child({ ...compareItem, gold: GOLD }).validateVote(vote('c1', 'up', 1))), 'wrong_answer_form');
    assert.equal(refusal(() => child(thumbsItem).validateJudgement(judgement('left', 1))), 'wrong_answer_form');
    // Outside campaigns a compare lifecycle still takes thumbs votes.
    const plain = RatingLifecycle.start('x', lifecyclePlan({ ...compareItem, campaign: undefined }), {}, NOW);
    plain.openVoting([candidate('c1'), candidate('c2')], []);
    assert.equal(refusal(() => plain.validateVote(vote('c1', 'up', 1))), undefined);
  });

  it('should refuse a second answer to a gold item in the other form (answer_final)', () => {
    const gold = child({ ...compareItem, gold: GOLD });
    const first = judgement('left', 1);
    gold.validateJudgement(first);
    assert.deepEqual(gold.recordJudgement(first).gold, { correct: true });
    assert.equal(refusal(() => gold.validateVote(vote('c1', 'down', 1))), 'answer_final');
    assert.equal(refusal(() => gold.validateVote(vote('c2', 'up', 1))), 'answer_final');
    assert.equal(refusal(() => gold.validateJudgement(judgement('right', 1))), 'answer_final');
  });
});
