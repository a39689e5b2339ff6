/**
 * The lifecycle contract: what ops send to start a `ratingLifecycle`, what raters send
 * as votes, and what the workflow reports back. Imported by workflows, activities,
 * the gateway, the CLI and tests; nothing here may depend on Node.
 */

/** The raw JSON object ops paste into the Temporal UI "Start Workflow" form. */
export interface LifecycleInput {
  prompt: string;
  /** `backend:ref`, e.g. `demo:shapes`, `demo:text`. */
  model?: string;
  /** Several `backend:ref` models for A/B comparisons; candidates come from each. */
  models?: string[];
  /** Candidates per model: 1–8 in total; default 4 with `model`, 1 per model with `models`. */
  candidates?: number;
  /** Passed to the model (e.g. `seed`). */
  params?: Record<string, unknown>;
  /** `web` (default), `slack:#channel-name` or `slack:<channel id>` (docs/slack.md), `email:<addr>,…` or `email:@<list>` (docs/email.md). */
  channel?: string;
  votesPerCandidate?: number;
  totalVotes?: number;
  /** Duration (`90s`, `30m`, `24h`, `2d`) or an ISO-8601 time; default `24h`. */
  deadline?: string;
  /** Email lifecycles: remind raters who have not voted this long before the deadline (e.g. `2h`). */
  remindBefore?: string;
  campaign?: string;
  modelVersion?: string;
  /**
   * Who started the lifecycle, as a rater pseudonym (`r_…`, the same one their votes carry); set by the
   * Slack command and the rating page's prompt box. Requires `startedFrom`.
   */
  startedBy?: string;
  /** Where the lifecycle was started from; absent (stored as `unknown`) when the starter did not say. */
  startedFrom?: StartSource;
}

/** Where a lifecycle can be started from (the ledger stores `unknown` for a lifecycle that does not say). */
export type StartSource = 'slack:/prefline' | 'web:prompt-box' | 'cli' | 'temporal-ui';

export type ChannelSpec =
  | { kind: 'web' }
  | { kind: 'slack'; channel: string }
  /** `recipients` from the input, or `list`: a named rater list from the workers' configuration. */
  | { kind: 'email'; recipients: string[]; list?: string };

export type Quorum = { kind: 'perCandidate'; votes: number } | { kind: 'total'; votes: number };

export type DeadlineSpec = { kind: 'duration'; ms: number } | { kind: 'at'; iso: string };

/** A validated, normalised input. Everything downstream works from this, never the raw input. */
export interface LifecyclePlan {
  prompt: string;
  models: string[];
  candidatesPerModel: number;
  params: Record<string, unknown>;
  channel: ChannelSpec;
  /** The channel as the user wrote it, for labels and search attributes. */
  channelLabel: string;
  quorum: Quorum;
  deadline: DeadlineSpec;
  /** Milliseconds before the deadline at which non-voters are reminded. */
  remindBeforeMs?: number;
  campaign?: string;
  modelVersion?: string;
  /** Provenance (LifecycleInput); absent in plans from before it existed too. */
  startedBy?: string;
  startedFrom?: StartSource;
}

export type CandidateKind = 'image' | 'text';

export interface ArtifactRef {
  sha256: string;
  mime: string;
  size: number;
  /** Path relative to the artifact store root, e.g. `sha256/ab/ab12….png`. */
  path: string;
}

/** Where a candidate came from: enough to reproduce or audit it. */
export interface CandidateProvenance {
  backend: string;
  model: string;
  version?: string;
  params: Record<string, unknown>;
  seed: number;
  predictionId?: string;
  predictTimeMs?: number;
  wallTimeMs: number;
  /** Backend-specific details (usage, timestamps, …). */
  extra?: Record<string, unknown>;
}

export interface Candidate {
  /** Stable within a lifecycle: `c1`, `c2`, … */
  id: string;
  /** What raters see: `A`, `B`, … */
  label: string;
  model: string;
  kind: CandidateKind;
  artifact: ArtifactRef;
  /** For text candidates, the text itself (also stored as the artifact). */
  text?: string;
  /** True for demo outputs: shown as "placeholder for a model" wherever users see them. */
  placeholder: boolean;
  provenance: CandidateProvenance;
}

export type VoteValue = 'up' | 'down' | 'retract';

/**
 * How the rater of a vote was authenticated: on the web page by a signed invite link, by OIDC sign-in,
 * or by a typed name on the open panel (unverified); otherwise by the channel itself (Slack's signed
 * events, email's signed links and replies, the operator's CLI).
 */
export type RaterAuth = 'invite' | 'oidc' | 'open' | 'slack' | 'email' | 'cli';

/** One vote event, as the gateway forwards it. `rater` is already a keyed-hash pseudonym. */
export interface VoteRequest {
  /** From the source (browser, Slack event id, email token): a repeated delivery counts once. */
  idempotencyKey: string;
  candidateId: string;
  value: VoteValue;
  rater: string;
  comment?: string;
  /** `web`, `slack`, `email`, `cli`. */
  channel: string;
  /** When the rater acted, per the source (ISO-8601). Orders a rater's votes on a candidate. */
  castAt: string;
  /** How the rater was authenticated. Absent in votes from before it existed: the ledger then derives it from `channel`. */
  raterAuth?: RaterAuth;
}

export type VoteOutcomeKind = 'recorded' | 'changed' | 'retracted' | 'unchanged' | 'duplicate';

export interface CandidateTally {
  candidateId: string;
  label: string;
  up: number;
  down: number;
  /** up − down */
  score: number;
  votes: number;
}

export interface VoteReceipt {
  outcome: VoteOutcomeKind;
  candidate: CandidateTally;
}

/** A vote event as accepted by the workflow; the unit the ledger commits. */
export interface VoteEvent extends VoteRequest {
  /** Acceptance order within the lifecycle, from 1. */
  seq: number;
  /** Workflow time of acceptance (ISO-8601). */
  acceptedAt: string;
}

export type LifecyclePhase = 'generating' | 'publishing' | 'voting' | 'committing' | 'completed';

export type CloseReason = 'quorum' | 'deadline' | 'closed';

export interface LifecycleStatus {
  lifecycleId: string;
  prompt: string;
  phase: LifecyclePhase;
  channel: string;
  models: string[];
  campaign?: string;
  modelVersion?: string;
  /** Who started it (a pseudonym) and from where, when the input said. */
  startedBy?: string;
  startedFrom?: StartSource;
  quorum: Quorum;
  deadlineAt?: string;
  candidates: Array<Pick<Candidate, 'id' | 'label' | 'model' | 'kind' | 'text' | 'placeholder'> & {
    artifact: Pick<ArtifactRef, 'sha256' | 'mime' | 'size'>;
    tally: CandidateTally;
  }>;
  votesAccepted: number;
  closeReason?: CloseReason;
  /** Channel messages of the post, each mapped to the candidate it shows. */
  posts?: Array<{ ref: string; candidateId?: string }>;
}

export interface LifecycleSummary {
  lifecycleId: string;
  closeReason: CloseReason;
  tally: CandidateTally[];
  votesAccepted: number;
  /** Vote rows in the ledger for this lifecycle after the commit. */
  rowsCommitted: number;
  /** Fire-and-forget (signal) votes the validator refused: late, malformed, for unknown candidates. */
  lateVotesRefused: number;
  /** Signal votes refused because they came through another channel than the lifecycle's. */
  wrongChannelVotesRefused?: number;
}

export interface CloseRequest {
  reason?: string;
}

export type * from './chat-types';
