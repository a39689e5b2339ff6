import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isSwapped, presentationOrder } from '../../core/presentation';

describe('core/presentation', () => {
  it('should give each rater of a lifecycle the same order every time, and record-able as [left, right]', () => {
    for (let n = 0; n < 50; n++) {
      const rater = `r_${n.toString(16).padStart(16, '0')}`;
      const order = presentationOrder('lc-1', rater, ['c1', 'c2']);
      assert.deepEqual(presentationOrder('lc-1', rater, ['c1', 'c2']), order);
      assert.deepEqual([...order].sort(), ['c1', 'c2']);
    }
  });

  it('should be the first bit of sha256(lifecycle NUL rater), reproducible outside Prefline', () => {
    for (let n = 0; n < 200; n++) {
      const rater = `r_${n.toString(16).padStart(16, '0')}`;
      const bit = (createHash('sha256').update(`lc-7\u0000${rater}`).digest()[0]! >> 7) === 1;
      assert.equal(isSwapped('lc-7', rater), bit);
      assert.deepEqual(presentationOrder('lc-7', rater, ['a', 'b']), bit ? ['b', 'a'] : ['a', 'b']);
    }
  });

  it('should swap about half the raters, and differ between lifecycles', () => {
    const raters = Array.from({ length: 2000 }, (_, n) => `r_${n.toString(16).padStart(16, '0')}`);
    const swapped = raters.filter((r) => isSwapped('lc-1', r)).length;
    assert.ok(swapped > 900 && swapped < 1100, `${swapped} of 2000 swapped`);
    const differs = raters.filter((r) => isSwapped('lc-1', r) !== isSwapped('lc-2', r)).length;
    assert.ok(differs > 900 && differs < 1100, `${differs} of 2000 differ between lifecycles`);
  });

  it('should order a post everyone sees by the lifecycle id alone', () => {
    const bit = (createHash('sha256').update('lc-slack').digest()[0]! & 0x80) !== 0;
    assert.deepEqual(presentationOrder('lc-slack', undefined, [1, 2]), bit ? [2, 1] : [1, 2]);
  });
});
