/**
 * The chat channel's inbound half: the API the chat page calls, mounted by the gateway host next to
 * the rating page's, with the same sessions (`authenticate`).
 *
 *   GET  /api/chat/config                              models, reason tags, limits
 *   GET  /api/chat/conversations                       the rater's own conversations
 *   POST /api/chat/conversations                       a new conversation {model}
 *   GET  /api/chat/conversations/<id>                  its transcript
 *   POST /api/chat/conversations/<id>/messages         {text}: the reply, streamed (text/event-stream) or as JSON
 *   POST /api/chat/conversations/<id>/regenerate       another reply to the latest turn, likewise
 *   POST /api/chat/conversations/<id>/ratings          {replyId, value, reason?}
 *   POST /api/chat/conversations/<id>/feedback         {replyId, text}
 *   POST /api/chat/conversations/<id>/corrections      {replyId, text}
 *   POST /api/chat/conversations/<id>/comparisons      {left, right, choice}
 *   POST /api/chat/conversations/<id>/end              Clear
 *   POST /api/chat/conversations/<id>/reopen           continue one that ended for inactivity
 *
 * Owner-only: every route on a conversation checks the session's pseudonym against its owner first, and
 * another rater's conversation is answered 404, as if it did not exist; the workflow checks again.
 * Messages are rate-limited per rater, texts capped and checked (requests.ts). A streamed reply's
 * pieces arrive through the stream hub (stream-hub.ts); the final event is the update's answer, whose
 * text replaces what was streamed.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { ChatRejectedError, type ConversationDirectory } from '../../core/conversation-directory';
import { ERROR_CATALOGUE, ErrorCode } from '../../core/errors';
import {
  HttpError, MAX_JSON_BODY_BYTES, SECURITY_HEADERS, bodyTooLarge, checkJsonType, checkSameOrigin, decodeParam, messageOf, readJsonObject, sendJson, tooManyRequests,
  type GatewayLog, type HttpRoute,
} from '../../core/http';
import type { RateLimiter } from '../../core/rate-limit';
import type { ChatRequestKind } from '../../workflows/chat-validation';
import type { ChatMessageView, ChatReplyReceipt, ChatRequestBase, ChatStart, Transcript } from '../../workflows/types';
import type { RaterAuthenticator, WebRater } from '../web/routes';
import { chatRequest } from './requests';
import type { ChatStreamHub, StreamEvent } from './stream-hub';

/** A chat request body holds at most one text of MAX_MESSAGE_CHARS (4 bytes a character, JSON-escaped). */
export const MAX_CHAT_BODY_BYTES = 160 * 1024;
export const LIST_LIMIT = 100;

export interface ChatSettings {
  /** The models offered (PREFLINE_CHAT_MODELS), the first preselected. */
  models: string[];
  reasonTags: string[];
  idleTimeout: string;
  /** PREFLINE_CHAT_LEDGER_LAG: how long events wait for the ledger (workflows/chat-commit-timing.ts). */
  commitAfterMs: number;
  maxMessageChars: number;
  contextMessages: number;
}

export interface ChatRoutesDeps {
  conversations: ConversationDirectory;
  authenticate: RaterAuthenticator;
  settings: ChatSettings;
  /** Where streamed replies' pieces arrive; without it replies are answered whole. */
  streams?: ChatStreamHub;
  /** The text of a message carried by reference (its artifact digest), for transcripts. */
  textOf: (sha256: string) => Promise<string | undefined>;
  /** Messages (and new conversations) per rater; none if absent. */
  messagesPerRater?: RateLimiter;
  /** Ratings, feedback, corrections, comparisons per rater; none if absent. */
  actionsPerRater?: RateLimiter;
  publicOrigin?: string;
  now?: () => number;
  log?: GatewayLog;
  newConversationId?: () => string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray) => Promise<void>;

