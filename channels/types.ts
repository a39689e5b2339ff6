/**
 * What a rater channel (web, Slack, email; chat next) is. A channel is one folder, channels/<kind>/,
 * holding both of its halves, which run in different processes:
 *
 * - the workers' half, a `ChannelPublisher` (publisher.ts): puts a lifecycle in front of raters, keeps
 *   its post up to date, reminds, closes. The channel activities (activities/channel.ts) call it and
 *   map its coded errors to Temporal failures.
 * - the gateway's half, a `ChannelInbound`: the routes the gateway host mounts (and whatever listens
 *   beside them, e.g. an SMTP listener), the verification of what arrives, and a pure mapping from a
 *   platform event (a reaction, a click, a signed link, a reply) to a Prefline `VoteRequest`, forwarded
 *   through the lifecycle-directory port (core/).
 *
 * `channel.ts` declares the channel's `Channel`: its kind and capabilities. Plain TypeScript: no
 * Temporal and nothing of gateway/ here. Adding a channel means adding its folder, its kind to
 * `ChannelSpec` (workflows/types.ts), its publisher in workers/ and its inbound wiring in gateway/.
 *
 * Every publisher method must be idempotent per lifecycle id: a retried activity never posts, updates
 * or mails twice (remember what was sent; look it up before sending again).
 */
import type { HttpRoute } from '../core/http';
import type { Candidate, CandidateTally, ChannelSpec, CloseReason, JudgementCounts, LifecyclePlan } from '../workflows/types';

export type ChannelKind = ChannelSpec['kind'];

export interface PublishRequest {
  lifecycleId: string;
  plan: LifecyclePlan;
  candidates: Candidate[];
  deadlineAt: string;
}

export interface PostedMessage {
  /** A channel-unique, stable reference, e.g. `slack:C0123:1700000000.000100`. */
  ref: string;
  /** The candidate this message shows, if it shows one. */
  candidateId?: string;
}

export interface PostRef {
  channel: string;
  /** Where raters find it (a URL for the web page, a permalink for Slack). */
  url?: string;
  /**
   * Messages posted for the lifecycle. The workflow records them in the `PreflinePostRefs` search
   * attribute and its status, so an inbound event (e.g. a Slack reaction on a message) finds its
   * lifecycle and candidate from any gateway process.
   */
  messages?: PostedMessage[];
}

export interface UpdatePostRequest {
  lifecycleId: string;
  plan: LifecyclePlan;
  tally: CandidateTally[];
  /** Events accepted: votes and judgements. */
  votesAccepted: number;
  /** The standing judgements, on lifecycles that take them (compare, two-candidate thumbs). */
  judgements?: JudgementCounts;
}

export interface RemindRequest {
  lifecycleId: string;
  plan: LifecyclePlan;
  deadlineAt: string;
  /** Pseudonyms of raters who have a standing or retracted vote; channels skip them. */
  ratersWhoVoted: string[];
}

export interface ClosePostRequest {
  lifecycleId: string;
  plan: LifecyclePlan;
  closeReason: CloseReason;
  tally: CandidateTally[];
  /** The standing judgements, on lifecycles that take them. */
  judgements?: JudgementCounts;
}

/** What raters can do on a channel, and what a lifecycle can ask of it. */
export interface ChannelCapabilities {
  /** 👍 / 👎 / withdraw on one candidate. */
  thumbs: boolean;
  /** One choice between two candidates ("A is better" / "B is better" / "tie"). */
  compare: boolean;
  /** A free-text comment sent with a vote. */
  freeText: boolean;
  /** Raters see the running tally while voting (pulled by the page, or pushed with `update`). */
  liveTally: boolean;
  /** Raters who have not voted can be reminded (`remind`): the channel knows who its raters are. */
  remind: boolean;
}

/** A channel's declaration, exported by channels/<kind>/channel.ts. */
export interface Channel {
  readonly kind: ChannelKind;
  readonly capabilities: Readonly<ChannelCapabilities>;
}

/** The workers' half of a channel: one per worker process, called by the channel activities. */
export interface ChannelPublisher {
  publish(request: PublishRequest): Promise<PostRef>;
  /** Pushes the live tally to the post (channels whose post shows it, e.g. Slack). */
  update?(request: UpdatePostRequest): Promise<void>;
  /** Reminds raters who have not voted (channels with `capabilities.remind`, e.g. email). */
  remind?(request: RemindRequest): Promise<{ reminded: number }>;
  close(request: ClosePostRequest): Promise<void>;
}

/**
 * The gateway's half of a channel: routes for the gateway host to mount (none for a channel that only
 * listens elsewhere, e.g. Slack in Socket Mode) and a `close` that stops whatever it started, letting
 * work already acknowledged reach its lifecycle first.
 */
export interface ChannelInbound {
  readonly routes: HttpRoute[];
  close(): Promise<void>;
}
