/**
 * The chat activities. `generateReply` (inference queue) writes one reply of a conversation:
 * - it reads the context messages from the artifact store by digest (and stores the new user message,
 *   which comes as text), so the workflow passes references, not the transcript;
 * - it streams the model's pieces to the gateway slot named in the request (best-effort, see
 *   channels/chat/stream-writer.ts) and heartbeats its progress every second;
 * - it stores the finished text (content-addressed) and a reply record under an attempt-independent
 *   key before it returns, so a retry after a worker crash that finds the record returns that reply
 *   without asking the model again: the reply is produced once. A retry of an unfinished reply starts
 *   over (the gateway tells the page to start over too);
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

export interface ChatInferenceDeps {
  registry: InferenceRegistry;
  artifacts: ArtifactStore;
  replies: ReplyRecords;
  /** Signs the pieces sent to the gateway's stream slot; without it replies are not streamed. */
  streamKey?: Buffer;
}

const utf8 = (text: string) => new TextEncoder().encode(text);

async function readText(artifacts: ArtifactStore, sha256: string): Promise<string> {
  return (await artifacts.read(sha256)).bytes.toString('utf8');
}

export function createChatInferenceActivities(deps: ChatInferenceDeps): ChatInferenceActivities {
  return {
    async generateReply(request: GenerateReplyRequest): Promise<GeneratedReply> {
      const ctx = Context.current();
      const attempt = ctx.info.attempt;
      const progress = { chunks: 0 };
      // On a clock, not only per piece: a model can take seconds before its first token.
      const ticker = setInterval(() => ctx.heartbeat(progress), CHAT_HEARTBEAT_MS);
      let stream: ReplyStream | undefined;
      try {
        // The conversation so far: the new user message comes as text (stored now), the rest by digest.
        const stored: Record<string, string> = {};
        const messages: ChatMessage[] = [];
        for (const ref of request.context) {
          if (ref.text !== undefined) {
            stored[ref.id] = (await deps.artifacts.put(utf8(ref.text), TEXT_MIME)).sha256;
            messages.push({ role: ref.role, content: ref.text });
          } else {
            messages.push({ role: ref.role, content: await readText(deps.artifacts, ref.sha256!) });
          }
        }

        const open = () => (request.stream && deps.streamKey
          ? openReplyStream(request.stream, deps.streamKey, attempt, (err) => log.warn('reply stream unavailable', { error: err.message }))
          : undefined);

        // An earlier attempt finished this reply (its worker died before Temporal heard): return it as it was.
        const finished = await deps.replies.get(request.conversationRunId, request.replyId);
        if (finished) {
          const text = await readText(deps.artifacts, finished.sha256).catch(() => undefined);
          if (text !== undefined) {
            stream = open();
            stream?.delta(text);
            await stream?.end();
            log.info('reply reused from an earlier attempt', { conversationId: request.conversationId, replyId: request.replyId, attempt });
            return { text, sha256: finished.sha256, stored, provenance: finished.provenance, reused: true };
          }
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
        const artifact = await deps.artifacts.put(utf8(text), TEXT_MIME);
        // The record is the commit point: from here on, a retry returns this reply.
        const record = await deps.replies.put({
          conversationRunId: request.conversationRunId, replyId: request.replyId, sha256: artifact.sha256, provenance, storedAt: new Date().toISOString(),
        });
        heartbeat(progress);
        await stream?.end();
        if (record.sha256 !== artifact.sha256) {
          // Another attempt got there first (two workers raced): its reply stands.
          return { text: await readText(deps.artifacts, record.sha256), sha256: record.sha256, stored, provenance: record.provenance, reused: true };
        }
        return { text, sha256: artifact.sha256, stored, provenance, reused: false };
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
