/**
 * Signed rater session tokens of the web page: `base64url(JSON payload) + "." + base64url(HMAC-SHA256)`.
 * Stateless (nothing to store, survives restarts while the key is stable); the payload is signed, not
 * encrypted, and holds only the pseudonym and the name the rater typed, which is theirs to see.
 * Times are epoch milliseconds; the clock is injected so tests need no fakes.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface RaterSession {
  /** Pseudonym (`r_…`), what votes carry. */
  rater: string;
  /** The name as the rater typed it, for display only. */
  displayName: string;
  issuedAt: number;
  expiresAt: number;
}

export type SessionCheck =
  | { ok: true; session: RaterSession }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'not_yet_valid' };

interface Payload {
  v: 1;
  r: string;
  n: string;
  iat: number;
  exp: number;
}

/** Tolerated clock skew for `iat` between the issuing and the verifying gateway process. */
export const MAX_FUTURE_IAT_MS = 5 * 60_000;
const MAX_TOKEN_LENGTH = 4096;
const B64URL = /^[A-Za-z0-9_-]+$/;

function sign(key: Buffer, data: string): Buffer {
  if (key.length === 0) throw new Error('session key is empty');
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function issueSession(key: Buffer, who: { rater: string; displayName: string }, ttlMs: number, nowMs: number): string {
  if (!(ttlMs > 0)) throw new RangeError('session ttl must be positive');
  const payload: Payload = { v: 1, r: who.rater, n: who.displayName, iat: nowMs, exp: nowMs + ttlMs };
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${sign(key, body).toString('base64url')}`;
}

export function verifySession(key: Buffer, token: string, nowMs: number): SessionCheck {
  if (key.length === 0) throw new Error('session key is empty'); // a misconfiguration, not a bad token
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  const [body, sig] = parts;
  if (parts.length !== 2 || !body || !sig || !B64URL.test(body) || !B64URL.test(sig)) return { ok: false, reason: 'malformed' };

  // Check the signature before parsing anything an attacker wrote.
  const given = Buffer.from(sig, 'base64url');
  const actual = sign(key, body);
  // timingSafeEqual needs equal lengths; the length of an HMAC is public, so checking it first leaks nothing.
  // Also require the canonical encoding, so one signature has exactly one spelling.
  const same = given.length === actual.length && given.toString('base64url') === sig && timingSafeEqual(given, actual);
  if (!same) return { ok: false, reason: 'bad_signature' };

  let p: Partial<Payload>;
  try {
    p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Partial<Payload>;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (
    typeof p !== 'object' || p === null || p.v !== 1 ||
    typeof p.r !== 'string' || p.r.length === 0 || typeof p.n !== 'string' ||
    !Number.isFinite(p.iat) || !Number.isFinite(p.exp) || (p.exp as number) <= (p.iat as number)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const iat = p.iat as number;
  const exp = p.exp as number;
  if (iat > nowMs + MAX_FUTURE_IAT_MS) return { ok: false, reason: 'not_yet_valid' };
  if (nowMs >= exp) return { ok: false, reason: 'expired' };
  return { ok: true, session: { rater: p.r, displayName: p.n, issuedAt: iat, expiresAt: exp } };
}
