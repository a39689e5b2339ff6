/**
 * What the clicker of a Slack button is told, and how: an ephemeral answer through the payload's
 * `response_url` when it has one on an allowed origin, redirects refused (else `chat.postEphemeral`). The texts are pure functions of the
 * lifecycle's answer; sending never throws (a lost answer is logged, the vote stands).
 */
import type { VoteRejectionCode } from '../../core/lifecycle-directory';
import { messageOf, type GatewayLog } from '../../core/http';
import type { PairChoice } from '../../core/pairwise';
import type { CandidateTally, GoldVerdict, JudgementReceipt, VoteReceipt, VoteValue } from '../../workflows/types';
import { escapeMrkdwn } from './messages';
import type { BlockActionsPayload } from './payloads';

export const ANSWERS = {
  notARater: ':no_entry: You are not on the rater list for Prefline votes here; ask the operator to add you.',
  notAVote: 'This message is not a Prefline vote (or no longer exists); nothing was counted.',
  tampered: 'This button does not belong to this message; nothing was counted.',
  foreignTeam: ':no_entry: Votes from other workspaces are not counted here; nothing was counted.',
  /** Forwarding failed, and the delivery journal keeps the click: it is answered again once recorded. */
  keepsTrying: ':hourglass: Prefline could not record your vote yet; it keeps trying and answers here when it has.',
  /** Forwarding failed and nothing keeps the click. */
  clickAgain: ':warning: Prefline could not record your vote right now; please click again in a minute.',
} as const;

const EMOJI: Record<VoteValue, string> = { up: ':+1:', down: ':-1:', retract: 'withdrawal' };

function tallyText(t: CandidateTally): string {
  return `${t.label} now has :+1: ${t.up} · :-1: ${t.down}`;
}

/**
 * The answer to a click on one candidate's button. `counts: false` (a campaign's items) leaves the tally
 * out: a campaign's receipts show no counts (its gold items would stand out, and raters would herd).
 */
export function receiptText({ receipt, value, label, counts = true }: { receipt: VoteReceipt; value: VoteValue; label: string; counts?: boolean }): string {
  return voteReceiptText(receipt, value, label, counts) + goldText(receipt.gold);
}

/** A campaign's check (gold) item answers with its verdict, as the rating page does: right, or wrong and why. */
function goldText(gold: GoldVerdict | undefined): string {
  if (!gold) return '';
  if (gold.correct) return '\n:dart: That is the expected answer.';
  return `\n:x: Not the expected answer.${gold.explanation ? ` ${escapeMrkdwn(gold.explanation)}` : ''}`;
}

function voteReceiptText(receipt: VoteReceipt, value: VoteValue, label: string, counts: boolean): string {
  const now = counts ? ` (${tallyText(receipt.candidate)})` : '';
  switch (receipt.outcome) {
    case 'recorded': return `:white_check_mark: Recorded your ${EMOJI[value]} on candidate ${label}.${now}`;
    case 'changed': return `:white_check_mark: Changed your vote on candidate ${label} to ${EMOJI[value]}.${now}`;
    case 'retracted': return `:white_check_mark: Withdrew your vote on candidate ${label}.${now}`;
    case 'duplicate': return `Already recorded.${now}`;
    default: return value === 'retract' ? `You had no vote on candidate ${label} to withdraw.` : `Your ${EMOJI[value]} on candidate ${label} already stood.${now}`;
  }
}

const SAID: Record<PairChoice, string> = { a: 'A is better', b: 'B is better', tie: 'a tie', both_bad: 'both bad', retract: 'withdraw' };

/**
 * The answer to a comparison's button (A and B as the message shows them). Progress only: not who is
 * winning; `counts: false` (a campaign's items) not even that.
 */
export function pairText(choice: PairChoice, receipt: JudgementReceipt, counts = true): string {
  return judgementReceiptText(choice, receipt, counts) + goldText(receipt.gold);
}

function judgementReceiptText(choice: PairChoice, receipt: JudgementReceipt, counts: boolean): string {
  const now = counts ? ` (${receipt.judgements.standing} ${receipt.judgements.standing === 1 ? 'answer' : 'answers'} so far)` : '';
  switch (receipt.outcome) {
    case 'recorded': return `:white_check_mark: Recorded your answer: ${SAID[choice]}.${now}`;
    case 'changed': return `:white_check_mark: Changed your answer to: ${SAID[choice]}.${now}`;
    case 'retracted': return `:white_check_mark: Withdrew your answer.${now}`;
    case 'duplicate': return `Already recorded.${now}`;
    default: return choice === 'retract' ? 'You had no answer on this comparison to withdraw.' : `Your answer (${SAID[choice]}) already stood.${now}`;
  }
}

/** The answer to a vote the lifecycle refused. */
export function rejectionText(code: VoteRejectionCode): string {
  switch (code) {
    case 'voting_closed': return ':lock: Voting on this lifecycle is closed; your vote was not counted.';
    case 'voting_not_open': return 'Voting has not opened yet; try again in a moment.';
    case 'busy': return 'Prefline is busy; please click again in a moment.';
    case 'wrong_channel': return ':no_entry: This lifecycle takes votes through another channel, not Slack; your vote was not counted.';
    default: return `This vote could not be counted (${code.replace(/_/g, ' ')}).`;
  }
}

