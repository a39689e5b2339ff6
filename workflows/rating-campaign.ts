/**
 * @module ratingCampaign: many items, each rated by its own child `ratingLifecycle`, with bounded
 * concurrency. Its steps:
 *
 *   1. start: validate the input (inline items are checked whole), or resume what a previous run carried;
 *   2. start child lifecycles while fewer than `maxOpen` are open (items read from the artifact store in
 *      pages by an activity when the list is stored, so prompts and media never pass through history in bulk);
 *   3. meanwhile hand items to raters (`next`), follow each child's reports (opened, answers, closed),
 *      pause/resume, and on cancel tell every open child to close (each commits what it has); with
 *      early stopping (`confidence`), close an item as soon as its answer is clear (confidence-stop.ts);
 *   4. commit each closed item's outcome to the ledger in batches (the state forgets it then);
 *   5. continue-as-new when history grows long, carrying only the open items and counters;
 *   5a. email campaigns: mail each rater a digest of their next items (reserved for them; gold items mixed
 *      in as `next` mixes them) when the first items open and every `digestEvery` after, while items remain;
 *   6. when every item has ended (or cancel/the deadline left nothing open), commit the campaign row's
 *      final counts, send its notifications (campaign-notify.ts: `quota` when every item was answered in
 *      full, then `completed`) and return the summary.
 *
 * Children are started with deterministic ids (`<campaign id>-item-<index>`) and REJECT_DUPLICATE, so no
 * retry, replay or run starts an item twice; an id that exists already is adopted as open. They are
 * ABANDONed on parent close: a continue-as-new closes a run, and must not end its children. Children
 * report to the campaign's workflow id (not a run), so reports reach whichever run is current.
 */
