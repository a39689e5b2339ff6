/**
 * Tables the ledger derives from its own rows when a lifecycle is complete, so a release copies
 * them instead of recomputing every lifecycle's scores and preference pairs each day
 * (bench/release: that recomputation was a third of a release's time).
 *
 * A lifecycle is complete once it has closed and the ledger holds as many vote and judgement rows as it accepted
 * (one still voting commits increments, and is not complete whatever its count). The commit that
 * completes it inserts, in the same transaction:
 *   - `lifecycle_completions`: one row, the run id and that commit's time (its primary key makes the
 *     derivation happen once, however often the commit is retried);
 *   - `candidate_scores`: one row per candidate: standing up and down votes, score = up − down;
 *   - `preference_pairs`: one row per pair of rated candidates, the higher score chosen, ties
 *     flagged (releases leave ties out of preferences.parquet but count them on the leaderboard);
 *   - `judgement_battles` and `judgement_matchups`: its standing judgements and their result per side
 *     (store/judgement-derived.ts).
 *
 * All are append-only and carry the completion time, so a release at cutoff T takes exactly
 * the lifecycles complete by T: the rows with `completed_at <= T`, in completion order.
 *
 * The statements work on a scope of (run_id, completed_at) rows: one lifecycle for a commit, every
 * complete lifecycle not yet derived when an older ledger is upgraded (`Ledger.deriveCompleted`).
 * `$1` is a lower bound on the commit times of the scope's rows: for a commit, the lifecycle's first
 * commit. Commit times only grow in ledger order (Ledger clamps them), so DuckDB skips every older
 * row group instead of scanning the whole ledger on each commit.
 */

import { JUDGEMENT_DERIVED_SCHEMA, JUDGEMENT_DERIVED_TABLES, deriveJudgementStatements } from './judgement-derived';

/** Every derived table: a commit that redoes a completed lifecycle (a reset workflow) deletes its rows from each. */
export const DERIVED_TABLES = ['candidate_scores', 'preference_pairs', ...JUDGEMENT_DERIVED_TABLES] as const;

