import assert from 'node:assert/strict';
import { delaySchedule, exponentialBackoff, retrying, type Clock } from '../../core/retry';

/** A clock whose sleeps only move its time forward, recording each wait. */
function fakeClock(start = 1_000_000): Clock & { waits: number[]; t: number } {
  const clock = {
    t: start,
    waits: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.waits.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

/** A call that fails with the given errors in turn, then answers `value`. */
function failing<T>(errors: unknown[], value: T): { call: (attempt: number) => Promise<T>; attempts: number[] } {
  const attempts: number[] = [];
  return {
    attempts,
    call: async (attempt) => {
      attempts.push(attempt);
      if (attempts.length <= errors.length) throw errors[attempts.length - 1];
      return value;
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return assert.fail('expected a rejection');
}

describe('core/retry', () => {
  describe('retrying', () => {
    it('should answer the first success without waiting', async () => {
      const clock = fakeClock();
      assert.equal(await retrying(async () => 'ok', { delayMs: () => 100 }, clock), 'ok');
      assert.deepEqual(clock.waits, []);
    });

    it('should retry failures with the policy\'s waits, numbering the attempts, until one succeeds', async () => {
      const clock = fakeClock();
      const { call, attempts } = failing([new Error('a'), new Error('b')], 42);
      const retries: Array<[string, number, number]> = [];
      const value = await retrying(call, { delayMs: (r) => 10 * (r + 1), onRetry: (err, r, ms) => retries.push([(err as Error).message, r, ms]) }, clock);
      assert.equal(value, 42);
      assert.deepEqual(attempts, [0, 1, 2]);
      assert.deepEqual(clock.waits, [10, 20]);
      assert.deepEqual(retries, [['a', 0, 10], ['b', 1, 20]]);
    });

    it('should throw an error the policy does not retry at once', async () => {
      const clock = fakeClock();
      const fatal = new Error('refused');
      const { call, attempts } = failing([new Error('transient'), fatal], 'never');
      const err = await rejection(retrying(call, { delayMs: () => 5, retryable: (e) => e !== fatal }, clock));
      assert.equal(err, fatal);
      assert.deepEqual(attempts, [0, 1]);
      assert.deepEqual(clock.waits, [5]);
    });

    it('should stop when the schedule ends, throwing the last error (or what giveUp makes of it)', async () => {
      const clock = fakeClock();
      const last = new Error('third');
      const plain = failing([new Error('first'), new Error('second'), last], 'never');
      assert.equal(await rejection(retrying(plain.call, { delayMs: delaySchedule([1, 2]) }, clock)), last);
      assert.deepEqual(plain.attempts, [0, 1, 2]);
      const wrapped = failing([new Error('x'), new Error('y')], 'never');
      const given: Array<[string, number]> = [];
      const err = await rejection(retrying(wrapped.call, {
        delayMs: delaySchedule([1]),
        giveUp: (e, attempts) => {
          given.push([(e as Error).message, attempts]);
          return new Error('busy');
        },
      }, clock));
      assert.equal((err as Error).message, 'busy');
      assert.deepEqual(given, [['y', 2]]);
    });

    it('should start no retry once the budget has passed, counting from the first attempt', async () => {
      const clock = fakeClock();
      const attempts: number[] = [];
      const err = await rejection(retrying(async (attempt) => {
        attempts.push(attempt);
        clock.t += 400; // each attempt takes 400 ms
        throw new Error('down');
      }, { delayMs: () => 100, budgetMs: 1000 }, clock));
      assert.equal((err as Error).message, 'down');
      // 0: 400 → wait → 1: 900 → wait → 2: 1400 ≥ 1000: give up.
      assert.deepEqual(attempts, [0, 1, 2]);
      assert.deepEqual(clock.waits, [100, 100]);
    });

    it('should stop retrying once stopped() says so (shutdown)', async () => {
      const clock = fakeClock();
      let stopped = false;
      const attempts: number[] = [];
      const err = await rejection(retrying(async (attempt) => {
        attempts.push(attempt);
        if (attempt === 1) stopped = true;
        throw new Error(`attempt ${attempt}`);
      }, { delayMs: () => 1, stopped: () => stopped }, clock));
      assert.equal((err as Error).message, 'attempt 1');
      assert.deepEqual(attempts, [0, 1]);
    });

    it('should retry a result that is not final yet, and return the last one when the schedule ends', async () => {
      const clock = fakeClock();
      const answers = [undefined, undefined, 'found'];
      assert.equal(await retrying(async (a) => answers[a], { delayMs: delaySchedule([5, 6, 7]), retryResult: (v) => v === undefined }, clock), 'found');
      assert.deepEqual(clock.waits, [5, 6]);
      const never = fakeClock();
      assert.equal(await retrying(async () => undefined, { delayMs: delaySchedule([5, 6]), retryResult: (v) => v === undefined }, never), undefined);
      assert.deepEqual(never.waits, [5, 6]);
    });

    it('should sleep for real with the default clock', async () => {
      const started = Date.now();
      const { call } = failing([new Error('once')], 'ok');
      assert.equal(await retrying(call, { delayMs: () => 20 }), 'ok');
      assert.ok(Date.now() - started >= 15);
    });
  });

  describe('exponentialBackoff', () => {
    it('should double from the base up to the cap', () => {
      const delay = exponentialBackoff({ baseMs: 250, capMs: 30_000 });
      assert.deepEqual([0, 1, 2, 3, 6, 7, 20].map(delay), [250, 500, 1000, 2000, 16_000, 30_000, 30_000]);
    });

    it('should spread each wait by the jitter around its value', () => {
      const low = exponentialBackoff({ baseMs: 100, capMs: 1000, jitter: 0.25, random: () => 0 });
      const high = exponentialBackoff({ baseMs: 100, capMs: 1000, jitter: 0.25, random: () => 0.999999 });
      assert.equal(low(0), 75);
      assert.ok(Math.abs(high(0) - 125) < 0.001);
      assert.equal(low(10), 750, 'jitter applies to the capped value');
      const wide = exponentialBackoff({ baseMs: 25, capMs: 1000, jitter: 0.5, random: () => 0.5 });
      assert.equal(wide(2), 100);
      for (let i = 0; i < 200; i++) {
        const d = exponentialBackoff({ baseMs: 25, capMs: 1000, jitter: 0.5 })(3);
        assert.ok(d >= 100 && d < 300, String(d));
      }
    });
  });

  describe('delaySchedule', () => {
    it('should give the listed waits in order, then none', () => {
      const delay = delaySchedule([1000, 2000, 4000]);
      assert.deepEqual([0, 1, 2, 3].map(delay), [1000, 2000, 4000, undefined]);
      assert.equal(delaySchedule([])(0), undefined);
    });
  });
});
