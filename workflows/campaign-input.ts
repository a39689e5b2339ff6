/**
 * Validates and normalises a campaign's JSON input, and turns each item into its child lifecycle's
 * input. Pure and deterministic (the current time is passed in), shared by the workflow and the CLI, so
 * a bad item is reported with the same message before anything starts and when its turn comes.
 */
import { parseDuration } from '../core/duration';
import { validateNotify } from './campaign-notify-input';
import { DEFAULT_MIN_RESPONSES } from './confidence-stop';
import { DEFAULT_QUESTION, MAX_LABEL_LENGTH, MAX_QUESTION_LENGTH, MAX_RESPONSES, parseChannel, validateLifecycleInput } from './input';
import { QUALITY_FIELDS, qualitySettings } from './rater-quality';
import type { CampaignDigestPlan, CampaignGoldItem, CampaignInput, CampaignItem, CampaignPlan, DeadlineSpec, LifecycleInput } from './types';

export const DEFAULT_CAMPAIGN_RESPONSES = 10;
export const DEFAULT_CAMPAIGN_DEADLINE = '7d';
export const DEFAULT_MAX_OPEN = 50;
/** Below the server's 2,000 pending children per run, with room for the items a run closes and starts. */
export const MAX_OPEN = 1000;
export const DEFAULT_RESERVATION = '10m';
export const MIN_RESERVATION_MS = 1000;
export const MAX_RESERVATION_MS = 24 * 3600 * 1000;
/** Inline items travel in every run's input: beyond this many, store the list (`prefline campaign start` does). */
export const MAX_INLINE_ITEMS = 1000;
export const MAX_ITEMS = 1_000_000;
export const MAX_REASK = 10;
/** Gold lifecycles are open for the whole campaign, beside up to MAX_OPEN items: well below the server's 2,000 pending children. */
export const MAX_GOLD = 200;
const MAX_DEADLINE_MS = 366 * 24 * 3600 * 1000;
const ARTIFACT_REF = /^sha256:[0-9a-f]{64}$/;
const ITEM_FIELDS = new Set(['prompt', 'model', 'models', 'candidates', 'params', 'question', 'modelVersion']);
const KNOWN_FIELDS = new Set([
  'items', 'itemsRef', 'itemCount', 'task', 'responses', 'question', 'channel', 'deadline', 'maxOpen', 'reservation', 'itemDeadline', 'reask', 'campaign',
  'allowBothBad', 'revealModels', 'notify', 'gold', 'goldRef', 'goldCount', ...QUALITY_FIELDS, 'confidence', 'minResponses', 'digestSize', 'digestEvery', 'emailReservation',
]);
const GOLD_FIELDS = new Set([...ITEM_FIELDS, 'answer', 'explanation']);
export const DEFAULT_DIGEST_SIZE = 5;
export const MAX_DIGEST_SIZE = 50;
export const DEFAULT_DIGEST_EVERY = '1d';
export const DEFAULT_EMAIL_RESERVATION = '24h';
const MIN_DIGEST_EVERY_MS = 60_000;
const MAX_EMAIL_RESERVATION_MS = 14 * 24 * 3600 * 1000;

export type CampaignValidation = { ok: true; plan: CampaignPlan } | { ok: false; errors: string[] };

function isIntIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/**
 * @param campaignId the campaign's workflow id: the default label.
 * @param nowMs the current time (workflow time inside a workflow) for resolving ISO deadlines.
 * Inline items are checked here, each as its child lifecycle will check it; stored ones by the CLI that
 * stored them, and again when their turn comes.
 */
