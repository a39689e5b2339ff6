/**
 * The gateway's HTTP host (node:http only): it serves the rating page, signs raters in (sign-in.ts:
 * invite links, OIDC when configured (oidc.ts), typed names only on the open panel), serves artifacts
 * by signed URL, and mounts the channels' inbound routes: the web channel's vote API always
 * (channels/web/routes.ts, authenticated by the sessions issued here), Slack's and email's when they
 * are configured (gateway/slack.ts, gateway/email.ts), and the chat page's API with its stream side
 * channel when chat is configured (channels/chat/).
 *
 * The static files and artifacts themselves are served by file-serving.ts.
 *
 * Every request but the health check must name the public URL's host or a loopback one (DNS
 * rebinding); state-changing ones also pass the origin check (core/http.ts). A session of an invite
 * ends when the invite is revoked: the registry is re-read at most every `inviteCacheMs`. Raw rater
 * names and invite labels are never logged and never leave sign-in.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ArtifactSource } from './artifact-source';
import { ErrorCode, httpStatusOf } from '../core/errors';
import type { CampaignDirectory } from '../core/campaign-directory';
import type { LifecycleDirectory } from '../core/lifecycle-directory';
import {
  HttpError, checkHost, clientAddress, decodeParam, hostOfUrl, sendJson,
  type GatewayLog, type HttpRoute,
} from '../core/http';
import { RateLimiter } from '../core/rate-limit';
import { createCampaignRoutes } from '../channels/web/campaign-routes';
import { createChatRoutes, type ChatRoutesDeps } from '../channels/chat/routes';
import { STREAM_PATH } from '../channels/chat/stream-auth';
import type { ChatStreamHub } from '../channels/chat/stream-hub';
import { createWebRoutes, type WebRater } from '../channels/web/routes';
import { createWebStartRoutes } from '../channels/web/start-routes';
import type { GenerationBudget } from '../core/generation-budget';
import { createLogger } from '../ops/log';
import type { HealthReport } from '../ops/ops-server';
import { signedArtifactUrl } from './artifact-urls';
import { STATIC_PATTERN, createArtifactServing, createStaticFiles } from './file-serving';
import { InviteStateCache, type InviteRegistry } from './invite-registry';
import { routeLabel, type HttpRequestSample } from './metrics';
import { createOidcSignIn, type OidcSettings } from './oidc';
import { verifySession, type RaterSession } from './session';
import { createSignInRoutes, limitSignIn } from './sign-in';

/** Per-client and per-rater limits of the web API (0: none). */
export interface WebLimits {
  /** Sign-in attempts (sessions, invite redemptions, OIDC logins and callbacks) per client address and hour. */
  signInsPerHour: number;
  /** Wrong access codes per client address and hour (stricter: the code is a shared secret). */
  accessCodeFailuresPerHour: number;
  /** Votes per rater and minute. */
  votesPerMinute: number;
}

export const DEFAULT_WEB_LIMITS: WebLimits = { signInsPerHour: 30, accessCodeFailuresPerHour: 10, votesPerMinute: 60 };

/** The prompt box (PREFLINE_WEB_START_MODELS): what it offers and what limits it. */
export interface WebStartsOptions {
  models: readonly string[];
  /** Starts per rater and hour (0: none). */
  startsPerHour: number;
  /** The daily candidate budget per rater. */
  budget: GenerationBudget;
  /** Verified addresses and `@domains` of OIDC raters who may generate. */
  oidcGenerators?: readonly string[];
}

export interface GatewayDeps {
  /** How the web channel's vote API reaches lifecycles. */
  directory: LifecycleDirectory;
  /** How the web channel's `next` reaches campaigns; without it, /api/campaigns answers not found. */
  campaigns?: CampaignDirectory;
  artifacts: ArtifactSource;
  /** Key of the keyed hash that turns names into pseudonyms. */
  raterKey: Buffer;
  /** Key that signs session tokens (and artifact URLs and the OIDC state). */
  sessionKey: Buffer;
  /** The invite registry and the key that signs invite links (gateway/invites.ts); without them no invite signs in. */
  invites?: { registry: InviteRegistry; key: Buffer };
  /** Typed-name sign-in for unverified raters (PREFLINE_WEB_OPEN_PANEL). Off by default. */
  openPanel?: boolean;
  /** If set, the open panel's sign-in requires it. */
  accessCode?: string;
  /** OIDC sign-in (PREFLINE_OIDC_*). */
  oidc?: OidcSettings;
  sessionTtlMs: number;
  /** PreflineConfig.gateway.publicUrl: the host and origin raters use. Without it, only loopback names are answered. */
  publicUrl?: string;
  /** Reverse proxies in front whose X-Forwarded-For is trusted (PREFLINE_TRUST_PROXY_HOPS). */
  trustProxyHops?: number;
  limits?: Partial<WebLimits>;
  /** The prompt box; without it, nobody generates from the page. */
  starts?: WebStartsOptions;
  /** How long what the gateway read of an invite is trusted: revocations take effect within it. */
  inviteCacheMs?: number;
  /** Inbound routes of the other channels (Slack events, email vote links), tried after the built-in ones. */
  channelRoutes?: HttpRoute[];
  /** The chat page's API (channels/chat/routes.ts); the hub receives streamed replies at the internal URL. */
  chat?: Pick<ChatRoutesDeps, 'conversations' | 'settings' | 'textOf'> & {
    streams?: ChatStreamHub;
    /** PREFLINE_GATEWAY_INTERNAL_URL: inference workers post reply pieces here, under its own host name. */
    internalUrl?: string;
    messagesPerMinute: number;
  };
  /** Epoch ms; injectable for tests. */
  now?: () => number;
  log?: GatewayLog;
  /** What `GET /healthz` reports (gateway/main.ts: Temporal reachability); without it, `{ ok: true }`. */
  health?: () => Promise<HealthReport>;
  /** Told of every answered request (gateway/metrics.ts counts them). */
  observe?: (sample: HttpRequestSample) => void;
}

