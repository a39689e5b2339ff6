/**
 * `prefline campaign results <id> [--format table|csv|json] [--include-excluded]`: how a campaign came
 * out, from the ledger (read through the read path, cli/query.ts; the id bound, never spliced):
 * - per model: votes (wins, losses, ties, both bad) and the win rate, ties half;
 * - per matchup (compare item): votes per side, ties, both bad, ratio = max/sum and the winner;
 * - the Bradley–Terry leaderboard over judgements with 95% bootstrap intervals (releases/'s fit, seed
 *   and rounds, so it agrees with a release's `compare_bt_*`);
 * - thumbs items: 👍/👎 per model;
 * - every rater's record (campaign_raters) and the position bias (share of decided answers that went
 *   to the candidate shown on the left, Wilson 95% interval).
 * Gold lifecycles (campaign_gold) never count. Raters the campaign excluded are left out unless
 * `--include-excluded`; the output says how many were excluded and how many of their answers that left out.
 */
import type { PreflineConfig } from '../config';
import { bootstrapBradleyTerry, type ComparisonCell } from '../releases/bradley-terry';
import { CAMPAIGN_LIFECYCLES } from '../releases/campaign-scope';
import { wilsonInterval } from '../releases/comparisons';
import type { PositionBias } from '../releases/layout';
import { BOOTSTRAP_SEED } from '../releases/standings';
import type { QueryResult } from '../store/Ledger';
import type { ParsedArgs } from './args';
import { EXIT } from './command';
import { formatResult, queryLedger } from './query';
import { summarizeResults, type MatchupResult, type ModelResult, type ThumbsResult } from './results';
import { jsonForTerminal, safeForTerminal } from './terminal';

/** The bootstrap rounds of a release's default (releases/publisher.ts). */
const BOOTSTRAP_ROUNDS = 200;

/** The campaign by id (its workflow id), else by label; its latest run when an id was reused. */
const CAMPAIGN_SQL = `
SELECT run_id, campaign_id, label, task, phase, item_count, items_done, items_failed, answers, started_at::VARCHAR AS started_at
  FROM campaigns WHERE campaign_id = $1 OR label = $1
 ORDER BY campaign_id = $1 DESC, started_at DESC LIMIT 1`;

/**
 * `$1` the campaign's run id, `$2` whether excluded raters count. Its data lifecycles: its workflow's
 * children that are not its gold (releases/campaign-scope.ts), never others that share its label.
 */
const SCOPE = `
runs AS (
  SELECT l.run_id, l.lifecycle_id, l.prompt, l.task, l.close_reason, l.started_at
    FROM (${CAMPAIGN_LIFECYCLES}) m JOIN lifecycles l USING (run_id) WHERE m.campaign_run = $1 AND NOT m.gold),
excluded AS (SELECT rater FROM campaign_raters WHERE run_id = $1 AND status = 'excluded')`;

const MATCHUPS_SQL = `
WITH ${SCOPE},
pair AS (
  SELECT c.run_id, any_value(c.model) FILTER (WHERE c.candidate_id = 'c1') AS model_a, any_value(c.model) FILTER (WHERE c.candidate_id = 'c2') AS model_b
    FROM candidates c JOIN runs USING (run_id) GROUP BY c.run_id),
answers AS (
  SELECT j.run_id, j.seq, j.choice, j.winner_candidate, j.left_candidate, ($2 OR j.rater NOT IN (SELECT rater FROM excluded)) AS counted
    FROM judgements j JOIN runs USING (run_id) WHERE j.standing AND j.choice <> 'retract')
SELECT r.lifecycle_id, r.prompt, p.model_a, p.model_b,
       count(a.seq) FILTER (WHERE a.counted AND a.winner_candidate = 'c1')::INTEGER AS votes_a,
       count(a.seq) FILTER (WHERE a.counted AND a.winner_candidate = 'c2')::INTEGER AS votes_b,
       count(a.seq) FILTER (WHERE a.counted AND a.choice = 'tie')::INTEGER AS ties,
       count(a.seq) FILTER (WHERE a.counted AND a.choice = 'both_bad')::INTEGER AS both_bad,
       count(a.seq) FILTER (WHERE a.counted AND a.winner_candidate = a.left_candidate)::INTEGER AS left_wins,
       count(a.seq) FILTER (WHERE NOT a.counted)::INTEGER AS excluded_answers,
       coalesce(r.close_reason, 'voting') AS status
  FROM runs r JOIN pair p USING (run_id) LEFT JOIN answers a ON a.run_id = r.run_id
 WHERE r.task = 'compare'
 GROUP BY r.lifecycle_id, r.run_id, r.prompt, p.model_a, p.model_b, r.close_reason, r.started_at
 ORDER BY r.started_at, r.lifecycle_id`;

