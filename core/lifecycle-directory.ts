/**
 * The port through which the gateway reaches rating lifecycles. The HTTP layer depends only on this
 * interface, so it is testable without Temporal; `temporal-directory.ts` implements it with the client.
 */
import type { JudgementReceipt, JudgementRequest, LifecycleStatus, VoteReceipt, VoteRequest } from '../workflows/types';
import { PreflineError, type ErrorCode } from './errors';

export interface LifecycleDirectory {
  /** Open lifecycles of the web channel that are accepting votes, newest first. */
  listOpen(limit: number): Promise<LifecycleStatus[]>;
  /** undefined if no such lifecycle. */
  status(lifecycleId: string): Promise<LifecycleStatus | undefined>;
  /** Forwards a vote; rejects with VoteRejectedError for a refused vote. */
  vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt>;
  /** Forwards a judgement (compare lifecycles, two-candidate thumbs ones); rejects with VoteRejectedError for a refused one. */
  judge(lifecycleId: string, judgement: JudgementRequest): Promise<JudgementReceipt>;
}

/**
 * Why a vote was refused: the workflow validator's (workflows/messages.ts `VoteRejection`), and the
 * directory's own two (no such lifecycle, too busy to take it). Each code's HTTP status and rater-facing
 * answer are in the catalogue (core/errors.ts). `run_continuing` never reaches a rater: the Temporal
 * directory sends the vote again until the next run takes it (or answers busy).
 */
export type VoteRejectionCode = (typeof ErrorCode)[
  'VotingClosed' | 'VotingNotOpen' | 'UnknownCandidate' | 'MalformedVote' | 'WrongChannel' | 'LifecycleFull' | 'RunContinuing' | 'NotPairwise' | 'ChoiceNotOffered'
  | 'UnknownLifecycle' | 'Busy'
];

/** A vote or judgement the lifecycle (or Temporal) refused for a reason the rater can be told; anything else is an upstream error. */
export class VoteRejectedError extends PreflineError {
  declare readonly code: VoteRejectionCode;
  constructor(code: VoteRejectionCode, message: string) {
    super(code, message);
  }
}
