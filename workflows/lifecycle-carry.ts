/**
 * What a lifecycle's runs hand each other and start from: the optional thresholds of a first run, the
 * state carried across continue-as-new, and the rules older histories replay with. Types and pure
 * checks; RatingLifecycle (lifecycle-state.ts) builds and reads them.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { PostedMessage } from '../channels/types';
import type { JudgingState } from './judgement-tally';
import { INVALID_INPUT_ERROR } from './messages';
import type { Candidate, CloseReason, JudgementEvent, LifecyclePlan, VoteEvent } from './types';
import type { VotingState } from './vote-tally';

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
 * Carries from before bounded history have no `voting`, and `events` holds every accepted event;
 * carries from before judgements have no `judgementEvents` or `judging`.
 */
export interface LifecycleCarry {
  plan: LifecyclePlan;
  startedAt: string;
  deadlineAt: string;
  candidates: Candidate[];
  /** Accepted votes the ledger does not hold yet (with the judgements, at most MAX_CARRIED_EVENT_BYTES of them). */
  events: VoteEvent[];
  /** What the tally keeps of the committed events (bounded-history lifecycles). */
  voting?: VotingState;
  /** Accepted judgements the ledger does not hold yet; absent: none. */
  judgementEvents?: JudgementEvent[];
  /** What the judgement tally keeps of the committed judgements; absent: none committed. */
  judging?: JudgingState;
  lateVotesRefused: number;
  wrongChannelVotesRefused?: number;
  closeRequested: boolean;
  reminded?: boolean;
  /** A campaign's child: the answer reports it sent (absent: none, or a carry from before the count). */
  answersReported?: number;
  posts?: PostedMessage[];
  /** Assigned lifecycles: the raters handed the item who had not answered it yet (RatingLifecycle.handedTo). */
  handed?: string[];
  thresholds?: LifecycleThresholds;
}

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
