/**
 * The Slack inbound's deduplication inbox: deliveries seen in this process, in flight or done within
 * the TTL, so Slack's retries (even one that arrives while the first delivery is still being handled)
 * are handled once. A failed delivery is forgotten, so a redelivery is tried again. Across gateway
 * processes the votes' idempotency keys make the lifecycle count them once.
 */

/** Remembered at most, whatever the TTL: a flood of distinct deliveries must not grow memory unbounded. */
export const MAX_REMEMBERED = 200_000;

export class DeliveryInbox {
  private readonly inFlight = new Set<string>();
  /** Finished deliveries in finish order, so expiry only ever looks at the head. */
  private readonly done = new Map<string, number>();

  constructor(private readonly ttlMs: number, private readonly now: () => number, private readonly maxRemembered = MAX_REMEMBERED) {}

  /** True if the delivery is new: it is now in flight. False if it is in flight or was done within the TTL. */
  claim(key: string): boolean {
    this.prune();
    if (this.inFlight.has(key) || this.done.has(key)) return false;
    this.inFlight.add(key);
    return true;
  }

  /** `ok`: remembered as done for the TTL. Not ok: forgotten, so a redelivery may claim it again. */
  finish(key: string, ok: boolean): void {
    this.inFlight.delete(key);
    if (ok) this.done.set(key, this.now());
  }

  private prune(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [key, at] of this.done) {
      if (at > cutoff && this.done.size <= this.maxRemembered) break;
      this.done.delete(key);
    }
  }
}
