/**
 * The state of one rating campaign and its message handlers, as a deterministic class (like
 * RatingLifecycle): `ratingCampaign` creates it with `start` or `resume`, issues every command, and
 * hands `toCarry()` to continue-as-new.
 *
 * It keeps the open items only: each with the raters who answered it (so `next` never hands an item
 * to a rater twice), its standing answers and its reservations. Closed items are counters plus an
 * outcome record that waits here only until the ledger holds it (`outcomesCommitted`).
 *
 * An excluded rater's answers are counted nowhere (campaign-counted.ts): an item whose lifecycle filled
 * its quota with some of them is offered again for the shortfall, to raters who never answered it.
 *
 * Split by responsibility: the carry's shape, item lifecycle ids and start-argument checks are in
 * campaign-carry.ts (re-exported here); handing items out (`next`, digests) in campaign-assign.ts; what
 * an item lifecycle's report does in campaign-reports.ts. Those are functions over this class, which its
 * methods of the same names call; the counting helpers they share (`countedOf`, `roomOf`, `end`, …) are public for them.
 */
import { setHandler } from '@temporalio/workflow';
import { assignItems, nextItemFor, settleDigest, validateNextRequest } from './campaign-assign';
import {
  DEFAULT_REPORT_GRACE_MS, itemLifecycleId, reaskLifecycleId, type CampaignCarry, type CampaignThresholds, type OpenItem, type Reask,
} from './campaign-carry';
import { excludedAnswers, lackingByCandidate } from './campaign-counted';
import { CampaignQuality } from './campaign-gold';
import { campaignDeadlineAt } from './campaign-input';
import { handItem } from './campaign-handout';
import { HELD_CLOSE_WAIT_MS, applyHeldClose, applyItemReport } from './campaign-reports';
import {
  campaignCancelSignal, campaignItemReportSignal, campaignPauseSignal, campaignRatersQuery, campaignResumeSignal,
  campaignStatusQuery, nextItemUpdate,
} from './messages';
import { DEFAULT_QUALITY } from './rater-quality';
import type {
  CampaignCounts, CampaignItem, CampaignItemEnd, CampaignItemOutcome, CampaignItemReport, CampaignNotifyEvent, CampaignPhase, CampaignPlan, CampaignStatus, CampaignSummary,
  NextItemAnswer, NextItemRequest,
} from './types';

// The carry's types and the start argument's checks live in campaign-carry.ts; imported from here too.
export {
  DEFAULT_REPORT_GRACE_MS, campaignThresholdErrors, invalidCampaignInput, isCampaignCarry, itemLifecycleId, reaskLifecycleId,
  type CampaignCarry, type CampaignThresholds, type OpenItem, type Reask,
} from './campaign-carry';

/** Outcomes wait for the ledger in batches of at most this many (or OUTCOME_FLUSH_MS). */
export const OUTCOME_BATCH = 50;
export const OUTCOME_FLUSH_MS = 30_000;

export class RatingCampaign {
  nextItem = 0;
  buffer: CampaignItem[] = [];
  readonly open = new Map<string, OpenItem>();
  reasks: Reask[] = [];
  counts: CampaignCarry['counts'] = { done: 0, failed: 0, answers: 0, ended: {} };
  paused = false;
  /** Expired reservations' raters are kept (OpenItem.lapsed): false for runs recorded before (CAMPAIGN_LAPSED_PASSES_PATCH). */
  keepsLapsed = true;
  cancelReason?: string;
  /** The open items have been told to close (cancel). */
  closeSent = false;
  /** This run continues as new: `next` is refused as RunContinuing, and the gateway asks again. */
  continuing = false;
  /** Email campaigns: digests sent so far, and when the next is due (undefined: once the first items are open). */
  digests: { sent: number; nextAtMs?: number } = { sent: 0 };
  /** The digest being sent: each rater's items it reserved, with the reservation each had before (none: new), until `digestSettled` or `next` tells the rater of it (campaign-assign.ts). */
  readonly digestHolds = new Map<string, Array<{ lifecycleId: string; previousUntilMs?: number }>>();
  /** Outcomes the ledger does not hold yet. */
  outcomes: CampaignItemOutcome[] = [];
  /** Notifications sent, carried across continue-as-new. */
  notified: CampaignNotifyEvent[] = [];
  lastOutcomeCommitMs: number;
  readonly deadlineAtMs: number;
  /** Gold lifecycles and raters: scores, exclusions, gold hand-outs. */
  quality: CampaignQuality;

