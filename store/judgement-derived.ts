/**
 * Tables the ledger derives from a completed lifecycle's judgements (pairwise answers: left, right,
 * tie, both bad), beside the thumbs tables of store/ledger-derived.ts and by the same rules: the commit
 * that completes a lifecycle inserts them in its transaction, once (lifecycle_completions guards it),
 * and a release copies them instead of joining a million judgements with their lifecycles and
 * candidates each day.
 *
 *   - `judgement_battles`: one row per standing judgement, the columns of battles.parquet, then what
 *     preferences.parquet needs of each side (export-relative path and text);
 *   - `judgement_matchups`: one row per compare lifecycle, and per thumbs lifecycle with standing
 *     judgements (Slack's A/B buttons): votes per side, ties, both bad, ratio, winner, left wins.
 *
 * Side a is the lifecycle's first candidate (by id: c1), b the second; judgements record which one the
 * rater saw on the left. Both tables are append-only and carry the completion time, so a release at
 * cutoff T takes the rows with `completed_at <= T`, in completion order (then judgement order).
 *
 * The statements take the same scope and parameters as `deriveStatements`: a table or subquery of
 * (run_id, completed_at) rows, `$1` a lower bound on the commit times of the scope's rows.
 */

export const JUDGEMENT_DERIVED_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS judgement_battles (
     lifecycle_id VARCHAR NOT NULL,
     run_id VARCHAR NOT NULL,
     prompt VARCHAR NOT NULL,
     question VARCHAR,
     task VARCHAR NOT NULL,
     model_a VARCHAR NOT NULL,
     model_b VARCHAR NOT NULL,
     candidate_a VARCHAR NOT NULL,
     candidate_b VARCHAR NOT NULL,
     shown_left VARCHAR NOT NULL,
     -- 'model_a' | 'model_b' | 'tie' | 'both_bad', as Chatbot Arena spells it
     winner VARCHAR NOT NULL,
     rater VARCHAR NOT NULL,
     rater_verified BOOLEAN NOT NULL,
     channel VARCHAR NOT NULL,
     models_hidden BOOLEAN NOT NULL,
     cast_at TIMESTAMPTZ NOT NULL,
     path_a VARCHAR NOT NULL,
     path_b VARCHAR NOT NULL,
     text_a VARCHAR,
     text_b VARCHAR,
     completed_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS judgement_matchups (
     lifecycle_id VARCHAR NOT NULL,
     run_id VARCHAR NOT NULL,
     task VARCHAR NOT NULL,
     prompt VARCHAR NOT NULL,
     question VARCHAR,
     model_a VARCHAR NOT NULL,
     model_b VARCHAR NOT NULL,
     candidate_a VARCHAR NOT NULL,
     candidate_b VARCHAR NOT NULL,
     path_a VARCHAR NOT NULL,
     path_b VARCHAR NOT NULL,
     votes_a INTEGER NOT NULL,
     votes_b INTEGER NOT NULL,
     ties INTEGER NOT NULL,
     both_bad INTEGER NOT NULL,
     total INTEGER NOT NULL,
     -- max(votes_a, votes_b) / (votes_a + votes_b), as Rapidata reports it; NULL without a decided judgement
     ratio DOUBLE,
     -- 'a' | 'b' | 'tie'
     winner VARCHAR NOT NULL,
     -- decided judgements won by the candidate the rater saw on the left (position bias)
     left_wins INTEGER NOT NULL,
     close_reason VARCHAR,
     completed_at TIMESTAMPTZ NOT NULL)`,
];

/** The tables above: a commit that redoes a completed lifecycle (a reset workflow) deletes its rows from each. */
export const JUDGEMENT_DERIVED_TABLES = ['judgement_battles', 'judgement_matchups'] as const;

/** The columns of battles.parquet, as selected from `judgement_battles`. */
export const BATTLE_COLUMNS = [
  'lifecycle_id', 'run_id', 'prompt', 'question', 'task', 'model_a', 'model_b', 'candidate_a', 'candidate_b', 'shown_left', 'winner',
  'rater', 'rater_verified', 'channel', 'models_hidden', 'cast_at',
] as const;

/** The columns of matchups.parquet, as selected from `judgement_matchups`. */
export const MATCHUP_COLUMNS = [
  'lifecycle_id', 'run_id', 'task', 'prompt', 'question', 'model_a', 'model_b', 'candidate_a', 'candidate_b', 'path_a', 'path_b',
  'votes_a', 'votes_b', 'ties', 'both_bad', 'total', 'ratio', 'winner', 'left_wins', 'close_reason',
] as const;

/**
 * The two inserts that derive battles and matchups for `scope` (after `deriveStatements`, in the same
 * transaction and with the same parameters). Battles go in scope order, then by judgement seq.
 */
export function deriveJudgementStatements(scope: string): string[] {
  const since = (alias: string) => `${alias}.committed_at >= $1::TIMESTAMPTZ`;
  // A lifecycle's two candidates, first and second by id; judgements exist only where there are two.
  const sides = `
         JOIN lifecycles l ON l.run_id = s.run_id AND ${since('l')}
         JOIN (SELECT run_id, min(candidate_id) AS first, max(candidate_id) AS second FROM candidates
                WHERE committed_at >= $1::TIMESTAMPTZ AND run_id IN (SELECT run_id FROM ${scope})
                GROUP BY run_id HAVING count(*) = 2) p ON p.run_id = s.run_id
         JOIN candidates a ON a.run_id = s.run_id AND a.candidate_id = p.first AND ${since('a')}
         JOIN candidates b ON b.run_id = s.run_id AND b.candidate_id = p.second AND ${since('b')}`;
  return [
    `INSERT INTO judgement_battles
       SELECT j.lifecycle_id, j.run_id, l.prompt, l.question, coalesce(l.task, 'thumbs'),
              a.model, b.model, a.candidate_id, b.candidate_id, j.left_candidate,
              CASE WHEN j.winner_candidate IS NULL THEN j.choice WHEN j.winner_candidate = a.candidate_id THEN 'model_a' ELSE 'model_b' END,
              j.rater, j.rater_auth <> 'open', j.channel, j.models_hidden, j.cast_at,
              'artifacts/' || a.path, 'artifacts/' || b.path, a.text, b.text, s.completed_at
         FROM ${scope} s ${sides}
         JOIN judgements j ON j.run_id = s.run_id AND ${since('j')} AND j.standing AND j.choice <> 'retract'
        ORDER BY s.completed_at, s.run_id, j.seq`,
    `INSERT INTO judgement_matchups
       SELECT l.lifecycle_id, l.run_id, coalesce(l.task, 'thumbs'), l.prompt, l.question,
              a.model, b.model, a.candidate_id, b.candidate_id, 'artifacts/' || a.path, 'artifacts/' || b.path,
              t.votes_a, t.votes_b, t.ties, t.both_bad, t.total,
              CASE WHEN t.votes_a + t.votes_b > 0 THEN greatest(t.votes_a, t.votes_b) / (t.votes_a + t.votes_b) END,
              CASE WHEN t.votes_a > t.votes_b THEN 'a' WHEN t.votes_b > t.votes_a THEN 'b' ELSE 'tie' END,
              t.left_wins, l.close_reason, s.completed_at
         FROM ${scope} s ${sides}
         JOIN (SELECT x.run_id,
                      count(*) FILTER (WHERE w.winner = 'model_a')::INTEGER AS votes_a,
                      count(*) FILTER (WHERE w.winner = 'model_b')::INTEGER AS votes_b,
                      count(*) FILTER (WHERE w.winner = 'tie')::INTEGER AS ties,
                      count(*) FILTER (WHERE w.winner = 'both_bad')::INTEGER AS both_bad,
                      count(w.run_id)::INTEGER AS total,
                      count(*) FILTER (WHERE (w.winner = 'model_a' AND w.shown_left = w.candidate_a)
                                          OR (w.winner = 'model_b' AND w.shown_left = w.candidate_b))::INTEGER AS left_wins
                 FROM ${scope} x
                 LEFT JOIN judgement_battles w ON w.run_id = x.run_id AND w.completed_at >= $1::TIMESTAMPTZ
                GROUP BY x.run_id) t ON t.run_id = s.run_id
        WHERE coalesce(l.task, 'thumbs') = 'compare' OR t.total > 0
        ORDER BY s.completed_at, s.run_id`,
  ];
}
