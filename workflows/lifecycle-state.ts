/**
 * The state of one rating lifecycle and its message handlers, as a deterministic class (the
 * cluster-manager pattern): `ratingLifecycle` creates it with `start` or `resume`, moves it through
 * its phases, and hands `toCarry()` to continue-as-new. Only handler registration and logging touch
 * the workflow API here; every command (activities, timers, search attributes) is issued by the
 * workflow function.
 */
import { ApplicationFailure, log, setHandler } from '@temporalio/workflow';
import type { CommitRequest, GenerateCandidatesRequest } from '../activities/types';
import type { PostedMessage } from '../channels/types';
import { deadlineAt } from './input';
import { INVALID_INPUT_ERROR, VoteRejection, closeSignal, statusQuery, voteSignal, voteUpdate, wrongChannelReason } from './messages';
import type {
  Candidate, CloseReason, LifecyclePhase, LifecyclePlan, LifecycleStatus, LifecycleSummary, VoteEvent, VoteOutcomeKind, VoteReceipt, VoteRequest,
} from './types';
import { DIGEST_BYTES, utf8Length } from './compact';
import { SLOT_BYTES, VoteTally, malformedVoteReason, type VotingState } from './vote-tally';

/** Votes per ledger activity call. */
export const COMMIT_BATCH_SIZE = 500;
/**
 * Bytes of vote JSON per ledger call (bounded-history lifecycles): far below Temporal's 2 MB payload
 * limit and its 512 KB warning, even for 500 votes with 2,000-character comments of 3-byte characters.
 */
export const COMMIT_BATCH_BYTES = 256 * 1024;
/** Uncommitted vote JSON a run may hand to the next one in its carry; more is committed first. */
export const MAX_CARRIED_EVENT_BYTES = 32 * 1024;
/**
 * The compact voting state (base64 digests and slots) a lifecycle may grow to: about 11 bytes per
 * accepted vote plus 30 per (rater, candidate) pair, so ≥ 25,000 votes from distinct raters or ≥ 90,000
 * from a few. Beyond it new votes are refused (LifecycleFull) rather than let the carry outgrow 2 MB
 * and the lifecycle get stuck.
 */
export const MAX_VOTING_STATE_BYTES = 1024 * 1024;
/** At most one live-tally update per this interval (Slack allows ~1 message/s/channel; stay well below). */
export const LIVE_UPDATE_INTERVAL_MS = 5000;
/** A continued run takes a few events before its first vote; a lower limit could continue again without one. */
export const MIN_CONTINUE_AS_NEW_EVENTS = 10;
export const MIN_LIVE_UPDATE_INTERVAL_MS = 100;

/**
 * Limits a starter may lower (tests do, to reach continue-as-new and the live-tally throttle in seconds).
 * Production passes none and gets the defaults. They come from the workflow's arguments, so replays see them too.
 */
export interface LifecycleThresholds {
  /** Continue-as-new once the run's history has this many events (the server's suggestion applies regardless). */
  continueAsNewAfterEvents?: number;
  /** Minimum time between live-tally updates; default LIVE_UPDATE_INTERVAL_MS. */
  liveUpdateIntervalMs?: number;
}

/** The second argument of a first run: optional thresholds. */
export interface LifecycleStart {
  thresholds?: LifecycleThresholds;
}

/**
 * The second argument of every run after the first: the state carried across continue-as-new.
 * Carries from before bounded history have no `voting`, and `events` holds every accepted event.
 */
export interface LifecycleCarry {
  plan: LifecyclePlan;
  startedAt: string;
  deadlineAt: string;
  candidates: Candidate[];
  /** Accepted events the ledger does not hold yet (at most MAX_CARRIED_EVENT_BYTES of them). */
  events: VoteEvent[];
  /** What the tally keeps of the committed events (bounded-history lifecycles). */
  voting?: VotingState;
  lateVotesRefused: number;
  wrongChannelVotesRefused?: number;
  closeRequested: boolean;
  reminded?: boolean;
  posts?: PostedMessage[];
  thresholds?: LifecycleThresholds;
}

/** Told of every vote decision, by update or signal (the workflow counts them: workflows/metrics.ts). */
export interface VoteObserver {
  voteAccepted(outcome: VoteOutcomeKind): void;
  /** `reason` is the rejection's failure type (a VoteRejection code). */
  voteRefused(reason: string): void;
}

const UNOBSERVED: VoteObserver = { voteAccepted: () => undefined, voteRefused: () => undefined };

/**
 * Workflow changes that replays of older histories must not see (`patched()` in ratingLifecycle); a
 * lifecycle outside Temporal (unit tests) has them all.
 */
