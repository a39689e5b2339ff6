/**
 * @module ratingLifecycle: one generation-to-rating lifecycle, durable end to end.
 *
 *   validate → generate (inference queue) → publish (channel) → collect votes until quorum,
 *   deadline or close → commit rows (ledger queue, exactly once) → close the post → summary.
 *
 * Votes live in workflow state (and so in history) from the moment they are accepted until the
 * ledger commit, so a worker crash or a server restart loses none. Long votings continue-as-new
 * with their events carried over.
 */
import {
  ActivityCancellationType,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ChannelActivities, InferenceActivities, LedgerActivities } from '../activities/types';
import type { PostedMessage } from '../channels/types';
import { deadlineAt as resolveDeadline, validateLifecycleInput } from './input';
import { INVALID_INPUT_ERROR, VoteRejection, closeSignal, statusQuery, voteSignal, voteUpdate } from './messages';
import { inferenceQueue, ledgerQueue } from './queues';
import { campaignKey, channelKey, modelKey, postRefsKey, statusKey } from './search-attributes';
import type {
  Candidate, CloseReason, LifecyclePhase, LifecyclePlan, LifecycleStatus, LifecycleSummary, VoteEvent, VoteReceipt, VoteRequest,
} from './types';
import { VoteTally, malformedVoteReason } from './vote-tally';


/** Votes per ledger activity call: keeps each payload far below Temporal's 2 MB limit. */
export const COMMIT_BATCH_SIZE = 500;

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

/** State carried across continue-as-new. */
export interface LifecycleCarry {
  plan: LifecyclePlan;
  startedAt: string;
  deadlineAt: string;
  candidates: Candidate[];
  events: VoteEvent[];
  lateVotesRefused: number;
  closeRequested: boolean;
  reminded?: boolean;
  posts?: PostedMessage[];
}

/** Channels whose post shows a live tally. */
const LIVE_POST_CHANNELS: ReadonlyArray<LifecyclePlan['channel']['kind']> = ['slack'];
/** At most one live-tally update per this interval (Slack allows ~1 message/s/channel; stay well below). */
export const LIVE_UPDATE_INTERVAL_MS = 5000;

/** The lifecycle's state and message handlers; the workflow function below reads like the steps. */
class RatingLifecycle {
  phase: LifecyclePhase = 'generating';
  candidates: Candidate[] = [];
  tally = new VoteTally([]);
  closeReason?: CloseReason;
  closeRequested = false;
  lateVotesRefused = 0;
  deadlineAtMs = 0;
  posts: PostedMessage[] = [];

  constructor(readonly lifecycleId: string, readonly plan: LifecyclePlan) {}

  get votingOpen(): boolean {
    return this.phase === 'voting' && this.closeReason === undefined;
  }

  openVoting(candidates: Candidate[], events: VoteEvent[] = []): void {
    this.candidates = candidates;
    this.tally = new VoteTally(candidates, events);
    this.phase = 'voting';
  }

  /** Synchronous checks that reject a vote before anything is written to history. */
  validateVote(request: VoteRequest): void {
    const malformed = malformedVoteReason(request);
    if (malformed) throw ApplicationFailure.nonRetryable(`malformed vote: ${malformed}`, VoteRejection.MalformedVote);
    // A repeated delivery of an accepted vote answers "duplicate" even after close.
    if (this.tally.isDuplicate(request.idempotencyKey)) return;
    if (this.closeReason !== undefined || this.phase === 'committing' || this.phase === 'completed') {
      throw ApplicationFailure.nonRetryable('voting closed', VoteRejection.VotingClosed);
    }
    if (this.phase !== 'voting') throw ApplicationFailure.nonRetryable('voting has not opened yet', VoteRejection.VotingNotOpen);
    if (!this.tally.hasCandidate(request.candidateId)) {
      throw ApplicationFailure.nonRetryable(`unknown candidate "${request.candidateId}"`, VoteRejection.UnknownCandidate);
    }
  }

  recordVote(request: VoteRequest): VoteReceipt {
    const { outcome } = this.tally.record(request, new Date().toISOString());
    return { outcome, candidate: this.tally.tallyOf(request.candidateId) };
  }

  /** Signals cannot be refused, so a bad or late one is counted and logged instead. */
  recordSignalledVote(request: VoteRequest): void {
    try {
      this.validateVote(request);
    } catch (err) {
      this.lateVotesRefused += 1;
      log.warn('vote signal refused', { reason: (err as Error).message, idempotencyKey: String(request?.idempotencyKey) });
      return;
    }
    this.recordVote(request);
  }

