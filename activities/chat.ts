/**
 * The chat activities. `generateReply` (inference queue) writes one reply of a conversation:
 * - it reads the context messages from the artifact store by digest (cached: content-addressed texts
 *   never change) and stores the new user message, which comes as text, while the model writes — so
 *   the workflow passes references, not the transcript, and no disk write delays the first token;
 * - it streams the model's pieces to the gateway slot named in the request (best-effort, see
 *   channels/chat/stream-writer.ts) and heartbeats its progress every second (on a clock only: a reply
 *   shorter than that sends none, so its completion is the only call to the server);
 * - it stores the finished text (content-addressed) and, at the same time, a reply record holding it
 *   under an attempt-independent key, before it returns, so a retry after a worker crash that finds
 *   the record returns that reply without asking the model again: the reply is produced once. A retry
 *   of an unfinished reply starts over (the gateway tells the page to start over too);
 * - cancellation (Clear while the reply is written) reaches the backend through the AbortSignal.
 * `commitChatEvents` (ledger queue) commits a batch of events, idempotently (Ledger.commitChat).
 */
import { Context, heartbeat, log } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { openReplyStream, type ReplyStream } from '../channels/chat/stream-writer';
import { TEXT_MIME } from '../connectors/inference/http-util';
import type { InferenceRegistry } from '../connectors/inference/registry';
import type { ChatMessage } from '../connectors/inference/types';
import type { ArtifactStore } from '../store/ArtifactStore';
import type { Ledger } from '../store/Ledger';
import type { ReplyRecords } from '../store/reply-records';
import type { ReplyProvenance } from '../workflows/types';
import { toActivityFailure } from './failures';
import type { ChatInferenceActivities, ChatLedgerActivities, GeneratedReply, GenerateReplyRequest } from './types';

/** Longest reply kept; a model that goes on is cut here (finish reason `length_cap`). */
export const MAX_REPLY_CHARS = 32_000;
/** Well under the workflow's heartbeat timeout for replies (10 s). */
export const CHAT_HEARTBEAT_MS = 1000;
/** Context texts kept in memory per worker: a conversation's next turn reads the same messages again. */
const TEXT_CACHE_ENTRIES = 4096;

