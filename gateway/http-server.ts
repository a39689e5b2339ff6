/**
 * The gateway's HTTP host (node:http only): it serves the rating page, issues rater sessions, serves
 * artifacts, and mounts the channels' inbound routes: the web channel's vote API always
 * (channels/web/routes.ts, authenticated by the sessions issued here), Slack's and email's when they
 * are configured (gateway/slack.ts, gateway/email.ts). Raw rater names never leave
 * `POST /api/session`: they are pseudonymised there and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ArtifactSource } from './artifact-source';
import { ErrorCode, httpStatusOf } from '../core/errors';
import type { LifecycleDirectory } from '../core/lifecycle-directory';
import {
  HttpError, MAX_JSON_BODY_BYTES, SECURITY_HEADERS, checkJsonType, checkSameOrigin, decodeParam, readJsonObject, send, sendJson,
  type GatewayLog, type HttpRoute,
} from '../core/http';
import { pseudonymiseRater } from '../core/pseudonym';
import { createWebRoutes } from '../channels/web/routes';
import { createLogger } from '../ops/log';
import type { HealthReport } from '../ops/ops-server';
import { routeLabel, type HttpRequestSample } from './metrics';
import { issueSession, verifySession, type RaterSession } from './session';

export interface GatewayDeps {
  /** How the web channel's vote API reaches lifecycles. */
  directory: LifecycleDirectory;
  artifacts: ArtifactSource;
  /** Key of the keyed hash that turns names into pseudonyms. */
  raterKey: Buffer;
  /** Key that signs session tokens. */
  sessionKey: Buffer;
  /** If set, `POST /api/session` requires it. */
  accessCode?: string;
  sessionTtlMs: number;
  /** PreflineConfig.gateway.publicUrl: its origin is accepted too, for a reverse proxy that rewrites Host. */
  publicUrl?: string;
  /** Inbound routes of the other channels (Slack events, email vote links), tried after the built-in ones. */
  channelRoutes?: HttpRoute[];
  /** Epoch ms; injectable for tests. */
  now?: () => number;
  log?: GatewayLog;
  /** What `GET /healthz` reports (gateway/main.ts: Temporal reachability); without it, `{ ok: true }`. */
  health?: () => Promise<HealthReport>;
  /** Told of every answered request (gateway/metrics.ts counts them). */
  observe?: (sample: HttpRequestSample) => void;
}

const MAX_NAME_LENGTH = 80;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const STATIC_DIR = join(__dirname, 'static');

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

