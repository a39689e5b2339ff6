/**
 * How the models stand in a release, from the pairs, scores and judgements the ledger derived for the
 * lifecycles complete by the cutoff: the leaderboard (per-model tallies in SQL, Bradley–Terry in
 * TypeScript), the comparison counts per model pair, and rater agreement (Krippendorff's alpha).
 *
 * Two Bradley–Terry fits, never mixed, because their comparisons are different things: `bt_*` over
 * score-derived A/B comparisons (one per pair of candidates of different models in a thumbs lifecycle,
 * however many raters voted), and `compare_bt_*` over judgements (one comparison per rater's standing
 * answer; both-bad left out). model_pairs.parquet has both, told apart by `source`.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { krippendorffAlphaNominal, type ValueProfile } from './agreement';
import { bootstrapBradleyTerry, type ComparisonCell, type RatedModel } from './bradley-terry';
import { pairKey, type JudgementTotals } from './comparisons';
import { rows } from './query';
import type { LeaderboardRow, ReportData } from './report';

/** Bootstrap seed: fixed, so the same cutoff gives the same intervals (and bytes). */
export const BOOTSTRAP_SEED = 20_241_122;

export interface Leaderboard {
  /** A/B comparisons, one cell per pair of different models, oriented (lesser model, greater model). */
  cells: ComparisonCell[];
  /** Pairs of rated candidates of one lifecycle with equal scores: no preference pair. */
  tiedPairs: number;
  rows: LeaderboardRow[];
}

/** Wins, losses and ties of `model` over the cells it is in. */
function tally(cells: readonly ComparisonCell[], model: string): { wins: number; losses: number; ties: number } {
  let wins = 0;
  let losses = 0;
  let ties = 0;
  for (const cell of cells) {
    if (cell.modelA !== model && cell.modelB !== model) continue;
    wins += cell.modelA === model ? cell.winsA : cell.winsB;
    losses += cell.modelA === model ? cell.winsB : cell.winsA;
    ties += cell.ties;
  }
  return { wins, losses, ties };
}

/** The bootstrap fit by model, and each rated model's rank (1 = highest score). */
function fit(cells: readonly ComparisonCell[], bootstrapRounds: number): { rating: Map<string, RatedModel>; rank: Map<string, number> } {
  const rating = new Map(bootstrapBradleyTerry(cells, { rounds: bootstrapRounds, seed: BOOTSTRAP_SEED }).map((m) => [m.model, m]));
  const ranked = [...rating.values()].sort((x, y) => y.score - x.score || x.model.localeCompare(y.model));
  return { rating, rank: new Map(ranked.map((m, i) => [m.model, i + 1])) };
}

/**
 * `completeByCutoff`: the SQL condition on the derived tables' rows (releases/scope.ts); `judgements`:
 * their totals (releases/comparisons.ts); `notGold`: appended to it, leaves gold lifecycles out
 * (releases/campaign-scope.ts).
 */