export interface ChatInferenceDeps {
  registry: InferenceRegistry;
  artifacts: ArtifactStore;
  replies: ReplyRecords;
  /** Signs the pieces sent to the gateway's stream slot; without it replies are not streamed. */
  streamKey?: Buffer;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Texts by digest, least recently used dropped first. */
class TextCache {
  private readonly texts = new Map<string, string>();
  get(sha256: string): string | undefined {
    const text = this.texts.get(sha256);
    if (text !== undefined) {
      this.texts.delete(sha256);
      this.texts.set(sha256, text);
    }
    return text;
  }
  set(sha256: string, text: string): void {
    this.texts.set(sha256, text);
    if (this.texts.size > TEXT_CACHE_ENTRIES) this.texts.delete(this.texts.keys().next().value as string);
  }
}

export function createChatInferenceActivities(deps: ChatInferenceDeps): ChatInferenceActivities {
  const cache = new TextCache();
  const readText = async (sha256: string): Promise<string> => {
    const cached = cache.get(sha256);
    if (cached !== undefined) return cached;
    const text = (await deps.artifacts.read(sha256)).bytes.toString('utf8');
    cache.set(sha256, text);
    return text;
  };
  /** Stores a text (content-addressed, durable) and remembers it. */
  const storeText = async (text: string): Promise<string> => {
    const { sha256 } = await deps.artifacts.put(utf8(text), TEXT_MIME);
    cache.set(sha256, text);
    return sha256;
  };
  return {
    async generateReply(request: GenerateReplyRequest): Promise<GeneratedReply> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const progress = { chunks: 0 };
      // On a clock, not only per piece: a model can take seconds before its first token.
      const ticker = setInterval(() => ctx.heartbeat(progress), CHAT_HEARTBEAT_MS);
      let stream: ReplyStream | undefined;
      try {
        // The conversation so far: the new user message comes as text (stored while the model writes), the rest by digest.
        const messages: ChatMessage[] = await Promise.all(request.context.map(async (ref) => ({ role: ref.role, content: ref.text ?? (await readText(ref.sha256!)) })));
        const inline = request.context.filter((ref) => ref.text !== undefined);
        const storing = Promise.all(inline.map(async (ref) => [ref.id, await storeText(ref.text!)] as const));
        storing.catch(() => undefined); // awaited below, on every path that returns
        const stored = async (): Promise<Record<string, string>> => Object.fromEntries(await storing);

        const open = () => (request.stream && deps.streamKey
          ? openReplyStream(request.stream, deps.streamKey, attempt, (err) => log.warn('reply stream unavailable', { error: err.message }))
          : undefined);

        // An earlier attempt finished this reply (its worker died before Temporal heard): return it as it was.
        const finished = await deps.replies.get(request.conversationRunId, request.replyId);
        if (finished) {
          // The record holds the text; the artifact is written again in case that attempt died before it was.
          const sha256 = await storeText(finished.text);
          stream = open();
          stream?.delta(finished.text);
          await stream?.end();
          log.info('reply reused from an earlier attempt', { conversationId: request.conversationId, replyId: request.replyId, attempt });
          return { text: finished.text, sha256, stored: await stored(), provenance: finished.provenance, reused: true };
        }

        // Inside the try: a model no backend on this worker can chat with is a coded, non-retryable failure.
        const { backend, model } = deps.registry.resolveChat(request.model);
        stream = open();
        const started = Date.now();
        const reply = await backend.chat({
          model,
          messages,
          params: request.params,
          seed: request.seed,
          signal: ctx.cancellationSignal,
          onDelta: (piece) => {
            progress.chunks++;
            stream?.delta(piece);
          },
        });
        const latencyMs = Date.now() - started;
        const capped = reply.text.length > MAX_REPLY_CHARS;
        const text = capped ? reply.text.slice(0, MAX_REPLY_CHARS) : reply.text;
        const { version, predictionId, ttftMs, usage, chunks, finishReason } = reply.provenance;
        const provenance: ReplyProvenance = {
          backend: backend.name, model, ...(version !== undefined ? { version } : {}), params: request.params, seed: request.seed,
          ...(predictionId !== undefined ? { predictionId } : {}), latencyMs, ...(ttftMs !== undefined ? { ttftMs } : {}),
          ...(usage !== undefined ? { usage } : {}), chunks, ...(capped ? { finishReason: 'length_cap' } : finishReason !== undefined ? { finishReason } : {}),
          attempt, placeholder: reply.placeholder,
        };
        // The record (holding the text) is the commit point: from here on, a retry returns this reply. The
        // text's artifact is written beside it, at the same time; both are durable before we return.
        const [sha256, record] = await Promise.all([
          storeText(text),
          deps.replies.put({ conversationRunId: request.conversationRunId, replyId: request.replyId, text, provenance, storedAt: new Date().toISOString() }),
          stream?.end(),
        ]);
        // No heartbeat here: the ticker keeps the attempt alive until we return, and a heartbeat in flight
        // holds the completion back until the server has answered it (one more round trip per reply).
        if (record.text !== text) {
          // Another attempt got there first (two workers raced): its reply stands.
          return { text: record.text, sha256: await storeText(record.text), stored: await stored(), provenance: record.provenance, reused: true };
        }
        return { text, sha256, stored: await stored(), provenance, reused: false };
      } catch (err) {
        stream?.abort();
        // Cancelled (Clear, worker shutdown): rethrow the cancellation itself, not the backend's "canceled".
        const { aborted, reason } = ctx.cancellationSignal;
        if (aborted && reason instanceof CancelledFailure) throw reason;
        throw toActivityFailure(err);
      } finally {
        clearInterval(ticker);
      }
    },
  };
}

export function createChatLedgerActivities(deps: { ledger: Ledger }): ChatLedgerActivities {
  return {
    async commitChatEvents(request) {
      heartbeat();
      const result = await deps.ledger.commitChat(request);
      log.info('chat ledger commit', { conversationId: request.conversation.conversationId, events: request.events.length, inserted: result.eventsInserted });
      return result;
    },
  };
}
