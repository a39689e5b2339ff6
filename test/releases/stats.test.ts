/** The pure statistics of a release against hand-computed cases: Bradley–Terry and Krippendorff's alpha. */
import assert from 'node:assert/strict';
import { krippendorffAlphaNominal, profilesFromRatings } from '../../releases/agreement';
import { BT_SCALE, binomial, bootstrapBradleyTerry, fitBradleyTerry, mulberry32, quantile, type ComparisonCell } from '../../releases/bradley-terry';

const cell = (modelA: string, modelB: string, winsA: number, winsB: number, ties = 0): ComparisonCell => ({ modelA, modelB, winsA, winsB, ties });
const close = (actual: number | undefined, expected: number, eps = 1e-6) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < eps, `${actual} ≉ ${expected}`);

describe('Bradley–Terry (releases/bradley-terry)', () => {
  it('should give two models 400·log10(3) apart when one wins 3 of 4, centred on 1000', () => {
    // MLE: p_a/p_b = 3/1, so R_a − R_b = 400·log10 3 = 190.848…; the geometric mean sits at 1000.
    const scores = fitBradleyTerry([cell('a', 'b', 3, 1)], { prior: 0 });
    close(scores.get('a'), 1000 + 200 * Math.log10(3));
    close(scores.get('b'), 1000 - 200 * Math.log10(3));
  });

  it('should count a tie as half a win to each side', () => {
    // 1 win + 1 tie for a, 1 tie for b → 1.5 : 0.5, the same ratio 3 as above.
    const scores = fitBradleyTerry([cell('a', 'b', 1, 0, 1), cell('a', 'b', 0, 0, 0)], { prior: 0 });
    close((scores.get('a') ?? 0) - (scores.get('b') ?? 0), 400 * Math.log10(3));
  });

  it('should recover consistent strengths 4:2:1 from three models (likelihood equations hold exactly)', () => {
    // a–b 2:1, b–c 2:1, a–c 4:1 are all consistent with p = (4, 2, 1): wins equal expected wins for every model.
    const scores = fitBradleyTerry([cell('a', 'b', 2, 1), cell('b', 'c', 2, 1), cell('a', 'c', 4, 1)], { prior: 0 });
    close(scores.get('a'), 1000 + 400 * Math.log10(2));
    close(scores.get('b'), 1000);
    close(scores.get('c'), 1000 - 400 * Math.log10(2));
    assert.equal(BT_SCALE, 400 / Math.LN10);
  });

  it('should stay finite for a model that never lost (prior) and rate only compared models', () => {
    const scores = fitBradleyTerry([cell('a', 'b', 5, 0), cell('c', 'd', 0, 0, 0)]);
    assert.deepEqual([...scores.keys()], ['a', 'b']);
    assert.ok(Number.isFinite(scores.get('a')) && (scores.get('a') as number) > 1000);
    // With one virtual tie against a 1000 pivot each: a has 5.5 wins in 6.5 games, still well ahead.
    assert.ok((scores.get('a') as number) - (scores.get('b') as number) > 300);
  });

  it('should bootstrap deterministic 95% intervals that contain the point estimate', () => {
    const cells = [cell('a', 'b', 30, 10, 4), cell('b', 'c', 20, 15), cell('a', 'c', 25, 5, 2)];
    const first = bootstrapBradleyTerry(cells, { rounds: 100, seed: 7 });
    const again = bootstrapBradleyTerry(cells, { rounds: 100, seed: 7 });
    assert.deepEqual(first, again);
    for (const m of first) assert.ok(m.ciLow <= m.score && m.score <= m.ciHigh && m.ciHigh - m.ciLow > 1, JSON.stringify(m));
    assert.deepEqual(first.map((m) => [m.model, m.comparisons]), [['a', 76], ['b', 79], ['c', 67]]);
    assert.notDeepEqual(bootstrapBradleyTerry(cells, { rounds: 100, seed: 8 }), first);
  });

  it('should give bootstrap intervals as wide as the analytic standard error says', () => {
    // 3000 : 1000 → Elo gap 400·log10 3; SE of the log-odds sqrt(1/3000 + 1/1000), each side carries half the gap.
    const [a] = bootstrapBradleyTerry([cell('a', 'b', 3000, 1000)], { rounds: 400, seed: 3, prior: 0 });
    const halfWidth = 1.96 * (BT_SCALE / 2) * Math.sqrt(1 / 3000 + 1 / 1000);
    assert.ok(Math.abs(((a?.ciHigh ?? 0) - (a?.ciLow ?? 0)) / 2 - halfWidth) < 0.15 * halfWidth, `${JSON.stringify(a)} vs ±${halfWidth}`);
  });

  it('should draw binomials with the right mean and variance, small and large', () => {
    const random = mulberry32(11);
    for (const [n, p] of [[20, 0.3], [100_000, 0.25], [50, 0.9]] as const) {
      const xs = Array.from({ length: 4000 }, () => binomial(n, p, random));
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
      assert.ok(Math.abs(mean - n * p) < 4 * Math.sqrt((n * p * (1 - p)) / xs.length), `mean ${mean} for n=${n} p=${p}`);
      assert.ok(Math.abs(variance / (n * p * (1 - p)) - 1) < 0.1, `variance ${variance} for n=${n} p=${p}`);
      assert.ok(xs.every((x) => Number.isInteger(x) && x >= 0 && x <= n));
    }
  });

  it('should have a seeded PRNG and numpy-style quantiles', () => {
    const r = mulberry32(1);
    const xs = Array.from({ length: 5 }, () => r());
    assert.deepEqual(xs, Array.from({ length: 5 }, mulberry32(1)));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([10, 20], 0.025), 10.25);
  });
});

