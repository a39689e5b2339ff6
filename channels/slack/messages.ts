/**
 * What Prefline posts to Slack and how it reads votes back: Block Kit builders for the header and the
 * candidate messages, the buttons' action ids and values, message metadata, message references and
 * reaction names. Pure; shared by the publisher (workers) and the inbound handlers (gateway).
 *
 * Layout of a thumbs lifecycle: one header message (prompt, deadline, quorum, live tally; for a two-model
 * A/B lifecycle also "A is better" / "B is better" / "Tie" / withdraw, answered as judgements) and then one
 * message per candidate (image or text, 👍/👎/withdraw buttons), so a reaction on a message identifies its
 * candidate. A compare lifecycle is one message with both candidates (compare-messages.ts).
 *
 * Model names are shown to raters only where the rater view allows it (channels/rater-view.ts): with
 * `revealModels`, or once voting has closed.
 */
import { isPairChoice, type PairChoice } from '../../core/pairwise';
import { modelsShown } from '../rater-view';
import type { Candidate, CandidateTally, CloseReason, LifecyclePlan, VoteValue } from '../../workflows/types';

/** Message metadata event type: finds a lifecycle's earlier posts in `conversations.history`. */
export const METADATA_EVENT_TYPE = 'prefline_lifecycle';

export const ACTION = {
  up: 'prefline_vote_up',
  down: 'prefline_vote_down',
  retract: 'prefline_vote_retract',
  preferA: 'prefline_prefer_a',
  preferB: 'prefline_prefer_b',
  tie: 'prefline_prefer_tie',
  bothBad: 'prefline_prefer_both_bad',
  retractPair: 'prefline_prefer_retract',
} as const;

const BLOCK = {
  prompt: 'prefline_prompt',
  info: 'prefline_info',
  placeholder: 'prefline_placeholder',
  pair: 'prefline_pair',
  how: 'prefline_how',
  tally: 'prefline_tally',
  closed: 'prefline_closed',
  candidate: 'prefline_candidate',
  image: 'prefline_image',
  text: 'prefline_text',
  actions: 'prefline_actions',
} as const;

/** Section text limit is 3000 characters; stay below with room for an ellipsis. */
const SECTION_TEXT_MAX = 2900;
/** Long text candidates are split over at most this many sections (a message holds 50 blocks). */
const MAX_TEXT_SECTIONS = 12;
/** Button values hold at most 2000 characters. */
export const MAX_BUTTON_VALUE = 2000;

export type Block = Record<string, unknown>;

/** What the header's metadata carries so an update or close on any host can rebuild it. */
export interface HeaderMeta {
  lifecycleId: string;
  part: 'header';
  deadlineAt: string;
  placeholder: boolean;
  /**
   * Candidate ids shown as A and B (first and second) on a pairwise lifecycle's buttons, `<a>,<b>`;
   * empty otherwise. On a compare lifecycle: the order its one message shows them in.
   */
  pair: string;
  /** Set on a compare lifecycle's message (compare-messages.ts). */
  task?: 'compare';
  /** A compare message's uploaded images, `<candidate id>=<file id>,…`. */
  files?: string;
}

export interface CandidateMeta {
  lifecycleId: string;
  part: string; // `candidate:<id>`
  fileId?: string;
}

export type PartMeta = HeaderMeta | CandidateMeta;

/** The part a message's metadata names (our own `prefline_lifecycle` metadata only), as posted. */
export function readPartMeta(metadata: unknown): PartMeta | undefined {
  const m = metadata as { event_type?: unknown; event_payload?: Record<string, unknown> } | undefined;
  if (m?.event_type !== METADATA_EVENT_TYPE || typeof m.event_payload !== 'object' || m.event_payload === null) return undefined;
  const p = m.event_payload;
  if (typeof p.lifecycleId !== 'string' || typeof p.part !== 'string') return undefined;
  if (p.part === 'header') {
    return {
      lifecycleId: p.lifecycleId,
      part: 'header',
      deadlineAt: typeof p.deadlineAt === 'string' ? p.deadlineAt : new Date(0).toISOString(),
      placeholder: p.placeholder === true,
      pair: typeof p.pair === 'string' ? p.pair : '',
      ...(p.task === 'compare' ? { task: 'compare' as const } : {}),
      ...(typeof p.files === 'string' ? { files: p.files } : {}),
    };
  }
  if (!p.part.startsWith('candidate:')) return undefined;
  return { lifecycleId: p.lifecycleId, part: p.part, ...(typeof p.fileId === 'string' ? { fileId: p.fileId } : {}) };
}

export function candidatePart(candidateId: string): string {
  return `candidate:${candidateId}`;
}

