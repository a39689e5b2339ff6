/** The chat page: which models it offers, the reason tags of ratings, and the limits of conversations. */
import { parseDuration } from '../core/duration';
import { MAX_COMMIT_AFTER_MS, MAX_CONTEXT_MESSAGES, MAX_IDLE_TIMEOUT_MS, MAX_MESSAGE_CHARS, MAX_REASON_TAGS, MIN_IDLE_TIMEOUT_MS, isChatModel } from '../workflows/chat-validation';
import { type Env, ConfigError, int, list, text } from './read';
import type { PreflineConfig } from './types';

const REASON_TAG = /^[\p{L}\p{N}][\p{L}\p{N} _-]{0,39}$/u;

/** The gateway's own origin as inference workers reach it: its bind address unless said otherwise. */
function internalUrl(env: Env): string {
  const host = text(env, 'PREFLINE_GATEWAY_HOST');
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const placeholders = { host: reachable.includes(':') ? `[${reachable}]` : reachable, port: String(int(env, 'PREFLINE_GATEWAY_PORT')) };
  const url = text(env, 'PREFLINE_GATEWAY_INTERNAL_URL', { placeholders }).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/?#@]+$/.test(url)) throw new ConfigError(`PREFLINE_GATEWAY_INTERNAL_URL must be an http(s) origin like http://gateway-1:8080, got "${url}"`);
  return url;
}

export function readChat(env: Env): Pick<PreflineConfig, 'chat'> {
  const models = list(env, 'PREFLINE_CHAT_MODELS');
  const bad = models.filter((m) => !isChatModel(m));
  if (models.length === 0 || bad.length > 0) throw new ConfigError(`PREFLINE_CHAT_MODELS takes chat models (demo:text, openai:<model>), got ${bad.map((m) => `"${m}"`).join(', ') || 'none'}`);
  const reasonTags = list(env, 'PREFLINE_CHAT_REASON_TAGS');
  if (reasonTags.length > MAX_REASON_TAGS || !reasonTags.every((t) => REASON_TAG.test(t)) || new Set(reasonTags).size !== reasonTags.length) {
    throw new ConfigError(`PREFLINE_CHAT_REASON_TAGS takes at most ${MAX_REASON_TAGS} distinct tags of 1–40 letters, digits, spaces, "_" or "-"`);
  }
  const idleTimeout = text(env, 'PREFLINE_CHAT_IDLE_TIMEOUT');
  const idleMs = parseDuration(idleTimeout);
  if (idleMs === undefined || idleMs < MIN_IDLE_TIMEOUT_MS || idleMs > MAX_IDLE_TIMEOUT_MS) throw new ConfigError(`PREFLINE_CHAT_IDLE_TIMEOUT must be a duration from 1s to 7d, got "${idleTimeout}"`);
  const ledgerLag = text(env, 'PREFLINE_CHAT_LEDGER_LAG');
  const commitAfterMs = parseDuration(ledgerLag);
  if (commitAfterMs === undefined || !Number.isSafeInteger(commitAfterMs) || commitAfterMs > MAX_COMMIT_AFTER_MS) {
    throw new ConfigError(`PREFLINE_CHAT_LEDGER_LAG must be a whole number of milliseconds from 0s to ${MAX_COMMIT_AFTER_MS / 1000}s, got "${ledgerLag}"`);
  }
  const bounded = (name: string, max: number) => {
    const value = int(env, name);
    if (value < 1 || value > max) throw new ConfigError(`${name} must be from 1 to ${max}, got "${value}"`);
    return value;
  };
  return {
    chat: {
      internalUrl: internalUrl(env),
      models,
      reasonTags,
      idleTimeout,
      commitAfterMs,
      messagesPerMinute: int(env, 'PREFLINE_CHAT_MESSAGES_PER_MINUTE'),
      maxMessageChars: bounded('PREFLINE_CHAT_MAX_MESSAGE_CHARS', MAX_MESSAGE_CHARS),
      contextMessages: bounded('PREFLINE_CHAT_CONTEXT_MESSAGES', MAX_CONTEXT_MESSAGES),
      demoTokenMs: int(env, 'PREFLINE_CHAT_DEMO_TOKEN_MS'),
    },
  };
}
