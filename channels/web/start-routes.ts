/**
 * The rating page's prompt box (web channel), mounted by the gateway host beside the vote API:
 *
 *   GET  /api/generate                    may this rater generate; if so the models, candidates and today's budget
 *   POST /api/lifecycles                  start a lifecycle: {prompt, model, candidates, idempotencyKey}
 *   GET  /api/lifecycles/<id>/progress    how far the rater's own lifecycle got: generating, voting (with
 *                                         its candidates, as the list shows them), or failed and why
 *
 * Who may generate is the session's to say (gateway/sign-in.ts: invites made with `--can-generate`, OIDC
 * raters in PREFLINE_OIDC_GENERATORS, never open-panel names). A start passes the same checks as a vote
 * (session, origin, `X-Prefline-Request`), a rate per rater, and the rater's daily candidate budget
 * (core/generation-budget.ts), reserved before the start and given back if the start does not happen.
 * Lifecycles started here are `web` lifecycles: they appear on everybody's page (in the starter's
 * campaign, if the session has one), and record who started them (`startedBy`, the pseudonym) and from
 * where (`web:prompt-box`).
 */
import type http from 'node:http';
import { ErrorCode } from '../../core/errors';
import type { GenerationBudget } from '../../core/generation-budget';
import {
  HttpError, MAX_JSON_BODY_BYTES, bodyTooLarge, checkJsonType, checkSameOrigin, decodeParam, messageOf, readJsonObject, sendJson, tooManyRequests,
  type GatewayLog, type HttpRoute,
} from '../../core/http';
import type { LifecycleDirectory } from '../../core/lifecycle-directory';
import type { RateLimiter } from '../../core/rate-limit';
import { MAX_CANDIDATES } from '../../workflows/input';
import { startMetadataOf } from '../../workflows/describe';
import type { RaterAuthenticator, WebRater } from './routes';
import { DEFAULT_CANDIDATES, webStartRequest } from './start-request';
import { publicStatus } from './status-view';

export interface WebStartsDeps {
  directory: LifecycleDirectory;
  authenticate: RaterAuthenticator;
  /** The signed URL an artifact is shown at. */
  artifactUrl: (sha256: string) => string;
  /** Models the prompt box offers (PREFLINE_WEB_START_MODELS). */
  models: readonly string[];
  /** Starts per rater (pseudonym). */
  startsPerRater: RateLimiter;
  /** Candidates per rater and UTC day. */
  budget: GenerationBudget;
  publicOrigin?: string;
  now?: () => number;
  log?: GatewayLog;
}

