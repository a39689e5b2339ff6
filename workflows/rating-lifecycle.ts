/**
 * @module ratingLifecycle: one generation-to-rating lifecycle, durable end to end. Its steps:
 *
 *   1. start: validate the input, or resume the voting a previous run carried over;
 *   2. generate the candidates (inference queue);
 *   3. publish them to raters (the channel);
 *   4. collect votes until quorum, deadline or close; continue-as-new when history grows long,
 *      committing the votes so far first;
 *   5. commit every accepted vote event to the ledger (ledger queue), exactly once;
 *   6. close the post: tell raters the outcome where the channel shows one;
 *   7. return the summary ops see in the UI.
 *
 * Votes live in workflow state (and so in history) from the moment they are accepted until the
 * ledger commit, so a worker crash or a server restart loses none. The state and the message handlers
 * live in `RatingLifecycle` (lifecycle-state.ts); this file issues the commands.
 *
 * Bounded history (the `bounded-history` patch): a lifecycle may take 10,000 votes or more with
 * 2,000-character comments, far more than one continue-as-new payload (2 MB) can hold. So before
 * continuing as new, a run commits its votes to the ledger in increments (batches of at most
 * COMMIT_BATCH_BYTES), under a lifecycle row that is not closed yet, which keeps them out of
 * "complete" and out of releases. The next run gets only the compact voting state (VotingState:
 * a 64-bit digest per accepted key, the standing event per rater and candidate, counters), about
 * 11 bytes a vote plus 30 a (rater, candidate) pair, and the few uncommitted votes that arrived
 * during the last increment. Commits are idempotent by (first run id, idempotency key), so a crash
 * or retry anywhere commits each vote once; the close commits the rest, clears the standing flags of
 * committed votes the raters changed since, and completes the lifecycle. The server's suggestion to
 * continue as new covers history events, history bytes and the 2,000 updates a run may take.
 *
 * One channel per lifecycle (the `one-channel-per-lifecycle` patch): the validator refuses a vote
 * that came through another channel than the lifecycle's (VOTE_CHANNELS); a signalled one is counted
 * in `wrongChannelVotesRefused`.
 *
 * castAt in RFC 3339 form (the `iso-cast-at` patch, isCastAt): the validator refuses any other castAt
 * as malformed, and a signalled one is refused and not counted, so no vote the ledger cannot store
 * stops the lifecycle's commits. Replays of histories from before each change keep the old rules.
 *
 * Judgements (compare lifecycles, issue 14): the `judge` update and `judge-signal` signal take a rater's
 * answer to "which of the two is better?", with the votes' rules (one dedupe space and one sequence for
 * both, per-rater latest stands, every event committed in the same increments and carried the same
 * compact way). A compare lifecycle closes on `responses` standing judgements. Brought candidates are
 * ingested instead of generated. Neither changes a command of a thumbs lifecycle that takes no
 * judgements, so histories from before them replay unchanged without a patch.
 */
import {
  ActivityCancellationType,
  CancellationScope,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChannelActivities, InferenceActivities, LedgerActivities } from '../activities/types';
import type { PostRef, PostedMessage } from '../channels/types';
import { campaignOf, reportToCampaign } from './campaign-child';
import { currentDetails } from './describe';
import { validateLifecycleInput } from './input';
import {
  invalidInput, isCarry, thresholdErrors,
  type LifecycleCarry, type LifecycleRules, type LifecycleStart, type LifecycleThresholds, type VotingOutcome,
} from './lifecycle-carry';
import { RatingLifecycle } from './lifecycle-state';
import { countClosed, countContinuedAsNew, countPhase, voteCounters } from './metrics';
import { inferenceQueue, ledgerQueue } from './queues';
import { campaignKey, channelKey, modelKey, postRefsKey, statusKey } from './search-attributes';
import type { CampaignItemReport, LifecyclePhase, LifecyclePlan, LifecycleSummary } from './types';

export { COMMIT_BATCH_SIZE } from './lifecycle-commits';
export { LIVE_UPDATE_INTERVAL_MS } from './lifecycle-carry';

