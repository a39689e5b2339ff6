/**
 * HTTP helpers shared by the remote inference backends: abortable sleep, Retry-After parsing,
 * exponential backoff, a 429 loop that really waits, error-body parsing and image sniffing.
 */
import { RateLimitedError } from './remote-errors';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined if absent or garbage. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

/** Exponential backoff with jitter (half fixed, half random) so concurrent workers don't retry in lockstep. */
export function backoffMs(attempt: number, baseMs = 1000, capMs = 30_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** The human-readable part of an error body: OpenAI `{error:{message}}`, TGI/Ollama `{error}`, vLLM `{message}`, Replicate `{detail}`. */
export function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const error = body['error'];
    if (error && typeof error === 'object' && typeof (error as Record<string, unknown>)['message'] === 'string') {
      return (error as Record<string, string>)['message'] as string;
    }
    for (const candidate of [error, body['detail'], body['message'], body['title']]) {
      if (typeof candidate === 'string' && candidate) return candidate;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim().slice(0, 500) || '(empty body)';
}

export interface RateLimitOptions {
  fetch: typeof fetch;
  sleep: Sleep;
  /** How many 429s to wait out before giving up. */
  maxRetries: number;
  /** A longer requested wait is not slept through here: we give up and hand the delay to the caller's retry policy. */
  maxWaitMs: number;
  /** Aborts the waiting (not the request itself, which carries its own `init.signal`). */
  signal?: AbortSignal;
  what: string;
}

/**
 * Fetches, waiting out 429s for real (`Retry-After`, else backoff with jitter). Returns the first
 * non-429 response; throws RateLimitedError when the retries are used up or the wait is too long.
 */
export async function fetchWaitingOut429(input: string | URL | Request, init: RequestInit | undefined, options: RateLimitOptions): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    const response = await options.fetch(input, init);
    if (response.status !== 429) return response;
    const body = await response.text().catch(() => '');
    const detail = errorDetail(body);
    // Replicate's throttling body says "resets in ~30s" even when a proxy strips the header.
    const hinted = parseRetryAfter(response.headers.get('retry-after')) ?? parseRetryAfter(/resets in ~?(\d+)\s*s/i.exec(detail)?.[1]);
    const waitMs = hinted !== undefined ? hinted * 1000 : backoffMs(attempt);
    if (attempt >= options.maxRetries || waitMs > options.maxWaitMs) {
      throw new RateLimitedError(`${options.what} is rate limiting (429 after ${attempt + 1} attempt(s)): ${detail}`, waitMs / 1000);
    }
    await options.sleep(waitMs, options.signal);
  }
}

/** The mime essence, lower-cased: `Image/PNG; q=1` → `image/png`. */
export function mimeEssence(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** Recognises PNG, JPEG, WEBP and GIF by their magic bytes. */
export function sniffImageMime(bytes: Uint8Array): string | undefined {
  const starts = (sig: number[], at = 0): boolean => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  return undefined;
}

export const TEXT_MIME = 'text/plain; charset=utf-8';
