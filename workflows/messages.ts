/**
 * Every signal, update and query of a rating lifecycle, defined once. The gateway, the CLI,
 * the benchmark and the tests import these constants; wire names are stable strings.
 *
 * Why both an update and a signal for votes: a rater in the browser (or a Slack button) needs an
 * answer ("recorded", "changed", "voting closed"), which only an Update with a validator gives, and a
 * rejected update leaves no trace in history. Fire-and-forget sources that cannot show an answer
 * (bulk imports, reaction floods) may use the signal, which costs one history event instead of two and
 * is not subject to the server's limit of 10 in-flight updates per workflow. `bench/votes` measures both.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { ErrorCode } from '../core/errors';
import type {
  CampaignCancelRequest, CampaignItemReport, CampaignRaterRecord, CampaignStatus, ChannelSpec, CloseRequest, ItemHandedRequest, JudgementReceipt, JudgementRequest, LifecycleStatus, NextItemAnswer,
  NextItemRequest, VoteReceipt, VoteRequest,
} from './types';

export const WORKFLOW_TYPE = 'ratingLifecycle';
/** A lifecycle's channel kind as a search attribute: readers that must not need a worker describe it (core/temporal-directory.ts). */
export { channelKey } from './search-attributes';

export const voteUpdate = defineUpdate<VoteReceipt, [VoteRequest]>('vote');
export const voteSignal = defineSignal<[VoteRequest]>('vote-signal');
/**
 * Judgements ("which of the two is better?") come the same two ways as votes: the update for sources that
 * show the rater an answer, the signal for fire-and-forget ones. Their validator rejects with the same
 * VoteRejection codes (plus NotPairwise and ChoiceNotOffered).
 */
export const judgeUpdate = defineUpdate<JudgementReceipt, [JudgementRequest]>('judge');
export const judgeSignal = defineSignal<[JudgementRequest]>('judge-signal');
export const closeSignal = defineSignal<[CloseRequest]>('close');
/**
 * A campaign hands its assigned lifecycle to a rater (`next`, email digests) and tells it so before the rater
 * can answer: the lifecycle takes answers from handed raters only (the workflow decides, not the gateway).
 */
export const itemHandedSignal = defineSignal<[ItemHandedRequest]>('handed');
export const statusQuery = defineQuery<LifecycleStatus>('status');

/**
 * ApplicationFailure types the vote validator rejects with: catalogue codes (core/errors.ts), which
 * VoteRejectedError and the HTTP answer carry unchanged. A rejected update leaves no trace in
 * history, so these strings are not replayed.
 */
export const VoteRejection = {
  VotingClosed: ErrorCode.VotingClosed,
  VotingNotOpen: ErrorCode.VotingNotOpen,
  UnknownCandidate: ErrorCode.UnknownCandidate,
  MalformedVote: ErrorCode.MalformedVote,
  /** The vote came through another channel than the lifecycle's (web on a Slack lifecycle, …). */
  WrongChannel: ErrorCode.WrongChannel,
  /**
   * This run is handing over to a new one (continue-as-new): retry, and the vote lands there. Keeps a
   * run's updates below the server's 2,000 while signals hold up its hand-over (the gateway retries these).
   */
  RunContinuing: ErrorCode.RunContinuing,
  /** The lifecycle carries as many votes as it can (MAX_VOTING_STATE_BYTES); it takes no new ones. */
  LifecycleFull: ErrorCode.LifecycleFull,
  /** A judgement on a lifecycle that does not have exactly two candidates to compare. */
  NotPairwise: ErrorCode.NotPairwise,
  /** A judgement answering "both bad" on a lifecycle that does not offer it (allowBothBad: false). */
  ChoiceNotOffered: ErrorCode.ChoiceNotOffered,
  /** A changed or withdrawn answer on a campaign's gold lifecycle, where a rater's first answer is the one scored. */
  AnswerFinal: ErrorCode.AnswerFinal,
  /** An answer on an assigned lifecycle (a campaign's item) from a rater its campaign did not hand it to. */
  NotAssigned: ErrorCode.NotAssigned,
  /** A vote on a compare campaign's item, or a judgement on a thumbs campaign's: outside the campaign's quota and data. */
  WrongAnswerForm: ErrorCode.WrongAnswerForm,
} as const;
export type VoteRejectionType = (typeof VoteRejection)[keyof typeof VoteRejection];

/** The failure type of a lifecycle started with input it cannot run. */
export const INVALID_INPUT_ERROR = ErrorCode.LifecycleInputInvalid;

// Campaigns (workflows/rating-campaign.ts): one workflow per campaign, one child lifecycle per item.
export const CAMPAIGN_WORKFLOW_TYPE = 'ratingCampaign';
/** Child lifecycles report to their campaign: opened, each answer that changes the standing, closed, failed. */
export const campaignItemReportSignal = defineSignal<[CampaignItemReport]>('campaign-item-report');
export const campaignPauseSignal = defineSignal('pause');
export const campaignResumeSignal = defineSignal('resume');
/** Closes every open item (each commits what it has) and starts no more. */
export const campaignCancelSignal = defineSignal<[CampaignCancelRequest]>('cancel');
/** An open item for this rater (not answered by them, furthest from its quota), reserved for them a while. */
export const nextItemUpdate = defineUpdate<NextItemAnswer, [NextItemRequest]>('next');
export const campaignStatusQuery = defineQuery<CampaignStatus>('status');
/** Every rater of the campaign as it stands: answers, gold answered and correct, score, status and why. */
export const campaignRatersQuery = defineQuery<CampaignRaterRecord[]>('raters');
/** The failure type of a campaign started with input it cannot run. */
export const INVALID_CAMPAIGN_INPUT_ERROR = ErrorCode.CampaignInputInvalid;
/**
 * The vote channels a lifecycle's channel takes: its own, and for web lifecycles also `cli` (the ops
 * CLI votes on web lifecycles for testing). A vote's `channel` is set by the gateway route it came in
 * through, so a web session cannot vote on a Slack or email lifecycle and bypass its rater rules. Both the
 * workflow's validator and the gateway's directory (core/lifecycle-channels.ts) apply it.
 */
export const VOTE_CHANNELS: Readonly<Record<ChannelSpec['kind'], readonly string[]>> = {
  web: ['web', 'cli'],
  slack: ['slack'],
  email: ['email'],
};

/** Why a vote through `voteChannel` is refused on a lifecycle of channel `kind`, or undefined if it is not. */
export function wrongChannelReason(kind: ChannelSpec['kind'], voteChannel: string): string | undefined {
  const accepted = VOTE_CHANNELS[kind];
  if (accepted.includes(voteChannel)) return undefined;
  return `wrong channel: this is a ${kind} lifecycle, which takes votes through ${accepted.map((c) => `"${c}"`).join(' or ')} only, not "${voteChannel}"`;
}

export * from './chat-messages';