export const DEFAULT_INVITE_CACHE_MS = 2000;
const HOUR_MS = 3_600_000;

// Without a logger given: warnings and errors only, as JSON lines (errors with their stacks).
const fallbackLogger = createLogger('gateway', { logLevel: 'warn', logFormat: 'json' });
const defaultLog: GatewayLog = (level, msg, fields) => fallbackLogger[level](msg, fields);

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, param: string) => Promise<void>;
interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  /** The metrics label; default the pattern's template (routeLabel). */
  label?: string;
}

export function createGatewayServer(deps: GatewayDeps): http.Server {
  if (deps.raterKey.length === 0 || deps.sessionKey.length === 0 || deps.invites?.key.length === 0) throw new Error('gateway: rater, session and invite keys must not be empty');
  if (!(deps.sessionTtlMs > 0)) throw new Error('gateway: sessionTtlMs must be positive');
  const now = deps.now ?? Date.now;
  const clock = { now };
  const log = deps.log ?? defaultLog;
  const publicUrl = deps.publicUrl?.replace(/\/+$/, '');
  const publicOrigin = publicUrl ? new URL(publicUrl).origin : undefined;
  const publicHost = publicUrl ? hostOfUrl(publicUrl) : undefined;
  const internalHost = deps.chat?.internalUrl ? hostOfUrl(deps.chat.internalUrl) : undefined;
  const openPanel = deps.openPanel ?? false;
  const limits = { ...DEFAULT_WEB_LIMITS, ...deps.limits };
  const signIns = new RateLimiter(limits.signInsPerHour, HOUR_MS, clock);
  const inviteStates = deps.invites && new InviteStateCache(deps.invites.registry, deps.inviteCacheMs ?? DEFAULT_INVITE_CACHE_MS, now);
  const clientOf = (req: http.IncomingMessage) => clientAddress(req, deps.trustProxyHops ?? 0);
  const signInLimit = { clientOf, signIns, log };

  const staticFiles = createStaticFiles();
  const serveStatic: Handler = (req, res) => staticFiles(req, res, pathOf(req));
  const serveArtifact: Handler = createArtifactServing({ artifacts: deps.artifacts, sessionKey: deps.sessionKey, authenticate, now, log });

  // Readiness: the report says whether Temporal answers (cached briefly, so probes cost little).
  const healthz: Handler = async (_req, res) => {
    const report = deps.health ? await deps.health() : { ok: true };
    sendJson(res, report.ok ? 200 : 503, report);
  };
  // Liveness, the old /healthz: the process serves HTTP, whatever Temporal's state.
  const livez: Handler = async (_req, res) => sendJson(res, 200, { ok: true });

  const oidc = deps.oidc && publicUrl
    ? createOidcSignIn({
      settings: deps.oidc, publicUrl, sessionKey: deps.sessionKey, raterKey: deps.raterKey, sessionTtlMs: deps.sessionTtlMs, limitSignIn: (req) => limitSignIn(signInLimit, req),
      ...(deps.starts?.oidcGenerators ? { generators: deps.starts.oidcGenerators } : {}), now, log,
    })
    : undefined;
  if (deps.oidc && !publicUrl) throw new Error('gateway: OIDC sign-in needs the public URL (its redirect URI is <public URL>/auth/callback)');

  // The web channel is the gateway's own: the page it serves signs raters in here and votes there.
  // One budget per rater for votes and campaign hand-outs alike: `next` reserves items, so it is no cheaper to flood.
  const votesPerRater = new RateLimiter(limits.votesPerMinute, 60_000, clock);
  const channelRoutes: HttpRoute[] = mergeRoutes([
    ...createSignInRoutes({
      raterKey: deps.raterKey, sessionKey: deps.sessionKey, ...(deps.invites ? { invites: deps.invites } : {}), openPanel,
      ...(deps.accessCode !== undefined ? { accessCode: deps.accessCode } : {}),
      sessionTtlMs: deps.sessionTtlMs, ...(publicOrigin ? { publicOrigin } : {}), clientOf, signIns, promptBox: deps.starts !== undefined,
      accessCodeFailures: new RateLimiter(limits.accessCodeFailuresPerHour, HOUR_MS, clock),
      ...(oidc ? { oidc: { label: oidc.label, takeHandoff: oidc.takeHandoff } } : {}),
      now, log,
    }),
    ...(oidc?.routes ?? []),
    ...createWebRoutes({
      directory: deps.directory,
      authenticate: webRater,
      artifactUrl: (sha256) => signedArtifactUrl(deps.sessionKey, sha256, now()),
      votesPerRater,
      ...(publicOrigin ? { publicOrigin } : {}),
      now,
      log,
    }),
    ...(deps.campaigns
      ? createCampaignRoutes({
        campaigns: deps.campaigns, directory: deps.directory, authenticate: webRater, votesPerRater,
        artifactUrl: (sha256) => signedArtifactUrl(deps.sessionKey, sha256, now()), ...(publicOrigin ? { publicOrigin } : {}), log,
      })
      : []),
    ...(deps.chat
      ? [
          ...createChatRoutes({
            conversations: deps.chat.conversations,
            authenticate: webRater,
            settings: deps.chat.settings,
            textOf: deps.chat.textOf,
            ...(deps.chat.streams ? { streams: deps.chat.streams } : {}),
            messagesPerRater: new RateLimiter(deps.chat.messagesPerMinute, 60_000, clock),
            // Ratings, feedback and comparisons count like votes on the rating page.
            actionsPerRater: new RateLimiter(limits.votesPerMinute, 60_000, clock),
            ...(publicOrigin ? { publicOrigin } : {}),
            now,
            log,
          }),
          ...(deps.chat.streams?.routes() ?? []),
        ]
      : []),
    ...(deps.starts
      ? createWebStartRoutes({
        directory: deps.directory,
        authenticate: webRater,
        artifactUrl: (sha256) => signedArtifactUrl(deps.sessionKey, sha256, now()),
        models: deps.starts.models,
        startsPerRater: new RateLimiter(deps.starts.startsPerHour, HOUR_MS, clock),
        budget: deps.starts.budget,
        ...(publicOrigin ? { publicOrigin } : {}),
        now,
        log,
      })
      : []),
    ...(deps.channelRoutes ?? []),
  ]);

  const routes: Route[] = [
    { pattern: STATIC_PATTERN, methods: { GET: serveStatic, HEAD: serveStatic }, label: 'static' },
    { pattern: /^\/artifacts\/([^/]+)$/, methods: { GET: serveArtifact, HEAD: serveArtifact } },
  ];

  /** `matched.route` is set to the label of the route that answers. */
  async function handle(req: http.IncomingMessage, res: http.ServerResponse, matched: { route: string }): Promise<void> {
    const path = pathOf(req);
    // Health checks (readiness and liveness) come from anywhere on the host's networks (container probes
    // by IP) and reveal nothing.
    if (path === '/healthz' || path === '/livez') {
      matched.route = path;
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(ErrorCode.MethodNotAllowed, 'method not allowed', { Allow: 'GET, HEAD' });
      return (path === '/healthz' ? healthz : livez)(req, res, '');
    }
    // Inference workers stream reply pieces to the internal URL, which names this gateway its own way.
    checkHost(req, internalHost !== undefined && path.startsWith(STREAM_PATH) && req.headers.host?.toLowerCase() === internalHost ? internalHost : publicHost);
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      matched.route = route.label ?? routeLabel(route.pattern);
      const handler = route.methods[req.method ?? ''];
      if (!handler) throw new HttpError(ErrorCode.MethodNotAllowed, 'method not allowed', { Allow: Object.keys(route.methods).join(', ') });
      return handler(req, res, match[1] === undefined ? '' : decodeParam(match[1]));
    }
    for (const route of channelRoutes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      matched.route = routeLabel(route.pattern);
      const handler = route.methods[req.method ?? ''];
      if (!handler) throw new HttpError(ErrorCode.MethodNotAllowed, 'method not allowed', { Allow: Object.keys(route.methods).join(', ') });
      return handler(req, res, match);
    }
    throw new HttpError(ErrorCode.NotFound, 'not found');
  }

  /** The request's session: valid, of a way in that is open, and (for an invite) of an invite still standing. */
  async function authenticate(req: http.IncomingMessage): Promise<RaterSession> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const check = match ? verifySession(deps.sessionKey, match[1]!, now()) : undefined;
    const challenge = { 'WWW-Authenticate': 'Bearer' };
    const again = openPanel ? 'enter your name again' : 'sign in again with your invite link';
    if (check?.ok) {
      const { session } = check;
      if (session.auth === 'open' && !openPanel) throw new HttpError(ErrorCode.SessionInvalid, 'typed-name sessions are closed on this page — sign in with your invite link', challenge);
      if (session.auth === 'oidc' && !oidc) throw new HttpError(ErrorCode.SessionInvalid, 'OIDC sign-in is off on this page — sign in with your invite link', challenge);
      if (session.auth === 'invite') {
        const state = inviteStates ? await inviteStates.state(session.inviteId!) : 'unknown';
        if (state === 'revoked') throw new HttpError(ErrorCode.SessionRevoked, 'your invite was withdrawn — ask for a new one', challenge);
        if (state === 'expired') throw new HttpError(ErrorCode.SessionExpired, 'your invite has expired — ask for a new one', challenge);
        if (state !== 'active') throw new HttpError(ErrorCode.SessionInvalid, 'your invite is no longer valid — ask for a new one', challenge);
      }
      return session;
    }
    if (check?.reason === 'expired') throw new HttpError(ErrorCode.SessionExpired, `session expired — ${again}`, challenge);
    throw new HttpError(ErrorCode.SessionInvalid, `no valid session — ${again}`, challenge);
  }

  async function webRater(req: http.IncomingMessage): Promise<WebRater> {
    const session = await authenticate(req);
    return {
      rater: session.rater, raterAuth: session.auth,
      ...(session.campaign !== undefined ? { campaign: session.campaign } : {}),
      // Generating needs the prompt box on here and a session that may (never an open-panel name).
      canGenerate: deps.starts !== undefined && session.canGenerate === true && session.auth !== 'open',
    };
  }

  const server = http.createServer((req, res) => {
    const started = performance.now();
    const matched = { route: 'unmatched' };
    handle(req, res, matched)
      .catch((err: unknown) => {
        if (res.headersSent) return void res.destroy();
        if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message, code: err.code, ...err.extra }, err.headers);
        log('error', 'request failed', { method: req.method, path: safePath(req), error: err });
        sendJson(res, httpStatusOf(ErrorCode.InternalError), { error: 'internal error', code: ErrorCode.InternalError });
      })
      .finally(() => {
        const ms = performance.now() - started;
        log('debug', 'request', { method: req.method, path: safePath(req), status: res.statusCode, ms: Math.round(ms) });
        deps.observe?.({ route: matched.route, method: req.method ?? '', status: res.statusCode, ms });
      });
  });
  // Slow clients must not hold sockets forever; a rating request is tiny.
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;
  // Idle keep-alive sockets live longer than a client's pause between requests (a rater reading a card,
  // a proxy's pooled connection): with Node's 5 s default, a client reusing a socket the server is closing
  // at that moment sees "other side closed". The server announces this in Keep-Alive, clients stop earlier.
  server.keepAliveTimeout = 65_000;
  return server;
}

