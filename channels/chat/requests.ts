/**
 * The chat channel's mapping from request bodies (sent by the chat page) to the workflow's requests.
 * Pure: the route authenticates the rater and reads the body; this decides what the body means, with
 * the workflow's own shape checks (workflows/chat-validation.ts) and text hygiene, so a bad request is
 * answered at the gateway without a round trip. Idempotency keys are namespaced by rater.
 */
import { ErrorCode } from '../../core/errors';
import { normaliseLineEnds } from '../../core/text-hygiene';
import { chatTextReason, malformedChatReason, type ChatRequestKind } from '../../workflows/chat-validation';
import type { ChatRequestBase, StreamTarget } from '../../workflows/types';

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,128}$/;

export interface ChatLimits {
  maxMessageChars: number;
  reasonTags: string[];
}

export type ChatMapping<T> =
  | { ok: true; request: T }
  | { ok: false; code: (typeof ErrorCode)['InvalidIdempotencyKey' | 'InvalidChatText' | 'MalformedChatRequest']; message: string };

const TEXT_FIELDS: Partial<Record<ChatRequestKind, true>> = { send: true, feedback: true, correction: true };
const FIELDS: Record<ChatRequestKind, readonly string[]> = {
  send: ['text'],
  regenerate: [],
  rate: ['replyId', 'value', 'reason'],
  feedback: ['replyId', 'text'],
  correction: ['replyId', 'text'],
  compare: ['left', 'right', 'choice'],
  end: [],
};

/**
 * `body` as the page sends it: `{idempotencyKey, …the kind's fields}`. `rater` is the session's
 * pseudonym, `sentAt` when the gateway received it, `stream` the slot a reply's pieces go to.
 */
export function chatRequest<T extends ChatRequestBase>(kind: ChatRequestKind, body: Record<string, unknown>, rater: string, sentAt: string, limits: ChatLimits, stream?: StreamTarget): ChatMapping<T> {
  if (typeof body.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(body.idempotencyKey)) {
    return { ok: false, code: ErrorCode.InvalidIdempotencyKey, message: 'idempotencyKey: 8–128 characters of A–Z, a–z, 0–9, "_" and "-"' };
  }
  const request: Record<string, unknown> = { idempotencyKey: `chat:${rater}:${body.idempotencyKey}`, rater, sentAt };
  for (const field of FIELDS[kind]) {
    const value = body[field];
    if (value === undefined || value === null || value === '') continue;
    // CR LF as LF, trailing space trimmed: what the user meant, and the same text on every platform.
    request[field] = field === 'text' && typeof value === 'string' ? normaliseLineEnds(value).trimEnd() : value;
  }
  if (stream) request.stream = stream;
  if (TEXT_FIELDS[kind]) {
    const reason = chatTextReason('text', request.text, limits.maxMessageChars);
    if (reason) return { ok: false, code: ErrorCode.InvalidChatText, message: reason };
  }
  const reason = malformedChatReason(kind, request, limits);
  if (reason) return { ok: false, code: ErrorCode.MalformedChatRequest, message: reason };
  return { ok: true, request: request as unknown as T };
}