const THUMBS_SQL = `
WITH ${SCOPE}
SELECT c.model,
       count(v.seq) FILTER (WHERE v.value = 1 AND ($2 OR v.rater NOT IN (SELECT rater FROM excluded)))::INTEGER AS up,
       count(v.seq) FILTER (WHERE v.value = -1 AND ($2 OR v.rater NOT IN (SELECT rater FROM excluded)))::INTEGER AS down,
       count(DISTINCT c.run_id || '/' || c.candidate_id)::INTEGER AS candidates,
       count(v.seq) FILTER (WHERE v.rater IN (SELECT rater FROM excluded) AND NOT $2)::INTEGER AS excluded_answers
  FROM runs t JOIN candidates c USING (run_id)
  LEFT JOIN votes v ON v.run_id = c.run_id AND v.candidate_id = c.candidate_id AND v.standing AND v.kind = 'vote'
 WHERE t.task = 'thumbs'
 GROUP BY c.model ORDER BY c.model`;

const RATERS_SQL = `
SELECT rater, answers, gold_answered, gold_correct, CASE WHEN gold_answered > 0 THEN gold_correct / gold_answered END AS gold_accuracy,
       score, status, reason, excluded_at::VARCHAR AS excluded_at
  FROM campaign_raters WHERE run_id = $1 ORDER BY status = 'excluded', score DESC, rater`;

const GOLD_SQL = `SELECT count(*)::INTEGER AS n FROM campaign_gold WHERE run_id = $1`;

export interface CampaignModelResult extends ModelResult {
  /** Wins + losses + ties: the answers between this model and another. */
  votes: number;
  /** (wins + ties / 2) / votes; null without votes. */
  win_rate: number | null;
}

export interface LeaderboardEntry {
  rank: number;
  model: string;
  score: number;
  ci_low: number;
  ci_high: number;
  comparisons: number;
}

export interface CampaignRaterResult {
  rater: string;
  answers: number;
  gold_answered: number;
  gold_correct: number;
  gold_accuracy: number | null;
  score: number;
  status: string;
  reason: string | null;
  excluded_at: string | null;
}

export interface CampaignResults {
  campaign: { id: string; label: string; task: string; phase: string; items: number; done: number; failed: number; answers: number; started_at: string };
  /** Whether excluded raters' answers were counted (`--include-excluded`). */
  includeExcluded: boolean;
  excludedRaters: number;
  /** Standing answers of excluded raters that the results leave out (0 with `--include-excluded`). */
  excludedAnswersLeftOut: number;
  goldLifecycles: number;
  models: CampaignModelResult[];
  matchups: MatchupResult[];
  leaderboard: LeaderboardEntry[];
  thumbs: ThumbsResult[];
  raters: CampaignRaterResult[];
  positionBias: PositionBias;
}

type Row = Record<string, unknown>;

/** Between-model cells for the fit, oriented (lesser model, greater model) as releases/comparisons.ts orients them. */
export function comparisonCells(matchups: readonly MatchupResult[]): ComparisonCell[] {
  const cells = new Map<string, ComparisonCell>();
  for (const m of matchups) {
    if (m.model_a === m.model_b) continue;
    const flip = m.model_a > m.model_b;
    const [modelA, modelB] = flip ? [m.model_b, m.model_a] : [m.model_a, m.model_b];
    const key = `${modelA}\u0000${modelB}`;
    const cell = cells.get(key) ?? { modelA, modelB, winsA: 0, winsB: 0, ties: 0 };
    cell.winsA += flip ? m.votes_b : m.votes_a;
    cell.winsB += flip ? m.votes_a : m.votes_b;
    cell.ties += m.ties;
    cells.set(key, cell);
  }
  return [...cells.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, cell]) => cell);
}

export function leaderboardOf(cells: readonly ComparisonCell[], rounds = BOOTSTRAP_ROUNDS): LeaderboardEntry[] {
  return bootstrapBradleyTerry(cells, { rounds, seed: BOOTSTRAP_SEED })
    .sort((x, y) => y.score - x.score || x.model.localeCompare(y.model))
    .map((m, i) => ({ rank: i + 1, model: m.model, score: m.score, ci_low: m.ciLow, ci_high: m.ciHigh, comparisons: m.comparisons }));
}

