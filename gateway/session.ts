/**
 * Signed rater session tokens of the web page (gateway/signed-token.ts). Stateless (nothing to store,
 * survives restarts while the key is stable); the payload is signed, not encrypted, and holds only the
 * pseudonym, the name shown to the rater, how they signed in and, for an invited rater, the invite
 * (whose revocation ends the session: the gateway checks the invite registry on each request).
 * Times are epoch milliseconds; the clock is injected so tests need no fakes.
 */
import type { RaterAuth } from '../workflows/types';
import { openToken, sealToken } from './signed-token';

/** How a rater signs in on the web page. */
export type WebRaterAuth = Extract<RaterAuth, 'invite' | 'oidc' | 'open'>;

export interface RaterSession {
  /** Pseudonym (`r_…`), what votes carry. */
  rater: string;
  /** The name shown on the page ("Rating as …"), never an email address. */
  displayName: string;
  auth: WebRaterAuth;
  /** The invite an `invite` session was redeemed from. */
  inviteId?: string;
  /** An invite for one campaign: the session sees and votes on that campaign's lifecycles only. */
  campaign?: string;
  /** May start lifecycles from the prompt box (an invite made with `--can-generate`, an OIDC generator); never an open-panel name. */
  canGenerate?: true;
  issuedAt: number;
  expiresAt: number;
}

export type SessionSubject = Omit<RaterSession, 'issuedAt' | 'expiresAt'>;

export type SessionCheck =
  | { ok: true; session: RaterSession }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'not_yet_valid' };

/**
 * v2 adds `a` (how the rater signed in), `i` (invite id) and `c` (campaign), and later `g` (may generate;
 * absent in older v2 tokens, which may not). v1 tokens, issued when the page only took typed names,
 * verify as `open` sessions: valid only where the open panel is on.
 */
interface Payload {
  v: 1 | 2;
  r: string;
  n: string;
  a?: WebRaterAuth;
  i?: string;
  c?: string;
  g?: 1;
  iat: number;
  exp: number;
}

/** Tolerated clock skew for `iat` between the issuing and the verifying gateway process. */
export const MAX_FUTURE_IAT_MS = 5 * 60_000;
const AUTHS: ReadonlySet<unknown> = new Set<WebRaterAuth>(['invite', 'oidc', 'open']);

export function issueSession(key: Buffer, who: SessionSubject, ttlMs: number, nowMs: number): string {
  if (key.length === 0) throw new Error('session key is empty');
  if (!(ttlMs > 0)) throw new RangeError('session ttl must be positive');
  if (who.auth === 'invite' && who.inviteId === undefined) throw new Error('an invite session needs its invite id');
  if (who.auth === 'open' && who.canGenerate) throw new Error('an open-panel session may not generate');
  const payload: Payload = {
    v: 2, r: who.rater, n: who.displayName, a: who.auth,
    ...(who.inviteId !== undefined ? { i: who.inviteId } : {}),
    ...(who.campaign !== undefined ? { c: who.campaign } : {}),
    ...(who.canGenerate ? { g: 1 as const } : {}),
    iat: nowMs, exp: nowMs + ttlMs,
  };
  return sealToken(key, payload);
}

export function verifySession(key: Buffer, token: string, nowMs: number): SessionCheck {
  const opened = openToken(key, token);
  if (!opened.ok) return opened;
  const p = opened.payload as Partial<Payload> | null;
  if (
    typeof p !== 'object' || p === null || (p.v !== 1 && p.v !== 2) ||
    typeof p.r !== 'string' || p.r.length === 0 || typeof p.n !== 'string' ||
    !Number.isFinite(p.iat) || !Number.isFinite(p.exp) || (p.exp as number) <= (p.iat as number)
  ) {
    return { ok: false, reason: 'malformed' };
  }
  const auth = p.v === 1 ? 'open' : p.a;
  if (!AUTHS.has(auth) || (p.i !== undefined && typeof p.i !== 'string') || (p.c !== undefined && typeof p.c !== 'string') || (auth === 'invite') !== (p.i !== undefined) || (p.g !== undefined && (p.g !== 1 || auth === 'open'))) {
    return { ok: false, reason: 'malformed' };
  }
  const iat = p.iat as number;
  const exp = p.exp as number;
  if (iat > nowMs + MAX_FUTURE_IAT_MS) return { ok: false, reason: 'not_yet_valid' };
  if (nowMs >= exp) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    session: {
      rater: p.r, displayName: p.n, auth: auth as WebRaterAuth,
      ...(p.i !== undefined ? { inviteId: p.i } : {}),
      ...(p.c !== undefined ? { campaign: p.c } : {}),
      ...(p.g === 1 ? { canGenerate: true as const } : {}),
      issuedAt: iat, expiresAt: exp,
    },
  };
}
