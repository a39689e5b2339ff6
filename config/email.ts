/**
 * The email channel: outbound SMTP (and DKIM), the sender, signed reply addresses, the gateway's
 * inbound listener or IMAP poller (config/imap.ts), and named rater lists. Present when
 * PREFLINE_SMTP_HOST, PREFLINE_EMAIL_INBOUND_PORT or PREFLINE_IMAP_HOST is set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EMAIL_ADDRESS, MAX_EMAIL_RECIPIENTS } from '../workflows/input';
import { readImap } from './imap';
import { type Env, ConfigError, flag, int, path, text } from './read';
import type { EmailConfig } from './types';

function checkAddress(name: string, address: string): string {
  if (address.length > 254 || !EMAIL_ADDRESS.test(address)) throw new ConfigError(`${name}: not a valid email address: ${JSON.stringify(address)}`);
  return address.toLowerCase();
}

/** `reviewers=a@x,b@y;leads=c@z`, inline JSON, or a JSON file: `{"reviewers": ["a@x", "b@y"]}`. */
export function parseEmailLists(raw: string | undefined, cwd: string): Record<string, string[]> {
  const text = (raw ?? '').trim();
  if (text === '') return {};
  let entries: Array<[string, unknown]>;
  if (text.startsWith('{') || (!text.includes('=') && existsSync(resolve(cwd, text)))) {
    let value: unknown;
    try {
      value = JSON.parse(text.startsWith('{') ? text : readFileSync(resolve(cwd, text), 'utf8'));
    } catch (err) {
      throw new ConfigError(`PREFLINE_EMAIL_LISTS: not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('PREFLINE_EMAIL_LISTS: JSON must be an object of name → [addresses]');
    entries = Object.entries(value);
  } else {
    entries = text.split(';').filter((p) => p.trim() !== '').map((part) => {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new ConfigError(`PREFLINE_EMAIL_LISTS: "${part.trim()}" is not name=addr,addr`);
      return [part.slice(0, eq).trim(), part.slice(eq + 1).split(',').map((a) => a.trim()).filter(Boolean)];
    });
  }
  const lists: Record<string, string[]> = {};
  for (const [name, addresses] of entries) {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name)) throw new ConfigError(`PREFLINE_EMAIL_LISTS: list name "${name}" must be lowercase letters, digits, "-" or "_"`);
    if (!Array.isArray(addresses) || addresses.length === 0 || !addresses.every((a) => typeof a === 'string')) {
      throw new ConfigError(`PREFLINE_EMAIL_LISTS: list "${name}" must hold at least one address`);
    }
    if (addresses.length > MAX_EMAIL_RECIPIENTS) throw new ConfigError(`PREFLINE_EMAIL_LISTS: list "${name}" has more than ${MAX_EMAIL_RECIPIENTS} addresses`);
    lists[name] = [...new Set(addresses.map((a) => checkAddress(`PREFLINE_EMAIL_LISTS (${name})`, a.trim())))];
  }
  return lists;
}

/** `Name <address>` or a bare address. */
function readFrom(env: Env): EmailConfig['from'] {
  if (!env.PREFLINE_EMAIL_FROM) return undefined;
  const match = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(env.PREFLINE_EMAIL_FROM);
  const name = match?.[1]?.replace(/^"(.*)"$/, '$1');
  // Control characters would let a display name start a new header line.
  if (name && /\p{Cc}/u.test(name)) throw new ConfigError('PREFLINE_EMAIL_FROM: the display name must not contain control characters');
  return { ...(name ? { name } : {}), address: checkAddress('PREFLINE_EMAIL_FROM', (match?.[2] ?? env.PREFLINE_EMAIL_FROM).trim()) };
}

function readSmtp(env: Env, cwd: string, from: EmailConfig['from']): EmailConfig['smtp'] {
  if (!env.PREFLINE_SMTP_HOST) return undefined;
  if (!from) throw new ConfigError('PREFLINE_EMAIL_FROM is required with PREFLINE_SMTP_HOST, e.g. "Prefline <ratings@example.com>"');
  const secure = flag(env, 'PREFLINE_SMTP_SECURE');
  const dkimVars = ['PREFLINE_DKIM_DOMAIN', 'PREFLINE_DKIM_SELECTOR', 'PREFLINE_DKIM_PRIVATE_KEY_FILE'].filter((n) => env[n]);
  if (dkimVars.length !== 0 && dkimVars.length !== 3) throw new ConfigError('set all of PREFLINE_DKIM_DOMAIN, PREFLINE_DKIM_SELECTOR and PREFLINE_DKIM_PRIVATE_KEY_FILE, or none');
  return {
    host: env.PREFLINE_SMTP_HOST,
    port: int(env, 'PREFLINE_SMTP_PORT', { otherwise: secure }),
    secure,
    requireTLS: flag(env, 'PREFLINE_SMTP_REQUIRE_TLS'),
    ...(env.PREFLINE_SMTP_USER ? { user: env.PREFLINE_SMTP_USER, pass: env.PREFLINE_SMTP_PASS ?? '' } : {}),
    maxConnections: int(env, 'PREFLINE_SMTP_POOL'),
    rateLimit: int(env, 'PREFLINE_SMTP_RATE_LIMIT'),
    ...(env.PREFLINE_SMTP_TLS_CA ? { tlsCaFile: resolve(cwd, env.PREFLINE_SMTP_TLS_CA) } : {}),
    ...(dkimVars.length === 3
      ? { dkim: { domainName: env.PREFLINE_DKIM_DOMAIN!, keySelector: env.PREFLINE_DKIM_SELECTOR!, privateKeyFile: resolve(cwd, env.PREFLINE_DKIM_PRIVATE_KEY_FILE!) } }
      : {}),
  };
}

/** The gateway's inbound SMTP listener for replies. */
function readInbound(env: Env, cwd: string, inboundDomain: string | undefined, maxBytes: number): EmailConfig['inbound'] {
  if (!env.PREFLINE_EMAIL_INBOUND_PORT) return undefined;
  if (!inboundDomain) throw new ConfigError('PREFLINE_EMAIL_INBOUND_PORT needs PREFLINE_EMAIL_INBOUND_DOMAIN (the domain of the reply addresses)');
  const [keyFile, certFile] = [env.PREFLINE_EMAIL_INBOUND_TLS_KEY, env.PREFLINE_EMAIL_INBOUND_TLS_CERT];
  if (!keyFile !== !certFile) throw new ConfigError('set both PREFLINE_EMAIL_INBOUND_TLS_KEY and PREFLINE_EMAIL_INBOUND_TLS_CERT, or neither');
  return {
    host: text(env, 'PREFLINE_EMAIL_INBOUND_HOST'),
    port: int(env, 'PREFLINE_EMAIL_INBOUND_PORT'),
    maxBytes,
    ...(keyFile && certFile ? { tls: { keyFile: resolve(cwd, keyFile), certFile: resolve(cwd, certFile) } } : {}),
  };
}

export function readEmail(env: Env, cwd: string, dataDir: string): { email?: EmailConfig } {
  if (!env.PREFLINE_SMTP_HOST && !env.PREFLINE_EMAIL_INBOUND_PORT && !env.PREFLINE_IMAP_HOST) return {};
  const from = readFrom(env);
  const smtp = readSmtp(env, cwd, from);
  const inboundDomain = env.PREFLINE_EMAIL_INBOUND_DOMAIN?.trim().toLowerCase() || undefined;
  if (inboundDomain && !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(inboundDomain)) {
    throw new ConfigError(`PREFLINE_EMAIL_INBOUND_DOMAIN: "${inboundDomain}" is not a domain name`);
  }
  const maxBytes = Math.max(1024, int(env, 'PREFLINE_EMAIL_INBOUND_MAX_BYTES'));
  if (env.PREFLINE_EMAIL_INBOUND_PORT && env.PREFLINE_IMAP_HOST) {
    throw new ConfigError('PREFLINE_EMAIL_INBOUND_PORT and PREFLINE_IMAP_HOST are both set: replies arrive either by SMTP (the listener) or by IMAP (the poller); unset one');
  }
  const inbound = readInbound(env, cwd, inboundDomain, maxBytes);
  const imap = env.PREFLINE_IMAP_HOST ? readImap(env, cwd, inboundDomain, maxBytes) : undefined;
  return {
    email: {
      ...(smtp ? { smtp } : {}),
      ...(from ? { from } : {}),
      ...(inboundDomain ? { inboundDomain } : {}),
      ...(inbound ? { inbound } : {}),
      ...(imap ? { imap } : {}),
      lists: parseEmailLists(env.PREFLINE_EMAIL_LISTS, cwd),
      closingNote: flag(env, 'PREFLINE_EMAIL_CLOSING_NOTE'),
      stateDir: path(env, 'PREFLINE_EMAIL_STATE_DIR', cwd, dataDir),
    },
  };
}
