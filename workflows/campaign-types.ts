/**
 * The campaign contract (issue 15): what ops send to start a `ratingCampaign`, which runs one child
 * lifecycle per item, what its children report, what `next` answers raters, what the campaign notifies,
 * reports back and commits. Re-exported by workflows/types.ts, so every layer imports it through the
 * workflows' contract; separate because it is a contract of its own. Nothing here may depend on Node.
 */
import type { BroughtCandidateInput, CloseReason, DeadlineSpec, LifecycleTask } from './types';

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
  /**
   * `progress`: standing answers (compare) or the fewest standing votes of a candidate (thumbs); `seq` orders reports;
   * `reported`: its number among the lifecycle's answer reports, from 1 (absent from lifecycles before the count).
   */
  | { lifecycleId: string; kind: 'answer'; rater: string; progress: number; seq: number; choice?: CampaignChoice; reported?: number }
  /** `answersReported`: the answer reports the lifecycle sent before it closed (absent from lifecycles before the count). */
  | { lifecycleId: string; kind: 'closed'; closeReason: CloseReason; progress: number; votesAccepted: number; answersReported?: number }
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
