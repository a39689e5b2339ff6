/**
 * Validates and normalises a lifecycle's JSON input. Pure and deterministic (the current time is
 * passed in), so the workflow, the CLI and tests share one set of rules and one set of messages.
 * Every problem is reported, each naming its field, so ops fix the form in one go.
 */
import { parseDuration } from '../core/duration';
import { isOneLine, labelProblem, parseBroughtCandidates } from './brought-candidates';
import { goldCheckErrors } from './gold';
import { parseProvenance } from './start-provenance';
import type { BroughtCandidate, ChannelSpec, DeadlineSpec, GoldCheck, LifecycleInput, LifecyclePlan, LifecycleTask, Quorum } from './types';

export { PSEUDONYM, START_SOURCES } from './start-provenance';

export const MAX_CANDIDATES = 8;
export const MAX_PROMPT_LENGTH = 4000;
export const MAX_LABEL_LENGTH = 200;
export const MAX_VOTES = 10_000;
/** Compare lifecycles: standing judgements to close on, by default and at most. */
export const DEFAULT_RESPONSES = 10;
export const MAX_RESPONSES = 10_000;
export const DEFAULT_QUESTION = 'Which is better?';
export const MAX_QUESTION_LENGTH = 500;
export const DEFAULT_DEADLINE = '24h';
/** Deadlines further out than this are almost always a typo (ms instead of s, etc.). */
export const MAX_DEADLINE_MS = 366 * 24 * 3600 * 1000;
export const MIN_DEADLINE_MS = 1000;

/** Backends whose connectors ship in this release. Others are refused with a clear message. */
export const AVAILABLE_BACKENDS: Record<string, ReadonlyArray<string> | RegExp> = {
  demo: ['shapes', 'gradient', 'text'],
  // owner/name or owner/name:version (a 64-hex version id or any tag Replicate accepts)
  replicate: /^[a-z0-9][a-z0-9_.-]*\/[a-z0-9][a-z0-9_.-]*(:[A-Za-z0-9_.-]+)?$/,
  // whatever the self-hosted server calls its model, e.g. meta-llama/Llama-3.1-8B-Instruct or llama3:8b
  openai: /^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,199}$/,
};

const BACKEND_EXAMPLES: Record<string, string> = {
  replicate: 'replicate:owner/name or replicate:owner/name:version',
  openai: 'openai:<model name on your server>',
};


const KNOWN_FIELDS = new Set([
  'prompt', 'task', 'question', 'model', 'models', 'candidates', 'params', 'channel', 'votesPerCandidate', 'votesByCandidate', 'totalVotes',
  'responses', 'allowBothBad', 'revealModels', 'deadline', 'remindBefore', 'campaign', 'modelVersion', 'startedBy', 'startedFrom',
  'gold',
  'delivery',
]);

/** Channels whose connector can address raters individually, and so remind them. */
export const REMINDER_CHANNELS: ReadonlyArray<ChannelSpec['kind']> = ['email'];

export type InputValidation = { ok: true; plan: LifecyclePlan } | { ok: false; errors: string[] };