export async function leaderboard(
  c: DuckDBConnection, completeByCutoff: string, bootstrapRounds: number, judgements: JudgementTotals, notGold = '',
): Promise<Leaderboard> {
  // Every pair of rated candidates in a lifecycle, by (model, model, outcome): ties for the manifest,
  // and between different models the comparisons Bradley–Terry is fitted on.
  const outcomes = await rows<{ model_a: string; model_b: string; outcome: number; n: number }>(
    c,
    `SELECT chosen_model AS model_a, rejected_model AS model_b, CASE WHEN tie THEN 0 ELSE 1 END AS outcome, count(*)::INTEGER AS n
       FROM preference_pairs WHERE ${completeByCutoff}${notGold}
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

  const perModel = new Map((await rows<{ model: string; lifecycles: number; candidates: number; up: number; down: number }>(
    c,
    `SELECT model, count(*) FILTER (WHERE first_of_model)::INTEGER AS lifecycles, count(*)::INTEGER AS candidates, sum(up)::INTEGER AS up, sum(down)::INTEGER AS down
       FROM candidate_scores WHERE ${completeByCutoff}${notGold} GROUP BY model ORDER BY model`,
  )).map((m) => [m.model, m]));
  const thumbs = fit(cells, bootstrapRounds);
  const compare = fit(judgements.cells, bootstrapRounds);
  // Every model with candidates, and any model only judgements name (its candidates' scores are derived too; this is a safeguard).
  const models = [...new Set([...perModel.keys(), ...judgements.cells.flatMap((cell) => [cell.modelA, cell.modelB])])].sort();
  const leaderboardRows: LeaderboardRow[] = models.map((model) => {
    const m = perModel.get(model) ?? { lifecycles: 0, candidates: 0, up: 0, down: 0 };
    const ab = tally(cells, model);
    const judged = tally(judgements.cells, model);
    const rating = thumbs.rating.get(model);
    const judgedRating = compare.rating.get(model);
    const bothBad = judgements.cells.reduce((n, cell) => n + (cell.modelA === model || cell.modelB === model ? judgements.bothBad.get(pairKey(cell.modelA, cell.modelB)) ?? 0 : 0), 0);
    const votes = m.up + m.down;
    return {
      model, lifecycles: m.lifecycles, candidates: m.candidates, votes, up: m.up, down: m.down,
      approval_rate: votes > 0 ? m.up / votes : null,
      ab_comparisons: rating?.comparisons ?? 0, ab_wins: ab.wins, ab_losses: ab.losses, ab_ties: ab.ties,
      bt_score: rating?.score ?? null, bt_ci_low: rating?.ciLow ?? null, bt_ci_high: rating?.ciHigh ?? null, bt_rank: thumbs.rank.get(model) ?? null,
      compare_comparisons: judgedRating?.comparisons ?? 0, compare_wins: judged.wins, compare_losses: judged.losses, compare_ties: judged.ties,
      compare_both_bad: bothBad,
      compare_bt_score: judgedRating?.score ?? null, compare_bt_ci_low: judgedRating?.ciLow ?? null, compare_bt_ci_high: judgedRating?.ciHigh ?? null,
      compare_bt_rank: compare.rank.get(model) ?? null,
    };
  });
  return { cells, tiedPairs, rows: leaderboardRows };
}

/** The leaderboard's columns and SQL types, in file order. */
const LEADERBOARD_COLUMNS = [
  ['model', 'VARCHAR'], ['lifecycles', 'INTEGER'], ['candidates', 'INTEGER'], ['votes', 'INTEGER'], ['up', 'INTEGER'], ['down', 'INTEGER'],
  ['approval_rate', 'DOUBLE'], ['ab_comparisons', 'INTEGER'], ['ab_wins', 'INTEGER'], ['ab_losses', 'INTEGER'], ['ab_ties', 'INTEGER'],
  ['bt_score', 'DOUBLE'], ['bt_ci_low', 'DOUBLE'], ['bt_ci_high', 'DOUBLE'], ['bt_rank', 'INTEGER'],
  ['compare_comparisons', 'INTEGER'], ['compare_wins', 'INTEGER'], ['compare_losses', 'INTEGER'], ['compare_ties', 'INTEGER'], ['compare_both_bad', 'INTEGER'],
  ['compare_bt_score', 'DOUBLE'], ['compare_bt_ci_low', 'DOUBLE'], ['compare_bt_ci_high', 'DOUBLE'], ['compare_bt_rank', 'INTEGER'],
] as const satisfies ReadonlyArray<readonly [keyof LeaderboardRow, string]>;

/** Rows into a fresh temp table, values bound (a few hundred rows at most: one per model, or per model pair). */
async function stage<Row>(c: DuckDBConnection, table: string, columns: ReadonlyArray<readonly [keyof Row & string, string]>, values: readonly Row[]): Promise<void> {
  await c.run(`CREATE OR REPLACE TEMP TABLE ${table} (${columns.map(([name, type]) => `${name} ${type}`).join(', ')})`);
  for (const row of values) {
    await c.run(`INSERT INTO ${table} VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, columns.map(([name]) => row[name] as number | string | null));
  }
}

