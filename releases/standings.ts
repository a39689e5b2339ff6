/**
 * How the models stand in a release, from the pairs and scores the ledger derived for the lifecycles
 * complete by the cutoff: the leaderboard (per-model tallies in SQL, Bradley–Terry over A/B
 * comparisons in TypeScript) and rater agreement (Krippendorff's alpha).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { krippendorffAlphaNominal, type ValueProfile } from './agreement';
import { bootstrapBradleyTerry, type ComparisonCell } from './bradley-terry';
import { rows } from './query';
import type { LeaderboardRow, ReportData } from './report';

/** Bootstrap seed: fixed, so the same cutoff gives the same intervals (and bytes). */
const BOOTSTRAP_SEED = 20_241_122;

export interface Leaderboard {
  /** A/B comparisons, one cell per pair of different models, oriented (lesser model, greater model). */
  cells: ComparisonCell[];
  /** Pairs of rated candidates of one lifecycle with equal scores: no preference pair. */
  tiedPairs: number;
  rows: LeaderboardRow[];
}

/** `completeByCutoff`: the SQL condition on the derived tables' rows (releases/scope.ts). */
export async function leaderboard(c: DuckDBConnection, completeByCutoff: string, bootstrapRounds: number): Promise<Leaderboard> {
  // Every pair of rated candidates in a lifecycle, by (model, model, outcome): ties for the manifest,
  // and between different models the comparisons Bradley–Terry is fitted on.
  const outcomes = await rows<{ model_a: string; model_b: string; outcome: number; n: number }>(
    c,
    `SELECT chosen_model AS model_a, rejected_model AS model_b, CASE WHEN tie THEN 0 ELSE 1 END AS outcome, count(*)::INTEGER AS n
       FROM preference_pairs WHERE ${completeByCutoff}
      GROUP BY ALL ORDER BY ALL`,
  );
  const tiedPairs = outcomes.reduce((n, o) => n + (o.outcome === 0 ? o.n : 0), 0);
  const cellMap = new Map<string, ComparisonCell>();
  for (const o of outcomes) {
    if (o.model_a === o.model_b) continue;
    const flip = o.model_a > o.model_b; // orient every cell as (lesser model, greater model)
    const [modelA, modelB] = flip ? [o.model_b, o.model_a] : [o.model_a, o.model_b];
    const key = `${modelA}\u0000${modelB}`;
    const cell = cellMap.get(key) ?? { modelA, modelB, winsA: 0, winsB: 0, ties: 0 };
    const outcome = flip ? -o.outcome : o.outcome;
    if (outcome > 0) cell.winsA += o.n;
    else if (outcome < 0) cell.winsB += o.n;
    else cell.ties += o.n;
    cellMap.set(key, cell);
  }
  const cells = [...cellMap.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, cell]) => cell);

  const perModel = await rows<{ model: string; lifecycles: number; candidates: number; up: number; down: number }>(
    c,
    `SELECT model, count(*) FILTER (WHERE first_of_model)::INTEGER AS lifecycles, count(*)::INTEGER AS candidates, sum(up)::INTEGER AS up, sum(down)::INTEGER AS down
       FROM candidate_scores WHERE ${completeByCutoff} GROUP BY model ORDER BY model`,
  );
  const bt = new Map(bootstrapBradleyTerry(cells, { rounds: bootstrapRounds, seed: BOOTSTRAP_SEED }).map((m) => [m.model, m]));
  const ranked = [...bt.values()].sort((x, y) => y.score - x.score || x.model.localeCompare(y.model));
  const leaderboardRows: LeaderboardRow[] = perModel.map((m) => {
    const outcome = (side: 'win' | 'loss' | 'tie') =>
      cells.reduce((n, cell) => {
        if (cell.modelA !== m.model && cell.modelB !== m.model) return n;
        if (side === 'tie') return n + cell.ties;
        const mine = cell.modelA === m.model ? cell.winsA : cell.winsB;
        const theirs = cell.modelA === m.model ? cell.winsB : cell.winsA;
        return n + (side === 'win' ? mine : theirs);
      }, 0);
    const rating = bt.get(m.model);
    const votes = m.up + m.down;
    return {
      model: m.model, lifecycles: m.lifecycles, candidates: m.candidates, votes, up: m.up, down: m.down,
      approval_rate: votes > 0 ? m.up / votes : null,
      ab_comparisons: rating?.comparisons ?? 0, ab_wins: outcome('win'), ab_losses: outcome('loss'), ab_ties: outcome('tie'),
      bt_score: rating?.score ?? null, bt_ci_low: rating?.ciLow ?? null, bt_ci_high: rating?.ciHigh ?? null,
      bt_rank: rating ? ranked.indexOf(rating) + 1 : null,
    };
  });
  return { cells, tiedPairs, rows: leaderboardRows };
}

/** Puts the leaderboard in a temp table for COPY; returns the query that reads it in rank order. */
export async function stageLeaderboard(c: DuckDBConnection, leaderboardRows: readonly LeaderboardRow[]): Promise<string> {
  await c.run(
    `CREATE OR REPLACE TEMP TABLE rel_leaderboard (model VARCHAR, lifecycles INTEGER, candidates INTEGER, votes INTEGER, up INTEGER, down INTEGER,
       approval_rate DOUBLE, ab_comparisons INTEGER, ab_wins INTEGER, ab_losses INTEGER, ab_ties INTEGER,
       bt_score DOUBLE, bt_ci_low DOUBLE, bt_ci_high DOUBLE, bt_rank INTEGER)`,
  );
  for (const r of leaderboardRows) {
    await c.run(`INSERT INTO rel_leaderboard VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, [
      r.model, r.lifecycles, r.candidates, r.votes, r.up, r.down, r.approval_rate, r.ab_comparisons, r.ab_wins, r.ab_losses, r.ab_ties,
      r.bt_score, r.bt_ci_low, r.bt_ci_high, r.bt_rank,
    ]);
  }
  return `SELECT * FROM rel_leaderboard ORDER BY bt_rank NULLS LAST, model`;
}

/** Rater agreement, overall and for each of `models`: items are candidates, values a rater's standing up/down; only value-count profiles leave SQL. */
export async function raterAgreement(c: DuckDBConnection, completeByCutoff: string, models: readonly string[]): Promise<ReportData['agreement']> {
  const profileRows = await rows<{ model: string; up: number; down: number; items: number }>(
    c, `SELECT model, up, down, count(*)::INTEGER AS items FROM candidate_scores WHERE ${completeByCutoff} AND up + down >= 2 GROUP BY ALL ORDER BY ALL`,
  );
  const profiles = (model?: string): ValueProfile[] =>
    profileRows.filter((p) => model === undefined || p.model === model).map((p) => ({ counts: [p.up, p.down], items: p.items }));
  return {
    overall: krippendorffAlphaNominal(profiles()),
    perModel: models.map((model) => ({ model, ...krippendorffAlphaNominal(profiles(model)) })),
  };
}
