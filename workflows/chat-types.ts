/**
 * The chat contract: what the gateway sends to a `chatConversation` workflow, what it answers, the
 * events it commits to the ledger and what continue-as-new carries. Re-exported by workflows/types.ts,
 * so every layer imports it through the workflows' contract. Nothing here may depend on Node.
 */
import type { RaterAuth } from './types';

export type ChatRole = 'user' | 'assistant';
export type ThumbValue = 'up' | 'down' | 'retract';
/**
 * A pairwise judgement over two replies to one turn, in the shape of issue 14's judgements: `left` and
 * `right` are the replies in the order the user saw them; `retract` withdraws the standing judgement.
 */
export type JudgementChoice = 'left' | 'right' | 'tie' | 'both_bad' | 'retract';

/** The start argument of a `chatConversation` workflow (the gateway fills it from its configuration). */
export interface ChatStart {
  /** The owner's pseudonym: the only rater who may read or post. */
  owner: string;
  ownerAuth: RaterAuth;
  /** `demo:text` or `openai:<model>`. */
  model: string;
  /** Passed to the model (temperature, max_tokens, …); an integer `seed` fixes the replies' seeds. */
  params?: Record<string, unknown>;
  /** The reason tags a rating may carry (PREFLINE_CHAT_REASON_TAGS). */
  reasonTags?: string[];
  /** Duration without activity after which the conversation ends, default 30m. */
  idleTimeout?: string;
  maxTurns?: number;
  /** Cap on every text the user sends: messages, feedback, corrections. */
  maxMessageChars?: number;
  /** Messages of the conversation the model sees (the newest ones), default 40. */
  contextMessages?: number;
  /** Limits a starter may lower (tests reach continue-as-new and commits in seconds). */
  thresholds?: ChatThresholds;
}

export interface ChatThresholds {
  /** Continue-as-new once the run's history has this many events (the server's suggestion applies regardless). */
  continueAsNewAfterEvents?: number;
  /** The longest an accepted event waits for the ledger; the events within it share one commit (workflows/chat-commit-timing.ts). Default 30000 ms, at most 60000. */
  commitAfterMs?: number;
}

/** A validated start. */
export interface ChatPlan {
  owner: string;
  ownerAuth: RaterAuth;
  model: string;
  params: Record<string, unknown>;
  /** The first reply's seed; reply n has seed + n − 1. */
  seed: number;
  reasonTags: string[];
  idleTimeoutMs: number;
  maxTurns: number;
  maxMessageChars: number;
  contextMessages: number;
  thresholds: ChatThresholds;
}

/** Where the inference activity sends the reply's tokens while it runs: a slot the gateway opened. */
export interface StreamTarget {
  streamId: string;
  /** The gateway's own internal URL of the slot (PREFLINE_GATEWAY_INTERNAL_URL). No secret: chunks are signed with the stream key. */
  streamUrl: string;
}

/** What every request names. `rater` is the session's pseudonym; the workflow checks it is the owner. */
export interface ChatRequestBase {
  /** From the page: a repeated delivery counts once (namespaced by the gateway: `chat:<rater>:<key>`). */
  idempotencyKey: string;
  rater: string;
  /** When the gateway received it (ISO-8601). */
  sentAt: string;
}

export interface SendMessageRequest extends ChatRequestBase {
  text: string;
  stream?: StreamTarget;
}

/** Another reply to the latest turn (or a first one, if its reply failed). */
export interface RegenerateRequest extends ChatRequestBase {
  stream?: StreamTarget;
}

export interface RateReplyRequest extends ChatRequestBase {
  replyId: string;
  value: ThumbValue;
  /** One of the conversation's reason tags. */
  reason?: string;
}

/** Free-text feedback on a reply. */
export interface FeedbackRequest extends ChatRequestBase {
  replyId: string;
  text: string;
}

/** The answer the reply should have been. */
export interface CorrectionRequest extends ChatRequestBase {
  replyId: string;
  text: string;
}

/** An A/B judgement over two replies to one turn, in the order shown. */
export interface CompareRequest extends ChatRequestBase {
  left: string;
  right: string;
  choice: JudgementChoice;
}

export type EndRequest = ChatRequestBase;

export type ChatOutcome = 'recorded' | 'changed' | 'retracted' | 'unchanged' | 'duplicate';

/** Where a reply came from: enough to reproduce or audit it. */
export interface ReplyProvenance {
  backend: string;
  model: string;
  version?: string;
  params: Record<string, unknown>;
  seed: number;
  predictionId?: string;
  /** From the request to the last token, as the inference worker measured it. */
  latencyMs: number;
  /** From the request to the first token. */
  ttftMs?: number;
  /** The server's token counts (`usage`), when it reports them. */
  usage?: Record<string, unknown>;
  /** Chunks streamed. */
  chunks: number;
  finishReason?: string;
  /** Which attempt of the activity produced it (a retry after a crash starts over). */
  attempt: number;
  /** Demo replies are placeholders for a model, and say so. */
  placeholder: boolean;
}

