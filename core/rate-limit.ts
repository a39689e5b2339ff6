/**
 * Request rate limits (the web API's sign-ins per client address, access-code failures, votes per
 * rater): one token bucket per key. A key may act `limit` times at once and regains one chance every
 * `windowMs / limit`, so "10 per hour" allows a burst of 10 and then one every 6 minutes. Refusals say
 * how long to wait (HTTP `Retry-After`, in seconds). In memory, per process: a limit of the gateway
 * that restarts is a fresh limit, which is fine for a brake on floods and guessing. The clock is
 * injected so tests need no real waits.
 */
import { systemClock, type Clock } from './retry';

/** Keys kept at most; beyond it, buckets that have refilled (they hold no information) are dropped first. */
const DEFAULT_MAX_KEYS = 10_000;

interface Bucket {
  tokens: number;
  /** Epoch ms of the last refill. */
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** `limit` 0 means no limit. */
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Pick<Clock, 'now'> = systemClock,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`rate limit: the limit must be a non-negative integer, not ${limit}`);
    if (!(windowMs > 0)) throw new RangeError(`rate limit: the window must be positive, not ${windowMs}`);
  }

  /** Seconds `key` must wait before it may act (0: it may now). Takes nothing. */
  retryAfterSeconds(key: string): number {
    if (this.limit === 0) return 0;
    const bucket = this.refilled(key);
    return bucket.tokens >= 1 ? 0 : this.secondsUntilToken(bucket);
  }

  /** Takes one chance for `key`: 0 if it had one, else the seconds to wait (and nothing is taken). */
  take(key: string): number {
    if (this.limit === 0) return 0;
    const bucket = this.refilled(key);
    if (bucket.tokens < 1) return this.secondsUntilToken(bucket);
    bucket.tokens -= 1;
    this.buckets.delete(key); // re-inserted last: the map's order is least recently used first
    this.buckets.set(key, bucket);
    this.prune();
    return 0;
  }

  /** Keys tracked now (for tests and the bound on memory). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string): Bucket {
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.limit, at: now };
    const elapsed = Math.max(0, now - bucket.at);
    bucket.tokens = Math.min(this.limit, bucket.tokens + (elapsed * this.limit) / this.windowMs);
    bucket.at = now;
    return bucket;
  }

  private secondsUntilToken(bucket: Bucket): number {
    const ms = ((1 - bucket.tokens) * this.windowMs) / this.limit;
    return Math.max(1, Math.ceil(ms / 1000 - 1e-9)); // (tolerating float error in the refill)
  }

  private prune(): void {
    if (this.buckets.size <= this.maxKeys) return;
    const now = this.clock.now();
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) * this.limit) / this.windowMs >= this.limit) this.buckets.delete(key);
    }
    // Still too many active keys (a flood of distinct ones): forget the least recently used.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
