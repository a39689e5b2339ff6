/**
 * A campaign item handed to one Slack rater (`/prefline next`, or the "Next item" button): an ephemeral
 * message only they see, built from the item lifecycle's status, and the reading of its buttons. Pure.
 *
 * - Compare: the question, the prompt, both candidates in the order this rater is shown them
 *   (presentationOrder per lifecycle and rater, as on every channel), and A is better / B is better / Tie /
 *   Both bad (when offered). Thumbs: each candidate with 👍 / 👎. No model names unless the lifecycle
 *   reveals them; no tally (a rater's answer must not follow the others').
 * - Every button's value carries the lifecycle and the campaign (`k`), so the click finds its item without
 *   a posted message to look up, and what it names is checked against the lifecycle's status, not the
 *   message: a compare click must name the pair exactly as this rater is shown it, a thumbs click one of
 *   the lifecycle's candidates.
 * - After an answer the message is replaced with the receipt and a "Next item" button (`{k, d}`: the
 *   campaign, and the item just answered, which is never handed back).
 */
import { pairChoiceJudgement, type PairChoice } from '../../core/pairwise';
import type { Candidate, JudgementRequest, LifecycleStatus, NextItemAnswer, VoteRequest, VoteValue } from '../../workflows/types';
import { modelsShown, shownPair } from '../rater-view';
import { sideBlocks } from './compare-messages';
import { ACTION, ACTION_VOTES, MAX_BUTTON_VALUE, PAIR_CHOICES, escapeMrkdwn, modelSuffix, plain, slackDate, slackTsToIso, truncate, type Block } from './messages';
import type { BlockAction } from './payloads';

/** The "Next item" button. */
export const NEXT_ACTION = 'prefline_campaign_next';

const SECTION_TEXT_MAX = 2900;

/** What a rater is answered: text (the fallback and notifications), and the blocks where there are any. */
export interface SlackItemAnswer {
  text: string;
  blocks?: Block[];
}

/** A button value of a handed-out item: the item's lifecycle, the campaign, and what the button says. */
export interface AssignedButtonValue {
  l: string;
  k: string;
  p?: PairChoice;
  s?: string;
  c?: string;
  v?: VoteValue;
}

/** The "Next item" button's value: the campaign, and the item just answered. */
export interface NextButtonValue {
  k: string;
  d?: string;
}

/** Why `next` handed nothing out, in plain words. */
export const NO_ITEM: Record<Exclude<NextItemAnswer, { assigned: true }>['reason'], string> = {
  paused: ':double_vertical_bar: This campaign is paused; ask again later.',
  waiting: ':hourglass: No item is waiting for you right now: every open item has its answers or is being answered, or you answered them all. Ask again in a while.',
  finished: ':checkered_flag: This campaign has finished: there are no items left. Thank you for rating!',
  // The campaign's answer says why in words (its `message`), which the command shows after this.
  excluded: ':no_entry: You no longer receive items in this campaign.',
};

export const CAMPAIGN_ANSWERS = {
  notARater: ':no_entry: You are not on the rater list for Prefline here; ask the operator to add you.',
  noCampaignHere: 'No Prefline campaign is running in this channel.',
  unknownCampaign: 'There is no Prefline campaign by that id in this channel.',
  notRunning: ':checkered_flag: That campaign is not running (it has finished, or there is none by that id): there are no items to hand out.',
  busy: ':hourglass: The campaign is busy; ask again in a moment.',
  unreachable: ':warning: Prefline cannot reach the campaign right now; try again in a minute.',
  notAnItem: 'This item is not one of this channel\'s campaign items (or no longer exists); nothing was counted.',
  tampered: 'This button does not belong to this item; nothing was counted.',
  full: 'This item got all its answers before yours, so yours was not counted. Thank you all the same!',
} as const;

