/**
 * Streamed chat completions against an OpenAI-compatible server (vLLM, TGI, Ollama, LocalAI):
 * `POST /chat/completions` with `"stream": true` answers `text/event-stream`, one
 * `data: {"choices":[{"delta":{"content":"…"}}]}` per piece and `data: [DONE]` at the end; with
 * `stream_options.include_usage` the last chunk before it carries the token counts. Every failure is a
 * coded error: 4xx not retryable, 5xx, timeouts and a stream cut short retryable.
 */
import { asCodedError, InferenceCanceledError, InferenceFailedError, InferenceUnavailableError, isCodedError } from '../../../core/errors';
import { errorDetail, fetchWaitingOut429, parseRetryAfter, type Sleep } from '../http-util';
import { EmptyOutputError, errorForStatus, InferenceTimeoutError } from '../remote-errors';
import type { ChatCompletion, ChatRequest } from '../types';

export interface ChatStreamOptions {
  baseUrl: string;
  apiKey?: string;
  /** Longest wait for the answer to start, and between two chunks of it. */
  timeoutMs: number;
  maxRateLimitRetries: number;
  maxRateLimitWaitMs: number;
  fetch: typeof fetch;
  sleep: Sleep;
}

interface StreamChunk {
  id?: string;
  model?: string;
  choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
  usage?: Record<string, unknown> | null;
  error?: unknown;
}

/** Splits an SSE byte stream into the `data` of its events (RFC: fields per line, events end at a blank line). */
export async function* sseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  const lines = function* (final: boolean): Generator<string> {
    for (;;) {
      const end = buffer.search(/\r\n|\r|\n/);
      if (end === -1 || (!final && end === buffer.length - 1 && buffer.endsWith('\r'))) break;
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + (buffer.startsWith('\r\n', end) ? 2 : 1));
      yield line;
    }
  };
  const take = (line: string): string | undefined => {
    if (line === '') {
      const event = data.length > 0 ? data.join('\n') : undefined;
      data = [];
      return event;
    }
    if (line.startsWith(':')) return undefined; // a comment (keep-alive)
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    return undefined;
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) {
      const event = take(line);
      if (event !== undefined) yield event;
    }
  }
  buffer += decoder.decode();
  for (const line of [...lines(true), buffer, '']) {
    const event = take(line);
    if (event !== undefined) yield event;
  }
}

export async function streamChatCompletion(options: ChatStreamOptions, request: ChatRequest): Promise<ChatCompletion> {
  const { model, signal } = request;
  const url = `${options.baseUrl}/chat/completions`;
  const started = Date.now();
  // One timer for "no byte for timeoutMs": reset by every chunk, so a long reply that keeps coming never times out.
  const idle = new AbortController();
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => idle.abort(new Error('idle timeout')), options.timeoutMs);
  };
  const abort = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'text/event-stream' };
  if (options.apiKey) headers['Authorization'] = `Bearer ${options.apiKey}`;
  // The reply's seed comes last: params cannot make two replies identical.
  const body = JSON.stringify({ ...request.params, model, messages: request.messages, seed: request.seed, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let chunks = 0;
  let ttftMs: number | undefined;
  let finishReason: string | undefined;
  let usage: Record<string, unknown> | undefined;
  let id: string | undefined;
  let version: string | undefined;
  let done = false;
  try {
    armIdle();
    const response = await fetchWaitingOut429(url, { method: 'POST', headers, body, signal: abort }, {
      fetch: options.fetch, sleep: options.sleep, maxRetries: options.maxRateLimitRetries, maxWaitMs: options.maxRateLimitWaitMs, signal: abort, what: url,
    });
    if (!response.ok) {
      const detail = errorDetail(await response.text());
      const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
      throw errorForStatus(response.status, detail, { what: url, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
    }
    if (!response.body) throw new InferenceUnavailableError(`${url} answered ${response.status} without a body`);
    for await (const data of sseData(response.body as unknown as AsyncIterable<Uint8Array>)) {
      armIdle();
      if (data.trim() === '[DONE]') {
        done = true;
        break;
      }
      let chunk: StreamChunk;
      try {
        chunk = JSON.parse(data) as StreamChunk;
      } catch (err) {
        throw new InferenceUnavailableError(`${url} streamed an event that is not JSON: ${data.slice(0, 200)}`, { cause: err });
      }
      if (chunk.error !== undefined) throw new InferenceFailedError(`${model} failed mid-reply: ${errorDetail(JSON.stringify(chunk))}`);
      id ??= chunk.id;
      version ??= chunk.model;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      const piece = choice?.delta?.content;
      if (typeof piece === 'string' && piece !== '') {
        ttftMs ??= Date.now() - started;
        chunks++;
        text += piece;
        request.onDelta?.(piece);
      }
    }
    // A stream that stops without [DONE] or a finish reason was cut off (the server restarted): try again.
    if (!done && finishReason === undefined) throw new InferenceUnavailableError(`${url} ended the stream before it finished (no [DONE])`);
    if (text.trim() === '') throw new EmptyOutputError(`${model} returned an empty reply`);
    return {
      text,
      placeholder: false,
      provenance: {
        version: version ?? model,
        ...(id ? { predictionId: id } : {}),
        ...(ttftMs !== undefined ? { ttftMs } : {}),
        ...(usage ? { usage } : {}),
        chunks,
        ...(finishReason ? { finishReason } : {}),
      },
    };
  } catch (err) {
    if (signal?.aborted) throw new InferenceCanceledError(`${model} reply canceled: the activity was cancelled`, { cause: err });
    if (idle.signal.aborted) throw new InferenceTimeoutError(`${url} sent nothing for ${options.timeoutMs} ms`, { cause: err });
    if (isCodedError(err)) throw err;
    throw asCodedError(new InferenceUnavailableError(`${url} failed mid-stream: ${(err as Error)?.message ?? err}`, { cause: err }));
  } finally {
    clearTimeout(idleTimer);
  }
}
