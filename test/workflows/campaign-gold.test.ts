/**
 * Gold items outside Temporal: the campaign input's gold list and settings (workflows/campaign-input.ts),
 * a gold lifecycle's rules (workflows/lifecycle-state.ts with a gold check: the first answer is final,
 * receipts carry the verdict, no quota or quorum, only scores reported, raters' views without counts),
 * and the campaign's side (workflows/campaign-gold.ts through RatingCampaign): gold mixed into `next`,
 * never a gold item twice, scores, exclusion, records for the ledger and the carry.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { raterView } from '../../channels/rater-view';
import { CampaignQuality, goldLifecycleId, packRater, unpackRater, type RaterState } from '../../workflows/campaign-gold';
import { goldChildInput, validateCampaignInput } from '../../workflows/campaign-input';
import { RatingCampaign } from '../../workflows/campaign-state';
import { validateLifecycleInput } from '../../workflows/input';
import { RatingLifecycle } from '../../workflows/lifecycle-state';
import type { CampaignGoldItem, CampaignItem, CampaignPlan, LifecyclePlan, NextItemAnswer } from '../../workflows/types';
import { judgement, raterId, vote } from '../helpers/votes';
import { candidate, openAll } from '../helpers/campaign-fixtures';

const NOW = Date.now();
const item = (n: number): CampaignItem => ({ prompt: `p${n}`, candidates: [{ text: `left ${n}`, model: 'a' }, { text: `right ${n}`, model: 'b' }] });
const goldItem = (n: number, answer: CampaignGoldItem['answer'] = 'first'): CampaignGoldItem => ({ ...item(100 + n), answer, explanation: `gold ${n}: the ${answer} one is right` });

function plan(input: Record<string, unknown> = {}): CampaignPlan {
  const result = validateCampaignInput({ items: [item(0), item(1), item(2)], responses: 2, reservation: '1m', ...input }, 'camp', NOW);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

/** A campaign with `items` data items and `gold` gold items, all open and published. */
function running(items: number, gold: number, input: Record<string, unknown> = {}): RatingCampaign {
  const campaign = RatingCampaign.start('camp', plan({ items: Array.from({ length: items }, (_, i) => item(i)), gold: Array.from({ length: gold }, (_, i) => goldItem(i)), ...input }), {}, NOW);
  return openAll(campaign, items, gold);
}

function lifecyclePlan(input: Record<string, unknown>): LifecyclePlan {
  const result = validateLifecycleInput({ prompt: 'p', ...input }, NOW);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

const refusal = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure);
    return err.type ?? 'untyped';
  }
};

describe('a campaign\'s gold input', () => {
  it('should take gold inline with the settings\' defaults, and map a gold item to a lifecycle input with its check', () => {
    const p = plan({ gold: [goldItem(0, 'second')] });
    assert.equal(p.goldCount, 1);
    assert.deepEqual(p.quality?.prior, { mean: 0.75, strength: 2 });
    const input = goldChildInput(p, p.gold![0]!, NOW + 60_000);
    assert.deepEqual(input.gold, { answer: 'second', explanation: 'gold 0: the second one is right' });
    assert.equal(input.prompt, 'p100');
    assert.ok(validateLifecycleInput(input, NOW).ok);
  });

  it('should name every bad gold item and setting, nothing planned', () => {
    const result = validateCampaignInput({
      items: [item(0)],
      gold: [goldItem(0), { ...item(1), answer: 'up', explanation: '' }, { ...item(2), answer: 'first' }, { ...goldItem(3), colour: 'red' }],
      goldRate: 2, minGold: 0,
    }, 'camp', NOW);
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    assert.ok(errors.includes('gold[1].answer: must be one of first, second, tie, both_bad for a compare item'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('gold[1].explanation: must be a non-empty text')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('gold[2].explanation:')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('gold[3].colour: unknown gold item field')), errors.join('\n'));
    assert.ok(errors.includes('goldRate: must be a number from 0 to 1'));
    assert.ok(errors.includes('minGold: must be an integer from 1 to 1000'));
    assert.ok(!errors.some((e) => e.startsWith('gold[0]')), errors.join('\n'));
    const both = validateCampaignInput({ items: [item(0)], gold: [goldItem(0)], goldRef: `sha256:${'a'.repeat(64)}` }, 'camp', NOW);
    assert.ok(!both.ok && both.errors.includes('gold, goldRef: give one of them, not both'));
    const count = validateCampaignInput({ items: [item(0)], goldRef: `sha256:${'a'.repeat(64)}` }, 'camp', NOW);
    assert.ok(!count.ok && count.errors.includes('goldCount: required with goldRef, an integer from 1 to 200'));
  });

  it('should refuse a thumbs gold item with more than one candidate, and a compare answer on thumbs', () => {
    const thumbs = { task: 'thumbs', items: [{ prompt: 'x', candidates: [{ text: 't', model: 'm' }] }] };
    const two = validateCampaignInput({ ...thumbs, gold: [{ prompt: 'g', candidates: [{ text: 'a', model: 'm' }, { text: 'b', model: 'm' }], answer: 'up', explanation: 'e' }] }, 'camp', NOW);
    assert.ok(!two.ok && two.errors.some((e) => e.startsWith('gold[0].gold: a thumbs gold item has one candidate')), JSON.stringify(two));
    const wrong = validateCampaignInput({ ...thumbs, gold: [{ prompt: 'g', candidates: [{ text: 'a', model: 'm' }], answer: 'first', explanation: 'e' }] }, 'camp', NOW);
    assert.ok(!wrong.ok && wrong.errors.includes('gold[0].answer: must be one of up, down for a thumbs item'), JSON.stringify(wrong));
    assert.ok(validateCampaignInput({ ...thumbs, gold: [{ prompt: 'g', candidates: [{ text: 'a', model: 'm' }], answer: 'down', explanation: 'e' }] }, 'camp', NOW).ok);
  });
});

