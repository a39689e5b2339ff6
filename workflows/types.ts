/**
 * The lifecycle contract: what ops send to start a `ratingLifecycle`, what raters send
 * as votes, and what the workflow reports back. Imported by workflows, activities,
 * the gateway, the CLI and tests; nothing here may depend on Node.
 */

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
  | { kind: 'perCandidate'; votes: number }
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

// ---------------------------------------------------------------------------------------------------
// Campaigns (issue 15): a `ratingCampaign` workflow runs one child lifecycle per item.

/**
 * One item of a campaign: what its child lifecycle rates. The campaign's own fields (task, responses,
 * question, channel, deadline, label) apply to every item; an item's `question` overrides the campaign's.
 */
export interface CampaignItem {
  prompt: string;
  model?: string;
  models?: string[];
  candidates?: number | BroughtCandidateInput[];
  params?: Record<string, unknown>;
  question?: string;
  modelVersion?: string;
}

/** The raw JSON a `ratingCampaign` starts from (the Temporal UI form, or `prefline campaign start`). */
export interface CampaignInput {
  /** The items inline (small lists, e.g. typed into the Temporal UI)… */
  items?: CampaignItem[];
  /** …or the artifact-store reference (`sha256:<64 hex>`) of the item list as JSON, read in pages by an activity. */
  itemsRef?: string;
  /** With `itemsRef`: how many items the list holds. */
  itemCount?: number;
  /** `compare` (default) or `thumbs`. */
  task?: LifecycleTask;
  /** Standing answers per item (compare: judgements; thumbs: votes per candidate). Default 10. */
  responses?: number;
  question?: string;
  channel?: string;
  /** Duration or ISO time: the campaign and every item close then. Default 7d. */
  deadline?: string;
  /** Child lifecycles open at once. Default 50. */
  maxOpen?: number;
  /** How long an item handed out by `next` stays reserved for its rater. Default 10m. */
  reservation?: string;
  /** How long each item's lifecycle collects answers (a duration); default: until the campaign's deadline. */
  itemDeadline?: string;
  /** An item at its deadline short of its answers is offered again in a new lifecycle this many times (default 0), then ends `insufficient`. */
  reask?: number;
  /** The label every item's lifecycle carries (PreflineCampaign); default the campaign's workflow id. */
  campaign?: string;
  allowBothBad?: boolean;
  revealModels?: boolean;
  /** Gold (validation) items inline (at most MAX_GOLD)… */
  gold?: CampaignGoldItem[];
  /** …or the artifact-store reference of the gold list as JSON, with `goldCount`. */
  goldRef?: string;
  goldCount?: number;
  /** Base share of a rater's hand-outs that are gold (default 0.1). */
  goldRate?: number;
  /** The share for raters with fewer than `goldWarmup` gold answers (default 0.5 for the first 3). */
  goldRateNew?: number;
  goldWarmup?: number;
  /** The share for raters whose score is under `minScore + goldLowMargin` (default 0.3, margin 0.1). */
  goldRateLow?: number;
  goldLowMargin?: number;
  /** A rater whose score falls below this after `minGold` gold answers is excluded (defaults 0.7 and 4). */
  minScore?: number;
  minGold?: number;
  /** The Beta prior of a rater's score: its mean and its weight in gold answers (default 0.75, 2). */
  prior?: { mean: number; strength: number };
  /**
   * Close an item early once one answer's rater-weighted posterior reaches this (0.5 < c < 1, e.g. 0.99;
   * workflows/confidence-stop.ts); the item ends `confident`. Absent: items run to their quota.
   */
  confidence?: number;
  /** With `confidence`: the fewest standing answers (thumbs: votes on each candidate) before an item may stop. Default 3. */
  minResponses?: number;
  /** Email campaigns: items per rater in each digest (default 5). */
  digestSize?: number;
  /** Email campaigns: a digest goes out when the campaign starts and then this often while items remain (default 1d). */
  digestEvery?: string;
  /** Email campaigns: how long the items of a digest stay reserved for its rater (default 24h; `reservation` is for `next`). */
  emailReservation?: string;
  /** Who hears when the campaign ends or reaches its quota (workflows/campaign-notify-input.ts, docs/campaigns.md). */
  notify?: CampaignNotifyInput;
}

/**
 * What a campaign notifies: `completed`, it ended (every item ended, cancelled, or its deadline came:
 * the notice says which); `quota`, every item ended with its answers in full (its `responses` standing
 * answers, or closed `confident`). A campaign that reaches its quota ends at that moment, so a campaign
 * whose every item was answered sends `quota` and then `completed`; one cancelled or cut by its deadline
 * never reaches its quota.
 */
export type CampaignNotifyEvent = 'completed' | 'quota';

