/**
 * How a rater gets a session on the web page (`POST /api/session`), and what the page may offer
 * (`GET /api/auth`). Three ways in, one body each:
 *
 *   {invite: "<token>"}              a signed invite link (invites.ts), checked against the registry
 *   {oidc: true}                     the session an OIDC sign-in left in a one-time cookie (oidc.ts)
 *   {name: "…", accessCode?: "…"}    a typed name: only when the open panel is on (PREFLINE_WEB_OPEN_PANEL);
 *                                    unverified, and the access code (PREFLINE_WEB_ACCESS_CODE) gates it
 *
 * Every attempt counts against its client address's sign-in limit, and every wrong access code
 * against a stricter one (429 with Retry-After). Raw names and invite labels never leave this file:
 * sessions carry pseudonyms and a display name (never an email address), and logs the pseudonym only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { ErrorCode } from '../core/errors';
import {
  HttpError, MAX_JSON_BODY_BYTES, checkJsonType, checkSameOrigin, messageOf, readJsonObject, sendJson, tooManyRequests,
  type GatewayLog, type HttpRoute,
} from '../core/http';
import { pseudonymiseRater } from '../core/pseudonym';
import type { RateLimiter } from '../core/rate-limit';
import type { InviteRegistry } from './invite-registry';
import { displayNameOf, invitedRater, verifyInvite } from './invites';
import { issueSession, type SessionSubject } from './session';

const MAX_NAME_LENGTH = 80;

export interface SignInContext {
  raterKey: Buffer;
  sessionKey: Buffer;
  /** Without it, invite links are refused (503). */
  invites?: { registry: InviteRegistry; key: Buffer };
  openPanel: boolean;
  accessCode?: string;
  sessionTtlMs: number;
  publicOrigin?: string;
  /** The client address limits are counted by (core/http.ts clientAddress). */
  clientOf: (req: http.IncomingMessage) => string;
  signIns: RateLimiter;
  accessCodeFailures: RateLimiter;
  /** Whether the page has a prompt box for raters who may generate (GET /api/generate exists). */
  promptBox?: boolean;
  /** The OIDC sign-in, when configured: its button label and the session its callback left for the page. */
  oidc?: { label: string; takeHandoff(req: http.IncomingMessage, res: http.ServerResponse): SessionSubject & { expiresAt: number } };
  now: () => number;
  log: GatewayLog;
}

/** Refuses (429) a client address over its sign-in limit; counts this attempt otherwise. */
export function limitSignIn(ctx: Pick<SignInContext, 'clientOf' | 'signIns' | 'log'>, req: http.IncomingMessage): void {
  const wait = ctx.signIns.take(ctx.clientOf(req));
  if (wait > 0) {
    ctx.log('info', 'sign-ins rate-limited', { retryAfterSeconds: wait });
    throw tooManyRequests(wait, `too many sign-in attempts from your address; try again in ${wait} s`);
  }
}

