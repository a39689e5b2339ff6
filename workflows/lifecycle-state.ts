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
import { INVALID_INPUT_ERROR, VoteRejection, closeSignal, statusQuery, voteSignal, voteUpdate } from './messages';
import type {
  Candidate, CloseReason, LifecyclePhase, LifecyclePlan, LifecycleStatus, LifecycleSummary, VoteEvent, VoteReceipt, VoteRequest,
} from './types';
import { VoteTally, malformedVoteReason } from './vote-tally';

/** Votes per ledger activity call: keeps each payload far below Temporal's 2 MB limit. */
export const COMMIT_BATCH_SIZE = 500;
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

/** The second argument of every run after the first: the state carried across continue-as-new. */
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
  thresholds?: LifecycleThresholds;
}

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
  reminded = false;
  posts: PostedMessage[] = [];

  private constructor(
    readonly lifecycleId: string,
    readonly plan: LifecyclePlan,
    readonly startedAt: string,
    readonly deadlineAtMs: number,
    readonly thresholds: LifecycleThresholds,
  ) {}

  /** A new lifecycle; `now` is workflow time. */
  static start(lifecycleId: string, plan: LifecyclePlan, thresholds: LifecycleThresholds, now: number): RatingLifecycle {
    const startedAt = new Date(now).toISOString();
    return new RatingLifecycle(lifecycleId, plan, startedAt, deadlineAt(plan.deadline, Date.parse(startedAt)), thresholds);
  }

  /** The voting a previous run carried over, exactly as it left it. */
  static resume(lifecycleId: string, carry: LifecycleCarry): RatingLifecycle {
    const lifecycle = new RatingLifecycle(lifecycleId, carry.plan, carry.startedAt, Date.parse(carry.deadlineAt), carry.thresholds ?? {});
    lifecycle.lateVotesRefused = carry.lateVotesRefused;
    lifecycle.closeRequested = carry.closeRequested;
    lifecycle.reminded = carry.reminded ?? false;
    lifecycle.openVoting(carry.candidates, carry.posts ?? [], carry.events);
    return lifecycle;
  }

  toCarry(): LifecycleCarry {
    return {
      plan: this.plan,
      startedAt: this.startedAt,
      deadlineAt: this.deadlineAt,
      candidates: this.candidates,
      events: [...this.tally.allEvents()],
      lateVotesRefused: this.lateVotesRefused,
      closeRequested: this.closeRequested,
      reminded: this.reminded,
      posts: this.posts,
      ...(Object.keys(this.thresholds).length > 0 ? { thresholds: this.thresholds } : {}),
    };
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

  openVoting(candidates: Candidate[], posts: PostedMessage[], events: VoteEvent[] = []): void {
    this.candidates = candidates;
    this.posts = posts;
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

  markReminded(): void {
    this.reminded = true;
  }

  ratersWhoVoted(): string[] {
    return [...new Set(this.tally.allEvents().map((e) => e.rater))].sort();
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

  /** The ledger calls that commit every accepted event: candidates with the first, at least one call. */
  commitRequests(runId: string, closedAt: string): CommitRequest[] {
    const events = this.tally.allEvents();
    const lifecycle = {
      lifecycleId: this.lifecycleId,
      runId,
      plan: this.plan,
      startedAt: this.startedAt,
      deadlineAt: this.deadlineAt,
      closedAt,
      closeReason: this.closedWith(),
      votesAccepted: events.length,
    };
    const requests: CommitRequest[] = [];
    for (let offset = 0; offset === 0 || offset < events.length; offset += COMMIT_BATCH_SIZE) {
      requests.push({
        lifecycle,
        candidates: offset === 0 ? this.candidates : [],
        votes: events.slice(offset, offset + COMMIT_BATCH_SIZE).map((event) => ({ ...event, standing: this.tally.isStanding(event.idempotencyKey) })),
      });
    }
    return requests;
  }

  summary(rowsCommitted: number): LifecycleSummary {
    return {
      lifecycleId: this.lifecycleId,
      closeReason: this.closedWith(),
      tally: this.tally.tallies(),
      votesAccepted: this.tally.accepted,
      rowsCommitted,
      lateVotesRefused: this.lateVotesRefused,
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
