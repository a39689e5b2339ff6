/**
 * A compare lifecycle's Slack post: ONE message with the question, both candidates in the order this
 * message shows them (presentationOrder keyed by the lifecycle id alone: everyone sees the same message),
 * and the answer buttons: A is better, B is better, Tie, Both bad (when the lifecycle offers it),
 * Withdraw. "A" is the candidate shown first (on top), "B" the one shown second, whatever their ids; each
 * button's value carries the pair as shown, so every judgement records the order its rater saw.
 * Reactions count for nothing here: the message is about two candidates at once.
 *
 * While voting, the message shows progress only (how many answers), never who is winning, and no model
 * names unless the lifecycle reveals them; once closed it shows the result and the models. Pure.
 */
import type { Candidate, CloseReason, JudgementCounts, LifecyclePlan } from '../../workflows/types';
import type { PairChoice } from '../../core/pairwise';
import {
  ACTION, CLOSE_REASONS, escapeMrkdwn, modelSuffix, pairButtonValue, plain, postShowsModels, quorumText, slackDate, truncate, type Block, type HeaderMeta,
} from './messages';

export const DEFAULT_QUESTION = 'Which is better?';

const SECTION_TEXT_MAX = 2900;
/** Text per side: two long texts must still fit one message (50 blocks, 3000 characters a section). */
const MAX_SIDE_SECTIONS = 8;
/** Block ids of a side start with this, so an update can keep the posted sides as they are. */
const SIDE_PREFIX = 'prefline_side_';
const BLOCK = {
  question: 'prefline_question',
  prompt: 'prefline_prompt',
  info: 'prefline_info',
  placeholder: 'prefline_placeholder',
  pair: 'prefline_pair',
  how: 'prefline_how',
  tally: 'prefline_tally',
  closed: 'prefline_closed',
} as const;

export interface CompareState {
  judgements?: JudgementCounts;
  /** `models`: candidate id → model, shown with the result once voting has closed. */
  closed?: { reason: CloseReason; judgements?: JudgementCounts; models?: ReadonlyMap<string, string> };
}

/** The shown pair `[a, b]` of a compare message's metadata. */
export function shownPairOf(meta: HeaderMeta): [string, string] | undefined {
  const [a, b, ...more] = meta.pair.split(',');
  return a && b && more.length === 0 ? [a, b] : undefined;
}

/** `files` metadata: `<candidate id>=<file id>,…` ⇄ a map. */
export function parseFiles(files: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of (files ?? '').split(',')) {
    const [candidateId, fileId] = entry.split('=');
    if (candidateId && fileId) out.set(candidateId, fileId);
  }
  return out;
}

export function formatFiles(files: ReadonlyMap<string, string>): string {
  return [...files].map(([c, f]) => `${c}=${f}`).join(',');
}

/** The message's fallback `text` (escaped like the blocks: Slack parses it as mrkdwn). */
export function compareText(plan: LifecyclePlan, closed = false): string {
  const prompt = escapeMrkdwn(truncate(plan.prompt, 200));
  return closed ? `Voting closed: ${prompt}` : `${escapeMrkdwn(truncate(plan.question ?? DEFAULT_QUESTION, 200))} ${prompt}`;
}

/**
 * One side's blocks: its position (A or B), the image (once uploaded: `fileId`) or the text, the model
 * only where models are shown, the placeholder label where it is one.
 */
export function sideBlocks(position: 'A' | 'B', prompt: string, candidate: Candidate, fileId: string | undefined, showModel: boolean): Block[] {
  const id = `${SIDE_PREFIX}${position.toLowerCase()}`;
  const placeholder = candidate.placeholder ? ' · :warning: demo placeholder, not a real model output' : '';
  const blocks: Block[] = [{ type: 'section', block_id: id, text: { type: 'mrkdwn', text: `*${position}*${modelSuffix(candidate.model, showModel)}${placeholder}` } }];
  if (candidate.kind === 'image') {
    if (fileId) {
      blocks.push({
        type: 'image', block_id: `${id}_image`, slack_file: { id: fileId },
        alt_text: truncate(`${position} for: ${prompt}`, 2000), title: plain(truncate(`${position}`, 200)),
      });
    } else blocks.push({ type: 'context', block_id: `${id}_image`, elements: [{ type: 'mrkdwn', text: `_image ${position} is being uploaded…_` }] });
    return blocks;
  }
  const text = candidate.text ?? '';
  const chunks: string[] = [];
  for (let i = 0; i < text.length && chunks.length < MAX_SIDE_SECTIONS; i += SECTION_TEXT_MAX) chunks.push(text.slice(i, i + SECTION_TEXT_MAX));
  if (chunks.length === 0) chunks.push('(empty output)');
  if (text.length > SECTION_TEXT_MAX * MAX_SIDE_SECTIONS) chunks[chunks.length - 1] += '… (truncated)';
  chunks.forEach((chunk, i) => blocks.push({ type: 'section', block_id: `${id}_text_${i}`, text: plain(chunk) }));
  return blocks;
}

/** Both sides in the shown order `[a, b]`. */
export function pairSides(plan: LifecyclePlan, shown: readonly [Candidate, Candidate], files: ReadonlyMap<string, string>, showModel: boolean): Block[] {
  return [
    ...sideBlocks('A', plan.prompt, shown[0], files.get(shown[0].id), showModel),
    { type: 'divider' },
    ...sideBlocks('B', plan.prompt, shown[1], files.get(shown[1].id), showModel),
  ];
}

/**
 * The sides of a posted compare message (our blocks or Slack's echo), to rebuild it on update or close
 * without the candidates: only the fields Prefline sets, images re-pointed at the metadata's file ids.
 */
