/**
 * What a ledger commit takes and returns: the store owns these types. The ledger activity passes them
 * through (activities/types.ts re-exports them for the workflow, which imports only that file).
 */
import type { Candidate, CloseReason, LifecyclePlan, VoteEvent } from '../workflows/types';

export interface LifecycleRecord {
  lifecycleId: string;
  /** The first run id: stable across continue-as-new, distinct when a workflow id is reused. */
  runId: string;
  plan: LifecyclePlan;
  startedAt: string;
  deadlineAt: string;
  closedAt: string;
  closeReason: CloseReason;
  votesAccepted: number;
}

export interface CommittedVote extends VoteEvent {
  /** True if this event is the rater's final, counted vote on the candidate. */
  standing: boolean;
}

export interface CommitRequest {
  lifecycle: LifecycleRecord;
  candidates: Candidate[];
  votes: CommittedVote[];
}

export interface CommitResult {
  voteRowsInserted: number;
  voteRowsForLifecycle: number;
}
