/**
 * Slack's mapping from a platform event to Prefline vote requests. Pure: no Slack client, no lookups.
 * The inbound (inbound.ts) reads the event with these, looks the message up, checks the allow-list,
 * and forwards what they return.
 *
 * - Reactions: only 👍/👎 (any skin tone) on this bot's own candidate messages count; the bot's own
 *   reactions never do. A removed reaction is a retraction. Idempotency key `slack:<event_id>`;
 *   cast at Slack's event time, so a removal that overtakes its add still wins.
 * - Buttons: the message decides what is voted on, a button value that disagrees with it was tampered
 *   with. Idempotency key `slack:<team>:<action_ts>:<rater pseudonym>` (one per candidate for a
 *   comparison): stable across gateway processes, and the ledger never holds who clicked.
 * - A comparison's buttons (a two-model thumbs header, a compare message) are one judgement each
 *   (core/pairwise.ts): A is the candidate the message shows first, B the second, and the value must name
 *   the pair exactly as the message shows it (a compare message: presentationOrder by lifecycle id;
 *   a thumbs header: A, B), or the click was tampered with. Ties and both-bad are answers of their own.
 */
import { ACTION_VOTES, PAIR_CHOICES, parseButtonValue, reactionVote, safeMessageRef, slackTsToIso } from './messages';
import { SLACK_ID, type BlockAction, type ReactionEnvelope } from './payloads';
import { pairChoiceJudgement, type PairChoice } from '../../core/pairwise';
import type { PostInfo } from '../../core/post-directory';
import type { JudgementRequest, VoteRequest, VoteValue } from '../../workflows/types';
import { shownPair } from '../rater-view';

/** Why an event counts for nothing (logged at debug, counted as ignored). */
export interface NotAVote {
  skip: string;
  detail?: unknown;
}

/** A 👍/👎 reaction (added or removed) on some message, read off its envelope. */
export interface ThumbReaction {
  eventId: string;
  /** Slack user id of the reacting user. */
  user: string;
  direction: 'up' | 'down';
  removed: boolean;
  /** The message's author, when Slack says. */
  itemUser?: string;
  /** The message's reference `slack:<channel>:<ts>`, undefined when its ids are malformed. */
  ref: string | undefined;
  /** When the rater reacted, per Slack (`event_ts`), when well-formed. */
  eventTs: string | undefined;
  eventTime: unknown;
}

export function isNotAVote(value: unknown): value is NotAVote {
  return typeof value === 'object' && value !== null && 'skip' in value;
}

/** The reaction of a `reaction_added` / `reaction_removed` envelope, if it may be a vote at all. */
export function readReaction(envelope: ReactionEnvelope): ThumbReaction | NotAVote {
  const event = envelope.event;
  const direction = reactionVote(event.reaction);
  if (!direction) return { skip: 'emoji is not a vote', detail: event.reaction };
  if (event.item?.type !== 'message' || typeof event.user !== 'string' || !SLACK_ID.test(event.user)) return { skip: 'not a reaction on a message' };
  return {
    eventId: envelope.event_id,
    user: event.user,
    direction,
    removed: event.type !== 'reaction_added',
    ...(event.item_user !== undefined ? { itemUser: event.item_user } : {}),
    ref: safeMessageRef(event.item.channel, event.item.ts),
    eventTs: slackTsToIso(event.event_ts),
    eventTime: envelope.event_time,
  };
}

/** Why a reaction is not one a rater put on this bot's post, given the bot's user id; undefined if it is. */
export function notOnOurPost(reaction: ThumbReaction, botUserId: string): NotAVote | undefined {
  if (reaction.user === botUserId) return { skip: "the bot's own reaction" };
  // item_user is the message's author: a message by anyone else cannot be a Prefline post.
  if (reaction.itemUser !== undefined && reaction.itemUser !== botUserId) return { skip: 'not a message of this bot' };
  return undefined;
}

/** The vote a reaction on a candidate message casts. `nowMs` stands in for a missing event time. */
export function reactionVoteRequest(reaction: ThumbReaction, candidateId: string, rater: string, nowMs: number): VoteRequest {
  return {
    idempotencyKey: `slack:${reaction.eventId}`,
    candidateId,
    value: reaction.removed ? 'retract' : reaction.direction,
    rater,
    channel: 'slack',
    castAt: reaction.eventTs ?? new Date((Number(reaction.eventTime) || nowMs / 1000) * 1000).toISOString(),
  };
}

/** A click's vote, with the label of its candidate (for the answer to the clicker). */
export interface ButtonVotes {
  votes: Array<{ request: VoteRequest; label: string }>;
}

/** A comparison button's judgement, and the choice as the clicker saw it (for the answer). */
export interface ButtonJudgement {
  judgement: JudgementRequest;
  choice: PairChoice;
}

export type ButtonReading = ButtonVotes | ButtonJudgement | { tampered: true } | NotAVote;

/**
 * The vote or judgement a click on one of Prefline's buttons casts on the message it belongs to
 * (`post`), by the rater `rater` of team `team`. `nowMs` stands in for a malformed `action_ts`.
 */
export function buttonVoteRequests(action: BlockAction, post: PostInfo, who: { rater: string; team: string }, nowMs: number): ButtonReading {
  const value = parseButtonValue(action.value);
  if (value?.l !== post.lifecycleId) return { tampered: true };
  const key = `slack:${who.team}:${action.action_ts}:${who.rater}`;
  const castAt = slackTsToIso(action.action_ts) ?? new Date(nowMs).toISOString();
  const vote = (candidateId: string, v: VoteValue, idempotencyKey: string): VoteRequest => ({
    rater: who.rater, channel: 'slack', castAt, idempotencyKey, candidateId, value: v,
  });

  const actionId = action.action_id ?? '';
  const single = ACTION_VOTES[actionId];
  const choice = PAIR_CHOICES[actionId];
  if (single) {
    if (!post.candidateId || value.c !== post.candidateId || value.v !== single) return { tampered: true };
    return { votes: [{ request: vote(post.candidateId, single, key), label: labelOf(post, post.candidateId) }] };
  }
  if (choice) {
    const shown = shownPair({ lifecycleId: post.lifecycleId, task: post.task, candidates: post.candidates.map((c) => c.id) }, undefined);
    if (post.candidateId !== undefined || !shown || value.p !== choice) return { tampered: true };
    // Buttons posted before judgements carry no pair; they were only ever on thumbs headers, showing A, B.
    const named = value.s === undefined && post.task !== 'compare' ? shown.join(',') : value.s;
    if (named !== shown.join(',')) return { tampered: true };
    const [left, right] = shown;
    return { judgement: { rater: who.rater, channel: 'slack', castAt, idempotencyKey: key, left, right, choice: pairChoiceJudgement(choice) }, choice };
  }
  return { skip: 'unknown action', detail: action.action_id };
}

function labelOf(post: PostInfo, candidateId: string): string {
  return post.candidates.find((c) => c.id === candidateId)?.label ?? candidateId;
}
