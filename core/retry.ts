/**
 * The one retry loop for everything that retries calls to Temporal from outside a workflow: the
 * Temporal directory's busy (RESOURCE_EXHAUSTED) retries, the Slack inbound's background forwarding and
 * post lookups, email vote links waiting for voting to open. One implementation, so budgets, stop
 * conditions and give-up handling behave alike everywhere; the clock is injected so tests need no real
 * waits. (Inside workflows, Temporal's own activity retry policies do this job.)
 */

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

export interface RetryPolicy<T> {
  /** The wait before retry number `retry` (0 before the second attempt); undefined: no more retries. */
  delayMs(retry: number): number | undefined;
  /** No retry starts once this long has passed since the first attempt began. Default: no limit. */
  budgetMs?: number;
  /** Errors worth another attempt; any other is thrown at once. Default: every error. */
  retryable?(err: unknown): boolean;
  /** A result that is not final yet (e.g. not visible yet): retried like an error, returned as it is when retries end. */
  retryResult?(value: T): boolean;
  /** Checked before each retry; true stops retrying (shutdown). */
  stopped?(): boolean;
  /** Called with the error before each wait. */
  onRetry?(err: unknown, retry: number, delayMs: number): void;
  /** What to throw when retries end on an error (default: that error). */
  giveUp?(err: unknown, attempts: number): unknown;
}

/** Calls `call` until it succeeds, fails for good, or the policy ends the retries. */
export async function retrying<T>(call: (attempt: number) => Promise<T>, policy: RetryPolicy<T>, clock: Clock = systemClock): Promise<T> {
  const deadline = policy.budgetMs === undefined ? Infinity : clock.now() + policy.budgetMs;
  for (let attempt = 0; ; attempt++) {
    let outcome: { ok: true; value: T } | { ok: false; err: unknown };
    try {
      outcome = { ok: true, value: await call(attempt) };
    } catch (err) {
      outcome = { ok: false, err };
    }
    if (outcome.ok && !policy.retryResult?.(outcome.value)) return outcome.value;
    if (!outcome.ok && policy.retryable && !policy.retryable(outcome.err)) throw outcome.err;
    const wait = policy.stopped?.() || clock.now() >= deadline ? undefined : policy.delayMs(attempt);
    if (wait === undefined) {
      if (outcome.ok) return outcome.value;
      throw policy.giveUp ? policy.giveUp(outcome.err, attempt + 1) : outcome.err;
    }
    if (!outcome.ok) policy.onRetry?.(outcome.err, attempt, wait);
    await clock.sleep(wait);
  }
}

/**
 * Exponential backoff: `baseMs · 2^retry`, at most `capMs`, times a random factor in
 * [1 − jitter, 1 + jitter) so concurrent callers do not retry in lockstep.
 */
export function exponentialBackoff(options: { baseMs: number; capMs: number; jitter?: number; random?: () => number }): (retry: number) => number {
  const { baseMs, capMs, jitter = 0, random = Math.random } = options;
  return (retry) => {
    const ceiling = Math.min(capMs, baseMs * 2 ** retry);
    return jitter === 0 ? ceiling : ceiling * (1 - jitter + random() * 2 * jitter);
  };
}

/** The given waits, one per retry, then no more retries. */
export function delaySchedule(waitsMs: readonly number[]): (retry: number) => number | undefined {
  return (retry) => waitsMs[retry];
}