export function validateCampaignInput(raw: unknown, campaignId: string, nowMs: number): CampaignValidation {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: ['input: must be one JSON object, e.g. {"items": [{"prompt": "…", "models": ["demo:shapes", "demo:gradient"]}]}'] };
  }
  const input = raw as Record<string, unknown> & Partial<CampaignInput>;
  const errors: string[] = [];
  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) errors.push(`${key}: unknown field; known fields: ${[...KNOWN_FIELDS].join(', ')}`);
  }

  const task = input.task ?? 'compare';
  if (task !== 'compare' && task !== 'thumbs') errors.push('task: must be "compare" (the better of two) or "thumbs" (👍/👎)');
  const responses = input.responses ?? DEFAULT_CAMPAIGN_RESPONSES;
  if (!isIntIn(responses, 1, MAX_RESPONSES)) errors.push(`responses: must be an integer from 1 to ${MAX_RESPONSES}`);

  let question: string | undefined;
  if (input.question !== undefined) {
    if (task !== 'compare') errors.push('question: only compare campaigns ask one (task: "compare")');
    else if (typeof input.question !== 'string' || input.question.trim() === '' || input.question.length > MAX_QUESTION_LENGTH) {
      errors.push(`question: must be a non-empty string of at most ${MAX_QUESTION_LENGTH} characters`);
    } else question = input.question.trim();
  }

  const channel = typeof input.channel === 'string' ? input.channel.trim() : 'web';
  if (input.channel !== undefined) {
    const parsed = typeof input.channel === 'string' ? parseChannel(input.channel) : { ok: false as const, error: 'channel: must be a string, e.g. "web"' };
    if (!parsed.ok) errors.push(parsed.error);
  }

  const deadline = parseCampaignDeadline(input.deadline, nowMs, errors);

  const maxOpen = input.maxOpen ?? DEFAULT_MAX_OPEN;
  if (!isIntIn(maxOpen, 1, MAX_OPEN)) errors.push(`maxOpen: must be an integer from 1 to ${MAX_OPEN}`);
  const reservationMs = typeof input.reservation === 'string' ? parseDuration(input.reservation.trim()) : input.reservation === undefined ? parseDuration(DEFAULT_RESERVATION) : undefined;
  if (reservationMs === undefined || reservationMs < MIN_RESERVATION_MS || reservationMs > MAX_RESERVATION_MS) {
    errors.push('reservation: must be a duration from 1s to 1d, e.g. "10m"');
  }

  const itemDeadlineMs = typeof input.itemDeadline === 'string' ? parseDuration(input.itemDeadline.trim()) : undefined;
  if (input.itemDeadline !== undefined && (itemDeadlineMs === undefined || itemDeadlineMs < 1000 || itemDeadlineMs > MAX_DEADLINE_MS)) {
    errors.push('itemDeadline: must be a duration from 1s to 366d, e.g. "1d"');
  }
  const reask = input.reask ?? 0;
  if (!isIntIn(reask, 0, MAX_REASK)) errors.push(`reask: must be an integer from 0 to ${MAX_REASK}`);

  let label = campaignId;
  if (input.campaign !== undefined) {
    if (typeof input.campaign !== 'string' || input.campaign.trim() === '' || input.campaign.length > MAX_LABEL_LENGTH) {
      errors.push(`campaign: must be a non-empty string of at most ${MAX_LABEL_LENGTH} characters`);
    } else label = input.campaign.trim();
  }
  for (const field of ['allowBothBad', 'revealModels'] as const) {
    if (input[field] !== undefined && typeof input[field] !== 'boolean') errors.push(`${field}: must be true or false`);
  }

  const notify = validateNotify(input.notify, errors);
  const quality = qualitySettings(input, errors);
  let goldCount = 0;
  if (input.gold !== undefined && input.goldRef !== undefined) {
    errors.push('gold, goldRef: give one of them, not both');
  } else if (input.gold !== undefined) {
    if (!Array.isArray(input.gold) || input.gold.length > MAX_GOLD) errors.push(`gold: must be an array of at most ${MAX_GOLD} gold items`);
    else goldCount = input.gold.length;
    if (input.goldCount !== undefined) errors.push('goldCount: only with goldRef');
  } else if (input.goldRef !== undefined) {
    if (typeof input.goldRef !== 'string' || !ARTIFACT_REF.test(input.goldRef)) errors.push('goldRef: must be "sha256:<64 hex>", the artifact-store reference of the gold list');
    if (!isIntIn(input.goldCount, 1, MAX_GOLD)) errors.push(`goldCount: required with goldRef, an integer from 1 to ${MAX_GOLD}`);
    else goldCount = input.goldCount;
  } else if (input.goldCount !== undefined) {
    errors.push('goldCount: only with goldRef');
  }
  const stopping = confidenceFields(input, isIntIn(responses, 1, MAX_RESPONSES) ? responses : DEFAULT_CAMPAIGN_RESPONSES, errors);
  const digest = parseDigest(input, channel, errors);

  let itemCount = 0;
  if (input.items !== undefined && input.itemsRef !== undefined) {
    errors.push('items, itemsRef: give one of them, not both');
  } else if (input.items !== undefined) {
    if (!Array.isArray(input.items) || input.items.length === 0) errors.push('items: must be a non-empty array of items');
    else if (input.items.length > MAX_INLINE_ITEMS) errors.push(`items: at most ${MAX_INLINE_ITEMS} inline; store longer lists (prefline campaign start does) and pass itemsRef`);
    else itemCount = input.items.length;
    if (input.itemCount !== undefined) errors.push('itemCount: only with itemsRef');
  } else if (input.itemsRef !== undefined) {
    if (typeof input.itemsRef !== 'string' || !ARTIFACT_REF.test(input.itemsRef)) errors.push('itemsRef: must be "sha256:<64 hex>", the artifact-store reference of the item list');
    if (!isIntIn(input.itemCount, 1, MAX_ITEMS)) errors.push(`itemCount: required with itemsRef, an integer from 1 to ${MAX_ITEMS}`);
    else itemCount = input.itemCount;
  } else {
    errors.push('items: required (or itemsRef with itemCount)');
  }
  // Items are checked even when a campaign field is wrong (against its default), so one pass names every problem.
  const plan: CampaignPlan = {
    ...(input.items !== undefined ? { items: input.items } : { itemsRef: input.itemsRef as string }),
    itemCount,
    task: task === 'thumbs' ? 'thumbs' : 'compare',
    responses: isIntIn(responses, 1, MAX_RESPONSES) ? responses : DEFAULT_CAMPAIGN_RESPONSES,
    ...(task !== 'thumbs' ? { question: question ?? DEFAULT_QUESTION } : {}),
    channel: parseChannel(channel).ok ? channel : 'web',
    deadline,
    maxOpen,
    reservationMs: reservationMs as number,
    ...(itemDeadlineMs !== undefined ? { itemDeadlineMs } : {}),
    reask: isIntIn(reask, 0, MAX_REASK) ? reask : 0,
    label,
    ...(input.allowBothBad !== undefined ? { allowBothBad: input.allowBothBad } : {}),
    ...(input.revealModels !== undefined ? { revealModels: input.revealModels } : {}),
    ...(notify !== undefined ? { notify } : {}),
    ...(Array.isArray(input.gold) && goldCount > 0 ? { gold: input.gold } : {}),
    ...(input.goldRef !== undefined ? { goldRef: input.goldRef } : {}),
    goldCount,
    quality,
    ...stopping,
    ...(digest !== undefined ? { digest } : {}),
  };
  // Every inline item as its lifecycle will see it: the campaign refuses to start over one bad item.
  const deadlineAtMs = deadline.kind === 'duration' && deadline.ms === 0 ? nowMs + 24 * 3600 * 1000 : campaignDeadlineAt(plan.deadline, nowMs);
  if (Array.isArray(plan.items) && plan.items.length <= MAX_INLINE_ITEMS) plan.items.forEach((item, i) => {
    for (const error of itemErrors(plan, item, deadlineAtMs, nowMs)) errors.push(`items[${i}].${error}`);
  });
  plan.gold?.forEach((gold, i) => {
    for (const error of goldItemErrors(plan, gold, deadlineAtMs, nowMs)) errors.push(`gold[${i}].${error}`);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, plan };
}

