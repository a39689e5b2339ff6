/**
 * The rules a conversation's start argument and requests must follow, pure and deterministic: the
 * workflow's validators use them, and the gateway runs the same checks before forwarding, so a bad
 * request is answered without a round trip. State checks (ended, a reply in progress, whose reply)
 * live in the conversation (conversation-state.ts).
 */
import { parseDuration } from '../core/duration';
import { unsafeCharacter } from '../core/text-hygiene';
import type { ChatPlan, ChatStart, ChatThresholds, JudgementChoice, ThumbValue } from './chat-types';
import { AVAILABLE_BACKENDS } from './input';
import type { RaterAuth } from './types';

export const DEFAULT_IDLE_TIMEOUT = '30m';
export const MIN_IDLE_TIMEOUT_MS = 1000;
export const MAX_IDLE_TIMEOUT_MS = 7 * 86_400_000;
/** The longest `thresholds.commitAfterMs` (PREFLINE_CHAT_LEDGER_LAG): events never wait longer than a minute for the ledger. */
export const MAX_COMMIT_AFTER_MS = 60_000;
export const DEFAULT_MAX_TURNS = 200;
export const MAX_TURNS = 1000;
export const DEFAULT_MAX_MESSAGE_CHARS = 8000;
export const MAX_MESSAGE_CHARS = 32_000;
export const DEFAULT_CONTEXT_MESSAGES = 40;
export const MAX_CONTEXT_MESSAGES = 400;
export const MAX_REASON_TAGS = 20;
/** A continued run takes a few events before its first message; a lower limit could continue again without one. */
export const MIN_CONTINUE_AS_NEW_EVENTS = 20;
export const MAX_KEY_LENGTH = 200;

