/**
 * Whether Temporal answers, for the health endpoints of workers and the gateway: one cheap call
 * (GetSystemInfo) over the process's own connection. The native connection retries an unreachable
 * server for about ten seconds whatever the deadline, so the wait is bounded here by a timer; at most
 * one call is in flight, and its answer is kept briefly, so a storm of probes costs one call.
 */
import type { WorkflowService } from '@temporalio/client';

export type TemporalHealth = { temporal: 'ok' } | { temporal: 'unreachable'; error: string };

export interface TemporalProbeOptions {
  /** How long a probe waits for the answer before reporting Temporal unreachable. */
  timeoutMs?: number;
  /** How long an answer is reused. */
  cacheMs?: number;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
}

export const PROBE_TIMEOUT_MS = 2000;
export const PROBE_CACHE_MS = 2000;

export class TemporalProbe {
  private last?: { health: TemporalHealth; at: number };
  private inFlight?: Promise<TemporalHealth>;
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(private readonly call: () => Promise<unknown>, options: TemporalProbeOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
    this.cacheMs = options.cacheMs ?? PROBE_CACHE_MS;
    this.now = options.now ?? Date.now;
  }

  /** A probe over a connection (native or not): both expose the raw workflow service. */
  static of(connection: { workflowService: WorkflowService }, options?: TemporalProbeOptions): TemporalProbe {
    return new TemporalProbe(() => connection.workflowService.getSystemInfo({}), options);
  }

  async check(): Promise<TemporalHealth> {
    if (this.last && this.now() - this.last.at < this.cacheMs) return this.last.health;
    this.inFlight ??= this.call().then(
      (): TemporalHealth => ({ temporal: 'ok' }),
      (err: unknown): TemporalHealth => ({ temporal: 'unreachable', error: err instanceof Error ? err.message : String(err) }),
    ).then((health) => {
      this.inFlight = undefined;
      this.remember(health);
      return health;
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<TemporalHealth>((resolve) => {
      timer = setTimeout(() => resolve({ temporal: 'unreachable', error: `no answer within ${this.timeoutMs} ms` }), this.timeoutMs);
    });
    try {
      const health = await Promise.race([this.inFlight, timedOut]);
      if (health.temporal === 'unreachable') this.remember(health);
      return health;
    } finally {
      clearTimeout(timer);
    }
  }

  private remember(health: TemporalHealth): void {
    this.last = { health, at: this.now() };
  }
}
