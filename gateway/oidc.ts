/**
 * Optional OIDC sign-in for teams with an identity provider (PREFLINE_OIDC_*): the authorization code
 * flow with PKCE, a state and a nonce, through openid-client (a maintained, certified client).
 *
 *   GET /auth/login      → 302 to the provider; the state, nonce and PKCE verifier ride along in a
 *                          signed, HttpOnly cookie scoped to the callback (SameSite=Lax: the provider's
 *                          redirect back is a cross-site top-level navigation)
 *   GET /auth/callback   → the code is exchanged and the ID token verified (issuer, audience, nonce,
 *                          signature); the rater's session goes into a one-time HttpOnly cookie scoped
 *                          to /api/session (SameSite=Strict), and 303 to the page, which collects it with
 *                          `POST /api/session {oidc: true}` — no token ever appears in a URL.
 *
 * Who the rater is: an `email_verified` address gives the email channel's pseudonym (so one person is
 * one rater across invites, email and OIDC); otherwise the pair (issuer, subject). The address itself
 * is never kept or shown. The provider's metadata is discovered on first use and again after a failure.
 * An http:// issuer is accepted on loopback only (tests start one there).
 */
import type http from 'node:http';
import * as oidc from 'openid-client';
import { ErrorCode } from '../core/errors';
import { HttpError, isLoopbackName, messageOf, type GatewayLog, type HttpRoute } from '../core/http';
import { pseudonymiseRater } from '../core/pseudonym';
import { EMAIL_ADDRESS } from '../workflows/input';
import { clearCookie, readCookie, setCookie } from './cookies';
import type { SessionSubject } from './session';
import { openToken, sealToken } from './signed-token';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE only). */
  clientSecret?: string;
  /** Space-separated; `openid` is always among them. */
  scopes: string;
}

export interface OidcContext {
  settings: OidcSettings;
  publicUrl: string;
  sessionKey: Buffer;
  raterKey: Buffer;
  sessionTtlMs: number;
  /** Refuses (429) a client address over its sign-in limit. */
  limitSignIn: (req: http.IncomingMessage) => void;
  /** Verified addresses and `@domains` whose raters may generate (PREFLINE_OIDC_GENERATORS), lowercase. */
  generators?: readonly string[];
  now: () => number;
  log: GatewayLog;
}

const STATE_COOKIE = 'prefline_oidc_state';
const HANDOFF_COOKIE = 'prefline_oidc_session';
const STATE_PURPOSE = 'prefline-oidc-state';
const HANDOFF_PURPOSE = 'prefline-oidc-handoff';
const STATE_TTL_MS = 10 * 60_000;
const HANDOFF_TTL_MS = 2 * 60_000;
const DISCOVERY_TIMEOUT_SECONDS = 10;

export interface OidcSignIn {
  routes: HttpRoute[];
  /** The provider's name for the page's button: the issuer's host. */
  label: string;
  /** The session the callback left in its one-time cookie (and clears it); 401 without one. */
  takeHandoff(req: http.IncomingMessage, res: http.ServerResponse): SessionSubject & { expiresAt: number };
}

