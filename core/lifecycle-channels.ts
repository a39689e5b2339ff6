/**
 * The gateway's own one-channel-per-lifecycle check (issue 12): a vote that arrived through one channel
 * for a lifecycle of another (a web session voting on a Slack lifecycle by its id) is refused before it
 * is forwarded, with the same rule and words as the workflow's validator (workflows/messages.ts
 * `wrongChannelReason`), which stays the authority and refuses it again if anything gets past here.
 *
 * A lifecycle's channel never changes (it is in its plan, carried across continue-as-new; lifecycle ids
 * are never reused), so what the gateway read of it once holds for good: each gateway process looks a
 * lifecycle up at most once (described, its channel search attribute; else its status, through the one
 * Temporal client), or learns it for free from a status it read anyway (a rating page's read, a Slack post
 * lookup), and keeps the last MAX_CACHED.
 */
import type { LifecycleStatus, VoteRequest } from '../workflows/types';
import { VOTE_CHANNELS, wrongChannelReason } from '../workflows/messages';
import { ErrorCode } from './errors';
import { VoteRejectedError } from './lifecycle-directory';

export type ChannelKind = keyof typeof VOTE_CHANNELS;

/**
 * A lookup that needs no worker (describe: the lifecycle's search attributes, kept once it closes): its kind,
 * `null` when there is nothing to check (no such lifecycle, or a closed one without the attribute: forwarding
 * answers those), `undefined` when it cannot tell (a running lifecycle whose first workflow task has not set
 * its attributes yet): the status is read then.
 */
export type DescribeKind = (lifecycleId: string) => Promise<ChannelKind | null | undefined>;

const MAX_CACHED = 10_000;

/** The channel kind of a status's channel label (`web`, `slack:#ratings`, `email:@reviewers`), if it names one. */
export function channelKindOf(label: string): ChannelKind | undefined {
  const kind = label.split(':', 1)[0]!.trim();
  return Object.hasOwn(VOTE_CHANNELS, kind) ? (kind as ChannelKind) : undefined;
}

export class LifecycleChannels {
  private readonly kinds = new Map<string, ChannelKind>();
  private readonly lookups = new Map<string, Promise<ChannelKind | undefined>>();

  /** `status` reads a lifecycle (undefined if there is none); its failures reach the caller of `check`. */
  constructor(
    private readonly status: (lifecycleId: string) => Promise<LifecycleStatus | undefined>,
    private readonly maxCached = MAX_CACHED,
    private readonly describeKind?: DescribeKind,
  ) {}

  /** Remembers the channel of a status read for another reason. */
  learn(status: LifecycleStatus | undefined): void {
    if (!status || this.kinds.has(status.lifecycleId)) return;
    const kind = channelKindOf(status.channel);
    if (kind) this.remember(status.lifecycleId, kind);
  }

  /**
   * Rejects with VoteRejectedError(wrong_channel) when `vote.channel` (set by the route it came in through)
   * is not one the lifecycle takes. A lifecycle that does not exist (or whose label names no channel) is
   * not refused here: forwarding answers that, as before.
   */
  async check(lifecycleId: string, vote: Pick<VoteRequest, 'channel'>): Promise<void> {
    const kind = this.kinds.get(lifecycleId) ?? (await this.lookUp(lifecycleId));
    const reason = kind ? wrongChannelReason(kind, vote.channel) : undefined;
    if (reason) throw new VoteRejectedError(ErrorCode.WrongChannel, reason);
  }

  private lookUp(lifecycleId: string): Promise<ChannelKind | undefined> {
    // A burst of votes on a lifecycle this process has not seen yet shares one read.
    let lookup = this.lookups.get(lifecycleId);
    if (!lookup) {
      lookup = this.read(lifecycleId).finally(() => this.lookups.delete(lifecycleId));
      this.lookups.set(lifecycleId, lookup);
    }
    return lookup;
  }

  /** Describe first where there is one: a closed lifecycle answers a status query only by a replay on a worker. */
  private async read(lifecycleId: string): Promise<ChannelKind | undefined> {
    const described = this.describeKind ? await this.describeKind(lifecycleId) : undefined;
    if (described === null) return undefined;
    if (described !== undefined) {
      this.remember(lifecycleId, described);
      return described;
    }
    this.learn(await this.status(lifecycleId));
    return this.kinds.get(lifecycleId);
  }

  private remember(lifecycleId: string, kind: ChannelKind): void {
    this.kinds.set(lifecycleId, kind);
    while (this.kinds.size > this.maxCached) this.kinds.delete(this.kinds.keys().next().value as string);
  }
}