  private constructor(
    readonly campaignId: string,
    readonly plan: CampaignPlan,
    readonly startedAt: string,
    readonly thresholds: CampaignThresholds,
  ) {
    this.deadlineAtMs = campaignDeadlineAt(plan.deadline, Date.parse(startedAt));
    this.lastOutcomeCommitMs = Date.now();
    this.quality = new CampaignQuality(campaignId, plan.quality ?? DEFAULT_QUALITY);
  }

  static start(campaignId: string, plan: CampaignPlan, thresholds: CampaignThresholds, now: number): RatingCampaign {
    return new RatingCampaign(campaignId, plan, new Date(now).toISOString(), thresholds);
  }

  static resume(campaignId: string, carry: CampaignCarry): RatingCampaign {
    const campaign = new RatingCampaign(campaignId, carry.plan, carry.startedAt, carry.thresholds ?? {});
    campaign.nextItem = carry.nextItem;
    campaign.buffer = carry.buffer;
    for (const item of carry.open) campaign.open.set(item.lifecycleId, item);
    campaign.reasks = carry.reasks ?? [];
    campaign.counts = carry.counts;
    campaign.paused = carry.paused;
    if (carry.cancelReason !== undefined) campaign.cancelReason = carry.cancelReason;
    campaign.closeSent = carry.closeSent;
    campaign.notified = carry.notified ?? [];
    campaign.quality = CampaignQuality.resume(campaignId, carry.plan.quality ?? DEFAULT_QUALITY, carry.quality);
    if (carry.digests) campaign.digests = carry.digests;
    campaign.outcomes = carry.outcomes ?? [];
    return campaign;
  }

  /** The run commits its outcomes first; any reported since (while its handlers finished) are carried. */
  toCarry(): CampaignCarry {
    const quality = this.quality.toCarry();
    return {
      plan: this.plan, startedAt: this.startedAt, nextItem: this.nextItem, buffer: this.buffer, open: [...this.open.values()],
      ...(this.reasks.length > 0 ? { reasks: this.reasks } : {}),
      counts: this.counts, paused: this.paused, ...(this.cancelReason !== undefined ? { cancelReason: this.cancelReason } : {}),
      closeSent: this.closeSent, ...(Object.keys(this.thresholds).length > 0 ? { thresholds: this.thresholds } : {}),
      ...(this.notified.length > 0 ? { notified: this.notified } : {}),
      ...(quality !== undefined ? { quality } : {}),
      ...(this.plan.digest ? { digests: this.digests } : {}),
      ...(this.outcomes.length > 0 ? { outcomes: this.outcomes } : {}),
    };
  }

  get cancelled(): boolean {
    return this.cancelReason !== undefined;
  }

  get reportGraceMs(): number {
    return this.thresholds.reportGraceMs ?? DEFAULT_REPORT_GRACE_MS;
  }

  get heldCloseWaitMs(): number {
    return this.thresholds.heldCloseWaitMs ?? HELD_CLOSE_WAIT_MS;
  }

  /** Items not started yet and still to be: none once cancelled or past the deadline. */
  get unstarted(): number {
    return this.plan.itemCount - this.nextItem;
  }

  /** Whether another item may start now (the script also needs it in the buffer, or reads a page). */
  mayStart(now: number): boolean {
    // An item needs a minute to publish and collect anything; later ones would close at once.
    return !this.paused && !this.cancelled && this.unstarted > 0 && this.open.size < this.plan.maxOpen && this.deadlineAtMs - now > 60_000;
  }

  /** Whether a starved item may be offered again now. */
  mayReask(now: number): boolean {
    return this.reasks.length > 0 && !this.paused && this.reaskPossible(now) && this.open.size < this.plan.maxOpen;
  }

  /** Whether waiting re-asks may still start, ever: not once cancelled or near the deadline. */
  reaskPossible(now: number): boolean {
    return !this.cancelled && this.deadlineAtMs - now > 60_000;
  }

  /** The re-asks that can no longer start end `insufficient`. */
  dropReasks(): void {
    for (const r of this.reasks.splice(0)) {
      const excluded = this.excludedOf(r);
      this.record({
        item: r.item, lifecycleId: reaskLifecycleId(this.campaignId, r.item, r.attempt - 1), end: 'insufficient', answers: Math.max(0, r.earlier - excluded),
        raters: r.raters.length, attempts: r.attempt, closedAt: new Date().toISOString(), ...(excluded > 0 ? { excludedAnswers: excluded } : {}),
      });
    }
  }