export function postedSides(posted: ReadonlyArray<Block>, meta: HeaderMeta): Block[] {
  const files = parseFiles(meta.files);
  const shown = shownPairOf(meta);
  const kept: Block[] = [];
  for (const block of posted) {
    const id = typeof block.block_id === 'string' ? block.block_id : '';
    if (block.type === 'divider' && kept.length > 0) kept.push({ type: 'divider' });
    if (!id.startsWith(SIDE_PREFIX)) continue;
    const fileId = shown ? files.get(id.startsWith(`${SIDE_PREFIX}a`) ? shown[0] : shown[1]) : undefined;
    if (id.endsWith('_image') && fileId) {
      // An image block, or the "being uploaded" note of a message posted before its upload finished.
      const alt = typeof block.alt_text === 'string' ? block.alt_text : `${id.startsWith(`${SIDE_PREFIX}a`) ? 'A' : 'B'} (image)`;
      kept.push({ type: 'image', block_id: id, slack_file: { id: fileId }, alt_text: alt, ...(block.title ? { title: block.title } : {}) });
    } else if (block.type === 'section') kept.push({ type: 'section', block_id: id, text: block.text });
    else if (block.type === 'image' && fileId) kept.push({ type: 'image', block_id: id, slack_file: { id: fileId }, alt_text: block.alt_text, ...(block.title ? { title: block.title } : {}) });
    else if (block.type === 'context') kept.push({ type: 'context', block_id: id, elements: block.elements });
  }
  return kept;
}

/**
 * The whole message: the question, the prompt, deadline and quorum, the sides (`sides`: pairSides or
 * postedSides), the buttons while voting, and the answers so far (or the result once closed).
 */
export function compareBlocks(plan: LifecyclePlan, meta: HeaderMeta, sides: Block[], state: CompareState = {}): Block[] {
  const closed = state.closed;
  const shown = shownPairOf(meta);
  const models = postShowsModels(plan, closed !== undefined) && !closed?.models ? ` · ${plan.models.map((m) => `\`${escapeMrkdwn(m)}\``).join(' vs ')}` : '';
  const blocks: Block[] = [
    { type: 'header', block_id: BLOCK.question, text: plain(truncate(`${closed ? 'Voting closed: ' : ''}${plan.question ?? DEFAULT_QUESTION}`, 150)) },
    { type: 'section', block_id: BLOCK.prompt, text: plain(truncate(plan.prompt, SECTION_TEXT_MAX)) },
    {
      type: 'context',
      block_id: BLOCK.info,
      elements: [{ type: 'mrkdwn', text: `${closed ? 'Voting closed' : `Voting closes ${slackDate(meta.deadlineAt)}`} · quorum: ${quorumText(plan)}${models}` }],
    },
  ];
  if (meta.placeholder) blocks.push({ type: 'context', block_id: BLOCK.placeholder, elements: [{ type: 'mrkdwn', text: ':warning: *Demo placeholder* outputs, not real model outputs.' }] });
  blocks.push({ type: 'divider' }, ...sides, { type: 'divider' });
  if (closed) {
    blocks.push({ type: 'section', block_id: BLOCK.tally, text: { type: 'mrkdwn', text: `*Final result*\n${resultText(closed.judgements, shown)}${revealed(closed.models, shown)}` } });
    blocks.push({ type: 'context', block_id: BLOCK.closed, elements: [{ type: 'mrkdwn', text: `:lock: *Voting closed* (${CLOSE_REASONS[closed.reason]}). Thank you for rating!` }] });
    return blocks;
  }
  if (shown) {
    const value = (p: PairChoice) => pairButtonValue(meta.lifecycleId, p, shown);
    blocks.push({
      type: 'actions',
      block_id: BLOCK.pair,
      elements: [
        { type: 'button', action_id: ACTION.preferA, text: plain('A is better'), value: value('a'), style: 'primary' },
        { type: 'button', action_id: ACTION.preferB, text: plain('B is better'), value: value('b'), style: 'primary' },
        { type: 'button', action_id: ACTION.tie, text: plain('Tie'), value: value('tie') },
        ...(plan.allowBothBad === false ? [] : [{ type: 'button', action_id: ACTION.bothBad, text: plain('Both bad'), value: value('both_bad') }]),
        { type: 'button', action_id: ACTION.retractPair, text: plain('Withdraw my answer'), value: value('retract') },
      ],
    });
  }
  blocks.push({
    type: 'context',
    block_id: BLOCK.how,
    elements: [{ type: 'mrkdwn', text: 'Answer with the buttons; your latest answer counts, and only you see it. Reactions are not counted on comparisons.' }],
  });
  const standing = state.judgements?.standing ?? 0;
  blocks.push({ type: 'section', block_id: BLOCK.tally, text: { type: 'mrkdwn', text: `*Answers so far:* ${standing}` } });
  return blocks;
}

function revealed(models: ReadonlyMap<string, string> | undefined, shown: [string, string] | undefined): string {
  const [a, b] = shown ? [models?.get(shown[0]), models?.get(shown[1])] : [];
  return a && b ? `\n*A* was \`${escapeMrkdwn(a)}\`, *B* was \`${escapeMrkdwn(b)}\`.` : '';
}

function resultText(counts: JudgementCounts | undefined, shown: [string, string] | undefined): string {
  if (!counts || counts.standing === 0 || !shown) return 'No answers were given.';
  const a = counts.byCandidate[shown[0]] ?? 0;
  const b = counts.byCandidate[shown[1]] ?? 0;
  const lines = [`*A* better: ${a} · *B* better: ${b} · tie: ${counts.tie} · both bad: ${counts.bothBad} (${counts.standing} answers)`];
  lines.push(a === b ? 'Neither was preferred.' : `:trophy: Preferred: *${a > b ? 'A' : 'B'}*`);
  return lines.join('\n');
}
