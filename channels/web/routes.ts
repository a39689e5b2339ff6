/**
 * The web channel's inbound half: the vote API the rating page calls, mounted by the gateway host.
 *
 *   GET  /api/lifecycles                 open web lifecycles (at most LIST_LIMIT)
 *   GET  /api/lifecycles/<id>            one lifecycle's status
 *   POST /api/lifecycles/<id>/votes      a vote by the session's rater (vote-request.ts maps the body)
 *
 * It verifies, parses and forwards; every rule about votes lives in the lifecycle, reached through the
 * LifecycleDirectory port. Every route needs a session (`authenticate`, the gateway's signed sessions):
 * a vote names the pseudonym the session was issued for, never a raw name, and reads show what
 * status-view.ts lets through (no email addresses; artifacts by signed URL). A session redeemed from
 * a campaign's invite sees and votes on that campaign only. Votes are rate-limited per rater.
 */
import type http from 'node:http';
import { ERROR_CATALOGUE, ErrorCode } from '../../core/errors';
import { VoteRejectedError, type LifecycleDirectory } from '../../core/lifecycle-directory';
import {
  HttpError, MAX_JSON_BODY_BYTES, bodyTooLarge, checkJsonType, checkSameOrigin, decodeParam, messageOf, readJsonObject, sendJson, tooManyRequests,
  type GatewayLog, type HttpRoute,
} from '../../core/http';
import type { RateLimiter } from '../../core/rate-limit';
import type { LifecycleStatus, RaterAuth } from '../../workflows/types';
import { publicStatus } from './status-view';
import { webVoteRequest } from './vote-request';

/** The signed-in rater of a request. */
export interface WebRater {
  rater: string;
  raterAuth: Extract<RaterAuth, 'invite' | 'oidc' | 'open'>;
  /** Set for a session of a campaign's invite: only that campaign's lifecycles. */
  campaign?: string;
  /** May start lifecycles from the prompt box (start-routes.ts). */
  canGenerate?: boolean;
}

/** Who sent a request: rejects with an HttpError (401) when it carries no valid session. */
export type RaterAuthenticator = (req: http.IncomingMessage) => Promise<WebRater>;

export interface WebRoutesDeps {
  directory: LifecycleDirectory;
  authenticate: RaterAuthenticator;
  /** The signed URL an artifact is shown at (`<img src>` cannot send the session). */
  artifactUrl: (sha256: string) => string;
  /** Votes per rater (pseudonym); none if absent. */
  votesPerRater?: RateLimiter;
  /** Origin of PreflineConfig.gateway.publicUrl: the one cross-host origin votes are accepted from. */
  publicOrigin?: string;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
  log?: GatewayLog;
}

export const LIST_LIMIT = 50;

export function createWebRoutes(deps: WebRoutesDeps): HttpRoute[] {
  const now = deps.now ?? Date.now;
  const log: GatewayLog = deps.log ?? (() => undefined);

  /** Wraps a directory read: failures are logged and answered 502 without internals. */
  async function upstream<T>(what: string, call: () => Promise<T>, lifecycleId?: string): Promise<T> {
    try {
      return await call();
    } catch (err) {
      log('error', `directory ${what} failed`, { lifecycleId, error: messageOf(err) });
      throw upstreamError();
    }
  }

  const inCampaign = (who: WebRater, status: LifecycleStatus) => who.campaign === undefined || status.campaign === who.campaign;

  const listLifecycles = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const who = await deps.authenticate(req);
    const lifecycles = await upstream('list', () => deps.directory.listOpen(LIST_LIMIT));
    sendJson(res, 200, { lifecycles: lifecycles.filter((l) => inCampaign(who, l)).map((l) => publicStatus(l, deps.artifactUrl)) });
  };

  const getLifecycle = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
    const id = decodeParam(match[1]!);
    const who = await deps.authenticate(req);
    const status = await upstream('status', () => deps.directory.status(id), id);
    // Another campaign's lifecycle is none of this rater's business: answered as if it did not exist.
    if (!status || !inCampaign(who, status)) throw new HttpError(ErrorCode.UnknownLifecycle, 'no such lifecycle');
    sendJson(res, 200, publicStatus(status, deps.artifactUrl));
  };

  const castVote = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
    const lifecycleId = decodeParam(match[1]!);
    checkSameOrigin(req, deps.publicOrigin);
    checkJsonType(req);
    if (Number(req.headers['content-length']) > MAX_JSON_BODY_BYTES) throw bodyTooLarge(MAX_JSON_BODY_BYTES); // even before the token is checked
    const who = await deps.authenticate(req); // before reading the body: strangers get no buffering
    const { rater } = who;
    const wait = deps.votesPerRater?.take(rater) ?? 0;
    if (wait > 0) {
      log('info', 'votes rate-limited', { rater, retryAfterSeconds: wait });
      throw tooManyRequests(wait, `too many votes in a short time; try again in ${wait} s`);
    }
    const body = await readJsonObject(req, MAX_JSON_BODY_BYTES);
    const mapped = webVoteRequest(body, rater, new Date(now()).toISOString(), who.raterAuth);
    if (!mapped.ok) throw new HttpError(mapped.code, mapped.message);
    const vote = mapped.vote;
    if (who.campaign !== undefined) {
      const status = await upstream('status', () => deps.directory.status(lifecycleId), lifecycleId);
      if (!status || !inCampaign(who, status)) throw new HttpError(ErrorCode.UnknownLifecycle, 'no such lifecycle');
    }

    let receipt;
    try {
      receipt = await deps.directory.vote(lifecycleId, vote);
    } catch (err) {
      if (err instanceof VoteRejectedError) {
        // The code goes out unchanged, with its status and rater-facing answer from the catalogue.
        log('debug', 'vote refused', { lifecycleId, rater, code: err.code });
        const answer = ERROR_CATALOGUE[err.code].answer ?? err.code;
        const detail = err.code === ErrorCode.MalformedVote || err.code === ErrorCode.WrongChannel;
        throw new HttpError(err.code, answer, err.code === ErrorCode.Busy ? { 'Retry-After': '1' } : {}, detail ? { detail: err.message } : {});
      }
      log('error', 'vote forwarding failed', { lifecycleId, rater, error: messageOf(err) });
      throw upstreamError();
    }
    log('debug', 'vote', { lifecycleId, rater, candidateId: vote.candidateId, value: vote.value, outcome: receipt.outcome });
    sendJson(res, 200, { outcome: receipt.outcome, candidate: receipt.candidate });
  };

  return [
    { pattern: /^\/api\/lifecycles$/, methods: { GET: listLifecycles } },
    { pattern: /^\/api\/lifecycles\/([^/]+)$/, methods: { GET: getLifecycle } },
    { pattern: /^\/api\/lifecycles\/([^/]+)\/votes$/, methods: { POST: castVote } },
  ];
}

function upstreamError(): HttpError {
  return new HttpError(ErrorCode.UpstreamError, 'could not reach the lifecycle, try again');
}
