/**
 * Whether a lifecycle takes a vote or a judgement: the synchronous checks, from the request's shape
 * through channel, duplicate, phase and hand-over to the candidate, gold's first answer, a campaign
 * item's answer form and quota, and the room left in the carry. Each throws the rejection a rater is
 * told (a VoteRejection code). Separate from RatingLifecycle's bookkeeping, which they only read; its
 * validators call checkVote and checkJudgement.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { quotaFull } from './campaign-child';
import { judgementRefusal, malformedJudgementReason } from './judgement-tally';
import { hasAnswered } from './lifecycle-handed';
import type { RatingLifecycle } from './lifecycle-state';
import { VoteRejection, wrongChannelReason } from './messages';
import type { JudgementRequest, VoteRequest } from './types';
import { malformedVoteReason } from './vote-tally';

/**
 * The compact voting state (base64 digests and slots) a lifecycle may grow to: about 11 bytes per
 * accepted vote plus 30 per (rater, candidate) pair, so ≥ 25,000 votes from distinct raters or ≥ 90,000
 * from a few. Beyond it new votes are refused (LifecycleFull) rather than let the carry outgrow 2 MB
 * and the lifecycle get stuck. Judgements count the same way (a slot per rater), and so do the raters
 * handed an assigned lifecycle who have not answered it yet (lifecycle-handed.ts).
 */
export const MAX_VOTING_STATE_BYTES = 1024 * 1024;

/** Whether an accepted vote or judgement has this key: one dedupe space for both. */
function isDuplicate(lifecycle: RatingLifecycle, idempotencyKey: string): boolean {
  return lifecycle.tally.isDuplicate(idempotencyKey) || lifecycle.judgements.isDuplicate(idempotencyKey);
}

/**
 * The checks votes and judgements share, after their shape: channel, hand-over, duplicate, phase.
 * Returns true for a duplicate (accepted, answered "duplicate"); throws a rejection otherwise.
 */
function checkAcceptance(lifecycle: RatingLifecycle, request: { channel: string; idempotencyKey: string }, signalled: boolean, what: string): boolean {
  // Before the duplicate check: no event through another channel was ever accepted, so none is a repeat.
  const wrongChannel = lifecycle.rules.oneChannel ? wrongChannelReason(lifecycle.plan.channel.kind, request.channel) : undefined;
  if (wrongChannel) throw ApplicationFailure.nonRetryable(wrongChannel, VoteRejection.WrongChannel);
  if (lifecycle.continuing && lifecycle.rules.boundedHistory && !signalled) {
    throw ApplicationFailure.nonRetryable(`this run is continuing as new; send the ${what} again`, VoteRejection.RunContinuing);
  }
  // A repeated delivery of an accepted event answers "duplicate" even after close.
  if (isDuplicate(lifecycle, request.idempotencyKey)) return true;
  if (lifecycle.closeReason !== undefined || lifecycle.phase === 'committing' || lifecycle.phase === 'completed') {
    throw ApplicationFailure.nonRetryable('voting closed', VoteRejection.VotingClosed);
  }
  if (lifecycle.phase !== 'voting') throw ApplicationFailure.nonRetryable('voting has not opened yet', VoteRejection.VotingNotOpen);
  return false;
}

/**
 * An assigned lifecycle takes answers only from raters its campaign handed it to: no one reaches it around
 * `next`. One who answered has left the handed set (lifecycle-handed.ts); the tallies know them.
 */
function checkHanded(lifecycle: RatingLifecycle, rater: string): void {
  if (lifecycle.plan.delivery === 'assigned' && !lifecycle.handedTo.has(rater) && !hasAnswered(lifecycle, rater)) {
    throw ApplicationFailure.nonRetryable('this item was not handed to you by its campaign', VoteRejection.NotAssigned);
  }
}

/** The `handed` signal: the rater may answer from now on, unless they have answered already or the carry has no room for anyone new. */
export function takeHandOut(lifecycle: RatingLifecycle, rater: string): void {
  if (hasAnswered(lifecycle, rater)) return;
  if (lifecycle.rules.boundedHistory && lifecycle.votingStateBytes() >= MAX_VOTING_STATE_BYTES) return;
  lifecycle.handedTo.add(rater);
}

/** Refuses an event once the compact voting state is as large as the lifecycle can carry (bounded history). */
function checkRoom(lifecycle: RatingLifecycle): void {
  if (lifecycle.rules.boundedHistory && lifecycle.votingStateBytes() >= MAX_VOTING_STATE_BYTES) {
    throw ApplicationFailure.nonRetryable(
      `this lifecycle holds ${lifecycle.eventsAccepted} votes, as many as it can carry; voting goes on in a new lifecycle`,
      VoteRejection.LifecycleFull,
    );
  }
}

