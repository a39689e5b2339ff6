/**
 * Who may start lifecycles outside ops, and with what: the Slack command `/prefline` (who may start,
 * who are ops, which models, each channel's defaults, a rate per user) and the rating page's prompt box
 * (which models, a rate and a daily candidate budget per rater, which OIDC raters may generate).
 * Every value is checked here, at startup, with the lifecycle input's own rules (workflows/input.ts),
 * so a start never fails later on a model or default the configuration got wrong.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration } from '../core/duration';
import { EMAIL_ADDRESS, MAX_CANDIDATES, MAX_DEADLINE_MS, MAX_VOTES, MIN_DEADLINE_MS, validateLifecycleInput } from '../workflows/input';
import { type Env, ConfigError, int, list, optionalText, path } from './read';
import type { SlackChannelDefaults, SlackCommandsConfig, WebStartsConfig } from './types';

const SLACK_USER = /^[UW][A-Z0-9]{2,30}$/;
const SLACK_USERGROUP = /^S[A-Z0-9]{2,30}$/;
const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{6,20}$/;
const DEFAULT_FIELDS = ['model', 'candidates', 'votesPerCandidate', 'deadline'] as const;

/** Models as lifecycle input takes them (`backend:model`), each known to this release. */
function models(env: Env, name: string): string[] {
  const refs = list(env, name);
  for (const model of refs) {
    const checked = validateLifecycleInput({ prompt: 'x', model }, 0);
    if (!checked.ok) throw new ConfigError(`${name}: ${checked.errors.join('; ').replace(/^model: /, '')}`);
  }
  return [...new Set(refs)];
}

/** User ids (`U…`, `W…`) and user group ids (`S…`), comma-separated. */
function members(env: Env, name: string): { users: string[]; usergroups: string[] } {
  const entries = list(env, name);
  const bad = entries.find((e) => !SLACK_USER.test(e) && !SLACK_USERGROUP.test(e));
  if (bad) throw new ConfigError(`${name}: "${bad}" is neither a Slack user id (U…) nor a user group id (S…)`);
  return { users: entries.filter((e) => SLACK_USER.test(e)), usergroups: entries.filter((e) => SLACK_USERGROUP.test(e)) };
}

/**
 * `{"C0123ABCD": {"model": "demo:shapes", "candidates": 4, "votesPerCandidate": 3, "deadline": "2h"}, "*": {…}}`,
 * inline or a path to such a JSON file; `*` applies to channels without an entry of their own.
 */