export interface EphemeralAnswerDeps {
  /** `chat.postEphemeral`, for payloads without a `response_url` (or with one on a host that is not allowed). */
  postEphemeral(args: { channel: string; user: string; text: string; blocks?: Array<Record<string, unknown>> }): Promise<unknown>;
  /** Origins (`https://hooks.slack.com`) a `response_url` may be on; see `responseUrlOrigins`. */
  responseUrlOrigins: readonly string[];
  fetch?: typeof fetch;
  log: GatewayLog;
}

/** Where Slack's `response_url`s point. */
export const SLACK_RESPONSE_ORIGIN = 'https://hooks.slack.com';

/**
 * The origins a `response_url` may be on: the configured ones, else Slack's and the Web API's (a
 * stand-in in tests, GovSlack's host in such a deployment: the bot token is already trusted there).
 */
export function responseUrlOrigins(configured: readonly string[] | undefined, apiUrl: string): string[] {
  if (configured && configured.length > 0) return [...configured];
  let api: string | undefined;
  try {
    api = new URL(apiUrl).origin;
  } catch {
    api = undefined;
  }
  return [...new Set([SLACK_RESPONSE_ORIGIN, ...(api && api !== 'null' ? [api] : [])])];
}

/** The `response_url` when it is a URL on an allowed origin, else undefined. */
export function allowedResponseUrl(url: unknown, origins: readonly string[]): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && origins.includes(parsed.origin) && !parsed.username && !parsed.password ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** POSTs a message to a `response_url` (already checked with `allowedResponseUrl`), redirects refused; rejects unless Slack answers 2xx. */
export async function postToResponseUrl(url: string, body: Record<string, unknown>, fetchImpl: typeof fetch = fetch): Promise<void> {
  const res = await fetchImpl(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    redirect: 'error', // a redirect could lead anywhere
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}

/**
 * How an answer is shown: `blocks` under the text (a campaign item and its buttons), `replace` in place
 * of the clicked ephemeral message (so an answered item's buttons are gone).
 */
export interface AnswerOptions {
  blocks?: Array<Record<string, unknown>>;
  replace?: boolean;
}

/** Answers the clicker of `payload` (user `user` in `channel`) with `text`; never rejects. */
export type EphemeralAnswer = (payload: BlockActionsPayload, channel: string | undefined, user: string, text: string, options?: AnswerOptions) => Promise<void>;

export function createEphemeralAnswer(deps: EphemeralAnswerDeps): EphemeralAnswer {
  return async (payload, channel, user, text, options = {}) => {
    const blocks = options.blocks ? { blocks: options.blocks } : {};
    try {
      const url = allowedResponseUrl(payload.response_url, deps.responseUrlOrigins);
      if (url === undefined && payload.response_url !== undefined) {
        deps.log('warn', 'Slack response_url is not on an allowed origin; not called, answering with chat.postEphemeral', { origins: deps.responseUrlOrigins.join(',') });
      }
      if (url !== undefined) {
        // replace_original:false, or Slack may replace the candidate message with the answer.
        await postToResponseUrl(url, { response_type: 'ephemeral', replace_original: options.replace === true, text, ...blocks }, deps.fetch);
      } else if (channel) {
        await deps.postEphemeral({ channel, user, text, ...blocks });
      }
    } catch (err) {
      deps.log('warn', 'could not send the Slack ephemeral answer', { error: messageOf(err) });
    }
  };
}

/** Where a slash command's user is answered: its `response_url`, else (not on an allowed origin) `chat.postEphemeral` in its channel. */
export interface CommandTarget {
  responseUrl?: string;
  channel: string;
  user: string;
}

/** Answers a command's user with `text`; `replace` replaces the command's ephemeral acknowledgement. Never rejects. */
export type CommandResponder = (target: CommandTarget, text: string, options?: AnswerOptions) => Promise<void>;

export function createCommandResponder(deps: EphemeralAnswerDeps): CommandResponder {
  return async (target, text, options = {}) => {
    const blocks = options.blocks ? { blocks: options.blocks } : {};
    try {
      const url = allowedResponseUrl(target.responseUrl, deps.responseUrlOrigins);
      if (url !== undefined) {
        await postToResponseUrl(url, { response_type: 'ephemeral', replace_original: options.replace === true, text, ...blocks }, deps.fetch);
        return;
      }
      if (target.responseUrl !== undefined) {
        deps.log('warn', 'Slack response_url is not on an allowed origin; not called, answering with chat.postEphemeral', { origins: deps.responseUrlOrigins.join(',') });
      }
      await deps.postEphemeral({ channel: target.channel, user: target.user, text, ...blocks });
    } catch (err) {
      deps.log('warn', 'could not send the Slack command answer', { error: messageOf(err) });
    }
  };
}
