/**
 * The chat files of a release, from the ledger's `chat_events` (store/chat-schema.ts): every event
 * committed at or before the cutoff, read inside the publisher's snapshot transaction.
 *
 *   conversations.parquet     one row per conversation
 *   messages.parquet          user messages and replies in conversational form (`role`, `content`),
 *                             with the owner's standing rating, reason, feedback and correction per reply
 *   chat_preferences.parquet  TRL's conversational preference format: `prompt` = the conversation so far
 *                             (a list of {role, content}: exactly what the model saw), `chosen`/`rejected`
 *                             = [{role: assistant, content}]; from corrections (the user's answer over the
 *                             reply) and from A/B-judged regenerations (the winner over the other reply)
 *   chat_kto.parquet          TRL's unpaired format: `prompt`, `completion`, `label` (👍 = true) per reply
 *                             with a standing thumb
 *
 * "Standing" is the workflow's rule: per reply the latest rating or correction counts (a retraction
 * removes the rating), per turn the latest judgement (a retraction removes it); ties and "both bad"
 * make no pair and are counted in the manifest. Rows are ordered by (commit time, conversation, event
 * sequence): commit times never go backwards in the ledger, so the same cutoff gives the same bytes.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from './query';
import { quotedString } from './sql';

export const CHAT_TABLES = ['conversations', 'messages', 'chat_preferences', 'chat_kto'] as const;
export type ChatTable = (typeof CHAT_TABLES)[number];

export interface ChatReleaseStats {
  conversations: number;
  /** Pairs from corrections and from A/B judgements with a winner. */
  correctionPairs: number;
  comparePairs: number;
  /** Standing judgements without a winner (tie, both bad): no pair. */
  tiedJudgements: number;
  ktoRows: number;
}

const ORDER = 'committed_at, conversation_run_id, seq';
const VERIFIED = `owner_auth <> 'open'`;

/**
 * The statements that stage the chat rows (temp tables) at `cutoff`; the files are COPYs of them.
 * Staged once so the four files and the statistics read the same rows.
 */
function stagingStatements(cutoff: string): string[] {
  const inRelease = `committed_at <= ${quotedString(cutoff)}::TIMESTAMPTZ`;
  return [
    `CREATE OR REPLACE TEMP TABLE rel_chat AS SELECT * FROM chat_events WHERE ${inRelease} ORDER BY ${ORDER}`,
    `CREATE OR REPLACE TEMP TABLE rel_chat_messages AS
       SELECT * FROM rel_chat WHERE kind IN ('user_message', 'reply') ORDER BY ${ORDER}`,
    // The conversation so far, as each reply's model saw it: its context ids, in order, as {role, content}.
    `CREATE OR REPLACE TEMP TABLE rel_chat_prompts AS
       SELECT x.conversation_run_id, x.message_id, list({'role': m.role, 'content': m.content} ORDER BY x.pos) AS prompt
         FROM (SELECT conversation_run_id, message_id, unnest(context_ids) AS context_id, generate_subscripts(context_ids, 1) AS pos
                 FROM rel_chat_messages WHERE kind = 'reply') x
         JOIN rel_chat_messages m ON m.conversation_run_id = x.conversation_run_id AND m.message_id = x.context_id
        GROUP BY x.conversation_run_id, x.message_id`,
    // Per reply, the latest rating (NULL rating: retracted) and the latest correction.
    `CREATE OR REPLACE TEMP TABLE rel_chat_ratings AS
       SELECT conversation_run_id, reply_id, arg_max(rating, seq) AS rating, arg_max_null(reason, seq) AS reason,
              arg_max(accepted_at, seq) AS rated_at, arg_max(committed_at, seq) AS committed_at, max(seq) AS seq
         FROM rel_chat WHERE kind = 'rating' GROUP BY conversation_run_id, reply_id`,
    `CREATE OR REPLACE TEMP TABLE rel_chat_corrections AS
       SELECT conversation_run_id, reply_id, arg_max(content, seq) AS content, arg_max(accepted_at, seq) AS corrected_at,
              arg_max(committed_at, seq) AS committed_at, max(seq) AS seq
         FROM rel_chat WHERE kind = 'correction' GROUP BY conversation_run_id, reply_id`,
    `CREATE OR REPLACE TEMP TABLE rel_chat_feedback AS
       SELECT conversation_run_id, reply_id, list(content ORDER BY seq) AS feedback
         FROM rel_chat WHERE kind = 'feedback' GROUP BY conversation_run_id, reply_id`,
    // Per turn, the latest judgement; a retraction leaves none.
    `CREATE OR REPLACE TEMP TABLE rel_chat_judgements AS
       SELECT * FROM (
         SELECT conversation_run_id, turn, arg_max(choice, seq) AS choice, arg_max(left_reply, seq) AS left_reply, arg_max(right_reply, seq) AS right_reply,
                arg_max_null(winner_reply, seq) AS winner_reply, arg_max(accepted_at, seq) AS judged_at, arg_max(committed_at, seq) AS committed_at, max(seq) AS seq
           FROM rel_chat WHERE kind = 'compare' GROUP BY conversation_run_id, turn)
        WHERE choice <> 'retract'`,
  ];
}