import {
  ParentClosePolicy, WorkflowIdReusePolicy,
  allHandlersFinished, condition, continueAsNew, getExternalWorkflowHandle, log, patched, proxyActivities, startChild, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { CampaignDigestActivities, CampaignDigestResult, CampaignItemActivities, CampaignLedgerActivities, CampaignRecord } from '../activities/types';
import { goldLifecycleId } from './campaign-gold';
import { handItem } from './campaign-handout';
import { childInput, goldChildInput, goldItemErrors, itemDeadlineAt, itemErrors, validateCampaignInput } from './campaign-input';
import { quotaReached, sendNotices } from './campaign-notify';
import {
  OUTCOME_BATCH, OUTCOME_FLUSH_MS, RatingCampaign, campaignThresholdErrors, invalidCampaignInput, isCampaignCarry, reaskLifecycleId,
  type CampaignCarry, type CampaignThresholds,
} from './campaign-state';
import { WORKFLOW_TYPE, closeSignal } from './messages';
import { inferenceQueue, ledgerQueue } from './queues';
import { campaignKey, channelKey, statusKey } from './search-attributes';
import type { CampaignGoldItem, CampaignGoldRecord, CampaignItem, CampaignPhase, CampaignSummary } from './types';

export type { CampaignCarry, CampaignThresholds } from './campaign-state';

/** Items read from the store per activity call. */
export const ITEM_PAGE = 50;
/** Children started per batch, before the loop looks at reports, cancels and the history again. */
export const START_BATCH = 25;
/** How long a finishing campaign waits for its gold lifecycles' close reports (their last scores come before them). */
export const GOLD_CLOSE_WAIT_MS = 60_000;
/** Runs recorded before it forget a rater's expired reservation at once, so a pass after it was not kept. */
export const CAMPAIGN_LAPSED_PASSES_PATCH = 'campaign-lapsed-passes';

export interface CampaignStart {
  thresholds?: CampaignThresholds;
}

function activitiesFor(baseQueue: string) {
  // Item pages: reads, retried without limit like the ledger's commits: a store away for a while must
  // not fail a campaign that holds outcomes and open items (a stored list that is bad fails at once, coded).
  const items = proxyActivities<CampaignItemActivities>({
    taskQueue: inferenceQueue(baseQueue),
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  // The ledger: retries without limit, like the lifecycles' commits: outcomes must reach it.
  const ledger = proxyActivities<CampaignLedgerActivities>({
    taskQueue: ledgerQueue(baseQueue),
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  // Email digests: on the base queue, where the workers with the email publisher take channel activities.
  const digests = proxyActivities<CampaignDigestActivities>({
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
  });
  return { items, ledger, digests };
}

function startOrFail(campaignId: string, input: unknown, start: CampaignStart | null | undefined): RatingCampaign {
  const result = validateCampaignInput(input, campaignId, Date.now());
  const errors = [...(result.ok ? [] : result.errors), ...campaignThresholdErrors(start)];
  if (!result.ok || errors.length > 0) throw invalidCampaignInput(errors);
  return RatingCampaign.start(campaignId, result.plan, start?.thresholds ?? {}, Date.now());
}

export async function ratingCampaign(input: unknown, carry?: CampaignCarry | CampaignStart | null): Promise<CampaignSummary> {
  const info = workflowInfo();
  const { items, ledger, digests } = activitiesFor(info.taskQueue);
  const resumed = isCampaignCarry(carry);
  if (resumed && info.continuedFromExecutionRunId === undefined) {
    throw invalidCampaignInput(['second argument: a carried campaign state is only accepted from continue-as-new; start with {"thresholds": {…}} or nothing']);
  }
  // 1. Start, or resume. Handlers first: children's reports are buffered until then, never lost.
  const campaign = resumed ? RatingCampaign.resume(info.workflowId, carry) : startOrFail(info.workflowId, input, carry);
  // Set before the handlers: `next` requests buffered for this task hand items out under the run's own rule.
  campaign.keepsLapsed = patched(CAMPAIGN_LAPSED_PASSES_PATCH);
  campaign.register();
  const { plan } = campaign;
  upsertSearchAttributes([
    { key: campaignKey, value: plan.label },
    { key: channelKey, value: plan.channel.split(':')[0]! },
  ]);
  let shownPhase: CampaignPhase | undefined;
  const showPhase = (phase: CampaignPhase) => {
    if (phase !== shownPhase) upsertSearchAttributes([{ key: statusKey, value: phase }]);
    shownPhase = phase;
  };

  const record = (now: number, closed = false): CampaignRecord => ({
    campaignId: campaign.campaignId, runId: info.firstExecutionRunId, label: plan.label, task: plan.task, responses: plan.responses,
    channel: plan.channel, itemCount: plan.itemCount, startedAt: campaign.startedAt, deadlineAt: new Date(campaign.deadlineAtMs).toISOString(),
    phase: campaign.phase(now), counts: campaign.countsNow(now), ...(closed ? { closedAt: new Date(now).toISOString() } : {}),
  });
  const commitOutcomes = async (closed = false) => {
    const batch = campaign.outcomes.slice(0, OUTCOME_BATCH * 4);
    // Rater records ride along with the commits there are anyway (taken now: later changes go with the next).
    const raters = campaign.quality.takeChanged();
    await ledger.commitCampaign({ campaign: record(Date.now(), closed), outcomes: batch, ...(raters.length > 0 ? { raters } : {}) });
    campaign.outcomesCommitted(batch.length, Date.now());
  };
  const historyIsLong = () => {
    const { continueAsNewSuggested, historyLength } = workflowInfo();
    const limit = campaign.thresholds.continueAsNewAfterEvents;
    return continueAsNewSuggested || (limit !== undefined && historyLength >= limit);
  };

  /** One digest: every rater on the list gets up to `digest.size` items reserved for them, in one mail. */
  const sendDigest = async () => {
    const digest = plan.digest!;
    // Who got which items: reservations no mail told anyone about are let go (none mailed until the send says so).
    let delivered: CampaignDigestResult['delivered'] = [];
    try {
      const raters = await digests.campaignDigestRaters({ channel: plan.channel });
      const untilMs = Date.now() + digest.reservationMs;
      const assignments = raters.map((rater) => ({ rater, lifecycleIds: campaign.assignBatch(rater, digest.size, Date.now(), untilMs) })).filter((a) => a.lifecycleIds.length > 0);
      if (assignments.length > 0) {
        // Each item's lifecycle learns whom it was handed to before the mail can reach them.
        await Promise.all(assignments.flatMap((a) => a.lifecycleIds.map((id) => handItem(id, a.rater))));
        ({ delivered } = await digests.sendCampaignDigest({
          campaignId: campaign.campaignId, label: plan.label, digest: campaign.digests.sent + 1, channel: plan.channel, assignments, reservedUntil: new Date(untilMs).toISOString(),
        }));
      }
    } catch (err) {
      // A digest that cannot go out (mail down for its retries) must not end the campaign: the next one tries again.
      log.warn('campaign digest not sent', { campaignId: campaign.campaignId, digest: campaign.digests.sent + 1, error: String(err) });
    }
    campaign.digestSettled(delivered);
    campaign.digestSent(Date.now());
  };

  // The campaign's row exists from the start, so `prefline query` sees it while it runs; gold items go
  // with it (read and checked first: a bad stored gold item fails the campaign before anything starts).
  if (!resumed) {
    const gold = (plan.goldCount ?? 0) > 0 ? await readGold(campaign, items) : [];
    const goldRecords: CampaignGoldRecord[] = gold.map((g, i) => ({ gold: i, lifecycleId: goldLifecycleId(campaign.campaignId, plan.itemCount, i), answer: g.answer, explanation: g.explanation }));
    await ledger.commitCampaign({ campaign: record(Date.now()), outcomes: [], ...(goldRecords.length > 0 ? { gold: goldRecords } : {}) });
    if (gold.length > 0) await startGold(campaign, gold);
  }

  for (;;) {
    const now = Date.now();
    const unheard = campaign.expireHeldCloses(now);
    if (unheard.length > 0) log.warn('campaign items closed before all their answer reports came; ended on those that did', { lifecycleIds: unheard });
    showPhase(campaign.phase(now));
    if (campaign.cancelled && !campaign.closeSent) {
      // 3. Cancel: every open child closes and commits what it has, then reports.
      await closeAll([...campaign.open.keys()], `campaign cancelled: ${campaign.cancelReason}`);
      campaign.closeSent = true;
      continue;
    }
    const confident = campaign.confidentToClose();
    if (confident.length > 0) {
      // Early stopping: a clear item's lifecycle closes and commits what it has, then reports (it ends `confident`).
      // Marked sent before the signals go out: a report in the meantime must not take back a close under way.
      const closes = confident.map((open) => ({ lifecycleId: open.lifecycleId, reason: `campaign: ${open.confident!.message}` }));
      for (const open of confident) open.confident!.closeSent = true;
      await Promise.all(closes.map(({ lifecycleId, reason }) => getExternalWorkflowHandle(lifecycleId).signal(closeSignal, { reason })
        .catch((err: unknown) => log.warn('close of a confident campaign item failed', { lifecycleId, error: String(err) }))));
      continue;
    }
    if (campaign.outcomesDue(now) || (campaign.outcomes.length > 0 && campaign.finished(now))) {
      await commitOutcomes(); // 4.
      continue;
    }
    if (campaign.reasks.length > 0 && !campaign.reaskPossible(now)) {
      campaign.dropReasks();
      continue;
    }
    if (campaign.finished(now)) break;
    if (now >= campaign.deadlineAtMs + campaign.reportGraceMs) {
      campaign.giveUpUnreported();
      continue;
    }
    if (historyIsLong()) {
      // 5. Outcomes go to the ledger first, so the carry holds open items; a child that reports its close
      // while the `next` handlers finish (each awaits its hand-out signal) has its outcome carried.
      campaign.continuing = true;
      while (campaign.outcomes.length > 0) await commitOutcomes();
      await condition(allHandlersFinished);
      return continueAsNew<typeof ratingCampaign>(input, campaign.toCarry());
    }
    if (campaign.mayReask(now)) {
      // A starved item, offered again in a new lifecycle for the answers it still lacks.
      const reask = campaign.reasks.shift()!;
      const item = plan.items?.[reask.item] ?? (await items.readCampaignItems({ itemsRef: plan.itemsRef as string, offset: reask.item, limit: 1 }))[0];
      if (item === undefined) throw new Error(`bug: the stored item list has no item ${reask.item}`);
      if (!campaign.reaskPossible(Date.now())) {
        campaign.reasks.unshift(reask); // cancelled meanwhile: ends insufficient on the next turn
        continue;
      }
      const lifecycleId = reaskLifecycleId(campaign.campaignId, reask.item, reask.attempt);
      const quota = campaign.startedReask(reask, lifecycleId);
      await startItem(campaign, reask.item, item, lifecycleId, quota, campaign.open.get(lifecycleId)?.votesByCandidate);
      continue;
    }
    if (campaign.digestDue(now)) {
      await sendDigest(); // 5a.
      continue;
    }
    if (campaign.mayStart(now)) {
      // 2. Start children: read the next page first where the list is stored.
      if (campaign.needsPage()) {
        const page = await items.readCampaignItems({ itemsRef: plan.itemsRef as string, offset: campaign.nextItem, limit: ITEM_PAGE });
        if (page.length === 0) throw new Error(`bug: the stored item list ends before item ${campaign.nextItem} of ${plan.itemCount}`);
        campaign.buffer = page;
        continue;
      }
      await startBatch(campaign);
      continue;
    }
    const flushTimed = campaign.outcomes.length > 0;
    const wakeAt = Math.min(
      campaign.deadlineAtMs - 60_000 > now ? campaign.deadlineAtMs - 60_000 : campaign.deadlineAtMs + campaign.reportGraceMs,
      flushTimed ? campaign.lastOutcomeCommitMs + OUTCOME_FLUSH_MS : Number.POSITIVE_INFINITY,
      campaign.nextDigestAt() ?? Number.POSITIVE_INFINITY,
      campaign.nextHeldCloseAt() ?? Number.POSITIVE_INFINITY,
    );
    await condition(
      // The first outcome of a quiet spell wakes the loop, so its flush gets a timer.
      () => (!flushTimed && campaign.outcomes.length > 0)
        || campaign.mayStart(Date.now()) || campaign.mayReask(Date.now()) || campaign.outcomesDue(Date.now()) || (campaign.cancelled && !campaign.closeSent)
        || campaign.confidentToClose().length > 0 || campaign.finished(Date.now()) || historyIsLong() || campaign.digestDue(Date.now())
        // A close held during the wait: its own wait may end before this timer.
        || (campaign.nextHeldCloseAt() ?? Number.POSITIVE_INFINITY) < wakeAt,
      Math.max(wakeAt - now, 1),
    );
  }

  // 6. The gold lifecycles close (each commits its answers), then the final counts, then the notifications:
  // receivers that react to them find the ledger complete. A gold lifecycle's close report comes after its
  // last score report, so waiting for the close reports (bounded) keeps scores still in flight.
  const openGold = campaign.quality.openGold();
  if (openGold.length > 0) {
    await closeAll(openGold, 'campaign finished');
    const reported = await condition(() => campaign.quality.openGold().length === 0, GOLD_CLOSE_WAIT_MS);
    if (!reported) log.warn('gold lifecycles did not report their close in time; their late scores are not counted', { campaignId: campaign.campaignId, open: campaign.quality.openGold() });
  }
  await condition(allHandlersFinished);
  await commitOutcomes(true);
  showPhase(campaign.phase(Date.now()));
  if (quotaReached(campaign)) await sendNotices(campaign, 'quota');
  await sendNotices(campaign, 'completed');
  return campaign.summary(Date.now());
}

function closeAll(lifecycleIds: string[], reason: string): Promise<unknown> {
  return Promise.all(lifecycleIds.map((id) => getExternalWorkflowHandle(id).signal(closeSignal, { reason })
    .catch((err: unknown) => log.warn('close of a campaign lifecycle failed', { lifecycleId: id, error: String(err) }))));
}

/** The gold list, inline or read from the store in pages; every stored gold item checked as its lifecycle will check it. */
async function readGold(campaign: RatingCampaign, items: ReturnType<typeof activitiesFor>['items']): Promise<CampaignGoldItem[]> {
  const { plan } = campaign;
  if (plan.gold !== undefined) return plan.gold;
  const gold: CampaignGoldItem[] = [];
  while (gold.length < (plan.goldCount ?? 0)) {
    const page = await items.readCampaignItems({ itemsRef: plan.goldRef as string, offset: gold.length, limit: ITEM_PAGE });
    if (page.length === 0) throw invalidCampaignInput([`goldRef: the stored gold list ends at ${gold.length} of goldCount ${plan.goldCount}`]);
    gold.push(...(page as CampaignGoldItem[]));
  }
  const errors = gold.flatMap((g, i) => goldItemErrors(plan, g, campaign.deadlineAtMs, Date.now()).map((e) => `gold[${i}].${e}`));
  if (errors.length > 0) throw invalidCampaignInput(errors);
  return gold;
}

/**
 * Starts every gold lifecycle with no quota and a data item's deadline (itemDeadline, else the campaign's),
 * so its deadline does not give it away; an id that exists is adopted, any other failure leaves that gold item out.
 */
async function startGold(campaign: RatingCampaign, gold: CampaignGoldItem[]): Promise<void> {
  await Promise.all(gold.map((g, i) => {
    const lifecycleId = goldLifecycleId(campaign.campaignId, campaign.plan.itemCount, i);
    campaign.quality.goldStarted(i, lifecycleId);
    return startChild(WORKFLOW_TYPE, {
      workflowId: lifecycleId,
      args: [goldChildInput(campaign.plan, g, itemDeadlineAt(campaign.plan, campaign.deadlineAtMs, Date.now()))],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      memo: { campaignId: campaign.campaignId, gold: i },
    }).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return campaign.report({ lifecycleId, kind: 'opened' });
        log.warn('a gold lifecycle could not start', { lifecycleId, error: String(err) });
        return campaign.report({ lifecycleId, kind: 'failed', message: String(err) });
      },
    );
  }));
}

/** Starts up to START_BATCH children (while room and items last); an invalid item ends at once, never started. */
async function startBatch(campaign: RatingCampaign): Promise<void> {
  const starts: Array<Promise<void>> = [];
  while (starts.length < START_BATCH && campaign.mayStart(Date.now()) && !campaign.needsPage()) {
    const { index, item, lifecycleId } = campaign.takeItem();
    const now = Date.now();
    const errors = itemErrors(campaign.plan, item, campaign.deadlineAtMs, now);
    if (errors.length > 0) {
      campaign.endUnstarted(index, lifecycleId, 'invalid', `invalid item: ${errors.join('; ')}`.slice(0, 500));
      continue;
    }
    // Open before the start resolves: the child's first report may come in the same activation.
    campaign.started(index, lifecycleId);
    starts.push(startItem(campaign, index, item, lifecycleId, campaign.plan.responses));
  }
  await Promise.all(starts);
}

/**
 * Starts an item's lifecycle (it is open already: its first report may come in the activation that
 * resolves the start); an id that exists is adopted, any other failure ends the item.
 */
function startItem(campaign: RatingCampaign, index: number, item: CampaignItem, lifecycleId: string, responses: number, votesByCandidate?: number[]): Promise<void> {
  return startChild(WORKFLOW_TYPE, {
    workflowId: lifecycleId,
    args: [childInput(campaign.plan, item, itemDeadlineAt(campaign.plan, campaign.deadlineAtMs, Date.now()), responses, votesByCandidate)],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    memo: { campaignId: campaign.campaignId, item: index },
  }).then(
    () => undefined,
    (err: unknown) => {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        // Started before (a reset history, an id taken by hand): it reports here like any child.
        campaign.report({ lifecycleId, kind: 'opened' });
        return;
      }
      campaign.report({ lifecycleId, kind: 'failed', message: `could not start: ${String(err)}` });
    },
  );
}
