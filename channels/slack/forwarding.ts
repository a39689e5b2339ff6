/**
 * How the Slack inbound forwards what it accepted: calls to lifecycles (post lookups, votes, starts)
 * retried with backoff for a bounded time when they fail (Temporal briefly down), loudly, and a fresh
 * post of ours looked up again a few times (visibility is eventually consistent). A vote the lifecycle
 * refused is an answer, not a failure: it is never retried (except "busy"). One retry loop: core/retry.ts.
 */
import { messageOf, type GatewayLog } from '../../core/http';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import type { PostDirectory, PostInfo } from '../../core/post-directory';
import { delaySchedule, exponentialBackoff, retrying, type Clock } from '../../core/retry';
import type { VoteRequest } from '../../workflows/types';

/** Forwarding retries: 250 ms doubling up to 30 s, ±25 % jitter. */
const forwardBackoff = exponentialBackoff({ baseMs: 250, capMs: 30_000, jitter: 0.25 });

export interface ForwardingOptions {
  clock: Clock;
  log: GatewayLog;
  /** How long failed forwarding is retried. */
  budgetMs: number;
  /** Waits before looking a fresh message of ours up again. */
  lookupRetryMs: readonly number[];
  /** Whether a delivery that cannot be forwarded is kept (in the delivery journal) or lost. */
  keeps: () => boolean;
  /** True once the inbound closes: no new attempts. */
  stopped: () => boolean;
}

export class Forwarding {
  constructor(private readonly options: ForwardingOptions) {}

  /** Looks a message up; one of ours may not be in visibility yet, so it is looked up again a few times. */
  findPost(posts: PostDirectory, ref: string, ours: boolean): Promise<PostInfo | undefined> {
    return retrying(() => this.retried('post lookup', { ref }, () => posts.findPost(ref)), {
      delayMs: delaySchedule(ours ? this.options.lookupRetryMs : []),
      retryResult: (post) => post === undefined,
      stopped: this.options.stopped,
    }, this.options.clock);
  }

  /** Forwards a vote (`call`), retried like every forwarding. */
  vote<T>(what: string, lifecycleId: string, vote: VoteRequest, call: () => Promise<T>): Promise<T> {
    return this.retried(what, { lifecycleId, rater: vote.rater, candidateId: vote.candidateId, idempotencyKey: vote.idempotencyKey }, call);
  }

  /** Retries failures other than a refused vote with backoff, within the forwarding budget; loud when it gives up. */
  retried<T>(what: string, fields: Record<string, unknown>, call: () => Promise<T>): Promise<T> {
    const { log } = this.options;
    return retrying(call, {
      delayMs: forwardBackoff,
      budgetMs: this.options.budgetMs,
      retryable: (err) => !(err instanceof VoteRejectedError && err.code !== 'busy'),
      stopped: this.options.stopped,
      onRetry: (err, attempt) => log(attempt === 0 ? 'error' : 'warn', `Slack ${what} failed; retrying in the background`, { ...fields, attempt, error: messageOf(err) }),
      giveUp: (err, attempts) => {
        if (this.options.keeps()) log('error', `Slack ${what} failed for the whole forwarding budget; kept in the delivery journal`, { ...fields, attempts, error: messageOf(err) });
        else log('error', `Slack ${what} FAILED for good after retrying; this Slack vote is LOST`, { ...fields, attempts, error: messageOf(err) });
        return err;
      },
    }, this.options.clock);
  }
}