/** The SELECT of each chat file, over the staged rows. */
const SELECTS: Record<ChatTable, string> = {
  conversations: `
    SELECT s.conversation_id, s.conversation_run_id AS run_id, s.owner, s.owner_auth, s.${VERIFIED} AS owner_verified, s.model,
           s.detail->'params' AS params, s.accepted_at AS started_at,
           CASE WHEN x.last_end > coalesce(x.last_reopen, 0) THEN x.ended_at END AS ended_at,
           CASE WHEN x.last_end > coalesce(x.last_reopen, 0) THEN x.end_reason END AS end_reason,
           coalesce(x.turns, 0) AS turns, x.messages, x.replies, x.ratings, x.feedback, x.corrections, x.comparisons, s.committed_at
      FROM rel_chat s
      JOIN (SELECT conversation_run_id,
                   max(seq) FILTER (WHERE kind = 'end') AS last_end, max(seq) FILTER (WHERE kind = 'reopen') AS last_reopen,
                   arg_max(accepted_at, seq) FILTER (WHERE kind = 'end') AS ended_at, arg_max(detail->>'reason', seq) FILTER (WHERE kind = 'end') AS end_reason,
                   max(turn) AS turns,
                   (count(*) FILTER (WHERE kind IN ('user_message', 'reply')))::INTEGER AS messages,
                   (count(*) FILTER (WHERE kind = 'reply'))::INTEGER AS replies,
                   (count(*) FILTER (WHERE kind = 'rating'))::INTEGER AS ratings,
                   (count(*) FILTER (WHERE kind = 'feedback'))::INTEGER AS feedback,
                   (count(*) FILTER (WHERE kind = 'correction'))::INTEGER AS corrections,
                   (count(*) FILTER (WHERE kind = 'compare'))::INTEGER AS comparisons
              FROM rel_chat GROUP BY conversation_run_id) x ON x.conversation_run_id = s.conversation_run_id
     WHERE s.kind = 'start'
     ORDER BY s.committed_at, s.conversation_run_id, s.seq`,
  messages: `
    SELECT m.conversation_id, m.conversation_run_id AS run_id, m.message_id, m.seq, m.turn, m.role, m.content, m.model, m.reply_index,
           m.accepted_at AS created_at, m.context_ids, m.provenance,
           CASE WHEN r.rating IN ('up', 'down') THEN r.rating END AS rating, CASE WHEN r.rating IN ('up', 'down') THEN r.reason END AS reason,
           coalesce(f.feedback, []::VARCHAR[]) AS feedback, c.content AS correction, m.owner, m.committed_at
      FROM rel_chat_messages m
      LEFT JOIN rel_chat_ratings r ON r.conversation_run_id = m.conversation_run_id AND r.reply_id = m.message_id
      LEFT JOIN rel_chat_corrections c ON c.conversation_run_id = m.conversation_run_id AND c.reply_id = m.message_id
      LEFT JOIN rel_chat_feedback f ON f.conversation_run_id = m.conversation_run_id AND f.reply_id = m.message_id
     ORDER BY m.committed_at, m.conversation_run_id, m.seq`,
  chat_preferences: `
    SELECT prompt, chosen, rejected, source, conversation_id, run_id, turn, chosen_message_id, rejected_message_id, chosen_model, rejected_model,
           rater, rater_verified, created_at
      FROM (
        SELECT p.prompt, [{'role': 'assistant', 'content': c.content}] AS chosen, [{'role': 'assistant', 'content': m.content}] AS rejected,
               'correction' AS source, m.conversation_id, m.conversation_run_id AS run_id, m.turn, NULL::VARCHAR AS chosen_message_id,
               m.message_id AS rejected_message_id, 'human' AS chosen_model, m.model AS rejected_model, m.owner AS rater, m.${VERIFIED} AS rater_verified,
               c.corrected_at AS created_at, c.committed_at, c.seq
          FROM rel_chat_corrections c
          JOIN rel_chat_messages m ON m.conversation_run_id = c.conversation_run_id AND m.message_id = c.reply_id
          JOIN rel_chat_prompts p ON p.conversation_run_id = m.conversation_run_id AND p.message_id = m.message_id
        UNION ALL
        SELECT p.prompt, [{'role': 'assistant', 'content': w.content}], [{'role': 'assistant', 'content': l.content}],
               'compare', w.conversation_id, w.conversation_run_id, j.turn, w.message_id, l.message_id, w.model, l.model, w.owner, w.${VERIFIED},
               j.judged_at, j.committed_at, j.seq
          FROM rel_chat_judgements j
          JOIN rel_chat_messages w ON w.conversation_run_id = j.conversation_run_id AND w.message_id = j.winner_reply
          JOIN rel_chat_messages l ON l.conversation_run_id = j.conversation_run_id
                                  AND l.message_id = CASE WHEN j.winner_reply = j.left_reply THEN j.right_reply ELSE j.left_reply END
          JOIN rel_chat_prompts p ON p.conversation_run_id = w.conversation_run_id AND p.message_id = w.message_id
         WHERE j.winner_reply IS NOT NULL)
     ORDER BY committed_at, run_id, seq`,
  chat_kto: `
    SELECT p.prompt, [{'role': 'assistant', 'content': m.content}] AS completion, r.rating = 'up' AS label, 'chat' AS source,
           m.conversation_id, m.conversation_run_id AS run_id, m.turn, m.message_id, m.model, r.reason, m.owner AS rater, m.${VERIFIED} AS rater_verified,
           r.rated_at
      FROM rel_chat_ratings r
      JOIN rel_chat_messages m ON m.conversation_run_id = r.conversation_run_id AND m.message_id = r.reply_id
      JOIN rel_chat_prompts p ON p.conversation_run_id = m.conversation_run_id AND p.message_id = m.message_id
     WHERE r.rating IN ('up', 'down')
     ORDER BY r.committed_at, r.conversation_run_id, r.seq`,
};

