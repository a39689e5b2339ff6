/**
 * A thumbs item offered again (re-ask at its deadline, or topped up for excluded raters' votes), outside
 * Temporal: the new lifecycle takes on each candidate only what that candidate still lacks
 * (`votesByCandidate`), so no candidate ends beyond `responses`, and the outcome's `answers` is what the
 * item's candidates got (workflows/campaign-state.ts startedReask, campaign-child.ts, lifecycle-acceptance.ts).
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { goldLifecycleId } from '../../workflows/campaign-gold';
import { childInput, validateCampaignInput } from '../../workflows/campaign-input';
import { RatingCampaign } from '../../workflows/campaign-state';
import { validateLifecycleInput } from '../../workflows/input';
import { RatingLifecycle } from '../../workflows/lifecycle-state';
import type { CampaignItem, VoteValue } from '../../workflows/types';
import { raterId, vote } from '../helpers/votes';
import { candidate } from '../helpers/campaign-fixtures';

// The campaign reads the workflow clock (Date.now()) too: one reading, fixed for the test.
const NOW = Date.now();
const GOLD = 4;
const item: CampaignItem = { prompt: 'p0', candidates: [{ text: 'left', model: 'a' }, { text: 'right', model: 'b' }] };
const IDS = ['c1', 'c2'];

/** A thumbs campaign of one open item, responses 3, with gold lifecycles to score raters by (no gold hand-outs). */
function running(input: Record<string, unknown> = {}): RatingCampaign {
  const result = validateCampaignInput({
    items: [item], task: 'thumbs', responses: 3, reservation: '1m', itemDeadline: '1h', deadline: '7d',
    gold: Array.from({ length: GOLD }, (_, g) => ({ prompt: `gold ${g}`, candidates: [{ text: `gold ${g}`, model: 'a' }], answer: 'up', explanation: 'x' })),
    goldRateNew: 0, goldRate: 0, goldRateLow: 0, minGold: 4, ...input,
  }, 'camp', NOW);
  assert.ok(result.ok, JSON.stringify(result));
  const campaign = RatingCampaign.start('camp', result.plan, {}, NOW);
  for (let g = 0; g < GOLD; g++) campaign.quality.goldStarted(g, goldLifecycleId('camp', 1, g));
  const taken = campaign.takeItem();
  campaign.started(taken.index, taken.lifecycleId);
  campaign.report({ lifecycleId: taken.lifecycleId, kind: 'opened' });
  return campaign;
}

/**
 * The item's lifecycle, as the campaign would start it with `quota` and `votesByCandidate`: every vote it
 * takes is reported to the campaign (as ratingLifecycle's campaign child does).
 */
function lifecycle(campaign: RatingCampaign, lifecycleId: string, quota: number): RatingLifecycle {
  const input = childInput(campaign.plan, item, NOW + 3_600_000, quota, campaign.open.get(lifecycleId)?.votesByCandidate);
  const planned = validateLifecycleInput(input, NOW);
  assert.ok(planned.ok, JSON.stringify(planned));
  const child = RatingLifecycle.start(lifecycleId, planned.plan, {}, NOW);
  child.openVoting(IDS.map(candidate), []);
  child.campaignChild = {
    onAnswer: (rater, progress, seq, choice) => campaign.report({ lifecycleId, kind: 'answer', rater, progress, seq, choice }),
  };
  return child;
}

/** Hands the item to the rater and casts their vote: undefined when taken, else the refusal's type. */
function cast(child: RatingLifecycle, candidateId: string, rater: number, value: VoteValue = 'up'): string | undefined {
  child.handedTo.add(raterId(rater));
  const request = vote(candidateId, value, rater);
  try {
    child.validateVote(request);
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure);
    return err.type ?? 'untyped';
  }
  child.recordVote(request);
  return undefined;
}

const votesOf = (child: RatingLifecycle) => child.tally.tallies().map((t) => t.votes);
const closeReport = (campaign: RatingCampaign, child: RatingLifecycle, closeReason: 'quorum' | 'deadline') => campaign.report({
  lifecycleId: child.lifecycleId, kind: 'closed', closeReason, progress: child.progress(), votesAccepted: child.eventsAccepted,
});

