/**
 * The Slack Web API client as Prefline uses it: a WebClient configured for activities (short retries,
 * 429s handed back to us), a caller that waits out short rate limits and turns everything else into
 * coded errors, and a per-channel pacer (Slack allows about one message per second per channel).
 */
import { LogLevel, WebClient } from '@slack/web-api';
import { SlackRateLimitedError, toSlackError } from './errors';

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

export interface SlackClientOptions {
  token: string;
  /** Default `https://slack.com/api/`; tests point it at a stand-in. */
  apiUrl?: string;
  /**
   * WebClient retries of network errors and non-429 HTTP errors. Default 2 (a few seconds): the
   * WebClient default (10 over ~30 min) would outlive the activity; Temporal retries beyond this.
   */
  retries?: number;
  /** Per-request timeout. Default 15 s. */
  timeoutMs?: number;
}

export function createSlackWebClient(options: SlackClientOptions): WebClient {
  return new WebClient(options.token, {
    slackApiUrl: options.apiUrl ?? DEFAULT_SLACK_API_URL,
    // A 429 is thrown to us (instead of WebClient sleeping inside its queue) so SlackCaller decides:
    // wait a short Retry-After in place, or fail the attempt with retryAfterSeconds for Temporal.
    rejectRateLimitedCalls: true,
    retryConfig: { retries: options.retries ?? 2, factor: 2, minTimeout: 500, maxTimeout: 4000, randomize: true },
    timeout: options.timeoutMs ?? 15_000,
    logLevel: LogLevel.ERROR,
  });
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface SlackCallerOptions {
  /** Total Retry-After seconds one call may wait in place before giving up to Temporal. Default 20. */
  maxInlineWaitSeconds?: number;
  sleep?: (ms: number) => Promise<void>;
  onRateLimited?: (method: string, retryAfterSeconds: number) => void;
}

/** Runs WebClient calls: short rate limits are waited out, everything else becomes a coded error. */
export class SlackCaller {
  private readonly maxInlineWaitSeconds: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: SlackCallerOptions = {}) {
    this.maxInlineWaitSeconds = options.maxInlineWaitSeconds ?? 20;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async call<T>(method: string, fn: () => Promise<T>): Promise<T> {
    let waited = 0;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        const coded = toSlackError(method, err);
        const retryAfter = coded instanceof SlackRateLimitedError ? (coded.retryAfterSeconds ?? 0) : undefined;
        if (retryAfter === undefined || waited + retryAfter > this.maxInlineWaitSeconds) throw coded;
        this.options.onRateLimited?.(method, retryAfter);
        await this.sleep(retryAfter * 1000);
        waited += retryAfter;
      }
    }
  }
}

/** Spaces writes to one channel at least `intervalMs` apart, across concurrent callers in this process. */
export class ChannelPacer {
  private readonly next = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = defaultSleep,
  ) {}

  async wait(channelId: string): Promise<void> {
    if (this.intervalMs <= 0) return;
    const now = this.now();
    const slot = Math.max(now, this.next.get(channelId) ?? 0);
    this.next.set(channelId, slot + this.intervalMs); // reserve before sleeping: concurrent callers queue up
    if (slot > now) await this.sleep(slot - now);
  }
}
