/**
 * What the reports of a campaign's item lifecycles do to it: an item opens, takes answers (each rater's
 * latest one weighed for early stopping), fails or closes, and a closed item short of counted answers is
 * offered again; an exclusion weighs the items its rater answered again. Separate from the campaign's
 * bookkeeping (campaign-state.ts) because these are the rules of an item's course; RatingCampaign's
 * `report` calls applyItemReport.
 */
import type { OpenItem } from './campaign-carry';
import { goodStanding } from './campaign-counted';
import type { RatingCampaign } from './campaign-state';
import { clearAnswer, describeClear, recordChoice, type ClearAnswer } from './confidence-stop';
import type { CampaignItemReport, CloseReason } from './types';

/** Applies one report of an item's lifecycle (or a gold one's, which the quality takes) to the campaign. */
export function applyItemReport(campaign: RatingCampaign, report: CampaignItemReport): void {
  const gold = campaign.quality.report(report, Date.now());
  if (gold.handled) {
    if (gold.excluded !== undefined) raterExcluded(campaign, gold.excluded);
    return;
  }
  const open = campaign.open.get(report.lifecycleId);
  // A repeated close report, or one from a lifecycle this campaign does not run: nothing to count.
  if (!open) return;
  switch (report.kind) {
    case 'opened':
      open.opened = true;
      return;
    case 'answer':
      open.opened = true;
      if (open.answerReportsHeard !== undefined) open.answerReportsHeard += 1;
      if (report.reported !== undefined) open.answerReportsSent = Math.max(open.answerReportsSent ?? 0, report.reported);
      if (open.lapsed?.includes(report.rater)) open.lapsed = open.lapsed.filter((r) => r !== report.rater);
      if (!open.raters.includes(report.rater)) {
        open.raters.push(report.rater);
        campaign.quality.answered(report.rater);
      }
      if (open.passed?.includes(report.rater)) open.passed = open.passed.filter((r) => r !== report.rater);
      open.reservations = open.reservations.filter((r) => r.rater !== report.rater);
      if (report.seq > open.seq) {
        open.seq = report.seq;
        open.progress = report.progress;
      }
      if (report.choice !== undefined) weighAnswer(campaign, open, report.rater, report.seq, report.choice);
      if (open.heldClose && heardAll(open)) applyHeldClose(campaign, open);
      return;
    case 'closed':
      if (report.answersReported !== undefined) open.answerReportsSent = Math.max(open.answerReportsSent ?? 0, report.answersReported);
      if (!heardAll(open)) {
        // The close overtook answer reports: the item's raters and answers are not all here yet.
        open.heldClose = { closeReason: report.closeReason, progress: report.progress, untilMs: Date.now() + campaign.heldCloseWaitMs };
        open.reservations = [];
        return;
      }
      return closed(campaign, open, report.closeReason, report.progress);
    case 'failed':
      campaign.end(open, 'failed', open.progress, report.message.slice(0, 500));
      return;
    case 'gold':
      return; // only gold lifecycles report scores, and those are the quality's
  }
}

/** How long a close report waits for the answer reports it overtook (workflow time), unless thresholds.heldCloseWaitMs says otherwise. */
export const HELD_CLOSE_WAIT_MS = 60_000;

/** Ends an item on its held close report with the reports that came (the last one came, or the wait is over). */
export function applyHeldClose(campaign: RatingCampaign, open: OpenItem): void {
  const held = open.heldClose!;
  delete open.heldClose;
  closed(campaign, open, held.closeReason, held.progress);
}

/**
 * An item's lifecycle closed. Closed for its clear answer (by the campaign, or at its deadline before
 * the close came) it ends `confident` if the answer is clear still without excluded raters; a full
 * quota is `quorum` still. Short of counted answers, it is offered again in a new lifecycle: starved
 * at its deadline while `reask` attempts last, filled or closed early with excluded raters' answers
 * among them regardless of `reask` (each exclusion tops it up once at most); else, or once no re-ask
 * can start, it ends `insufficient`.
 */
