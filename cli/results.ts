/**
 * `prefline results <lifecycle-id | campaign label>`: how the matchups came out, as Rapidata reports
 * them, from the ledger's standing judgements and votes (read through the read path, cli/query.ts,
 * the id or label bound, never spliced):
 * - per compare lifecycle: votes for each side (a = its first candidate, b = its second), ties, both
 *   bad, ratio = max/sum of the two sides' votes, the winner ('a', 'b' or 'tie');
 * - per model: wins, losses, ties and both-bad answers over those matchups;
 * - per model of thumbs lifecycles: standing 👍 and 👎.
 * Lifecycles still voting show the flags of their last increment (status `voting`).
 */
import type { PreflineConfig } from '../config';
import type { QueryResult } from '../store/Ledger';
import { EXIT, type Command } from './command';
import { formatResult, queryLedger } from './query';
import { jsonForTerminal, safeForTerminal } from './terminal';

export interface MatchupResult {
  lifecycle_id: string;
  prompt: string;
  model_a: string;
  model_b: string;
  votes_a: number;
  votes_b: number;
  ties: number;
  both_bad: number;
  /** max(votes_a, votes_b) / (votes_a + votes_b); null without a decided answer. */
  ratio: number | null;
  winner: 'a' | 'b' | 'tie';
  winner_model: string | null;
  status: string;
}

export interface ModelResult {
  model: string;
  wins: number;
  losses: number;
  ties: number;
  both_bad: number;
  matchups: number;
}

export interface ThumbsResult {
  model: string;
  up: number;
  down: number;
  candidates: number;
}

export interface Results {
  matchups: MatchupResult[];
  models: ModelResult[];
  thumbs: ThumbsResult[];
}

const TARGET = `SELECT run_id, lifecycle_id, prompt, task, close_reason, started_at FROM lifecycles WHERE lifecycle_id = $1 OR campaign = $1`;

const MATCHUPS_SQL = `
WITH target AS (${TARGET}),
pair AS (
  SELECT c.run_id, any_value(c.model) FILTER (WHERE c.candidate_id = 'c1') AS model_a, any_value(c.model) FILTER (WHERE c.candidate_id = 'c2') AS model_b
    FROM candidates c JOIN target USING (run_id) GROUP BY c.run_id)
SELECT t.lifecycle_id, t.prompt, p.model_a, p.model_b,
       count(j.seq) FILTER (WHERE j.winner_candidate = 'c1')::INTEGER AS votes_a,
       count(j.seq) FILTER (WHERE j.winner_candidate = 'c2')::INTEGER AS votes_b,
       count(j.seq) FILTER (WHERE j.choice = 'tie')::INTEGER AS ties,
       count(j.seq) FILTER (WHERE j.choice = 'both_bad')::INTEGER AS both_bad,
       coalesce(t.close_reason, 'voting') AS status
  FROM target t JOIN pair p USING (run_id) LEFT JOIN judgements j ON j.run_id = t.run_id AND j.standing
 WHERE t.task = 'compare'
 GROUP BY t.lifecycle_id, t.run_id, t.prompt, p.model_a, p.model_b, t.close_reason, t.started_at
 ORDER BY t.started_at, t.lifecycle_id`;

const THUMBS_SQL = `
WITH target AS (${TARGET})
SELECT c.model,
       count(v.seq) FILTER (WHERE v.value = 1)::INTEGER AS up,
       count(v.seq) FILTER (WHERE v.value = -1)::INTEGER AS down,
       count(DISTINCT c.run_id || '/' || c.candidate_id)::INTEGER AS candidates
  FROM target t JOIN candidates c USING (run_id)
  LEFT JOIN votes v ON v.run_id = c.run_id AND v.candidate_id = c.candidate_id AND v.standing AND v.kind = 'vote'
 WHERE t.task = 'thumbs'
 GROUP BY c.model ORDER BY c.model`;

const FOUND_SQL = `SELECT count(*)::INTEGER AS n FROM (${TARGET})`;

type Row = Record<string, unknown>;

/** The outcome of one matchup from its side counts. */
export function matchupOutcome(votesA: number, votesB: number): Pick<MatchupResult, 'ratio' | 'winner'> {
  const decided = votesA + votesB;
  return { ratio: decided === 0 ? null : Math.max(votesA, votesB) / decided, winner: votesA > votesB ? 'a' : votesB > votesA ? 'b' : 'tie' };
}

