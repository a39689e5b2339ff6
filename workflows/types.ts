/**
 * The lifecycle contract: what ops send to start a `ratingLifecycle`, what raters send
 * as votes, and what the workflow reports back. Imported by workflows, activities,
 * the gateway, the CLI and tests; nothing here may depend on Node.
 */
import type { GoldAnswer } from './campaign-types';

/** What raters do with a lifecycle's candidates: 👍/👎 each (`thumbs`), or pick the better of two (`compare`). */
export type LifecycleTask = 'thumbs' | 'compare';

/**
 * A candidate brought in instead of generated (`candidates` as an array): a file of the artifact store
 * (`sha256:<64 hex>`), a file under the import root (`file:<relative path>`, PREFLINE_IMPORT_ROOT), an
 * https URL (downloaded under the download rules), or a short inline text. `model` labels it; no inference runs.
 */
export type BroughtCandidateInput =
  | { ref: string; model: string; metadata?: Record<string, string | number | boolean>; kind?: CandidateKind }
  | { text: string; model: string; metadata?: Record<string, string | number | boolean> };

/** The raw JSON object ops paste into the Temporal UI "Start Workflow" form. */
export interface LifecycleInput {
  prompt: string;
  /** `thumbs` (default) or `compare` (two candidates; raters answer A, B, tie or both bad). */
  task?: LifecycleTask;
  /** Compare: what raters are asked, e.g. "Which image fits the description better?". */
  question?: string;
  /** Compare quorum: this many standing judgements (default 10). */
  responses?: number;
  /** Compare: whether "both bad" is offered (default true). */
  allowBothBad?: boolean;
  /** Whether raters see model names while voting (default false: hidden, as in anonymous battles). */
  revealModels?: boolean;
  /** `backend:ref`, e.g. `demo:shapes`, `demo:text`. */
  model?: string;
  /** Several `backend:ref` models for A/B comparisons; candidates come from each. */
  models?: string[];
  /**
   * Candidates per model: 1–8 in total; default 4 with `model`, 1 per model with `models`. Or the
   * candidates themselves, brought in (no inference): `model`/`models` are then optional labels.
   */
  candidates?: number | BroughtCandidateInput[];
  /** Passed to the model (e.g. `seed`). */
  params?: Record<string, unknown>;
  /** `web` (default), `slack:#channel-name` or `slack:<channel id>` (docs/slack.md), `email:<addr>,…` or `email:@<list>` (docs/email.md). */
  channel?: string;
  votesPerCandidate?: number;
  /**
   * Campaign re-asks of thumbs items: each candidate's own quota, by index (0: it takes no more votes), what
   * it still lacks; the largest is `votesPerCandidate`. Set by the campaign (campaign-input.ts childInput).
   */
  votesByCandidate?: number[];
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
  /**
   * `assigned`: the channel gets no post of the lifecycle; raters reach it only when a campaign hands it
   * to them (`next`: the Slack command, the email digest), so assignment and quotas cannot be bypassed.
   * Set on a campaign's slack/email children; absent: published to the channel as always.
   */
  delivery?: LifecycleDelivery;
  /**
   * A gold (validation) lifecycle of a campaign: the known answer, which scores each rater's first answer
   * (later ones are refused), and the explanation shown to a rater who answers wrong. Never in a rater's view.
   */
  gold?: GoldCheck;
}

/** A gold lifecycle's known answer and why (LifecycleInput `gold`). */
export interface GoldCheck {
  answer: GoldAnswer;
  explanation: string;
}

/** What a receipt of an answer to a gold lifecycle says: whether it was right, and if not, why. */
export interface GoldVerdict {
  correct: boolean;
  /** Only for a wrong answer. */
  explanation?: string;
}

/** How a lifecycle reaches raters (LifecycleInput.delivery). */
export type LifecycleDelivery = 'assigned';

/** Where a lifecycle can be started from (the ledger stores `unknown` for a lifecycle that does not say). */
export type StartSource = 'slack:/prefline' | 'web:prompt-box' | 'cli' | 'temporal-ui';