function closed(campaign: RatingCampaign, open: OpenItem, reason: CloseReason, progress: number): void {
  const closedClear = open.confident !== undefined && reason !== 'quorum';
  // With answer reports still missing (a held close whose wait ran out) the answer is not known to be clear.
  if (closedClear && heardAll(open) && clearOf(campaign, open)) return campaign.end(open, 'confident', progress, open.confident!.message);
  // Closed otherwise (a cancel, by hand), or cancelled after its clear answer rested on an excluded rater's word.
  const closedForGood = reason === 'closed' && (!closedClear || campaign.cancelled);
  if (campaign.countedOf(open, progress) >= campaign.plan.responses || closedForGood) return campaign.end(open, reason, progress);
  const topUp = reason !== 'deadline';
  const attempt = (open.attempt ?? 0) + 1;
  const topUps = (open.topUps ?? 0) + (topUp ? 1 : 0);
  const excluded = campaign.excludedOf(open);
  if ((!topUp && attempt - topUps > campaign.plan.reask) || !campaign.reaskPossible(Date.now())) {
    return campaign.end(open, 'insufficient', progress, excluded > 0 ? `${excluded} of its answers are excluded raters', not counted` : undefined);
  }
  campaign.open.delete(open.lifecycleId);
  campaign.reasks.push({
    item: open.item, attempt, earlier: (open.earlier ?? 0) + progress, raters: open.raters, ...(topUps > 0 ? { topUps } : {}),
    ...(open.standing !== undefined ? { standing: open.standing } : {}), ...(open.candidates !== undefined ? { candidates: open.candidates } : {}),
  });
}

/**
 * A rater was excluded: their reservations end (the items go back to the pool), and every open item
 * they answered is weighed again without them (what made it clear may be gone, or what kept it from it).
 */
function raterExcluded(campaign: RatingCampaign, rater: string): void {
  for (const open of campaign.open.values()) {
    open.reservations = open.reservations.filter((r) => r.rater !== rater);
    if (open.raters.includes(rater)) weigh(campaign, open);
  }
}

/** An answer report updates the item's standing answers (whose they are counts: campaign-counted.ts), then early stopping weighs them. */
function weighAnswer(campaign: RatingCampaign, open: OpenItem, rater: string, seq: number, choice: NonNullable<Extract<CampaignItemReport, { kind: 'answer' }>['choice']>): void {
  if (choice.task !== campaign.plan.task) return;
  open.standing ??= [];
  recordChoice(open.standing, rater, seq, choice);
  if (choice.task === 'thumbs') open.candidates = choice.candidates;
  weigh(campaign, open);
}

/** The item's clear answer on the standing answers of raters in good standing, if early stopping is on and one is. */
function clearOf(campaign: RatingCampaign, open: OpenItem): ClearAnswer | undefined {
  const { confidence, minResponses } = campaign.plan;
  if (confidence === undefined || minResponses === undefined || open.standing === undefined) return undefined;
  return clearAnswer(goodStanding(open.standing, campaign.isExcluded), (r) => campaign.scoreOf(r), {
    task: campaign.plan.task, confidence, minResponses, allowBothBad: campaign.plan.allowBothBad !== false, ...(open.candidates !== undefined ? { candidates: open.candidates } : {}),
  });
}

/** Whether every answer report the lifecycle sent so far has come: until then its standing answers are not what stands. */
function heardAll(open: OpenItem): boolean {
  return open.answerReportsHeard === undefined || open.answerReportsHeard >= (open.answerReportsSent ?? 0);
}

/**
 * Early stopping: once one answer is clear, the item is to close. An exclusion, or a report that shows an
 * earlier one still on its way, takes that back before the close is sent; after, its close report weighs
 * it again (`closed`). Reports overtaking each other must not close an item on answers picked out of order.
 */
function weigh(campaign: RatingCampaign, open: OpenItem): void {
  // Closed already: its close report weighs it once the answers it waits for are in.
  if (open.heldClose) return;
  const clear = heardAll(open) ? clearOf(campaign, open) : undefined;
  if (clear && !open.confident) {
    open.confident = { message: `answer clear: ${describeClear(clear, campaign.plan.confidence!)}`, closeSent: false };
    open.reservations = [];
  } else if (!clear && open.confident && !open.confident.closeSent) {
    delete open.confident;
  }
}