export function parseAssignedValue(value: unknown): Partial<AssignedButtonValue & NextButtonValue> | undefined {
  if (typeof value !== 'string' || value.length > MAX_BUTTON_VALUE) return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const k = (parsed as { k?: unknown }).k;
    return typeof k === 'string' && k.length > 0 ? (parsed as Partial<AssignedButtonValue & NextButtonValue>) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a click is on a handed-out item's message (its value names a campaign), rather than a channel post. */
export function isCampaignClick(action: BlockAction): boolean {
  return action.action_id === NEXT_ACTION || parseAssignedValue(action.value) !== undefined;
}

/** Whether a status is an item of a campaign on this Slack channel (by id, or by the name the campaign was started with). */
export function isItemOfChannel(status: LifecycleStatus, channel: { id: string; name?: string | undefined }): boolean {
  if (status.delivery !== 'assigned' || status.campaign === undefined) return false;
  return status.channel === `slack:${channel.id}` || (channel.name !== undefined && status.channel === `slack:#${channel.name}`);
}

export function nextButton(campaignId: string, done: string | undefined, label = 'Next item'): Block {
  return {
    type: 'actions',
    block_id: 'prefline_campaign_next',
    elements: [{ type: 'button', action_id: NEXT_ACTION, text: plain(label), value: JSON.stringify({ k: campaignId, ...(done !== undefined ? { d: done } : {}) } satisfies NextButtonValue), style: 'primary' }],
  };
}

/** A receipt (or a refusal) with the "Next item" button under it. */
export function withNext(text: string, campaignId: string, done: string | undefined): SlackItemAnswer {
  return { text, blocks: [{ type: 'section', block_id: 'prefline_campaign_receipt', text: { type: 'mrkdwn', text } }, nextButton(campaignId, done)] };
}

/**
 * The item as `rater` sees it. `imageUrl` gives an image candidate's public URL (a signed artifact URL on
 * the gateway's public origin); without one the rater is told where to see it.
 */
export function assignedItemMessage(status: LifecycleStatus, rater: string, campaignId: string, reservedUntil: string, imageUrl?: (sha256: string) => string | undefined): SlackItemAnswer {
  const showModels = modelsShown(status);
  const intro: Block[] = [
    { type: 'section', block_id: 'prefline_prompt', text: plain(truncate(status.prompt, SECTION_TEXT_MAX)) },
    { type: 'context', block_id: 'prefline_info', elements: [{ type: 'mrkdwn', text: `Campaign \`${escapeMrkdwn(status.campaign ?? campaignId)}\` · held for you until ${slackDate(reservedUntil)}` }] },
  ];
  const candidateImage = (c: LifecycleStatus['candidates'][number], title: string): Block[] => {
    if (c.kind !== 'image') return [];
    const url = imageUrl?.(c.artifact.sha256);
    return url
      ? [{ type: 'image', image_url: url, alt_text: truncate(`${title} for: ${status.prompt}`, 2000), title: plain(truncate(title, 200)) }]
      : [{ type: 'context', elements: [{ type: 'mrkdwn', text: `_image ${escapeMrkdwn(title)} cannot be shown here; ask the operator to set the gateway's public URL_` }] }];
  };
  const pair = status.task === 'compare' ? shownPair(status, rater) : undefined;
  if (pair) {
    const question = status.question ?? 'Which is better?';
    const sides = (['A', 'B'] as const).flatMap((position, i) => {
      const c = pair[i]!;
      const blocks = sideBlocks(position, status.prompt, c as unknown as Candidate, undefined, showModels);
      // sideBlocks shows an uploaded Slack file; here the image comes by URL.
      return [...(i === 1 ? [{ type: 'divider' }] : []), ...(c.kind === 'image' ? [blocks[0]!, ...candidateImage(c, position)] : blocks)];
    });
    const value = (p: PairChoice) => JSON.stringify({ l: status.lifecycleId, k: campaignId, p, s: `${pair[0].id},${pair[1].id}` } satisfies AssignedButtonValue);
    const buttons = [
      { type: 'button', action_id: ACTION.preferA, text: plain('A is better'), value: value('a'), style: 'primary' },
      { type: 'button', action_id: ACTION.preferB, text: plain('B is better'), value: value('b'), style: 'primary' },
      { type: 'button', action_id: ACTION.tie, text: plain('Tie'), value: value('tie') },
      ...(status.allowBothBad === false ? [] : [{ type: 'button', action_id: ACTION.bothBad, text: plain('Both bad'), value: value('both_bad') }]),
    ];
    return {
      text: `${truncate(question, 200)} ${escapeMrkdwn(truncate(status.prompt, 200))}`,
      blocks: [{ type: 'header', block_id: 'prefline_question', text: plain(truncate(question, 150)) }, ...intro, { type: 'divider' }, ...sides, { type: 'divider' }, { type: 'actions', block_id: 'prefline_pair', elements: buttons }],
    };
  }
  const candidates = status.candidates.flatMap((c) => {
    const title = `Candidate ${c.label}`;
    const header: Block = { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(title)}*${modelSuffix(c.model, showModels)}${c.placeholder ? ' · :warning: demo placeholder, not a real model output' : ''}` } };
    const body = c.kind === 'image' ? candidateImage(c, title) : [{ type: 'section', text: plain(truncate(c.text ?? '(empty output)', SECTION_TEXT_MAX)) }];
    const value = (v: VoteValue) => JSON.stringify({ l: status.lifecycleId, k: campaignId, c: c.id, v } satisfies AssignedButtonValue);
    return [header, ...body, {
      type: 'actions',
      elements: [
        { type: 'button', action_id: ACTION.up, text: plain(':+1: Good'), value: value('up'), style: 'primary' },
        { type: 'button', action_id: ACTION.down, text: plain(':-1: Bad'), value: value('down'), style: 'danger' },
      ],
    }];
  });
  return { text: escapeMrkdwn(truncate(status.prompt, 200)), blocks: [...intro, { type: 'divider' }, ...candidates] };
}

export type AssignedReading =
  | { judgement: JudgementRequest; choice: PairChoice }
  | { vote: VoteRequest; label: string }
  | { tampered: true };

/**
 * What a click on a handed-out item casts, checked against the item's status: the pair as `who.rater` is
 * shown it, or one of its candidates. Idempotency key `slack:<team>:<action_ts>:<rater>`, as channel posts.
 */
export function readAssignedClick(action: BlockAction, status: LifecycleStatus, who: { rater: string; team: string }, nowMs: number): AssignedReading {
  const value = parseAssignedValue(action.value);
  if (value?.l !== status.lifecycleId) return { tampered: true };
  const idempotencyKey = `slack:${who.team}:${action.action_ts}:${who.rater}`;
  const castAt = slackTsToIso(action.action_ts) ?? new Date(nowMs).toISOString();
  const actionId = action.action_id ?? '';
  const choice = PAIR_CHOICES[actionId];
  const single = ACTION_VOTES[actionId];
  if (choice && choice !== 'retract') {
    const pair = status.task === 'compare' ? shownPair(status, who.rater) : undefined;
    if (!pair || value.p !== choice || value.s !== `${pair[0].id},${pair[1].id}`) return { tampered: true };
    return { judgement: { rater: who.rater, channel: 'slack', castAt, idempotencyKey, left: pair[0].id, right: pair[1].id, choice: pairChoiceJudgement(choice) }, choice };
  }
  if (single && single !== 'retract') {
    const candidate = status.task === 'compare' ? undefined : status.candidates.find((c) => c.id === value.c);
    if (!candidate || value.v !== single) return { tampered: true };
    return { vote: { rater: who.rater, channel: 'slack', castAt, idempotencyKey, candidateId: candidate.id, value: single }, label: candidate.label };
  }
  return { tampered: true };
}
