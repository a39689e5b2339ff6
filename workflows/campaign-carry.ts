/**
 * What a campaign's runs hand each other and start from: the optional thresholds of a first run, the
 * open items and re-asks carried across continue-as-new, the ids of item lifecycles, and the checks of
 * the second start argument. Types and pure functions, separate from RatingCampaign (campaign-state.ts),
 * which builds and reads them, so the shape of the carry is read in one place.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { QualityCarry } from './campaign-gold';
import type { StandingAnswer } from './confidence-stop';
import { INVALID_CAMPAIGN_INPUT_ERROR } from './messages';
import type { CampaignItem, CampaignItemEnd, CampaignItemOutcome, CampaignNotifyEvent, CampaignPlan, CloseReason } from './types';

/** Limits a starter may lower (tests do, to reach continue-as-new in seconds); from the arguments, so replays see them. */
export interface CampaignThresholds {
  /** Continue-as-new once the run's history has this many events (the server's suggestion applies regardless). */
  continueAsNewAfterEvents?: number;
  /** How long after the deadline items that never reported are given up as `unreported`. Default 15 minutes. */
  reportGraceMs?: number;
  /** How long a close report waits for answer reports it overtook (OpenItem.heldClose). Default 60 s. */
  heldCloseWaitMs?: number;
}

export interface OpenItem {
  item: number;
  lifecycleId: string;
  /** The lifecycle has published and takes answers. */
  opened: boolean;
  /** Raters who answered (standing or withdrawn), in the order their reports came. */
  raters: string[];
  /** Raters it was reserved for who said they are done with it (`next` with `done`) before a report of their answer came, if one ever does: the latest PASSED_KEPT (campaign-assign.ts). */
  passed?: string[];
  /** Raters whose reservation expired unanswered, the latest LAPSED_KEPT: a pass from them after the expiry still counts. */
  lapsed?: string[];
  progress: number;
  /** The seq of the answer `progress` is from: reports may arrive out of order. */
  seq: number;
  reservations: Array<{ rater: string; untilMs: number }>;
  /**
   * Offered again (reask): which attempt this lifecycle is (1, 2, …) and the standing answers earlier ones got
   * (a thumbs re-ask by candidate: the fewest counted votes of a candidate, plus the excluded ones `countedOf` takes off).
   */
  attempt?: number;
  earlier?: number;
  /** A re-ask's lifecycle quota: the answers the item lacked when it started (absent: responses − earlier). */
  quota?: number;
  /** A thumbs re-ask's quota of each candidate (what each lacked; `quota` is the largest): its lifecycle takes no more. */
  votesByCandidate?: number[];
  /** Attempts that were offered again for excluded raters' answers: not counted against `reask`. */
  topUps?: number;
  /** Each rater's latest answer, earlier attempts' included: what early stopping weighs and exclusions discount. */
  standing?: StandingAnswer[];
  /** Thumbs, with early stopping: the item's candidates (from its reports). */
  candidates?: number;
  /**
   * Answer reports heard from this lifecycle, and the highest number one of them carried: signals from one
   * lifecycle can overtake each other, so while `answerReportsSent` is above `answerReportsHeard` the
   * standing answers miss one and early stopping waits. Counted from the lifecycle's start: absent on an
   * item carried from before the count, whose reports are then weighed as they come.
   */
  answerReportsHeard?: number;
  answerReportsSent?: number;
  /**
   * The lifecycle's close report, held while answer reports it sent before it are still on their way: the
   * item ends once they come (its raters and answers complete), or with what came at `untilMs`
   * (HELD_CLOSE_WAIT_MS later: a report that never comes must not hold the item's slot).
   */
  heldClose?: { closeReason: CloseReason; progress: number; untilMs: number };
  /** Its answer is clear: the campaign closes its lifecycle (`closeSent` once told) and it ends `confident`. */
  confident?: { message: string; closeSent: boolean };
}

/** An item whose lifecycle closed at its deadline short of its answers, waiting to be offered again. */
export interface Reask {
  item: number;
  attempt: number;
  earlier: number;
  topUps?: number;
  raters: string[];
  standing?: StandingAnswer[];
  candidates?: number;
}

