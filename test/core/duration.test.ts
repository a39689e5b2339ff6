import assert from 'node:assert/strict';
import { parseDuration } from '../../core/duration';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('core/duration: parseDuration', () => {
  it('should parse every unit', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('30m'), 30 * 60_000);
    assert.equal(parseDuration('24h'), 24 * HOUR);
    assert.equal(parseDuration('2d'), 2 * DAY);
  });

  it('should add up compound durations', () => {
    assert.equal(parseDuration('1h30m'), HOUR + 30 * 60_000);
    assert.equal(parseDuration('1d2h3m4s5ms'), DAY + 2 * HOUR + 3 * 60_000 + 4000 + 5);
  });

  it('should accept fractions and surrounding whitespace', () => {
    assert.equal(parseDuration('1.5h'), 1.5 * HOUR);
    assert.equal(parseDuration('  90s  '), 90_000);
  });

  it('should tell minutes (m) from milliseconds (ms)', () => {
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('1ms'), 1);
    assert.equal(parseDuration('1m1ms'), 60_001);
  });

  it('should return undefined for anything that is not a duration', () => {
    for (const text of ['', ' ', '90', 'h', '1x', '1 h', '-1h', '1h-', 'abc', '1h 30m', '1.h', '.5h', 'PT1H', '1H']) {
      assert.equal(parseDuration(text), undefined, `"${text}" should not parse`);
    }
  });
});