/** Starts listening; resolves with a URL that reaches the server (wildcard binds become loopback). */
export function listen(server: http.Server, host: string, port: number): Promise<{ url: string }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : address.address;
      resolve({ url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}` });
    });
  });
}

// ---- helpers -----------------------------------------------------------------------------------

/** Routes of one path from several sources (the vote API's GET and the prompt box's POST of `/api/lifecycles`) as one. */
function mergeRoutes(routes: HttpRoute[]): HttpRoute[] {
  const merged = new Map<string, HttpRoute>();
  for (const route of routes) {
    const key = `${route.pattern.source}/${route.pattern.flags}`;
    const known = merged.get(key);
    if (!known) merged.set(key, { pattern: route.pattern, methods: { ...route.methods } });
    else {
      const clash = Object.keys(route.methods).find((m) => m in known.methods);
      if (clash) throw new Error(`gateway: two routes answer ${clash} ${route.pattern.source}`);
      Object.assign(known.methods, route.methods);
    }
  }
  return [...merged.values()];
}

function pathOf(req: http.IncomingMessage): string {
  try {
    // Prefixing keeps a path like `//x/y` from being read as a host; URL also resolves `..` segments.
    return new URL(`http://gateway${req.url ?? '/'}`).pathname;
  } catch {
    throw new HttpError(ErrorCode.BadRequest, 'bad request target');
  }
}

function safePath(req: http.IncomingMessage): string {
  try {
    return pathOf(req);
  } catch {
    return '?';
  }
}