  /**
   * Opens a re-ask in its new lifecycle: the raters who answered before are never handed it again. Its
   * quota, returned, is what the item lacks of answers from raters in good standing; a thumbs item's
   * lifecycle takes each candidate's own shortfall (`votesByCandidate`), so none gets more than `responses`.
   */
  startedReask(r: Reask, lifecycleId: string): number {
    const byCandidate = this.plan.task === 'thumbs' ? lackingByCandidate(r, this.plan.responses, this.isExcluded) : undefined;
    const quota = byCandidate !== undefined ? Math.max(...byCandidate) : this.plan.responses - Math.max(0, r.earlier - this.excludedOf(r));
    // By candidate, the lifecycle's progress is its quota less the largest shortfall left (campaign-child.ts):
    // counted from the fewest counted votes of a candidate, plus the excluded ones countedOf takes off again.
    const earlier = byCandidate !== undefined ? this.plan.responses - quota + this.excludedOf(r) : r.earlier;
    this.open.set(lifecycleId, {
      item: r.item, lifecycleId, opened: false, raters: [...r.raters], progress: 0, seq: 0, reservations: [], answerReportsHeard: 0, attempt: r.attempt, earlier,
      ...(quota !== this.plan.responses - earlier ? { quota } : {}), ...(byCandidate !== undefined ? { votesByCandidate: byCandidate } : {}),
      ...(r.topUps !== undefined ? { topUps: r.topUps } : {}),
      ...(r.standing !== undefined ? { standing: r.standing } : {}), ...(r.candidates !== undefined ? { candidates: r.candidates } : {}),
    });
    return quota;
  }

  /** Whether a rater is excluded (bound, to pass as a filter; campaign-reports.ts uses it too). */
  readonly isExcluded = (rater: string): boolean => this.quality.isExcluded(rater);

  /** Standing answers of excluded raters on an item (campaign-counted.ts), in every attempt. */
  excludedOf(item: Pick<OpenItem, 'raters' | 'standing'>): number {
    return excludedAnswers(item, this.isExcluded);
  }

  /** An open item's counted answers: its standing ones, earlier attempts' included, less excluded raters'. */
  countedOf(open: OpenItem, progress = open.progress): number {
    return Math.max(0, (open.earlier ?? 0) + progress - this.excludedOf(open));
  }

  /**
   * How many more answers `next` may hand an open item out for: what it lacks of counted answers, but no
   * more than its lifecycle takes (its quota counts every standing answer; the rest is offered again once
   * it closes), less live reservations.
   */
  roomOf(open: OpenItem): number {
    const lifecycleRoom = (open.quota ?? this.plan.responses - (open.earlier ?? 0)) - open.progress;
    return Math.min(this.plan.responses - this.countedOf(open), lifecycleRoom) - open.reservations.length;
  }

  /** Everything is accounted for: every item ended, or cancelled/past the deadline with nothing open. */
  finished(now: number): boolean {
    if (this.open.size > 0 || this.reasks.length > 0) return false;
    return this.unstarted === 0 || this.cancelled || this.deadlineAtMs - now <= 60_000;
  }

  phase(now: number): CampaignPhase {
    if (this.finished(now)) return this.cancelled ? 'cancelled' : 'completed';
    if (this.cancelled) return 'cancelling';
    if (this.deadlineAtMs - now <= 60_000 || this.unstarted === 0) return 'finishing';
    return this.paused ? 'paused' : 'running';
  }

  /** The next item to start: taken from the buffer, with its lifecycle id. */
  takeItem(): { index: number; item: CampaignItem; lifecycleId: string } {
    const item = this.plan.items !== undefined ? this.plan.items[this.nextItem] : this.buffer.shift();
    if (item === undefined) throw new Error('bug: no item to take');
    const index = this.nextItem++;
    return { index, item, lifecycleId: itemLifecycleId(this.campaignId, index) };
  }

  /** Whether the next item must be read from the store first. */
  needsPage(): boolean {
    return this.plan.items === undefined && this.buffer.length === 0 && this.unstarted > 0;
  }

  started(index: number, lifecycleId: string): void {
    this.open.set(lifecycleId, { item: index, lifecycleId, opened: false, raters: [], progress: 0, seq: 0, reservations: [], answerReportsHeard: 0 });
  }