export function createOidcSignIn(ctx: OidcContext): OidcSignIn {
  const issuerUrl = new URL(ctx.settings.issuer);
  const insecure = issuerUrl.protocol === 'http:';
  if (insecure && !isLoopbackName(issuerUrl.hostname)) throw new Error('PREFLINE_OIDC_ISSUER must be https (http only on loopback)');
  const redirectUri = `${ctx.publicUrl}/auth/callback`;
  const secure = ctx.publicUrl.startsWith('https:');
  let discovered: Promise<oidc.Configuration> | undefined;

  function configuration(): Promise<oidc.Configuration> {
    discovered ??= oidc.discovery(
      issuerUrl,
      ctx.settings.clientId,
      ctx.settings.clientSecret,
      ctx.settings.clientSecret === undefined ? oidc.None() : oidc.ClientSecretPost(ctx.settings.clientSecret),
      { timeout: DISCOVERY_TIMEOUT_SECONDS, ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}) },
    );
    const current = discovered;
    current.catch(() => {
      if (discovered === current) discovered = undefined; // the next sign-in tries again
    });
    return current;
  }

  const login = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    ctx.limitSignIn(req);
    let config: oidc.Configuration;
    try {
      config = await configuration();
    } catch (err) {
      ctx.log('error', 'OIDC discovery failed', { issuer: ctx.settings.issuer, error: messageOf(err) });
      throw new HttpError(ErrorCode.OidcUnavailable, 'the sign-in provider could not be reached; try again later');
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: ctx.settings.scopes,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const cookie = sealToken(ctx.sessionKey, { s: state, n: nonce, v: verifier, exp: ctx.now() + STATE_TTL_MS }, STATE_PURPOSE);
    res.writeHead(302, {
      Location: url.href,
      'Cache-Control': 'no-store',
      'Set-Cookie': setCookie(STATE_COOKIE, cookie, { path: '/auth/callback', maxAgeSeconds: STATE_TTL_MS / 1000, sameSite: 'Lax', secure }),
    });
    res.end();
  };

  const callback = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    ctx.limitSignIn(req);
    const clearState = clearCookie(STATE_COOKIE, { path: '/auth/callback', sameSite: 'Lax', secure });
    const opened = openToken(ctx.sessionKey, readCookie(req, STATE_COOKIE), STATE_PURPOSE);
    const saved = opened.ok ? (opened.payload as { s?: unknown; n?: unknown; v?: unknown; exp?: unknown }) : undefined;
    if (!saved || typeof saved.s !== 'string' || typeof saved.n !== 'string' || typeof saved.v !== 'string' || typeof saved.exp !== 'number' || saved.exp <= ctx.now()) {
      throw new HttpError(ErrorCode.OidcStateMissing, 'this sign-in expired or was started in another browser; start it again', { 'Set-Cookie': clearState });
    }
    const query = new URL(req.url ?? '/', 'http://gateway').search;
    // The URL as the provider redirected to it: the public one, never built from Host.
    const currentUrl = new URL(`${redirectUri}${query}`);
    if (currentUrl.searchParams.has('error')) {
      ctx.log('info', 'OIDC sign-in refused by the provider', { error: currentUrl.searchParams.get('error')?.slice(0, 100) });
      throw new HttpError(ErrorCode.OidcDenied, 'the sign-in provider did not sign you in', { 'Set-Cookie': clearState });
    }
    let claims: (oidc.IDToken & Record<string, unknown>) | undefined;
    try {
      const config = await configuration();
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: saved.v, expectedState: saved.s, expectedNonce: saved.n, idTokenExpected: true });
      claims = tokens.claims();
      // Providers that conform to the spec return scope-requested claims (email, name) from userinfo,
      // not in the ID token; userinfo's subject must be the ID token's (fetchUserInfo checks it).
      if (claims && (claims.email === undefined || claims.name === undefined) && config.serverMetadata().userinfo_endpoint) {
        claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
      }
    } catch (err) {
      ctx.log('warn', 'OIDC sign-in failed', { error: messageOf(err) });
      throw new HttpError(ErrorCode.OidcFailed, 'the sign-in could not be completed; start it again', { 'Set-Cookie': clearState });
    }
    if (!claims || typeof claims.sub !== 'string' || claims.sub === '') throw new HttpError(ErrorCode.OidcFailed, 'the sign-in could not be completed; start it again', { 'Set-Cookie': clearState });
    const subject = subjectOf(ctx.raterKey, typeof claims.iss === 'string' ? claims.iss : ctx.settings.issuer, claims);
    const generates = mayGenerate({ email: claims.email, email_verified: claims.email_verified }, ctx.generators ?? []);
    const handoff = sealToken(ctx.sessionKey, { r: subject.rater, d: subject.displayName, ...(generates ? { g: 1 } : {}), exp: ctx.now() + ctx.sessionTtlMs, until: ctx.now() + HANDOFF_TTL_MS }, HANDOFF_PURPOSE);
    ctx.log('info', 'OIDC sign-in', { rater: subject.rater });
    res.writeHead(303, {
      Location: `${ctx.publicUrl}/#/signed-in`,
      'Cache-Control': 'no-store',
      'Set-Cookie': [clearState, setCookie(HANDOFF_COOKIE, handoff, { path: '/api/session', maxAgeSeconds: HANDOFF_TTL_MS / 1000, sameSite: 'Strict', secure })],
    });
    res.end();
  };

  function takeHandoff(req: http.IncomingMessage, res: http.ServerResponse): SessionSubject & { expiresAt: number } {
    const opened = openToken(ctx.sessionKey, readCookie(req, HANDOFF_COOKIE), HANDOFF_PURPOSE);
    const p = opened.ok ? (opened.payload as { r?: unknown; d?: unknown; g?: unknown; exp?: unknown; until?: unknown }) : undefined;
    // Cleared whatever happens: a handoff is collected once.
    res.setHeader('Set-Cookie', clearCookie(HANDOFF_COOKIE, { path: '/api/session', sameSite: 'Strict', secure }));
    if (!p || typeof p.r !== 'string' || typeof p.d !== 'string' || typeof p.exp !== 'number' || typeof p.until !== 'number' || p.until <= ctx.now() || p.exp <= ctx.now()) {
      throw new HttpError(ErrorCode.SessionInvalid, 'no sign-in to collect — sign in again', { 'WWW-Authenticate': 'Bearer' });
    }
    return { rater: p.r, displayName: p.d, auth: 'oidc', ...(p.g === 1 ? { canGenerate: true as const } : {}), expiresAt: p.exp };
  }

  return {
    label: issuerUrl.host,
    takeHandoff,
    routes: [
      { pattern: /^\/auth\/login$/, methods: { GET: login } },
      { pattern: /^\/auth\/callback$/, methods: { GET: callback } },
    ],
  };
}

