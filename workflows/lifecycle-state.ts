/**
 * The state of one rating lifecycle and its message handlers, as a deterministic class (the
 * cluster-manager pattern): `ratingLifecycle` creates it with `start` or `resume`, moves it through
 * its phases, and hands `toCarry()` to continue-as-new. Only handler registration and logging touch
 * the workflow API here; every command (activities, timers, search attributes) is issued by the
 * workflow function. Whether a vote or judgement is taken is lifecycle-acceptance.ts; the status
 * query's view and the counts receipts carry are lifecycle-status.ts.
 */
import { ApplicationFailure, log, setHandler } from '@temporalio/workflow';
import type { CommitRequest, GenerateCandidatesRequest, IngestCandidatesRequest } from '../activities/types';
import type { PostedMessage } from '../channels/types';
import { campaignProgress, judgementChoice, voteChoice } from './campaign-child';
import { DIGEST_BYTES } from './compact';
import { judgementVerdict, voteVerdict } from './gold';
import { deadlineAt } from './input';
import { JudgementTally } from './judgement-tally';
import { checkJudgement, checkVote, goldNoopWithdrawal, takeHandOut } from './lifecycle-acceptance';
import { HandedRaters } from './lifecycle-handed';
import { ALL_RULES, LIVE_UPDATE_INTERVAL_MS, type LifecycleCarry, type LifecycleRules, type LifecycleThresholds } from './lifecycle-carry';
import { COMMIT_BATCH_BYTES, COMMIT_BATCH_SIZE, MAX_CARRIED_EVENT_BYTES, eventBytes, finalCommitRequests, incrementRequest } from './lifecycle-commits';
import { lifecycleStatus, receiptJudgements, receiptTally } from './lifecycle-status';
import { VoteRejection, closeSignal, itemHandedSignal, judgeSignal, judgeUpdate, statusQuery, voteSignal, voteUpdate } from './messages';
import type {
  CampaignChoice, Candidate, CloseReason, GoldVerdict, JudgementCounts, JudgementReceipt, JudgementRequest, LifecyclePhase, LifecyclePlan, LifecycleStatus, LifecycleSummary,
  VoteOutcomeKind, VoteReceipt, VoteRequest,
} from './types';
import { RATER_PATTERN, SLOT_BYTES, VoteTally } from './vote-tally';

export { MAX_VOTING_STATE_BYTES } from './lifecycle-acceptance';
export * from './lifecycle-carry';
export { COMMIT_BATCH_BYTES, COMMIT_BATCH_SIZE, MAX_CARRIED_EVENT_BYTES } from './lifecycle-commits';

/** Told of every vote and judgement decision, by update or signal (the workflow counts them: workflows/metrics.ts). */
export interface VoteObserver {
  voteAccepted(outcome: VoteOutcomeKind): void;
  /** `reason` is the rejection's failure type (a VoteRejection code). */
  voteRefused(reason: string): void;
}

const UNOBSERVED: VoteObserver = { voteAccepted: () => undefined, voteRefused: () => undefined };

export class RatingLifecycle {
  phase: LifecyclePhase = 'generating';
  candidates: Candidate[] = [];
  tally = new VoteTally([]);
  /** Judgements: on compare lifecycles, and on two-candidate thumbs lifecycles (A/B answers). */
  judgements = new JudgementTally([]);
  closeReason?: CloseReason;
  closeRequested = false;
  lateVotesRefused = 0;
  wrongChannelVotesRefused = 0;
  reminded = false;
  /** Answer reports this lifecycle sent its campaign, every run's: each carries the count, so the campaign knows when it has heard them all. */
  answersReported = 0;
  /** This run has decided to continue as new: updates are refused as RunContinuing (bounded history). */
  continuing = false;
  /** Bytes of the uncommitted events in a ledger call (eventBytes), kept as votes come and go. */
  private uncommittedBytes = 0;
  posts: PostedMessage[] = [];
  /** Assigned lifecycles: the raters their campaign handed them to (the `handed` signal) who have not answered yet (lifecycle-handed.ts). */
  handedTo = new HandedRaters();
  observer: VoteObserver = UNOBSERVED;
  /**
   * Set on a campaign's child lifecycle (ratingLifecycle does): it refuses an answer that would stand
   * beyond the item's quota (LifecycleFull), so answers arriving together at the quota never overflow,
   * and tells the campaign of every answer that changes what stands.
   */
  campaignChild?: {
    /** `reported`: this report's number among the lifecycle's answer reports, from 1 (signals can overtake each other). */
    onAnswer: (rater: string, progress: number, seq: number, choice: CampaignChoice, reported: number) => void;
    /** A gold lifecycle's report instead: a rater's first (and only) answer, scored. */
    onGold?: (rater: string, correct: boolean) => void;
  };

