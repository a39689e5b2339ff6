/**
 * The activity surface the workflow sees, split by task queue. Workflows `import type` this
 * file only; the implementations live beside it and are built by `createActivities(deps)`.
 */
import type { Candidate, CloseReason, LifecyclePlan, VoteEvent } from '../workflows/types';

export interface GenerateCandidatesRequest {
  lifecycleId: string;
  prompt: string;
  models: string[];
  candidatesPerModel: number;
  params: Record<string, unknown>;
}

/** Runs on `<queue>-inference`, where GPU-side workers poll. */
export interface InferenceActivities {
  generateCandidates(request: GenerateCandidatesRequest): Promise<Candidate[]>;
}

import type { ClosePostRequest, PostRef, PublishRequest, RemindRequest, UpdatePostRequest } from '../channels/types';
export type { ClosePostRequest, PostRef, PublishRequest, RemindRequest, UpdatePostRequest } from '../channels/types';

/** Runs on the lifecycle's own queue. */
export interface ChannelActivities {
  publishLifecycle(request: PublishRequest): Promise<PostRef>;
  /** Live tally on channels with a live post; a no-op elsewhere. */
  updatePost(request: UpdatePostRequest): Promise<void>;
  /** Reminder to raters who have not voted; a no-op on channels that cannot address raters. */
  remindRaters(request: RemindRequest): Promise<{ reminded: number }>;
  closePost(request: ClosePostRequest): Promise<void>;
}

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

/** Runs on `<queue>-ledger`, served by exactly one process: the DuckDB writer. */
export interface LedgerActivities {
  commitLifecycle(request: CommitRequest): Promise<CommitResult>;
}
