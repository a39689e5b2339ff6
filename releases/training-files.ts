/**
 * The SQL of the files trainers read as they are (TRL's dataset formats, no `map` needed):
 *
 *   preferences.parquet       prompt, chosen, rejected — text, or the export-relative path of an image
 *                             (`artifacts/sha256/ab/….png`, which `prefline release export` materialises);
 *                             then the columns of earlier releases, and who judged. Compare rows leave the
 *                             earlier releases' chosen/rejected _path and _text NULL: chosen and rejected
 *                             hold the text or path once, and candidates.parquet the rest (by run_id and
 *                             candidate id). Writing each text twice cost as much as the rest of the file.
 *   preferences_chat.parquet  the text pairs as conversations: prompt [{role: user}], chosen and rejected
 *                             [{role: assistant}] (LIST<STRUCT<role, content>>), with what a trainer filters
 *                             on (source, models, rater_verified) and the keys to preferences' other columns.
 *   kto.parquet               unpaired preferences: one row per standing thumbs vote, prompt, completion,
 *                             label (up = true).
 *
 * Preference rows come from two sources, told apart by `source`: `thumbs`, the pairs the ledger derived
 * from up − down scores (store/ledger-derived.ts; ties left out), then `compare`, one row per standing
 * judgement with a winner (store/judgement-derived.ts; ties and both-bad left out and counted in the
 * manifest). Each in the order lifecycles completed: one table scan per source and UNION ALL, which
 * keep row order, so no sort is needed for the bytes to be the same every time.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from './query';

/**
 * Which sources a ledger has rows of at all. A source without rows is left out of the query rather
 * than scanned: DuckDB plans a provably empty branch as an operator that cannot keep batch order, and
 * then writes the whole file on one thread, ignoring the row group size.
 */
export interface PreferenceSources {
  thumbs: boolean;
  compare: boolean;
}

/**
 * Where compare rows come from and which count (releases/campaign-scope.ts); by default every standing
 * judgement the ledger derived. `notGold` and `counted` are appended to a WHERE.
 */
export interface BattleSource {
  table: string;
  counted: string;
  notGold: string;
}

const ALL_BATTLES: BattleSource = { table: 'judgement_battles', counted: '', notGold: '' };

export async function preferenceSources(c: DuckDBConnection): Promise<PreferenceSources> {
  const [counts] = await rows<{ thumbs: number; compare: number }>(
    c, `SELECT (SELECT count(*) FROM preference_pairs)::DOUBLE AS thumbs, (SELECT count(*) FROM judgement_battles)::DOUBLE AS compare`,
  );
  return { thumbs: (counts?.thumbs ?? 0) > 0, compare: (counts?.compare ?? 0) > 0 };
}

/**
 * The preference rows of lifecycles complete by the cutoff; `completeByCutoff` from releases/scope.ts.
 * `compareTexts`: whether compare rows fill chosen/rejected _path and _text (the chat file's source) or
 * leave them NULL (preferences.parquet).
 */
