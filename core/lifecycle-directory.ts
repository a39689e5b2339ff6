/**
 * The port through which the gateway reaches rating lifecycles. The HTTP layer depends only on this
 * interface, so it is testable without Temporal; `temporal-directory.ts` implements it with the client.
 */
import type { ChannelSpec, CloseRequest, JudgementReceipt, JudgementRequest, LifecycleInput, LifecycleStatus, VoteReceipt, VoteRequest } from '../workflows/types';
import { PreflineError, type ErrorCode } from './errors';

export interface LifecycleDirectory {
  /** Open lifecycles of the web channel that are accepting votes, newest first. */
  listOpen(limit: number): Promise<LifecycleStatus[]>;
  /** Running lifecycles of one kind of channel that have not closed (generating, publishing or voting), newest first. */
  listActive(channel: ChannelSpec['kind'], limit: number): Promise<LifecycleStatus[]>;
  /** undefined if no such lifecycle. */
  status(lifecycleId: string): Promise<LifecycleStatus | undefined>;
  /** How far a lifecycle got, including how it ended; undefined if no such lifecycle. */
  progress(lifecycleId: string): Promise<LifecycleProgress | undefined>;
  /** Forwards a vote; rejects with VoteRejectedError for a refused vote. */
  vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt>;
  /** Forwards a judgement (compare lifecycles, two-candidate thumbs ones); rejects with VoteRejectedError for a refused one. */
  judge(lifecycleId: string, judgement: JudgementRequest): Promise<JudgementReceipt>;
  /**
   * Starts a lifecycle under a business id derived from what asked for it (a Slack trigger, a page's
   * idempotency key): a second start with the same id starts nothing and answers `exists`, even once
   * the first has completed. Rejects (an upstream error) when Temporal cannot be reached.
   */
  start(request: LifecycleStartRequest): Promise<StartOutcome>;
  /** Asks a lifecycle to close voting now (it then commits and completes). */
  requestClose(lifecycleId: string, request: CloseRequest): Promise<CloseOutcome>;
}

export interface LifecycleStartRequest {
  lifecycleId: string;
  /** The lifecycle's one JSON argument, as the Temporal UI would send it (the workflow validates it). */
  input: LifecycleInput;
  /** The Temporal UI's summary and details of the lifecycle, as `prefline start` gives them (workflows/describe.ts startMetadata). */
  staticSummary?: string;
  staticDetails?: string;
}

/** `started`, or `exists`: a lifecycle with this id was started before (a retried request). */
export type StartOutcome = 'started' | 'exists';

/** `requested`; `unknown`: no such lifecycle; `ended`: it has completed (or failed) already. */
export type CloseOutcome = 'requested' | 'unknown' | 'ended';

/** What whoever started a lifecycle sees while waiting for its candidates. */
export interface LifecycleProgress {
  /** `running` (continued-as-new included), or how its workflow ended. */
  state: 'running' | 'completed' | 'failed';
  /** Why it failed, when it did (the workflow's failure, e.g. invalid input or inference that gave up). */
  failure?: string;
  /** The live status when it could be read. */
  status?: LifecycleStatus;
}

/**
 * Why a vote was refused: the workflow validator's (workflows/messages.ts `VoteRejection`), and the
 * directory's own two (no such lifecycle, too busy to take it). Each code's HTTP status and rater-facing
 * answer are in the catalogue (core/errors.ts). `run_continuing` never reaches a rater: the Temporal
 * directory sends the vote again until the next run takes it (or answers busy).
 */
export type VoteRejectionCode = (typeof ErrorCode)[
  'VotingClosed' | 'VotingNotOpen' | 'UnknownCandidate' | 'MalformedVote' | 'WrongChannel' | 'LifecycleFull' | 'RunContinuing' | 'NotPairwise' | 'ChoiceNotOffered' | 'AnswerFinal' | 'NotAssigned' | 'WrongAnswerForm'
  | 'UnknownLifecycle' | 'Busy'
];

/** A vote or judgement the lifecycle (or Temporal) refused for a reason the rater can be told; anything else is an upstream error. */
export class VoteRejectedError extends PreflineError {
  declare readonly code: VoteRejectionCode;
  constructor(code: VoteRejectionCode, message: string) {
    super(code, message);
  }
}
