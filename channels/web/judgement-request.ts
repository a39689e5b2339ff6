/**
 * The web channel's mapping from a judgement API request body (`POST /api/lifecycles/<id>/judgements`,
 * sent by the rating page) to a Prefline JudgementRequest. Pure, like vote-request.ts: the route
 * authenticates the rater, reads the body and looks up the order this rater is shown the pair in
 * (channels/rater-view.ts `shownPair`); this decides what the body means. The body names the order it
 * answers (`left`, `right`), and it must be the rater's own (`orderRefusal`): an answer about another
 * order than the one shown would record a position the rater never saw. Shape and comment hygiene are
 * refused without a round trip; whether the lifecycle offers the answer is the lifecycle's check.
 */
import type { ErrorCode } from '../../core/errors';
import { normaliseLineEnds, unsafeTextReason } from '../../core/text-hygiene';
import { malformedJudgementReason } from '../../workflows/judgement-tally';
import type { JudgementRequest, RaterAuth } from '../../workflows/types';
import { IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_RULE } from './vote-request';

export type WebJudgementMapping =
  | { ok: true; judgement: JudgementRequest }
  | { ok: false; code: (typeof ErrorCode)['InvalidIdempotencyKey' | 'MalformedVote' | 'InvalidComment']; message: string };

/**
 * `body` as the page sends it: `{left, right, choice, idempotencyKey, comment?}`. `rater` is the
 * session's pseudonym, `raterAuth` how its rater signed in, `castAt` when the gateway received the
 * answer (ISO-8601). The order is checked next, against the lifecycle (`orderRefusal`).
 */
export function webJudgementRequest(body: Record<string, unknown>, rater: string, castAt: string, raterAuth: RaterAuth): WebJudgementMapping {
  if (typeof body.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(body.idempotencyKey)) {
    return { ok: false, code: 'invalid_idempotency_key', message: IDEMPOTENCY_KEY_RULE };
  }
  const comment = typeof body.comment === 'string' ? normaliseLineEnds(body.comment).trim() : body.comment;
  const judgement = {
    // Namespaced by rater, as votes are (and in the same space: a key counts once as either).
    idempotencyKey: `web:${rater}:${body.idempotencyKey}`,
    left: body.left,
    right: body.right,
    choice: body.choice,
    rater,
    channel: 'web',
    castAt,
    raterAuth,
    ...(comment === undefined || comment === null || comment === '' ? {} : { comment }),
  };
  const reason = malformedJudgementReason(judgement);
  if (reason) return { ok: false, code: 'malformed_vote', message: reason };
  const unsafe = typeof comment === 'string' ? unsafeTextReason(comment) : undefined;
  if (unsafe) return { ok: false, code: 'invalid_comment', message: unsafe };
  return { ok: true, judgement: judgement as JudgementRequest };
}

/** Why a judgement does not answer the order its rater is shown, `shown` = [left, right]; undefined if it does. */
export function orderRefusal(judgement: Pick<JudgementRequest, 'left' | 'right'>, shown: readonly [string, string]): string | undefined {
  if (judgement.left === shown[0] && judgement.right === shown[1]) return undefined;
  return `left, right: must be the order you are shown, left "${shown[0]}" and right "${shown[1]}"`;
}