/** What one run hands the next. */
export interface CampaignCarry {
  plan: CampaignPlan;
  startedAt: string;
  /** Items from `nextItem` on are not started yet; `buffer` holds the next of them, read from the store. */
  nextItem: number;
  buffer: CampaignItem[];
  open: OpenItem[];
  reasks?: Reask[];
  /** `answered`: items that ended with their answers in full (the quota, CampaignNotifyEvent). */
  counts: { done: number; failed: number; answers: number; ended: Partial<Record<CampaignItemEnd, number>>; answered?: number };
  paused: boolean;
  cancelReason?: string;
  closeSent: boolean;
  thresholds?: CampaignThresholds;
  /** Notifications sent (each event once per campaign, whichever run reaches it). */
  notified?: CampaignNotifyEvent[];
  /** Gold lifecycles and rater records (campaign-gold.ts); absent before the first rater. */
  quality?: QualityCarry;
  /** Email campaigns: digests sent so far, and when the next is due (absent: when the first items open). */
  digests?: { sent: number; nextAtMs?: number };
  /**
   * Outcomes reported after the run's last commit, while it waited for its `next` handlers to finish (a
   * child can close in that wait): the next run commits them. Each was an open item a moment before, so
   * the carry is no larger for them.
   */
  outcomes?: CampaignItemOutcome[];
}

export const DEFAULT_REPORT_GRACE_MS = 15 * 60 * 1000;

export function isCampaignCarry(arg: unknown): arg is CampaignCarry {
  return typeof arg === 'object' && arg !== null && 'plan' in arg;
}

export function campaignThresholdErrors(arg: unknown): string[] {
  if (arg === undefined || arg === null) return [];
  if (typeof arg !== 'object' || Array.isArray(arg)) return ['second argument: must be an object like {"thresholds": {…}} or absent'];
  const errors = Object.keys(arg).filter((k) => k !== 'thresholds').map((k) => `${k}: unknown field in the second argument; known: thresholds`);
  const t = (arg as { thresholds?: unknown }).thresholds;
  if (t === undefined) return errors;
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return [...errors, 'thresholds: must be an object'];
  const { continueAsNewAfterEvents, reportGraceMs, heldCloseWaitMs, ...rest } = t as CampaignThresholds;
  for (const key of Object.keys(rest)) errors.push(`thresholds.${key}: unknown field; known: continueAsNewAfterEvents, reportGraceMs, heldCloseWaitMs`);
  if (continueAsNewAfterEvents !== undefined && !(Number.isSafeInteger(continueAsNewAfterEvents) && continueAsNewAfterEvents >= 50)) {
    errors.push('thresholds.continueAsNewAfterEvents: must be an integer of at least 50');
  }
  if (reportGraceMs !== undefined && !(Number.isSafeInteger(reportGraceMs) && reportGraceMs >= 0)) errors.push('thresholds.reportGraceMs: must be a non-negative integer');
  if (heldCloseWaitMs !== undefined && !(Number.isSafeInteger(heldCloseWaitMs) && heldCloseWaitMs >= 0)) errors.push('thresholds.heldCloseWaitMs: must be a non-negative integer');
  return errors;
}

export function invalidCampaignInput(errors: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: INVALID_CAMPAIGN_INPUT_ERROR, nonRetryable: true, message: `invalid campaign input: ${errors.join('; ')}`, details: [errors],
  });
}

/** The child lifecycle id of an item: the campaign's id and the item's index, so every retry and run names the same one. */
export function itemLifecycleId(campaignId: string, item: number): string {
  return `${campaignId}-item-${item}`;
}

/** The lifecycle of an item's attempt: the item's own id first, then `-r1`, `-r2`, … for each re-ask. */
export function reaskLifecycleId(campaignId: string, item: number, attempt: number): string {
  return attempt === 0 ? itemLifecycleId(campaignId, item) : `${itemLifecycleId(campaignId, item)}-r${attempt}`;
}