export function createSignInRoutes(ctx: SignInContext): HttpRoute[] {
  const issue = (res: http.ServerResponse, who: SessionSubject, ttlMs: number) => {
    const issuedAt = ctx.now();
    const token = issueSession(ctx.sessionKey, who, ttlMs, issuedAt);
    ctx.log('info', 'session issued', { rater: who.rater, auth: who.auth, ...(who.inviteId ? { inviteId: who.inviteId } : {}) }); // never the name
    sendJson(res, 201, {
      token, rater: who.rater, name: who.displayName, auth: who.auth,
      ...(who.campaign !== undefined ? { campaign: who.campaign } : {}),
      canGenerate: who.canGenerate === true,
      expiresAt: new Date(issuedAt + ttlMs).toISOString(),
    });
  };

  async function redeemInvite(res: http.ServerResponse, token: unknown): Promise<void> {
    if (!ctx.invites) throw new HttpError(ErrorCode.InvitesUnavailable, 'this gateway has no invite registry');
    const { registry, key } = ctx.invites;
    const now = ctx.now();
    const check = verifyInvite(key, token, now);
    if (!check.ok && check.reason === 'expired') throw new HttpError(ErrorCode.InviteExpired, 'this invite link has expired — ask for a new one');
    if (!check.ok) throw new HttpError(ErrorCode.InviteInvalid, 'this invite link is not valid — check that you copied all of it');
    const { inviteId } = check.claim;
    const record = await registry.get(inviteId);
    if (!record) throw new HttpError(ErrorCode.InviteInvalid, 'this invite link is not valid — check that you copied all of it');
    if (record.revokedAt !== undefined) throw new HttpError(ErrorCode.InviteRevoked, 'this invite link was withdrawn — ask for a new one');
    const expiresAt = Math.min(Date.parse(record.expiresAt), check.claim.expiresAt);
    if (expiresAt <= now) throw new HttpError(ErrorCode.InviteExpired, 'this invite link has expired — ask for a new one');
    registry.markUsed(inviteId, new Date(now)).catch((err: unknown) => ctx.log('warn', 'could not record the invite\'s use', { inviteId, error: messageOf(err) }));
    // The session ends when the invite does.
    issue(res, {
      rater: invitedRater(ctx.raterKey, record.label), displayName: displayNameOf(record.label), auth: 'invite', inviteId,
      ...(record.campaign !== undefined ? { campaign: record.campaign } : {}),
      ...(record.canGenerate === true ? { canGenerate: true as const } : {}),
    }, Math.min(ctx.sessionTtlMs, expiresAt - now));
  }

  function typedName(req: http.IncomingMessage, res: http.ServerResponse, body: Record<string, unknown>): void {
    if (!ctx.openPanel) throw new HttpError(ErrorCode.OpenPanelDisabled, 'this page is for invited raters: open the invite link you were sent');
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    if ([...name].length < 1 || [...name].length > MAX_NAME_LENGTH || /\p{Cc}/u.test(name)) {
      throw new HttpError(ErrorCode.InvalidName, `name: 1–${MAX_NAME_LENGTH} characters`);
    }
    if (ctx.accessCode !== undefined) {
      const client = ctx.clientOf(req);
      const wait = ctx.accessCodeFailures.retryAfterSeconds(client);
      if (wait > 0) throw tooManyRequests(wait, `too many wrong access codes; try again in ${wait} s`);
      if (!sameSecret(body.accessCode, ctx.accessCode)) {
        ctx.accessCodeFailures.take(client);
        throw new HttpError(ErrorCode.AccessDenied, 'access code required');
      }
    }
    let rater: string;
    try {
      rater = pseudonymiseRater(ctx.raterKey, 'web', name);
    } catch {
      throw new HttpError(ErrorCode.InvalidName, `name: 1–${MAX_NAME_LENGTH} characters`); // blank once normalised
    }
    issue(res, { rater, displayName: name, auth: 'open' }, ctx.sessionTtlMs);
  }

  const createSession = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    checkSameOrigin(req, ctx.publicOrigin);
    checkJsonType(req);
    limitSignIn(ctx, req);
    const body = await readJsonObject(req, MAX_JSON_BODY_BYTES);
    const ways = ['invite', 'oidc', 'name'].filter((k) => body[k] !== undefined);
    if (ways.length > 1) throw new HttpError(ErrorCode.InvalidSignIn, 'send one of invite, oidc or name');
    if (body.invite !== undefined) return redeemInvite(res, body.invite);
    if (body.oidc !== undefined) {
      if (!ctx.oidc) throw new HttpError(ErrorCode.OidcNotConfigured, 'this page has no OIDC sign-in');
      const handed = ctx.oidc.takeHandoff(req, res);
      return issue(res, handed, handed.expiresAt - ctx.now());
    }
    return typedName(req, res, body);
  };

  const authOptions = async (_req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    sendJson(res, 200, {
      invite: true,
      openPanel: ctx.openPanel,
      accessCode: ctx.openPanel && ctx.accessCode !== undefined,
      oidc: ctx.oidc ? { label: ctx.oidc.label } : null,
      promptBox: ctx.promptBox === true,
    });
  };

  return [
    { pattern: /^\/api\/session$/, methods: { POST: createSession } },
    { pattern: /^\/api\/auth$/, methods: { GET: authOptions } },
  ];
}

/** Constant-time string comparison (hashing first makes the lengths equal). */
function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