function preferenceRows(completeByCutoff: string, sources: PreferenceSources, compareTexts: boolean, battles: BattleSource): string {
  const sides = compareTexts
    ? 'chosen_path, rejected_path, chosen_text, rejected_text'
    : 'NULL::VARCHAR AS chosen_path, NULL::VARCHAR AS rejected_path, NULL::VARCHAR AS chosen_text, NULL::VARCHAR AS rejected_text';
  const thumbs = `
  SELECT prompt, coalesce(chosen_text, chosen_path) AS chosen, coalesce(rejected_text, rejected_path) AS rejected, 'thumbs' AS source,
         chosen_path, rejected_path, chosen_text, rejected_text, chosen_model, rejected_model,
         margin, chosen_up, chosen_down, rejected_up, rejected_down,
         lifecycle_id, run_id, chosen_candidate_id, rejected_candidate_id, NULL::VARCHAR AS rater, NULL::BOOLEAN AS rater_verified
    FROM preference_pairs WHERE NOT tie AND ${completeByCutoff}${battles.notGold}`;
  const compare = `
  SELECT prompt, coalesce(chosen_text, chosen_path) AS chosen, coalesce(rejected_text, rejected_path) AS rejected, 'compare' AS source,
         ${sides}, chosen_model, rejected_model,
         NULL::INTEGER AS margin, NULL::INTEGER AS chosen_up, NULL::INTEGER AS chosen_down, NULL::INTEGER AS rejected_up, NULL::INTEGER AS rejected_down,
         lifecycle_id, run_id, chosen_candidate_id, rejected_candidate_id, rater, rater_verified
    FROM (SELECT prompt, lifecycle_id, run_id, rater, rater_verified,
                 CASE WHEN a_won THEN path_a ELSE path_b END AS chosen_path, CASE WHEN a_won THEN path_b ELSE path_a END AS rejected_path,
                 CASE WHEN a_won THEN text_a ELSE text_b END AS chosen_text, CASE WHEN a_won THEN text_b ELSE text_a END AS rejected_text,
                 CASE WHEN a_won THEN model_a ELSE model_b END AS chosen_model, CASE WHEN a_won THEN model_b ELSE model_a END AS rejected_model,
                 CASE WHEN a_won THEN candidate_a ELSE candidate_b END AS chosen_candidate_id,
                 CASE WHEN a_won THEN candidate_b ELSE candidate_a END AS rejected_candidate_id
            FROM (SELECT *, winner = 'model_a' AS a_won FROM ${battles.table}
                   WHERE winner IN ('model_a', 'model_b') AND ${completeByCutoff}${battles.counted}))`;
  // Without rows of either: the thumbs branch alone, for the columns.
  return [sources.thumbs || !sources.compare ? thumbs : undefined, sources.compare ? compare : undefined].filter(Boolean).join('\n  UNION ALL');
}

export function preferencesQuery(completeByCutoff: string, sources: PreferenceSources, battles = ALL_BATTLES): string {
  return `SELECT * FROM (${preferenceRows(completeByCutoff, sources, false, battles)})`;
}

/** Text pairs only (both candidates texts): an image path is not an assistant message. */
export function preferencesChatQuery(completeByCutoff: string, sources: PreferenceSources, battles = ALL_BATTLES): string {
  return `
  SELECT [{'role': 'user', 'content': prompt}] AS prompt,
         [{'role': 'assistant', 'content': chosen_text}] AS chosen,
         [{'role': 'assistant', 'content': rejected_text}] AS rejected,
         source, chosen_model, rejected_model, lifecycle_id, run_id, chosen_candidate_id, rejected_candidate_id, rater_verified
    FROM (${preferenceRows(completeByCutoff, sources, true, battles)})
   WHERE chosen_text IS NOT NULL AND rejected_text IS NOT NULL`;
}

/**
 * `inRelease` from releases/scope.ts; `countedVotes` appended to it (releases/campaign-scope.ts: no
 * gold lifecycle's, no excluded rater's). The one training file joined at publish time: votes with
 * their candidate and prompt, back in ledger order (a join does not keep it; `rowid` is the votes' order).
 */
export function ktoQuery(inRelease: string, countedVotes = ''): string {
  return `
  SELECT l.prompt, coalesce(c.text, 'artifacts/' || c.path) AS completion, v.value = 1 AS label,
         v.lifecycle_id, v.run_id, v.candidate_id, c.model, v.rater, v.rater_auth <> 'open' AS rater_verified
    FROM (SELECT rowid AS ledger_row, * FROM votes WHERE standing AND kind = 'vote' AND ${inRelease}${countedVotes}) v
    JOIN candidates c ON c.run_id = v.run_id AND c.candidate_id = v.candidate_id
    JOIN lifecycles l ON l.run_id = v.run_id
   ORDER BY v.ledger_row`;
}
