/**
 * The port through which the gateway reaches rating lifecycles. The HTTP layer depends only on this
 * interface, so it is testable without Temporal; `temporal-directory.ts` implements it with the client.
 */
import type { LifecycleStatus, VoteReceipt, VoteRequest } from '../workflows/types';

export interface LifecycleDirectory {
  /** Open lifecycles of the web channel that are accepting votes, newest first. */
  listOpen(limit: number): Promise<LifecycleStatus[]>;
  /** undefined if no such lifecycle. */
  status(lifecycleId: string): Promise<LifecycleStatus | undefined>;
  /** Forwards a vote; rejects with VoteRejectedError for a refused vote. */
  vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt>;
}

export type VoteRejectionCode =
  | 'voting_closed' | 'voting_not_open' | 'unknown_candidate' | 'malformed_vote' | 'wrong_channel' | 'lifecycle_full' | 'unknown_lifecycle' | 'busy';

/** A vote the lifecycle (or Temporal) refused for a reason the rater can be told; anything else is an upstream error. */
export class VoteRejectedError extends Error {
  constructor(
    readonly code: VoteRejectionCode,
    message: string,
  ) {
    super(message);
    this.name = 'VoteRejectedError';
  }
}