describe('a thumbs item offered again (state, outside Temporal)', () => {
  it('should re-ask each candidate for what it lacks only: A at its three votes takes none, B its two, and the outcome says three', () => {
    const campaign = running({ reask: 1 });
    const first = lifecycle(campaign, 'camp-item-0', 3);
    for (const r of [1, 2, 3]) assert.equal(cast(first, 'c1', r), undefined);
    assert.equal(cast(first, 'c2', 1, 'down'), undefined);
    assert.deepEqual(votesOf(first), [3, 1]);
    closeReport(campaign, first, 'deadline');
    assert.deepEqual(campaign.reasks.map((r) => [r.attempt, r.earlier]), [[1, 1]]);

    const quota = campaign.startedReask(campaign.reasks.shift()!, 'camp-item-0-r1');
    assert.equal(quota, 2, 'B lacks two');
    assert.deepEqual(campaign.open.get('camp-item-0-r1')!.votesByCandidate, [0, 2]);
    const again = lifecycle(campaign, 'camp-item-0-r1', quota);
    campaign.report({ lifecycleId: again.lifecycleId, kind: 'opened' });
    assert.equal(cast(again, 'c1', 4), 'lifecycle_full', 'A has its three votes');
    assert.equal(cast(again, 'c2', 4), undefined);
    assert.equal(again.stopReason(), undefined);
    assert.equal(cast(again, 'c1', 5, 'down'), 'lifecycle_full');
    assert.equal(cast(again, 'c2', 5), undefined);
    assert.deepEqual(votesOf(again), [0, 2]);
    assert.equal(again.stopReason(), 'quorum', 'every candidate has its quota');
    assert.equal(again.progress(), 2);
    closeReport(campaign, again, 'quorum');
    const [outcome] = campaign.outcomes;
    assert.deepEqual([outcome?.end, outcome?.answers, outcome?.attempts], ['quorum', 3, 2], 'A 3 and B 3: three votes on each');
    assert.equal(campaign.counts.answered, 1);
  });

  it('should say truthfully what a re-ask got when it ends short again: the fewest counted votes of a candidate', () => {
    const campaign = running({ reask: 1 });
    const first = lifecycle(campaign, 'camp-item-0', 3);
    for (const r of [1, 2, 3]) cast(first, 'c1', r);
    closeReport(campaign, first, 'deadline');
    const again = lifecycle(campaign, 'camp-item-0-r1', campaign.startedReask(campaign.reasks.shift()!, 'camp-item-0-r1'));
    assert.deepEqual(campaign.open.get(again.lifecycleId)!.votesByCandidate, [0, 3]);
    assert.equal(cast(again, 'c2', 4), undefined);
    assert.equal(cast(again, 'c2', 5), undefined);
    assert.equal(campaign.countsNow(NOW).answers, 2);
    closeReport(campaign, again, 'deadline');
    assert.deepEqual(campaign.outcomes.map((o) => [o.end, o.answers]), [['insufficient', 2]], 'A 3, B 2');
  });

  it('should top up only the candidate an excluded rater\'s vote was counted on', () => {
    const campaign = running();
    const first = lifecycle(campaign, 'camp-item-0', 3);
    // The bad rater (1) votes on A only; A and B have three votes each, so the lifecycle closes at its quota.
    for (const r of [1, 2, 3]) cast(first, 'c1', r);
    for (const r of [2, 3, 4]) cast(first, 'c2', r);
    for (let g = 0; g < GOLD; g++) campaign.report({ lifecycleId: goldLifecycleId('camp', 1, g), kind: 'gold', rater: raterId(1), correct: false });
    assert.equal(campaign.quality.raters.get(raterId(1))?.status, 'excluded');
    assert.equal(first.stopReason(), 'quorum');
    closeReport(campaign, first, 'quorum');
    assert.deepEqual(campaign.reasks.map((r) => [r.attempt, r.topUps]), [[1, 1]]);

    const quota = campaign.startedReask(campaign.reasks.shift()!, 'camp-item-0-r1');
    assert.equal(quota, 1);
    assert.deepEqual(campaign.open.get('camp-item-0-r1')!.votesByCandidate, [1, 0], 'A lacks one counted vote, B none');
    const again = lifecycle(campaign, 'camp-item-0-r1', quota);
    assert.equal(cast(again, 'c2', 5), 'lifecycle_full', 'B has its three');
    assert.equal(cast(again, 'c1', 5), undefined);
    assert.equal(again.stopReason(), 'quorum');
    closeReport(campaign, again, 'quorum');
    assert.deepEqual(campaign.outcomes.map((o) => [o.end, o.answers, o.excludedAnswers, o.attempts]), [['quorum', 3, 1, 2]]);
  });

  it('should refuse votesByCandidate outside a campaign\'s thumbs items, and a largest other than votesPerCandidate', () => {
    const errorsOf = (input: Record<string, unknown>) => {
      const result = validateLifecycleInput({ prompt: 'p', candidates: [{ text: 'x', model: 'a' }, { text: 'y', model: 'b' }], ...input }, NOW);
      return result.ok ? [] : result.errors;
    };
    const child = { campaign: 'camp', delivery: 'assigned' };
    const only = 'votesByCandidate: only for a campaign\'s thumbs items (with "campaign", "delivery": "assigned" and "votesPerCandidate")';
    assert.deepEqual(errorsOf({ ...child, votesPerCandidate: 2, votesByCandidate: [0, 2] }), []);
    assert.deepEqual(errorsOf({ votesPerCandidate: 2, votesByCandidate: [0, 2] }), [only]);
    assert.deepEqual(errorsOf({ campaign: 'camp', votesPerCandidate: 2, votesByCandidate: [0, 2] }), [only], 'a label anyone can set is not a campaign item');
    assert.deepEqual(errorsOf({ ...child, votesPerCandidate: 3, votesByCandidate: [0, 2] }), ['votesByCandidate: its largest must be votesPerCandidate']);
    assert.deepEqual(errorsOf({ ...child, votesPerCandidate: 2, votesByCandidate: [-1, 2] }), ['votesByCandidate: must be a list of 1 to 8 integers from 0 to 10000, by candidate']);
  });
});
