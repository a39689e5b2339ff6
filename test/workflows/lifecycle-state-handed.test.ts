/**
 * Whom an assigned lifecycle was handed to (workflows/lifecycle-handed.ts, lifecycle-acceptance.ts
 * takeHandOut), outside Temporal, with a few thousand raters: a rater leaves the handed set once their
 * answer is in (a gold lifecycle, handed to every rater of its campaign, does not carry them all), those
 * still to answer count in the carry's budget, and a hand-out past the budget is not taken.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { goldChildInput, validateCampaignInput } from '../../workflows/campaign-input';
import { validateLifecycleInput } from '../../workflows/input';
import { takeHandOut } from '../../workflows/lifecycle-acceptance';
import { MAX_VOTING_STATE_BYTES, RatingLifecycle, type LifecycleCarry } from '../../workflows/lifecycle-state';
import type { JudgementChoice, LifecycleInput } from '../../workflows/types';
import { judgement, raterId } from '../helpers/votes';
import { candidate } from '../helpers/campaign-fixtures';

const NOW = Date.now();
const RATERS = 3000;
const item = { prompt: 'p', models: ['a', 'b'], candidates: [{ text: 'left', model: 'a' }, { text: 'right', model: 'b' }] };

/** A compare campaign's gold lifecycle (or its data item's, `gold` false), voting open. */
function lifecycle(gold = true): RatingLifecycle {
  const campaign = validateCampaignInput({ items: [item], gold: [{ ...item, answer: 'first', explanation: 'left is right' }], responses: 5000 }, 'camp', NOW);
  assert.ok(campaign.ok, JSON.stringify(campaign));
  const input: LifecycleInput = gold
    ? goldChildInput(campaign.plan, campaign.plan.gold![0]!, NOW + 3_600_000)
    : { ...goldChildInput(campaign.plan, campaign.plan.gold![0]!, NOW + 3_600_000), gold: undefined };
  const planned = validateLifecycleInput(JSON.parse(JSON.stringify(input)) as LifecycleInput, NOW);
  assert.ok(planned.ok, JSON.stringify(planned));
  assert.equal(planned.plan.delivery, 'assigned');
  const lc = RatingLifecycle.start('camp-item-1', planned.plan, {}, NOW);
  lc.openVoting(['c1', 'c2'].map(candidate), []);
  return lc;
}

/** The judgement's refusal type, or undefined once it is taken. */
function judge(lc: RatingLifecycle, rater: number, choice: JudgementChoice = 'left', key?: string): string | undefined {
  const request = judgement(choice, rater, ['c1', 'c2'], key !== undefined ? { idempotencyKey: key } : {});
  try {
    lc.validateJudgement(request);
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure);
    return err.type ?? 'untyped';
  }
  lc.recordJudgement(request);
  return undefined;
}

const resumed = (lc: RatingLifecycle) => RatingLifecycle.resume(lc.lifecycleId, JSON.parse(JSON.stringify(lc.toCarry())) as LifecycleCarry);

describe('an assigned lifecycle\'s handed raters (state, outside Temporal)', () => {
  it('should let a gold lifecycle\'s raters leave the handed set once their answer is in, and still refuse them as answer_final', () => {
    let lc = lifecycle();
    for (let r = 1; r <= RATERS; r++) {
      takeHandOut(lc, raterId(r));
      assert.equal(judge(lc, r, 'left', `first-${r}`), undefined);
    }
    assert.equal(lc.handedTo.size, 0, 'every rater answered: none pending');
    assert.equal(lc.toCarry().handed, undefined);
    lc = resumed(lc);
    // Handed again (a campaign's late hand-out): not taken, they answered.
    takeHandOut(lc, raterId(7));
    assert.equal(lc.handedTo.size, 0);
    assert.equal(judge(lc, 7, 'right'), 'answer_final', 'its first answer stands, as before');
    assert.equal(judge(lc, 7, 'left', 'first-7'), undefined, 'a repeat delivery is a duplicate');
    assert.equal(lc.eventsAccepted, RATERS);
    assert.equal(judge(lc, RATERS + 1), 'not_assigned', 'never handed it');
  });

  it('should take a changed answer from a data item\'s rater who left the handed set', () => {
    const lc = lifecycle(false);
    takeHandOut(lc, raterId(1));
    assert.equal(judge(lc, 1, 'left'), undefined);
    assert.equal(lc.handedTo.size, 0);
    assert.equal(judge(lc, 1, 'right'), undefined, 'they may change it');
    assert.equal(judge(lc, 1, 'retract'), undefined);
    assert.equal(judge(lc, 1, 'tie'), undefined, 'and give it again');
  });

  it('should count the raters still to answer in the carry\'s budget, across continue-as-new', () => {
    const lc = lifecycle();
    const before = lc.votingStateBytes();
    for (let r = 1; r <= RATERS; r++) takeHandOut(lc, raterId(r));
    const handedBytes = JSON.stringify(lc.toCarry().handed).length;
    assert.ok(Math.abs(lc.votingStateBytes() - before - handedBytes) <= 2, `${lc.votingStateBytes() - before} vs ${handedBytes}`);
    const next = resumed(lc);
    assert.equal(next.votingStateBytes(), lc.votingStateBytes());
    assert.equal(judge(next, 5), undefined, 'handed before the continue-as-new');
    assert.equal(next.handedTo.size, RATERS - 1);
  });

  it('should take no hand-out once the budget is spent, so the carry stays within it', () => {
    const lc = lifecycle();
    let r = 0;
    while (lc.votingStateBytes() < MAX_VOTING_STATE_BYTES) takeHandOut(lc, raterId(++r));
    const full = lc.handedTo.size;
    for (let more = 1; more <= RATERS; more++) takeHandOut(lc, raterId(r + more));
    assert.equal(lc.handedTo.size, full, 'nobody new');
    assert.equal(judge(lc, 1), 'lifecycle_full', 'the budget is spent: no new answer either');
    assert.ok(JSON.stringify(lc.toCarry()).length < MAX_VOTING_STATE_BYTES + 64 * 1024, 'the carry stays within the budget');
  });
});