export interface CampaignNotifyInput {
  /** A Slack channel, `#name` or a channel id. */
  slack?: string;
  /** Addresses, comma-separated, or `@list`, a rater list of the workers' configuration. */
  email?: string;
  /** The name of a webhook receiver in the workers' PREFLINE_WEBHOOKS (never its URL: inputs are in history). Signed, retried. */
  webhook?: string;
  /** Default both. */
  on?: CampaignNotifyEvent[];
}

/** A validated `notify`. */
export interface CampaignNotifyPlan {
  slack?: string;
  email?: { recipients: string[]; list?: string };
  /** A receiver name of PREFLINE_WEBHOOKS. */
  webhook?: string;
  on: CampaignNotifyEvent[];
}

/** How a campaign ended: every item ended, it was cancelled, or its deadline came before every item ended. */
export type CampaignEndOutcome = 'finished' | 'cancelled' | 'deadline';

/** One notification of a campaign, as every target is sent it (Slack, email, the webhook's JSON body). */
export interface CampaignNotice {
  /** Stable for the campaign and event (`<campaign id>/<first run id>/<event>`): receivers dedupe on it. */
  eventId: string;
  event: CampaignNotifyEvent;
  campaignId: string;
  label: string;
  task: LifecycleTask;
  responses: number;
  /** For `completed`: how the campaign ended. */
  outcome?: CampaignEndOutcome;
  cancelReason?: string;
  startedAt: string;
  deadlineAt: string;
  /** When the event happened (workflow time). */
  at: string;
  counts: CampaignCounts;
  /** Raters excluded by their gold answers, when the campaign keeps rater scores. */
  ratersExcluded?: number;
  /** The command that shows the campaign's per-model results. */
  resultsCommand: string;
}

/** A campaign's rater-quality settings, defaults filled in (workflows/rater-quality.ts). */
export interface RaterQualitySettings {
  goldRate: number;
  goldRateNew: number;
  goldWarmup: number;
  goldRateLow: number;
  goldLowMargin: number;
  minScore: number;
  minGold: number;
  prior: { mean: number; strength: number };
}

/** A validated campaign input. */
export interface CampaignPlan {
  items?: CampaignItem[];
  itemsRef?: string;
  itemCount: number;
  task: LifecycleTask;
  responses: number;
  question?: string;
  channel: string;
  deadline: DeadlineSpec;
  maxOpen: number;
  reservationMs: number;
  itemDeadlineMs?: number;
  reask: number;
  label: string;
  allowBothBad?: boolean;
  revealModels?: boolean;
  notify?: CampaignNotifyPlan;
  gold?: CampaignGoldItem[];
  goldRef?: string;
  /** Gold items (absent in plans from before gold: none). */
  goldCount?: number;
  /** Absent in plans from before gold: the defaults. */
  quality?: RaterQualitySettings;
  /** Early stopping: both present, or neither. */
  confidence?: number;
  minResponses?: number;
  /** Email campaigns only (CampaignInput.digestSize, digestEvery, emailReservation). */
  digest?: CampaignDigestPlan;
}

export interface CampaignDigestPlan {
  size: number;
  everyMs: number;
  reservationMs: number;
}

export type CampaignPhase = 'running' | 'paused' | 'cancelling' | 'finishing' | 'completed' | 'cancelled';

/** What a child lifecycle tells its campaign: voting opened, an answer changed its standing, it closed or failed. */
export type CampaignItemReport =
  | { lifecycleId: string; kind: 'opened' }
  /** `progress`: standing answers (compare) or the fewest standing votes of a candidate (thumbs); `seq` orders reports. */
  | { lifecycleId: string; kind: 'answer'; rater: string; progress: number; seq: number; choice?: CampaignChoice }
  | { lifecycleId: string; kind: 'closed'; closeReason: CloseReason; progress: number; votesAccepted: number }
  /** A gold lifecycle's report of a rater's first answer (the only one it takes from them). */
  | { lifecycleId: string; kind: 'gold'; rater: string; correct: boolean }
  | { lifecycleId: string; kind: 'failed'; message: string };

/**
 * The answer an answer report says now stands for its rater, by candidate (not by side shown): compare
 * `first` (the item's first candidate) | `second` | `tie` | `both_bad`; thumbs `up` | `down` on the item's
 * candidate `candidate` (from 0) of `candidates`; `withdrawn` when the rater took it back. Absent in
 * reports saved before choices were reported.
 */
export type CampaignChoice =
  | { task: 'compare'; answer: Extract<GoldAnswer, 'first' | 'second' | 'tie' | 'both_bad'> | 'withdrawn' }
  | { task: 'thumbs'; candidate: number; candidates: number; answer: Extract<GoldAnswer, 'up' | 'down'> | 'withdrawn' };

/** Why an item is no longer open: its lifecycle's close reason, or how it failed. */
/** `confident`: closed early, one answer clear at the campaign's confidence (workflows/confidence-stop.ts). */
export type CampaignItemEnd = CloseReason | 'confident' | 'insufficient' | 'failed' | 'invalid' | 'unreported';

