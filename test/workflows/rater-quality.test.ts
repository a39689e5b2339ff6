/**
 * Rater quality as pure functions (workflows/rater-quality.ts) with fixed numbers: the score with its
 * prior, the conditional gold rate, exclusion and its reason, the settings' checks, and how often gold
 * items come up over many hand-outs (seeded by campaign, rater and hand-out number, so the same on replay).
 * Gold answers (workflows/gold.ts): spellings, and whether a judgement matches, by candidate not side.
 */
import assert from 'node:assert/strict';
import { goldAnswersOf, judgementAnswer, judgementVerdict, parseGoldAnswer, voteVerdict } from '../../workflows/gold';
import {
  DEFAULT_QUALITY, exclusionReason, goldPick, goldRateFor, isGoldTurn, qualitySettings, raterScore, unitHash,
} from '../../workflows/rater-quality';
import type { RaterQualitySettings } from '../../workflows/types';
import { judgement, raterId } from '../helpers/votes';

const PRIOR = { mean: 0.75, strength: 2 };

/** The share of `n` hand-outs (raters × hand-out numbers) that are gold at `rate`. */
function goldShare(rate: number, raters: number, handouts: number, campaign = 'camp'): number {
  let gold = 0;
  for (let r = 0; r < raters; r++) for (let h = 0; h < handouts; h++) if (isGoldTurn(campaign, raterId(r), h, rate)) gold += 1;
  return gold / (raters * handouts);
}

describe('workflows/rater-quality', () => {
  it('should score gold accuracy with the Beta prior: (correct + mean·strength) / (answered + strength)', () => {
    assert.equal(raterScore(0, 0, PRIOR), 0.75);
    assert.equal(raterScore(4, 4, PRIOR), 5.5 / 6);
    assert.equal(raterScore(1, 4, PRIOR), 2.5 / 6);
    assert.equal(raterScore(3, 4, PRIOR), 4.5 / 6);
    assert.equal(raterScore(0, 10, { mean: 0.5, strength: 10 }), 0.25);
    for (const [c, n] of [[0, 0], [0, 1000], [1000, 1000]] as const) {
      const s = raterScore(c, n, PRIOR);
      assert.ok(s > 0 && s < 1, `${c}/${n} → ${s}`);
    }
  });

  it('should mix gold in at the new rate first, then the low rate near the threshold, else the base rate', () => {
    const s = DEFAULT_QUALITY;
    assert.equal(goldRateFor({ goldAnswered: 0, score: 0.75 }, s), 0.5);
    assert.equal(goldRateFor({ goldAnswered: 2, score: 0.95 }, s), 0.5, 'new: fewer than goldWarmup (3) gold answers');
    assert.equal(goldRateFor({ goldAnswered: 3, score: 0.79 }, s), 0.3, 'under minScore + margin (0.8)');
    assert.equal(goldRateFor({ goldAnswered: 3, score: 0.8 }, s), 0.1);
    assert.equal(goldRateFor({ goldAnswered: 10, score: 0.9 }, s), 0.1);
  });

  it('should exclude below minScore only after minGold gold answers, saying why in words', () => {
    const s = DEFAULT_QUALITY;
    assert.equal(exclusionReason({ goldAnswered: 3, goldCorrect: 0, score: raterScore(0, 3, PRIOR) }, s), undefined, 'three wrong: too few to judge');
    assert.equal(exclusionReason({ goldAnswered: 4, goldCorrect: 3, score: raterScore(3, 4, PRIOR) }, s), undefined, '0.75 is not below 0.70');
    assert.equal(
      exclusionReason({ goldAnswered: 4, goldCorrect: 1, score: raterScore(1, 4, PRIOR) }, s),
      'gold accuracy 1 of 4 (score 0.42 with the prior) below 0.70 after 4 gold answers',
    );
    assert.equal(exclusionReason({ goldAnswered: 5, goldCorrect: 3, score: raterScore(3, 5, PRIOR) }, s)?.startsWith('gold accuracy 3 of 5 (score 0.64'), true);
  });

  it('should hand out gold at each rate over many hand-outs, the same for the same seed, different per campaign', () => {
    for (const rate of [0.1, 0.3, 0.5]) {
      const share = goldShare(rate, 200, 50);
      assert.ok(Math.abs(share - rate) < 0.015, `rate ${rate}: ${share}`);
    }
    assert.equal(goldShare(0, 50, 50), 0);
    assert.equal(goldShare(1, 50, 50), 1);
    assert.equal(isGoldTurn('camp', raterId(1), 7, 0.5), isGoldTurn('camp', raterId(1), 7, 0.5));
    const turns = (campaign: string) => Array.from({ length: 64 }, (_, h) => isGoldTurn(campaign, raterId(1), h, 0.5)).join();
    assert.notEqual(turns('camp'), turns('other'), 'another campaign mixes another way');
    // A rater's successive hand-outs are not a run of the same answer.
    assert.ok(/true/.test(turns('camp')) && /false/.test(turns('camp')));
    const picks = new Set(Array.from({ length: 200 }, (_, h) => goldPick('camp', raterId(2), h, 5)));
    assert.deepEqual([...picks].sort(), [0, 1, 2, 3, 4]);
  });

  it('should mix by the rater\'s state: a new rater\'s first hand-outs are gold about half the time, then a good rater\'s a tenth', () => {
    // A simulated rater answering every gold item right: the first goldWarmup gold answers come at 0.5, the rest at 0.1.
    const s: RaterQualitySettings = { ...DEFAULT_QUALITY };
    let gold = 0;
    let later = 0;
    let laterGold = 0;
    for (let r = 0; r < 300; r++) {
      let answered = 0;
      for (let h = 0; h < 60; h++) {
        const record = { goldAnswered: answered, score: raterScore(answered, answered, s.prior) };
        const rate = goldRateFor(record, s);
        const isGold = isGoldTurn('camp', raterId(r), h, rate);
        if (isGold) answered += 1;
        if (rate === s.goldRate) {
          later += 1;
          if (isGold) laterGold += 1;
        }
        if (isGold && h < 2) gold += 1;
      }
    }
    assert.ok(Math.abs(gold / 600 - 0.5) < 0.06, `first two hand-outs: ${gold / 600}`);
    assert.ok(Math.abs(laterGold / later - 0.1) < 0.015, `after the warm-up: ${laterGold / later}`);
  });

  it('should spread the hash over [0, 1)', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) buckets[Math.floor(unitHash(`k${i}`) * 10)]! += 1;
    for (const b of buckets) assert.ok(Math.abs(b - 2000) < 200, buckets.join());
  });

  it('should take the settings with their defaults and name every bad one', () => {
    const errors: string[] = [];
    assert.deepEqual(qualitySettings({}, errors), DEFAULT_QUALITY);
    assert.deepEqual(qualitySettings({ goldRate: 0.2, minGold: 6, prior: { mean: 0.8, strength: 4 } }, errors), { ...DEFAULT_QUALITY, goldRate: 0.2, minGold: 6, prior: { mean: 0.8, strength: 4 } });
    assert.deepEqual(errors, []);
    qualitySettings({ goldRate: 1.5, goldRateNew: -1, goldWarmup: 2.5, minGold: 0, minScore: Number.NaN, prior: { mean: 1, strength: 0, shape: 3 } as never }, errors);
    assert.deepEqual(errors, [
      'goldRate: must be a number from 0 to 1',
      'goldRateNew: must be a number from 0 to 1',
      'minScore: must be a number from 0 to 1',
      'goldWarmup: must be an integer from 0 to 1000',
      'minGold: must be an integer from 1 to 1000',
      'prior.shape: unknown field; known: mean, strength',
      'prior.mean: must be a number between 0 and 1 (exclusive), the score of a rater with no gold answers',
      'prior.strength: must be a number above 0 and at most 1000, the prior\'s weight in gold answers',
    ]);
  });
});