/** Results from the ledger's rows (the queries above). */
export function summarizeResults(matchupRows: readonly Row[], thumbsRows: readonly Row[]): Results {
  const matchups = matchupRows.map((r): MatchupResult => {
    const votesA = Number(r['votes_a']);
    const votesB = Number(r['votes_b']);
    const outcome = matchupOutcome(votesA, votesB);
    const modelA = String(r['model_a']);
    const modelB = String(r['model_b']);
    return {
      lifecycle_id: String(r['lifecycle_id']), prompt: String(r['prompt']), model_a: modelA, model_b: modelB,
      votes_a: votesA, votes_b: votesB, ties: Number(r['ties']), both_bad: Number(r['both_bad']), ...outcome,
      winner_model: outcome.winner === 'a' ? modelA : outcome.winner === 'b' ? modelB : null, status: String(r['status']),
    };
  });
  const models = new Map<string, ModelResult>();
  const model = (name: string) => models.get(name) ?? models.set(name, { model: name, wins: 0, losses: 0, ties: 0, both_bad: 0, matchups: 0 }).get(name)!;
  for (const m of matchups) {
    for (const [name, won, lost] of [[m.model_a, m.votes_a, m.votes_b], [m.model_b, m.votes_b, m.votes_a]] as const) {
      const entry = model(name);
      entry.wins += won;
      entry.losses += lost;
      entry.ties += m.ties;
      entry.both_bad += m.both_bad;
      entry.matchups += 1;
    }
  }
  const thumbs = thumbsRows.map((r) => ({ model: String(r['model']), up: Number(r['up']), down: Number(r['down']), candidates: Number(r['candidates']) }));
  return { matchups, models: [...models.values()].sort((a, b) => b.wins - a.wins || (a.model < b.model ? -1 : 1)), thumbs };
}

function asTable<T extends object>(rows: readonly T[], columns: ReadonlyArray<keyof T & string>, types: readonly string[]): QueryResult {
  return { columns: [...columns], rows: rows.map((r) => ({ ...r }) as Record<string, unknown>), columnTypes: [...types] };
}

const MATCHUP_COLUMNS = ['lifecycle_id', 'prompt', 'model_a', 'model_b', 'votes_a', 'votes_b', 'ties', 'both_bad', 'ratio', 'winner', 'winner_model', 'status'] as const;
const MATCHUP_TYPES = ['VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'INTEGER', 'INTEGER', 'INTEGER', 'INTEGER', 'DOUBLE', 'VARCHAR', 'VARCHAR', 'VARCHAR'];

/**
 * The results as text: `json` everything; `csv` the matchups (for a target of thumbs lifecycles only,
 * the per-model 👍/👎); `table` each part there is, under a heading.
 */
export function formatResults(results: Results, format: string): string {
  if (format === 'json') return jsonForTerminal(JSON.stringify(results, null, 2));
  const matchups = asTable(results.matchups.map((m) => ({ ...m, ratio: m.ratio === null ? null : Math.round(m.ratio * 1000) / 1000 })), MATCHUP_COLUMNS, MATCHUP_TYPES);
  const models = asTable(results.models, ['model', 'wins', 'losses', 'ties', 'both_bad', 'matchups'], ['VARCHAR', 'INTEGER', 'INTEGER', 'INTEGER', 'INTEGER', 'INTEGER']);
  const thumbs = asTable(results.thumbs, ['model', 'up', 'down', 'candidates'], ['VARCHAR', 'INTEGER', 'INTEGER', 'INTEGER']);
  if (format === 'csv') return formatResult(results.matchups.length > 0 || results.thumbs.length === 0 ? matchups : thumbs, 'csv');
  const parts: string[] = [];
  if (results.matchups.length > 0) parts.push('Models (compare)', formatResult(models, 'table'), '', 'Matchups', formatResult(matchups, 'table'));
  if (results.thumbs.length > 0) parts.push(...(parts.length > 0 ? [''] : []), 'Models (thumbs)', formatResult(thumbs, 'table'));
  return parts.join('\n');
}

export async function readResults(config: PreflineConfig, target: string): Promise<Results | undefined> {
  const found = await queryLedger(config, FOUND_SQL, [target]);
  if (Number(found.rows[0]?.['n'] ?? 0) === 0) return undefined;
  const [matchups, thumbs] = [await queryLedger(config, MATCHUPS_SQL, [target]), await queryLedger(config, THUMBS_SQL, [target])];
  return summarizeResults(matchups.rows, thumbs.rows);
}

export const RESULTS_COMMAND: Command = {
  spec: {
    name: 'results',
    args: '<lifecycle-id|campaign>',
    summary: 'votes per model, ratio and winner per matchup (compare), 👍/👎 per model (thumbs), from the ledger',
    positionals: [1, 1],
    options: {
      format: { type: 'string', value: 'FORMAT', description: 'output format, default table; csv: the matchups; json: everything', choices: ['table', 'csv', 'json'] },
    },
    details: [
      'ratio = max/sum of the two sides\' standing votes (ties and both bad not counted); winner a, b or tie.',
      'exit code 3 when no lifecycle or campaign of that name is in the ledger.',
      'example: prefline results seed-1 --format csv',
    ].join('\n'),
  },
  async run(config: PreflineConfig, args) {
    const target = args.positional[0] as string;
    const format = typeof args.flags.format === 'string' ? args.flags.format : 'table';
    const results = await readResults(config, target);
    if (!results) {
      process.stderr.write(safeForTerminal(`no lifecycle or campaign "${target}" in the ledger (its lifecycles appear once they commit)`) + '\n');
      return EXIT.refused;
    }
    process.stdout.write(formatResults(results, format) + '\n');
    return EXIT.ok;
  },
};
