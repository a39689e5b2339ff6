/**
 * How a lifecycle's accepted events go to the ledger in calls: batches of at most COMMIT_BATCH_SIZE
 * events and, on bounded-history lifecycles, COMMIT_BATCH_BYTES of payload. Votes and judgements share
 * one sequence (seq), so a batch is the next events in seq order: a prefix of each kind's uncommitted
 * events, whichever kinds it holds. Pure.
 */
import type { CommitRequest, LifecycleRecord } from '../store/ledger-types';
import { utf8Length } from './compact';
import type { JudgementTally } from './judgement-tally';
import type { Candidate, JudgementEvent, VoteEvent } from './types';
import type { VoteTally } from './vote-tally';

/** Events per ledger activity call. */
export const COMMIT_BATCH_SIZE = 500;
/**
 * Bytes of event JSON per ledger call (bounded-history lifecycles): far below Temporal's 2 MB payload
 * limit and its 512 KB warning, even for 500 votes with 2,000-character comments of 3-byte characters.
 */
export const COMMIT_BATCH_BYTES = 256 * 1024;
/** Uncommitted event JSON a run may hand to the next one in its carry; more is committed first. */
export const MAX_CARRIED_EVENT_BYTES = 32 * 1024;

/** How many of each kind one ledger call takes. */
export interface BatchSize {
  votes: number;
  judgements: number;
}

/** Bytes of an event in a ledger call's payload (its JSON in UTF-8, plus the standing flag). */
export function eventBytes(event: VoteEvent | JudgementEvent): number {
  return utf8Length(JSON.stringify(event)) + 20;
}

/** The calls that commit every uncommitted event, oldest first; bounded in bytes when `bounded`. */
export function batchSizes(votes: readonly VoteEvent[], judgements: readonly JudgementEvent[], bounded: boolean): BatchSize[] {
  const sizes: BatchSize[] = [];
  let size: BatchSize = { votes: 0, judgements: 0 };
  let bytes = 0;
  for (let v = 0, j = 0; v < votes.length || j < judgements.length;) {
    const vote = votes[v];
    const judgement = judgements[j];
    const takeVote = judgement === undefined || (vote !== undefined && vote.seq < judgement.seq);
    const event = (takeVote ? vote : judgement)!;
    const next = bounded ? eventBytes(event) : 0;
    const count = size.votes + size.judgements;
    if (count > 0 && (count === COMMIT_BATCH_SIZE || bytes + next > COMMIT_BATCH_BYTES)) {
      sizes.push(size);
      size = { votes: 0, judgements: 0 };
      bytes = 0;
    }
    if (takeVote) {
      size.votes += 1;
      v += 1;
    } else {
      size.judgements += 1;
      j += 1;
    }
    bytes += next;
  }
  if (size.votes + size.judgements > 0) sizes.push(size);
  return sizes;
}

/** What a lifecycle's commits are made of: its tallies (whose flags `flag` sets) and candidates. */
export interface CommitSource {
  readonly tally: VoteTally;
  readonly judgements: JudgementTally;
  readonly candidates: Candidate[];
  readonly rules: { readonly boundedHistory: boolean };
}

/** The calls of the final commit: every uncommitted event, candidates and flags to clear with the first call, at least one call. */
export function finalCommitRequests(source: CommitSource, lifecycle: LifecycleRecord): CommitRequest[] {
  const sizes = sourceBatchSizes(source);
  const votes = source.tally.flag(source.tally.uncommittedEvents().length);
  const judgements = source.judgements.flag(source.judgements.uncommittedEvents().length);
  const firstCall = unstandings(source);
  const candidates = nothingCommitted(source) ? source.candidates : [];
  let v = 0;
  let j = 0;
  return (sizes.length > 0 ? sizes : [{ votes: 0, judgements: 0 }]).map((size, i) => {
    const batch = { votes: votes.slice(v, v + size.votes), judgements: judgements.slice(j, j + size.judgements) };
    v += size.votes;
    j += size.judgements;
    return {
      lifecycle,
      candidates: i === 0 ? candidates : [],
      votes: batch.votes,
      ...(batch.judgements.length > 0 ? { judgements: batch.judgements } : {}),
      ...(i === 0 ? firstCall : {}),
    };
  });
}

/** One increment: the oldest batch of uncommitted events, with the candidates if none was committed and the flags to clear. */
export function incrementRequest(source: CommitSource, lifecycle: LifecycleRecord): CommitRequest {
  const [size = { votes: 0, judgements: 0 }] = sourceBatchSizes(source);
  const candidates = nothingCommitted(source) ? source.candidates : [];
  const votes = source.tally.flag(size.votes);
  const judgements = source.judgements.flag(size.judgements);
  return { lifecycle, candidates, votes, ...(judgements.length > 0 ? { judgements } : {}), ...unstandings(source) };
}

function sourceBatchSizes(source: CommitSource): BatchSize[] {
  return batchSizes(source.tally.uncommittedEvents(), source.judgements.uncommittedEvents(), source.rules.boundedHistory);
}

function nothingCommitted(source: CommitSource): boolean {
  return source.tally.committed === 0 && source.judgements.committed === 0;
}

/** The flags a call clears: committed votes and judgements superseded since. */
function unstandings(source: CommitSource): Pick<CommitRequest, 'unstand' | 'unstandJudgements'> {
  const votes = source.tally.peekUnstood();
  const judgements = source.judgements.peekUnstood();
  return { ...(votes.length > 0 ? { unstand: [...votes] } : {}), ...(judgements.length > 0 ? { unstandJudgements: [...judgements] } : {}) };
}
