/**
 * What campaigns take out of a release's derived files (issue 15): the judgements of gold (validation)
 * lifecycles are checks of raters, never data, so they are in no derived file at all; the judgements of
 * raters a campaign excluded (status `excluded` by the cutoff) stay in battles.parquet, flagged with the
 * reason, and count nowhere else: matchups, preferences, both Bradley–Terry fits, position bias, kto.
 *
 * A campaign's lifecycles are its workflow's children (CAMPAIGN_LIFECYCLES below), never those that merely
 * carry its label: a later campaign or `prefline start --campaign` may reuse a label. Exclusion is per
 * campaign: a rater excluded by one campaign still counts in others and in lifecycles outside campaigns.
 *
 * A ledger without gold lifecycles or excluded raters (every ledger without campaigns) is read as the
 * derived tables hold it, on the fast path releases/writer.ts always took. Otherwise the battles and
 * matchups of the release are staged in temp tables first, in ledger order (`rowid`), so the files keep
 * their fixed order: matchups of lifecycles with excluded judgements are recounted without them.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from './query';

/** The columns battles.parquet has after store/judgement-derived.ts's BATTLE_COLUMNS. */
export const BATTLE_EXCLUSION_COLUMNS = ['rater_excluded', 'exclusion_reason'] as const;

/**
 * Which lifecycles belong to which campaign run: `campaign_run` (campaigns.run_id), `run_id` (the
 * lifecycle's), `gold` (listed in that run's campaign_gold). Members are the campaign workflow's children,
 * `<campaign id>-item-<n>` and re-asks `-item-<n>-r<k>` (workflows/campaign-state.ts), found by taking the
 * campaign id back out of the lifecycle id (an exact equality: no LIKE, so `_` or `%` in an id match only
 * themselves; `a-item-1-item-0` is campaign `a-item-1`'s, not `a`'s), plus the gold lifecycles the run
 * listed. A campaign id reused later (a new run, the old one's history gone) names the same children, so a
 * lifecycle belongs to the run that was its id's latest when the lifecycle started.
 */
export const CAMPAIGN_LIFECYCLES = `
  WITH spans AS (
    SELECT run_id, campaign_id, started_at, lead(started_at) OVER (PARTITION BY campaign_id ORDER BY started_at, run_id) AS until
      FROM campaigns),
  claimed AS (
    SELECT s.run_id AS campaign_run, s.started_at, s.until, l.run_id, l.lifecycle_id, l.started_at AS lifecycle_started
      FROM spans s JOIN lifecycles l ON regexp_extract(l.lifecycle_id, '(?s)^(.+)-item-[0-9]+(?:-r[0-9]+)?$', 1) = s.campaign_id
    UNION
    SELECT s.run_id, s.started_at, s.until, l.run_id, l.lifecycle_id, l.started_at
      FROM spans s JOIN campaign_gold g ON g.run_id = s.run_id JOIN lifecycles l ON l.lifecycle_id = g.lifecycle_id)
  SELECT c.campaign_run, c.run_id,
         EXISTS (SELECT 1 FROM campaign_gold g WHERE g.run_id = c.campaign_run AND g.lifecycle_id = c.lifecycle_id) AS gold
    FROM claimed c
   WHERE c.lifecycle_started >= c.started_at AND (c.until IS NULL OR c.lifecycle_started < c.until)`;

/** Said of an excluded rater whose record carries no reason. */
const NO_REASON = 'excluded by the campaign';

export interface CampaignScope {
  /** Whether anything is left out; false: the derived tables are read as they are. */
  active: boolean;
  /** The battles to publish (table or temp table), with BATTLE_EXCLUSION_COLUMNS when `active`. */
  battles: string;
  /** Selects BATTLE_EXCLUSION_COLUMNS from `battles`. */
  exclusionColumns: string;
  /** The matchups to publish and to total: gold left out, excluded raters' judgements not counted. */
  matchups: string;
  /** Appended to a WHERE over `battles`: the judgements that count (not an excluded rater's). */
  countedBattles: string;
  /** Appended to a WHERE over a table with `run_id`: not a gold lifecycle (thumbs pairs, scores). */
  notGold: string;
  /** Appended to a WHERE over votes (unaliased): not of a gold lifecycle nor by an excluded rater there. */
  countedVotes: string;
  /** Gold lifecycles committed by the cutoff, and their standing judgements complete by it. */
  goldLifecycles: number;
  goldJudgements: number;
  excludedJudgements: number;
}

/**
 * Stages the temp tables the scope names; `completeByCutoff` from releases/scope.ts. Runs in the
 * publisher's snapshot transaction (temp tables are the connection's own).
 */
