/**
 * The gateway's HTTP server (node:http only): the rating page, sessions, and the vote API.
 * It verifies, parses and forwards; every rule about votes lives in the lifecycle, reached
 * through the LifecycleDirectory port. Raw rater names never leave `POST /api/session`:
 * they are pseudonymised there and never logged.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { VoteRequest } from '../workflows/types';
import { malformedVoteReason } from '../workflows/vote-tally';
import type { ArtifactSource } from './artifact-source';
import { VoteRejectedError, type LifecycleDirectory, type VoteRejectionCode } from '../core/lifecycle-directory';
import { pseudonymiseRater } from '../core/pseudonym';
import { issueSession, verifySession, type RaterSession } from './session';

export type GatewayLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type GatewayLog = (level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface GatewayDeps {
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
  /** Routes of channel integrations, tried before the built-in 404. */
  extraRoutes?: ExtraRoute[];
  /** Epoch ms; injectable for tests. */
  now?: () => number;
  log?: GatewayLog;
}

export const MAX_BODY_BYTES = 16 * 1024;
export const LIST_LIMIT = 50;
const MAX_NAME_LENGTH = 80;
const IDEMPOTENCY_KEY = /^[A-Za-z0-9_-]{8,128}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const STATIC_DIR = join(__dirname, 'static');

const STATIC_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};
// Artifacts are model output (possibly SVG): opened directly, they get no script and a sandbox.
const ARTIFACT_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

const REJECTIONS: Record<VoteRejectionCode, { status: number; error: string }> = {
  voting_closed: { status: 409, error: 'voting closed' },
  voting_not_open: { status: 409, error: 'voting has not opened yet' },
  unknown_candidate: { status: 404, error: 'no such candidate' },
  unknown_lifecycle: { status: 404, error: 'no such lifecycle' },
  malformed_vote: { status: 400, error: 'malformed vote' },
  busy: { status: 503, error: 'the lifecycle is busy, try again in a moment' },
};

/** An answer the client is meant to see: `{error, code}` with a status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const defaultLog: GatewayLog = (level, msg, fields) => {
  if (level === 'warn' || level === 'error') process.stderr.write(`${JSON.stringify({ level, component: 'gateway', msg, ...fields })}\n`);
};

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, param: string) => Promise<void>;
interface Route {
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

/**
 * A route contributed by a channel integration (Slack events, email vote links, provider webhooks).
 * The handler owns the response: it verifies, parses and forwards like the built-in routes, and must
 * answer within the caller's deadline. It receives the raw request so it can verify signatures over
 * the exact bytes. A thrown error is logged and answered 500 without internals.
 */