/** `slack:<channel id>:<ts>`: the reference recorded in PreflinePostRefs and the lifecycle's status. */
export function messageRef(channelId: string, ts: string): string {
  return `slack:${channelId}:${ts}`;
}

const CHANNEL_ID = /^[A-Z0-9]{1,24}$/;
const MESSAGE_TS = /^\d{1,12}\.\d{1,8}$/;
/** What `safeMessageRef` builds: the only references worth a lookup. */
export const SAFE_MESSAGE_REF = /^slack:[A-Z0-9]{1,24}:\d{1,12}\.\d{1,8}$/;

/** A reference built only from well-formed ids, safe to put in a visibility query; undefined otherwise. */
export function safeMessageRef(channelId: unknown, ts: unknown): string | undefined {
  if (typeof channelId !== 'string' || typeof ts !== 'string') return undefined;
  return CHANNEL_ID.test(channelId) && MESSAGE_TS.test(ts) ? messageRef(channelId, ts) : undefined;
}

/** Slack timestamps (`1700000000.000100`, seconds) as ISO-8601 with millisecond precision. */
export function slackTsToIso(ts: unknown): string | undefined {
  if (typeof ts !== 'string' || !MESSAGE_TS.test(ts)) return undefined;
  const [seconds, fraction = ''] = ts.split('.');
  const ms = Number(seconds) * 1000 + Number(fraction.padEnd(3, '0').slice(0, 3));
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Reaction name → vote. Slack names carry no colons but append skin tones (`+1::skin-tone-4`).
 * Only thumbs count; every other emoji is ignored.
 */
export function reactionVote(reaction: unknown): 'up' | 'down' | undefined {
  if (typeof reaction !== 'string') return undefined;
  const base = reaction.split('::')[0];
  if (base === '+1' || base === 'thumbsup') return 'up';
  if (base === '-1' || base === 'thumbsdown') return 'down';
  return undefined;
}

/** A candidate button's value: lifecycle, candidate and vote (the gateway cross-checks them against the message). */
export interface CandidateButtonValue {
  l: string;
  c: string;
  v: VoteValue;
}
/**
 * A pair button's value: lifecycle, choice, and the pair as the message shows it (`s`: `<a>,<b>`, the
 * candidate ids shown first and second; absent on buttons posted before judgements, which showed A, B).
 */
export interface PairButtonValue {
  l: string;
  p: PairChoice;
  s?: string;
}

export function parseButtonValue(value: unknown): Partial<CandidateButtonValue & PairButtonValue> | undefined {
  if (typeof value !== 'string' || value.length > MAX_BUTTON_VALUE) return undefined;
  try {
    const parsed = JSON.parse(value) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Partial<CandidateButtonValue & PairButtonValue>) : undefined;
  } catch {
    return undefined;
  }
}

export const ACTION_VOTES: Readonly<Record<string, VoteValue>> = { [ACTION.up]: 'up', [ACTION.down]: 'down', [ACTION.retract]: 'retract' };
export const PAIR_CHOICES: Readonly<Record<string, PairChoice>> = {
  [ACTION.preferA]: 'a', [ACTION.preferB]: 'b', [ACTION.tie]: 'tie', [ACTION.bothBad]: 'both_bad', [ACTION.retractPair]: 'retract',
};

/** A pair button's value for `choice` on lifecycle `lifecycleId`, showing `pair` ([a, b]). */
export function pairButtonValue(lifecycleId: string, choice: PairChoice, pair: readonly [string, string]): string {
  if (!isPairChoice(choice)) throw new Error(`not a pair choice: ${String(choice)}`);
  return JSON.stringify({ l: lifecycleId, p: choice, s: pair.join(',') } satisfies PairButtonValue);
}

/** Two candidates from two models: the header offers the pairwise buttons. */
export function isPairwise(plan: LifecyclePlan, candidates: ReadonlyArray<unknown>): boolean {
  return plan.task !== 'compare' && plan.models.length === 2 && candidates.length === 2;
}

/** Whether raters may see model names on a post of `plan` (channels/rater-view.ts `modelsShown`). */
export function postShowsModels(plan: Pick<LifecyclePlan, 'revealModels'>, closed: boolean): boolean {
  return modelsShown({ revealModels: plan.revealModels, phase: closed ? 'completed' : 'voting' });
}

// ---- text helpers ------------------------------------------------------------------------------

export function plain(text: string): Block {
  return { type: 'plain_text', text, emoji: true };
}