/** Campaign children: an answer that would add a standing one is refused once the item has its quota (campaign-child.ts). */
function checkQuota(lifecycle: RatingLifecycle, addsStanding: boolean, candidateId?: string): void {
  // Gold lifecycles take every rater once, for the whole campaign: no quota.
  if (!lifecycle.campaignChild || !addsStanding || lifecycle.plan.gold !== undefined) return;
  if (quotaFull(lifecycle.plan.quorum, lifecycle.tally, lifecycle.judgements, candidateId)) {
    throw ApplicationFailure.nonRetryable('this item has all the answers it asks for', VoteRejection.LifecycleFull);
  }
}

/**
 * A gold lifecycle's withdrawal from a rater with no answer yet: answered as a data item answers it
 * (`unchanged`) and kept nowhere, so it neither tells gold from data nor stands as their first answer.
 */
export function goldNoopWithdrawal(lifecycle: RatingLifecycle, rater: string, withdrawal: boolean): boolean {
  return lifecycle.plan.gold !== undefined && withdrawal && !hasAnswered(lifecycle, rater);
}

/**
 * Gold lifecycles keep a rater's first answer, whichever form it took: any other from them, vote or
 * judgement, is refused (AnswerFinal), a repeat of it answered `duplicate`. A withdrawal before any
 * answer passes (goldNoopWithdrawal).
 */
function checkFirstAnswer(lifecycle: RatingLifecycle, rater: string): void {
  if (lifecycle.plan.gold !== undefined && hasAnswered(lifecycle, rater)) {
    throw ApplicationFailure.nonRetryable('this item keeps your first answer: it cannot be changed or withdrawn', VoteRejection.AnswerFinal);
  }
}

/** Campaign children take their campaign's answer form only: judgements on compare items, votes on thumbs ones (WrongAnswerForm). */
function checkAnswerForm(lifecycle: RatingLifecycle, form: 'vote' | 'judgement'): void {
  if (!lifecycle.isCampaignItem()) return;
  const takes = lifecycle.plan.task === 'compare' ? 'judgement' : 'vote';
  if (form !== takes) {
    throw ApplicationFailure.nonRetryable(
      takes === 'judgement' ? 'this campaign item compares its two candidates: answer with a judgement, not a vote' : 'this campaign item takes thumbs votes on its candidates, not a judgement',
      VoteRejection.WrongAnswerForm,
    );
  }
}

/** The checks of a vote, in order: shape, acceptance, hand-over, candidate, first answer, answer form, quota, room. */
export function checkVote(lifecycle: RatingLifecycle, request: VoteRequest, options: { signalled?: boolean }): void {
  const malformed = malformedVoteReason(request, { isoCastAt: lifecycle.rules.isoCastAt });
  if (malformed) throw ApplicationFailure.nonRetryable(`malformed vote: ${malformed}`, VoteRejection.MalformedVote);
  if (checkAcceptance(lifecycle, request, options.signalled === true, 'vote')) return;
  checkHanded(lifecycle, request.rater);
  if (!lifecycle.tally.hasCandidate(request.candidateId)) {
    throw ApplicationFailure.nonRetryable(`unknown candidate "${request.candidateId}"`, VoteRejection.UnknownCandidate);
  }
  checkFirstAnswer(lifecycle, request.rater);
  checkAnswerForm(lifecycle, 'vote');
  checkQuota(lifecycle, request.value !== 'retract' && !lifecycle.tally.hasStanding(request.rater, request.candidateId), request.candidateId);
  checkRoom(lifecycle);
}

/** The checks of a judgement, in order: shape, acceptance, hand-over, the choice itself, first answer, answer form, quota, room. */
export function checkJudgement(lifecycle: RatingLifecycle, request: JudgementRequest, options: { signalled?: boolean }): void {
  const malformed = malformedJudgementReason(request);
  if (malformed) throw ApplicationFailure.nonRetryable(`malformed judgement: ${malformed}`, VoteRejection.MalformedVote);
  if (checkAcceptance(lifecycle, request, options.signalled === true, 'judgement')) return;
  checkHanded(lifecycle, request.rater);
  const refusal = judgementRefusal(request, { candidateIds: lifecycle.candidates.map((c) => c.id), allowBothBad: lifecycle.plan.allowBothBad !== false });
  if (refusal) throw ApplicationFailure.nonRetryable(refusal.message, refusal.code);
  checkFirstAnswer(lifecycle, request.rater);
  checkAnswerForm(lifecycle, 'judgement');
  checkQuota(lifecycle, request.choice !== 'retract' && !lifecycle.judgements.hasStanding(request.rater));
  checkRoom(lifecycle);
}
