import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerationBudget, dayOf } from '../../core/generation-budget';

const ALICE = 'r_00000000000000000000a11c';
const BOB = 'r_00000000000000000000000b';
const DAY1 = new Date('2026-03-01T10:00:00Z');

describe('core/generation-budget', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-budget-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should reserve candidates up to the limit per rater and day, all of a request or none', async () => {
    const budget = await GenerationBudget.open(dir, 8);
    const used = async (lifecycleId: string, count: number, rater = ALICE) => {
      const r = await budget.reserve(rater, lifecycleId, count, DAY1);
      return [r.ok, r.used];
    };
    assert.deepEqual(await used('lc-1', 4), [true, 4]);
    assert.deepEqual(await used('lc-2', 3), [true, 7]);
    assert.deepEqual(await used('lc-3', 2), [false, 7], 'two do not fit: none is taken');
    assert.deepEqual(await used('lc-4', 1), [true, 8]);
    assert.deepEqual(await used('lc-5', 8, BOB), [true, 8], 'each rater has a budget of their own');
    assert.equal(await budget.used(ALICE, DAY1), 8);
  });

  it('should start afresh each UTC day, and remove days before yesterday', async () => {
    const budget = await GenerationBudget.open(dir, 2);
    await budget.reserve(ALICE, 'lc-1', 2, DAY1);
    const lateThatDay = new Date('2026-03-01T23:59:59.999Z');
    assert.equal((await budget.reserve(ALICE, 'lc-2', 1, lateThatDay)).ok, false);
    const nextDay = new Date('2026-03-02T00:00:00Z');
    assert.equal((await budget.reserve(ALICE, 'lc-3', 2, nextDay)).used, 2);
    assert.ok(existsSync(join(dir, '2026-03-01')), 'yesterday is kept');
    await budget.reserve(ALICE, 'lc-4', 1, new Date('2026-03-03T08:00:00Z'));
    await new Promise((resolve) => setTimeout(resolve, 50)); // pruning is in the background
    assert.deepEqual(readdirSync(dir).sort(), ['2026-03-02', '2026-03-03']);
  });

  it('should keep the count across restarts and share it between gateways, never exceeding the limit however they race', async () => {
    const [one, two] = [await GenerationBudget.open(dir, 10), await GenerationBudget.open(dir, 10)];
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? one : two).reserve(ALICE, `lc-${i}`, 3, DAY1)));
    const granted = results.filter((r) => r.ok).length;
    // Racing reservations may refuse each other (each took part and gave it back): never more than fit.
    assert.ok(granted <= 3, `at most three reservations of 3 fit in 10, got ${granted}`);
    const used = await (await GenerationBudget.open(dir, 10)).used(ALICE, DAY1);
    assert.equal(used, granted * 3, 'refused reservations left nothing behind');
    assert.ok(used <= 10);
  });

  it('should give a reservation back, and only that one, also of the same lifecycle', async () => {
    const budget = await GenerationBudget.open(dir, 7);
    const first = await budget.reserve(ALICE, 'lc-1', 2, DAY1);
    await budget.reserve(ALICE, 'lc-2', 3, DAY1);
    // A retried start of lc-1 reserved again, then found lc-1 started: only the retry's reservation goes back.
    const retry = await budget.reserve(ALICE, 'lc-1', 2, DAY1);
    assert.ok(first.ok && retry.ok && first.reservation !== retry.reservation);
    await budget.release(ALICE, retry.reservation, DAY1);
    assert.equal(await budget.used(ALICE, DAY1), 5);
    await budget.release(ALICE, first.reservation, DAY1);
    assert.equal(await budget.used(ALICE, DAY1), 3);
    assert.equal((await budget.reserve(ALICE, 'lc-3', 4, DAY1)).used, 7);
  });

  it('should count nothing with a limit of 0, and refuse names that could leave its folder', async () => {
    const unlimited = await GenerationBudget.open(dir, 0);
    const free = await unlimited.reserve(ALICE, 'lc-1', 8, DAY1);
    assert.deepEqual([free.ok, free.used], [true, 0]);
    assert.deepEqual(readdirSync(dir), []);
    const budget = await GenerationBudget.open(dir, 4);
    await assert.rejects(budget.reserve('../../etc', 'lc-1', 1, DAY1), /not a rater pseudonym/);
    await assert.rejects(budget.reserve(ALICE, '../x', 1, DAY1), /not a lifecycle id/);
    await assert.rejects(GenerationBudget.open(dir, -1), /non-negative integer/);
    await budget.reserve(ALICE, 'lc-1', 1, DAY1);
    assert.equal(statSync(join(dir, dayOf(DAY1), ALICE, '1')).mode & 0o777, 0o600);
  });
});
