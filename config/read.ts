/**
 * Reading one variable: its value, or else its default from the settings table. Every value that does
 * not parse is a ConfigError naming the variable and the value, so a deployment fails at startup
 * with a message that says what to fix.
 */
import { resolve } from 'node:path';
import { BOOLEAN_WORDS, parseBoolean } from '../core/boolean';
import { ErrorCode, PreflineError } from '../core/errors';
import { parseDuration } from '../core/duration';
import { setting } from './settings';

export type Env = NodeJS.ProcessEnv;

/** A variable is set to something Prefline cannot use: the deployment must fix it, retrying cannot help. */
export class ConfigError extends PreflineError {
  constructor(message: string) {
    super(ErrorCode.ConfigInvalid, message);
  }
}

export interface DefaultOptions {
  /** Use the setting's `otherwise` default (its other mode) when the variable is unset. */
  otherwise?: boolean;
  /** Values of the placeholders the default holds (`data` for `<data>`, …). */
  placeholders?: Record<string, string>;
}

/** The variable's value or, when it is unset or empty, the table's default; undefined if it has none. */
export function optionalText(env: Env, name: string, options: DefaultOptions = {}): string | undefined {
  const s = setting(name);
  const raw = env[name];
  if (raw !== undefined && raw !== '') return raw;
  if (s.sameAs !== undefined) return optionalText(env, s.sameAs, options);
  const fallback = options.otherwise && s.otherwise ? s.otherwise.default : s.default;
  return fallback?.replace(/<([a-z]+)>/g, (_, key: string) => {
    const value = options.placeholders?.[key];
    if (value === undefined) throw new Error(`internal: the default of ${name} needs <${key}>`);
    return value;
  });
}

/** `optionalText` of a setting the table gives a default. */
export function text(env: Env, name: string, options: DefaultOptions = {}): string {
  const value = optionalText(env, name, options);
  if (value === undefined) throw new Error(`internal: ${name} has no default in config/settings.ts`);
  return value;
}

/** Comma-separated values, trimmed, empty ones dropped. */
export function list(env: Env, name: string): string[] {
  return (optionalText(env, name) ?? '').split(',').map((v) => v.trim()).filter(Boolean);
}

export function int(env: Env, name: string, options: DefaultOptions = {}): number {
  const raw = text(env, name, options);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

/** Milliseconds, in the grammar lifecycle input uses too (core/duration.ts): `90s`, `12h`, `1h30m`, `30d`. */
export function duration(env: Env, name: string): number {
  const raw = text(env, name);
  const ms = parseDuration(raw);
  if (ms === undefined) throw new ConfigError(`${name} must be a duration like "90s", "12h", "1h30m" or "30d", got "${raw}"`);
  return ms;
}

/** An on/off setting (core/boolean.ts): anything but its words is refused, never read as off. */
export function flag(env: Env, name: string): boolean {
  const raw = text(env, name);
  const value = parseBoolean(raw);
  if (value === undefined) throw new ConfigError(`${name} must be ${BOOLEAN_WORDS}, got "${raw}"`);
  return value;
}

/** An absolute path: the value relative to `cwd`; `<data>` in a default is the data folder. */
export function path(env: Env, name: string, cwd: string, dataDir?: string): string {
  return resolve(cwd, text(env, name, dataDir === undefined ? {} : { placeholders: { data: dataDir } }));
}
