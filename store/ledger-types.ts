/**
 * What a ledger commit takes and returns: the store owns these types. The ledger activity passes them
 * through (activities/types.ts re-exports them for the workflow, which imports only that file).
 */
import type {
  CampaignCounts, CampaignGoldRecord, CampaignItemOutcome, CampaignPhase, CampaignRaterRecord, Candidate, CloseReason, JudgementEvent, LifecyclePlan, LifecycleTask, VoteEvent,
} from '../workflows/types';

export interface LifecycleRecord {
  lifecycleId: string;
  /** The first run id: stable across continue-as-new, distinct when a workflow id is reused. */
  runId: string;
  plan: LifecyclePlan;
  startedAt: string;
  deadlineAt: string;
  /** Absent while voting runs (an increment): the lifecycle cannot be complete yet. */
  closedAt?: string;
  closeReason?: CloseReason;
  /** Events (votes and judgements) accepted so far while voting runs; all it accepted once closed. */
  votesAccepted: number;
}

export interface CommittedVote extends VoteEvent {
  /** True if this event is the rater's final, counted vote on the candidate. */
  standing: boolean;
}

export interface CommittedJudgement extends JudgementEvent {
  /** True if this event is the rater's final, counted judgement (never a retract). */
  standing: boolean;
}

export interface CommitRequest {
  lifecycle: LifecycleRecord;
  candidates: Candidate[];
  votes: CommittedVote[];
  /**
   * Seqs of this lifecycle's committed votes that stood when committed and no longer do (the rater
   * changed or retracted the vote later): their `standing` is cleared. Flags only ever go that way.
   */
  unstand?: number[];
  /** Judgement events of this batch (absent: none), committed like votes in the `judgements` table. */
  judgements?: CommittedJudgement[];
  /** Seqs of committed judgements to clear `standing` of, as `unstand` does for votes. */
  unstandJudgements?: number[];
}

export interface CommitResult {
  voteRowsInserted: number;
  voteRowsForLifecycle: number;
  /** Absent from results of ledgers before judgements. */
  judgementRowsInserted?: number;
  judgementRowsForLifecycle?: number;
}

// Campaigns (store/campaign-ledger.ts)

/** The campaign row of the ledger, as of a commit (table campaigns). */
export interface CampaignRecord {
  campaignId: string;
  /** The first run's id: one row per campaign across continue-as-new. */
  runId: string;
  label: string;
  task: LifecycleTask;
  responses: number;
  channel: string;
  itemCount: number;
  startedAt: string;
  deadlineAt: string;
  phase: CampaignPhase;
  counts: CampaignCounts;
  /** Set by the commit that finishes the campaign. */
  closedAt?: string;
}

export interface CampaignCommitRequest {
  campaign: CampaignRecord;
  /** Item outcomes to add; a repeated one (a retried commit) is kept once. */
  outcomes: CampaignItemOutcome[];
  /** Raters whose record changed since the last commit (upserted by rater). */
  raters?: CampaignRaterRecord[];
  /** Gold lifecycles started since the last commit; a repeated one is kept once. */
  gold?: CampaignGoldRecord[];
}

export interface CampaignCommitResult {
  /** Outcome rows of this campaign in the ledger after the commit. */
  itemsInLedger: number;
}