export function parseChannelDefaults(raw: string | undefined, cwd: string, allowedModels: readonly string[]): Record<string, SlackChannelDefaults> {
  const name = 'PREFLINE_SLACK_CHANNEL_DEFAULTS';
  const text = (raw ?? '').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    if (text.startsWith('{')) value = JSON.parse(text);
    else if (existsSync(resolve(cwd, text))) value = JSON.parse(readFileSync(resolve(cwd, text), 'utf8'));
    else throw new ConfigError(`${name}: neither JSON nor an existing file: ${resolve(cwd, text)}`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${name}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${name}: must be a JSON object of channel id → defaults`);
  const defaults: Record<string, SlackChannelDefaults> = {};
  for (const [channel, entry] of Object.entries(value)) {
    const where = `${name} (${channel})`;
    if (channel !== '*' && !SLACK_CHANNEL_ID.test(channel)) throw new ConfigError(`${name}: "${channel}" is not a Slack channel id (C…, G…, D…) or "*"`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(`${where}: must be an object like {"model": "demo:shapes", "candidates": 4}`);
    const unknown = Object.keys(entry).find((k) => !(DEFAULT_FIELDS as readonly string[]).includes(k));
    if (unknown) throw new ConfigError(`${where}: unknown field "${unknown}"; known: ${DEFAULT_FIELDS.join(', ')}`);
    const e = entry as Record<string, unknown>;
    const checked: SlackChannelDefaults = {};
    if (e.model !== undefined) {
      if (typeof e.model !== 'string' || !allowedModels.includes(e.model)) throw new ConfigError(`${where}: model must be one of PREFLINE_SLACK_START_MODELS (${allowedModels.join(', ')})`);
      checked.model = e.model;
    }
    const count = (field: 'candidates' | 'votesPerCandidate', max: number) => {
      const v = e[field];
      if (v === undefined) return;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(`${where}: ${field} must be an integer from 1 to ${max}`);
      checked[field] = v;
    };
    count('candidates', MAX_CANDIDATES);
    count('votesPerCandidate', MAX_VOTES);
    if (e.deadline !== undefined) {
      const ms = typeof e.deadline === 'string' ? parseDuration(e.deadline) : undefined;
      if (ms === undefined || ms < MIN_DEADLINE_MS || ms > MAX_DEADLINE_MS) throw new ConfigError(`${where}: deadline must be a duration like "2h" (1s to 366d)`);
      checked.deadline = (e.deadline as string).trim();
    }
    defaults[channel] = checked;
  }
  return defaults;
}

/** The Slack command's settings (always present with Slack: status and close need no starters). */
export function readSlackCommands(env: Env, cwd: string): SlackCommandsConfig {
  const starters = members(env, 'PREFLINE_SLACK_STARTERS');
  const startModels = models(env, 'PREFLINE_SLACK_START_MODELS');
  const canStart = starters.users.length + starters.usergroups.length > 0;
  if (canStart && startModels.length === 0) throw new ConfigError('PREFLINE_SLACK_START_MODELS is required with PREFLINE_SLACK_STARTERS: the models /prefline may start, e.g. demo:shapes');
  if (!canStart && startModels.length > 0) throw new ConfigError('PREFLINE_SLACK_START_MODELS is set but PREFLINE_SLACK_STARTERS is not: nobody may start; set who may (user ids U… or a user group S…)');
  const rawDefaults = optionalText(env, 'PREFLINE_SLACK_CHANNEL_DEFAULTS');
  if (!canStart && rawDefaults) throw new ConfigError('PREFLINE_SLACK_CHANNEL_DEFAULTS is set but PREFLINE_SLACK_STARTERS is not: nobody may start');
  return {
    ...(canStart ? { starters } : {}),
    ops: members(env, 'PREFLINE_SLACK_OPS'),
    models: startModels,
    channelDefaults: parseChannelDefaults(rawDefaults, cwd, startModels),
    startsPerHour: int(env, 'PREFLINE_SLACK_STARTS_PER_HOUR'),
  };
}

/** An address (`a@x.org`) or a whole domain (`@x.org`): who of the OIDC raters may generate. */
function generators(env: Env): string[] {
  const name = 'PREFLINE_OIDC_GENERATORS';
  const entries = list(env, name).map((e) => e.toLowerCase());
  const bad = entries.find((e) => !(e.startsWith('@') ? EMAIL_ADDRESS.test(`x${e}`) : e.length <= 254 && EMAIL_ADDRESS.test(e)));
  if (bad) throw new ConfigError(`${name}: "${bad}" is neither an email address nor a domain like @example.org`);
  return entries;
}

/** The prompt box on the rating page; absent (no prompt box) without PREFLINE_WEB_START_MODELS. */
export function readWebStarts(env: Env, cwd: string, dataDir: string, oidc: boolean): WebStartsConfig | undefined {
  const startModels = models(env, 'PREFLINE_WEB_START_MODELS');
  const oidcGenerators = generators(env);
  if (oidcGenerators.length > 0 && !oidc) throw new ConfigError('PREFLINE_OIDC_GENERATORS is set but PREFLINE_OIDC_ISSUER is not');
  if (startModels.length === 0) {
    if (oidcGenerators.length > 0) throw new ConfigError('PREFLINE_OIDC_GENERATORS is set but PREFLINE_WEB_START_MODELS is not: there is no prompt box to generate with');
    return undefined;
  }
  return {
    models: startModels,
    startsPerHour: int(env, 'PREFLINE_WEB_STARTS_PER_HOUR'),
    dailyCandidates: int(env, 'PREFLINE_WEB_DAILY_CANDIDATES'),
    budgetDir: path(env, 'PREFLINE_WEB_BUDGET_DIR', cwd, dataDir),
    oidcGenerators,
  };
}