  /** An item that never opened (its input is invalid): ended at once. */
  endUnstarted(index: number, lifecycleId: string, end: CampaignItemEnd, message: string): void {
    this.record({ item: index, lifecycleId, end, answers: 0, raters: 0, attempts: 1, closedAt: new Date().toISOString(), message });
  }

  private record(outcome: CampaignItemOutcome): void {
    this.outcomes.push(outcome);
    // Insufficient items ended as asked (every attempt ran to its deadline): done, with the reason recorded.
    const failed = outcome.end === 'failed' || outcome.end === 'invalid' || outcome.end === 'unreported';
    if (failed) this.counts.failed += 1;
    else this.counts.done += 1;
    this.counts.answers += outcome.answers;
    if (!failed && (outcome.end === 'confident' || outcome.answers >= this.plan.responses)) this.counts.answered = (this.counts.answered ?? 0) + 1;
    this.counts.ended[outcome.end] = (this.counts.ended[outcome.end] ?? 0) + 1;
  }

  /** Ends an open item with its counted answers (`progress`: its lifecycle's last). */
  end(open: OpenItem, end: CampaignItemEnd, progress: number, message?: string): void {
    this.open.delete(open.lifecycleId);
    const excluded = this.excludedOf(open);
    this.record({
      item: open.item, lifecycleId: open.lifecycleId, end, answers: this.countedOf(open, progress), raters: open.raters.length, attempts: (open.attempt ?? 0) + 1,
      closedAt: new Date().toISOString(), ...(excluded > 0 ? { excludedAnswers: excluded } : {}), ...(message !== undefined ? { message } : {}),
    });
  }

  /** Past the deadline and its grace: the items that never said they closed are given up. */
  giveUpUnreported(): void {
    for (const open of [...this.open.values()]) {
      // A close that waited for answer reports that never came: it ends on what did.
      if (open.heldClose) applyHeldClose(this, open);
      else this.end(open, 'unreported', open.progress, 'no close report from the lifecycle by the deadline and its grace');
    }
  }

  /** Ends the items whose held close waited heldCloseWaitMs for answer reports that did not come, on what came; returns their lifecycles. */
  expireHeldCloses(now: number): string[] {
    const expired = [...this.open.values()].filter((open) => open.heldClose && open.heldClose.untilMs <= now);
    for (const open of expired) applyHeldClose(this, open);
    return expired.map((open) => open.lifecycleId);
  }

  /** When the next held close stops waiting, if one is held. */
  nextHeldCloseAt(): number | undefined {
    let at: number | undefined;
    for (const open of this.open.values()) if (open.heldClose && (at === undefined || open.heldClose.untilMs < at)) at = open.heldClose.untilMs;
    return at;
  }

  /** A report of one of its lifecycles (campaign-reports.ts). */
  report(report: CampaignItemReport): void {
    applyItemReport(this, report);
  }

  /** The rater's weight (workflows/rater-quality.ts): their gold score, or the prior's mean before any gold answer. */
  scoreOf(rater: string): number {
    return this.quality.scoreOf(rater);
  }

  /** Confident items whose lifecycles have not been told to close yet (the workflow tells them). */
  confidentToClose(): OpenItem[] {
    // Cancelling told every open lifecycle to close already.
    if (this.closeSent) return [];
    // A held close is closed already: nothing to tell it.
    return [...this.open.values()].filter((open) => open.confident !== undefined && !open.confident.closeSent && !open.heldClose);
  }

  outcomesDue(now: number): boolean {
    return this.outcomes.length >= OUTCOME_BATCH || (this.outcomes.length > 0 && now - this.lastOutcomeCommitMs >= OUTCOME_FLUSH_MS);
  }

  /** The ledger holds the first `count` outcomes. */
  outcomesCommitted(count: number, now: number): void {
    this.outcomes.splice(0, count);
    this.lastOutcomeCommitMs = now;
  }

  /** The `next` update's validator (campaign-assign.ts). */
  validateNext(request: NextItemRequest): void {
    validateNextRequest(this, request);
  }

  /** An open item for the rater, reserved for them, or why none (campaign-assign.ts). */
  next(request: NextItemRequest, now: number): NextItemAnswer {
    return nextItemFor(this, request, now);
  }

