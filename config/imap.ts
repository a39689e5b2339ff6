/** The gateway's IMAP poller for replies (instead of the inbound SMTP listener). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Env, ConfigError, int, optionalText, text } from './read';
import type { ImapConfig } from './types';

/** A mailbox name: printable, no control characters (they would break the IMAP command line). */
function mailboxName(env: Env, name: string): string | undefined {
  const raw = optionalText(env, name);
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (value === '' || value.length > 200 || /\p{Cc}/u.test(value)) throw new ConfigError(`${name} must be a mailbox name without control characters, got ${JSON.stringify(raw)}`);
  return value;
}

/** Exactly one of the inline password and the password file; never in an error message. */
function readPassword(env: Env, cwd: string): string {
  const [inline, file] = [env.PREFLINE_IMAP_PASSWORD, env.PREFLINE_IMAP_PASSWORD_FILE];
  if (!inline === !file) throw new ConfigError('set one of PREFLINE_IMAP_PASSWORD or PREFLINE_IMAP_PASSWORD_FILE with PREFLINE_IMAP_HOST');
  if (inline) return inline;
  let password: string;
  try {
    password = readFileSync(resolve(cwd, file!), 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new ConfigError(`PREFLINE_IMAP_PASSWORD_FILE: cannot read ${resolve(cwd, file!)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (password === '') throw new ConfigError(`PREFLINE_IMAP_PASSWORD_FILE: ${resolve(cwd, file!)} is empty`);
  return password;
}

export function readImap(env: Env, cwd: string, inboundDomain: string | undefined, maxBytes: number): ImapConfig {
  if (!inboundDomain) throw new ConfigError('PREFLINE_IMAP_HOST needs PREFLINE_EMAIL_INBOUND_DOMAIN (the domain of the reply addresses)');
  const host = env.PREFLINE_IMAP_HOST!.trim();
  if (!/^[A-Za-z0-9.:[\]_-]{1,253}$/.test(host)) throw new ConfigError(`PREFLINE_IMAP_HOST: "${host}" is not a host name or address`);
  const security = text(env, 'PREFLINE_IMAP_SECURE').trim().toLowerCase();
  if (security !== 'tls' && security !== 'starttls' && security !== 'none') throw new ConfigError(`PREFLINE_IMAP_SECURE must be tls, starttls or none, got "${env.PREFLINE_IMAP_SECURE}"`);
  const port = int(env, 'PREFLINE_IMAP_PORT', { otherwise: security !== 'tls' });
  if (port < 1 || port > 65535) throw new ConfigError(`PREFLINE_IMAP_PORT must be a port number (1-65535), got "${env.PREFLINE_IMAP_PORT}"`);
  const user = env.PREFLINE_IMAP_USER?.trim();
  if (!user) throw new ConfigError('PREFLINE_IMAP_USER is required with PREFLINE_IMAP_HOST');
  const password = readPassword(env, cwd);
  const mailbox = mailboxName(env, 'PREFLINE_IMAP_MAILBOX')!;
  const processedMailbox = mailboxName(env, 'PREFLINE_IMAP_PROCESSED_MAILBOX');
  if (processedMailbox !== undefined && processedMailbox.toUpperCase() === mailbox.toUpperCase()) {
    throw new ConfigError('PREFLINE_IMAP_PROCESSED_MAILBOX must differ from PREFLINE_IMAP_MAILBOX');
  }
  const pollSeconds = int(env, 'PREFLINE_IMAP_POLL_SECONDS');
  if (pollSeconds < 1 || pollSeconds > 3600) throw new ConfigError(`PREFLINE_IMAP_POLL_SECONDS must be between 1 and 3600, got "${env.PREFLINE_IMAP_POLL_SECONDS}"`);
  const ca = env.PREFLINE_IMAP_TLS_CA;
  if (ca && security === 'none') throw new ConfigError('PREFLINE_IMAP_TLS_CA is set but PREFLINE_IMAP_SECURE=none uses no TLS');
  return {
    host,
    port,
    security,
    ...(ca ? { caFile: resolve(cwd, ca) } : {}),
    user,
    password,
    mailbox,
    ...(processedMailbox !== undefined ? { processedMailbox } : {}),
    pollMs: pollSeconds * 1000,
    maxBytes,
  };
}