  private constructor(
    readonly lifecycleId: string,
    readonly plan: LifecyclePlan,
    readonly startedAt: string,
    readonly deadlineAtMs: number,
    readonly thresholds: LifecycleThresholds,
    readonly rules: LifecycleRules,
  ) {}

  /** A new lifecycle; `now` is workflow time. */
  static start(lifecycleId: string, plan: LifecyclePlan, thresholds: LifecycleThresholds, now: number, rules: LifecycleRules = ALL_RULES): RatingLifecycle {
    const startedAt = new Date(now).toISOString();
    return new RatingLifecycle(lifecycleId, plan, startedAt, deadlineAt(plan.deadline, Date.parse(startedAt)), thresholds, rules);
  }

  /** The voting a previous run carried over, exactly as it left it. */
  static resume(lifecycleId: string, carry: LifecycleCarry, rules: LifecycleRules = ALL_RULES): RatingLifecycle {
    const lifecycle = new RatingLifecycle(lifecycleId, carry.plan, carry.startedAt, Date.parse(carry.deadlineAt), carry.thresholds ?? {}, rules);
    lifecycle.lateVotesRefused = carry.lateVotesRefused;
    lifecycle.wrongChannelVotesRefused = carry.wrongChannelVotesRefused ?? 0;
    lifecycle.closeRequested = carry.closeRequested;
    lifecycle.reminded = carry.reminded ?? false;
    lifecycle.answersReported = carry.answersReported ?? 0;
    lifecycle.candidates = carry.candidates;
    lifecycle.posts = carry.posts ?? [];
    lifecycle.handedTo = new HandedRaters(carry.handed);
    lifecycle.tally = new VoteTally(carry.candidates, carry.events, carry.voting);
    const judgementEvents = carry.judgementEvents ?? [];
    lifecycle.judgements = new JudgementTally(carry.candidates, judgementEvents, carry.judging);
    lifecycle.uncommittedBytes = [...carry.events, ...judgementEvents].reduce((n, e) => n + eventBytes(e), 0);
    lifecycle.phase = 'voting';
    return lifecycle;
  }

  toCarry(): LifecycleCarry {
    // Raters are needed only for a reminder still to come.
    const withRaters = this.reminderAtMs !== undefined && !this.reminded;
    const common = {
      plan: this.plan,
      startedAt: this.startedAt,
      deadlineAt: this.deadlineAt,
      candidates: this.candidates,
      events: [...this.tally.uncommittedEvents()],
    };
    // Only lifecycles that took judgements carry them: every other carry is what it was before judgements.
    const judged = this.judgements.accepted > 0;
    const rest = {
      ...(judged ? { judgementEvents: [...this.judgements.uncommittedEvents()] } : {}),
      lateVotesRefused: this.lateVotesRefused,
      closeRequested: this.closeRequested,
      reminded: this.reminded,
      ...(this.answersReported > 0 ? { answersReported: this.answersReported } : {}),
      posts: this.posts,
      ...(this.handedTo.size > 0 ? { handed: this.handedTo.toCarry() } : {}),
      ...(Object.keys(this.thresholds).length > 0 ? { thresholds: this.thresholds } : {}),
    };
    if (!this.rules.boundedHistory) return { ...common, ...rest };
    return {
      ...common,
      voting: this.tally.votingState({ withRaters }),
      ...(judged ? { judging: this.judgements.judgingState({ withRaters }) } : {}),
      ...rest,
      wrongChannelVotesRefused: this.wrongChannelVotesRefused,
    };
  }

  /** Bytes of the compact voting state as carried: the digests and slots in base64, of votes and judgements, and the pending hand-outs. */
  votingStateBytes(): number {
    const base64 = (bytes: number) => Math.ceil(bytes / 3) * 4;
    return base64(this.tally.accepted * DIGEST_BYTES) + base64(this.tally.slotCount * SLOT_BYTES)
      + base64(this.judgements.accepted * DIGEST_BYTES) + base64(this.judgements.slotCount * SLOT_BYTES) + this.handedTo.bytes;
  }

