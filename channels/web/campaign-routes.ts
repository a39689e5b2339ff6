/**
 * The web channel's campaign route, mounted by the gateway host beside the vote API:
 *
 *   POST /api/campaigns/<id>/next   an item of the campaign for the session's rater, reserved for them
 *
 * Body (optional): `{"done": "<lifecycle id>"}`, the item the rater just answered or skipped, which is
 * never handed back to them. The answer is `{assigned: true, lifecycleId, item, reservedUntil, again,
 * lifecycle}` with the lifecycle's status as the rating page shows it, or `{assigned: false, reason}`
 * (`paused`, `waiting`, `finished`). The same checks as votes: a session, the page's origin and header,
 * JSON, the per-rater rate limit; a session of a campaign's invite gets items of that campaign only (the
 * campaign checks the scope before it reserves anything, and the answer is checked again here).
 */
import type http from 'node:http';
import { CampaignRefusedError, type CampaignDirectory } from '../../core/campaign-directory';
import { ERROR_CATALOGUE, ErrorCode } from '../../core/errors';
import { VoteRejectedError, type LifecycleDirectory } from '../../core/lifecycle-directory';
import {
  HttpError, MAX_JSON_BODY_BYTES, bodyTooLarge, checkJsonType, checkSameOrigin, decodeParam, messageOf, readJsonObject, sendJson, tooManyRequests, type GatewayLog, type HttpRoute,
} from '../../core/http';
import type { RateLimiter } from '../../core/rate-limit';
import type { RaterAuthenticator } from './routes';
import { publicStatus } from './status-view';

export interface CampaignRoutesDeps {
  campaigns: CampaignDirectory;
  directory: LifecycleDirectory;
  authenticate: RaterAuthenticator;
  /** The vote routes' per-rater limiter, shared: each `next` takes from the same budget as a vote. None if absent. */
  votesPerRater?: RateLimiter;
  artifactUrl: (sha256: string) => string;
  publicOrigin?: string;
  log?: GatewayLog;
}

const MAX_ID_LENGTH = 300;

export function createCampaignRoutes(deps: CampaignRoutesDeps): HttpRoute[] {
  const log: GatewayLog = deps.log ?? (() => undefined);

  const next = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
    const campaignId = decodeParam(match[1]!);
    checkSameOrigin(req, deps.publicOrigin);
    checkJsonType(req);
    if (Number(req.headers['content-length']) > MAX_JSON_BODY_BYTES) throw bodyTooLarge(MAX_JSON_BODY_BYTES);
    const who = await deps.authenticate(req);
    const wait = deps.votesPerRater?.take(who.rater) ?? 0;
    if (wait > 0) {
      log('info', 'campaign next rate-limited', { campaignId, rater: who.rater, retryAfterSeconds: wait });
      throw tooManyRequests(wait, `too many requests in a short time; try again in ${wait} s`);
    }
    const body = Number(req.headers['content-length'] ?? 0) === 0 && req.headers['transfer-encoding'] === undefined ? {} : await readJsonObject(req, MAX_JSON_BODY_BYTES);
    const done = body['done'];
    if (done !== undefined && (typeof done !== 'string' || done.length === 0 || done.length > MAX_ID_LENGTH)) {
      throw new HttpError(ErrorCode.BadRequest, 'done must be the id of the lifecycle the rater answered');
    }
    let answer;
    try {
      // The session's scope goes with the request: another campaign refuses it before reserving anything.
      answer = await deps.campaigns.next(campaignId, { rater: who.rater, channel: 'web', ...(done !== undefined ? { done } : {}), ...(who.campaign !== undefined ? { scope: who.campaign } : {}) });
    } catch (err) {
      if (err instanceof CampaignRefusedError || err instanceof VoteRejectedError) {
        throw new HttpError(err.code, ERROR_CATALOGUE[err.code].answer ?? err.code, err.code === ErrorCode.Busy ? { 'Retry-After': '1' } : {});
      }
      log('error', 'campaign next failed', { campaignId, rater: who.rater, error: messageOf(err) });
      throw new HttpError(ErrorCode.UpstreamError, 'could not reach the campaign, try again');
    }
    if (!answer.assigned) {
      sendJson(res, 200, answer);
      return;
    }
    const status = await deps.directory.status(answer.lifecycleId).catch((err: unknown) => {
      log('error', 'directory status failed', { lifecycleId: answer.lifecycleId, error: messageOf(err) });
      throw new HttpError(ErrorCode.UpstreamError, 'could not reach the lifecycle, try again');
    });
    // Another campaign's items are none of this rater's business: answered as if the campaign did not exist.
    if (!status || (who.campaign !== undefined && status.campaign !== who.campaign)) throw new HttpError(ErrorCode.UnknownCampaign, 'no such campaign');
    log('debug', 'campaign item', { campaignId, rater: who.rater, lifecycleId: answer.lifecycleId, again: answer.again });
    // With the rater's order of the pair: the page answers in it, and the judgement route refuses any other.
    sendJson(res, 200, { ...answer, lifecycle: publicStatus(status, deps.artifactUrl, who.rater) });
  };

  return [{ pattern: /^\/api\/campaigns\/([^/]+)\/next$/, methods: { POST: next } }];
}
