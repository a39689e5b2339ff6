import assert from 'node:assert/strict';
import { RateLimiter } from '../../core/rate-limit';

describe('core/rate-limit', () => {
  const clock = { t: 1_000_000, now() { return this.t; } };
  beforeEach(() => {
    clock.t = 1_000_000;
  });

  it('should allow a burst of the limit, then one per window/limit, saying how long to wait', () => {
    const limiter = new RateLimiter(3, 60_000, clock); // 3 per minute: one every 20 s
    assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [0, 0, 0]);
    assert.equal(limiter.take('a'), 20);
    assert.equal(limiter.retryAfterSeconds('a'), 20);
    clock.t += 19_000;
    assert.equal(limiter.take('a'), 1);
    clock.t += 1_000;
    assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('a'), 20);
  });

  it('should keep keys apart', () => {
    const limiter = new RateLimiter(1, 60_000, clock);
    assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('b'), 0);
    assert.equal(limiter.take('a'), 60);
  });

  it('should take nothing when it refuses, or when only asked', () => {
    const limiter = new RateLimiter(2, 10_000, clock);
    assert.equal(limiter.retryAfterSeconds('a'), 0);
    assert.equal(limiter.retryAfterSeconds('a'), 0);
    limiter.take('a');
    limiter.take('a');
    for (let i = 0; i < 5; i++) assert.equal(limiter.take('a'), 5);
    clock.t += 5_000;
    assert.equal(limiter.take('a'), 0); // the refusals did not push the next chance back
  });

  it('should refill up to the limit only, and say at least one second', () => {
    const limiter = new RateLimiter(2, 1000, clock);
    limiter.take('a');
    clock.t += 3_600_000;
    assert.deepEqual([limiter.take('a'), limiter.take('a'), limiter.take('a')], [0, 0, 1]);
  });

  it('should not limit with a limit of 0, and refuse nonsense settings', () => {
    const none = new RateLimiter(0, 1000, clock);
    for (let i = 0; i < 1000; i++) assert.equal(none.take('a'), 0);
    assert.equal(none.size, 0);
    assert.throws(() => new RateLimiter(-1, 1000, clock), RangeError);
    assert.throws(() => new RateLimiter(1.5, 1000, clock), RangeError);
    assert.throws(() => new RateLimiter(1, 0, clock), RangeError);
  });

  it('should bound its memory: refilled keys go first, then the least recently used', () => {
    const limiter = new RateLimiter(2, 60_000, clock, 100);
    for (let i = 0; i < 100; i++) limiter.take(`old-${i}`);
    clock.t += 60_000; // every old key has refilled: it holds nothing worth keeping
    limiter.take('busy');
    limiter.take('busy');
    assert.equal(limiter.size, 1);
    for (let i = 0; i < 150; i++) limiter.take(`flood-${i}`);
    assert.ok(limiter.size <= 100);
    // The most recent keys are the ones kept, with their state.
    assert.equal(limiter.take('flood-149'), 0);
    assert.equal(limiter.take('flood-149'), 30);
  });
});
