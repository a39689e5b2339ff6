/**
 * What a `/prefline …` command says, and the lifecycle input a start becomes. Pure: the command handler
 * (commands.ts) authorises and answers; this reads the text and applies the channel's defaults and the
 * allowed models, then checks the result with the lifecycle's own rules (workflows/input.ts).
 *
 * The text is split into words by shellwords (Bourne-shell word rules, no expansions): double quotes
 * (also “typographic” ones) group words, e.g. a prompt holding `--` or one starting with a command word.
 * Apostrophes and backslashes are plain characters (prompts are full of "a fox's den"), so single quotes
 * group nothing. Flags are exactly `--model`, `--n`, `--votes`, `--deadline` and `--vs` (an em dash, as
 * some keyboards turn `--` into, counts too), `--flag value` or `--flag=value`; `--` ends the flags.
 * Every other word is the prompt, joined by single spaces.
 */
import { createHash } from 'node:crypto';
import { split } from 'shellwords';
import { parseDuration } from '../../core/duration';
import { MAX_CANDIDATES, MAX_DEADLINE_MS, MAX_VOTES, MIN_DEADLINE_MS, validateLifecycleInput } from '../../workflows/input';
import type { LifecycleInput } from '../../workflows/types';

export interface StartFlags {
  model?: string;
  /** Candidates (per model with `vs`). */
  n?: number;
  /** Votes per candidate (the quorum). */
  votes?: number;
  deadline?: string;
  /** A second model: an A/B comparison against `model`. */
  vs?: string;
}

export type CommandRequest =
  | { kind: 'help' }
  | { kind: 'status' }
  | { kind: 'close'; lifecycleId: string }
  /** The rater's next item of a campaign running in this channel (the one, or the one named). */
  | { kind: 'next'; campaignId?: string }
  | { kind: 'start'; prompt: string; flags: StartFlags };

export type CommandParse = { ok: true; request: CommandRequest } | { ok: false; problem: string };

/** What `/prefline <prompt>` uses in a channel unless its flags say otherwise (config: PREFLINE_SLACK_CHANNEL_DEFAULTS). */
export interface ChannelDefaults {
  model?: string;
  candidates?: number;
  votesPerCandidate?: number;
  deadline?: string;
}

const FLAGS = ['model', 'n', 'votes', 'deadline', 'vs'] as const;
type FlagName = (typeof FLAGS)[number];
const LIFECYCLE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;
const TRIGGER_ID = /^[A-Za-z0-9._-]{1,200}$/;
/** Stand-ins for the characters that must not reach the word splitter as quotes or escapes. */
const APOSTROPHE = '\uE000';
const BACKSLASH = '\uE001';

/** The usage, as the command answers `help` and every mistake. `command` is what the app calls it. */
export function usage(command = '/prefline'): string {
  return [
    `*${command} <prompt>* starts a lifecycle in this channel: candidates are posted here for :+1: / :-1: votes.`,
    'Flags: `--model <model>` · `--n 4` (candidates) · `--votes 3` (votes per candidate) · `--deadline 2h` · `--vs <model>` (compare with a second model: A, B, tie or both bad; `--votes` answers).',
    `Put a prompt in double quotes when it holds \`--\` or starts with status, close, next or help: \`${command} "close-up of a fox" --n 2\`.`,
    `*${command} status*: this channel's open lifecycles · *${command} close <id>*: close one you started · *${command} help*: this text.`,
    `*${command} next [campaign]*: your next item of the campaign running in this channel, shown only to you.`,
  ].join('\n');
}