  /** Events accepted, votes and judgements: one sequence, whose next number is the next event's seq. */
  get eventsAccepted(): number {
    return this.tally.accepted + this.judgements.accepted;
  }

  get deadlineAt(): string {
    return new Date(this.deadlineAtMs).toISOString();
  }

  /** When non-voters are reminded, on lifecycles that remind. */
  get reminderAtMs(): number | undefined {
    return this.plan.remindBeforeMs !== undefined ? this.deadlineAtMs - this.plan.remindBeforeMs : undefined;
  }

  get liveUpdateIntervalMs(): number {
    return this.thresholds.liveUpdateIntervalMs ?? LIVE_UPDATE_INTERVAL_MS;
  }

  /** Whether the status and summary report judgements: compare lifecycles, and any lifecycle that took one. */
  get reportsJudgements(): boolean {
    return this.plan.task === 'compare' || this.judgements.accepted > 0;
  }

  /** The standing judgements, where the lifecycle reports them. */
  judgementCounts(): JudgementCounts | undefined {
    return this.reportsJudgements ? this.judgements.counted() : undefined;
  }

  generateRequest(): GenerateCandidatesRequest {
    const { prompt, models, candidatesPerModel, params } = this.plan;
    return { lifecycleId: this.lifecycleId, prompt, models, candidatesPerModel, params };
  }

  /** The ingest of brought candidates, for a plan that has them. */
  ingestRequest(): IngestCandidatesRequest | undefined {
    const { prompt, brought } = this.plan;
    return brought === undefined ? undefined : { lifecycleId: this.lifecycleId, prompt, brought };
  }

  startPublishing(): void {
    this.phase = 'publishing';
  }

  openVoting(candidates: Candidate[], posts: PostedMessage[]): void {
    this.candidates = candidates;
    this.posts = posts;
    this.tally = new VoteTally(candidates);
    this.judgements = new JudgementTally(candidates);
    this.phase = 'voting';
  }

  /** What a campaign counts of this item (campaign-child.ts). */
  progress(): number {
    return campaignProgress(this.plan.quorum, this.tally, this.judgements);
  }

  /** A campaign's child (gold or data): its quota counts and its release carries its campaign's task only. */
  isCampaignItem(): boolean {
    return this.campaignChild !== undefined || this.plan.gold !== undefined;
  }

  /** Only an answer that now stands is reported (an older one arriving late changes nothing): `choice` is the request's. */
  private reportAnswer(rater: string, outcome: VoteReceipt['outcome'], choice: () => CampaignChoice, gold?: GoldVerdict): void {
    if (gold !== undefined) {
      // Gold answers are never data: the campaign hears only the score of a rater's first answer.
      if (outcome === 'recorded') this.campaignChild?.onGold?.(rater, gold.correct);
      return;
    }
    if (this.campaignChild && (outcome === 'recorded' || outcome === 'changed' || outcome === 'retracted')) {
      this.answersReported += 1;
      this.campaignChild.onAnswer(rater, this.progress(), this.eventsAccepted, choice(), this.answersReported);
    }
  }

  /** Synchronous checks that reject a vote before anything is written to history. */
  validateVote(request: VoteRequest, options: { signalled?: boolean } = {}): void {
    this.observedRefusal(() => checkVote(this, request, options));
  }

  /** Runs `check`, telling the observer of the rejection it throws. */
  private observedRefusal(check: () => void): void {
    try {
      check();
    } catch (err) {
      this.observer.voteRefused(err instanceof ApplicationFailure && err.type ? err.type : 'unknown');
      throw err;
    }
  }

  /** Synchronous checks that reject a judgement before anything is written to history. */
  validateJudgement(request: JudgementRequest, options: { signalled?: boolean } = {}): void {
    this.observedRefusal(() => checkJudgement(this, request, options));
  }

