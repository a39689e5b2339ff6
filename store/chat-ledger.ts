/**
 * Commits a conversation's events into `chat_events` (store/chat-schema.ts), inside the transaction
 * Ledger.commitChat opens. Like vote rows, events go in with plain multi-row INSERTs so the ledger's
 * row order is commit order (releases rely on it); a batch the ledger (partly) holds already fails on
 * its primary key, and the retry skips the events present, so every event is stored exactly once.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import type { ChatEvent } from '../workflows/types';
import type { ChatCommitRequest, ChatCommitResult } from './chat-ledger-types';
import { CHAT_EVENT_COLUMNS } from './chat-schema';

const CASTS: Partial<Record<(typeof CHAT_EVENT_COLUMNS)[number], string>> = {
  accepted_at: '::TIMESTAMPTZ', context_ids: '::VARCHAR[]', provenance: '::JSON', detail: '::JSON', committed_at: '::TIMESTAMPTZ',
};
const ROWS_PER_STATEMENT = 50;

function row(request: ChatCommitRequest, e: ChatEvent, committedAt: string): DuckDBValue[] {
  const c = request.conversation;
  const values: Record<(typeof CHAT_EVENT_COLUMNS)[number], DuckDBValue> = {
    conversation_run_id: c.conversationRunId,
    conversation_id: c.conversationId,
    seq: e.seq,
    kind: e.kind,
    accepted_at: e.at,
    owner: c.owner,
    owner_auth: c.ownerAuth,
    idempotency_key: e.idempotencyKey ?? null,
    turn: e.turn ?? null,
    message_id: e.messageId ?? null,
    role: e.role ?? null,
    content: e.content ?? null,
    reply_id: e.replyId ?? null,
    rating: e.value ?? null,
    reason: e.reason ?? null,
    left_reply: e.left ?? null,
    right_reply: e.right ?? null,
    choice: e.choice ?? null,
    winner_reply: e.winner ?? null,
    model: e.model ?? null,
    reply_index: e.replyIndex ?? null,
    // Bound as JSON text and cast: the list binder wants a typed list, the cast reads a JSON array.
    context_ids: e.contextIds ? JSON.stringify(e.contextIds) : null,
    provenance: e.provenance ? JSON.stringify(e.provenance) : null,
    detail: e.detail ? JSON.stringify(e.detail) : null,
    committed_at: committedAt,
  };
  return CHAT_EVENT_COLUMNS.map((name) => values[name]);
}

/** Inserts `request.events` (those the ledger lacks, with `skipExisting`); `c` must be in a transaction. */
export async function insertChatEvents(c: DuckDBConnection, request: ChatCommitRequest, committedAt: string, skipExisting: boolean): Promise<ChatCommitResult> {
  const runId = request.conversation.conversationRunId;
  let events = request.events;
  if (skipExisting) {
    const held = await c.runAndReadAll(`SELECT seq FROM chat_events WHERE conversation_run_id = $1`, [runId]);
    const seen = new Set(held.getRows().map((r) => Number(r[0])));
    events = events.filter((e) => {
      if (seen.has(e.seq)) return false;
      seen.add(e.seq);
      return true;
    });
  }
  const width = CHAT_EVENT_COLUMNS.length;
  const tuple = (r: number) => `(${CHAT_EVENT_COLUMNS.map((name, k) => `$${r * width + k + 1}${CASTS[name] ?? ''}`).join(', ')})`;
  let inserted = 0;
  for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT) {
    const chunk = events.slice(i, i + ROWS_PER_STATEMENT);
    const result = await c.run(
      `INSERT INTO chat_events (${CHAT_EVENT_COLUMNS.join(', ')}) VALUES ${chunk.map((_, r) => tuple(r)).join(', ')}`,
      chunk.flatMap((e) => row(request, e, committedAt)),
    );
    inserted += Number(result.rowsChanged);
  }
  const [total] = (await c.runAndReadAll(`SELECT count(*)::INTEGER FROM chat_events WHERE conversation_run_id = $1`, [runId])).getRows();
  return { eventsInserted: inserted, eventsForConversation: Number(total?.[0] ?? 0) };
}
