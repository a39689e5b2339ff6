/**
 * Bradley–Terry ratings from pairwise comparisons, as Chatbot Arena reports them since it moved from
 * online Elo: P(a beats b) = p_a / (p_a + p_b), fitted by maximum likelihood (logistic regression on
 * log-strengths, solved by Newton's method — the fixed point Hunter's MM iteration converges to), shown on the Elo scale R = 1000 + (400 / ln 10) · ln p with the geometric mean of the
 * rated models anchored at 1000, and 95% intervals from a seeded bootstrap over comparisons.
 *
 * Ties count half a win to each side (Arena does the same). An optional prior adds `prior` virtual
 * tied games of every model against a fixed 1000-rated pivot: it keeps the fit finite when a model
 * never lost (or never won) and shrinks small samples towards 1000. Pure and deterministic.
 */

/** Outcomes between two models: `winsA` times a beat b, `winsB` times b beat a, `ties` draws. */
export interface ComparisonCell {
  modelA: string;
  modelB: string;
  winsA: number;
  winsB: number;
  ties: number;
}

export interface BradleyTerryOptions {
  /** Virtual tied games against a 1000-rated pivot per model (default 1; 0 = plain maximum likelihood). */
  prior?: number;
  /** Newton steps (default 100; a few suffice). */
  maxIterations?: number;
  tolerance?: number;
}

export interface BootstrapOptions extends BradleyTerryOptions {
  rounds?: number;
  seed?: number;
}

export interface RatedModel {
  model: string;
  score: number;
  ciLow: number;
  ciHigh: number;
  comparisons: number;
}

export const BT_SCALE = 400 / Math.LN10;
export const BT_ANCHOR = 1000;