export interface ExtraRoute {
  pattern: RegExp;
  methods: Partial<Record<string, (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray) => Promise<void>>>;
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
    const body = await readJsonObject(req);
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    if ([...name].length < 1 || [...name].length > MAX_NAME_LENGTH || /\p{Cc}/u.test(name)) {
      throw new HttpError(400, 'invalid_name', `name: 1–${MAX_NAME_LENGTH} characters`);
    }
    if (deps.accessCode && !sameSecret(body.accessCode, deps.accessCode)) {
      throw new HttpError(403, 'access_denied', 'access code required');
    }
    let rater: string;
    try {
      rater = pseudonymiseRater(deps.raterKey, 'web', name);
    } catch {
      throw new HttpError(400, 'invalid_name', `name: 1–${MAX_NAME_LENGTH} characters`); // blank once normalised
    }
    const issuedAt = now();
    const token = issueSession(deps.sessionKey, { rater, displayName: name }, deps.sessionTtlMs, issuedAt);
    log('info', 'session issued', { rater }); // the pseudonym only, never the name
    sendJson(res, 201, { token, rater, name, expiresAt: new Date(issuedAt + deps.sessionTtlMs).toISOString() });
  };

  const listLifecycles: Handler = async (_req, res) => {
    const lifecycles = await upstream('list', () => deps.directory.listOpen(LIST_LIMIT));
    sendJson(res, 200, { lifecycles });
  };

  const getLifecycle: Handler = async (_req, res, id) => {
    const status = await upstream('status', () => deps.directory.status(id), id);
    if (!status) throw new HttpError(404, 'unknown_lifecycle', 'no such lifecycle');
    sendJson(res, 200, status);
  };

  const castVote: Handler = async (req, res, lifecycleId) => {
    checkSameOrigin(req, publicOrigin);
    checkJsonType(req);
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) throw tooLarge(); // even before the token is checked
    const session = authenticate(req); // before reading the body: strangers get no buffering
    const body = await readJsonObject(req);
    if (typeof body.idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(body.idempotencyKey)) {
      throw new HttpError(400, 'invalid_idempotency_key', 'idempotencyKey: 8–128 characters of A–Z, a–z, 0–9, "_" and "-"');
    }
    const comment = typeof body.comment === 'string' ? body.comment.trim() : body.comment;
    const vote = {
      // Namespaced by rater: one rater's keys can neither replay nor shadow another's.
      idempotencyKey: `web:${session.rater}:${body.idempotencyKey}`,
      candidateId: body.candidateId,
      value: body.value,
      rater: session.rater,
      channel: 'web',
      castAt: new Date(now()).toISOString(),
      ...(comment === undefined || comment === null || comment === '' ? {} : { comment }),
    };
    // The lifecycle's own shape check, so a bad request is answered here without a round trip.
    const reason = malformedVoteReason(vote);
    if (reason) throw new HttpError(400, 'malformed_vote', reason);

    let receipt;
    try {
      receipt = await deps.directory.vote(lifecycleId, vote as VoteRequest);
    } catch (err) {
      if (err instanceof VoteRejectedError && Object.hasOwn(REJECTIONS, err.code)) {
        const { status, error } = REJECTIONS[err.code];
        log('debug', 'vote refused', { lifecycleId, rater: session.rater, code: err.code });
        throw new HttpError(status, err.code, error, err.code === 'busy' ? { 'Retry-After': '1' } : {}, err.code === 'malformed_vote' ? { detail: err.message } : {});
      }
      log('error', 'vote forwarding failed', { lifecycleId, rater: session.rater, error: messageOf(err) });
      throw upstreamError();
    }
    log('debug', 'vote', { lifecycleId, rater: session.rater, candidateId: vote.candidateId, value: vote.value, outcome: receipt.outcome });
    sendJson(res, 200, { outcome: receipt.outcome, candidate: receipt.candidate });
  };

  const serveArtifact: Handler = async (req, res, sha256) => {
    if (!SHA256_HEX.test(sha256)) throw new HttpError(404, 'not_found', 'no such artifact');
    const headers = { ETag: `"${sha256}"`, 'Cache-Control': 'public, max-age=31536000, immutable', 'Content-Security-Policy': ARTIFACT_CSP };
    // Content-addressed: a client holding this ETag holds these bytes, no need to look.
    if (matchesEtag(req, headers.ETag)) return notModified(res, headers);
    let artifact;
    try {
      artifact = await deps.artifacts.open(sha256);
    } catch (err) {
      log('error', 'artifact read failed', { sha256, error: messageOf(err) });
      throw new HttpError(500, 'artifact_unavailable', 'could not read the artifact');
    }
    if (!artifact) throw new HttpError(404, 'not_found', 'no such artifact');
    send(res, 200, artifact.bytes, { ...headers, 'Content-Type': safeMime(artifact.mime) });
  };

  const healthz: Handler = async (_req, res) => sendJson(res, 200, { ok: true });

  const routes: Route[] = [
    { pattern: /^\/(?:index\.html|app\.js|style\.css)?$/, methods: { GET: serveStatic, HEAD: serveStatic } },
    { pattern: /^\/healthz$/, methods: { GET: healthz, HEAD: healthz } },
    { pattern: /^\/api\/session$/, methods: { POST: createSession } },
    { pattern: /^\/api\/lifecycles$/, methods: { GET: listLifecycles } },
    { pattern: /^\/api\/lifecycles\/([^/]+)$/, methods: { GET: getLifecycle } },
    { pattern: /^\/api\/lifecycles\/([^/]+)\/votes$/, methods: { POST: castVote } },
    { pattern: /^\/artifacts\/([^/]+)$/, methods: { GET: serveArtifact, HEAD: serveArtifact } },
  ];

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = pathOf(req);
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      const handler = route.methods[req.method ?? ''];
      if (!handler) throw new HttpError(405, 'method_not_allowed', 'method not allowed', { Allow: Object.keys(route.methods).join(', ') });
      return handler(req, res, match[1] === undefined ? '' : decodeParam(match[1]));
    }
    for (const route of deps.extraRoutes ?? []) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      const handler = route.methods[req.method ?? ''];
      if (!handler) throw new HttpError(405, 'method_not_allowed', 'method not allowed', { Allow: Object.keys(route.methods).join(', ') });
      return handler(req, res, match);
    }
    throw new HttpError(404, 'not_found', 'not found');
  }

  /** Wraps a directory read: failures are logged and answered 502 without internals. */
  async function upstream<T>(what: string, call: () => Promise<T>, lifecycleId?: string): Promise<T> {
    try {
      return await call();
    } catch (err) {
      log('error', `directory ${what} failed`, { lifecycleId, error: messageOf(err) });
      throw upstreamError();
    }
  }

  function authenticate(req: http.IncomingMessage): RaterSession {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const check = match ? verifySession(deps.sessionKey, match[1]!, now()) : undefined;
    if (check?.ok) return check.session;
    const challenge = { 'WWW-Authenticate': 'Bearer' };
    if (check?.reason === 'expired') throw new HttpError(401, 'session_expired', 'session expired — enter your name again', challenge);
    throw new HttpError(401, 'session_invalid', 'no valid session — enter your name again', challenge);
  }

  const server = http.createServer((req, res) => {
    const started = performance.now();
    handle(req, res)
      .catch((err: unknown) => {
        if (res.headersSent) return void res.destroy();
        if (err instanceof HttpError) return sendJson(res, err.status, { error: err.message, code: err.code, ...err.extra }, err.headers);
        log('error', 'request failed', { method: req.method, path: safePath(req), error: messageOf(err) });
        sendJson(res, 500, { error: 'internal error', code: 'internal_error' });
      })
      .finally(() => log('debug', 'request', { method: req.method, path: safePath(req), status: res.statusCode, ms: Math.round(performance.now() - started) }));
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
    throw new HttpError(400, 'bad_request', 'bad request target');
  }
}

