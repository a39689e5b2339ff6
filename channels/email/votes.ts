/**
 * The email channel's mapping from a verified token or reply to Prefline vote requests. Pure: the
 * routes and the reply handler verify the signature (tokens.ts) and parse the reply (reply.ts); this
 * decides the vote and its idempotency key, so the same link or the same message counts once however
 * often it arrives.
 */
import { createHash } from 'node:crypto';
import type { ParsedVote } from './reply';
import type { JudgementLinkClaims, ReplyClaims, VoteLinkClaims } from './tokens';
import type { JudgementRequest, VoteRequest } from '../../workflows/types';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** What identifies a vote link's use: a hash of the token itself (also the key of its "first use" record). */
export function linkTokenHash(token: string): string {
  return sha(token).slice(0, 40);
}

/** The vote a verified vote link casts when its confirmation page is submitted. */
export function linkVoteRequest(token: string, claims: Pick<VoteLinkClaims, 'rater' | 'candidateId' | 'value'>, castAt: string): VoteRequest {
  return {
    // From the token itself: the same link counts once, however often it is posted.
    idempotencyKey: `email:link:${linkTokenHash(token)}`,
    candidateId: claims.candidateId,
    value: claims.value,
    rater: claims.rater,
    channel: 'email',
    castAt,
  };
}

/** The judgement a verified answer link records when its confirmation page is submitted: the pair as this rater was shown it. */
export function linkJudgementRequest(token: string, claims: Pick<JudgementLinkClaims, 'rater' | 'left' | 'right' | 'choice'>, castAt: string): JudgementRequest {
  return {
    idempotencyKey: `email:link:${linkTokenHash(token)}`,
    left: claims.left,
    right: claims.right,
    choice: claims.choice,
    rater: claims.rater,
    channel: 'email',
    castAt,
  };
}

/**
 * The vote at `position` on the first line of a reply to one verified reply address: keyed by the
 * message (`messageKey`: Message-ID, else a hash of its bytes), the reply address and the position,
 * so a message delivered twice (an MTA retry, a poll after a crash, both paths) counts once.
 */
export function replyVoteRequest(messageKey: string, claims: Pick<ReplyClaims, 'token' | 'rater'>, vote: ParsedVote, position: number, castAt: string): VoteRequest {
  return {
    idempotencyKey: `email:reply:${sha(`${messageKey}\0${claims.token}\0${position}`).slice(0, 40)}`,
    candidateId: vote.candidateId,
    value: vote.value,
    rater: claims.rater,
    channel: 'email',
    castAt,
  };
}