export const DERIVED_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS lifecycle_completions (
     run_id VARCHAR PRIMARY KEY,
     completed_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS candidate_scores (
     run_id VARCHAR NOT NULL,
     lifecycle_id VARCHAR NOT NULL,
     candidate_id VARCHAR NOT NULL,
     model VARCHAR NOT NULL,
     up INTEGER NOT NULL,
     down INTEGER NOT NULL,
     score INTEGER NOT NULL,
     -- The lifecycle's first candidate of this model (by id): counting these counts lifecycles per model.
     first_of_model BOOLEAN NOT NULL,
     completed_at TIMESTAMPTZ NOT NULL)`,
  // The columns of preferences.parquet, in its order, then the tie flag and the completion time.
  `CREATE TABLE IF NOT EXISTS preference_pairs (
     prompt VARCHAR NOT NULL,
     chosen_path VARCHAR NOT NULL,
     rejected_path VARCHAR NOT NULL,
     chosen_text VARCHAR,
     rejected_text VARCHAR,
     chosen_model VARCHAR NOT NULL,
     rejected_model VARCHAR NOT NULL,
     margin INTEGER NOT NULL,
     chosen_up INTEGER NOT NULL,
     chosen_down INTEGER NOT NULL,
     rejected_up INTEGER NOT NULL,
     rejected_down INTEGER NOT NULL,
     lifecycle_id VARCHAR NOT NULL,
     run_id VARCHAR NOT NULL,
     chosen_candidate_id VARCHAR NOT NULL,
     rejected_candidate_id VARCHAR NOT NULL,
     tie BOOLEAN NOT NULL,
     completed_at TIMESTAMPTZ NOT NULL)`,
  // Judgement battles and matchups (store/judgement-derived.ts), derived by the same commit.
  ...JUDGEMENT_DERIVED_SCHEMA,
];

/** The columns of preferences.parquet, as selected from `preference_pairs`. */
export const PREFERENCE_COLUMNS = [
  'prompt', 'chosen_path', 'rejected_path', 'chosen_text', 'rejected_text', 'chosen_model', 'rejected_model', 'margin',
  'chosen_up', 'chosen_down', 'rejected_up', 'rejected_down', 'lifecycle_id', 'run_id', 'chosen_candidate_id', 'rejected_candidate_id',
] as const;

/**
 * The two inserts that derive scores and pairs for `scope` (a table or subquery with run_id and
 * completed_at). Rows go in scope order (completion time, then run id), candidates and pairs by id.
 */
export function deriveStatements(scope: string): string[] {
  const since = (alias: string) => `${alias}.committed_at >= $1::TIMESTAMPTZ`;
  return [
    `INSERT INTO candidate_scores
       SELECT c.run_id, c.lifecycle_id, c.candidate_id, c.model, coalesce(t.up, 0), coalesce(t.down, 0),
              coalesce(t.up, 0) - coalesce(t.down, 0),
              row_number() OVER (PARTITION BY c.run_id, c.model ORDER BY c.candidate_id) = 1, s.completed_at
         FROM ${scope} s
         JOIN candidates c ON c.run_id = s.run_id AND ${since('c')}
         LEFT JOIN (SELECT v.run_id, v.candidate_id,
                           count(*) FILTER (WHERE v.standing AND v.kind = 'vote' AND v.value = 1) AS up,
                           count(*) FILTER (WHERE v.standing AND v.kind = 'vote' AND v.value = -1) AS down
                      FROM votes v WHERE ${since('v')} AND v.run_id IN (SELECT run_id FROM ${scope})
                     GROUP BY v.run_id, v.candidate_id) t
           ON t.run_id = c.run_id AND t.candidate_id = c.candidate_id
        ORDER BY s.completed_at, s.run_id, c.candidate_id`,
    // Every pair of rated candidates once: the higher score first, or for a tie the smaller id first.
    `INSERT INTO preference_pairs
       SELECT l.prompt, 'artifacts/' || ca.path, 'artifacts/' || cb.path, ca.text, cb.text,
              a.model, b.model, a.score - b.score, a.up, a.down, b.up, b.down,
              a.lifecycle_id, a.run_id, a.candidate_id, b.candidate_id, a.score = b.score, s.completed_at
         FROM ${scope} s
         JOIN candidate_scores a ON a.run_id = s.run_id AND a.completed_at >= $1::TIMESTAMPTZ
         JOIN candidate_scores b ON b.run_id = a.run_id AND b.completed_at >= $1::TIMESTAMPTZ
                                AND (b.score < a.score OR (b.score = a.score AND a.candidate_id < b.candidate_id))
         JOIN candidates ca ON ca.run_id = a.run_id AND ca.candidate_id = a.candidate_id AND ${since('ca')}
         JOIN candidates cb ON cb.run_id = b.run_id AND cb.candidate_id = b.candidate_id AND ${since('cb')}
         JOIN lifecycles l ON l.run_id = a.run_id AND ${since('l')}
        WHERE a.up + a.down > 0 AND b.up + b.down > 0
        ORDER BY s.completed_at, s.run_id, a.candidate_id, b.candidate_id`,
    // Then the judgements' battles and matchups, with the same scope and parameters.
    ...deriveJudgementStatements(scope),
  ];
}

/**
 * Complete lifecycles that have no completion row yet (a ledger written before these tables
 * existed), each with the time it became complete: its last commit.
 */
export const UNDERIVED_COMPLETE_LIFECYCLES = `
  SELECT l.run_id, greatest(l.committed_at, coalesce(h.last_commit, l.committed_at), coalesce(j.last_commit, l.committed_at)) AS completed_at
    FROM lifecycles l
    LEFT JOIN (SELECT run_id, count(*) AS n, max(committed_at) AS last_commit FROM votes GROUP BY run_id) h ON h.run_id = l.run_id
    LEFT JOIN (SELECT run_id, count(*) AS n, max(committed_at) AS last_commit FROM judgements GROUP BY run_id) j ON j.run_id = l.run_id
   WHERE coalesce(h.n, 0) + coalesce(j.n, 0) = l.votes_accepted
     AND l.close_reason IS NOT NULL
     AND NOT EXISTS (SELECT 1 FROM lifecycle_completions d WHERE d.run_id = l.run_id)`;
