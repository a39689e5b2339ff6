import assert from 'node:assert/strict';
import { KeyedLimiter, Limiter } from '../../core/limiter';

/** A task that runs until released, recording when it started. */
function gate(log: string[], name: string): { task: () => Promise<string>; release: () => void } {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return {
    release: () => release(),
    task: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('core/limiter', () => {
  describe('Limiter', () => {
    it('should run at most `limit` tasks at once, the rest in arrival order', async () => {
      const log: string[] = [];
      const limiter = new Limiter(2);
      const gates = ['a', 'b', 'c', 'd'].map((n) => gate(log, n));
      const runs = gates.map((g) => limiter.run(g.task));
      assert.deepEqual(log, ['start a', 'start b'], 'the first two start at once (synchronously)');
      assert.equal(limiter.active, 2);
      assert.equal(limiter.queued, 2);
      gates[1]!.release();
      await tick();
      assert.deepEqual(log, ['start a', 'start b', 'end b', 'start c']);
      gates[0]!.release();
      gates[2]!.release();
      gates[3]!.release();
      assert.deepEqual(await Promise.all(runs), ['a', 'b', 'c', 'd']);
      assert.equal(limiter.active, 0);
      assert.equal(limiter.queued, 0);
    });

    it('should hand a freed slot to the waiter: a task arriving around the release neither overtakes it nor exceeds the limit', async () => {
      /** Runs `fn` after `depth` nested microtasks: sweeps the moments between a release and the waiter resuming. */
      const after = (depth: number, fn: () => void) => (depth === 0 ? fn() : queueMicrotask(() => after(depth - 1, fn)));
      for (let depth = 0; depth <= 8; depth++) {
        const log: string[] = [];
        const limiter = new Limiter(1);
        let running = 0;
        let most = 0;
        const counted = (task: () => Promise<string>) => async () => {
          running += 1;
          most = Math.max(most, running);
          try {
            return await task();
          } finally {
            running -= 1;
          }
        };
        const [a, b, c] = ['a', 'b', 'c'].map((n) => gate(log, n)) as [ReturnType<typeof gate>, ReturnType<typeof gate>, ReturnType<typeof gate>];
        const runs = [limiter.run(counted(a.task)), limiter.run(counted(b.task))];
        const arrived = new Promise<void>((resolve) => {
          a.release();
          after(depth, () => {
            runs.push(limiter.run(counted(c.task)));
            resolve();
          });
        });
        await arrived;
        await tick();
        b.release();
        await tick();
        c.release();
        await Promise.all(runs);
        assert.equal(most, 1, `never more than the limit (c arriving ${depth} microtasks after the release)`);
        assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c'], `in arrival order (depth ${depth})`);
      }
    });

    it('should free the slot of a task that fails, and pass its error on', async () => {
      const limiter = new Limiter(1);
      const failed = limiter.run(async () => {
        throw new Error('boom');
      });
      const next = limiter.run(async () => 'next');
      await assert.rejects(failed, /boom/);
      assert.equal(await next, 'next');
      assert.equal(limiter.active, 0);
    });

    it('should refuse a limit that is not a positive integer', () => {
      for (const limit of [0, -1, 1.5, Number.NaN]) assert.throws(() => new Limiter(limit), RangeError);
      for (const limit of [0, 2.5]) assert.throws(() => new KeyedLimiter(limit), RangeError);
    });
  });

  describe('KeyedLimiter', () => {
    it('should limit each key on its own, and forget keys with nothing running', async () => {
      const log: string[] = [];
      const limiter = new KeyedLimiter(1);
      const a1 = gate(log, 'a1');
      const a2 = gate(log, 'a2');
      const b1 = gate(log, 'b1');
      const runs = [limiter.run('a', a1.task), limiter.run('a', a2.task), limiter.run('b', b1.task)];
      assert.deepEqual(log, ['start a1', 'start b1'], 'another key does not wait');
      assert.equal(limiter.keys, 2);
      a1.release();
      b1.release();
      await tick();
      assert.deepEqual(log, ['start a1', 'start b1', 'end a1', 'end b1', 'start a2']);
      a2.release();
      await Promise.all(runs);
      await tick();
      assert.equal(limiter.keys, 0);
      // A key used again later starts afresh.
      assert.equal(await limiter.run('a', async () => 'again'), 'again');
      assert.equal(limiter.keys, 0);
    });
  });
});