/** ISO-8601 date-time with an explicit zone (`Z` or `±hh:mm`); a zoneless time would be ambiguous. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Date.parse rolls impossible dates over (Feb 30 becomes Mar 2); those are typos, so refuse them. */
function isCalendarDate(iso: string): boolean {
  if (Number.isNaN(Date.parse(iso))) return false;
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

export const MAX_EMAIL_RECIPIENTS = 500;
// Deliberately strict (no quotes, comments or display names): these go into SMTP envelopes and headers.
export const EMAIL_ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const SLACK_CHANNEL = /^(#[a-z0-9][a-z0-9_-]{0,79}|[CGD][A-Z0-9]{6,20})$/;
const RATER_LIST = /^@[a-z0-9][a-z0-9_-]{0,63}$/;

export function parseChannel(raw: string): { ok: true; channel: ChannelSpec } | { ok: false; error: string } {
  const text = raw.trim();
  if (text === 'web') return { ok: true, channel: { kind: 'web' } };
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon) : text;
  const rest = colon > 0 ? text.slice(colon + 1).trim() : '';
  if (kind !== 'slack' && kind !== 'email') {
    return { ok: false, error: `channel: unknown channel "${text}"; expected "web", "slack:<channel>" or "email:<addr>,<addr>"` };
  }
  if (kind === 'slack') {
    if (!SLACK_CHANNEL.test(rest)) return { ok: false, error: `channel: "${text}" is not "slack:#channel-name" or "slack:<channel id>"` };
    return { ok: true, channel: { kind: 'slack', channel: rest } };
  }
  if (RATER_LIST.test(rest)) return { ok: true, channel: { kind: 'email', recipients: [], list: rest.slice(1) } };
  const recipients = rest.split(',').map((a) => a.trim()).filter(Boolean);
  if (recipients.length === 0) return { ok: false, error: 'channel: "email:" needs at least one address, e.g. "email:alice@example.com,bob@example.com", or a rater list "email:@reviewers"' };
  if (recipients.length > MAX_EMAIL_RECIPIENTS) return { ok: false, error: `channel: at most ${MAX_EMAIL_RECIPIENTS} email recipients` };
  const bad = recipients.filter((a) => a.length > 254 || !EMAIL_ADDRESS.test(a));
  if (bad.length > 0) return { ok: false, error: `channel: not valid email addresses: ${bad.map((a) => JSON.stringify(a)).join(', ')}` };
  const unique = [...new Set(recipients.map((a) => a.toLowerCase()))];
  return { ok: true, channel: { kind: 'email', recipients: unique } };
}

function checkModelRef(field: string, ref: unknown, errors: string[]): ref is string {
  if (typeof ref !== 'string' || ref.trim() === '') {
    errors.push(`${field}: must be a string "backend:model", e.g. "demo:shapes"`);
    return false;
  }
  const colon = ref.indexOf(':');
  if (colon <= 0 || colon === ref.length - 1) {
    errors.push(`${field}: "${ref}" is not of the form "backend:model", e.g. "demo:shapes"`);
    return false;
  }
  const backend = ref.slice(0, colon);
  const name = ref.slice(colon + 1);
  const available = AVAILABLE_BACKENDS[backend];
  if (available === undefined) {
    errors.push(`${field}: unknown backend "${backend}"; available: ${Object.keys(AVAILABLE_BACKENDS).join(', ')}`);
    return false;
  }
  if (available instanceof RegExp) {
    if (!available.test(name)) {
      errors.push(`${field}: "${ref}" is not a valid ${backend} model reference; expected ${BACKEND_EXAMPLES[backend] ?? `${backend}:<model>`}`);
      return false;
    }
  } else if (!available.includes(name)) {
    errors.push(`${field}: unknown ${backend} model "${name}"; available: ${available.map((m) => `${backend}:${m}`).join(', ')}`);
    return false;
  }
  return true;
}

/** `votesByCandidate`, checked: a campaign's thumbs item only, with `votesPerCandidate` its largest quota. */
function votesByCandidateOf(input: { votesByCandidate?: unknown; votesPerCandidate?: unknown; campaign?: unknown; delivery?: unknown }, quorum: Quorum, errors: string[]): number[] | undefined {
  const each = input.votesByCandidate;
  const list = Array.isArray(each) && each.length >= 1 && each.length <= MAX_CANDIDATES
    && each.every((n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_VOTES) ? (each as number[]) : undefined;
  // A campaign's items are handed out (delivery "assigned"); a label alone is anyone's to set.
  if (quorum.kind !== 'perCandidate' || input.votesPerCandidate === undefined || input.campaign === undefined || input.delivery !== 'assigned') {
    errors.push('votesByCandidate: only for a campaign\'s thumbs items (with "campaign", "delivery": "assigned" and "votesPerCandidate")');
  } else if (list === undefined) {
    errors.push(`votesByCandidate: must be a list of 1 to ${MAX_CANDIDATES} integers from 0 to ${MAX_VOTES}, by candidate`);
  } else if (Math.max(...list) !== quorum.votes) {
    errors.push('votesByCandidate: its largest must be votesPerCandidate');
  } else {
    return [...list];
  }
  return undefined;
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function optionalLabel(field: string, value: unknown, errors: string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    errors.push(`${field}: must be a non-empty string when given`);
    return undefined;
  }
  if (value.length > MAX_LABEL_LENGTH) {
    errors.push(`${field}: must be at most ${MAX_LABEL_LENGTH} characters`);
    return undefined;
  }
  return value.trim();
}

/**
 * @param nowMs the current time (workflow time inside a workflow) for resolving ISO deadlines.
 */
export function validateLifecycleInput(raw: unknown, nowMs: number): InputValidation {
  const errors: string[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: ['input: must be one JSON object, e.g. {"prompt": "a red fox", "model": "demo:shapes"}'] };
  }
  const input = raw as Record<string, unknown> & Partial<LifecycleInput>;

  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) errors.push(`${key}: unknown field; known fields: ${[...KNOWN_FIELDS].join(', ')}`);
  }

  let prompt = '';
  if (typeof input.prompt !== 'string' || input.prompt.trim() === '') {
    errors.push('prompt: required, a non-empty string');
  } else if (input.prompt.length > MAX_PROMPT_LENGTH) {
    errors.push(`prompt: must be at most ${MAX_PROMPT_LENGTH} characters (got ${input.prompt.length})`);
  } else {
    prompt = input.prompt.trim();
  }

  let task: LifecycleTask = 'thumbs';
  if (input.task !== undefined) {
    if (input.task !== 'thumbs' && input.task !== 'compare') errors.push('task: must be "thumbs" (👍/👎 per candidate) or "compare" (the better of two)');
    else task = input.task;
  }
  const compare = task === 'compare';

  let models: string[] = [];
  let candidatesPerModel = input.models !== undefined ? 1 : 4;
  let brought: BroughtCandidate[] | undefined;
  if (Array.isArray(input.candidates)) {
    // Brought candidates: no inference, so model and models are labels, not backend references.
    if (input.model !== undefined && input.models !== undefined) errors.push('model, models: give one of them, not both');
    if (input.model !== undefined) {
      const problem = labelProblem(input.model, MAX_LABEL_LENGTH);
      if (problem) errors.push(`model: ${problem}`);
    }
    if (input.models !== undefined && !Array.isArray(input.models)) errors.push('models: must be an array of labels, one per brought candidate');
    else input.models?.forEach((m, i) => {
      const problem = labelProblem(m, MAX_LABEL_LENGTH);
      if (problem) errors.push(`models[${i}]: ${problem}`);
    });
    const limits = compare ? { min: 2, max: 2 } : { min: 1, max: MAX_CANDIDATES };
    brought = parseBroughtCandidates(input.candidates, { model: input.model, models: input.models }, { ...limits, maxLabelLength: MAX_LABEL_LENGTH }, errors);
    models = [...new Set(brought.map((b) => b.model))];
    candidatesPerModel = 1;
    if (input.params !== undefined) errors.push('params: brought candidates run no inference; leave params out');
  } else {
    if (input.model !== undefined && input.models !== undefined) {
      errors.push('model, models: give one of them, not both');
    } else if (input.models !== undefined) {
      if (!Array.isArray(input.models) || input.models.length < 2) {
        errors.push('models: must be an array of at least two "backend:model" strings (use "model" for one)');
      } else {
        input.models.forEach((m, i) => {
          if (checkModelRef(`models[${i}]`, m, errors)) models.push(m);
        });
        if (new Set(input.models).size !== input.models.length) errors.push('models: must not repeat a model');
      }
    } else if (input.model !== undefined) {
      if (checkModelRef('model', input.model, errors)) models = [input.model as string];
    } else {
      errors.push('model: required (or "models" for an A/B comparison), e.g. "demo:shapes"');
    }

    const modelCount = Array.isArray(input.models) ? input.models.length : 1;
    if (input.candidates !== undefined) {
      if (!isPositiveInt(input.candidates) || input.candidates > MAX_CANDIDATES) {
        errors.push(`candidates: must be an integer from 1 to ${MAX_CANDIDATES}`);
      } else {
        candidatesPerModel = input.candidates;
      }
    }
    if (candidatesPerModel * modelCount > MAX_CANDIDATES) {
      errors.push(`candidates: ${candidatesPerModel} per model × ${modelCount} models is more than ${MAX_CANDIDATES} candidates`);
    }
    if (compare && (input.models === undefined || modelCount !== 2)) {
      errors.push('task: a compare lifecycle compares two candidates: give "models": [a, b], or bring two candidates ("candidates": [{…}, {…}])');
    } else if (compare && candidatesPerModel !== 1) {
      errors.push('candidates: a compare lifecycle takes one candidate per model (leave candidates out, or 1)');
    }
  }

  let question: string | undefined;
  if (input.question !== undefined) {
    if (!compare) errors.push('question: only compare lifecycles ask one (task: "compare")');
    else if (typeof input.question !== 'string' || input.question.trim() === '') errors.push('question: must be a non-empty string');
    else if (input.question.length > MAX_QUESTION_LENGTH) errors.push(`question: must be at most ${MAX_QUESTION_LENGTH} characters`);
    else if (!isOneLine(input.question)) errors.push('question: must be one line without control or direction-override characters');
    else question = input.question.trim();
  }
  const allowBothBad = optionalBoolean('allowBothBad', input.allowBothBad, errors);
  const revealModels = optionalBoolean('revealModels', input.revealModels, errors);

  let params: Record<string, unknown> = {};
  if (input.params !== undefined) {
    if (typeof input.params !== 'object' || input.params === null || Array.isArray(input.params)) {
      errors.push('params: must be a JSON object, e.g. {"seed": 42}');
    } else {
      params = input.params;
      const seed = params['seed'];
      if (seed !== undefined && !(typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0)) {
        errors.push('params.seed: must be a non-negative integer');
      }
    }
  }

  let channel: ChannelSpec = { kind: 'web' };
  let channelLabel = 'web';
  if (input.channel !== undefined) {
    if (typeof input.channel !== 'string') {
      errors.push('channel: must be a string, e.g. "web"');
    } else {
      const parsed = parseChannel(input.channel);
      if (parsed.ok) {
        channel = parsed.channel;
        channelLabel = input.channel.trim();
      } else {
        errors.push(parsed.error);
      }
    }
  }

  let quorum: Quorum = compare ? { kind: 'responses', responses: DEFAULT_RESPONSES } : { kind: 'perCandidate', votes: 3 };
  if (compare) {
    for (const field of ['votesPerCandidate', 'totalVotes'] as const) {
      if (input[field] !== undefined) errors.push(`${field}: a compare lifecycle counts answers: use "responses" (standing judgements, default ${DEFAULT_RESPONSES})`);
    }
    if (input.responses !== undefined) {
      if (!isPositiveInt(input.responses) || input.responses > MAX_RESPONSES) errors.push(`responses: must be an integer from 1 to ${MAX_RESPONSES}`);
      else quorum = { kind: 'responses', responses: input.responses };
    }
  } else if (input.responses !== undefined) {
    errors.push('responses: only for compare lifecycles (task: "compare"); thumbs lifecycles use votesPerCandidate or totalVotes');
  } else if (input.votesPerCandidate !== undefined && input.totalVotes !== undefined) {
    errors.push('votesPerCandidate, totalVotes: give one of them, not both');
  } else if (input.totalVotes !== undefined) {
    if (!isPositiveInt(input.totalVotes) || input.totalVotes > MAX_VOTES) errors.push(`totalVotes: must be an integer from 1 to ${MAX_VOTES}`);
    else quorum = { kind: 'total', votes: input.totalVotes };
  } else if (input.votesPerCandidate !== undefined) {
    if (!isPositiveInt(input.votesPerCandidate) || input.votesPerCandidate > MAX_VOTES) errors.push(`votesPerCandidate: must be an integer from 1 to ${MAX_VOTES}`);
    else quorum = { kind: 'perCandidate', votes: input.votesPerCandidate };
  }
  if (input.votesByCandidate !== undefined) {
    const each = votesByCandidateOf(input, quorum, errors);
    if (each !== undefined && quorum.kind === 'perCandidate') quorum = { ...quorum, each };
  }

  let deadline: DeadlineSpec = { kind: 'duration', ms: parseDuration(DEFAULT_DEADLINE) as number };
  if (input.deadline !== undefined) {
    if (typeof input.deadline !== 'string') {
      errors.push('deadline: must be a duration like "30m" or "24h", or an ISO time like "2026-12-01T18:00:00Z"');
    } else {
      const text = input.deadline.trim();
      const ms = parseDuration(text);
      if (ms !== undefined) {
        if (ms < MIN_DEADLINE_MS || ms > MAX_DEADLINE_MS) errors.push('deadline: must be between 1s and 366d');
        else deadline = { kind: 'duration', ms };
      } else if (ISO_WITH_ZONE.test(text) && isCalendarDate(text)) {
        const at = Date.parse(text);
        if (at <= nowMs) errors.push(`deadline: ${input.deadline} is in the past`);
        else if (at - nowMs > MAX_DEADLINE_MS) errors.push('deadline: must be within 366 days');
        else deadline = { kind: 'at', iso: new Date(at).toISOString() };
      } else {
        errors.push(`deadline: "${input.deadline}" is neither a duration like "30m"/"24h" nor an ISO time with a zone like "2026-12-01T18:00:00Z"`);
      }
    }
  }

  let remindBeforeMs: number | undefined;
  if (input.remindBefore !== undefined) {
    const ms = typeof input.remindBefore === 'string' ? parseDuration(input.remindBefore) : undefined;
    const deadlineMs = deadline.kind === 'duration' ? deadline.ms : Date.parse(deadline.iso) - nowMs;
    if (ms === undefined || ms <= 0) errors.push('remindBefore: must be a duration like "2h"');
    else if (!REMINDER_CHANNELS.includes(channel.kind)) errors.push(`remindBefore: only ${REMINDER_CHANNELS.join(', ')} lifecycles send reminders`);
    else if (ms >= deadlineMs) errors.push('remindBefore: must be shorter than the time until the deadline');
    else remindBeforeMs = ms;
  }

  const campaign = optionalLabel('campaign', input.campaign, errors);
  const modelVersion = optionalLabel('modelVersion', input.modelVersion, errors);
  const { startedBy, startedFrom } = parseProvenance(input, errors);
  const gold = input.gold === undefined ? undefined : checkedGold(input.gold, task, allowBothBad !== false, brought?.length ?? candidatesPerModel * models.length, errors);
  const delivery = input.delivery;
  if (delivery !== undefined) {
    if (delivery !== 'assigned') errors.push('delivery: must be "assigned" (raters are handed the lifecycle by its campaign), or absent');
    else if (campaign === undefined) errors.push('delivery: "assigned" needs a campaign to hand the lifecycle to raters (campaign)');
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    plan: {
      prompt,
      // Defaults are left out, so a thumbs lifecycle's plan is what it was before compare lifecycles.
      ...(compare ? { task, question: question ?? DEFAULT_QUESTION } : {}),
      ...(allowBothBad === false ? { allowBothBad } : {}),
      ...(revealModels === true ? { revealModels } : {}),
      models,
      candidatesPerModel,
      params,
      channel,
      channelLabel,
      quorum,
      deadline,
      ...(remindBeforeMs !== undefined ? { remindBeforeMs } : {}),
      ...(campaign !== undefined ? { campaign } : {}),
      ...(modelVersion !== undefined ? { modelVersion } : {}),
      ...(brought !== undefined ? { brought } : {}),
      ...(startedBy !== undefined ? { startedBy } : {}),
      ...(startedFrom !== undefined ? { startedFrom } : {}),
      ...(gold !== undefined ? { gold } : {}),
      ...(delivery !== undefined ? { delivery } : {}),
    },
  };
}

