/**
 * The ledger's chat tables (schema 6): one append-only event log, `chat_events`, from which every
 * conversation can be rebuilt as of any moment (store/chat-rebuild.ts), and two views over it:
 * `chat_conversations` (one row per conversation) and `chat_messages` (user messages and replies, in
 * conversational form). Separate from the rating lifecycles' tables; Ledger.openWriter creates them
 * on every ledger, old or new (CREATE … IF NOT EXISTS), as schema step 6 (store/ledger-schema.ts).
 *
 * Keys: (conversation_run_id, seq) — the conversation's first run id, stable across continue-as-new
 * and reopening, and the event's acceptance order. A retried commit inserts only what is missing.
 */

export const CHAT_EVENT_COLUMNS = [
  'conversation_run_id', 'conversation_id', 'seq', 'kind', 'accepted_at', 'owner', 'owner_auth', 'idempotency_key', 'turn', 'message_id', 'role',
  'content', 'reply_id', 'rating', 'reason', 'left_reply', 'right_reply', 'choice', 'winner_reply', 'model', 'reply_index', 'context_ids',
  'provenance', 'detail', 'committed_at',
] as const;

export const CHAT_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS chat_events (
     conversation_run_id VARCHAR NOT NULL,
     conversation_id VARCHAR NOT NULL,
     seq INTEGER NOT NULL,
     -- start, reopen, user_message, reply, rating, feedback, correction, regenerate, compare, end
     kind VARCHAR NOT NULL,
     -- workflow time the event was accepted
     accepted_at TIMESTAMPTZ NOT NULL,
     owner VARCHAR NOT NULL,
     owner_auth VARCHAR NOT NULL,
     idempotency_key VARCHAR,
     turn INTEGER,
     message_id VARCHAR,
     role VARCHAR,
     -- the text of a message, feedback or correction
     content VARCHAR,
     -- rating, feedback, correction: the reply; regenerate: the reply it follows
     reply_id VARCHAR,
     -- rating: up, down or retract
     rating VARCHAR,
     reason VARCHAR,
     left_reply VARCHAR,
     right_reply VARCHAR,
     -- compare: left, right, tie, both_bad or retract (issue 14's judgement choices)
     choice VARCHAR,
     winner_reply VARCHAR,
     model VARCHAR,
     reply_index INTEGER,
     -- reply: the messages the model saw, in order
     context_ids VARCHAR[],
     provenance JSON,
     detail JSON,
     committed_at TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (conversation_run_id, seq))`,
  `CREATE OR REPLACE VIEW chat_messages AS
     SELECT conversation_id, conversation_run_id AS run_id, message_id, seq, turn, role, content, model, reply_index, context_ids,
            provenance, owner, accepted_at AS created_at, committed_at
       FROM chat_events WHERE kind IN ('user_message', 'reply')`,
  `CREATE OR REPLACE VIEW chat_conversations AS
     SELECT s.conversation_id, s.conversation_run_id AS run_id, s.owner, s.owner_auth, s.model, s.detail->'params' AS params, s.accepted_at AS started_at,
            CASE WHEN x.last_end > coalesce(x.last_reopen, 0) THEN x.ended_at END AS ended_at,
            CASE WHEN x.last_end > coalesce(x.last_reopen, 0) THEN x.end_reason END AS end_reason,
            coalesce(x.turns, 0) AS turns, x.messages, x.ratings, x.events
       FROM chat_events s
       JOIN (SELECT conversation_run_id,
                    max(seq) FILTER (WHERE kind = 'end') AS last_end,
                    max(seq) FILTER (WHERE kind = 'reopen') AS last_reopen,
                    arg_max(accepted_at, seq) FILTER (WHERE kind = 'end') AS ended_at,
                    arg_max(detail->>'reason', seq) FILTER (WHERE kind = 'end') AS end_reason,
                    max(turn) AS turns,
                    (count(*) FILTER (WHERE kind IN ('user_message', 'reply')))::INTEGER AS messages,
                    (count(*) FILTER (WHERE kind = 'rating'))::INTEGER AS ratings,
                    count(*)::INTEGER AS events
               FROM chat_events GROUP BY conversation_run_id) x ON x.conversation_run_id = s.conversation_run_id
      WHERE s.kind = 'start'`,
];