/** patched() ids: histories recorded before each change replay with the old behaviour. */
export const BOUNDED_HISTORY_PATCH = 'bounded-history';
export const ONE_CHANNEL_PATCH = 'one-channel-per-lifecycle';
export const ISO_CAST_AT_PATCH = 'iso-cast-at';
export type { LifecycleCarry, LifecycleStart, LifecycleThresholds } from './lifecycle-carry';

/** One proxy group per timeout/retry profile, bound to queues derived from the lifecycle's own queue. */
function activitiesFor(baseQueue: string) {
  // Inference: long, heartbeating (a retry resumes from heartbeat details), on GPU-side workers.
  const inference = proxyActivities<InferenceActivities>({
    taskQueue: inferenceQueue(baseQueue),
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '30 seconds',
    // A cancelled lifecycle waits for the activity to cancel its remote prediction (it sees CANCELLED,
    // not NOT_FOUND, which it treats like a superseded attempt and leaves the prediction running).
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  });
  // Channel posts: short calls to Slack/SMTP/web; idempotent by lifecycle id.
  const channel = proxyActivities<ChannelActivities>({
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
  });
  // The ledger: the single DuckDB writer. Retries without limit: accepted votes must reach it.
  // It heartbeats, so a crashed ledger worker is noticed in seconds, not at the start-to-close timeout.
  const ledger = proxyActivities<LedgerActivities>({
    taskQueue: ledgerQueue(baseQueue),
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30 seconds' },
  });
  return { inference, channel, ledger };
}

/**
 * Channels told of an assigned lifecycle all the same: they hand its items out later from what publish
 * records (email's digests read the candidates), and mail nobody now. Others are not called at all.
 */
const ASSIGNED_RECORDING_CHANNELS: ReadonlyArray<LifecyclePlan['channel']['kind']> = ['email'];

/** Channels whose post shows a live tally. */
const LIVE_POST_CHANNELS: ReadonlyArray<LifecyclePlan['channel']['kind']> = ['slack'];

/** A new lifecycle from its validated arguments; bad ones fail it at once, naming every problem. */
function startOrFail(lifecycleId: string, input: unknown, start: LifecycleStart | null | undefined, rules: LifecycleRules): RatingLifecycle {
  const result = validateLifecycleInput(input, Date.now());
  const errors = [...(result.ok ? [] : result.errors), ...thresholdErrors(start)];
  if (!result.ok || errors.length > 0) throw invalidInput(errors);
  return RatingLifecycle.start(lifecycleId, result.plan, start?.thresholds ?? {}, Date.now(), rules);
}

function setFilterAttributes(plan: LifecyclePlan): void {
  upsertSearchAttributes([
    { key: channelKey, value: plan.channel.kind },
    { key: modelKey, value: plan.models },
    ...(plan.campaign !== undefined ? [{ key: campaignKey, value: plan.campaign }] : []),
  ]);
}

/** Lets inbound channel events (a reaction on a message) find this lifecycle from any gateway. */
function setPostRefsAttribute(posts: PostedMessage[]): void {
  if (posts.length > 0) upsertSearchAttributes([{ key: postRefsKey, value: posts.map((p) => p.ref) }]);
}

function setStatusAttribute(phase: LifecyclePhase | 'failed'): void {
  upsertSearchAttributes([{ key: statusKey, value: phase }]);
}

/**
 * The Temporal UI's current details of this lifecycle (not a command: nothing in history changes).
 * A vote refreshes the phase and the votes accepted; the tally is shown when a phase begins. Both are
 * cheap: the tally keeps its counts as votes arrive (VoteTally), so nothing here walks the votes.
 */