  /**
   * Whether an email campaign's digest is due: the first once every started item and gold lifecycle has opened (or five
   * minutes after the start, whatever is open then), the next `digest.everyMs` after the last, while the
   * campaign runs and items are open.
   */
  digestDue(now: number): boolean {
    const phase = this.phase(now);
    if (!this.plan.digest || (phase !== 'running' && phase !== 'finishing') || this.open.size === 0) return false;
    const { nextAtMs } = this.digests;
    if (nextAtMs !== undefined) return now >= nextAtMs;
    // The gold lifecycles too: a first digest before they open could hold no gold item.
    const allOpened = [...this.open.values()].every((o) => o.opened) && (this.unstarted === 0 || this.open.size >= this.plan.maxOpen)
      && [...this.quality.gold.values()].every((g) => g.opened || g.closed);
    return allOpened || now - Date.parse(this.startedAt) >= 5 * 60_000;
  }

  /** When the next digest is due at the latest (undefined: not an email campaign, or waiting for items to open). */
  nextDigestAt(): number | undefined {
    if (!this.plan.digest) return undefined;
    return this.digests.nextAtMs ?? Date.parse(this.startedAt) + 5 * 60_000;
  }

  /** A digest went out (or there was nobody to mail): the next is due `digest.everyMs` from now. */
  digestSent(now: number): void {
    this.digests = { sent: this.digests.sent + 1, nextAtMs: now + this.plan.digest!.everyMs };
  }

  /** Up to `count` open items reserved for `rater` until `untilMs`, for an email digest (campaign-assign.ts). */
  assignBatch(rater: string, count: number, now: number, untilMs: number): string[] {
    return assignItems(this, rater, count, now, untilMs);
  }

  /** The digest's mails are out: reservations no mail told their rater about are let go (campaign-assign.ts). */
  digestSettled(delivered: Array<{ rater: string; lifecycleIds: string[] }>): void {
    settleDigest(this, delivered);
  }

  countsNow(now: number): CampaignCounts {
    let answers = this.counts.answers;
    let reserved = 0;
    for (const r of this.reasks) answers += Math.max(0, r.earlier - this.excludedOf(r));
    for (const open of this.open.values()) {
      answers += this.countedOf(open);
      reserved += open.reservations.filter((r) => r.untilMs > now).length;
    }
    const ended = this.counts.done + this.counts.failed;
    return {
      items: this.plan.itemCount, done: this.counts.done, failed: this.counts.failed, open: this.open.size,
      pending: this.plan.itemCount - ended - this.open.size, answers, reserved, ended: { ...this.counts.ended },
    };
  }

  status(now: number): CampaignStatus {
    const counts = this.countsNow(now);
    const ended = counts.done + counts.failed;
    const elapsed = now - Date.parse(this.startedAt);
    const eta = ended > 0 && ended < counts.items ? new Date(Math.min(now + (elapsed / ended) * (counts.items - ended), this.deadlineAtMs)).toISOString() : undefined;
    return {
      campaignId: this.campaignId, label: this.plan.label, phase: this.phase(now), task: this.plan.task, responses: this.plan.responses,
      channel: this.plan.channel, maxOpen: this.plan.maxOpen, startedAt: this.startedAt, deadlineAt: new Date(this.deadlineAtMs).toISOString(), counts,
      ...(eta !== undefined ? { eta } : {}), ...(this.cancelReason !== undefined ? { cancelReason: this.cancelReason } : {}),
      ...this.quality.counts(),
    };
  }

  summary(now: number): CampaignSummary {
    return { campaignId: this.campaignId, phase: this.cancelled ? 'cancelled' : 'completed', counts: this.countsNow(now) };
  }

  register(): void {
    setHandler(campaignStatusQuery, () => this.status(Date.now()));
    setHandler(campaignRatersQuery, () => this.quality.records());
    setHandler(campaignItemReportSignal, (report) => this.report(report));
    setHandler(campaignPauseSignal, () => {
      this.paused = true;
    });
    setHandler(campaignResumeSignal, () => {
      this.paused = false;
    });
    setHandler(campaignCancelSignal, (request) => {
      const reason = typeof request?.reason === 'string' && request.reason.trim() !== '' ? request.reason.trim().slice(0, 500) : 'cancelled';
      this.cancelReason ??= reason;
    });
    setHandler(nextItemUpdate, async (request) => {
      const answer = this.next(request, Date.now());
      // The item's lifecycle learns whom it was handed to before the rater does (campaign-handout.ts).
      if (answer.assigned) await handItem(answer.lifecycleId, request.rater);
      return answer;
    }, { validator: (request) => this.validateNext(request) });
  }
}
