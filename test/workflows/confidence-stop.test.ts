/**
 * Confidence stopping's math (workflows/confidence-stop.ts): Rapidata's worked example reproduced
 * exactly, how many agreeing answers reach 0.99 at typical scores, split items that never do, each
 * rater's latest answer kept by seq, and thumbs items clear only when every candidate is.
 */
import assert from 'node:assert/strict';
import {
  PRIOR_RATER_SCORE, THUMBS_OPTIONS, clearAnswer, compareOptions, describeClear, posterior, recordChoice, type ConfidenceRules, type StandingAnswer,
} from '../../workflows/confidence-stop';
import { raterId } from '../helpers/votes';

const agreeing = (scores: number[], option = 'first') => scores.map((score) => ({ option, score }));

describe('workflows/confidence-stop', () => {
  it('should reproduce the worked example: scores 0.3, 0.8486, 0.4469, 0.4911 agreeing on one of two → 0.9943', () => {
    const scores = [0.3, 0.8486, 0.4469, 0.4911];
    const [first, second] = posterior(['first', 'second'], agreeing(scores));
    assert.equal(first!.toFixed(4), '0.9943');
    assert.ok(Math.abs(first! + second! - 1) < 1e-12);
    // Three of them are not enough at 0.99; the fourth is.
    assert.ok(posterior(['first', 'second'], agreeing(scores.slice(0, 3)))[0]! < 0.99);
  });

  it('should pass 0.99 with about 4 agreeing answers at typical scores, and weigh better raters more', () => {
    const compare = compareOptions(false);
    assert.deepEqual(compare, ['first', 'second', 'tie']);
    assert.ok(posterior(compare, agreeing([0.5, 0.5, 0.5]))[0]! < 0.99, 'three raters of score 0.5');
    assert.ok(posterior(compare, agreeing([0.5, 0.5, 0.5, 0.5]))[0]! >= 0.99, 'four raters of score 0.5');
    // At the prior mean with both bad offered (K = 4), three agreeing answers are enough, two are not.
    const four = compareOptions(true);
    const prior = (n: number) => posterior(four, agreeing(Array.from({ length: n }, () => PRIOR_RATER_SCORE)))[0]!;
    assert.ok(prior(2) < 0.99 && prior(3) >= 0.99, `${prior(2)} ${prior(3)}`);
    // A rater of score 0 says nothing; a better rater moves the posterior further.
    assert.deepEqual(posterior(four, agreeing([0, 0, 0])), [0.25, 0.25, 0.25, 0.25]);
    assert.ok(posterior(THUMBS_OPTIONS, agreeing([0.9], 'up'))[0]! > posterior(THUMBS_OPTIONS, agreeing([0.6], 'up'))[0]!);
  });

  it('should leave a split item unclear however many answers it gets, and stay finite over thousands of answers', () => {
    const split = [...agreeing(Array.from({ length: 500 }, () => 0.8)), ...agreeing(Array.from({ length: 500 }, () => 0.8), 'second')];
    const [first, second, tie, bothBad] = posterior(compareOptions(true), split);
    assert.ok(Math.abs(first! - 0.5) < 1e-9 && Math.abs(second! - 0.5) < 1e-9, `${first} ${second}`);
    assert.ok(tie! < 1e-9 && bothBad! < 1e-9);
    const many = posterior(compareOptions(true), agreeing(Array.from({ length: 5000 }, () => 0.7)));
    assert.ok(many.every(Number.isFinite) && many[0] === 1, JSON.stringify(many));
    // Perfect raters who disagree leave both possible rather than neither.
    const perfect = posterior(['first', 'second'], [{ option: 'first', score: 1 }, { option: 'second', score: 1 }]);
    assert.ok(perfect.every(Number.isFinite), JSON.stringify(perfect));
    assert.throws(() => posterior(['first'], []), /at least two options/);
  });

  it('should keep each rater\'s latest answer by seq, withdrawals included, whatever order reports come in', () => {
    const standing: StandingAnswer[] = [];
    recordChoice(standing, raterId(1), 3, { task: 'compare', answer: 'first' });
    recordChoice(standing, raterId(2), 4, { task: 'compare', answer: 'tie' });
    recordChoice(standing, raterId(1), 6, { task: 'compare', answer: 'withdrawn' });
    recordChoice(standing, raterId(1), 5, { task: 'compare', answer: 'second' }); // older, late: changes nothing
    recordChoice(standing, raterId(2), 7, { task: 'compare', answer: 'both_bad' });
    assert.deepEqual(standing, [{ rater: raterId(1), seq: 6, answer: 'withdrawn' }, { rater: raterId(2), seq: 7, answer: 'both_bad' }]);
    const thumbs: StandingAnswer[] = [];
    recordChoice(thumbs, raterId(1), 1, { task: 'thumbs', candidate: 0, candidates: 2, answer: 'up' });
    recordChoice(thumbs, raterId(1), 2, { task: 'thumbs', candidate: 1, candidates: 2, answer: 'down' });
    assert.deepEqual(thumbs.map((a) => [a.candidate, a.answer]), [[0, 'up'], [1, 'down']], 'one answer per candidate');
  });

  it('should find a clear answer only after minResponses standing answers, and on thumbs only when every candidate is clear', () => {
    const rules: ConfidenceRules = { task: 'compare', confidence: 0.99, minResponses: 4, allowBothBad: true };
    const score = () => PRIOR_RATER_SCORE;
    const standing: StandingAnswer[] = [1, 2, 3].map((n) => ({ rater: raterId(n), seq: n, answer: 'second' }));
    assert.equal(clearAnswer(standing, score, rules), undefined, 'clear at 3 answers, but 4 are asked for first');
    standing.push({ rater: raterId(4), seq: 4, answer: 'withdrawn' });
    assert.equal(clearAnswer(standing, score, rules), undefined, 'a withdrawn answer is no answer');
    standing[3] = { rater: raterId(4), seq: 5, answer: 'second' };
    const clear = clearAnswer(standing, score, rules);
    assert.deepEqual(clear && { answers: clear.answers, responses: clear.responses }, { answers: ['second'], responses: 4 });
    assert.match(describeClear(clear!, 0.99), /^second at 0\.99\d\d after 4 answers \(confidence 0\.99\)$/);
    // Weak raters: the same answers are not enough.
    assert.equal(clearAnswer(standing, () => 0.2, rules), undefined);

    const thumbsRules: ConfidenceRules = { task: 'thumbs', confidence: 0.99, minResponses: 3, allowBothBad: true, candidates: 2 };
    const votes: StandingAnswer[] = [1, 2, 3].map((n) => ({ rater: raterId(n), seq: n, answer: 'up', candidate: 0 }));
    assert.equal(clearAnswer(votes, score, thumbsRules), undefined, 'candidate 1 has no votes yet');
    votes.push(...[1, 2].map((n) => ({ rater: raterId(n), seq: 10 + n, answer: 'down' as const, candidate: 1 })));
    assert.equal(clearAnswer(votes, score, thumbsRules), undefined, 'candidate 1 has 2 votes of the 3 asked for');
    votes.push({ rater: raterId(3), seq: 13, answer: 'down', candidate: 1 });
    assert.deepEqual(clearAnswer(votes, score, thumbsRules)?.answers, ['up', 'down']);
    assert.equal(clearAnswer(votes, score, { ...thumbsRules, candidates: undefined }), undefined, 'candidates unknown: never clear');
  });
});
