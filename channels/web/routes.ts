/**
 * The web channel's inbound half: the vote API the rating page calls, mounted by the gateway host.
 *
 *   GET  /api/lifecycles                 open web lifecycles (at most LIST_LIMIT)
 *   GET  /api/lifecycles/<id>            one lifecycle's status
 *   POST /api/lifecycles/<id>/votes      a vote by the session's rater (vote-request.ts maps the body)
 *
 * It verifies, parses and forwards; every rule about votes lives in the lifecycle, reached through the
 * LifecycleDirectory port. Who the rater is comes from the gateway's signed session (`authenticate`),
 * so a vote names the pseudonym it was issued for and never a raw name.
 */
import type http from 'node:http';
import { VoteRejectedError, type LifecycleDirectory, type VoteRejectionCode } from '../../core/lifecycle-directory';
import {
  HttpError, MAX_JSON_BODY_BYTES, bodyTooLarge, checkJsonType, checkSameOrigin, decodeParam, messageOf, readJsonObject, sendJson,
  type GatewayLog, type HttpRoute,
} from '../../core/http';
import { webVoteRequest } from './vote-request';

/** Who sent a request: throws an HttpError (401) when it carries no valid session. */
export type RaterAuthenticator = (req: http.IncomingMessage) => { rater: string };

export interface WebRoutesDeps {
  directory: LifecycleDirectory;
  authenticate: RaterAuthenticator;
  /** Origin of PreflineConfig.gateway.publicUrl, accepted besides the Host's own (reverse proxy). */
  publicOrigin?: string;
  /** Epoch ms; injectable for tests. */
  now?: () => number;
  log?: GatewayLog;
}

export const LIST_LIMIT = 50;

const REJECTIONS: Record<VoteRejectionCode, { status: number; error: string }> = {
  voting_closed: { status: 409, error: 'voting closed' },
  voting_not_open: { status: 409, error: 'voting has not opened yet' },
  unknown_candidate: { status: 404, error: 'no such candidate' },
  unknown_lifecycle: { status: 404, error: 'no such lifecycle' },
  malformed_vote: { status: 400, error: 'malformed vote' },
  wrong_channel: { status: 403, error: 'this lifecycle takes votes through another channel' },
  lifecycle_full: { status: 409, error: 'this lifecycle takes no more votes' },
  busy: { status: 503, error: 'the lifecycle is busy, try again in a moment' },
};

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

  const listLifecycles = async (_req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const lifecycles = await upstream('list', () => deps.directory.listOpen(LIST_LIMIT));
    sendJson(res, 200, { lifecycles });
  };

  const getLifecycle = async (_req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
    const id = decodeParam(match[1]!);
    const status = await upstream('status', () => deps.directory.status(id), id);
    if (!status) throw new HttpError(404, 'unknown_lifecycle', 'no such lifecycle');
    sendJson(res, 200, status);
  };

  const castVote = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
    const lifecycleId = decodeParam(match[1]!);
    checkSameOrigin(req, deps.publicOrigin);
    checkJsonType(req);
    if (Number(req.headers['content-length']) > MAX_JSON_BODY_BYTES) throw bodyTooLarge(MAX_JSON_BODY_BYTES); // even before the token is checked
    const { rater } = deps.authenticate(req); // before reading the body: strangers get no buffering
    const body = await readJsonObject(req, MAX_JSON_BODY_BYTES);
    const mapped = webVoteRequest(body, rater, new Date(now()).toISOString());
    if (!mapped.ok) throw new HttpError(400, mapped.code, mapped.message);
    const vote = mapped.vote;

    let receipt;
    try {
      receipt = await deps.directory.vote(lifecycleId, vote);
    } catch (err) {
      if (err instanceof VoteRejectedError && Object.hasOwn(REJECTIONS, err.code)) {
        const { status, error } = REJECTIONS[err.code];
        log('debug', 'vote refused', { lifecycleId, rater, code: err.code });
        throw new HttpError(status, err.code, error, err.code === 'busy' ? { 'Retry-After': '1' } : {}, err.code === 'malformed_vote' || err.code === 'wrong_channel' ? { detail: err.message } : {});
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
  return new HttpError(502, 'upstream_error', 'could not reach the lifecycle, try again');
}