  setPosts(posts: PostedMessage[]): void {
    this.posts = posts;
    // Lets inbound channel events (a reaction on a message) find this lifecycle from any gateway.
    if (posts.length > 0) upsertSearchAttributes([{ key: postRefsKey, value: posts.map((p) => p.ref) }]);
  }

  ratersWhoVoted(): string[] {
    return [...new Set(this.tally.allEvents().map((e) => e.rater))].sort();
  }

  shouldStopVoting(): boolean {
    return this.closeRequested || this.tally.quorumReached(this.plan.quorum);
  }

  close(reason: CloseReason): void {
    this.closeReason ??= reason;
  }

  status(): LifecycleStatus {
    return {
      lifecycleId: this.lifecycleId,
      prompt: this.plan.prompt,
      phase: this.phase,
      channel: this.plan.channelLabel,
      models: this.plan.models,
      ...(this.plan.campaign !== undefined ? { campaign: this.plan.campaign } : {}),
      ...(this.plan.modelVersion !== undefined ? { modelVersion: this.plan.modelVersion } : {}),
      quorum: this.plan.quorum,
      ...(this.deadlineAtMs ? { deadlineAt: new Date(this.deadlineAtMs).toISOString() } : {}),
      candidates: this.candidates.map((c) => ({
        id: c.id, label: c.label, model: c.model, kind: c.kind, placeholder: c.placeholder,
        ...(c.text !== undefined ? { text: c.text } : {}),
        artifact: { sha256: c.artifact.sha256, mime: c.artifact.mime, size: c.artifact.size },
        tally: this.tally.tallyOf(c.id),
      })),
      votesAccepted: this.tally.accepted,
      ...(this.closeReason !== undefined ? { closeReason: this.closeReason } : {}),
      ...(this.posts.length > 0 ? { posts: this.posts } : {}),
    };
  }

  register(): void {
    setHandler(statusQuery, () => this.status());
    setHandler(voteUpdate, (request) => this.recordVote(request), { validator: (request) => this.validateVote(request) });
    setHandler(voteSignal, (request) => this.recordSignalledVote(request));
    setHandler(closeSignal, () => {
      this.closeRequested = true;
    });
  }
}

function planOrFail(input: unknown): LifecyclePlan {
  const result = validateLifecycleInput(input, Date.now());
  if (!result.ok) {
    throw ApplicationFailure.create({
      type: INVALID_INPUT_ERROR,
      nonRetryable: true,
      message: `invalid lifecycle input: ${result.errors.join('; ')}`,
      details: [result.errors],
    });
  }
  return result.plan;
}

function setStatusAttribute(phase: LifecyclePhase | 'failed'): void {
  upsertSearchAttributes([{ key: statusKey, value: phase }]);
}