export type ChannelSpec =
  | { kind: 'web' }
  | { kind: 'slack'; channel: string }
  /** `recipients` from the input, or `list`: a named rater list from the workers' configuration. */
  | { kind: 'email'; recipients: string[]; list?: string };

export type Quorum =
  /** `each`: a campaign re-ask's own quota of each candidate, by index (votes: their largest); absent: `votes` for every one. */
  | { kind: 'perCandidate'; votes: number; each?: number[] }
  | { kind: 'total'; votes: number }
  /** Compare lifecycles: this many standing judgements. */
  | { kind: 'responses'; responses: number };

/** Where a brought candidate's bytes come from (BroughtCandidateInput, validated). */
export type BroughtSource =
  | { kind: 'artifact'; sha256: string }
  /** A path relative to the import root, `/`-separated, without `.` or `..` segments. */
  | { kind: 'file'; path: string }
  | { kind: 'url'; url: string }
  | { kind: 'text'; text: string };

/** A validated brought candidate: `ingestCandidates` turns it into a Candidate. */
export interface BroughtCandidate {
  source: BroughtSource;
  /** The model label raters' results are counted under. */
  model: string;
  metadata?: Record<string, string | number | boolean>;
  /** The kind the input claims; the bytes must agree. */
  kind?: CandidateKind;
}

export type DeadlineSpec = { kind: 'duration'; ms: number } | { kind: 'at'; iso: string };

/** A validated, normalised input. Everything downstream works from this, never the raw input. */
export interface LifecyclePlan {
  prompt: string;
  /** Absent in plans carried from before compare lifecycles: thumbs. */
  task?: LifecycleTask;
  /** Compare lifecycles: what raters are asked. */
  question?: string;
  /** Whether "both bad" is offered on judgements; absent: true. */
  allowBothBad?: boolean;
  /** Whether raters see model names while voting; absent: false. */
  revealModels?: boolean;
  /** Model references to generate from, or with `brought` the candidates' model labels in order. */
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
  /** Candidates brought in: ingested (ingestCandidates) instead of generated. */
  brought?: BroughtCandidate[];
  /** Provenance (LifecycleInput); absent in plans from before it existed too. */
  startedBy?: string;
  startedFrom?: StartSource;
  /** Gold lifecycles of a campaign: no quota, no quorum, each rater's first answer scored. */
  gold?: GoldCheck;
  /** No post on the channel: raters are handed it by its campaign (LifecycleInput.delivery). */
  delivery?: LifecycleDelivery;
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
  /** On a gold lifecycle: whether the answer was right (the explanation when not). */
  gold?: GoldVerdict;
}

/** A vote event as accepted by the workflow; the unit the ledger commits. */
export interface VoteEvent extends VoteRequest {
  /** Acceptance order within the lifecycle, from 1. */
  seq: number;
  /** Workflow time of acceptance (ISO-8601). */
  acceptedAt: string;
}

/** A rater's answer to "which is better?": the one shown left or right, a tie, both bad, or withdrawing the answer. */
export type JudgementChoice = 'left' | 'right' | 'tie' | 'both_bad' | 'retract';

/**
 * One judgement event, as the gateway forwards it: a rater's answer comparing the two candidates of a
 * lifecycle, in the order this rater saw them (core/presentation.ts `presentationOrder`). The winner is
 * derived: `left` → the left candidate, `right` → the right one, tie and both bad → none.
 */
export interface JudgementRequest {
  /** From the source; one dedupe space with votes: a key seen as a vote or judgement counts once. */
  idempotencyKey: string;
  /** Keyed-hash pseudonym, as for votes. */
  rater: string;
  raterAuth?: RaterAuth;
  /** `web`, `slack`, `email`, `cli`. */
  channel: string;
  /** When the rater answered, RFC 3339 (as for votes): orders a rater's judgements. */
  castAt: string;
  comment?: string;
  /** Candidate id shown on the left. */
  left: string;
  /** Candidate id shown on the right. */
  right: string;
  choice: JudgementChoice;
}