function showDetails(lifecycle: RatingLifecycle, options: { tally: boolean }): void {
  const { plan, phase, candidates, closeReason } = lifecycle;
  const tallies = options.tally ? lifecycle.tally.tallies() : [];
  const judged = options.tally && plan.task === 'compare' ? lifecycle.judgementCounts() : undefined;
  setCurrentDetails(currentDetails(plan, {
    phase,
    votesAccepted: lifecycle.eventsAccepted,
    deadlineAt: lifecycle.deadlineAt,
    ...(closeReason !== undefined ? { closeReason } : {}),
    ...(options.tally ? { tally: candidates.map((c, i) => ({ label: c.label, model: c.model, up: tallies[i]?.up ?? 0, down: tallies[i]?.down ?? 0 })) } : {}),
    ...(judged !== undefined
      ? { judgements: { wins: candidates.map((c) => ({ label: c.label, model: c.model, wins: judged.byCandidate[c.id] ?? 0 })), tie: judged.tie, bothBad: judged.bothBad } }
      : {}),
  }));
}

/**
 * A phase begins: counted (once per lifecycle, so not again in a continued run), shown in the UI,
 * and, for the phases ops filter on, recorded in the status search attribute.
 */
function enterPhase(lifecycle: RatingLifecycle, phase: LifecyclePhase, options: { attribute: boolean; counted: boolean }): void {
  if (options.attribute) setStatusAttribute(phase);
  if (options.counted) countPhase(lifecycle.plan.channel.kind, phase);
  showDetails(lifecycle, { tally: true });
}

/** Every vote decision is counted; an accepted one also refreshes the UI's vote count. */
function observeVotes(lifecycle: RatingLifecycle): void {
  const counters = voteCounters(lifecycle.plan.channel.kind);
  lifecycle.observer = {
    voteAccepted(outcome) {
      counters.voteAccepted(outcome);
      showDetails(lifecycle, { tally: false });
    },
    voteRefused: (reason) => counters.voteRefused(reason),
  };
}

/** Whether this run's history is long enough to carry the voting into a fresh run. */
function historyIsLong(thresholds: LifecycleThresholds): boolean {
  const info = workflowInfo();
  const limit = thresholds.continueAsNewAfterEvents;
  return info.continueAsNewSuggested || (limit !== undefined && info.historyLength >= limit);
}

/**
 * Step 4: waits for votes until quorum, the deadline, a close request, or a long history. Meanwhile it
 * keeps a live post current (throttled, never delaying the close) and reminds non-voters once, on
 * channels that do those.
 */
async function collectVotes(lifecycle: RatingLifecycle, channel: ChannelActivities, commitIncrement: () => Promise<void>): Promise<VotingOutcome> {
  const { lifecycleId, plan, deadlineAtMs, reminderAtMs } = lifecycle;
  // An assigned lifecycle has no post to keep current, and nobody to remind but through its campaign.
  const assigned = plan.delivery === 'assigned';
  const live = !assigned && LIVE_POST_CHANNELS.includes(plan.channel.kind);
  let postedVersion = lifecycle.eventsAccepted;
  const mustStop = () => lifecycle.stopReason() !== undefined || historyIsLong(lifecycle.thresholds);
  const tallyChanged = () => live && lifecycle.eventsAccepted !== postedVersion;
  // Never due without the bounded-history patch, so older histories see the same commands.
  const incrementDue = () => lifecycle.incrementDue();
  for (;;) {
    const now = Date.now();
    if (deadlineAtMs - now <= 0) return lifecycle.stopReason() ?? 'deadline';
    const reminderDue = !assigned && reminderAtMs !== undefined && !lifecycle.reminded;
    if (reminderDue && now >= reminderAtMs) {
      await channel.remindRaters({ lifecycleId, plan, deadlineAt: lifecycle.deadlineAt, ratersWhoVoted: lifecycle.ratersWhoVoted() });
      lifecycle.markReminded();
      continue;
    }
    const wakeAt = reminderDue ? Math.min(reminderAtMs, deadlineAtMs) : deadlineAtMs;
    const woke = await condition(() => mustStop() || tallyChanged() || incrementDue(), wakeAt - now);
    if (mustStop()) return lifecycle.stopReason() ?? 'continue';
    if (incrementDue()) {
      await commitIncrement();
      continue;
    }
    if (!woke) continue; // the reminder is due or the deadline passed: the loop head decides
    if (tallyChanged()) {
      postedVersion = lifecycle.eventsAccepted;
      const judgements = lifecycle.judgementCounts();
      await channel.updatePost({ lifecycleId, plan, tally: lifecycle.tally.tallies(), votesAccepted: lifecycle.eventsAccepted, ...(judgements ? { judgements } : {}) });
      // Throttle, but never delay closing; increments go on meanwhile.
      const throttleEndsAt = Date.now() + lifecycle.liveUpdateIntervalMs;
      for (let left = lifecycle.liveUpdateIntervalMs; left > 0; left = throttleEndsAt - Date.now()) {
        await condition(() => mustStop() || incrementDue(), left);
        if (mustStop() || !incrementDue()) break;
        await commitIncrement();
      }
    }
  }
}

