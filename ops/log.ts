/**
 * Logs for every Prefline process, shaped as Temporal's Logger so the SDK's own logs (and the native
 * core's, which the runtime forwards: ops/runtime.ts) come out the same way. Two formats
 * (PREFLINE_LOG_FORMAT):
 * - `text` (default): one readable line, `12:00:01.234 INFO  [worker] message key=value` (UTC time of
 *   day); at debug level an error field is followed by its stack and causes, indented;
 * - `json`: one object per line for log collectors,
 *   `{"time":"2026-12-01T09:00:00.123Z","level":"info","component":"worker","message":"…","fields":{…}}`,
 *   with every error field as its name, message, code, stack and cause chain.
 * Secrets are never written: fields named like one (token, secret, password, api key, authorization,
 * cookie, private key) are replaced, and token-shaped text (Slack, Replicate, bearer) is masked anywhere.
 */
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

/** A level alone (text format), or the process's log settings (PreflineConfig has both fields). */
export type LogSettings = string | { logLevel: string; logFormat?: LogFormat };

export interface LogOutput {
  write?: (line: string) => void;
  /** Injectable for tests. */
  now?: () => Date;
}

const QUIET = ['No Nexus services registered', 'No workflows registered', 'No activities registered', 'Worker state changed'];

const ORDER: Record<string, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

/** SDK metadata repeated on every line of a worker: noise on a terminal, kept (but the task token) in JSON. */
const TEXT_HIDDEN = new Set(['sdkComponent', 'taskQueue', 'namespace', 'workflowType', 'activityType', 'attempt', 'isLocal', 'runId', 'taskToken', 'activityId', 'workflowRunId']);
const JSON_HIDDEN = new Set(['taskToken']);

const SECRET_FIELD = /token|secret|passw(or)?d|api_?key|authorization|cookie|private_?key|credential/i;
const SECRET_TEXT = [
  /\bxox[abpors]-[A-Za-z0-9-]{8,}/g, // Slack bot, user and config tokens
  /\bxapp-[A-Za-z0-9-]{8,}/g, // Slack app-level tokens
  /\br8_[A-Za-z0-9]{16,}/g, // Replicate API tokens
  /\bsk-[A-Za-z0-9_-]{16,}/g, // OpenAI-style API keys
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{8,}=*/gi,
];
export const REDACTED = '[redacted]';

/** Masks token-shaped substrings. */
export function redactText(text: string): string {
  return SECRET_TEXT.reduce((out, pattern) => out.replace(pattern, (match) => (/^(bearer|basic)\s/i.test(match) ? `${match.split(/\s/)[0]} ${REDACTED}` : REDACTED)), text);
}

const MAX_CAUSES = 5;

/** An error as JSON: what it is, where it was thrown, and why (its causes). */
export function errorToJson(err: Error, depth = 0): Record<string, unknown> {
  const extra = err as Error & { code?: unknown; type?: unknown };
  const out: Record<string, unknown> = { name: err.name, message: redactText(err.message) };
  if (typeof extra.code === 'string' || typeof extra.code === 'number') out.code = extra.code;
  if (typeof extra.type === 'string') out.type = extra.type; // ApplicationFailure's type
  if (err.stack) out.stack = redactText(err.stack);
  if (err.cause !== undefined && depth < MAX_CAUSES) out.cause = err.cause instanceof Error ? errorToJson(err.cause, depth + 1) : redactText(String(err.cause));
  return out;
}

/** The stack, then each cause's as a `Caused by:` block (as Node and Java print them), indented. */
function errorStackText(err: Error): string {
  const blocks: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && depth <= MAX_CAUSES; depth++) {
    const text = current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current);
    blocks.push((depth > 0 ? 'Caused by: ' : '') + text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return redactText(blocks.join('\n').split('\n').map((line) => `    ${line.trim()}`).join('\n'));
}

function formatTextValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(redactText(value.message));
  if (typeof value === 'string') {
    const text = redactText(value);
    return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
  }
  return redactText(safeJson(value) ?? String(value));
}

/** JSON that survives errors nested in objects, bigints and cycles, with secret-named values replaced at any depth. */
function safeJson(value: unknown): string | undefined {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(value, (key, v: unknown) => {
      if (key !== '' && SECRET_FIELD.test(key) && v !== undefined) return REDACTED;
      if (v instanceof Error) return errorToJson(v);
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'object' && v !== null) {
        if (seen.has(v)) return '[circular]';
        seen.add(v);
      }
      return v;
    });
  } catch {
    return undefined;
  }
}

function visibleFields(meta: LogMetadata | undefined, hidden: ReadonlySet<string>): Array<[string, unknown]> {
  return Object.entries(meta ?? {})
    .filter(([k, v]) => v !== undefined && !hidden.has(k))
    .map(([k, v]) => [k, SECRET_FIELD.test(k) ? REDACTED : v]);
}

export function createLogger(component: string, settings: LogSettings, output: LogOutput | ((line: string) => void) = {}): Logger {
  const { logLevel, logFormat = 'text' } = typeof settings === 'string' ? { logLevel: settings } : settings;
  const { write = (l: string) => process.stderr.write(l + '\n'), now = () => new Date() } = typeof output === 'function' ? { write: output } : output;
  const threshold = ORDER[logLevel.toUpperCase()] ?? ORDER.INFO!;

  const text = (lvl: LogLevel, message: string, meta: LogMetadata | undefined): string => {
    const fields = visibleFields(meta, TEXT_HIDDEN);
    const line = `${now().toISOString().slice(11, 23)} ${lvl.padEnd(5)} [${component}] ${redactText(message)}${fields.length ? ' ' + fields.map(([k, v]) => `${k}=${formatTextValue(v)}`).join(' ') : ''}`;
    // One line per entry, except when debugging: then errors bring their stacks.
    if (threshold > ORDER.DEBUG!) return line;
    const stacks = fields.filter((f): f is [string, Error] => f[1] instanceof Error).map(([, err]) => errorStackText(err));
    return [line, ...stacks].join('\n');
  };

  const json = (lvl: LogLevel, message: string, meta: LogMetadata | undefined): string => {
    const fields = visibleFields(meta, JSON_HIDDEN);
    const entry = { time: now().toISOString(), level: lvl.toLowerCase(), component, message, ...(fields.length ? { fields: Object.fromEntries(fields) } : {}) };
    // Token-shaped text is masked in the serialised line: the patterns never span JSON's quotes.
    return redactText(safeJson(entry) ?? JSON.stringify({ time: entry.time, level: entry.level, component, message, fields: '[unserialisable]' }));
  };

  const format = logFormat === 'json' ? json : text;
  const log = (lvl: LogLevel, message: string, meta?: LogMetadata) => {
    // The SDK announces every queue it does not poll; that is by design here (one queue per worker role).
    if (QUIET.some((q) => message.startsWith(q))) lvl = 'DEBUG';
    if ((ORDER[lvl] ?? 2) < threshold) return;
    write(format(lvl, message, meta));
  };
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}