  recordVote(request: VoteRequest): VoteReceipt {
    if (this.judgements.isDuplicate(request.idempotencyKey)) {
      this.observer.voteAccepted('duplicate');
      return { outcome: 'duplicate', candidate: receiptTally(this, request.candidateId) };
    }
    if (goldNoopWithdrawal(this, request.rater, request.value === 'retract')) {
      this.observer.voteAccepted('unchanged');
      return { outcome: 'unchanged', candidate: receiptTally(this, request.candidateId) };
    }
    const { outcome, event } = this.tally.record(request, new Date().toISOString(), this.eventsAccepted + 1);
    if (event && this.rules.boundedHistory) this.uncommittedBytes += eventBytes(event);
    this.observer.voteAccepted(outcome);
    if (event) this.handedTo.answered(request.rater);
    const gold = this.plan.gold !== undefined ? voteVerdict(this.plan.gold, request) : undefined;
    this.reportAnswer(request.rater, outcome, () => voteChoice(this.candidates, request), gold);
    return { outcome, candidate: receiptTally(this, request.candidateId), ...(gold !== undefined ? { gold } : {}) };
  }

  recordJudgement(request: JudgementRequest): JudgementReceipt {
    if (this.tally.isDuplicate(request.idempotencyKey)) {
      this.observer.voteAccepted('duplicate');
      return { outcome: 'duplicate', judgements: receiptJudgements(this) };
    }
    if (goldNoopWithdrawal(this, request.rater, request.choice === 'retract')) {
      this.observer.voteAccepted('unchanged');
      return { outcome: 'unchanged', judgements: receiptJudgements(this) };
    }
    const modelsHidden = this.plan.revealModels !== true;
    const { outcome, event } = this.judgements.record(request, new Date().toISOString(), this.eventsAccepted + 1, modelsHidden);
    if (event && this.rules.boundedHistory) this.uncommittedBytes += eventBytes(event);
    this.observer.voteAccepted(outcome);
    if (event) this.handedTo.answered(request.rater);
    const gold = this.plan.gold !== undefined ? judgementVerdict(this.plan.gold, request, this.candidates) : undefined;
    this.reportAnswer(request.rater, outcome, () => judgementChoice(this.candidates, request), gold);
    return { outcome, judgements: receiptJudgements(this), ...(gold !== undefined ? { gold } : {}) };
  }

  /** Signals cannot be refused, so a bad or late one is counted and logged instead. */
  recordSignalledVote(request: VoteRequest): void {
    // A signal is in history already: while continuing it is recorded like any other, and carried.
    if (this.refusedSignal(() => this.validateVote(request, { signalled: true }), request)) return;
    this.recordVote(request);
  }

  recordSignalledJudgement(request: JudgementRequest): void {
    if (this.refusedSignal(() => this.validateJudgement(request, { signalled: true }), request)) return;
    this.recordJudgement(request);
  }

