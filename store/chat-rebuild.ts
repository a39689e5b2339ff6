/**
 * Rebuilds a conversation from its ledger events as of any moment (`prefline chat show <id> --at
 * <time>`): the events accepted at or before that time, applied in order, give the messages, the
 * owner's standing rating per reply, feedback, corrections, A/B judgements and whether it had ended.
 * The rules are the workflow's own (workflows/conversation-state.ts). Pure.
 */

/** A `chat_events` row as the ledger's read path returns it (JSON values). */
export interface ChatEventRow {
  conversation_id: string;
  owner: string;
  seq: number;
  kind: string;
  accepted_at: string;
  turn: number | null;
  message_id: string | null;
  role: string | null;
  content: string | null;
  reply_id: string | null;
  rating: string | null;
  reason: string | null;
  left_reply: string | null;
  right_reply: string | null;
  choice: string | null;
  winner_reply: string | null;
  model: string | null;
  reply_index: number | null;
  detail: unknown;
}

/** The columns `rebuildConversation` reads, for the query that fetches them. */
export const CHAT_REBUILD_COLUMNS = [
  'conversation_id', 'owner', 'seq', 'kind', 'accepted_at', 'turn', 'message_id', 'role', 'content', 'reply_id', 'rating', 'reason', 'left_reply',
  'right_reply', 'choice', 'winner_reply', 'model', 'reply_index', 'detail',
] as const;

export interface RebuiltReply {
  id: string;
  text: string;
  model?: string;
  replyIndex: number;
  at: string;
  rating?: { value: 'up' | 'down'; reason?: string };
  feedback: string[];
  correction?: string;
  /** The reply the conversation continued from. */
  active: boolean;
}

export interface RebuiltTurn {
  turn: number;
  user?: { id: string; text: string; at: string };
  replies: RebuiltReply[];
  judgement?: { left: string; right: string; choice: string; winner?: string };
}

export interface RebuiltConversation {
  conversationId: string;
  owner: string;
  model?: string;
  startedAt?: string;
  /** The moment it was rebuilt as of (undefined: everything in the ledger). */
  asOf?: string;
  ended?: { at: string; reason: string };
  /** Events applied. */
  events: number;
  turns: RebuiltTurn[];
}

function detailOf(row: ChatEventRow): Record<string, unknown> {
  if (typeof row.detail === 'string') {
    try {
      return JSON.parse(row.detail) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return (row.detail ?? {}) as Record<string, unknown>;
}

/** The conversation as it stood at `asOf` (ISO-8601; every event if undefined). `rows` may come in any order. */
export function rebuildConversation(rows: readonly ChatEventRow[], asOf?: string): RebuiltConversation | undefined {
  const limit = asOf === undefined ? Infinity : Date.parse(asOf);
  const events = [...rows].sort((a, b) => Number(a.seq) - Number(b.seq)).filter((r) => Date.parse(r.accepted_at) <= limit);
  const first = events[0];
  if (!first) return undefined;
  const conversation: RebuiltConversation = { conversationId: first.conversation_id, owner: first.owner, ...(asOf !== undefined ? { asOf } : {}), events: events.length, turns: [] };
  const replies = new Map<string, RebuiltReply>();
  const turnOf = (n: number): RebuiltTurn => {
    while (conversation.turns.length < n) conversation.turns.push({ turn: conversation.turns.length + 1, replies: [] });
    return conversation.turns[n - 1]!;
  };
  const activate = (turn: RebuiltTurn, id: string | undefined) => {
    for (const r of turn.replies) r.active = r.id === id;
  };
  for (const e of events) {
    const reply = e.reply_id !== null ? replies.get(e.reply_id) : undefined;
    switch (e.kind) {
      case 'start':
        conversation.model = e.model ?? undefined;
        conversation.startedAt = e.accepted_at;
        break;
      case 'reopen':
        delete conversation.ended;
        break;
      case 'end':
        conversation.ended = { at: e.accepted_at, reason: String(detailOf(e).reason ?? 'cleared') };
        break;
      case 'user_message':
        turnOf(e.turn!).user = { id: e.message_id!, text: e.content ?? '', at: e.accepted_at };
        break;
      case 'reply': {
        const turn = turnOf(e.turn!);
        const r: RebuiltReply = { id: e.message_id!, text: e.content ?? '', ...(e.model ? { model: e.model } : {}), replyIndex: Number(e.reply_index ?? turn.replies.length), at: e.accepted_at, feedback: [], active: false };
        turn.replies.push(r);
        replies.set(r.id, r);
        activate(turn, r.id);
        break;
      }
      case 'rating':
        if (!reply) break;
        if (e.rating === 'up' || e.rating === 'down') reply.rating = { value: e.rating, ...(e.reason ? { reason: e.reason } : {}) };
        else delete reply.rating;
        break;
      case 'feedback':
        reply?.feedback.push(e.content ?? '');
        break;
      case 'correction':
        if (reply) reply.correction = e.content ?? '';
        break;
      case 'compare': {
        const turn = turnOf(e.turn!);
        if (e.choice === 'retract') {
          delete turn.judgement;
          activate(turn, turn.replies.at(-1)?.id);
        } else {
          turn.judgement = { left: e.left_reply!, right: e.right_reply!, choice: e.choice!, ...(e.winner_reply ? { winner: e.winner_reply } : {}) };
          activate(turn, e.winner_reply ?? turn.replies.at(-1)?.id);
        }
        break;
      }
      default:
        break; // regenerate: the reply that follows it is the event that matters
    }
  }
  return conversation;
}

/** The rebuilt conversation as text for a terminal. */
export function formatConversation(c: RebuiltConversation): string {
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ⏎ ');
  const lines = [
    `conversation ${c.conversationId}  model ${c.model ?? '?'}  owner ${c.owner}`,
    `  started ${c.startedAt ?? '?'}${c.ended ? `, ended (${c.ended.reason}) ${c.ended.at}` : ', open'}${c.asOf ? `   as of ${c.asOf}` : ''}   ${c.events} events`,
  ];
  for (const t of c.turns) {
    lines.push(`turn ${t.turn}`);
    if (t.user) lines.push(`  user (${t.user.id}): ${oneLine(t.user.text)}`);
    for (const r of t.replies) {
      const rating = r.rating ? ` ${r.rating.value === 'up' ? '👍' : '👎'}${r.rating.reason ? ` [${r.rating.reason}]` : ''}` : '';
      lines.push(`  assistant (${r.id}, reply ${r.replyIndex + 1}${r.active ? ', active' : ''})${rating}: ${oneLine(r.text)}`);
      for (const f of r.feedback) lines.push(`    feedback: ${oneLine(f)}`);
      if (r.correction !== undefined) lines.push(`    correction: ${oneLine(r.correction)}`);
    }
    if (t.judgement) lines.push(`  compare: ${t.judgement.left} (left) vs ${t.judgement.right} (right): ${t.judgement.choice}`);
  }
  return lines.join('\n');
}