describe('workflows/gold', () => {
  const candidates = [{ id: 'c1' }, { id: 'c2' }];

  it('should read a file\'s spellings of an answer for the task', () => {
    for (const text of ['first', 'image1', 'Text1', ' a ']) assert.equal(parseGoldAnswer(text, 'compare'), 'first');
    for (const text of ['second', 'image2', 'text2', 'B']) assert.equal(parseGoldAnswer(text, 'compare'), 'second');
    assert.equal(parseGoldAnswer('both bad', 'compare'), 'both_bad');
    assert.equal(parseGoldAnswer('both_bad', 'compare', false), undefined, 'not offered');
    assert.equal(parseGoldAnswer('up', 'compare'), undefined);
    assert.equal(parseGoldAnswer('down', 'thumbs'), 'down');
    assert.equal(parseGoldAnswer('first', 'thumbs'), undefined);
    assert.deepEqual(goldAnswersOf('thumbs'), ['up', 'down']);
  });

  it('should judge by candidate, whichever side it was shown on', () => {
    assert.equal(judgementAnswer(judgement('left', 1, ['c1', 'c2']), candidates), 'first');
    assert.equal(judgementAnswer(judgement('left', 1, ['c2', 'c1']), candidates), 'second');
    assert.equal(judgementAnswer(judgement('right', 1, ['c2', 'c1']), candidates), 'first');
    assert.equal(judgementAnswer(judgement('tie', 1), candidates), 'tie');
    const gold = { answer: 'second' as const, explanation: 'The second has five fingers.' };
    assert.deepEqual(judgementVerdict(gold, judgement('left', 1, ['c2', 'c1']), candidates), { correct: true });
    assert.deepEqual(judgementVerdict(gold, judgement('left', 1, ['c1', 'c2']), candidates), { correct: false, explanation: 'The second has five fingers.' });
    assert.deepEqual(voteVerdict({ answer: 'down', explanation: 'blurry' }, { value: 'up' }), { correct: false, explanation: 'blurry' });
    assert.deepEqual(voteVerdict({ answer: 'down', explanation: 'blurry' }, { value: 'down' }), { correct: true });
  });
});