/** Early stopping's fields: `confidence` in (0.5, 1), and `minResponses` (only with it) from 1 to `responses`. */
function confidenceFields(input: Partial<CampaignInput>, responses: number, errors: string[]): Pick<CampaignPlan, 'confidence' | 'minResponses'> {
  const { confidence, minResponses } = input;
  if (confidence === undefined) {
    if (minResponses !== undefined) errors.push('minResponses: only with confidence (early stopping), e.g. {"confidence": 0.99, "minResponses": 3}');
    return {};
  }
  if (typeof confidence !== 'number' || !(confidence > 0.5 && confidence < 1)) {
    errors.push('confidence: must be a number above 0.5 and below 1, e.g. 0.99');
    return {};
  }
  if (minResponses !== undefined && !isIntIn(minResponses, 1, responses)) {
    errors.push(`minResponses: must be an integer from 1 to responses (${responses})`);
    return {};
  }
  return { confidence, minResponses: minResponses ?? Math.min(DEFAULT_MIN_RESPONSES, responses) };
}

/**
 * The digests of an email campaign: each rater is mailed `size` items, reserved for `reservationMs`, when
 * the campaign starts and every `everyMs`. Other channels take none of these fields.
 */
function parseDigest(input: Partial<CampaignInput>, channel: string, errors: string[]): CampaignDigestPlan | undefined {
  const fields = (['digestSize', 'digestEvery', 'emailReservation'] as const).filter((f) => input[f] !== undefined);
  if (!channel.startsWith('email:')) {
    for (const f of fields) errors.push(`${f}: only email campaigns send digests (channel "email:…")`);
    return undefined;
  }
  const size = input.digestSize ?? DEFAULT_DIGEST_SIZE;
  if (!isIntIn(size, 1, MAX_DIGEST_SIZE)) errors.push(`digestSize: must be an integer from 1 to ${MAX_DIGEST_SIZE}`);
  const duration = (value: unknown, fallback: string) => (value === undefined ? parseDuration(fallback) : typeof value === 'string' ? parseDuration(value.trim()) : undefined);
  const everyMs = duration(input.digestEvery, DEFAULT_DIGEST_EVERY);
  if (everyMs === undefined || everyMs < MIN_DIGEST_EVERY_MS || everyMs > MAX_DEADLINE_MS) errors.push('digestEvery: must be a duration from 1m to 366d, e.g. "1d"');
  const reservationMs = duration(input.emailReservation, DEFAULT_EMAIL_RESERVATION);
  if (reservationMs === undefined || reservationMs < MIN_RESERVATION_MS || reservationMs > MAX_EMAIL_RESERVATION_MS) errors.push('emailReservation: must be a duration from 1s to 14d, e.g. "24h"');
  return { size: isIntIn(size, 1, MAX_DIGEST_SIZE) ? size : DEFAULT_DIGEST_SIZE, everyMs: everyMs ?? 86_400_000, reservationMs: reservationMs ?? 86_400_000 };
}