describe('a gold lifecycle (state, outside Temporal)', () => {
  const compare = { task: 'compare', candidates: [{ text: 'x', model: 'a' }, { text: 'y', model: 'b' }], responses: 2, gold: { answer: 'first', explanation: 'x is right' } };

  function goldChild(input: Record<string, unknown> = compare, ids = ['c1', 'c2']) {
    const answers: string[] = [];
    const scores: Array<[string, boolean]> = [];
    const lifecycle = RatingLifecycle.start('camp-gold-0', lifecyclePlan(input), {}, NOW);
    lifecycle.openVoting(ids.map(candidate), []);
    lifecycle.campaignChild = { onAnswer: (rater) => answers.push(rater), onGold: (rater, correct) => scores.push([rater, correct]) };
    return { lifecycle, answers, scores };
  }

  it('should keep a rater\'s first answer: a changed or withdrawn one is refused (answer_final), a repeat of it is a duplicate', () => {
    const { lifecycle, scores } = goldChild();
    const first = judgement('left', 1, ['c2', 'c1']);
    lifecycle.validateJudgement(first);
    assert.deepEqual(lifecycle.recordJudgement(first).gold, { correct: false, explanation: 'x is right' });
    assert.equal(refusal(() => lifecycle.validateJudgement(judgement('right', 1, ['c2', 'c1']))), 'answer_final');
    assert.equal(refusal(() => lifecycle.validateJudgement(judgement('retract', 1))), 'answer_final');
    assert.equal(refusal(() => lifecycle.validateJudgement(first)), undefined, 'the same delivery again');
    assert.equal(lifecycle.recordJudgement(first).outcome, 'duplicate');
    // Signals go through the same validator (recordSignalledJudgement): refused and counted, never recorded.
    assert.deepEqual(scores, [[raterId(1), false]], 'scored once, the first answer');
    // Without a gold check the same change is taken.
    const plain = RatingLifecycle.start('x', lifecyclePlan({ ...compare, gold: undefined }), {}, NOW);
    plain.openVoting([candidate('c1'), candidate('c2')], []);
    plain.recordJudgement(judgement('right', 1));
    assert.equal(refusal(() => plain.validateJudgement(judgement('left', 1))), undefined);
  });

  it('should take every rater (no quota, no quorum), report scores and no data answers, and carry the verdict on a right answer without explanation', () => {
    const { lifecycle, answers, scores } = goldChild();
    for (let n = 1; n <= 5; n++) {
      const j = judgement(n % 2 === 0 ? 'tie' : 'left', n);
      lifecycle.validateJudgement(j);
      const receipt = lifecycle.recordJudgement(j);
      assert.deepEqual(receipt.gold, n % 2 === 0 ? { correct: false, explanation: 'x is right' } : { correct: true });
    }
    assert.equal(lifecycle.stopReason(), undefined, 'five answers on responses 2: still open');
    assert.deepEqual(answers, []);
    assert.deepEqual(scores.map(([, c]) => c), [true, false, true, false, true]);
    assert.equal(lifecycle.status().gold, true);
  });

  it('should show raters a gold lifecycle without its counts, and the status without the flag', () => {
    const { lifecycle } = goldChild();
    for (let n = 1; n <= 3; n++) lifecycle.recordJudgement(judgement('left', n));
    const status = lifecycle.status();
    assert.equal(status.judgements?.standing, 3);
    const view = raterView(status);
    assert.equal('gold' in view, false);
    assert.deepEqual(view.judgements, { byCandidate: { c1: 0, c2: 0 }, tie: 0, bothBad: 0, standing: 0 });
    assert.equal(view.votesAccepted, 0);
  });

  it('should answer a withdrawal before any answer as a data item does (unchanged), keep nothing, and still score the first answer', () => {
    // A refusal there (answer_final) told gold from data with one click that records nothing (an email
    // digest's withdraw link, or the API): gold and data must answer it alike.
    const { lifecycle, scores } = goldChild();
    const plain = RatingLifecycle.start('camp-item-0', lifecyclePlan({ ...compare, gold: undefined }), {}, NOW);
    plain.openVoting([candidate('c1'), candidate('c2')], []);
    plain.campaignChild = { onAnswer: () => undefined }; // a data item of the same campaign
    for (const item of [lifecycle, plain]) {
      const retract = judgement('retract', 3);
      assert.equal(refusal(() => item.validateJudgement(retract)), undefined);
      assert.equal(item.recordJudgement(retract).outcome, 'unchanged');
      assert.equal(refusal(() => item.validateVote(vote('c1', 'retract', 3))), 'wrong_answer_form', 'the other form: refused alike');
    }
    assert.equal(lifecycle.judgements.hasJudged(raterId(3)), false, 'nothing kept on gold: no first answer yet');
    const first = judgement('left', 3);
    assert.equal(refusal(() => lifecycle.validateJudgement(first)), undefined);
    assert.deepEqual(lifecycle.recordJudgement(first).gold, { correct: true });
    assert.deepEqual(scores, [[raterId(3), true]]);
    assert.equal(refusal(() => lifecycle.validateJudgement(judgement('retract', 3))), 'answer_final', 'once answered, a withdrawal is refused');
    // Thumbs gold alike.
    const thumbs = goldChild({ candidates: [{ text: 'x', model: 'a' }], gold: { answer: 'down', explanation: 'blurry' } }, ['c1']);
    assert.equal(refusal(() => thumbs.lifecycle.validateVote(vote('c1', 'retract', 4))), undefined);
    assert.equal(thumbs.lifecycle.recordVote(vote('c1', 'retract', 4)).outcome, 'unchanged');
    assert.deepEqual(thumbs.lifecycle.recordVote(vote('c1', 'down', 4)).gold, { correct: true });
  });

  it('should score a thumbs gold item by its one candidate\'s vote, first vote final', () => {
    const { lifecycle, scores } = goldChild({ candidates: [{ text: 'x', model: 'a' }], gold: { answer: 'down', explanation: 'blurry' } }, ['c1']);
    const v = vote('c1', 'up', 1);
    lifecycle.validateVote(v);
    assert.deepEqual(lifecycle.recordVote(v).gold, { correct: false, explanation: 'blurry' });
    assert.equal(refusal(() => lifecycle.validateVote(vote('c1', 'down', 1))), 'answer_final');
    assert.equal(refusal(() => lifecycle.validateVote(vote('c1', 'retract', 1))), 'answer_final');
    assert.deepEqual(lifecycle.recordVote(vote('c1', 'down', 2)).gold, { correct: true });
    assert.deepEqual(scores, [[raterId(1), false], [raterId(2), true]]);
  });
});

