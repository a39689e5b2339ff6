/**
 * A campaign's child lifecycle outside Temporal (workflows/lifecycle-state.ts with `campaignChild` set):
 * answers that would stand beyond the quota are refused by the validator, changing one's own
 * answer at the quota is not, and every answer that changes what stands is reported with its progress
 * and its choice by candidate.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { validateLifecycleInput } from '../../workflows/input';
import { RatingLifecycle } from '../../workflows/lifecycle-state';
import type { CampaignChoice, LifecyclePlan } from '../../workflows/types';
import { judgement, vote } from '../helpers/votes';
import { candidate } from '../helpers/campaign-fixtures';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function plan(input: Record<string, unknown>): LifecyclePlan {
  const result = validateLifecycleInput({ prompt: 'p', ...input }, NOW);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

function child(input: Record<string, unknown>, reports: Array<[string, number, number]>, ids = ['c1', 'c2']): RatingLifecycle {
  const lifecycle = RatingLifecycle.start('cmp-item-0', plan(input), {}, NOW);
  lifecycle.openVoting(ids.map(candidate), []);
  lifecycle.campaignChild = { onAnswer: (rater, progress, seq) => reports.push([rater, progress, seq]) };
  return lifecycle;
}

const refusal = (fn: () => void) => {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure);
    return err.type;
  }
};

describe('a campaign child lifecycle (state, outside Temporal)', () => {
  const compare = { task: 'compare', models: ['a', 'b'], candidates: [{ text: 'x', model: 'a' }, { text: 'y', model: 'b' }], responses: 2 };

  it('should refuse a new standing judgement at the quota, by the validator, but take changes and withdrawals', () => {
    const reports: Array<[string, number, number]> = [];
    const lifecycle = child(compare, reports);
    for (const n of [1, 2]) {
      const j = judgement('left', n);
      lifecycle.validateJudgement(j);
      lifecycle.recordJudgement(j);
    }
    assert.equal(refusal(() => lifecycle.validateJudgement(judgement('right', 3))), 'lifecycle_full');
    // Signals go through the same validator (recordSignalledJudgement; on the dev server in rating-campaign.test).
    // A rater who stands may change their answer at the quota.
    assert.equal(refusal(() => lifecycle.validateJudgement(judgement('tie', 1))), undefined);
    lifecycle.recordJudgement(judgement('tie', 1));
    // A withdrawal makes room again.
    lifecycle.recordJudgement(judgement('retract', 2));
    assert.equal(refusal(() => lifecycle.validateJudgement(judgement('right', 3))), undefined);
    assert.deepEqual(reports.map(([, progress, seq]) => [progress, seq]), [[1, 1], [2, 2], [2, 3], [1, 4]]);
  });

  it('should cap each candidate of a thumbs item at its votes, and report the fewest standing votes of a candidate', () => {
    const reports: Array<[string, number, number]> = [];
    const lifecycle = child({ model: 'demo:text', candidates: 2, votesPerCandidate: 1 }, reports);
    lifecycle.recordVote(vote('c1', 'up', 1));
    assert.equal(refusal(() => lifecycle.validateVote(vote('c1', 'down', 2))), 'lifecycle_full');
    assert.equal(refusal(() => lifecycle.validateVote(vote('c2', 'down', 2))), undefined);
    assert.equal(refusal(() => lifecycle.validateVote(vote('c1', 'down', 1))), undefined, 'its own vote may change');
    lifecycle.recordVote(vote('c2', 'down', 2));
    assert.deepEqual(reports.map(([, progress]) => progress), [0, 1]);
  });

  it('should report each standing answer by candidate, not by side shown, and nothing for an answer that changes nothing', () => {
    const choices: CampaignChoice[] = [];
    const lifecycle = child({ ...compare, responses: 5 }, []);
    lifecycle.campaignChild = { onAnswer: (_rater, _progress, _seq, choice) => choices.push(choice) };
    const t = Date.parse('2026-03-01T12:05:00Z');
    lifecycle.recordJudgement(judgement('left', 1, ['c2', 'c1'])); // c2 shown left: the second candidate
    lifecycle.recordJudgement(judgement('left', 2, ['c1', 'c2']));
    lifecycle.recordJudgement(judgement('tie', 3, ['c2', 'c1'], { castAt: new Date(t).toISOString() }));
    lifecycle.recordJudgement(judgement('right', 3, ['c2', 'c1'], { castAt: new Date(t - 60_000).toISOString() })); // older: changes nothing
    lifecycle.recordJudgement(judgement('both_bad', 4));
    lifecycle.recordJudgement(judgement('retract', 4));
    assert.deepEqual(choices.map((c) => c.task === 'compare' && c.answer), ['second', 'first', 'tie', 'both_bad', 'withdrawn']);

    const votes: CampaignChoice[] = [];
    const thumbs = child({ model: 'demo:text', candidates: 2, votesPerCandidate: 3 }, []);
    thumbs.campaignChild = { onAnswer: (_rater, _progress, _seq, choice) => votes.push(choice) };
    thumbs.recordVote(vote('c2', 'up', 1));
    thumbs.recordVote(vote('c1', 'down', 1));
    thumbs.recordVote(vote('c2', 'retract', 1));
    assert.deepEqual(votes, [
      { task: 'thumbs', candidate: 1, candidates: 2, answer: 'up' },
      { task: 'thumbs', candidate: 0, candidates: 2, answer: 'down' },
      { task: 'thumbs', candidate: 1, candidates: 2, answer: 'withdrawn' },
    ]);
  });

  it('should number its answer reports from 1, skip answers that change nothing, and go on numbering after continue-as-new', () => {
    const numbers: number[] = [];
    const lifecycle = child({ ...compare, responses: 5 }, []);
    lifecycle.campaignChild = { onAnswer: (_rater, _progress, _seq, _choice, reported) => numbers.push(reported) };
    const t = Date.parse('2026-03-01T12:05:00Z');
    lifecycle.recordJudgement(judgement('left', 1));
    lifecycle.recordJudgement(judgement('tie', 2, ['c1', 'c2'], { castAt: new Date(t).toISOString() }));
    lifecycle.recordJudgement(judgement('right', 2, ['c1', 'c2'], { castAt: new Date(t - 60_000).toISOString() })); // older: no report
    lifecycle.recordJudgement(judgement('right', 1)); // changed: reported
    lifecycle.recordJudgement(judgement('retract', 2));
    assert.deepEqual(numbers, [1, 2, 3, 4]);
    const carry = JSON.parse(JSON.stringify(lifecycle.toCarry()));
    assert.equal(carry.answersReported, 4);
    const resumed = RatingLifecycle.resume('cmp-item-0', carry);
    resumed.campaignChild = { onAnswer: (_rater, _progress, _seq, _choice, reported) => numbers.push(reported) };
    resumed.recordJudgement(judgement('left', 3));
    assert.deepEqual(numbers, [1, 2, 3, 4, 5]);
    // A carry from before the count starts at 1 again (the campaign then waits for nothing it cannot have).
    delete carry.answersReported;
    const old = RatingLifecycle.resume('cmp-item-0', carry);
    old.campaignChild = { onAnswer: (_rater, _progress, _seq, _choice, reported) => numbers.push(reported) };
    old.recordJudgement(judgement('left', 3));
    assert.deepEqual(numbers, [1, 2, 3, 4, 5, 1]);
  });

  it('should not cap a lifecycle no campaign started', () => {
    const lifecycle = RatingLifecycle.start('lc-1', plan(compare), {}, NOW);
    lifecycle.openVoting(['c1', 'c2'].map(candidate), []);
    for (const n of [1, 2]) lifecycle.recordJudgement(judgement('left', n));
    assert.equal(refusal(() => lifecycle.validateJudgement(judgement('right', 3))), undefined);
  });
});