/**
 * Before continue-as-new: commits the oldest uncommitted votes, batch by batch, until what is left
 * fits the carry (increments while voting leave at most about one batch for this).
 */
async function commitIncrements(lifecycle: RatingLifecycle, ledger: LedgerActivities, runId: string): Promise<void> {
  while (lifecycle.mustCommitBeforeContinuing()) await commitIncrement(lifecycle, ledger, runId);
}

/** One increment: the oldest uncommitted votes, committed while voting goes on. */
async function commitIncrement(lifecycle: RatingLifecycle, ledger: LedgerActivities, runId: string): Promise<void> {
  const request = lifecycle.incrementRequest(runId);
  await ledger.commitLifecycle(request);
  lifecycle.incrementCommitted(request);
}

/**
 * A lifecycle a campaign started (workflows/rating-campaign.ts) reports to it (campaign-child.ts),
 * a failure too; any other lifecycle runs exactly as it always did.
 */
export async function ratingLifecycle(input: unknown, carry?: LifecycleCarry | LifecycleStart | null): Promise<LifecycleSummary> {
  const campaignId = campaignOf();
  if (campaignId === undefined) return runLifecycle(input, carry);
  try {
    return await runLifecycle(input, carry, campaignId);
  } catch (err) {
    if (!(err instanceof ContinueAsNew)) {
      // Also when the lifecycle was cancelled: in the cancelled scope the signal would be refused at once,
      // and the campaign would hold the item open until its deadline.
      const failed: CampaignItemReport = { lifecycleId: workflowInfo().workflowId, kind: 'failed', message: err instanceof Error ? err.message : String(err) };
      await CancellationScope.nonCancellable(() => reportToCampaign(campaignId, failed));
    }
    throw err;
  }
}

