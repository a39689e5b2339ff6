import assert from 'node:assert/strict';
import { pairChoiceVotes } from '../../core/pairwise';

describe('core/pairwise', () => {
  const a = { id: 'c1', label: 'A' };
  const b = { id: 'c2', label: 'B' };

  it('should record "A is better" as 👍 A and 👎 B', () => {
    assert.deepEqual(pairChoiceVotes('a', a, b), [{ candidate: a, value: 'up' }, { candidate: b, value: 'down' }]);
  });

  it('should record "B is better" as 👎 A and 👍 B', () => {
    assert.deepEqual(pairChoiceVotes('b', a, b), [{ candidate: a, value: 'down' }, { candidate: b, value: 'up' }]);
  });

  it('should record a tie as both votes withdrawn (a tie is no preference pair)', () => {
    assert.deepEqual(pairChoiceVotes('tie', a, b), [{ candidate: a, value: 'retract' }, { candidate: b, value: 'retract' }]);
  });
});
