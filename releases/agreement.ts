/**
 * Krippendorff's alpha for nominal data: how much raters agree beyond chance, 1 = perfect, 0 = chance.
 * Items are candidates, values are a rater's standing vote (up/down). Computed from the coincidence
 * matrix (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
 *
 *   o_ck = Σ_u n_uc·n_uk / (m_u − 1)  (c ≠ k; n_uc(n_uc − 1)/(m_u − 1) on the diagonal), over items with m_u ≥ 2
 *   alpha = 1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c·n_k
 *
 * Only per-item value counts matter, so the release feeds value-count profiles grouped in SQL
 * ("how many candidates had 3 up and 1 down") instead of millions of votes.
 */

/** Items that share the same value counts: `counts[v]` raters gave value v, `items` items look like that. */
export interface ValueProfile {
  counts: readonly number[];
  items: number;
}

export interface AlphaResult {
  /** null when undefined: fewer than two pairable values, or no variation at all. */
  alpha: number | null;
  /** Pairable values n (values on items rated at least twice). */
  pairable: number;
  /** Items rated at least twice. */
  items: number;
}

export function krippendorffAlphaNominal(profiles: readonly ValueProfile[]): AlphaResult {
  const width = Math.max(0, ...profiles.map((p) => p.counts.length));
  const nc = new Array<number>(width).fill(0);
  let disagreement = 0; // Σ_{c≠k} o_ck
  let items = 0;
  for (const { counts, items: weight } of profiles) {
    const m = counts.reduce((a, b) => a + b, 0);
    if (m < 2 || weight <= 0) continue;
    items += weight;
    let offDiagonal = 0;
    for (let c = 0; c < counts.length; c++) {
      nc[c]! += weight * counts[c]!;
      for (let k = 0; k < counts.length; k++) if (k !== c) offDiagonal += counts[c]! * counts[k]!;
    }
    disagreement += (weight * offDiagonal) / (m - 1);
  }
  const n = nc.reduce((a, b) => a + b, 0);
  let expected = 0; // Σ_{c≠k} n_c·n_k
  for (let c = 0; c < width; c++) for (let k = 0; k < width; k++) if (k !== c) expected += nc[c]! * nc[k]!;
  if (n < 2 || expected === 0) return { alpha: null, pairable: n, items };
  return { alpha: 1 - ((n - 1) * disagreement) / expected, pairable: n, items };
}

/** Profiles from raw (item, rater, value) triples; a rater's repeated value on an item counts once (the last). */
export function profilesFromRatings(ratings: ReadonlyArray<{ item: string; rater: string; value: string }>): { profiles: ValueProfile[]; values: string[] } {
  const last = new Map<string, { item: string; value: string }>();
  for (const r of ratings) last.set(`${r.item}\u0000${r.rater}`, { item: r.item, value: r.value });
  const values = [...new Set([...last.values()].map((r) => r.value))].sort();
  const byItem = new Map<string, number[]>();
  for (const { item, value } of last.values()) {
    const counts = byItem.get(item) ?? new Array<number>(values.length).fill(0);
    counts[values.indexOf(value)]! += 1;
    byItem.set(item, counts);
  }
  return { profiles: [...byItem.values()].map((counts) => ({ counts, items: 1 })), values };
}