function parseCampaignDeadline(raw: unknown, nowMs: number, errors: string[]): DeadlineSpec {
  const text = raw === undefined ? DEFAULT_CAMPAIGN_DEADLINE : typeof raw === 'string' ? raw.trim() : '';
  const ms = parseDuration(text);
  if (ms !== undefined && ms >= 60_000 && ms <= MAX_DEADLINE_MS) return { kind: 'duration', ms };
  const at = /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isNaN(at) && at - nowMs >= 60_000 && at - nowMs <= MAX_DEADLINE_MS) return { kind: 'at', iso: new Date(at).toISOString() };
  errors.push('deadline: must be a duration from 1m to 366d like "3d", or an ISO time with a zone at least a minute ahead');
  return { kind: 'duration', ms: 0 };
}

export function campaignDeadlineAt(spec: DeadlineSpec, startedAtMs: number): number {
  return spec.kind === 'duration' ? startedAtMs + spec.ms : Date.parse(spec.iso);
}

/** When an item's lifecycle started at `nowMs` closes: after itemDeadline, never after the campaign. */
export function itemDeadlineAt(plan: CampaignPlan, campaignDeadlineAtMs: number, nowMs: number): number {
  return plan.itemDeadlineMs === undefined ? campaignDeadlineAtMs : Math.min(nowMs + plan.itemDeadlineMs, campaignDeadlineAtMs);
}