  private refusedSignal(validate: () => void, request: unknown): boolean {
    try {
      validate();
      return false;
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === VoteRejection.WrongChannel) this.wrongChannelVotesRefused += 1;
      else this.lateVotesRefused += 1;
      const key = typeof request === 'object' && request !== null ? (request as { idempotencyKey?: unknown }).idempotencyKey : undefined;
      log.warn('vote signal refused', { reason: (err as Error).message, idempotencyKey: String(key) });
      return true;
    }
  }

  markReminded(): void {
    this.reminded = true;
  }

  /** Raters with a vote or a judgement (standing or withdrawn): reminders skip them. */
  ratersWhoVoted(): string[] {
    const voters = this.tally.ratersWhoVoted();
    if (this.judgements.accepted === 0) return voters;
    return [...new Set([...voters, ...this.judgements.ratersWhoJudged()])].sort();
  }

  /** Why voting should end now, if it should: a close request wins over quorum. */
  stopReason(): 'closed' | 'quorum' | undefined {
    if (this.closeRequested) return 'closed';
    // A gold lifecycle stays open for the whole campaign, until the campaign closes it or its deadline.
    if (this.plan.gold !== undefined) return undefined;
    const { quorum } = this.plan;
    const reached = quorum.kind === 'responses' ? this.judgements.counted().standing >= quorum.responses : this.tally.quorumReached(quorum);
    return reached ? 'quorum' : undefined;
  }

  close(reason: CloseReason): void {
    this.closeReason ??= reason;
  }

  startCommitting(): void {
    this.phase = 'committing';
  }

  complete(): void {
    this.phase = 'completed';
  }

  /**
   * The ledger calls of the final commit: every event not committed yet, candidates with the
   * lifecycle's first call, flags to clear with the first, at least one call (the lifecycle row's
   * close reason and total make it complete).
   */
  commitRequests(runId: string, closedAt: string): CommitRequest[] {
    return finalCommitRequests(this, { ...this.record(runId), closedAt, closeReason: this.closedWith() });
  }

  /** Whether this run must commit before it continues as new: its uncommitted events are too many to carry. */
  mustCommitBeforeContinuing(): boolean {
    return this.rules.boundedHistory && this.uncommittedBytes > MAX_CARRIED_EVENT_BYTES;
  }

  /** Whether a full batch of uncommitted events waits: committed while voting runs, so a continue-as-new finds little to commit. */
  incrementDue(): boolean {
    const waiting = this.tally.uncommittedEvents().length + this.judgements.uncommittedEvents().length;
    return this.rules.boundedHistory && this.phase === 'voting' && (this.uncommittedBytes >= COMMIT_BATCH_BYTES || waiting >= COMMIT_BATCH_SIZE);
  }

  /**
   * One ledger call of an increment while voting runs: the oldest uncommitted events (one batch)
   * under a lifecycle row without a close reason, which the ledger keeps out of "complete" and out
   * of releases. Events keep arriving while it runs; `incrementCommitted` drops exactly these.
   */
  incrementRequest(runId: string): CommitRequest {
    return incrementRequest(this, this.record(runId));
  }

  /** The ledger holds `request` (an incrementRequest): the tallies forget its events. */
  incrementCommitted(request: CommitRequest): void {
    const judged = request.judgements?.length ?? 0;
    for (const event of this.tally.uncommittedEvents().slice(0, request.votes.length)) this.uncommittedBytes -= eventBytes(event);
    for (const event of this.judgements.uncommittedEvents().slice(0, judged)) this.uncommittedBytes -= eventBytes(event);
    this.tally.markCommitted(request.votes.length, request.unstand?.length ?? 0);
    this.judgements.markCommitted(judged, request.unstandJudgements?.length ?? 0);
  }

  /** The lifecycle row as of now; the final commit adds the close. */
  private record(runId: string): CommitRequest['lifecycle'] {
    return {
      lifecycleId: this.lifecycleId,
      runId,
      plan: this.plan,
      startedAt: this.startedAt,
      deadlineAt: this.deadlineAt,
      votesAccepted: this.eventsAccepted,
    };
  }

  summary(rowsCommitted: number): LifecycleSummary {
    const judgements = this.judgementCounts();
    return {
      lifecycleId: this.lifecycleId,
      closeReason: this.closedWith(),
      tally: this.tally.tallies(),
      votesAccepted: this.eventsAccepted,
      rowsCommitted,
      ...(judgements !== undefined ? { judgements } : {}),
      lateVotesRefused: this.lateVotesRefused,
      ...(this.rules.oneChannel ? { wrongChannelVotesRefused: this.wrongChannelVotesRefused } : {}),
    };
  }

  /** The close reason, once voting has closed. */
  closedWith(): CloseReason {
    // Asking earlier is a bug: a plain Error fails the workflow task, which retries until a fixed worker
    // runs it, and the votes stay safe in history meanwhile (a failed workflow would drop them).
    if (this.closeReason === undefined) throw new Error('bug: the lifecycle has not closed yet');
    return this.closeReason;
  }

  /** The ops view: models included (rater-facing views strip them unless revealModels); lifecycle-status.ts. */
  status(): LifecycleStatus {
    return lifecycleStatus(this);
  }

  /**
   * Hand-outs and closes first: messages buffered for the run's first task are dispatched as each handler
   * is set, so an answer buffered with the hand-out that allows it finds the rater handed the item.
   */
  register(): void {
    setHandler(itemHandedSignal, (request) => {
      // Only a campaign sends it (to its own children); a malformed one hands the item to no one.
      if (this.plan.delivery === 'assigned' && typeof request?.rater === 'string' && RATER_PATTERN.test(request.rater)) takeHandOut(this, request.rater);
    });
    setHandler(closeSignal, () => {
      this.closeRequested = true;
    });
    setHandler(statusQuery, () => this.status());
    setHandler(voteUpdate, (request) => this.recordVote(request), { validator: (request) => this.validateVote(request) });
    setHandler(voteSignal, (request) => this.recordSignalledVote(request));
    setHandler(judgeUpdate, (request) => this.recordJudgement(request), { validator: (request) => this.validateJudgement(request) });
    setHandler(judgeSignal, (request) => this.recordSignalledJudgement(request));
  }
}
