/**
 * The port through which a channel's inbound code finds the lifecycle behind one of its posted
 * messages and forwards votes and judgements to it. Channels depend on this interface only (no Temporal in
 * channels/); `temporal-posts.ts` implements it with the Temporal client, unit tests with a fake.
 */
import type { JudgementReceipt, JudgementRequest, LifecycleTask, VoteReceipt, VoteRequest } from '../workflows/types';

export interface PostInfo {
  lifecycleId: string;
  /** The candidate the message shows; undefined for a header. */
  candidateId?: string;
  /** The lifecycle's candidates in label order (a comparison's A and B are the first two). */
  candidates: Array<{ id: string; label: string }>;
  /** The lifecycle's task (absent: thumbs): a compare lifecycle's post shows its pair in presentation order. */
  task?: LifecycleTask;
}

export interface PostDirectory {
  /** The lifecycle and candidate of a message reference (e.g. `slack:<channel>:<ts>`), or undefined if not ours. */
  findPost(ref: string): Promise<PostInfo | undefined>;
  /** Fire-and-forget vote. Rejects with VoteRejectedError when retrying cannot help (lifecycle gone). */
  signalVote(lifecycleId: string, vote: VoteRequest): Promise<void>;
  /** A vote with the lifecycle's answer. Rejects with VoteRejectedError for a refused vote. */
  vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt>;
  /** A judgement (a comparison's answer) with the lifecycle's answer. Rejects with VoteRejectedError for a refused one. */
  judge(lifecycleId: string, judgement: JudgementRequest): Promise<JudgementReceipt>;
}
