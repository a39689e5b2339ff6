/** ops/temporal-probe: a bounded, single-flight, briefly cached reachability check (the call is a function here). */
import assert from 'node:assert/strict';
import { TemporalProbe } from '../../ops/temporal-probe';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('ops/temporal-probe', () => {
  it('should report ok, and reuse the answer within the cache time', async () => {
    const clock = { now: 1000 };
    let calls = 0;
    const probe = new TemporalProbe(async () => void calls++, { cacheMs: 2000, now: () => clock.now });
    assert.deepEqual(await probe.check(), { temporal: 'ok' });
    clock.now += 1999;
    assert.deepEqual(await probe.check(), { temporal: 'ok' });
    assert.equal(calls, 1);
    clock.now += 1;
    await probe.check();
    assert.equal(calls, 2);
  });

  it("should report unreachable with the call's error, and cache that too", async () => {
    const clock = { now: 0 };
    let calls = 0;
    const probe = new TemporalProbe(async () => {
      calls++;
      throw new Error('14 UNAVAILABLE: tcp connect error');
    }, { now: () => clock.now });
    assert.deepEqual(await probe.check(), { temporal: 'unreachable', error: '14 UNAVAILABLE: tcp connect error' });
    await probe.check();
    assert.equal(calls, 1);
  });

  it('should share one call among concurrent probes', async () => {
    const answer = deferred();
    let calls = 0;
    const probe = new TemporalProbe(() => {
      calls++;
      return answer.promise;
    });
    const checks = Promise.all(Array.from({ length: 50 }, () => probe.check()));
    answer.resolve();
    const results = await checks;
    assert.equal(calls, 1);
    assert.ok(results.every((r) => r.temporal === 'ok'));
  });

  it('should answer unreachable at its timeout while the call hangs, without starting another call', async () => {
    const clock = { now: 0 };
    const hanging = deferred();
    let calls = 0;
    const probe = new TemporalProbe(() => {
      calls++;
      return hanging.promise;
    }, { timeoutMs: 50, cacheMs: 10, now: () => clock.now });
    const started = Date.now();
    assert.deepEqual(await probe.check(), { temporal: 'unreachable', error: 'no answer within 50 ms' });
    assert.ok(Date.now() - started < 1000);
    clock.now += 100; // the cached answer is stale, but the first call is still in flight
    await probe.check();
    assert.equal(calls, 1);
    hanging.resolve(); // it answers after all: the next probe sees it
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(await probe.check(), { temporal: 'ok' });
    assert.equal(calls, 1);
  });
});
