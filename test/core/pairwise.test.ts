import assert from 'node:assert/strict';
import { isPairChoice, pairChoiceJudgement } from '../../core/pairwise';

describe('core/pairwise', () => {
  it('should record "A is better" and "B is better" as the candidate shown first (left) and second (right) winning', () => {
    assert.equal(pairChoiceJudgement('a'), 'left');
    assert.equal(pairChoiceJudgement('b'), 'right');
  });

  it('should keep a tie and both bad as answers of their own (not withdrawn thumbs), and withdraw as a retraction', () => {
    assert.equal(pairChoiceJudgement('tie'), 'tie');
    assert.equal(pairChoiceJudgement('both_bad'), 'both_bad');
    assert.equal(pairChoiceJudgement('retract'), 'retract');
  });

  it('should know its choices and nothing else', () => {
    for (const c of ['a', 'b', 'tie', 'both_bad', 'retract']) assert.equal(isPairChoice(c), true, c);
    for (const c of ['A', 'left', 'up', '', null, 1, 'toString', '__proto__']) assert.equal(isPairChoice(c), false, String(c));
  });
});