const RATER_PATTERN = /^[a-z]+_[0-9a-f]{8,64}$/;
const RATER_AUTHS: ReadonlySet<unknown> = new Set<RaterAuth>(['invite', 'oidc', 'open', 'cli']);
const REASON_TAG = /^[\p{L}\p{N}][\p{L}\p{N} _-]{0,39}$/u;
const STREAM_ID = /^[A-Za-z0-9_-]{16,64}$/;
const STREAM_URL = /^https?:\/\/[^\s/?#]+\/[^\s]{0,400}$/;
const THUMBS: ReadonlySet<unknown> = new Set<ThumbValue>(['up', 'down', 'retract']);
const CHOICES: ReadonlySet<unknown> = new Set<JudgementChoice>(['left', 'right', 'tie', 'both_bad', 'retract']);
const START_FIELDS = new Set(['owner', 'ownerAuth', 'model', 'params', 'reasonTags', 'idleTimeout', 'maxTurns', 'maxMessageChars', 'contextMessages', 'thresholds']);

/** Whether `model` names a model that can chat: `demo:text` or `openai:<model>`. */
export function isChatModel(model: unknown): model is string {
  if (typeof model !== 'string') return false;
  const colon = model.indexOf(':');
  const backend = model.slice(0, colon);
  const ref = model.slice(colon + 1);
  if (backend === 'demo') return ref === 'text';
  const rule = AVAILABLE_BACKENDS[backend];
  return backend === 'openai' && rule instanceof RegExp && rule.test(ref);
}

/** A 32-bit FNV-1a hash: the default seed of a conversation, from its id (pure; no Node crypto in workflows). */
export function seedFromId(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export type ChatStartValidation = { ok: true; plan: ChatPlan } | { ok: false; errors: string[] };

/** Every problem with a start argument, each naming its field; or the plan. */
export function validateChatStart(arg: unknown, conversationId: string): ChatStartValidation {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) return { ok: false, errors: ['start: must be an object like {"owner": "r_…", "model": "demo:text"}'] };
  const s = arg as Partial<Record<keyof ChatStart, unknown>>;
  const errors = Object.keys(s).filter((k) => !START_FIELDS.has(k)).map((k) => `${k}: unknown field`);
  if (typeof s.owner !== 'string' || !RATER_PATTERN.test(s.owner)) errors.push('owner: must be a rater pseudonym (r_…)');
  if (!RATER_AUTHS.has(s.ownerAuth)) errors.push('ownerAuth: "invite", "oidc", "open" or "cli"');
  if (!isChatModel(s.model)) errors.push('model: a chat model, demo:text or openai:<model>');
  const params = s.params ?? {};
  if (typeof params !== 'object' || params === null || Array.isArray(params)) errors.push('params: must be an object');
  const seed = (params as Record<string, unknown>)['seed'];
  if (seed !== undefined && !(Number.isSafeInteger(seed) && (seed as number) >= 0)) errors.push('params.seed: a non-negative integer');
  const tags = s.reasonTags ?? [];
  if (!Array.isArray(tags) || tags.length > MAX_REASON_TAGS || !tags.every((t) => typeof t === 'string' && REASON_TAG.test(t)) || new Set(tags).size !== tags.length) {
    errors.push(`reasonTags: at most ${MAX_REASON_TAGS} distinct tags of 1–40 letters, digits, spaces, "_" or "-"`);
  }
  const idleMs = parseDuration(typeof s.idleTimeout === 'string' ? s.idleTimeout : DEFAULT_IDLE_TIMEOUT);
  if (s.idleTimeout !== undefined && typeof s.idleTimeout !== 'string') errors.push('idleTimeout: a duration like "30m"');
  else if (idleMs === undefined || idleMs < MIN_IDLE_TIMEOUT_MS || idleMs > MAX_IDLE_TIMEOUT_MS) errors.push('idleTimeout: a duration from 1s to 7d');
  const int = (name: 'maxTurns' | 'maxMessageChars' | 'contextMessages', fallback: number, min: number, max: number): number => {
    const value = s[name] ?? fallback;
    if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) errors.push(`${name}: an integer from ${min} to ${max}`);
    return value as number;
  };
  const maxTurns = int('maxTurns', DEFAULT_MAX_TURNS, 1, MAX_TURNS);
  const maxMessageChars = int('maxMessageChars', DEFAULT_MAX_MESSAGE_CHARS, 1, MAX_MESSAGE_CHARS);
  const contextMessages = int('contextMessages', DEFAULT_CONTEXT_MESSAGES, 1, MAX_CONTEXT_MESSAGES);
  const thresholds = thresholdsOf(s.thresholds, errors);
  if (errors.length > 0) return { ok: false, errors };
  const { seed: _seed, ...rest } = params as Record<string, unknown>;
  return {
    ok: true,
    plan: {
      owner: s.owner as string, ownerAuth: s.ownerAuth as RaterAuth, model: s.model as string, params: rest,
      seed: typeof seed === 'number' ? seed : seedFromId(conversationId),
      reasonTags: tags as string[], idleTimeoutMs: idleMs as number, maxTurns, maxMessageChars, contextMessages, thresholds,
    },
  };
}

function thresholdsOf(value: unknown, errors: string[]): ChatThresholds {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.push('thresholds: must be an object');
    return {};
  }
  const { continueAsNewAfterEvents, commitAfterMs, ...rest } = value as Record<string, unknown>;
  for (const key of Object.keys(rest)) errors.push(`thresholds.${key}: unknown field; known: continueAsNewAfterEvents, commitAfterMs`);
  if (continueAsNewAfterEvents !== undefined && !(Number.isSafeInteger(continueAsNewAfterEvents) && (continueAsNewAfterEvents as number) >= MIN_CONTINUE_AS_NEW_EVENTS)) {
    errors.push(`thresholds.continueAsNewAfterEvents: an integer of at least ${MIN_CONTINUE_AS_NEW_EVENTS}`);
  }
  if (commitAfterMs !== undefined && !(Number.isSafeInteger(commitAfterMs) && (commitAfterMs as number) >= 0 && (commitAfterMs as number) <= MAX_COMMIT_AFTER_MS)) {
    errors.push(`thresholds.commitAfterMs: an integer from 0 to ${MAX_COMMIT_AFTER_MS}`);
  }
  return {
    ...(continueAsNewAfterEvents !== undefined ? { continueAsNewAfterEvents: continueAsNewAfterEvents as number } : {}),
    ...(commitAfterMs !== undefined ? { commitAfterMs: commitAfterMs as number } : {}),
  };
}