async function runLifecycle(input: unknown, carry: LifecycleCarry | LifecycleStart | null | undefined, campaignId?: string): Promise<LifecycleSummary> {
  const info = workflowInfo();
  const { inference, channel, ledger } = activitiesFor(info.taskQueue);
  const rules: LifecycleRules = {
    boundedHistory: patched(BOUNDED_HISTORY_PATCH), oneChannel: patched(ONE_CHANNEL_PATCH), isoCastAt: patched(ISO_CAST_AT_PATCH),
  };

  // 1. Start: validate the input (a bad one fails here, before any activity), or resume a carried voting.
  // Only continue-as-new hands over a carried state: one passed to a first run would skip validation.
  const resumed = isCarry(carry);
  if (resumed && info.continuedFromExecutionRunId === undefined) {
    throw invalidInput(['second argument: a carried voting state is only accepted from continue-as-new; start with {"thresholds": {…}} or nothing']);
  }
  const lifecycle = resumed ? RatingLifecycle.resume(info.workflowId, carry, rules) : startOrFail(info.workflowId, input, carry, rules);
  observeVotes(lifecycle);
  // A campaign's child knows it is one before its handlers take anything: answers buffered for a run's
  // first task (a retry that reached the run after a continue-as-new) are dispatched inside register(),
  // and must meet the quota, the answer form and the report to the campaign like any other.
  const report = campaignId === undefined ? undefined : (r: CampaignItemReport) => reportToCampaign(campaignId, r);
  if (report) {
    lifecycle.campaignChild = {
      onAnswer: (rater, progress, seq, choice, reported) => void report({ lifecycleId: info.workflowId, kind: 'answer', rater, progress, seq, choice, reported }),
      onGold: (rater, correct) => void report({ lifecycleId: info.workflowId, kind: 'gold', rater, correct }),
    };
  }
  lifecycle.register();
  setFilterAttributes(lifecycle.plan);

  if (resumed) {
    setPostRefsAttribute(lifecycle.posts);
  } else {
    // 2. Generate the candidates, or bring in the ones the input names (no inference).
    enterPhase(lifecycle, 'generating', { attribute: true, counted: true });
    const ingest = lifecycle.ingestRequest();
    const candidates = ingest !== undefined ? await inference.ingestCandidates(ingest) : await inference.generateCandidates(lifecycle.generateRequest());
    // 3. Publish them to raters; an assigned lifecycle is posted nowhere (its campaign hands it out).
    lifecycle.startPublishing();
    enterPhase(lifecycle, 'publishing', { attribute: false, counted: true });
    const { plan } = lifecycle;
    const post: PostRef = plan.delivery === 'assigned' && !ASSIGNED_RECORDING_CHANNELS.includes(plan.channel.kind)
      ? { channel: lifecycle.plan.channelLabel }
      : await channel.publishLifecycle({ lifecycleId: info.workflowId, plan: lifecycle.plan, candidates, deadlineAt: lifecycle.deadlineAt });
    setPostRefsAttribute(post.messages ?? []);
    lifecycle.openVoting(candidates, post.messages ?? []);
    await report?.({ lifecycleId: info.workflowId, kind: 'opened' });
  }
  enterPhase(lifecycle, 'voting', { attribute: true, counted: !resumed });

  // 4. Collect votes; a long history carries them into a fresh run once in-flight handlers finish.
  const outcome = await collectVotes(lifecycle, channel, () => commitIncrement(lifecycle, ledger, info.firstExecutionRunId));
  if (outcome === 'continue') {
    lifecycle.continuing = true;
    await commitIncrements(lifecycle, ledger, info.firstExecutionRunId);
    await condition(allHandlersFinished);
    countContinuedAsNew(lifecycle.plan.channel.kind);
    return continueAsNew<typeof ratingLifecycle>(input, lifecycle.toCarry());
  }
  lifecycle.close(outcome);
  countClosed(lifecycle.plan.channel.kind, lifecycle.closedWith());
  await condition(allHandlersFinished);

  // 5. Commit every accepted vote event to the ledger, exactly once.
  lifecycle.startCommitting();
  enterPhase(lifecycle, 'committing', { attribute: true, counted: true });
  let rowsCommitted = 0;
  for (const request of lifecycle.commitRequests(info.firstExecutionRunId, new Date().toISOString())) {
    const committed = await ledger.commitLifecycle(request);
    rowsCommitted = committed.voteRowsForLifecycle + (committed.judgementRowsForLifecycle ?? 0);
  }

  // 6. Close the post: tell raters the outcome where the channel shows one (an assigned lifecycle has none).
  const judgements = lifecycle.judgementCounts();
  if (lifecycle.plan.delivery !== 'assigned') await channel.closePost({ lifecycleId: info.workflowId, plan: lifecycle.plan, closeReason: lifecycle.closedWith(), tally: lifecycle.tally.tallies(), ...(judgements ? { judgements } : {}) });
  lifecycle.complete();
  enterPhase(lifecycle, 'completed', { attribute: true, counted: true });

  // 7. The summary ops see in the UI (and the campaign, if one started this lifecycle).
  await report?.({ lifecycleId: info.workflowId, kind: 'closed', closeReason: lifecycle.closedWith(), progress: lifecycle.progress(), votesAccepted: lifecycle.eventsAccepted,
    ...(lifecycle.answersReported > 0 ? { answersReported: lifecycle.answersReported } : {}) });
  return lifecycle.summary(rowsCommitted);
}