/** Puts the leaderboard in a temp table for COPY; returns the query that reads it in rank order (thumbs rank, then compare rank). */
export async function stageLeaderboard(c: DuckDBConnection, leaderboardRows: readonly LeaderboardRow[]): Promise<string> {
  await stage(c, 'rel_leaderboard', LEADERBOARD_COLUMNS, leaderboardRows);
  return `SELECT * FROM rel_leaderboard ORDER BY bt_rank NULLS LAST, compare_bt_rank NULLS LAST, model`;
}

/** One row of model_pairs.parquet: how often two models met, and how it went (ties count half in win_rate_a). */
export interface ModelPairRow {
  source: 'thumbs' | 'compare';
  model_a: string;
  model_b: string;
  /** wins_a + wins_b + ties: the Bradley–Terry fit's comparisons. */
  comparisons: number;
  wins_a: number;
  wins_b: number;
  ties: number;
  /** Compare only (judgements both candidates were bad); null for thumbs. */
  both_bad: number | null;
  win_rate_a: number | null;
}

const MODEL_PAIR_COLUMNS = [
  ['source', 'VARCHAR'], ['model_a', 'VARCHAR'], ['model_b', 'VARCHAR'], ['comparisons', 'INTEGER'], ['wins_a', 'INTEGER'], ['wins_b', 'INTEGER'],
  ['ties', 'INTEGER'], ['both_bad', 'INTEGER'], ['win_rate_a', 'DOUBLE'],
] as const satisfies ReadonlyArray<readonly [keyof ModelPairRow, string]>;

/** Both sources' cells as model_pairs rows: thumbs first, each by (model_a, model_b), a < b. */
export function modelPairRows(thumbsCells: readonly ComparisonCell[], judgements: JudgementTotals): ModelPairRow[] {
  const row = (source: ModelPairRow['source'], cell: ComparisonCell, bothBad: number | null): ModelPairRow => {
    const comparisons = cell.winsA + cell.winsB + cell.ties;
    return {
      source, model_a: cell.modelA, model_b: cell.modelB, comparisons, wins_a: cell.winsA, wins_b: cell.winsB, ties: cell.ties, both_bad: bothBad,
      win_rate_a: comparisons > 0 ? (cell.winsA + cell.ties / 2) / comparisons : null,
    };
  };
  return [
    ...thumbsCells.map((cell) => row('thumbs', cell, null)),
    ...judgements.cells.map((cell) => row('compare', cell, judgements.bothBad.get(pairKey(cell.modelA, cell.modelB)) ?? 0)),
  ];
}

/** Puts the model pairs in a temp table for COPY; returns the query that reads them in the given order. */
export async function stageModelPairs(c: DuckDBConnection, pairRows: readonly ModelPairRow[]): Promise<string> {
  await stage(c, 'rel_model_pairs', MODEL_PAIR_COLUMNS, pairRows);
  return `SELECT * FROM rel_model_pairs`;
}

/** Rater agreement, overall and for each of `models`: items are candidates, values a rater's standing up/down; only value-count profiles leave SQL. */
export async function raterAgreement(c: DuckDBConnection, completeByCutoff: string, models: readonly string[], notGold = ''): Promise<ReportData['agreement']> {
  const profileRows = await rows<{ model: string; up: number; down: number; items: number }>(
    c, `SELECT model, up, down, count(*)::INTEGER AS items FROM candidate_scores WHERE ${completeByCutoff}${notGold} AND up + down >= 2 GROUP BY ALL ORDER BY ALL`,
  );
  const profiles = (model?: string): ValueProfile[] =>
    profileRows.filter((p) => model === undefined || p.model === model).map((p) => ({ counts: [p.up, p.down], items: p.items }));
  return {
    overall: krippendorffAlphaNominal(profiles()),
    perModel: models.map((model) => ({ model, ...krippendorffAlphaNominal(profiles(model)) })),
  };
}