/** A gold check (workflows/gold.ts); a thumbs one has one candidate, which its answer is about. */
function checkedGold(gold: unknown, task: LifecycleTask, allowBothBad: boolean, candidates: number, errors: string[]): GoldCheck | undefined {
  const problems = goldCheckErrors(gold, task, allowBothBad).map((e) => (e.startsWith('gold') ? e : `gold.${e}`));
  if (task === 'thumbs' && candidates !== 1) problems.push('gold: a thumbs gold item has one candidate, which its answer (up or down) is about');
  errors.push(...problems);
  if (problems.length > 0) return undefined;
  const { answer, explanation } = gold as GoldCheck;
  return { answer, explanation: explanation.trim() };
}

function optionalBoolean(field: string, value: unknown, errors: string[]): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    errors.push(`${field}: must be true or false`);
    return undefined;
  }
  return value;
}

/** What a plan's lifecycle asks of raters (plans carried from before compare lifecycles are thumbs). */
export function taskOf(plan: Pick<LifecyclePlan, 'task'>): LifecycleTask {
  return plan.task ?? 'thumbs';
}

/** Resolves a deadline spec against the lifecycle's start time. */
export function deadlineAt(spec: DeadlineSpec, startedAtMs: number): number {
  return spec.kind === 'duration' ? startedAtMs + spec.ms : Date.parse(spec.iso);
}
