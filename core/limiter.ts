/**
 * Concurrency limits for calls to Temporal: at most `limit` tasks run at once, the rest wait in
 * arrival order. A freed slot is handed straight to the next waiter, so a task arriving at that moment
 * cannot slip in ahead of it or past the limit. `KeyedLimiter` keeps one such limit per key
 * (e.g. per lifecycle: the server allows few in-flight updates per workflow).
 */

export class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    assertLimit(limit);
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` once a slot is free (at once, synchronously, when one is). */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve)); // the releasing task hands its slot over
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

export class KeyedLimiter {
  private readonly limiters = new Map<string, Limiter>();

  constructor(readonly limit: number) {
    assertLimit(limit);
  }

  /** Keys with running or waiting tasks. */
  get keys(): number {
    return this.limiters.size;
  }

  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    let limiter = this.limiters.get(key);
    if (!limiter) this.limiters.set(key, (limiter = new Limiter(this.limit)));
    try {
      return await limiter.run(task);
    } finally {
      if (limiter.active === 0 && limiter.queued === 0 && this.limiters.get(key) === limiter) this.limiters.delete(key);
    }
  }
}

function assertLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limiter: the limit must be a positive integer, not ${limit}`);
}