/** mrkdwn with user text escaped (Slack's three control characters), so a prompt cannot @-mention anyone. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function slackDate(iso: string): string {
  const unix = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${unix}^{date_short_pretty} at {time}|${escapeMrkdwn(iso)}>`;
}

export function quorumText(plan: LifecyclePlan): string {
  const { quorum } = plan;
  if (quorum.kind === 'responses') return `${quorum.responses} answers`;
  return quorum.kind === 'total' ? `${quorum.votes} votes in total` : `${quorum.votes} votes on every candidate`;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}

function tallyLine(t: CandidateTally): string {
  return `*${escapeMrkdwn(t.label)}*  :+1: ${t.up} · :-1: ${t.down}  (score ${signed(t.score)})`;
}

export const CLOSE_REASONS: Record<CloseReason, string> = {
  quorum: 'quorum reached',
  deadline: 'deadline passed',
  closed: 'closed by an operator',
};

function winnerText(tally: CandidateTally[]): string {
  const voted = tally.filter((t) => t.votes > 0);
  if (voted.length === 0) return 'No votes were cast.';
  const best = Math.max(...voted.map((t) => t.score));
  const top = voted.filter((t) => t.score === best).map((t) => `*${escapeMrkdwn(t.label)}*`);
  return top.length === 1 ? `:trophy: Preferred: ${top[0]}` : `Tie between ${top.join(' and ')}`;
}

// ---- header ------------------------------------------------------------------------------------

export interface HeaderState {
  tally?: CandidateTally[];
  votesAccepted?: number;
  closed?: { reason: CloseReason; tally: CandidateTally[] };
}

/**
 * The header's fallback `text` (notifications, screen readers, clients without blocks). Slack parses it
 * as mrkdwn, so the prompt is escaped like the blocks: `<!channel>` or `<http://x|y>` shows literally.
 */
export function headerText(plan: LifecyclePlan, state: HeaderState = {}): string {
  const prompt = escapeMrkdwn(truncate(plan.prompt, 200));
  if (state.closed) return `Voting closed (${CLOSE_REASONS[state.closed.reason]}): ${prompt}`;
  return `Rate the candidates for: ${prompt}`;
}

export function headerBlocks(plan: LifecyclePlan, meta: HeaderMeta, state: HeaderState = {}): Block[] {
  const blocks: Block[] = [
    { type: 'header', text: plain(state.closed ? 'Voting closed: which output is better?' : 'Which output is better?') },
    // plain_text: the prompt is user input and must not format, link or mention.
    { type: 'section', block_id: BLOCK.prompt, text: plain(truncate(plan.prompt, SECTION_TEXT_MAX)) },
    {
      type: 'context',
      block_id: BLOCK.info,
      elements: [{
        type: 'mrkdwn',
        text: `${state.closed ? 'Voting closed' : `Voting closes ${slackDate(meta.deadlineAt)}`} · quorum: ${quorumText(plan)}${modelsLine(plan, state.closed !== undefined)}`,
      }],
    },
  ];
  if (meta.placeholder) {
    blocks.push({ type: 'context', block_id: BLOCK.placeholder, elements: [{ type: 'mrkdwn', text: ':warning: *Demo placeholder* outputs, not real model outputs.' }] });
  }
  if (state.closed) {
    const reason = CLOSE_REASONS[state.closed.reason];
    blocks.push({ type: 'section', block_id: BLOCK.tally, text: { type: 'mrkdwn', text: `*Final result*\n${state.closed.tally.map(tallyLine).join('\n')}\n${winnerText(state.closed.tally)}` } });
    blocks.push({ type: 'context', block_id: BLOCK.closed, elements: [{ type: 'mrkdwn', text: `:lock: *Voting closed* (${reason}). Thank you for rating!` }] });
    return blocks;
  }
  const [a, b] = meta.pair ? meta.pair.split(',') : [];
  if (a && b) {
    const value = (p: PairChoice) => pairButtonValue(meta.lifecycleId, p, [a, b]);
    blocks.push({
      type: 'actions',
      block_id: BLOCK.pair,
      elements: [
        { type: 'button', action_id: ACTION.preferA, text: plain('A is better'), value: value('a'), style: 'primary' },
        { type: 'button', action_id: ACTION.preferB, text: plain('B is better'), value: value('b'), style: 'primary' },
        { type: 'button', action_id: ACTION.tie, text: plain('Tie'), value: value('tie') },
        { type: 'button', action_id: ACTION.retractPair, text: plain('Withdraw my A/B answer'), value: value('retract') },
      ],
    });
  }
  blocks.push({
    type: 'context',
    block_id: BLOCK.how,
    elements: [{ type: 'mrkdwn', text: 'Vote with :+1: or :-1: reactions on each candidate below, or with its buttons. Removing your reaction withdraws your vote; your latest vote counts.' }],
  });
  const tally = state.tally ?? [];
  const tallyText = tally.length === 0 || tally.every((t) => t.votes === 0)
    ? '*Live tally:* no votes yet'
    : `*Live tally* (${state.votesAccepted ?? 0} votes received)\n${tally.map(tallyLine).join('\n')}`;
  blocks.push({ type: 'section', block_id: BLOCK.tally, text: { type: 'mrkdwn', text: tallyText } });
  return blocks;
}