function safePath(req: http.IncomingMessage): string {
  try {
    return pathOf(req);
  } catch {
    return '?';
  }
}

function decodeParam(raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new HttpError(404, 'not_found', 'not found');
  }
  if (value.length > 256 || /\p{Cc}/u.test(value)) throw new HttpError(404, 'not_found', 'not found');
  return value;
}

/**
 * Refuses cross-site forged requests: a custom header cannot be sent cross-origin without a CORS
 * preflight (which this server never grants), and a browser-sent Origin must be our own.
 * https is accepted too, for a TLS-terminating proxy in front; the Host must still match.
 */
function checkSameOrigin(req: http.IncomingMessage, publicOrigin: string | undefined): void {
  if (req.headers['x-prefline-request'] !== '1') throw new HttpError(403, 'forbidden_origin', 'missing X-Prefline-Request: 1 header');
  const origin = req.headers.origin;
  if (origin === undefined) return;
  const host = req.headers.host?.toLowerCase();
  const own = host ? [`http://${host}`, `https://${host}`] : [];
  if (publicOrigin) own.push(publicOrigin.toLowerCase());
  if (!own.includes(origin.toLowerCase())) throw new HttpError(403, 'forbidden_origin', 'cross-origin requests are not allowed');
}

function checkJsonType(req: http.IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/json');
}

function tooLarge(): HttpError {
  return new HttpError(413, 'body_too_large', `body must be at most ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
}

function upstreamError(): HttpError {
  return new HttpError(502, 'upstream_error', 'could not reach the lifecycle, try again');
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  if (Number(req.headers['content-length']) > MAX_BODY_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit: stop buffering, keep draining, answer 413 and close the connection.
      if (size > MAX_BODY_BYTES) settle(() => reject(tooLarge()));
      else if (!settled) chunks.push(chunk);
    });
    req.on('end', () => settle(() => resolve(Buffer.concat(chunks))));
    req.on('error', (err) => settle(() => reject(err)));
  });
}

async function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'invalid_json', 'body must be a JSON object');
  return value as Record<string, unknown>;
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

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function send(res: http.ServerResponse, status: number, body: Buffer | string, headers: Record<string, string>): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function notModified(res: http.ServerResponse, headers: Record<string, string>): void {
  res.writeHead(304, { ...SECURITY_HEADERS, ...headers });
  res.end();
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
}
