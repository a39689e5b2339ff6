/**
 * What an HTTP route needs, shared by the gateway host (gateway/http-server.ts) and the channels'
 * inbound routes (channels/<name>/): the route type the host mounts, the log type, the security
 * headers every answer carries, JSON answers, bounded body reading and coded HTTP errors.
 * node:http only; nothing here knows a channel or the gateway.
 */
import type http from 'node:http';
import { ErrorCode, PreflineError, httpStatusOf, type HttpAnswerCode } from './errors';

export type GatewayLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type GatewayLog = (level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray) => Promise<void>;

/**
 * A route a channel contributes to the gateway (the web vote API, Slack events, email vote links).
 * The handler owns the response: it verifies, parses and forwards, and must answer within the
 * caller's deadline. It receives the raw request so it can verify signatures over the exact bytes,
 * and the path's match (parameters still URI-encoded: see `decodeParam`). An `HttpError` it throws
 * is answered as `{error, code}` JSON; any other error is logged and answered 500 without internals.
 */
export interface HttpRoute {
  pattern: RegExp;
  methods: Partial<Record<string, HttpHandler>>;
}

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** The largest body the rating page's JSON APIs (session, votes) accept: a rating request is tiny. */
export const MAX_JSON_BODY_BYTES = 16 * 1024;

/** An answer the client is meant to see: `{error, code}`, with the code's HTTP status (core/errors.ts). */
export class HttpError extends PreflineError {
  declare readonly code: HttpAnswerCode;
  readonly status: number;
  constructor(
    code: HttpAnswerCode,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code, message);
    this.status = httpStatusOf(code);
  }
}

export function send(res: http.ServerResponse, status: number, body: Buffer | string, headers: Record<string, string>): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
}

/** 413 for a body over `maxBytes`; the connection is closed, so the rest need not be read. */
export function bodyTooLarge(maxBytes: number): HttpError {
  return new HttpError(ErrorCode.BodyTooLarge, `body must be at most ${maxBytes} bytes`, { Connection: 'close' });
}

/**
 * The whole body, at most `maxBytes`: a larger declared length is refused before reading, and a
 * longer stream stops being buffered (it is drained) and rejects with `tooLarge()`.
 */
export function readBody(req: http.IncomingMessage, maxBytes: number, tooLarge: () => Error = () => bodyTooLarge(maxBytes)): Promise<Buffer> {
  if (Number(req.headers['content-length']) > maxBytes) return Promise.reject(tooLarge());
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
      if (size > maxBytes) settle(() => reject(tooLarge()));
      else if (!settled) chunks.push(chunk);
    });
    req.on('end', () => settle(() => resolve(Buffer.concat(chunks))));
    req.on('error', (err) => settle(() => reject(err)));
  });
}

/** A body that must be one JSON object (400 `invalid_json` otherwise). */
export async function readJsonObject(req: http.IncomingMessage, maxBytes: number): Promise<Record<string, unknown>> {
  const raw = await readBody(req, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(ErrorCode.InvalidJson, 'body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(ErrorCode.InvalidJson, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

export function checkJsonType(req: http.IncomingMessage): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(ErrorCode.UnsupportedMediaType, 'Content-Type must be application/json');
}

/**
 * Refuses cross-site forged requests: a custom header cannot be sent cross-origin without a CORS
 * preflight (which the gateway never grants), and a browser-sent Origin must be our own. "Our own" is
 * the origin of the configured public URL (PreflineConfig.gateway.publicUrl), or, for a gateway reached
 * on loopback, its own port under any loopback name. Never the `Host` header: a DNS-rebinding page
 * sends its own host name there, and its own origin (see `checkHost` for the other half).
 */
export function checkSameOrigin(req: http.IncomingMessage, publicOrigin: string | undefined): void {
  if (req.headers['x-prefline-request'] !== '1') throw new HttpError(ErrorCode.ForbiddenOrigin, 'missing X-Prefline-Request: 1 header');
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (!isOwnOrigin(req, origin, publicOrigin)) throw new HttpError(ErrorCode.ForbiddenOrigin, 'cross-origin requests are not allowed');
}

export function isOwnOrigin(req: http.IncomingMessage, origin: string, publicOrigin: string | undefined): boolean {
  if (publicOrigin !== undefined && origin.toLowerCase() === publicOrigin.toLowerCase()) return true;
  // Which address and port the request came in on is the socket's, not the client's to say.
  if (!isLoopbackAddress(req.socket.localAddress)) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackName(url.hostname) && port === req.socket.localPort && origin === url.origin;
}

/**
 * DNS-rebinding defence for every request, reads included: the `Host` must be the public URL's host
 * (with its port) or a loopback name (a rebinding page can only send its own name, never a loopback
 * one; loopback covers local health checks and a proxy on the same host).
 */
export function checkHost(req: http.IncomingMessage, publicHost: string | undefined): void {
  // A default port spelled out (`:443`, `:80`) names the same host.
  const host = req.headers.host?.toLowerCase().replace(/:(?:80|443)$/, '');
  if (host !== undefined && (host === publicHost || isLoopbackName(hostnameOf(host)))) return;
  throw new HttpError(ErrorCode.UnknownHost, 'this gateway answers only at its public URL (PREFLINE_PUBLIC_URL)');
}

/** `host[:port]` of a URL as a `Host` header names it (no default port), lowercased. */
export function hostOfUrl(url: string): string {
  return new URL(url).host.toLowerCase();
}

function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

/** `localhost` (and `*.localhost`), 127.0.0.0/8 and ::1, as URLs and Host headers spell them. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || /^127(?:\.\d{1,3}){3}$/.test(name) || name === '[::1]' || name === '::1';
}

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  return plain === '::1' || /^127(?:\.\d{1,3}){3}$/.test(plain);
}

/**
 * The client's address: the socket's peer, or, behind `trustedProxyHops` reverse proxies that append
 * to `X-Forwarded-For`, the address the outermost trusted proxy saw. Only what trusted proxies wrote
 * counts: entries further left are the client's to invent.
 */
export function clientAddress(req: http.IncomingMessage, trustedProxyHops = 0): string {
  const peer = normaliseAddress(req.socket.remoteAddress ?? 'unknown');
  if (trustedProxyHops === 0) return peer;
  const forwarded = (Array.isArray(req.headers['x-forwarded-for']) ? req.headers['x-forwarded-for'].join(',') : req.headers['x-forwarded-for'] ?? '')
    .split(',').map((a) => a.trim()).filter(Boolean);
  const chain = [peer, ...forwarded.reverse()]; // nearest first
  return normaliseAddress(chain[Math.min(trustedProxyHops, chain.length - 1)]!);
}

function normaliseAddress(address: string): string {
  return (address.startsWith('::ffff:') ? address.slice(7) : address).toLowerCase();
}

/** 429 with `Retry-After` in seconds. */
export function tooManyRequests(retryAfterSeconds: number, message: string): HttpError {
  return new HttpError(ErrorCode.RateLimited, message, { 'Retry-After': String(retryAfterSeconds) }, { retryAfterSeconds });
}

/** A path parameter, URI-decoded; an undecodable, over-long or control-character one is a 404. */
export function decodeParam(raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new HttpError(ErrorCode.NotFound, 'not found');
  }
  if (value.length > 256 || /\p{Cc}/u.test(value)) throw new HttpError(ErrorCode.NotFound, 'not found');
  return value;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