export async function ratingLifecycle(input: unknown, carry?: LifecycleCarry): Promise<LifecycleSummary> {
  const info = workflowInfo();
  const { inference, channel, ledger } = activitiesFor(info.taskQueue);
  const plan = carry?.plan ?? planOrFail(input);
  const lifecycle = new RatingLifecycle(info.workflowId, plan);
  lifecycle.register();
  upsertSearchAttributes([
    { key: channelKey, value: plan.channel.kind },
    { key: modelKey, value: plan.models },
    ...(plan.campaign !== undefined ? [{ key: campaignKey, value: plan.campaign }] : []),
  ]);

  const startedAt = carry?.startedAt ?? new Date().toISOString();
  lifecycle.deadlineAtMs = carry ? Date.parse(carry.deadlineAt) : resolveDeadline(plan.deadline, Date.parse(startedAt));
  lifecycle.lateVotesRefused = carry?.lateVotesRefused ?? 0;
  lifecycle.closeRequested = carry?.closeRequested ?? false;

  if (carry) {
    lifecycle.setPosts(carry.posts ?? []);
    lifecycle.openVoting(carry.candidates, carry.events);
  } else {
    // 1–2. Generate the candidates, then put them in front of raters.
    setStatusAttribute('generating');
    const candidates = await inference.generateCandidates({
      lifecycleId: info.workflowId,
      prompt: plan.prompt,
      models: plan.models,
      candidatesPerModel: plan.candidatesPerModel,
      params: plan.params,
    });
    lifecycle.phase = 'publishing';
    const post = await channel.publishLifecycle({ lifecycleId: info.workflowId, plan, candidates, deadlineAt: new Date(lifecycle.deadlineAtMs).toISOString() });
    lifecycle.setPosts(post.messages ?? []);
    lifecycle.openVoting(candidates);
  }
  setStatusAttribute('voting');

  // 3. Collect votes until quorum, deadline or a close signal; keep a live post current and remind
  //    non-voters on channels that do those.
  const live = LIVE_POST_CHANNELS.includes(plan.channel.kind);
  let postedVersion = lifecycle.tally.accepted;
  let reminded = carry?.reminded ?? false;
  const reminderAt = plan.remindBeforeMs !== undefined ? lifecycle.deadlineAtMs - plan.remindBeforeMs : undefined;
  const mustStop = () => lifecycle.shouldStopVoting() || workflowInfo().continueAsNewSuggested;
  const tallyChanged = () => live && lifecycle.tally.accepted !== postedVersion;
  let stoppedEarly: boolean;
  for (;;) {
    const now = Date.now();
    if (lifecycle.deadlineAtMs - now <= 0) {
      stoppedEarly = lifecycle.shouldStopVoting();
      break;
    }
    if (reminderAt !== undefined && !reminded && now >= reminderAt) {
      await channel.remindRaters({
        lifecycleId: info.workflowId,
        plan,
        deadlineAt: new Date(lifecycle.deadlineAtMs).toISOString(),
        ratersWhoVoted: lifecycle.ratersWhoVoted(),
      });
      reminded = true;
      continue;
    }
    const wakeAt = reminderAt !== undefined && !reminded ? Math.min(reminderAt, lifecycle.deadlineAtMs) : lifecycle.deadlineAtMs;
    const woke = await condition(() => mustStop() || tallyChanged(), wakeAt - now);
    if (mustStop()) {
      stoppedEarly = true;
      break;
    }
    if (!woke) continue; // the reminder is due or the deadline passed: the loop head decides
    if (tallyChanged()) {
      postedVersion = lifecycle.tally.accepted;
      await channel.updatePost({ lifecycleId: info.workflowId, plan, tally: lifecycle.tally.tallies(), votesAccepted: lifecycle.tally.accepted });
      // Throttle, but never delay closing.
      await condition(mustStop, LIVE_UPDATE_INTERVAL_MS);
    }
  }
  if (stoppedEarly && !lifecycle.shouldStopVoting()) {
    // History is getting long: carry the votes into a fresh run once in-flight handlers finish.
    await condition(allHandlersFinished);
    await continueAsNew<typeof ratingLifecycle>(input, {
      plan,
      startedAt,
      deadlineAt: new Date(lifecycle.deadlineAtMs).toISOString(),
      candidates: lifecycle.candidates,
      events: [...lifecycle.tally.allEvents()],
      lateVotesRefused: lifecycle.lateVotesRefused,
      closeRequested: lifecycle.closeRequested,
      reminded,
      posts: lifecycle.posts,
    });
  }
  lifecycle.close(!stoppedEarly ? 'deadline' : lifecycle.closeRequested ? 'closed' : 'quorum');
  await condition(allHandlersFinished);

  // 4. Commit every accepted vote event to the ledger, exactly once.
  lifecycle.phase = 'committing';
  setStatusAttribute('committing');
  const events = lifecycle.tally.allEvents();
  const closedAt = new Date().toISOString();
  let rowsCommitted = 0;
  for (let offset = 0; offset === 0 || offset < events.length; offset += COMMIT_BATCH_SIZE) {
    const batch = events.slice(offset, offset + COMMIT_BATCH_SIZE);
    const result = await ledger.commitLifecycle({
      lifecycle: {
        lifecycleId: info.workflowId,
        runId: info.firstExecutionRunId,
        plan,
        startedAt,
        deadlineAt: new Date(lifecycle.deadlineAtMs).toISOString(),
        closedAt,
        closeReason: lifecycle.closeReason as CloseReason,
        votesAccepted: events.length,
      },
      candidates: offset === 0 ? lifecycle.candidates : [],
      votes: batch.map((event) => ({ ...event, standing: lifecycle.tally.isStanding(event.idempotencyKey) })),
    });
    rowsCommitted = result.voteRowsForLifecycle;
  }

  // 5. Tell raters the outcome where the channel shows one.
  const tally = lifecycle.tally.tallies();
  await channel.closePost({ lifecycleId: info.workflowId, plan, closeReason: lifecycle.closeReason as CloseReason, tally });
  lifecycle.phase = 'completed';
  setStatusAttribute('completed');

  // 6. The summary ops see in the UI.
  return {
    lifecycleId: info.workflowId,
    closeReason: lifecycle.closeReason as CloseReason,
    tally,
    votesAccepted: events.length,
    rowsCommitted,
    lateVotesRefused: lifecycle.lateVotesRefused,
  };
}