/** The words of a command's text, or why it cannot be read. */
function words(text: string): string[] | { problem: string } {
  if (text.includes(APOSTROPHE) || text.includes(BACKSLASH)) return { problem: 'The text holds characters Prefline cannot take (private-use characters).' };
  const prepared = text
    .replace(/[\u201C\u201D\u201E\u201F\u2033]/g, '"')
    .replace(/'/g, APOSTROPHE)
    .replace(/\\/g, BACKSLASH);
  let parts: string[];
  try {
    parts = split(prepared);
  } catch {
    return { problem: 'A double quote is not closed: put the prompt in "double quotes", or leave quotes out.' };
  }
  return parts.map((w) => w.replaceAll(APOSTROPHE, "'").replaceAll(BACKSLASH, '\\')).filter((w) => w !== '');
}

/** `--name` / `--name=value` (or with an em or en dash); undefined for a word that is not a flag. */
function flagOf(word: string): { name: string; value?: string } | undefined {
  const match = /^(?:--|\u2014|\u2013)([A-Za-z][A-Za-z-]*)(?:=(.*))?$/s.exec(word);
  if (!match) return undefined;
  return { name: match[1]!.toLowerCase(), ...(match[2] !== undefined ? { value: match[2] } : {}) };
}

function integer(name: string, value: string, max: number): number | { problem: string } {
  const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) return { problem: `\`--${name}\` must be a whole number from 1 to ${max}, not "${value}".` };
  return n;
}

/** Reads a command's text: a subcommand, or a start with its prompt and flags. */
export function parseCommandText(text: string): CommandParse {
  const all = words(text);
  if (!Array.isArray(all)) return { ok: false, problem: all.problem };
  const first = all[0]?.toLowerCase();
  if (all.length === 0 || (all.length === 1 && first === 'help')) return { ok: true, request: { kind: 'help' } };
  if (all.length === 1 && first === 'status') return { ok: true, request: { kind: 'status' } };
  if (first === 'close' && all.length <= 2) {
    const id = all[1];
    if (id === undefined || !LIFECYCLE_ID.test(id)) return { ok: false, problem: 'Say which lifecycle to close: `close <id>`, with the id `status` shows.' };
    return { ok: true, request: { kind: 'close', lifecycleId: id } };
  }
  if (first === 'next' && all.length <= 2) {
    const id = all[1];
    if (id !== undefined && !LIFECYCLE_ID.test(id)) return { ok: false, problem: 'Say which campaign: `next <campaign id>`, or just `next` in a channel with one campaign.' };
    return { ok: true, request: { kind: 'next', ...(id !== undefined ? { campaignId: id } : {}) } };
  }
  const flags: StartFlags = {};
  const prompt: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const word = all[i]!;
    if (word === '--') {
      prompt.push(...all.slice(i + 1));
      break;
    }
    const flag = flagOf(word);
    if (!flag) {
      prompt.push(word);
      continue;
    }
    if (!(FLAGS as readonly string[]).includes(flag.name)) return { ok: false, problem: `There is no flag \`--${flag.name}\`; the flags are ${FLAGS.map((f) => `\`--${f}\``).join(', ')}.` };
    const name = flag.name as FlagName;
    if (flags[name] !== undefined) return { ok: false, problem: `\`--${name}\` is given twice.` };
    const value = flag.value ?? all[++i];
    if (value === undefined || value === '' || flagOf(value)) return { ok: false, problem: `\`--${name}\` needs a value, e.g. ${example(name)}.` };
    const read = readFlag(name, value);
    if (typeof read === 'object') return { ok: false, problem: read.problem };
    (flags as Record<FlagName, string | number>)[name] = read;
  }
  if (prompt.length === 0) return { ok: false, problem: 'Give a prompt: what the model is asked to make.' };
  return { ok: true, request: { kind: 'start', prompt: prompt.join(' '), flags } };
}

function example(name: FlagName): string {
  return { model: '`--model demo:shapes`', n: '`--n 4`', votes: '`--votes 3`', deadline: '`--deadline 2h`', vs: '`--vs demo:gradient`' }[name];
}

function readFlag(name: FlagName, value: string): string | number | { problem: string } {
  switch (name) {
    case 'n': return integer('n', value, MAX_CANDIDATES);
    case 'votes': return integer('votes', value, MAX_VOTES);
    case 'deadline': {
      const ms = parseDuration(value);
      if (ms === undefined || ms < MIN_DEADLINE_MS || ms > MAX_DEADLINE_MS) return { problem: `\`--deadline\` must be a duration like 30m, 2h or 1d (at most 366d), not "${value}".` };
      return value;
    }
    default: return value;
  }
}