export interface LifecycleRules {
  /** Commit in increments before continue-as-new; carry the compact voting state; batches bounded in bytes. */
  boundedHistory: boolean;
  /** Refuse votes through a channel other than the lifecycle's (wrongChannelReason). */
  oneChannel: boolean;
  /** Refuse a castAt the ledger would not store as the instant the tally orders by (isCastAt). */
  isoCastAt: boolean;
}

export const ALL_RULES: LifecycleRules = { boundedHistory: true, oneChannel: true, isoCastAt: true };

/** What `collectVotes` ends with: a close reason, or `continue` (history is long: carry on in a new run). */
export type VotingOutcome = CloseReason | 'continue';

export function isCarry(arg: LifecycleCarry | LifecycleStart | null | undefined): arg is LifecycleCarry {
  return typeof arg === 'object' && arg !== null && 'plan' in arg;
}

/** Every problem with a start argument, each naming its field (the input's own rules live in input.ts). */
export function thresholdErrors(arg: unknown): string[] {
  if (arg === undefined || arg === null) return [];
  if (typeof arg !== 'object' || Array.isArray(arg)) return ['second argument: must be an object like {"thresholds": {…}} or absent'];
  const errors = Object.keys(arg).filter((k) => k !== 'thresholds').map((k) => `${k}: unknown field in the second argument; known: thresholds`);
  const thresholds = (arg as LifecycleStart).thresholds;
  if (thresholds === undefined) return errors;
  if (typeof thresholds !== 'object' || thresholds === null || Array.isArray(thresholds)) return [...errors, 'thresholds: must be an object'];
  const { continueAsNewAfterEvents, liveUpdateIntervalMs, ...rest } = thresholds;
  for (const key of Object.keys(rest)) errors.push(`thresholds.${key}: unknown field; known: continueAsNewAfterEvents, liveUpdateIntervalMs`);
  if (continueAsNewAfterEvents !== undefined && !isIntegerAtLeast(continueAsNewAfterEvents, MIN_CONTINUE_AS_NEW_EVENTS)) {
    errors.push(`thresholds.continueAsNewAfterEvents: must be an integer of at least ${MIN_CONTINUE_AS_NEW_EVENTS}`);
  }
  if (liveUpdateIntervalMs !== undefined && !isIntegerAtLeast(liveUpdateIntervalMs, MIN_LIVE_UPDATE_INTERVAL_MS)) {
    errors.push(`thresholds.liveUpdateIntervalMs: must be an integer of at least ${MIN_LIVE_UPDATE_INTERVAL_MS}`);
  }
  return errors;
}

function isIntegerAtLeast(value: unknown, min: number): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

/** The non-retryable failure a lifecycle with bad input ends with, on its first workflow task. */
export function invalidInput(errors: string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: INVALID_INPUT_ERROR,
    nonRetryable: true,
    message: `invalid lifecycle input: ${errors.join('; ')}`,
    details: [errors],
  });
}