/**
 * Writes the four chat files with `copy` (the writer's COPY-and-checksum), returning the manifest's chat
 * statistics. `c` must be in the publisher's snapshot transaction.
 */
export async function writeChatFiles(
  c: DuckDBConnection,
  cutoff: string,
  copy: (table: ChatTable, select: string) => Promise<number>,
): Promise<ChatReleaseStats> {
  for (const statement of stagingStatements(cutoff)) await c.run(statement);
  const counts = {} as Record<ChatTable, number>;
  for (const table of CHAT_TABLES) counts[table] = await copy(table, SELECTS[table]);
  const [pairs] = await rows<{ corrections: number; compares: number; tied: number }>(
    c,
    `SELECT (SELECT count(*) FROM rel_chat_corrections c JOIN rel_chat_prompts p ON p.conversation_run_id = c.conversation_run_id AND p.message_id = c.reply_id)::INTEGER AS corrections,
            (SELECT count(*) FROM rel_chat_judgements WHERE winner_reply IS NOT NULL)::INTEGER AS compares,
            (SELECT count(*) FROM rel_chat_judgements WHERE winner_reply IS NULL)::INTEGER AS tied`,
  );
  for (const table of ['rel_chat_judgements', 'rel_chat_feedback', 'rel_chat_corrections', 'rel_chat_ratings', 'rel_chat_prompts', 'rel_chat_messages', 'rel_chat']) {
    await c.run(`DROP TABLE ${table}`);
  }
  return {
    conversations: counts.conversations,
    correctionPairs: pairs?.corrections ?? 0,
    comparePairs: pairs?.compares ?? 0,
    tiedJudgements: pairs?.tied ?? 0,
    ktoRows: counts.chat_kto,
  };
}