/** The results from the ledger's rows (the queries above). */
export function summarizeCampaign(
  campaign: Row, matchupRows: readonly Row[], thumbsRows: readonly Row[], raterRows: readonly Row[], goldLifecycles: number, includeExcluded: boolean,
): CampaignResults {
  const { matchups, models, thumbs } = summarizeResults(matchupRows, thumbsRows);
  const decided = matchups.reduce((n, m) => n + m.votes_a + m.votes_b, 0);
  const leftWins = matchupRows.reduce((n, r) => n + Number(r['left_wins']), 0);
  const interval = wilsonInterval(leftWins, decided);
  const raters = raterRows.map((r): CampaignRaterResult => ({
    rater: String(r['rater']), answers: Number(r['answers']), gold_answered: Number(r['gold_answered']), gold_correct: Number(r['gold_correct']),
    gold_accuracy: r['gold_accuracy'] === null ? null : Number(r['gold_accuracy']), score: Number(r['score']), status: String(r['status']),
    reason: r['reason'] === null ? null : String(r['reason']), excluded_at: r['excluded_at'] === null ? null : String(r['excluded_at']),
  }));
  const excludedAnswers = [...matchupRows, ...thumbsRows].reduce((n, r) => n + Number(r['excluded_answers']), 0);
  return {
    campaign: {
      id: String(campaign['campaign_id']), label: String(campaign['label']), task: String(campaign['task']), phase: String(campaign['phase']),
      items: Number(campaign['item_count']), done: Number(campaign['items_done']), failed: Number(campaign['items_failed']), answers: Number(campaign['answers']),
      started_at: String(campaign['started_at']),
    },
    includeExcluded,
    excludedRaters: raters.filter((r) => r.status === 'excluded').length,
    excludedAnswersLeftOut: excludedAnswers,
    goldLifecycles,
    models: models.map((m) => {
      const votes = m.wins + m.losses + m.ties;
      return { ...m, votes, win_rate: votes > 0 ? (m.wins + m.ties / 2) / votes : null };
    }),
    matchups,
    leaderboard: leaderboardOf(comparisonCells(matchups)),
    thumbs,
    raters,
    positionBias: { decided, leftWins, leftShare: decided > 0 ? leftWins / decided : null, ciLow: interval?.low ?? null, ciHigh: interval?.high ?? null },
  };
}

const round = (x: number | null, digits = 3) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

function asTable(rows: readonly object[], columns: readonly string[], types: readonly string[]): QueryResult {
  return { columns: [...columns], rows: rows.map((r) => ({ ...r }) as Row), columnTypes: [...types] };
}

