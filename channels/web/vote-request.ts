/**
 * The web channel's mapping from a vote API request body (`POST /api/lifecycles/<id>/votes`, sent by
 * the rating page) to a Prefline VoteRequest. Pure: the route authenticates the rater and reads the
 * body; this decides what the body means, with the lifecycle's own shape check and the comment's text
 * hygiene (control and bidi-override characters refused), so a bad request is answered at the gateway
 * without a round trip.
 */
import type { ErrorCode } from '../../core/errors';
import type { RaterAuth, VoteRequest } from '../../workflows/types';
import { malformedVoteReason } from '../../workflows/vote-tally';
import { normaliseLineEnds, unsafeTextReason } from '../../core/text-hygiene';

/** What the page's idempotency keys look like (a UUID, or 32 hex digits where randomUUID is missing). */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,128}$/;
export const IDEMPOTENCY_KEY_RULE = 'idempotencyKey: 8–128 characters of A–Z, a–z, 0–9, "_" and "-"';

export type WebVoteMapping =
  | { ok: true; vote: VoteRequest }
  | { ok: false; code: (typeof ErrorCode)['InvalidIdempotencyKey' | 'MalformedVote' | 'InvalidComment']; message: string };

/**
 * `body` as the page sends it: `{candidateId, value, idempotencyKey, comment?}`. `rater` is the
 * session's pseudonym, `raterAuth` how its rater signed in, `castAt` when the gateway received the
 * vote (ISO-8601).
 */
export function webVoteRequest(body: Record<string, unknown>, rater: string, castAt: string, raterAuth: RaterAuth): WebVoteMapping {
  if (typeof body.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(body.idempotencyKey)) {
    return { ok: false, code: 'invalid_idempotency_key', message: IDEMPOTENCY_KEY_RULE };
  }
  const comment = typeof body.comment === 'string' ? normaliseLineEnds(body.comment).trim() : body.comment;
  const vote = {
    // Namespaced by rater: one rater's keys can neither replay nor shadow another's.
    idempotencyKey: `web:${rater}:${body.idempotencyKey}`,
    candidateId: body.candidateId,
    value: body.value,
    rater,
    channel: 'web',
    castAt,
    raterAuth,
    ...(comment === undefined || comment === null || comment === '' ? {} : { comment }),
  };
  const reason = malformedVoteReason(vote);
  if (reason) return { ok: false, code: 'malformed_vote', message: reason };
  // Refused, not stripped: the rater is told and can send the comment again without them (core/text-hygiene.ts).
  const unsafe = typeof comment === 'string' ? unsafeTextReason(comment) : undefined;
  if (unsafe) return { ok: false, code: 'invalid_comment', message: unsafe };
  return { ok: true, vote: vote as VoteRequest };
}