export class RatingLifecycle {
  phase: LifecyclePhase = 'generating';
  candidates: Candidate[] = [];
  tally = new VoteTally([]);
  closeReason?: CloseReason;
  closeRequested = false;
  lateVotesRefused = 0;
  wrongChannelVotesRefused = 0;
  reminded = false;
  /** This run has decided to continue as new: updates are refused as RunContinuing (bounded history). */
  continuing = false;
  /** Bytes of the uncommitted events in a ledger call (eventBytes), kept as votes come and go. */
  private uncommittedBytes = 0;
  posts: PostedMessage[] = [];
  observer: VoteObserver = UNOBSERVED;

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
    lifecycle.candidates = carry.candidates;
    lifecycle.posts = carry.posts ?? [];
    lifecycle.tally = new VoteTally(carry.candidates, carry.events, carry.voting);
    lifecycle.uncommittedBytes = carry.events.reduce((n, e) => n + eventBytes(e), 0);
    lifecycle.phase = 'voting';
    return lifecycle;
  }

  toCarry(): LifecycleCarry {
    const common = {
      plan: this.plan,
      startedAt: this.startedAt,
      deadlineAt: this.deadlineAt,
      candidates: this.candidates,
      events: [...this.tally.uncommittedEvents()],
    };
    const rest = {
      lateVotesRefused: this.lateVotesRefused,
      closeRequested: this.closeRequested,
      reminded: this.reminded,
      posts: this.posts,
      ...(Object.keys(this.thresholds).length > 0 ? { thresholds: this.thresholds } : {}),
    };
    if (!this.rules.boundedHistory) return { ...common, ...rest };
    return {
      ...common,
      // Raters are needed only for a reminder still to come.
      voting: this.tally.votingState({ withRaters: this.reminderAtMs !== undefined && !this.reminded }),
      ...rest,
      wrongChannelVotesRefused: this.wrongChannelVotesRefused,
    };
  }

  /** Bytes of the compact voting state as carried: the digests and slots in base64. */
  votingStateBytes(): number {
    return Math.ceil((this.tally.accepted * DIGEST_BYTES) / 3) * 4 + Math.ceil((this.tally.slotCount * SLOT_BYTES) / 3) * 4;
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

  generateRequest(): GenerateCandidatesRequest {
    const { prompt, models, candidatesPerModel, params } = this.plan;
    return { lifecycleId: this.lifecycleId, prompt, models, candidatesPerModel, params };
  }

  startPublishing(): void {
    this.phase = 'publishing';
  }

  openVoting(candidates: Candidate[], posts: PostedMessage[]): void {
    this.candidates = candidates;
    this.posts = posts;
    this.tally = new VoteTally(candidates);
    this.phase = 'voting';
  }

  /** Synchronous checks that reject a vote before anything is written to history. */
  validateVote(request: VoteRequest, options: { signalled?: boolean } = {}): void {
    try {
      this.checkVote(request, options);
    } catch (err) {
      this.observer.voteRefused(err instanceof ApplicationFailure && err.type ? err.type : 'unknown');
      throw err;
    }
  }

  private checkVote(request: VoteRequest, options: { signalled?: boolean }): void {
    const malformed = malformedVoteReason(request, { isoCastAt: this.rules.isoCastAt });
    if (malformed) throw ApplicationFailure.nonRetryable(`malformed vote: ${malformed}`, VoteRejection.MalformedVote);
    // Before the duplicate check: no vote through another channel was ever accepted, so none is a repeat.
    const wrongChannel = this.rules.oneChannel ? wrongChannelReason(this.plan.channel.kind, request.channel) : undefined;
    if (wrongChannel) throw ApplicationFailure.nonRetryable(wrongChannel, VoteRejection.WrongChannel);
    if (this.continuing && this.rules.boundedHistory && !options.signalled) {
      throw ApplicationFailure.nonRetryable('this run is continuing as new; send the vote again', VoteRejection.RunContinuing);
    }
    // A repeated delivery of an accepted vote answers "duplicate" even after close.
    if (this.tally.isDuplicate(request.idempotencyKey)) return;
    if (this.closeReason !== undefined || this.phase === 'committing' || this.phase === 'completed') {
      throw ApplicationFailure.nonRetryable('voting closed', VoteRejection.VotingClosed);
    }
    if (this.phase !== 'voting') throw ApplicationFailure.nonRetryable('voting has not opened yet', VoteRejection.VotingNotOpen);
    if (!this.tally.hasCandidate(request.candidateId)) {
      throw ApplicationFailure.nonRetryable(`unknown candidate "${request.candidateId}"`, VoteRejection.UnknownCandidate);
    }
    if (this.rules.boundedHistory && this.votingStateBytes() >= MAX_VOTING_STATE_BYTES) {
      throw ApplicationFailure.nonRetryable(
        `this lifecycle holds ${this.tally.accepted} votes, as many as it can carry; voting goes on in a new lifecycle`,
        VoteRejection.LifecycleFull,
      );
    }
  }

  recordVote(request: VoteRequest): VoteReceipt {
    const { outcome, event } = this.tally.record(request, new Date().toISOString());
    if (event && this.rules.boundedHistory) this.uncommittedBytes += eventBytes(event);
    this.observer.voteAccepted(outcome);
    return { outcome, candidate: this.tally.tallyOf(request.candidateId) };
  }

  /** Signals cannot be refused, so a bad or late one is counted and logged instead. */
  recordSignalledVote(request: VoteRequest): void {
    try {
      // A signal is in history already: while continuing it is recorded like any other, and carried.
      this.validateVote(request, { signalled: true });
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === VoteRejection.WrongChannel) this.wrongChannelVotesRefused += 1;
      else this.lateVotesRefused += 1;
      log.warn('vote signal refused', { reason: (err as Error).message, idempotencyKey: String(request?.idempotencyKey) });
      return;
    }
    this.recordVote(request);
  }

  markReminded(): void {
    this.reminded = true;
  }

  ratersWhoVoted(): string[] {
    return this.tally.ratersWhoVoted();
  }

  /** Why voting should end now, if it should: a close request wins over quorum. */
  stopReason(): 'closed' | 'quorum' | undefined {
    if (this.closeRequested) return 'closed';
    return this.tally.quorumReached(this.plan.quorum) ? 'quorum' : undefined;
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
    const lifecycle = { ...this.record(runId), closedAt, closeReason: this.closedWith() };
    const sizes = this.batchSizes(this.tally.uncommittedEvents().length);
    const votes = this.tally.flag(this.tally.uncommittedEvents().length);
    const unstand = this.tally.peekUnstood();
    let offset = 0;
    return (sizes.length > 0 ? sizes : [0]).map((size, i) => {
      const batch = votes.slice(offset, offset + size);
      offset += size;
      return {
        lifecycle,
        candidates: i === 0 && this.tally.committed === 0 ? this.candidates : [],
        votes: batch,
        ...(i === 0 && unstand.length > 0 ? { unstand: [...unstand] } : {}),
      };
    });
  }

  /** Whether this run must commit before it continues as new: its uncommitted votes are too many to carry. */
  mustCommitBeforeContinuing(): boolean {
    return this.rules.boundedHistory && this.uncommittedBytes > MAX_CARRIED_EVENT_BYTES;
  }

  /** Whether a full batch of uncommitted votes waits: committed while voting runs, so a continue-as-new finds little to commit. */
  incrementDue(): boolean {
    return this.rules.boundedHistory && this.phase === 'voting' &&
      (this.uncommittedBytes >= COMMIT_BATCH_BYTES || this.tally.uncommittedEvents().length >= COMMIT_BATCH_SIZE);
  }

  /**
   * One ledger call of an increment while voting runs: the oldest uncommitted events (one batch)
   * under a lifecycle row without a close reason, which the ledger keeps out of "complete" and out
   * of releases. Votes keep arriving while it runs; `incrementCommitted` drops exactly these.
   */
  incrementRequest(runId: string): CommitRequest {
    const [size = 0] = this.batchSizes(this.tally.uncommittedEvents().length);
    const unstand = this.tally.peekUnstood();
    return {
      lifecycle: this.record(runId),
      candidates: this.tally.committed === 0 ? this.candidates : [],
      votes: this.tally.flag(size),
      ...(unstand.length > 0 ? { unstand: [...unstand] } : {}),
    };
  }

  /** The ledger holds `request` (an incrementRequest): the tally forgets its events. */
  incrementCommitted(request: CommitRequest): void {
    for (const event of this.tally.uncommittedEvents().slice(0, request.votes.length)) this.uncommittedBytes -= eventBytes(event);
    this.tally.markCommitted(request.votes.length, request.unstand?.length ?? 0);
  }

  /** The lifecycle row as of now; the final commit adds the close. */
  private record(runId: string): CommitRequest['lifecycle'] {
    return {
      lifecycleId: this.lifecycleId,
      runId,
      plan: this.plan,
      startedAt: this.startedAt,
      deadlineAt: this.deadlineAt,
      votesAccepted: this.tally.accepted,
    };
  }

  /** Votes per call for the first `count` uncommitted events: COMMIT_BATCH_SIZE, and COMMIT_BATCH_BYTES on bounded lifecycles. */
  private batchSizes(count: number): number[] {
    const events = this.tally.uncommittedEvents();
    const sizes: number[] = [];
    let size = 0;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const next = this.rules.boundedHistory ? eventBytes(events[i]!) : 0;
      if (size > 0 && (size === COMMIT_BATCH_SIZE || bytes + next > COMMIT_BATCH_BYTES)) {
        sizes.push(size);
        size = 0;
        bytes = 0;
      }
      size += 1;
      bytes += next;
    }
    if (size > 0) sizes.push(size);
    return sizes;
  }

  summary(rowsCommitted: number): LifecycleSummary {
    return {
      lifecycleId: this.lifecycleId,
      closeReason: this.closedWith(),
      tally: this.tally.tallies(),
      votesAccepted: this.tally.accepted,
      rowsCommitted,
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

  status(): LifecycleStatus {
    return {
      lifecycleId: this.lifecycleId,
      prompt: this.plan.prompt,
      phase: this.phase,
      channel: this.plan.channelLabel,
      models: this.plan.models,
      ...(this.plan.campaign !== undefined ? { campaign: this.plan.campaign } : {}),
      ...(this.plan.modelVersion !== undefined ? { modelVersion: this.plan.modelVersion } : {}),
      ...(this.plan.startedBy !== undefined ? { startedBy: this.plan.startedBy } : {}),
      ...(this.plan.startedFrom !== undefined ? { startedFrom: this.plan.startedFrom } : {}),
      quorum: this.plan.quorum,
      deadlineAt: this.deadlineAt,
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

/** Bytes of an event in a ledger call's payload (its JSON in UTF-8, plus the standing flag). */
function eventBytes(event: VoteEvent): number {
  return utf8Length(JSON.stringify(event)) + 20;
}
