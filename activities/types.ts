/**
 * The activity surface the workflow sees, split by task queue. Workflows `import type` this
 * file only; the implementations live beside it and are built by `createActivities(deps)`.
 * Request and result types owned elsewhere (channels, the ledger, releases) are re-exported here.
 */
import type { ClosePostRequest, PostRef, PublishRequest, RemindRequest, UpdatePostRequest } from '../channels/types';
import type { PublishResult } from '../releases/types';
import type { ChatCommitRequest, ChatCommitResult } from '../store/chat-ledger-types';
import type { CommitRequest, CommitResult } from '../store/ledger-types';
import type { CampaignCommitRequest, CampaignCommitResult } from '../store/ledger-types';
import type { BroughtCandidate, Candidate, CampaignItem, CampaignNotice, ChatRole, ReplyProvenance, StreamTarget } from '../workflows/types';

export type { ClosePostRequest, PostRef, PublishRequest, RemindRequest, UpdatePostRequest } from '../channels/types';
export type {
  CampaignCommitRequest, CampaignCommitResult, CampaignRecord, CommitRequest, CommitResult, CommittedJudgement, CommittedVote, LifecycleRecord,
} from '../store/ledger-types';
export type { ChatCommitRequest, ChatCommitResult, ChatConversationRecord } from '../store/chat-ledger-types';

export interface GenerateCandidatesRequest {
  lifecycleId: string;
  prompt: string;
  models: string[];
  candidatesPerModel: number;
  params: Record<string, unknown>;
}

/** Brought candidates to store as a lifecycle's candidates, in order (c1, c2, …): no inference runs. */
export interface IngestCandidatesRequest {
  lifecycleId: string;
  prompt: string;
  brought: BroughtCandidate[];
}

/** Runs on `<queue>-inference`, where GPU-side workers poll (and share the artifact store and the import root). */
export interface InferenceActivities {
  generateCandidates(request: GenerateCandidatesRequest): Promise<Candidate[]>;
  /** Resolves, checks and stores brought candidates; provenance backend `import`. */
  ingestCandidates(request: IngestCandidatesRequest): Promise<Candidate[]>;
}

/** Runs on the lifecycle's own queue. */
export interface ChannelActivities {
  publishLifecycle(request: PublishRequest): Promise<PostRef>;
  /** Live tally on channels with a live post; a no-op elsewhere. */
  updatePost(request: UpdatePostRequest): Promise<void>;
  /** Reminder to raters who have not voted; a no-op on channels that cannot address raters. */
  remindRaters(request: RemindRequest): Promise<{ reminded: number }>;
  closePost(request: ClosePostRequest): Promise<void>;
}

/** Runs on `<queue>-ledger`, served by exactly one process: the DuckDB writer. */
export interface LedgerActivities {
  commitLifecycle(request: CommitRequest): Promise<CommitResult>;
}

export interface PublishReleaseRequest {
  /** ISO-8601 watermark, fixed by the workflow. */
  cutoff: string;
  releaseId?: string;
}

/** Small by design: ids, paths and counts, never rows (the publisher's own result). */
export type ReleaseSummary = PublishResult;

/** Runs on `<queue>-ledger` beside the ledger: only that process may open the DuckDB file. */
export interface ReleaseActivities {
  publishReleaseFiles(request: PublishReleaseRequest): Promise<ReleaseSummary>;
}

// Campaigns (workflows/rating-campaign.ts)

/** A page of a stored item list: items `offset` … `offset + limit - 1` (fewer at its end). */
export interface ReadCampaignItemsRequest {
  itemsRef: string;
  offset: number;
  limit: number;
}

/** Runs on `<queue>-inference`, whose workers share the artifact store the CLI put the list in. */
export interface CampaignItemActivities {
  readCampaignItems(request: ReadCampaignItemsRequest): Promise<CampaignItem[]>;
}

/**
 * An email campaign's digests (activities/campaign-digest.ts), on the base queue beside the channel
 * activities (the workers that hold the email publisher): who is on the list, and one digest mail per rater.
 */
export interface CampaignDigestActivities {
  /** Pseudonyms of the channel's raters who may be mailed (the list, minus opt-outs); no addresses leave the worker. */
  campaignDigestRaters(request: { channel: string }): Promise<string[]>;
  /** Mails each rater their items with signed answer links, once per (campaign, rater, digest number). */
  sendCampaignDigest(request: CampaignDigestRequest): Promise<CampaignDigestResult>;
}

export interface CampaignDigestResult {
  mailed: number;
  /** The raters whose digest is in their mailbox, with the items it shows: the campaign lets the rest of its reservations go. */
  delivered: Array<{ rater: string; lifecycleIds: string[] }>;
}

export interface CampaignDigestRequest {
  campaignId: string;
  label: string;
  /** 1, 2, …: with the campaign and the rater, names the mail (a retry sends nothing twice). */
  digest: number;
  channel: string;
  /** Each rater's items (lifecycle ids), reserved for them until `reservedUntil`. */
  assignments: Array<{ rater: string; lifecycleIds: string[] }>;
  reservedUntil: string;
}

/** Runs on `<queue>-ledger`, beside the ledger. */
export interface CampaignLedgerActivities {
  commitCampaign(request: CampaignCommitRequest): Promise<CampaignCommitResult>;
}

/** Where one notification goes: a Slack channel, email recipients (or a configured list), a webhook receiver by its PREFLINE_WEBHOOKS name. */
export type CampaignNoticeTarget =
  | { kind: 'slack'; channel: string }
  | { kind: 'email'; recipients: string[]; list?: string }
  | { kind: 'webhook'; name: string };

export interface CampaignNoticeRequest {
  notice: CampaignNotice;
  target: CampaignNoticeTarget;
}

/** `already`: an earlier attempt had sent it (a retry, or another worker): nothing was sent twice. */
export interface CampaignNoticeResult {
  outcome: 'sent' | 'already';
}

/**
 * Runs on the campaign's own queue, whose workers hold the channels' credentials (like ChannelActivities)
 * and the webhook secret. Idempotent per (event id, target).
 */
export interface CampaignNotifyActivities {
  sendCampaignNotice(request: CampaignNoticeRequest): Promise<CampaignNoticeResult>;
}

/** One message of a reply's context: by artifact digest, or by its text when no digest exists yet. */
export interface ContextMessageRef {
  id: string;
  role: ChatRole;
  sha256?: string;
  text?: string;
}

export interface GenerateReplyRequest {
  conversationId: string;
  conversationRunId: string;
  turn: number;
  /** The reply's message id: with the conversation run id, the key its finished text is stored under. */
  replyId: string;
  model: string;
  params: Record<string, unknown>;
  seed: number;
  /** The conversation so far, oldest first, ending with the user's message. */
  context: ContextMessageRef[];
  /** The gateway's stream slot the tokens go to while the reply is written (best-effort). */
  stream?: StreamTarget;
}

export interface GeneratedReply {
  text: string;
  /** The reply's digest in the artifact store. */
  sha256: string;
  /** Digests of context messages that came as text, by message id (now stored). */
  stored: Record<string, string>;
  provenance: ReplyProvenance;
  /** True when an earlier attempt had finished the reply and this one returned it without calling the model. */
  reused: boolean;
}

/** Runs on `<queue>-inference`, beside generateCandidates. */
export interface ChatInferenceActivities {
  generateReply(request: GenerateReplyRequest): Promise<GeneratedReply>;
}

/** Runs on `<queue>-ledger`, served by the one DuckDB writer. */
export interface ChatLedgerActivities {
  commitChatEvents(request: ChatCommitRequest): Promise<ChatCommitResult>;
}