/** The standing judgements of a lifecycle: wins per candidate, ties, both bad, and all of them together. */
export interface JudgementCounts {
  byCandidate: Record<string, number>;
  tie: number;
  bothBad: number;
  /** Standing judgements (every rater's latest answer that is not a withdrawal): what `responses` counts. */
  standing: number;
}

export interface JudgementReceipt {
  outcome: VoteOutcomeKind;
  judgements: JudgementCounts;
  /** On a gold lifecycle: whether the answer was right (the explanation when not). */
  gold?: GoldVerdict;
}

/** A judgement as accepted by the workflow; the unit the ledger commits (table `judgements`). */
export interface JudgementEvent extends JudgementRequest {
  /** Acceptance order within the lifecycle, from 1, shared with votes: every event has its own. */
  seq: number;
  /** Workflow time of acceptance (ISO-8601). */
  acceptedAt: string;
  /** Whether the rater could not see which model made which candidate (the plan's revealModels, inverted). */
  modelsHidden: boolean;
}

export type LifecyclePhase = 'generating' | 'publishing' | 'voting' | 'committing' | 'completed';

export type CloseReason = 'quorum' | 'deadline' | 'closed';

export interface LifecycleStatus {
  lifecycleId: string;
  prompt: string;
  phase: LifecyclePhase;
  /** Absent from lifecycles started before compare lifecycles: thumbs. */
  task?: LifecycleTask;
  /** Compare lifecycles: what raters are asked. */
  question?: string;
  /** Whether a judgement may answer "both bad". */
  allowBothBad?: boolean;
  /**
   * Whether raters may see model names while voting. The status itself always holds them (ops views);
   * rater-facing views strip them unless this is true.
   */
  revealModels?: boolean;
  channel: string;
  models: string[];
  campaign?: string;
  modelVersion?: string;
  /** Who started it (a pseudonym) and from where, when the input said. */
  startedBy?: string;
  startedFrom?: StartSource;
  /** `assigned`: not posted; raters get it from its campaign only. */
  delivery?: LifecycleDelivery;
  quorum: Quorum;
  deadlineAt?: string;
  candidates: Array<Pick<Candidate, 'id' | 'label' | 'model' | 'kind' | 'text' | 'placeholder'> & {
    artifact: Pick<ArtifactRef, 'sha256' | 'mime' | 'size'>;
    tally: CandidateTally;
  }>;
  /** Events accepted: votes and judgements. */
  votesAccepted: number;
  /** Standing judgements: on compare lifecycles, and on two-candidate thumbs lifecycles once one was accepted. */
  judgements?: JudgementCounts;
  closeReason?: CloseReason;
  /** Channel messages of the post, each mapped to the candidate it shows. */
  posts?: Array<{ ref: string; candidateId?: string }>;
  /** A campaign's gold lifecycle (ops views only: raters' views leave this, and its counts, out). */
  gold?: true;
  /** A campaign's item, gold or data (ops views only: raters' views leave this, and every count, out). */
  campaignItem?: true;
}

export interface LifecycleSummary {
  lifecycleId: string;
  closeReason: CloseReason;
  tally: CandidateTally[];
  /** Events accepted: votes and judgements. */
  votesAccepted: number;
  /** Vote and judgement rows in the ledger for this lifecycle after the commit. */
  rowsCommitted: number;
  /** The standing judgements, where the lifecycle takes them (see LifecycleStatus.judgements). */
  judgements?: JudgementCounts;
  /** Fire-and-forget (signal) votes and judgements the validator refused: late, malformed, for unknown candidates. */
  lateVotesRefused: number;
  /** Signal votes refused because they came through another channel than the lifecycle's. */
  wrongChannelVotesRefused?: number;
}

export interface CloseRequest {
  reason?: string;
}

export type * from './campaign-types';
export type * from './chat-types';