/**
 * The child lifecycle's input for an item: the item's fields under the campaign's; `responses` less what
 * earlier attempts got, and for a thumbs re-ask what each candidate still lacks (`votesByCandidate`).
 */
export function childInput(plan: CampaignPlan, item: CampaignItem, deadlineAtMs: number, responses = plan.responses, votesByCandidate?: number[]): LifecycleInput {
  const { prompt, model, models, candidates, params, question, modelVersion } = item;
  return {
    prompt,
    task: plan.task,
    ...(model !== undefined ? { model } : {}),
    ...(models !== undefined ? { models } : {}),
    ...(candidates !== undefined ? { candidates } : {}),
    ...(params !== undefined ? { params } : {}),
    ...(plan.task === 'compare' ? { question: question ?? plan.question, responses } : { votesPerCandidate: responses }),
    ...(plan.task === 'thumbs' && question !== undefined ? { question } : {}),
    ...(plan.task === 'thumbs' && votesByCandidate !== undefined ? { votesByCandidate } : {}),
    ...(plan.allowBothBad !== undefined && plan.task === 'compare' ? { allowBothBad: plan.allowBothBad } : {}),
    ...(plan.revealModels !== undefined ? { revealModels: plan.revealModels } : {}),
    channel: plan.channel,
    deadline: new Date(deadlineAtMs).toISOString(),
    campaign: plan.label,
    ...(modelVersion !== undefined ? { modelVersion } : {}),
    // Items are handed out by `next` (and email digests) only: a post, or the web page's open list, would bypass assignment.
    delivery: 'assigned' as const,
  };
}

/** A gold item's lifecycle input: its item's, with the known answer the lifecycle scores first answers by. */
export function goldChildInput(plan: CampaignPlan, gold: CampaignGoldItem, deadlineAtMs: number): LifecycleInput {
  return { ...childInput(plan, gold, deadlineAtMs), gold: { answer: gold.answer, explanation: gold.explanation } };
}

/** Every problem of one gold item, each naming its field (`answer`, `explanation` and the item's). */
export function goldItemErrors(plan: CampaignPlan, gold: unknown, deadlineAtMs: number, nowMs: number): string[] {
  if (typeof gold !== 'object' || gold === null || Array.isArray(gold)) return ['item: must be an object like {"prompt": "…", "candidates": [a, b], "answer": "first", "explanation": "…"}'];
  const unknown = Object.keys(gold).filter((k) => !GOLD_FIELDS.has(k)).map((k) => `${k}: unknown gold item field; known: ${[...GOLD_FIELDS].join(', ')}`);
  const checked = validateLifecycleInput(goldChildInput(plan, gold as CampaignGoldItem, deadlineAtMs), nowMs);
  return [...unknown, ...(checked.ok ? [] : checked.errors.map((e) => e.replace(/^gold\./, '')))];
}

/** Every problem of one item, each naming its field, as its lifecycle would report them. */
export function itemErrors(plan: CampaignPlan, item: unknown, deadlineAtMs: number, nowMs: number): string[] {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return ['item: must be an object like {"prompt": "…", "models": [a, b]}'];
  const unknown = Object.keys(item).filter((k) => !ITEM_FIELDS.has(k)).map((k) => `${k}: unknown item field; known: ${[...ITEM_FIELDS].join(', ')}`);
  const checked = validateLifecycleInput(childInput(plan, item as CampaignItem, deadlineAtMs), nowMs);
  return [...unknown, ...(checked.ok ? [] : checked.errors)];
}