export async function campaignScope(c: DuckDBConnection, cutoff: string, completeByCutoff: string): Promise<CampaignScope> {
  await c.run(
    `CREATE OR REPLACE TEMP TABLE rel_campaign_runs AS SELECT campaign_run, run_id, gold FROM (${CAMPAIGN_LIFECYCLES})`,
  );
  await c.run(`CREATE OR REPLACE TEMP TABLE rel_gold_runs AS SELECT DISTINCT run_id FROM rel_campaign_runs WHERE gold`);
  await c.run(
    `CREATE OR REPLACE TEMP TABLE rel_excluded_raters AS
       SELECT x.run_id, r.rater, min(coalesce(r.reason, $2)) AS reason
         FROM campaign_raters r JOIN rel_campaign_runs x ON x.campaign_run = r.run_id
        WHERE r.status = 'excluded' AND coalesce(r.excluded_at, r.committed_at) <= $1::TIMESTAMPTZ
        GROUP BY ALL`,
    [cutoff, NO_REASON],
  );
  // Gold lifecycles committed by the cutoff (later ones are in no file of this release anyway).
  const [counts] = await rows<{ gold: number; excluded: number }>(
    c,
    `SELECT (SELECT count(*) FROM rel_gold_runs g JOIN lifecycles l ON l.run_id = g.run_id WHERE l.committed_at <= $1::TIMESTAMPTZ)::INTEGER AS gold,
            (SELECT count(*) FROM rel_excluded_raters)::INTEGER AS excluded`,
    [cutoff],
  );
  if ((counts?.gold ?? 0) === 0 && (counts?.excluded ?? 0) === 0) {
    return {
      active: false, battles: 'judgement_battles', exclusionColumns: `false AS rater_excluded, NULL::VARCHAR AS exclusion_reason`,
      matchups: 'judgement_matchups', countedBattles: '', notGold: '', countedVotes: '', goldLifecycles: 0, goldJudgements: 0, excludedJudgements: 0,
    };
  }
  const notGold = ` AND run_id NOT IN (SELECT run_id FROM rel_gold_runs)`;
  await c.run(
    `CREATE OR REPLACE TEMP TABLE rel_battles AS
       SELECT b.* EXCLUDE (ledger_row), x.run_id IS NOT NULL AS rater_excluded, x.reason AS exclusion_reason
         FROM (SELECT rowid AS ledger_row, * FROM judgement_battles WHERE ${completeByCutoff}${notGold}) b
         LEFT JOIN rel_excluded_raters x ON x.run_id = b.run_id AND x.rater = b.rater
        ORDER BY b.ledger_row`,
  );
  // Each matchup less its excluded judgements, ratio and winner recounted as store/judgement-derived.ts counts them.
  await c.run(
    `CREATE OR REPLACE TEMP TABLE rel_matchups AS
       WITH excluded AS (
         SELECT run_id,
                count(*) FILTER (WHERE winner = 'model_a') AS votes_a, count(*) FILTER (WHERE winner = 'model_b') AS votes_b,
                count(*) FILTER (WHERE winner = 'tie') AS ties, count(*) FILTER (WHERE winner = 'both_bad') AS both_bad, count(*) AS total,
                count(*) FILTER (WHERE (winner = 'model_a' AND shown_left = candidate_a) OR (winner = 'model_b' AND shown_left = candidate_b)) AS left_wins
           FROM rel_battles WHERE rater_excluded GROUP BY run_id),
       counted AS (
         SELECT m.ledger_row, m.lifecycle_id, m.run_id, m.task, m.prompt, m.question, m.model_a, m.model_b, m.candidate_a, m.candidate_b, m.path_a, m.path_b,
                (m.votes_a - coalesce(x.votes_a, 0))::INTEGER AS votes_a, (m.votes_b - coalesce(x.votes_b, 0))::INTEGER AS votes_b,
                (m.ties - coalesce(x.ties, 0))::INTEGER AS ties, (m.both_bad - coalesce(x.both_bad, 0))::INTEGER AS both_bad,
                (m.total - coalesce(x.total, 0))::INTEGER AS total, (m.left_wins - coalesce(x.left_wins, 0))::INTEGER AS left_wins,
                m.close_reason, m.completed_at
           FROM (SELECT rowid AS ledger_row, * FROM judgement_matchups WHERE ${completeByCutoff}${notGold}) m
           LEFT JOIN excluded x ON x.run_id = m.run_id)
       SELECT lifecycle_id, run_id, task, prompt, question, model_a, model_b, candidate_a, candidate_b, path_a, path_b,
              votes_a, votes_b, ties, both_bad, total,
              CASE WHEN votes_a + votes_b > 0 THEN greatest(votes_a, votes_b) / (votes_a + votes_b) END AS ratio,
              CASE WHEN votes_a > votes_b THEN 'a' WHEN votes_b > votes_a THEN 'b' ELSE 'tie' END AS winner,
              left_wins, close_reason, completed_at
         FROM counted ORDER BY ledger_row`,
  );
  const [left] = await rows<{ gold: number; excluded: number }>(
    c,
    `SELECT (SELECT count(*) FROM judgement_battles WHERE ${completeByCutoff} AND run_id IN (SELECT run_id FROM rel_gold_runs))::INTEGER AS gold,
            (SELECT count(*) FROM rel_battles WHERE rater_excluded)::INTEGER AS excluded`,
  );
  return {
    active: true, battles: 'rel_battles', exclusionColumns: BATTLE_EXCLUSION_COLUMNS.join(', '), matchups: 'rel_matchups',
    countedBattles: ' AND NOT rater_excluded', notGold,
    countedVotes: `${notGold} AND NOT EXISTS (SELECT 1 FROM rel_excluded_raters x WHERE x.run_id = votes.run_id AND x.rater = votes.rater)`,
    goldLifecycles: counts?.gold ?? 0, goldJudgements: left?.gold ?? 0, excludedJudgements: left?.excluded ?? 0,
  };
}
