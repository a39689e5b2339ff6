/**
 * The one token format of the gateway: `base64url(JSON payload) + "." + base64url(HMAC-SHA256)`,
 * used by rater sessions (session.ts), invite links (invites.ts) and the OIDC sign-in's state cookie
 * (oidc.ts). Signed, not encrypted: payloads hold nothing their holder may not see. A `purpose` is
 * mixed into the MAC, so a token of one kind never verifies as another even under the same key
 * (sessions, the first kind, have none, so tokens issued before purposes existed stay valid).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type OpenedToken = { ok: true; payload: unknown } | { ok: false; reason: 'malformed' | 'bad_signature' };

const MAX_TOKEN_LENGTH = 4096;
const B64URL = /^[A-Za-z0-9_-]+$/;

function mac(key: Buffer, body: string, purpose: string | undefined): Buffer {
  if (key.length === 0) throw new Error('token key is empty');
  return createHmac('sha256', key).update(purpose === undefined ? body : `${purpose}\0${body}`, 'utf8').digest();
}

export function sealToken(key: Buffer, payload: object, purpose?: string): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${mac(key, body, purpose).toString('base64url')}`;
}

/** The payload of a token this key signed for this purpose; the signature is checked before anything is parsed. */
export function openToken(key: Buffer, token: unknown, purpose?: string): OpenedToken {
  if (key.length === 0) throw new Error('token key is empty'); // a misconfiguration, not a bad token
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  const [body, sig] = parts;
  if (parts.length !== 2 || !body || !sig || !B64URL.test(body) || !B64URL.test(sig)) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(sig, 'base64url');
  const actual = mac(key, body, purpose);
  // timingSafeEqual needs equal lengths; the length of an HMAC is public, so checking it first leaks nothing.
  // Also require the canonical encoding, so one signature has exactly one spelling.
  const same = given.length === actual.length && given.toString('base64url') === sig && timingSafeEqual(given, actual);
  if (!same) return { ok: false, reason: 'bad_signature' };
  try {
    return { ok: true, payload: JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown };
  } catch {
    return { ok: false, reason: 'malformed' };
  }
}