describe("Krippendorff's alpha, nominal (releases/agreement)", () => {
  it('should give 0.5 on a small binary case computed by hand', () => {
    // item1: up, up · item2: up, down · item3: down×3.
    // o_ud = o_du = 1 (item2), n_up = 3, n_down = 4, n = 7 → α = 1 − 6·2 / (2·3·4) = 0.5.
    const { profiles } = profilesFromRatings([
      { item: 'i1', rater: 'r1', value: 'up' }, { item: 'i1', rater: 'r2', value: 'up' },
      { item: 'i2', rater: 'r1', value: 'up' }, { item: 'i2', rater: 'r2', value: 'down' },
      { item: 'i3', rater: 'r1', value: 'down' }, { item: 'i3', rater: 'r2', value: 'down' }, { item: 'i3', rater: 'r3', value: 'down' },
      { item: 'i4', rater: 'r1', value: 'up' }, // a lone value is not pairable
    ]);
    const result = krippendorffAlphaNominal(profiles);
    close(result.alpha ?? NaN, 0.5, 1e-12);
    assert.equal(result.pairable, 7);
    assert.equal(result.items, 3);
  });

  it("should reproduce Krippendorff's own worked example (4 observers, 12 units, α = 0.743)", () => {
    // "Computing Krippendorff's Alpha-Reliability" (2011), nominal example with missing values.
    const table: Array<Array<number | null>> = [
      [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
      [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
      [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
      [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
    ];
    const ratings = table.flatMap((row, o) => row.flatMap((v, u) => (v === null ? [] : [{ item: `u${u}`, rater: `o${o}`, value: String(v) }])));
    const { alpha } = krippendorffAlphaNominal(profilesFromRatings(ratings).profiles);
    assert.equal(Number(alpha?.toFixed(3)), 0.743);
  });

  it('should be 1 for perfect agreement and undefined without variation', () => {
    assert.equal(krippendorffAlphaNominal([{ counts: [2, 0], items: 3 }, { counts: [0, 3], items: 2 }]).alpha, 1);
    assert.equal(krippendorffAlphaNominal([{ counts: [4, 0], items: 3 }]).alpha, null);
  });
});
