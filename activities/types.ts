/**
 * The activity surface the workflow sees, split by task queue. Workflows `import type` this
 * file only; the implementations live beside it and are built by `createActivities(deps)`.
 */
import type { Candidate, CandidateTally, CloseReason, LifecyclePlan, VoteEvent } from '../workflows/types';

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

export interface PublishRequest {
  lifecycleId: string;
  plan: LifecyclePlan;
  candidates: Candidate[];
  deadlineAt: string;
}

export interface PostRef {
  channel: string;
  /** Where raters find it (a URL for the web page, a permalink for Slack). */
  url?: string;
}

export interface ClosePostRequest {
  lifecycleId: string;
  plan: LifecyclePlan;
  closeReason: CloseReason;
  tally: CandidateTally[];
}

/** Runs on the lifecycle's own queue. */
export interface ChannelActivities {
  publishLifecycle(request: PublishRequest): Promise<PostRef>;
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