/**
 * What `--vs` makes of the two models: a compare lifecycle, one candidate each, raters answering which is
 * better (A, B, tie or both bad); `--votes` then counts answers (`responses`).
 */
export function versusInput(model: string, versus: string, votes: number | undefined): Pick<LifecycleInput, 'task' | 'models' | 'responses'> {
  return { task: 'compare', models: [model, versus], ...(votes !== undefined ? { responses: votes } : {}) };
}

/** The lifecycle id of a command: derived from its trigger, so a retried command names the same lifecycle. */
export function commandLifecycleId(team: string, triggerId: string): string | undefined {
  if (!TRIGGER_ID.test(triggerId)) return undefined;
  return `lc-slack-${createHash('sha256').update(`${team}\0${triggerId}`).digest('hex').slice(0, 20)}`;
}

export interface StartContext {
  /** The channel the command was typed in (its id): the lifecycle posts there. */
  channelId: string;
  /** The channel's defaults (its own entry over `*`). */
  defaults: ChannelDefaults;
  /** Models a start may use; the first is the default. */
  models: readonly string[];
  /** The starter's pseudonym. */
  startedBy: string;
}

export type StartInput = { ok: true; input: LifecycleInput; summary: string } | { ok: false; problem: string };

/** The lifecycle input of a start, or what is wrong with it in plain words; `summary` is what the acknowledgement says. */
export function startInput(request: Extract<CommandRequest, { kind: 'start' }>, context: StartContext): StartInput {
  const { flags, prompt } = request;
  const { defaults, models } = context;
  const model = flags.model ?? defaults.model ?? models[0];
  const allowed = (m: string) => models.includes(m);
  const list = models.map((m) => `\`${m}\``).join(', ');
  if (model === undefined) return { ok: false, problem: 'No model may be started from Slack here.' };
  if (!allowed(model)) return { ok: false, problem: `The model \`${model}\` may not be started from Slack here; allowed: ${list}.` };
  if (flags.vs !== undefined && !allowed(flags.vs)) return { ok: false, problem: `The model \`${flags.vs}\` may not be started from Slack here; allowed: ${list}.` };
  if (flags.vs === model) return { ok: false, problem: '`--vs` needs a second model, not the same one.' };
  // A comparison is one candidate per model; the channel's count and quorum are for thumbs lifecycles.
  if (flags.vs !== undefined && flags.n !== undefined && flags.n !== 1) return { ok: false, problem: '`--vs` compares one candidate of each model, so `--n` cannot be used with it.' };
  const candidates = flags.vs !== undefined ? undefined : (flags.n ?? defaults.candidates);
  const votes = flags.vs !== undefined ? undefined : (flags.votes ?? defaults.votesPerCandidate);
  const deadline = flags.deadline ?? defaults.deadline;
  const input: LifecycleInput = {
    prompt,
    ...(flags.vs !== undefined ? versusInput(model, flags.vs, flags.votes) : { model }),
    ...(candidates !== undefined ? { candidates } : {}),
    channel: `slack:${context.channelId}`,
    ...(votes !== undefined ? { votesPerCandidate: votes } : {}),
    ...(deadline !== undefined ? { deadline } : {}),
    startedBy: context.startedBy,
    startedFrom: 'slack:/prefline',
  };
  const checked = validateLifecycleInput(input, Date.now());
  if (!checked.ok) return { ok: false, problem: `This lifecycle cannot start: ${checked.errors.join('; ')}.` };
  const { models: planned, candidatesPerModel } = checked.plan;
  const count = (n: number) => `${n} candidate${n === 1 ? '' : 's'}`;
  const summary = checked.plan.task === 'compare'
    ? `generating ${planned.join(' vs ')} to compare…`
    : planned.length === 1
      ? `generating ${count(candidatesPerModel)} with ${planned[0]}…`
      : `generating ${count(candidatesPerModel)} each with ${planned.join(' and ')}…`;
  return { ok: true, input, summary };
}