/** The rater of verified claims: by verified address (as the email channel), else by issuer and subject. */
export function subjectOf(raterKey: Buffer, issuer: string, claims: { sub: string; email?: unknown; email_verified?: unknown; name?: unknown; preferred_username?: unknown }): { rater: string; displayName: string } {
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : undefined;
  const verified = claims.email_verified === true && email !== undefined && email.length <= 254 && EMAIL_ADDRESS.test(email);
  const rater = verified ? pseudonymiseRater(raterKey, 'email', email) : pseudonymiseRater(raterKey, 'oidc', JSON.stringify([issuer, claims.sub]));
  return { rater, displayName: displayName(claims) };
}

/** Whether verified claims name a rater who may generate: a verified address, listed or of a listed `@domain`. */
export function mayGenerate(claims: { email?: unknown; email_verified?: unknown }, generators: readonly string[]): boolean {
  if (generators.length === 0 || claims.email_verified !== true || typeof claims.email !== 'string') return false;
  const email = claims.email.trim().toLowerCase();
  if (!EMAIL_ADDRESS.test(email)) return false;
  return generators.includes(email) || generators.includes(email.slice(email.lastIndexOf('@')));
}

/** A name to show: the profile name or user name, cut before any `@` (responses never carry addresses). */
function displayName(claims: { name?: unknown; preferred_username?: unknown; email?: unknown }): string {
  for (const candidate of [claims.name, claims.preferred_username, claims.email]) {
    if (typeof candidate !== 'string') continue;
    const shown = candidate.split('@')[0]!.replace(/[\p{Cc}\p{Cf}]/gu, '').trim().slice(0, 80);
    if (shown !== '') return shown;
  }
  return 'signed-in rater';
}