export function createChatRoutes(deps: ChatRoutesDeps): HttpRoute[] {
  const now = deps.now ?? Date.now;
  const log: GatewayLog = deps.log ?? (() => undefined);
  const { settings } = deps;
  const newId = deps.newConversationId ?? (() => `chat-${randomBytes(10).toString('hex')}`);

  /** Wraps a directory call: refusals become their catalogue answer, anything else 502 without internals. */
  async function upstream<T>(what: string, conversationId: string | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ChatRejectedError) throw rejection(err);
      log('error', `chat ${what} failed`, { conversationId, error: messageOf(err) });
      throw new HttpError(ErrorCode.UpstreamError, 'could not reach the conversation, try again');
    }
  }

  /** The conversation, if it is the rater's: another rater's is answered as if it did not exist. */
  async function ownConversation(req: http.IncomingMessage, match: RegExpExecArray): Promise<{ id: string; who: WebRater }> {
    const id = decodeParam(match[1]!);
    const who = await deps.authenticate(req);
    const owner = await upstream('owner lookup', id, () => deps.conversations.owner(id));
    if (owner !== who.rater) {
      if (owner !== undefined) log('info', 'chat request for another rater\'s conversation refused', { conversationId: id, rater: who.rater });
      throw new HttpError(ErrorCode.UnknownConversation, ERROR_CATALOGUE[ErrorCode.UnknownConversation].answer!);
    }
    return { id, who };
  }

  /** The checks of every state-changing request, before its body is read. */
  async function posted(req: http.IncomingMessage, match: RegExpExecArray | undefined, limiter: RateLimiter | undefined, maxBytes = MAX_CHAT_BODY_BYTES) {
    checkSameOrigin(req, deps.publicOrigin);
    checkJsonType(req);
    if (Number(req.headers['content-length']) > maxBytes) throw bodyTooLarge(maxBytes);
    const { id, who } = match ? await ownConversation(req, match) : { id: '', who: await deps.authenticate(req) };
    const wait = limiter?.take(who.rater) ?? 0;
    if (wait > 0) {
      log('info', 'chat requests rate-limited', { rater: who.rater, retryAfterSeconds: wait });
      throw tooManyRequests(wait, `too many messages in a short time; try again in ${wait} s`);
    }
    return { id, who, body: await readJsonObject(req, maxBytes) };
  }

  function mapped<T extends ChatRequestBase>(kind: ChatRequestKind, body: Record<string, unknown>, who: WebRater, stream?: { streamId: string; streamUrl: string }): T {
    const result = chatRequest<T>(kind, body, who.rater, new Date(now()).toISOString(), settings, stream);
    if (!result.ok) throw new HttpError(result.code, result.message);
    return result.request;
  }

  const config: Handler = async (req, res) => {
    await deps.authenticate(req);
    sendJson(res, 200, { models: settings.models, reasonTags: settings.reasonTags, maxMessageChars: settings.maxMessageChars, streaming: deps.streams !== undefined });
  };

  const list: Handler = async (req, res) => {
    const who = await deps.authenticate(req);
    const conversations = await upstream('list', undefined, () => deps.conversations.listOwned(who.rater, LIST_LIMIT));
    sendJson(res, 200, { conversations });
  };

  const create: Handler = async (req, res) => {
    const { who, body } = await posted(req, undefined, deps.messagesPerRater, MAX_JSON_BODY_BYTES);
    const model = body.model ?? settings.models[0];
    if (typeof model !== 'string' || !settings.models.includes(model)) throw new HttpError(ErrorCode.UnknownChatModel, `model: one of ${settings.models.join(', ')}`);
    const conversationId = newId();
    const start: ChatStart = {
      owner: who.rater, ownerAuth: who.raterAuth, model, reasonTags: settings.reasonTags, idleTimeout: settings.idleTimeout,
      maxMessageChars: settings.maxMessageChars, contextMessages: settings.contextMessages, thresholds: { commitAfterMs: settings.commitAfterMs },
    };
    await upstream('start', conversationId, () => deps.conversations.start(conversationId, start));
    log('info', 'chat conversation started', { conversationId, rater: who.rater, model });
    sendJson(res, 201, { conversationId, model });
  };

  const transcript: Handler = async (req, res, match) => {
    const { id } = await ownConversation(req, match);
    const found = await upstream('transcript', id, () => deps.conversations.transcript(id));
    if (!found) throw new HttpError(ErrorCode.UnknownConversation, 'no such conversation');
    sendJson(res, 200, await withTexts(found));
  };

  /** Messages carried from an earlier run come by digest: their text is read back from the artifact store. */
  async function withTexts(t: Transcript): Promise<Transcript> {
    const messages = await Promise.all(t.messages.map(async (m): Promise<ChatMessageView> => {
      if (m.text !== undefined || m.sha256 === undefined) return m;
      const text = await deps.textOf(m.sha256).catch(() => undefined);
      return text !== undefined ? { ...m, text } : m;
    }));
    return { ...t, messages };
  }

  /** A message or a regeneration: the reply, streamed as server-sent events when the page asks for them. */
  const reply = (kind: 'send' | 'regenerate'): Handler => async (req, res, match) => {
    const { id, who, body } = await posted(req, match, deps.messagesPerRater);
    const wantsStream = deps.streams !== undefined && /text\/event-stream/.test(req.headers.accept ?? '');
    // A bad body is refused before a slot is opened or a stream started.
    const request = mapped<ChatRequestBase & { text: string }>(kind, body, who);
    const forward = (r: typeof request) => (kind === 'send' ? deps.conversations.send(id, r) : deps.conversations.regenerate(id, r));
    if (!wantsStream) return sendJson(res, 200, await upstream(kind, id, () => forward(request)));
    const events = openEventStream(res);
    const slot = deps.streams!.open((event: StreamEvent) => events.send(event.type === 'delta' ? 'delta' : event.type === 'reset' ? 'reset' : 'streamed', event));
    // The browser went away: its pieces have nowhere to go (the reply is still written and recorded).
    res.on('close', () => slot.close());
    try {
      const streamed = { ...request, stream: { streamId: slot.streamId, streamUrl: slot.streamUrl } };
      const receipt: ChatReplyReceipt = await upstream(kind, id, () => forward(streamed));
      events.send('reply', receipt);
    } catch (err) {
      const answer = err instanceof HttpError ? err : new HttpError(ErrorCode.InternalError, 'internal error');
      if (!(err instanceof HttpError)) log('error', 'chat reply failed', { conversationId: id, error: messageOf(err) });
      events.send('error', { error: answer.message, code: answer.code, status: answer.status });
    } finally {
      slot.close();
      events.end();
    }
  };

  const action = (kind: Exclude<ChatRequestKind, 'send' | 'regenerate'>): Handler => async (req, res, match) => {
    const { id, who, body } = await posted(req, match, deps.actionsPerRater);
    const request = mapped(kind, body, who);
    const c = deps.conversations;
    const receipt = await upstream(kind, id, () => {
      switch (kind) {
        case 'rate': return c.rate(id, request as never);
        case 'feedback': return c.feedback(id, request as never);
        case 'correction': return c.correct(id, request as never);
        case 'compare': return c.compare(id, request as never);
        case 'end': return c.end(id, request);
      }
    });
    sendJson(res, 200, receipt);
  };

  const reopen: Handler = async (req, res, match) => {
    const { id } = await posted(req, match, deps.messagesPerRater, MAX_JSON_BODY_BYTES);
    await upstream('reopen', id, () => deps.conversations.reopen(id));
    sendJson(res, 200, { conversationId: id, reopened: true });
  };

  const conversation = '^\\/api\\/chat\\/conversations\\/([^/]+)';
  return [
    { pattern: /^\/api\/chat\/config$/, methods: { GET: config } },
    { pattern: /^\/api\/chat\/conversations$/, methods: { GET: list, POST: create } },
    { pattern: new RegExp(`${conversation}$`), methods: { GET: transcript } },
    { pattern: new RegExp(`${conversation}\\/messages$`), methods: { POST: reply('send') } },
    { pattern: new RegExp(`${conversation}\\/regenerate$`), methods: { POST: reply('regenerate') } },
    { pattern: new RegExp(`${conversation}\\/ratings$`), methods: { POST: action('rate') } },
    { pattern: new RegExp(`${conversation}\\/feedback$`), methods: { POST: action('feedback') } },
    { pattern: new RegExp(`${conversation}\\/corrections$`), methods: { POST: action('correction') } },
    { pattern: new RegExp(`${conversation}\\/comparisons$`), methods: { POST: action('compare') } },
    { pattern: new RegExp(`${conversation}\\/end$`), methods: { POST: action('end') } },
    { pattern: new RegExp(`${conversation}\\/reopen$`), methods: { POST: reopen } },
  ];
}

/** A refusal as the HTTP answer it is: the code unchanged, its status and answer from the catalogue. */
function rejection(err: ChatRejectedError): HttpError {
  const answer = ERROR_CATALOGUE[err.code].answer ?? err.code;
  const retryAfter: Record<string, string> = err.code === ErrorCode.ChatBusy || err.code === ErrorCode.ReplyInProgress ? { 'Retry-After': '1' } : {};
  return new HttpError(err.code, answer, retryAfter, err.code === ErrorCode.MalformedChatRequest || err.code === ErrorCode.ReplyFailed ? { detail: err.message } : {});
}

/** Server-sent events on a POST's answer: `event: <name>` and one JSON `data:` line each. */
function openEventStream(res: http.ServerResponse): { send(event: string, data: unknown): void; end(): void } {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    // Proxies (nginx) would otherwise buffer the stream and deliver it at the end.
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  return {
    send(event, data) {
      if (!res.writableEnded && !res.destroyed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      if (!res.writableEnded) res.end();
    },
  };
}
