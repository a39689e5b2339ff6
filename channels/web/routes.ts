/**
 * The web channel's inbound half: the vote API the rating page calls, mounted by the gateway host.
 *
 *   GET  /api/lifecycles                    open web lifecycles (at most LIST_LIMIT)
 *   GET  /api/lifecycles/<id>               one lifecycle's status
 *   POST /api/lifecycles/<id>/votes         a vote by the session's rater (vote-request.ts maps the body)
 *   POST /api/lifecycles/<id>/judgements    a judgement ("which is better?") by the session's rater
 *                                           (judgement-request.ts maps the body)
 *
 * It verifies, parses and forwards; every rule about votes lives in the lifecycle, reached through the
 * LifecycleDirectory port. Every route needs a session (`authenticate`, the gateway's signed sessions):
 * a vote names the pseudonym the session was issued for, never a raw name, and reads show what
 * status-view.ts lets through (no email addresses, no model names while voting; artifacts by signed
 * URL). A session redeemed from a campaign's invite sees and votes on that campaign only. Votes and
 * judgements share one rate limit per rater. A judgement must name the order the rater is shown the
 * pair in, which the route reads from the lifecycle (and remembers: a lifecycle's pair never changes).
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
import { shownPair } from '../rater-view';
import { orderRefusal, webJudgementRequest } from './judgement-request';
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
/** Lifecycles whose candidate pair is remembered (a judgement then needs no status read unless the session is a campaign's). */
const PAIR_CACHE_SIZE = 10_000;
/** Refusals whose message tells the rater what to fix (a malformed body, the channel, the pair, the answer). */
const DETAILED: ReadonlySet<string> = new Set([ErrorCode.MalformedVote, ErrorCode.WrongChannel, ErrorCode.NotPairwise, ErrorCode.ChoiceNotOffered]);

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
    sendJson(res, 200, { lifecycles: lifecycles.filter((l) => inCampaign(who, l)).map((l) => publicStatus(l, deps.artifactUrl, who.rater)) });
  };

  const getLifecycle = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
    const id = decodeParam(match[1]!);
    const who = await deps.authenticate(req);
    const status = await upstream('status', () => deps.directory.status(id), id);
    // Another campaign's lifecycle is none of this rater's business: answered as if it did not exist.
    if (!status || !inCampaign(who, status)) throw new HttpError(ErrorCode.UnknownLifecycle, 'no such lifecycle');
    sendJson(res, 200, publicStatus(status, deps.artifactUrl, who.rater));
  };

  /**
   * What every state-changing call checks before its body is read: origin, content type and size,
   * the session (strangers get no buffering), the rate limit. Returns the rater and the body.
   */
  async function admit(req: http.IncomingMessage): Promise<{ who: WebRater; body: Record<string, unknown> }> {
    checkSameOrigin(req, deps.publicOrigin);
    checkJsonType(req);
    if (Number(req.headers['content-length']) > MAX_JSON_BODY_BYTES) throw bodyTooLarge(MAX_JSON_BODY_BYTES); // even before the token is checked
    const who = await deps.authenticate(req);
    const wait = deps.votesPerRater?.take(who.rater) ?? 0;
    if (wait > 0) {
      log('info', 'votes rate-limited', { rater: who.rater, retryAfterSeconds: wait });
      throw tooManyRequests(wait, `too many votes in a short time; try again in ${wait} s`);
    }
    return { who, body: await readJsonObject(req, MAX_JSON_BODY_BYTES) };
  }

  /** A campaign's session reaches its campaign's lifecycles only: any other is answered as if it did not exist. */
  async function checkCampaign(who: WebRater, lifecycleId: string, known?: LifecycleStatus): Promise<void> {
    if (who.campaign === undefined) return;
    const status = known ?? (await upstream('status', () => deps.directory.status(lifecycleId), lifecycleId));
    if (!status || !inCampaign(who, status)) throw new HttpError(ErrorCode.UnknownLifecycle, 'no such lifecycle');
  }

  /** Forwards to the directory; a refusal goes out with its code, status and rater-facing answer from the catalogue. */
  async function forward<T>(what: 'vote' | 'judgement', lifecycleId: string, rater: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof VoteRejectedError) {
        log('debug', `${what} refused`, { lifecycleId, rater, code: err.code });
        const answer = ERROR_CATALOGUE[err.code].answer ?? err.code;
        const detail = DETAILED.has(err.code);
        throw new HttpError(err.code, answer, err.code === ErrorCode.Busy ? { 'Retry-After': '1' } : {}, detail ? { detail: err.message } : {});
      }
      log('error', `${what} forwarding failed`, { lifecycleId, rater, error: messageOf(err) });
      throw upstreamError();
    }
  }

  const castVote = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
    const lifecycleId = decodeParam(match[1]!);
    const { who, body } = await admit(req);
    const { rater } = who;
    const mapped = webVoteRequest(body, rater, new Date(now()).toISOString(), who.raterAuth);
    if (!mapped.ok) throw new HttpError(mapped.code, mapped.message);
    const vote = mapped.vote;
    await checkCampaign(who, lifecycleId);
    const receipt = await forward('vote', lifecycleId, rater, () => deps.directory.vote(lifecycleId, vote));
    log('debug', 'vote', { lifecycleId, rater, candidateId: vote.candidateId, value: vote.value, outcome: receipt.outcome });
    // A gold item's verdict (and, for a wrong answer, its explanation) comes only once the rater has answered.
    sendJson(res, 200, { outcome: receipt.outcome, candidate: receipt.candidate, ...(receipt.gold ? { gold: receipt.gold } : {}) });
  };

  // What a judgement needs of its lifecycle, remembered per lifecycle id (insertion order: oldest first).
  const pairs = new Map<string, PairOf>();

  /** The lifecycle's pair (from memory, else its status); refuses a lifecycle without exactly two candidates. */
  async function pairOf(who: WebRater, lifecycleId: string): Promise<PairOf> {
    let known = pairs.get(lifecycleId);
    if (!known || who.campaign !== undefined) {
      const status = await upstream('status', () => deps.directory.status(lifecycleId), lifecycleId);
      await checkCampaign(who, lifecycleId, status ?? undefined);
      if (!status) throw new HttpError(ErrorCode.UnknownLifecycle, 'no such lifecycle');
      const opening = status.phase === 'generating' || status.phase === 'publishing';
      known = { lifecycleId, ...(status.task !== undefined ? { task: status.task } : {}), candidates: status.candidates.map((c) => c.id), opening };
      // Only a pair worth remembering: a lifecycle still generating may have none yet.
      if (!opening) {
        pairs.delete(lifecycleId);
        pairs.set(lifecycleId, known);
        if (pairs.size > PAIR_CACHE_SIZE) pairs.delete(pairs.keys().next().value as string);
      }
    }
    if (known.candidates.length !== 2) {
      // Still generating: its candidates are not all there, and there is no answer to give but "not yet".
      if (known.opening) throw new HttpError(ErrorCode.VotingNotOpen, ERROR_CATALOGUE[ErrorCode.VotingNotOpen].answer ?? ErrorCode.VotingNotOpen);
      throw new HttpError(ErrorCode.NotPairwise, ERROR_CATALOGUE[ErrorCode.NotPairwise].answer ?? ErrorCode.NotPairwise, {}, {
        detail: `this lifecycle has ${known.candidates.length} candidates; judgements compare exactly two`,
      });
    }
    return known;
  }

  const castJudgement = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
    const lifecycleId = decodeParam(match[1]!);
    const { who, body } = await admit(req);
    const { rater } = who;
    const mapped = webJudgementRequest(body, rater, new Date(now()).toISOString(), who.raterAuth);
    if (!mapped.ok) throw new HttpError(mapped.code, mapped.message);
    const judgement = mapped.judgement;
    const [left, right] = shownPair(await pairOf(who, lifecycleId), rater)!;
    const wrongOrder = orderRefusal(judgement, [left, right]);
    if (wrongOrder) throw new HttpError(ErrorCode.MalformedVote, wrongOrder);
    const receipt = await forward('judgement', lifecycleId, rater, () => deps.directory.judge(lifecycleId, judgement));
    log('debug', 'judgement', { lifecycleId, rater, left: judgement.left, right: judgement.right, choice: judgement.choice, outcome: receipt.outcome });
    sendJson(res, 200, { outcome: receipt.outcome, judgements: receipt.judgements, ...(receipt.gold ? { gold: receipt.gold } : {}) });
  };

  return [
    { pattern: /^\/api\/lifecycles$/, methods: { GET: listLifecycles } },
    { pattern: /^\/api\/lifecycles\/([^/]+)$/, methods: { GET: getLifecycle } },
    { pattern: /^\/api\/lifecycles\/([^/]+)\/votes$/, methods: { POST: castVote } },
    { pattern: /^\/api\/lifecycles\/([^/]+)\/judgements$/, methods: { POST: castJudgement } },
  ];
}

/** What a judgement needs of its lifecycle: its candidate ids, and its task (which decides the order shown). */
interface PairOf {
  lifecycleId: string;
  task?: LifecycleStatus['task'];
  candidates: string[];
  /** Generating or publishing when read: voting has not opened. */
  opening: boolean;
}

function upstreamError(): HttpError {
  return new HttpError(ErrorCode.UpstreamError, 'could not reach the lifecycle, try again');
}