export type ChatRequestKind = 'send' | 'regenerate' | 'rate' | 'feedback' | 'correction' | 'compare' | 'end';

/** Why a text the user wrote (a message, feedback, a correction) is refused, or undefined. */
export function chatTextReason(field: string, text: unknown, maxChars: number): string | undefined {
  if (typeof text !== 'string' || text.trim() === '') return `${field}: required, some text`;
  if ([...text].length > maxChars) return `${field}: at most ${maxChars} characters`;
  const unsafe = unsafeCharacter(text);
  if (unsafe) return `${field}: control and bidirectional-override characters are not allowed (${unsafe.codePoint} at position ${unsafe.index})`;
  return undefined;
}

/** Returns a reason if the request is malformed for its kind, else undefined. Shape only. */
export function malformedChatReason(kind: ChatRequestKind, request: unknown, plan: Pick<ChatPlan, 'maxMessageChars' | 'reasonTags'>): string | undefined {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return 'request must be an object';
  const r = request as Record<string, unknown>;
  if (typeof r.idempotencyKey !== 'string' || r.idempotencyKey.length === 0 || r.idempotencyKey.length > MAX_KEY_LENGTH) {
    return `idempotencyKey: required, 1–${MAX_KEY_LENGTH} characters`;
  }
  if (typeof r.rater !== 'string' || !RATER_PATTERN.test(r.rater)) return 'rater: must be a pseudonym (keyed hash), not a raw identity';
  if (typeof r.sentAt !== 'string' || Number.isNaN(Date.parse(r.sentAt))) return 'sentAt: must be an ISO-8601 time';
  switch (kind) {
    case 'send':
      return chatTextReason('text', r.text, plan.maxMessageChars) ?? streamReason(r.stream);
    case 'regenerate':
      return streamReason(r.stream);
    case 'rate':
      if (typeof r.replyId !== 'string' || r.replyId === '') return 'replyId: required';
      if (!THUMBS.has(r.value)) return 'value: must be "up", "down" or "retract"';
      if (r.reason === undefined) return undefined;
      if (r.value === 'retract') return 'reason: only with "up" or "down"';
      return typeof r.reason === 'string' && plan.reasonTags.includes(r.reason) ? undefined : `reason: one of ${plan.reasonTags.map((t) => `"${t}"`).join(', ') || '(no tags configured)'}`;
    case 'feedback':
    case 'correction':
      if (typeof r.replyId !== 'string' || r.replyId === '') return 'replyId: required';
      return chatTextReason('text', r.text, plan.maxMessageChars);
    case 'compare':
      if (typeof r.left !== 'string' || typeof r.right !== 'string' || r.left === '' || r.right === '') return 'left, right: the two replies, as shown';
      if (r.left === r.right) return 'left, right: two different replies';
      return CHOICES.has(r.choice) ? undefined : 'choice: "left", "right", "tie", "both_bad" or "retract"';
    case 'end':
      return undefined;
  }
}

function streamReason(stream: unknown): string | undefined {
  if (stream === undefined) return undefined;
  const s = stream as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || typeof s.streamId !== 'string' || !STREAM_ID.test(s.streamId) || typeof s.streamUrl !== 'string' || !STREAM_URL.test(s.streamUrl)) {
    return 'stream: {streamId, streamUrl} of the gateway\'s stream slot';
  }
  return undefined;
}