/** Fits strengths; returns Elo-scale scores for every model that appears in a comparison. */
export function fitBradleyTerry(cells: readonly ComparisonCell[], options: BradleyTerryOptions = {}): Map<string, number> {
  const { models, theta } = fitLogStrengths(cells, options);
  const mean = theta.reduce((a, b) => a + b, 0) / Math.max(1, models.length);
  return new Map(models.map((m, i) => [m, BT_ANCHOR + BT_SCALE * (theta[i]! - mean)]));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const log1pExp = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/**
 * Maximises the (prior-augmented) log-likelihood over θ = ln p by Newton's method with step halving:
 * the same estimate Hunter's MM iteration reaches, in a handful of steps instead of thousands.
 */
function fitLogStrengths(cells: readonly ComparisonCell[], options: BradleyTerryOptions, init?: Map<string, number>): { models: string[]; theta: Float64Array } {
  const prior = options.prior ?? 1;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-10;
  const models = [...new Set(cells.flatMap((c) => (c.winsA + c.winsB + c.ties > 0 && c.modelA !== c.modelB ? [c.modelA, c.modelB] : [])))].sort();
  const index = new Map(models.map((m, i) => [m, i]));
  const k = models.length;
  // Ties count half a win each; each model also has `prior` virtual tied games against a pivot at θ = 0.
  const wins = new Float64Array(k).fill(prior / 2);
  const games: Array<{ i: number; j: number; n: number }> = [];
  for (const c of cells) {
    const n = c.winsA + c.winsB + c.ties;
    if (n === 0 || c.modelA === c.modelB) continue;
    const i = index.get(c.modelA) as number;
    const j = index.get(c.modelB) as number;
    wins[i]! += c.winsA + c.ties / 2;
    wins[j]! += c.winsB + c.ties / 2;
    games.push({ i, j, n });
  }
  const logLikelihood = (t: Float64Array) => {
    let ll = 0;
    for (let i = 0; i < k; i++) ll += wins[i]! * t[i]! - prior * log1pExp(t[i]!);
    for (const g of games) ll -= g.n * (Math.max(t[g.i]!, t[g.j]!) + log1pExp(-Math.abs(t[g.i]! - t[g.j]!)));
    return ll;
  };
  let theta = Float64Array.from(models, (m) => init?.get(m) ?? 0);
  let current = logLikelihood(theta);
  for (let iter = 0; iter < maxIterations; iter++) {
    const grad = Float64Array.from(wins);
    // Negative Hessian, with a tiny ridge: without a prior, θ is only defined up to a shift (we centre it anyway).
    const h = Array.from({ length: k }, (_, i) => {
      const row = new Float64Array(k);
      const s = sigmoid(theta[i]!);
      grad[i]! -= prior * s;
      row[i] = prior * s * (1 - s) + 1e-9;
      return row;
    });
    for (const g of games) {
      const s = sigmoid(theta[g.i]! - theta[g.j]!);
      const w = g.n * s * (1 - s);
      grad[g.i]! -= g.n * s;
      grad[g.j]! -= g.n * (1 - s);
      h[g.i]![g.i]! += w;
      h[g.j]![g.j]! += w;
      h[g.i]![g.j]! -= w;
      h[g.j]![g.i]! -= w;
    }
    const step = solve(h, grad);
    let scale = 1;
    let next = theta.map((t, i) => t + step[i]!);
    let value = logLikelihood(next);
    while (value < current && scale > 1e-6) {
      scale /= 2;
      next = theta.map((t, i) => t + scale * step[i]!);
      value = logLikelihood(next);
    }
    const moved = Math.max(0, ...step.map((d) => Math.abs(scale * d)));
    theta = next;
    current = value;
    if (moved < tolerance) break;
  }
  return { models, theta };
}

/** Solves A·x = b (A symmetric positive definite here) by Gaussian elimination with partial pivoting. */
function solve(a: Float64Array[], b: Float64Array): Float64Array {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    for (let r = col + 1; r < n; r++) {
      const f = m[r]![col]! / p;
      if (f === 0) continue;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let sum = m[r]![n]!;
    for (let c = r + 1; c < n; c++) sum -= m[r]![c]! * x[c]!;
    x[r] = sum / m[r]![r]!;
  }
  return x;
}

/** mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal deviate (Box–Muller) from a uniform source. */
function gaussian(random: () => number): number {
  const u = 1 - random(); // (0, 1]
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Binomial(n, p): exact inversion while the mean is small, the normal approximation beyond (skew < 0.2). */
export function binomial(n: number, p: number, random: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(n, 1 - p, random);
  const mean = n * p;
  if (mean < 30) {
    const ratio = p / (1 - p);
    let prob = (1 - p) ** n;
    let cdf = prob;
    const u = random();
    let x = 0;
    while (u > cdf && x < n) {
      prob *= (ratio * (n - x)) / (x + 1);
      x += 1;
      cdf += prob;
    }
    return x;
  }
  return Math.min(n, Math.max(0, Math.round(mean + gaussian(random) * Math.sqrt(mean * (1 - p)))));
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * Point estimates plus percentile intervals: each round redraws as many comparisons as observed,
 * with replacement, from the observed outcomes (the Arena notebook's bootstrap), and refits.
 * Only outcome counts matter, so a round draws the counts (multinomial) rather than comparisons.
 */
export function bootstrapBradleyTerry(cells: readonly ComparisonCell[], options: BootstrapOptions = {}): RatedModel[] {
  const rounds = options.rounds ?? 200;
  const random = mulberry32(options.seed ?? 0x5eed);
  const point = fitBradleyTerry(cells, options);
  const start = new Map(((f) => f.models.map((m, i) => [m, f.theta[i]!] as const))(fitLogStrengths(cells, options)));
  // One outcome bucket per (cell, kind) with its observed count.
  const buckets = cells.flatMap((c, cell) =>
    ([[0, c.winsA], [1, c.winsB], [2, c.ties]] as const).filter(([, n]) => n > 0).map(([kind, n]) => ({ cell, kind, n })),
  );
  const total = buckets.reduce((sum, b) => sum + b.n, 0);
  const samples = new Map<string, number[]>([...point.keys()].map((m) => [m, []]));
  for (let r = 0; r < rounds && total > 0; r++) {
    // One multinomial draw of `total` comparisons over the outcome buckets, as conditional binomials:
    // the same distribution as drawing comparisons one by one, in O(buckets) instead of O(comparisons).
    const counts = new Float64Array(buckets.length);
    let remaining = total;
    let weightLeft = total;
    buckets.forEach((b, i) => {
      const c = i === buckets.length - 1 ? remaining : binomial(remaining, b.n / weightLeft, random);
      counts[i] = c;
      remaining -= c;
      weightLeft -= b.n;
    });
    const resampled = cells.map((c) => ({ ...c, winsA: 0, winsB: 0, ties: 0 }));
    buckets.forEach((b, i) => {
      const target = resampled[b.cell]!;
      if (b.kind === 0) target.winsA += counts[i]!;
      else if (b.kind === 1) target.winsB += counts[i]!;
      else target.ties += counts[i]!;
    });
    // Warm start from the point estimate: a resample sits close to it, so Newton needs two or three steps.
    const fit = fitLogStrengths(resampled, options, start);
    const mean = fit.theta.reduce((a, b) => a + b, 0) / Math.max(1, fit.models.length);
    fit.models.forEach((m, i) => samples.get(m)?.push(BT_ANCHOR + BT_SCALE * (fit.theta[i]! - mean)));
  }
  const comparisons = new Map<string, number>();
  for (const c of cells) {
    const n = c.winsA + c.winsB + c.ties;
    comparisons.set(c.modelA, (comparisons.get(c.modelA) ?? 0) + n);
    comparisons.set(c.modelB, (comparisons.get(c.modelB) ?? 0) + n);
  }
  return [...point].map(([model, score]) => {
    const s = (samples.get(model) ?? []).sort((a, b) => a - b);
    return {
      model,
      score,
      ciLow: s.length ? quantile(s, 0.025) : score,
      ciHigh: s.length ? quantile(s, 0.975) : score,
      comparisons: comparisons.get(model) ?? 0,
    };
  });
}