const MATCHUP_COLUMNS = ['lifecycle_id', 'prompt', 'model_a', 'model_b', 'votes_a', 'votes_b', 'ties', 'both_bad', 'ratio', 'winner', 'winner_model', 'status'];
const MATCHUP_TYPES = ['VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'INTEGER', 'INTEGER', 'INTEGER', 'INTEGER', 'DOUBLE', 'VARCHAR', 'VARCHAR', 'VARCHAR'];

/** One line on what was left out, for every format but JSON (which has the numbers). */
export function exclusionNote(results: CampaignResults): string {
  const raters = `${results.excludedRaters} rater${results.excludedRaters === 1 ? '' : 's'} excluded`;
  const counted = results.includeExcluded
    ? 'their answers are included (--include-excluded)'
    : `their ${results.excludedAnswersLeftOut} answer${results.excludedAnswersLeftOut === 1 ? '' : 's'} left out (--include-excluded counts them)`;
  return `${raters}: ${counted}; ${results.goldLifecycles} gold item${results.goldLifecycles === 1 ? '' : 's'} never counted`;
}

/**
 * `json` everything; `csv` the matchups (thumbs campaigns: 👍/👎 per model), the exclusion note on
 * stderr; `table` every part under a heading, the note first.
 */
export function formatCampaignResults(results: CampaignResults, format: string): { stdout: string; stderr?: string } {
  if (format === 'json') return { stdout: jsonForTerminal(JSON.stringify(results, null, 2)) };
  const matchups = asTable(results.matchups.map((m) => ({ ...m, ratio: round(m.ratio) })), MATCHUP_COLUMNS, MATCHUP_TYPES);
  const thumbs = asTable(results.thumbs, ['model', 'up', 'down', 'candidates'], ['VARCHAR', 'INTEGER', 'INTEGER', 'INTEGER']);
  if (format === 'csv') {
    return { stdout: formatResult(results.matchups.length > 0 || results.thumbs.length === 0 ? matchups : thumbs, 'csv'), stderr: exclusionNote(results) };
  }
  const { campaign: k, positionBias: bias } = results;
  const parts = [
    `Campaign ${k.id} (label ${k.label}, ${k.task}, ${k.phase}): ${k.done} of ${k.items} items done, ${k.failed} failed, ${k.answers} answers`,
    exclusionNote(results),
  ];
  if (results.matchups.length > 0) {
    const models = asTable(results.models.map((m) => ({ ...m, win_rate: round(m.win_rate) })), ['model', 'votes', 'wins', 'losses', 'ties', 'both_bad', 'win_rate', 'matchups'],
      ['VARCHAR', 'INTEGER', 'INTEGER', 'INTEGER', 'INTEGER', 'INTEGER', 'DOUBLE', 'INTEGER']);
    const board = asTable(results.leaderboard.map((e) => ({ ...e, score: round(e.score, 1), ci_low: round(e.ci_low, 1), ci_high: round(e.ci_high, 1) })),
      ['rank', 'model', 'score', 'ci_low', 'ci_high', 'comparisons'], ['INTEGER', 'VARCHAR', 'DOUBLE', 'DOUBLE', 'DOUBLE', 'INTEGER']);
    parts.push('', 'Models (compare)', formatResult(models, 'table'));
    parts.push('', 'Bradley–Terry leaderboard (judgements, ties half; 95% bootstrap intervals)', results.leaderboard.length > 0 ? formatResult(board, 'table') : '(no answers between different models)');
    parts.push('', 'Matchups', formatResult(matchups, 'table'));
    parts.push('', bias.leftShare === null
      ? 'Position bias: no decided answer'
      : `Position bias: ${(100 * bias.leftShare).toFixed(1)}% of ${bias.decided} decided answers went to the candidate shown on the left (95% ${(100 * (bias.ciLow ?? 0)).toFixed(1)}–${(100 * (bias.ciHigh ?? 0)).toFixed(1)}%; 50% = no bias)`);
  }
  if (results.thumbs.length > 0) parts.push('', 'Models (thumbs)', formatResult(thumbs, 'table'));
  const raters = asTable(results.raters.map((r) => ({ ...r, gold_accuracy: round(r.gold_accuracy), score: round(r.score) })),
    ['rater', 'answers', 'gold_answered', 'gold_correct', 'gold_accuracy', 'score', 'status', 'reason'],
    ['VARCHAR', 'INTEGER', 'INTEGER', 'INTEGER', 'DOUBLE', 'DOUBLE', 'VARCHAR', 'VARCHAR']);
  parts.push('', 'Raters', results.raters.length > 0 ? formatResult(raters, 'table') : '(no rater records yet)');
  return { stdout: parts.join('\n') };
}

export async function readCampaignResults(config: PreflineConfig, target: string, includeExcluded: boolean): Promise<CampaignResults | undefined> {
  const [campaign] = (await queryLedger(config, CAMPAIGN_SQL, [target])).rows;
  if (!campaign) return undefined;
  const runId = String(campaign['run_id']);
  const matchups = await queryLedger(config, MATCHUPS_SQL, [runId, includeExcluded]);
  const thumbs = await queryLedger(config, THUMBS_SQL, [runId, includeExcluded]);
  const raters = await queryLedger(config, RATERS_SQL, [runId]);
  const gold = await queryLedger(config, GOLD_SQL, [runId]);
  return summarizeCampaign(campaign, matchups.rows, thumbs.rows, raters.rows, Number(gold.rows[0]?.['n'] ?? 0), includeExcluded);
}

export async function runCampaignResults(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const target = args.positional[0] as string;
  const format = typeof args.flags.format === 'string' ? args.flags.format : 'table';
  const results = await readCampaignResults(config, target, args.flags['include-excluded'] === true);
  if (!results) {
    process.stderr.write(safeForTerminal(`no campaign "${target}" in the ledger (a campaign's row appears once it has started)`) + '\n');
    return EXIT.refused;
  }
  const out = formatCampaignResults(results, format);
  process.stdout.write(out.stdout + '\n');
  if (out.stderr) process.stderr.write(safeForTerminal(out.stderr) + '\n');
  return EXIT.ok;
}
