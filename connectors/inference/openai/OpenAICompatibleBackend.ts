/**
 * OpenAI-compatible backend for self-hosted servers (vLLM, TGI, Ollama, LocalAI): chat completions
 * for text, `images/generations` for the models listed in `imageModels`. One request per candidate,
 * so each candidate carries its own seed. Uses Node's fetch; no SDK.
 */
import { asCodedError, InferenceCanceledError, InferenceFailedError, InferenceUnavailableError, isCodedError } from '../../../core/errors';
import { abortableSleep, errorDetail, fetchWaitingOut429, parseRetryAfter, sniffImageMime, TEXT_MIME, type Sleep } from '../http-util';
import { EmptyOutputError, errorForStatus, InferenceTimeoutError } from '../remote-errors';
import type { ChatCompletion as ChatReply, ChatRequest, GeneratedOutput, GenerateRequest, InferenceBackend } from '../types';
import { streamChatCompletion } from './chat-stream';

export interface OpenAICompatibleBackendOptions {
  /** e.g. `http://gpu-host:8000/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Per HTTP request (body included); default 120 s. */
  timeoutMs?: number;
  /** Models that produce images; all others are chat models. */
  imageModels?: string[];
  /** 429s waited out per candidate; default 3. */
  maxRateLimitRetries?: number;
  /** Longest single Retry-After we sleep through; longer ones fail retryably at once; default 30 s. */
  maxRateLimitWaitMs?: number;
  fetch?: typeof fetch;
  sleep?: Sleep;
}

interface ChatCompletion {
  id?: string;
  model?: string;
  choices?: Array<{ message?: { content?: string | Array<{ type?: string; text?: string }> | null } }>;
  usage?: Record<string, unknown>;
}

interface ImagesResponse {
  created?: number;
  data?: Array<{ b64_json?: string; revised_prompt?: string }>;
  usage?: Record<string, unknown>;
}

export function createOpenAICompatibleBackend(options: OpenAICompatibleBackendOptions): InferenceBackend {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const imageModels = new Set(options.imageModels ?? []);

  /** POSTs JSON; maps every failure to a coded error (4xx non-retryable, 5xx/timeouts retryable). */
  async function post<T>(path: string, body: Record<string, unknown>, signal: AbortSignal | undefined): Promise<T> {
    // A fresh timeout per HTTP attempt (covering its body too), so waiting out a 429 doesn't eat into it.
    let timeout: AbortSignal | undefined;
    const timedFetch: typeof fetch = (input, init) => {
      timeout = AbortSignal.timeout(timeoutMs);
      return fetchFn(input, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    };
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (options.apiKey) headers['Authorization'] = `Bearer ${options.apiKey}`;
    try {
      const response = await fetchWaitingOut429(
        `${baseUrl}${path}`,
        { method: 'POST', headers, body: JSON.stringify(body) },
        {
          fetch: timedFetch,
          sleep: options.sleep ?? abortableSleep,
          maxRetries: options.maxRateLimitRetries ?? 3,
          maxWaitMs: options.maxRateLimitWaitMs ?? 30_000,
          ...(signal ? { signal } : {}),
          what: `${baseUrl}${path}`,
        },
      );
      const text = await response.text();
      if (!response.ok) {
        const retryAfterSeconds = parseRetryAfter(response.headers.get('retry-after'));
        throw errorForStatus(response.status, errorDetail(text), { what: `${baseUrl}${path}`, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
      }
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new InferenceUnavailableError(`${baseUrl}${path} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`, { cause: err });
      }
    } catch (err) {
      if (signal?.aborted) throw new InferenceCanceledError(`${baseUrl}${path} request canceled: the activity was cancelled`, { cause: err });
      if (timeout?.aborted) throw new InferenceTimeoutError(`${baseUrl}${path} did not answer within ${timeoutMs} ms`, { cause: err });
      if (isCodedError(err)) throw err;
      throw new InferenceUnavailableError(`${baseUrl}${path} is unreachable: ${(err as Error)?.message ?? err}`, { cause: err });
    }
  }

  return {
    name: 'openai',
    /** A chat reply, streamed (chat-stream.ts). */
    async chat(request: ChatRequest): Promise<ChatReply> {
      if (imageModels.has(request.model)) throw new InferenceFailedError(`${request.model} is an image model (PREFLINE_OPENAI_IMAGE_MODELS) and cannot chat`);
      return streamChatCompletion({
        baseUrl, timeoutMs, fetch: fetchFn, sleep: options.sleep ?? abortableSleep,
        maxRateLimitRetries: options.maxRateLimitRetries ?? 3, maxRateLimitWaitMs: options.maxRateLimitWaitMs ?? 30_000,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      }, request);
    },
    async generate(request: GenerateRequest): Promise<GeneratedOutput> {
      const { model, prompt, seed, signal } = request;
      const started = Date.now();
      try {
        if (imageModels.has(model)) {
          // n:1 and b64_json are ours: one candidate per request, and no second fetch of an expiring URL.
          const res = await post<ImagesResponse>('/images/generations', { ...request.params, model, prompt, n: 1, response_format: 'b64_json' }, signal);
          const b64 = res.data?.[0]?.b64_json;
          if (!b64) throw new EmptyOutputError(`${model} returned no image (data[0].b64_json missing)`);
          const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
          const mime = sniffImageMime(bytes);
          if (!mime) throw new InferenceFailedError(`${model} returned ${bytes.byteLength} bytes that are not a PNG, JPEG, WEBP or GIF image`);
          return {
            kind: 'image',
            bytes,
            mime,
            placeholder: false,
            provenance: { version: model, predictTimeMs: Date.now() - started, ...(res.usage ? { usage: res.usage } : {}) },
          };
        }

        // The candidate's seed comes last: params cannot make two candidates identical.
        const res = await post<ChatCompletion>('/chat/completions', { ...request.params, model, messages: [{ role: 'user', content: prompt }], seed }, signal);
        const content = res.choices?.[0]?.message?.content;
        const text = Array.isArray(content) ? content.map((part) => part.text ?? '').join('') : content ?? '';
        if (text.trim() === '') throw new EmptyOutputError(`${model} returned ${res.choices?.length ? 'an empty message' : 'no choices'}`);
        return {
          kind: 'text',
          bytes: new TextEncoder().encode(text),
          mime: TEXT_MIME,
          text,
          placeholder: false,
          provenance: {
            version: res.model ?? model,
            ...(res.id ? { predictionId: res.id } : {}),
            predictTimeMs: Date.now() - started,
            ...(res.usage ? { usage: res.usage } : {}),
          },
        };
      } catch (err) {
        if (signal?.aborted && !(err instanceof InferenceCanceledError)) throw new InferenceCanceledError(`${model} canceled: the activity was cancelled`, { cause: err });
        throw asCodedError(err);
      }
    },
  };
}