/**
 * What a gold item's right answer is, by candidate (not by side shown): compare `first` (the item's first
 * candidate, image1/text1) | `second` | `tie` | `both_bad`; thumbs `up` | `down` (its one candidate).
 */
export type GoldAnswer = 'first' | 'second' | 'tie' | 'both_bad' | 'up' | 'down';

/** A validation item of a campaign: an item with a known answer, shown to raters like any other. */
export interface CampaignGoldItem extends CampaignItem {
  answer: GoldAnswer;
  /** Shown to a rater who answered it wrong. */
  explanation: string;
}

/** A gold item's lifecycle, committed with its campaign (ledger `campaign_gold`): its answers are never data. */
export interface CampaignGoldRecord {
  /** Index in the campaign's gold list, from 0. */
  gold: number;
  lifecycleId: string;
  answer: GoldAnswer;
  explanation: string;
}

/** A rater of a campaign as it stands (ledger `campaign_raters`, one row per rater, updated by each commit). */
export interface CampaignRaterRecord {
  /** Keyed-hash pseudonym. */
  rater: string;
  /** Answers to data items (not gold). */
  answers: number;
  goldAnswered: number;
  goldCorrect: number;
  /** Gold accuracy with the campaign's prior (workflows/rater-quality.ts), in (0, 1). */
  score: number;
  status: 'active' | 'excluded';
  /** Why the rater was excluded, in words (e.g. "gold accuracy 0.42 below 0.70 after 8 gold answers"). */
  reason?: string;
  excludedAt?: string;
}

/** One item's outcome, as the ledger keeps it (table campaign_items). */
export interface CampaignItemOutcome {
  item: number;
  lifecycleId: string;
  end: CampaignItemEnd;
  /** Standing answers when it closed (see CampaignItemReport `progress`), every attempt's, of raters in good standing only. */
  answers: number;
  /** Standing answers of raters excluded for their gold score: kept in the ledger, counted nowhere. Absent: none. */
  excludedAnswers?: number;
  /** Raters who answered (standing or withdrawn), excluded ones included. */
  raters: number;
  /** Lifecycles it took: 1, or more when it was offered again (reask, or for excluded raters' answers). */
  attempts: number;
  closedAt: string;
  message?: string;
}

/** The campaign handed its item's lifecycle to `rater` (the `handed` signal). */
export interface ItemHandedRequest {
  rater: string;
}

export interface NextItemRequest {
  /** The rater's pseudonym, as on votes. */
  rater: string;
  /**
   * The item lifecycle the rater just answered or skipped: never handed to them again, even before its
   * report of the answer reaches the campaign (reports are signals, a moment behind).
   */
  done?: string;
  /**
   * The channel the request came through (`web`, `slack`), set by the route: a campaign hands items only to
   * raters of its own channel, so no one elsewhere can hold its items reserved. Absent: not checked (tests, ops).
   */
  channel?: string;
  /**
   * The campaign label the rater's session is limited to (a campaign invite), set by the route: another
   * campaign refuses with unknown_campaign before it reserves anything. Absent: any campaign.
   */
  scope?: string;
}

export type NextItemAnswer =
  | { assigned: true; lifecycleId: string; item: number; reservedUntil: string; again: boolean }
  /**
   * `paused`; `waiting`: every open item is full, answered or reserved by this rater's peers; `finished`;
   * `excluded`: the rater's gold score fell below the campaign's threshold (`message` says how).
   */
  | { assigned: false; reason: 'paused' | 'waiting' | 'finished' | 'excluded'; message?: string };

export interface CampaignCounts {
  items: number;
  done: number;
  failed: number;
  open: number;
  pending: number;
  /** Standing answers: of closed items when they closed, plus open items' now. */
  answers: number;
  reserved: number;
  /** Items by why they ended. */
  ended: Partial<Record<CampaignItemEnd, number>>;
}

export interface CampaignStatus {
  campaignId: string;
  label: string;
  phase: CampaignPhase;
  task: LifecycleTask;
  responses: number;
  channel: string;
  maxOpen: number;
  startedAt: string;
  deadlineAt: string;
  counts: CampaignCounts;
  /** Estimated finish from the pace so far; absent before the first item closes. */
  eta?: string;
  cancelReason?: string;
  /** Raters who asked for an item or answered one, and how many of them are excluded. */
  raters?: { total: number; excluded: number };
  /** Gold items, and raters' (scored, first) answers to them: never counted in `counts`. */
  gold?: { items: number; answers: number; correct: number };
}

export interface CampaignSummary {
  campaignId: string;
  phase: 'completed' | 'cancelled';
  counts: CampaignCounts;
}

export interface CampaignCancelRequest {
  reason?: string;
}
export type * from './chat-types';