export interface ChatMessageView {
  id: string;
  role: ChatRole;
  turn: number;
  /** The text; absent for a message carried from an earlier run by reference (see `sha256`). */
  text?: string;
  /** Content digest in the artifact store (absent until the inference worker stored it). */
  sha256?: string;
  createdAt: string;
  /** Assistant messages: the model, which reply of its turn (0 = first), and their provenance. */
  model?: string;
  replyIndex?: number;
  placeholder?: boolean;
  latencyMs?: number;
  ttftMs?: number;
  /** The owner's standing 👍/👎. */
  rating?: { value: 'up' | 'down'; reason?: string };
  feedbackCount?: number;
  corrected?: boolean;
}

export interface TurnView {
  turn: number;
  userMessageId: string;
  replyIds: string[];
  /** The reply the model's context continues from: the compare winner if there is one, else the latest. */
  activeReplyId?: string;
  /** The standing compare judgement of the turn. */
  judgement?: { left: string; right: string; choice: Exclude<JudgementChoice, 'retract'> };
  /** Why the last attempt at a reply failed, if it did and none followed. */
  failed?: string;
}

export type ConversationPhase = 'open' | 'generating' | 'ended';
export type ChatEndReason = 'cleared' | 'idle';

export interface ConversationStatus {
  conversationId: string;
  owner: string;
  model: string;
  phase: ConversationPhase;
  endReason?: ChatEndReason;
  turns: number;
  startedAt: string;
  lastActivityAt: string;
  idleTimeoutMs: number;
  reasonTags: string[];
  maxMessageChars: number;
  maxTurns: number;
  /** Events accepted and not in the ledger yet (they go once the conversation is quiet). */
  uncommitted: number;
  /** The start of the first message, for lists. */
  title?: string;
}

export interface Transcript {
  status: ConversationStatus;
  messages: ChatMessageView[];
  turns: TurnView[];
}

/** What sending a message (or regenerating) answers: the finished reply. */
export interface ChatReplyReceipt {
  outcome: 'recorded' | 'duplicate';
  turn: number;
  userMessageId: string;
  reply: ChatMessageView;
}

export interface ChatReceipt {
  outcome: ChatOutcome;
}

export type ChatEventKind = 'start' | 'reopen' | 'user_message' | 'reply' | 'rating' | 'feedback' | 'correction' | 'regenerate' | 'compare' | 'end';

/** One event of a conversation, as the ledger stores it: the unit of `chat_events`, append-only. */
export interface ChatEvent {
  /** Acceptance order within the conversation, from 1, across runs. */
  seq: number;
  kind: ChatEventKind;
  /** Workflow time of acceptance (ISO-8601). */
  at: string;
  idempotencyKey?: string;
  turn?: number;
  /** user_message, reply: the message; rating, feedback, correction: the reply it is about (see replyId). */
  messageId?: string;
  role?: ChatRole;
  /** The text: of a message, feedback or correction. */
  content?: string;
  /** rating, feedback, correction: the reply; regenerate: the reply it follows (if any). */
  replyId?: string;
  value?: ThumbValue;
  reason?: string;
  left?: string;
  right?: string;
  choice?: JudgementChoice;
  /** compare: the reply the choice makes the winner (none for tie, both_bad, retract). */
  winner?: string;
  model?: string;
  provenance?: ReplyProvenance;
  /** reply: the ids of the messages the model saw, in order (the conversation so far). */
  contextIds?: string[];
  replyIndex?: number;
  /** start and reopen: the plan; end: the reason. */
  detail?: Record<string, unknown>;
}

/** A message as a later run knows it: by reference (the text only when no digest exists yet). */
export interface CarriedMessage {
  id: string;
  role: ChatRole;
  turn: number;
  sha256?: string;
  text?: string;
  createdAt: string;
  model?: string;
  replyIndex?: number;
  placeholder?: boolean;
  latencyMs?: number;
  ttftMs?: number;
  rating?: { value: 'up' | 'down'; reason?: string };
  feedbackCount?: number;
  corrected?: boolean;
}

/** What continue-as-new (and reopening an idle conversation) carries: ids and digests, not the transcript. */
export interface ChatCarry {
  conversationId: string;
  /** The first run id of the conversation's first run: the ledger's key, stable across runs and reopenings. */
  conversationRunId: string;
  plan: ChatPlan;
  startedAt: string;
  lastActivityAt: string;
  nextSeq: number;
  replies: number;
  title?: string;
  messages: CarriedMessage[];
  turns: TurnView[];
  /** Events accepted but not yet committed (normally none: the run commits before it continues). */
  outbox: ChatEvent[];
  /** Recent idempotency keys and what they answered, so a late duplicate still counts once. */
  recentKeys: Array<[string, string]>;
  endReason?: ChatEndReason;
  /** Set by whoever starts a new run from an idle conversation's final carry, to continue it. */
  reopened?: boolean;
}

/** What a conversation returns when it ends. */
export interface ConversationSummary {
  conversationId: string;
  endReason: ChatEndReason;
  turns: number;
  events: number;
  /** For reopening an idle conversation: a new run continues from it. */
  carry: ChatCarry;
}