describe('a campaign with gold items (state, outside Temporal)', () => {
  const handOut = (campaign: RatingCampaign, rater: string, done?: string): NextItemAnswer => campaign.next({ rater, ...(done ? { done } : {}) }, NOW);

  it('should mix gold in at the new rate, never hand a rater a gold item they answered again, and give data items when gold runs out', () => {
    const campaign = running(40, 3, { responses: 40 });
    for (let r = 1; r <= 30; r++) {
      const rater = raterId(r);
      const seen = new Set<string>();
      let gold = 0;
      let done: string | undefined;
      for (let h = 0; h < 12; h++) {
        const answer = handOut(campaign, rater, done);
        assert.ok(answer.assigned, JSON.stringify(answer));
        assert.equal(answer.again, false);
        assert.ok(!seen.has(answer.lifecycleId), `${rater} got ${answer.lifecycleId} twice`);
        seen.add(answer.lifecycleId);
        if (campaign.quality.gold.has(answer.lifecycleId)) {
          gold += 1;
          assert.ok(answer.item >= 40, 'numbered after the data items');
          // The rater answers it: only an answered gold item is never handed back (a passed one may be).
          campaign.report({ lifecycleId: answer.lifecycleId, kind: 'gold', rater, correct: true });
        }
        done = answer.lifecycleId;
      }
      assert.ok(gold <= 3, `${rater}: ${gold} gold items of 3`);
    }
    const counts = campaign.status(NOW);
    assert.equal(counts.gold?.items, 3);
    assert.equal(counts.counts.open, 40, 'gold lifecycles are not items');
  });

  it('should return a held gold item again, and not after the rater passes it', () => {
    const campaign = running(5, 2, { goldRateNew: 1 });
    const first = handOut(campaign, raterId(1));
    assert.ok(first.assigned && campaign.quality.gold.has(first.lifecycleId));
    const again = handOut(campaign, raterId(1));
    assert.ok(again.assigned && again.again && again.lifecycleId === first.lifecycleId);
    const other = handOut(campaign, raterId(1), first.lifecycleId);
    assert.ok(other.assigned && !other.again && other.lifecycleId !== first.lifecycleId);
  });

  it('should exclude a rater who fails gold after minGold answers: next refuses them, reservations go back, records go to the ledger once', () => {
    const campaign = running(5, 6, { goldRateNew: 1, goldRateLow: 1, goldRate: 1, minGold: 4, responses: 3 });
    const bad = raterId(1);
    const good = raterId(2);
    // Both answer a data item first (a reservation, and a data answer on their record).
    campaign.quality.handedOut(bad);
    campaign.open.get('camp-item-0')!.reservations.push({ rater: bad, untilMs: NOW + 60_000 });
    campaign.report({ lifecycleId: 'camp-item-1', kind: 'answer', rater: bad, progress: 1, seq: 1 });
    campaign.report({ lifecycleId: 'camp-item-1', kind: 'answer', rater: good, progress: 2, seq: 2 });
    for (let g = 0; g < 4; g++) {
      assert.ok(handOut(campaign, bad).assigned);
      campaign.report({ lifecycleId: goldLifecycleId('camp', 5, g), kind: 'gold', rater: bad, correct: g === 0 });
      campaign.report({ lifecycleId: goldLifecycleId('camp', 5, g), kind: 'gold', rater: good, correct: true });
    }
    // A repeated report is not scored twice.
    campaign.report({ lifecycleId: goldLifecycleId('camp', 5, 3), kind: 'gold', rater: good, correct: true });
    const answer = handOut(campaign, bad);
    assert.equal(answer.assigned, false);
    assert.ok(!answer.assigned && answer.reason === 'excluded' && answer.message?.includes('gold accuracy 1 of 4'), JSON.stringify(answer));
    assert.deepEqual(campaign.open.get('camp-item-0')!.reservations, [], 'their reservation went back to the pool');
    assert.ok(handOut(campaign, good).assigned);
    assert.equal(campaign.scoreOf(good), 5.5 / 6);
    assert.equal(campaign.scoreOf(bad), 2.5 / 6);
    assert.equal(campaign.scoreOf(raterId(9)), 0.75, 'no record: the prior mean');

    const records = campaign.quality.takeChanged();
    const badRecord = records.find((r) => r.rater === bad);
    assert.deepEqual({ ...badRecord, excludedAt: typeof badRecord?.excludedAt }, {
      rater: bad, answers: 1, goldAnswered: 4, goldCorrect: 1, score: 2.5 / 6, status: 'excluded',
      reason: 'gold accuracy 1 of 4 (score 0.42 with the prior) below 0.70 after 4 gold answers', excludedAt: 'string',
    });
    assert.deepEqual(records.find((r) => r.rater === good), { rater: good, answers: 1, goldAnswered: 4, goldCorrect: 4, score: 5.5 / 6, status: 'active' });
    assert.equal(campaign.quality.takeChanged().length, 0, 'taken: the next commit sends only what changes');
    const status = campaign.status(NOW);
    assert.deepEqual([status.raters, status.gold], [{ total: 2, excluded: 1 }, { items: 6, answers: 8, correct: 5 }]);
    assert.equal(status.counts.answers, 1, 'gold answers are not data, and the excluded rater\'s data answer counts no more');

    // The carry keeps it all: the excluded rater stays excluded in the next run.
    const resumed = RatingCampaign.resume('camp', JSON.parse(JSON.stringify(campaign.toCarry())));
    assert.equal(resumed.next({ rater: bad }, NOW).assigned, false);
    assert.deepEqual(resumed.status(NOW).raters, { total: 2, excluded: 1 });
    assert.deepEqual(resumed.quality.records(), campaign.quality.records());
  });

  it('should carry nothing extra for a campaign no rater has asked of yet (the carry of before gold)', () => {
    const campaign = running(2, 0);
    assert.equal('quality' in campaign.toCarry(), false);
    const answer = handOut(campaign, raterId(1));
    assert.ok(answer.assigned && answer.lifecycleId.startsWith('camp-item-'), 'no gold: data items only');
  });

  it('should carry raters packed: every field back as it was, and 10,000 raters well inside a continue-as-new payload', () => {
    const settings = plan({ gold: [goldItem(0)] }).quality!;
    const { prior } = settings;
    const states: RaterState[] = [
      { rater: raterId(1), answers: 0, goldAnswered: 0, goldCorrect: 0, score: prior.mean, status: 'active', handouts: 0, seen: [], scored: [] },
      { rater: raterId(2), answers: 7, goldAnswered: 3, goldCorrect: 2, score: (2 + prior.mean * prior.strength) / (3 + prior.strength), status: 'active', handouts: 11, seen: [0, 4, 2], scored: [0, 4, 2], skipped: 5, holding: { lifecycleId: 'camp-item-9', untilMs: NOW + 60_000 } },
      { rater: raterId(3), answers: 2, goldAnswered: 4, goldCorrect: 1, score: (1 + prior.mean * prior.strength) / (4 + prior.strength), status: 'excluded', reason: 'gold accuracy 1 of 4', excludedAt: new Date(NOW).toISOString(), handouts: 6, seen: [1, 0, 2, 3], scored: [1, 0, 2, 3] },
      { rater: raterId(4), answers: 1, goldAnswered: 1, goldCorrect: 1, score: (1 + prior.mean * prior.strength) / (1 + prior.strength), status: 'active', handouts: 2, seen: [3, 1], scored: [1] },
    ];
    for (const state of states) assert.deepEqual(unpackRater(JSON.parse(JSON.stringify(packRater(state))), prior), state, state.rater);

    // A crowd campaign: 10,000 raters, each scored on three gold items.
    const quality = new CampaignQuality('camp', settings);
    for (let g = 0; g < 3; g++) quality.goldStarted(g, goldLifecycleId('camp', 10, g));
    for (let r = 0; r < 10_000; r++) {
      for (let g = 0; g < 3; g++) quality.report({ lifecycleId: goldLifecycleId('camp', 10, g), kind: 'gold', rater: raterId(r), correct: (r + g) % 4 !== 0 }, NOW);
      quality.answered(raterId(r));
    }
    quality.takeChanged();
    const carried = JSON.stringify(quality.toCarry());
    assert.ok(carried.length < 800_000, `10,000 raters carried in ${carried.length} bytes`);
    const unpacked = JSON.stringify({ gold: [...quality.gold.values()], raters: [...quality.raters.values()], changed: [] });
    assert.ok(carried.length * 2 < unpacked.length, `packed ${carried.length} vs ${unpacked.length} bytes as objects`);
    const resumed = CampaignQuality.resume('camp', settings, JSON.parse(carried));
    assert.deepEqual(resumed.records(), quality.records());
    assert.deepEqual([...resumed.raters.values()], [...quality.raters.values()]);
  });

  it('should still read a carry of raters as objects (runs from before packing)', () => {
    const settings = plan({ gold: [goldItem(0)] }).quality!;
    const state: RaterState = { rater: raterId(7), answers: 1, goldAnswered: 1, goldCorrect: 0, score: 0.5, status: 'active', handouts: 2, seen: [0], scored: [0] };
    const resumed = CampaignQuality.resume('camp', settings, { gold: [], raters: [state], changed: [raterId(7)] });
    assert.deepEqual(resumed.raters.get(raterId(7)), state);
    assert.equal(resumed.takeChanged().length, 1);
  });
});
