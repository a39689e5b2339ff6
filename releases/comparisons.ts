/**
 * What a release says about judgements (pairwise answers), from the tables the ledger derives as each
 * lifecycle completes (store/judgement-derived.ts): the Bradley–Terry input per model pair, the
 * position bias. Every ledger has those tables: the ledger writer creates them when it opens a ledger
 * (store/ledger-schema.ts), an older one included, and a release goes through the writer.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ComparisonCell } from './bradley-terry';
import type { PositionBias } from './layout';
import { rows } from './query';

export interface JudgementTotals {
  /** One cell per pair of different models, oriented (lesser model, greater model): Bradley–Terry input. */
  cells: ComparisonCell[];
  /** Both-bad answers per pair of different models, keyed `modelA\0modelB` as the cells. */
  bothBad: Map<string, number>;
  ties: number;
  totalBothBad: number;
  positionBias: PositionBias;
}

/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/** Wilson score interval for k successes in n trials (Wilson 1927): good near 0 and 1 and for small n. */
export function wilsonInterval(k: number, n: number, z = Z95): { low: number; high: number } | null {
  if (n <= 0) return null;
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export const pairKey = (modelA: string, modelB: string): string => `${modelA}\u0000${modelB}`;

/**
 * Totals over the matchups of lifecycles complete by the cutoff (`completeByCutoff`, releases/scope.ts);
 * `matchups`: the table they are read from (releases/campaign-scope.ts: gold and excluded raters left out).
 */
export async function judgementTotals(c: DuckDBConnection, completeByCutoff: string, matchups = 'judgement_matchups'): Promise<JudgementTotals> {
  const perPair = await rows<{ model_a: string; model_b: string; votes_a: number; votes_b: number; ties: number; both_bad: number }>(
    c,
    `SELECT model_a, model_b, sum(votes_a)::INTEGER AS votes_a, sum(votes_b)::INTEGER AS votes_b, sum(ties)::INTEGER AS ties, sum(both_bad)::INTEGER AS both_bad
       FROM ${matchups} WHERE ${completeByCutoff} GROUP BY ALL ORDER BY ALL`,
  );
  const cellMap = new Map<string, ComparisonCell>();
  const bothBad = new Map<string, number>();
  for (const p of perPair) {
    if (p.model_a === p.model_b) continue; // two candidates of one model: no comparison between models
    const flip = p.model_a > p.model_b;
    const [modelA, modelB] = flip ? [p.model_b, p.model_a] : [p.model_a, p.model_b];
    const key = pairKey(modelA, modelB);
    const cell = cellMap.get(key) ?? { modelA, modelB, winsA: 0, winsB: 0, ties: 0 };
    cell.winsA += flip ? p.votes_b : p.votes_a;
    cell.winsB += flip ? p.votes_a : p.votes_b;
    cell.ties += p.ties;
    cellMap.set(key, cell);
    bothBad.set(key, (bothBad.get(key) ?? 0) + p.both_bad);
  }
  const [totals] = await rows<{ decided: number; left_wins: number; ties: number; both_bad: number }>(
    c,
    `SELECT coalesce(sum(votes_a + votes_b), 0)::INTEGER AS decided, coalesce(sum(left_wins), 0)::INTEGER AS left_wins,
            coalesce(sum(ties), 0)::INTEGER AS ties, coalesce(sum(both_bad), 0)::INTEGER AS both_bad
       FROM ${matchups} WHERE ${completeByCutoff}`,
  );
  const decided = totals?.decided ?? 0;
  const leftWins = totals?.left_wins ?? 0;
  const interval = wilsonInterval(leftWins, decided);
  return {
    cells: [...cellMap.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, cell]) => cell),
    bothBad,
    ties: totals?.ties ?? 0,
    totalBothBad: totals?.both_bad ?? 0,
    positionBias: { decided, leftWins, leftShare: decided > 0 ? leftWins / decided : null, ciLow: interval?.low ?? null, ciHigh: interval?.high ?? null },
  };
}