// Artifacts are model output (possibly SVG): opened directly, they get no script and a sandbox.
const ARTIFACT_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

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
  if (deps.raterKey.length === 0 || deps.sessionKey.length === 0) throw new Error('gateway: rater and session keys must not be empty');
  if (!(deps.sessionTtlMs > 0)) throw new Error('gateway: sessionTtlMs must be positive');
  const now = deps.now ?? Date.now;
  const log = deps.log ?? defaultLog;
  const staticCache = new Map<string, { body: Buffer; etag: string }>();
  const publicOrigin = deps.publicUrl ? new URL(deps.publicUrl).origin : undefined;

  const serveStatic: Handler = async (req, res) => {
    const entry = STATIC_FILES[pathOf(req)]!;
    let cached = staticCache.get(entry.file);
    if (!cached) {
      const body = await readFile(join(STATIC_DIR, entry.file));
      cached = { body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` };
      staticCache.set(entry.file, cached);
    }
    const headers = { 'Content-Type': entry.type, 'Cache-Control': 'no-cache', ETag: cached.etag };
    if (matchesEtag(req, cached.etag)) return notModified(res, headers);
    send(res, 200, cached.body, headers);
  };

  const createSession: Handler = async (req, res) => {
    checkSameOrigin(req, publicOrigin);
    checkJsonType(req);
    const body = await readJsonObject(req, MAX_JSON_BODY_BYTES);
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    if ([...name].length < 1 || [...name].length > MAX_NAME_LENGTH || /\p{Cc}/u.test(name)) {
      throw new HttpError(ErrorCode.InvalidName, `name: 1–${MAX_NAME_LENGTH} characters`);
    }
    if (deps.accessCode && !sameSecret(body.accessCode, deps.accessCode)) {
      throw new HttpError(ErrorCode.AccessDenied, 'access code required');
    }
    let rater: string;
    try {
      rater = pseudonymiseRater(deps.raterKey, 'web', name);
    } catch {
      throw new HttpError(ErrorCode.InvalidName, `name: 1–${MAX_NAME_LENGTH} characters`); // blank once normalised
    }
    const issuedAt = now();
    const token = issueSession(deps.sessionKey, { rater, displayName: name }, deps.sessionTtlMs, issuedAt);
    log('info', 'session issued', { rater }); // the pseudonym only, never the name
    sendJson(res, 201, { token, rater, name, expiresAt: new Date(issuedAt + deps.sessionTtlMs).toISOString() });
  };

  const serveArtifact: Handler = async (req, res, sha256) => {
    if (!SHA256_HEX.test(sha256)) throw new HttpError(ErrorCode.NotFound, 'no such artifact');
    const headers = { ETag: `"${sha256}"`, 'Cache-Control': 'public, max-age=31536000, immutable', 'Content-Security-Policy': ARTIFACT_CSP };
    // Content-addressed: a client holding this ETag holds these bytes, no need to look.
    if (matchesEtag(req, headers.ETag)) return notModified(res, headers);
    let artifact;
    try {
      artifact = await deps.artifacts.open(sha256);
    } catch (err) {
      log('error', 'artifact read failed', { sha256, error: err });
      throw new HttpError(ErrorCode.ArtifactUnavailable, 'could not read the artifact');
    }
    if (!artifact) throw new HttpError(ErrorCode.NotFound, 'no such artifact');
    send(res, 200, artifact.bytes, { ...headers, 'Content-Type': safeMime(artifact.mime) });
  };

  // Readiness: the report says whether Temporal answers (cached briefly, so probes cost little).
  const healthz: Handler = async (_req, res) => {
    const report = deps.health ? await deps.health() : { ok: true };
    sendJson(res, report.ok ? 200 : 503, report);
  };
  // Liveness, the old /healthz: the process serves HTTP, whatever Temporal's state.
  const livez: Handler = async (_req, res) => sendJson(res, 200, { ok: true });

  // The web channel is the gateway's own: the page it serves signs raters in here and votes there.
  const channelRoutes: HttpRoute[] = [
    ...createWebRoutes({ directory: deps.directory, authenticate, ...(publicOrigin ? { publicOrigin } : {}), now, log }),
    ...(deps.channelRoutes ?? []),
  ];

  const routes: Route[] = [
    { pattern: /^\/(?:index\.html|app\.js|style\.css)?$/, methods: { GET: serveStatic, HEAD: serveStatic }, label: 'static' },
    { pattern: /^\/healthz$/, methods: { GET: healthz, HEAD: healthz } },
    { pattern: /^\/livez$/, methods: { GET: livez, HEAD: livez } },
    { pattern: /^\/api\/session$/, methods: { POST: createSession } },
    { pattern: /^\/artifacts\/([^/]+)$/, methods: { GET: serveArtifact, HEAD: serveArtifact } },
  ];

  /** `matched.route` is set to the label of the route that answers. */
  async function handle(req: http.IncomingMessage, res: http.ServerResponse, matched: { route: string }): Promise<void> {
    const path = pathOf(req);
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

  function authenticate(req: http.IncomingMessage): RaterSession {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const check = match ? verifySession(deps.sessionKey, match[1]!, now()) : undefined;
    if (check?.ok) return check.session;
    const challenge = { 'WWW-Authenticate': 'Bearer' };
    if (check?.reason === 'expired') throw new HttpError(ErrorCode.SessionExpired, 'session expired — enter your name again', challenge);
    throw new HttpError(ErrorCode.SessionInvalid, 'no valid session — enter your name again', challenge);
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

/** Constant-time string comparison (hashing first makes the lengths equal). */
function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function matchesEtag(req: http.IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim().replace(/^W\//, '');
    return t === '*' || t === etag;
  });
}

function safeMime(mime: string): string {
  return /^[a-z]+\/[a-z0-9.+-]+$/i.test(mime) ? mime : 'application/octet-stream';
}

function notModified(res: http.ServerResponse, headers: Record<string, string>): void {
  res.writeHead(304, { ...SECURITY_HEADERS, ...headers });
  res.end();
}