export function createWebStartRoutes(deps: WebStartsDeps): HttpRoute[] {
  const now = deps.now ?? Date.now;
  const log: GatewayLog = deps.log ?? (() => undefined);

  /** Wraps a directory call: failures are logged and answered 502 without internals. */
  async function upstream<T>(what: string, call: () => Promise<T>, lifecycleId: string): Promise<T> {
    try {
      return await call();
    } catch (err) {
      log('error', `directory ${what} failed`, { lifecycleId, error: messageOf(err) });
      throw new HttpError(ErrorCode.UpstreamError, 'could not reach the lifecycle, try again');
    }
  }

  function refuseNonGenerators(who: WebRater): void {
    if (who.canGenerate) return;
    const why = who.raterAuth === 'open'
      ? 'names typed on the open panel may rate but not generate'
      : 'your sign-in may rate but not generate — ask whoever runs this Prefline for an invite that can (prefline raters invite --can-generate)';
    throw new HttpError(ErrorCode.StartNotAllowed, why);
  }

  const options = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const who = await deps.authenticate(req);
    if (!who.canGenerate) return sendJson(res, 200, { canGenerate: false });
    const used = deps.budget.limit === 0 ? 0 : await deps.budget.used(who.rater, new Date(now()));
    sendJson(res, 200, {
      canGenerate: true,
      models: deps.models,
      maxCandidates: MAX_CANDIDATES,
      defaultCandidates: DEFAULT_CANDIDATES,
      budget: deps.budget.limit === 0 ? null : { limit: deps.budget.limit, used, remaining: Math.max(0, deps.budget.limit - used) },
    });
  };

  const start = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    checkSameOrigin(req, deps.publicOrigin);
    checkJsonType(req);
    if (Number(req.headers['content-length']) > MAX_JSON_BODY_BYTES) throw bodyTooLarge(MAX_JSON_BODY_BYTES);
    const who = await deps.authenticate(req); // before reading the body: strangers get no buffering
    refuseNonGenerators(who);
    const wait = deps.startsPerRater.take(who.rater);
    if (wait > 0) {
      log('info', 'starts rate-limited', { rater: who.rater, retryAfterSeconds: wait });
      throw tooManyRequests(wait, `too many lifecycles started in a short time; try again in ${Math.ceil(wait / 60)} min`);
    }
    const mapped = webStartRequest(await readJsonObject(req, MAX_JSON_BODY_BYTES), { rater: who.rater, ...(who.campaign !== undefined ? { campaign: who.campaign } : {}) }, deps.models);
    if (!mapped.ok) throw new HttpError(mapped.code, mapped.message);
    // A retried click names a lifecycle that exists: answered as such, whatever is left of the budget.
    if (await upstream('progress', () => deps.directory.progress(mapped.lifecycleId), mapped.lifecycleId)) {
      return sendJson(res, 200, { lifecycleId: mapped.lifecycleId, started: false });
    }
    const at = new Date(now());
    const reserved = await deps.budget.reserve(who.rater, mapped.lifecycleId, mapped.candidates, at);
    if (!reserved.ok) {
      const retryAfter = secondsToNextUtcDay(at);
      log('info', 'generation budget used up', { rater: who.rater, used: reserved.used });
      throw new HttpError(
        ErrorCode.BudgetExhausted,
        `today's generation budget is used: ${reserved.used} of ${deps.budget.limit} candidates; ${mapped.candidates} more do not fit. It renews at 00:00 UTC.`,
        { 'Retry-After': String(retryAfter) },
        { retryAfterSeconds: retryAfter, used: reserved.used, limit: deps.budget.limit },
      );
    }
    let outcome;
    try {
      // The Temporal UI lists it as it lists a `prefline start`: prompt, models, channel.
      outcome = await deps.directory.start({ lifecycleId: mapped.lifecycleId, input: mapped.input, ...startMetadataOf(mapped.input, at.getTime()) });
    } catch (err) {
      await deps.budget.release(who.rater, reserved.reservation, at).catch(() => undefined);
      log('error', 'lifecycle start failed', { lifecycleId: mapped.lifecycleId, rater: who.rater, error: messageOf(err) });
      throw new HttpError(ErrorCode.UpstreamError, 'could not start the lifecycle, try again');
    }
    if (outcome === 'exists') {
      // A retried click racing its first start: that one counted against the budget.
      await deps.budget.release(who.rater, reserved.reservation, at).catch(() => undefined);
      return sendJson(res, 200, { lifecycleId: mapped.lifecycleId, started: false });
    }
    log('info', 'lifecycle started from the prompt box', { lifecycleId: mapped.lifecycleId, rater: who.rater, model: mapped.input.model, candidates: mapped.candidates });
    sendJson(res, 201, { lifecycleId: mapped.lifecycleId, started: true });
  };

  const progress = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
    const id = decodeParam(match[1]!);
    const who = await deps.authenticate(req);
    const found = await upstream('progress', () => deps.directory.progress(id), id);
    // Another rater's lifecycle is none of this rater's business. (One that failed before it could say
    // who started it is known by id only to its starter: ids are derived from the starter's own keys.)
    const status = found?.status;
    if (!found || (status && (status.startedBy !== who.rater || (who.campaign !== undefined && status.campaign !== who.campaign)))) {
      throw new HttpError(ErrorCode.UnknownLifecycle, 'no such lifecycle');
    }
    sendJson(res, 200, {
      lifecycleId: id,
      state: found.state,
      ...(status ? { phase: status.phase } : {}),
      ...(found.failure !== undefined ? { failure: found.failure } : {}),
      ...(status && status.phase !== 'generating' && status.phase !== 'publishing' ? { lifecycle: publicStatus(status, deps.artifactUrl) } : {}),
    });
  };

  return [
    { pattern: /^\/api\/generate$/, methods: { GET: options } },
    { pattern: /^\/api\/lifecycles$/, methods: { POST: start } },
    { pattern: /^\/api\/lifecycles\/([^/]+)\/progress$/, methods: { GET: progress } },
  ];
}

/** Seconds until the next 00:00 UTC, when the budget renews. */
function secondsToNextUtcDay(at: Date): number {
  const next = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - at.getTime()) / 1000));
}
