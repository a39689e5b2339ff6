/**
 * What every rater channel (web, Slack, email) implements. Plain TypeScript: no Temporal here; the
 * channel activities call these and map coded errors to Temporal failures.
 *
 * Every method must be idempotent per lifecycle id: a retried activity never posts, updates or mails
 * twice (remember what was sent; look it up before sending again).
 */
import type { Candidate, CandidateTally, CloseReason, LifecyclePlan } from '../workflows/types';

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
  votesAccepted: number;
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
}

export interface ChannelPublisher {
  publish(request: PublishRequest): Promise<PostRef>;
  /** Shows the live tally (channels with a live post, e.g. Slack). */
  update?(request: UpdatePostRequest): Promise<void>;
  /** Reminds raters who have not voted (channels that address raters, e.g. email). */
  remind?(request: RemindRequest): Promise<{ reminded: number }>;
  close(request: ClosePostRequest): Promise<void>;
}