// ---- candidates --------------------------------------------------------------------------------

/** A candidate message's fallback `text` (escaped: see headerText). */
export function candidateText(candidate: Pick<Candidate, 'label'>): string {
  return `Candidate ${escapeMrkdwn(candidate.label)}`;
}

/** A closed candidate message's fallback `text`. */
export function closedCandidateText(label: string): string {
  return `Candidate ${escapeMrkdwn(label)} (voting closed)`;
}

/** ` · \`model\`` where models are shown, else nothing. */
export function modelSuffix(model: string, shown: boolean): string {
  return shown ? ` · \`${escapeMrkdwn(model)}\`` : '';
}

function modelsLine(plan: LifecyclePlan, closed: boolean): string {
  return postShowsModels(plan, closed) ? ` · ${plan.models.map((m) => `\`${escapeMrkdwn(m)}\``).join(' vs ')}` : '';
}

/** `showModel`: whether raters may see the candidate's model (postShowsModels). */
export function candidateBlocks(lifecycleId: string, prompt: string, candidate: Candidate, fileId: string | undefined, showModel = false): Block[] {
  const placeholder = candidate.placeholder ? ' · :warning: demo placeholder, not a real model output' : '';
  const blocks: Block[] = [
    { type: 'section', block_id: BLOCK.candidate, text: { type: 'mrkdwn', text: `*Candidate ${escapeMrkdwn(candidate.label)}*${modelSuffix(candidate.model, showModel)}${placeholder}` } },
  ];
  if (candidate.kind === 'image' && fileId) {
    blocks.push({
      type: 'image',
      block_id: BLOCK.image,
      slack_file: { id: fileId },
      alt_text: truncate(`Candidate ${candidate.label} for: ${prompt}`, 2000),
      title: plain(truncate(`Candidate ${candidate.label}`, 200)),
    });
  } else {
    const text = candidate.text ?? '';
    const chunks: string[] = [];
    for (let i = 0; i < text.length && chunks.length < MAX_TEXT_SECTIONS; i += SECTION_TEXT_MAX) chunks.push(text.slice(i, i + SECTION_TEXT_MAX));
    if (chunks.length === 0) chunks.push('(empty output)');
    if (text.length > SECTION_TEXT_MAX * MAX_TEXT_SECTIONS) chunks[chunks.length - 1] += '… (truncated)';
    chunks.forEach((chunk, i) => blocks.push({ type: 'section', block_id: `${BLOCK.text}_${i}`, text: plain(chunk) }));
  }
  const value = (v: VoteValue) => JSON.stringify({ l: lifecycleId, c: candidate.id, v } satisfies CandidateButtonValue);
  blocks.push({
    type: 'actions',
    block_id: BLOCK.actions,
    elements: [
      { type: 'button', action_id: ACTION.up, text: plain(':+1: Good'), value: value('up'), style: 'primary' },
      { type: 'button', action_id: ACTION.down, text: plain(':-1: Bad'), value: value('down'), style: 'danger' },
      { type: 'button', action_id: ACTION.retract, text: plain('Withdraw my vote'), value: value('retract') },
    ],
  });
  return blocks;
}

/**
 * A candidate message once voting closed: the same content without buttons, plus the final tally.
 * `posted` may be our own blocks or Slack's echo of them from `conversations.history`; only the
 * fields Prefline sets are kept, and the image is re-pointed at the file id from the metadata.
 */
export function closedCandidateBlocks(posted: ReadonlyArray<Block>, meta: CandidateMeta, tally: CandidateTally | undefined): Block[] {
  const kept: Block[] = [];
  for (const block of posted) {
    if (block.block_id === BLOCK.actions || block.block_id === BLOCK.closed || block.type === 'actions') continue;
    if (block.type === 'section') kept.push({ type: 'section', block_id: block.block_id, text: block.text });
    else if (block.type === 'image' && meta.fileId) {
      kept.push({ type: 'image', block_id: block.block_id, slack_file: { id: meta.fileId }, alt_text: block.alt_text, ...(block.title ? { title: block.title } : {}) });
    } else if (block.type === 'context') kept.push({ type: 'context', block_id: block.block_id, elements: block.elements });
  }
  const final = tally ? `:+1: ${tally.up} · :-1: ${tally.down} (score ${signed(tally.score)})` : '';
  kept.push({ type: 'context', block_id: BLOCK.closed, elements: [{ type: 'mrkdwn', text: `:lock: Voting closed${final ? `. Final: ${final}` : ''}` }] });
  return kept;
}
