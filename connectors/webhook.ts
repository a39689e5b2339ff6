/**
 * Signed webhook deliveries (a campaign's `notify.webhook`): one JSON POST per event, with
 *   Prefline-Timestamp: <unix seconds>      (this attempt's)
 *   Prefline-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>   (core/webhook-signature.ts)
 *   Prefline-Event-Id:  <the event's id>    (the same on every attempt: receivers dedupe on it)
 * 2xx is delivered; 408, 429, 5xx, a timeout or a connection failure are retryable (WebhookUnavailable,
 * with the receiver's Retry-After); any other answer, redirects included, is not (WebhookRejected).
 *
 * The URL is the operator's (PREFLINE_WEBHOOKS, named by a campaign's input), and still the worker must not become a way into its own network:
 * the address rules of the safe downloader (connectors/http/addresses.ts) apply: https only, plain http
 * only to hosts the operator lists; loopback, private, link-local (cloud metadata) and other special
 * addresses refused in every spelling after DNS resolution, unless the operator allows the host; the
 * connection is pinned to the checked addresses (no DNS rebinding); redirects are never followed.
 * The secret is the workers' configuration (PREFLINE_WEBHOOK_SECRET), never input or history: without
 * one nothing is sent. Plain TypeScript over node:http(s); no Temporal.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { ConfigMissingError, ErrorCode, PreflineError, type PreflineErrorOptions } from '../core/errors';
import { MIN_WEBHOOK_SECRET_LENGTH, signWebhookBody } from '../core/webhook-signature';
import { HostRules, isRefusedName, parseIp, refusedRange } from './http/addresses';
import { pinnedLookup, type ResolvedAddress } from './http/pinned-lookup';

/** The delivery was refused for good: a rule refused the URL, or the receiver answered a 4xx (not 408/429) or a redirect. */
export class WebhookRejectedError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.WebhookRejected, message, options);
  }
}

/** The receiver could not take it now (5xx, 408, 429, timeout, connection): retried. */
export class WebhookUnavailableError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.WebhookUnavailable, message, options);
  }
}

export type { ResolvedAddress };

export interface WebhookSenderOptions {
  /** PREFLINE_WEBHOOK_SECRET; without it every delivery is refused (ConfigMissing). */
  secret?: string;
  /** Hosts (names, IP addresses, CIDR ranges) that may be called over plain http. */
  allowHttpHosts?: readonly string[];
  /** Hosts or networks exempt from the address rules: receivers the operator runs on a private network. */
  allowHosts?: readonly string[];
  /** One attempt, connection to answer. Default 10 s. */
  timeoutMs?: number;
  /** DNS resolution, every address; injected by tests. */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
  /** Epoch ms, for the timestamp; injected by tests. */
  now?: () => number;
  /** CA certificates trusted instead of the system's (tests, a private CA). */
  ca?: string | Buffer | Array<string | Buffer>;
}

export interface WebhookDelivery {
  url: string;
  eventId: string;
  /** Serialised once, so every attempt signs and sends the same bytes. */
  body: unknown;
}

export interface WebhookSender {
  deliver(delivery: WebhookDelivery): Promise<{ status: number }>;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
const ALLOW_HTTP = 'PREFLINE_WEBHOOK_ALLOW_HTTP_HOSTS';
const ALLOW_HOSTS = 'PREFLINE_WEBHOOK_ALLOW_HOSTS';
/** Of a receiver's answer, only this much is read (for the error message). */
const MAX_ANSWER_BYTES = 2048;

const systemResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const httpHosts = hostRules(ALLOW_HTTP, options.allowHttpHosts);
  const allowed = hostRules(ALLOW_HOSTS, options.allowHosts);
  const timeoutMs = options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
  const resolve = options.resolve ?? systemResolve;
  const now = options.now ?? Date.now;

  return {
    async deliver({ url: rawUrl, eventId, body }) {
      const secret = options.secret;
      if (secret === undefined || secret.trim().length < MIN_WEBHOOK_SECRET_LENGTH) {
        throw new ConfigMissingError(`no webhook sent: set PREFLINE_WEBHOOK_SECRET (at least ${MIN_WEBHOOK_SECRET_LENGTH} characters) on the workers, so receivers can check what Prefline sends`);
      }
      const url = parseUrl(rawUrl);
      const signal = AbortSignal.timeout(timeoutMs);
      const bytes = Buffer.from(JSON.stringify(body), 'utf8');
      try {
        const addresses = await vet(url, signal);
        const timestamp = Math.floor(now() / 1000);
        const headers = {
          'Content-Type': 'application/json',
          'Content-Length': String(bytes.length),
          'User-Agent': 'prefline-webhook',
          'Prefline-Timestamp': String(timestamp),
          'Prefline-Signature': signWebhookBody(secret, timestamp, bytes),
          'Prefline-Event-Id': eventId,
        };
        const { status, answer, retryAfter } = await post(url, addresses, headers, bytes, signal);
        if (status >= 200 && status <= 299) return { status };
        const what = `the webhook ${redacted(url)} answered HTTP ${status}${answer ? `: ${answer}` : ''}`;
        if (status === 408 || status === 429 || status >= 500) {
          throw new WebhookUnavailableError(what, { remoteStatus: status, ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}) });
        }
        throw new WebhookRejectedError(`${what}${status >= 300 && status <= 399 ? ' (redirects are not followed: give the final URL)' : ''}`, { remoteStatus: status });
      } catch (err) {
        if (err instanceof WebhookRejectedError || err instanceof WebhookUnavailableError) throw err;
        if (signal.aborted) throw new WebhookUnavailableError(`the webhook ${redacted(url)} did not answer within ${timeoutMs} ms`, { cause: err });
        throw new WebhookUnavailableError(`the webhook ${redacted(url)} could not be reached: ${describe(err)}`, { cause: err });
      }
    },
  };

  /** The scheme, the host and every address it resolves to, checked; the addresses the connection may use. */
  async function vet(url: URL, signal: AbortSignal): Promise<ResolvedAddress[]> {
    const host = url.hostname.toLowerCase();
    const where = redacted(url);
    if (url.protocol === 'http:' && !httpHosts.hasHost(host)) {
      throw new WebhookRejectedError(`refused the webhook ${where}: plain http only to the hosts in ${ALLOW_HTTP}, and ${host} is not one of them; use https`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookRejectedError(`refused the webhook ${where}: only https URLs are called, not ${url.protocol}`);
    if (url.username || url.password) throw new WebhookRejectedError(`refused the webhook ${where}: URLs with a user name or password are not called`);
    const hint = `; add it to ${ALLOW_HOSTS} if it is a receiver you run`;
    if (isRefusedName(host) && !allowed.hasHost(host)) throw new WebhookRejectedError(`refused the webhook ${where}: ${host} names this host or a cloud metadata service${hint}`);
    const literal = parseIp(host);
    if (literal) {
      const why = refusedRange(literal);
      if (why && !allowed.hasAddress(literal)) throw new WebhookRejectedError(`refused the webhook ${where}: ${host} is in ${why}${hint}`);
      return [{ address: host.replace(/^\[|\]$/g, ''), family: literal.family }];
    }
    const addresses = await untilAborted(resolve(host), signal);
    if (addresses.length === 0) throw new WebhookUnavailableError(`the webhook ${where}: ${host} does not resolve to any address`);
    if (!allowed.hasHost(host)) {
      for (const { address } of addresses) {
        const ip = parseIp(address);
        const why = ip ? refusedRange(ip) : 'no IP address';
        if (why && !(ip && allowed.hasAddress(ip))) throw new WebhookRejectedError(`refused the webhook ${where}: ${host} resolves to ${address}, in ${why}${hint}`);
      }
    }
    return addresses;
  }

  function post(url: URL, addresses: ResolvedAddress[], headers: Record<string, string>, bytes: Buffer, signal: AbortSignal): Promise<{ status: number; answer: string; retryAfter?: number }> {
    // The connection goes to the addresses just checked: DNS is not asked again between check and connect.
    const pinned = pinnedLookup(url.hostname, addresses);
    return new Promise((resolvePromise, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        ...(url.port ? { port: Number(url.port) } : {}),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers,
        agent: false,
        lookup: pinned,
        signal,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
      });
      req.once('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        response.once('end', () => {
          const retryAfter = Number(response.headers['retry-after']);
          const answer = Buffer.concat(chunks).subarray(0, 200).toString('utf8').replace(/[\p{Cc}]+/gu, ' ').trim();
          resolvePromise({ status: response.statusCode ?? 0, answer, ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfter } : {}) });
        });
        response.once('error', reject);
      });
      req.on('error', reject);
      req.end(bytes);
    });
  }
}

function hostRules(name: string, entries: readonly string[] = []): HostRules {
  try {
    return new HostRules(entries);
  } catch (err) {
    throw new ConfigMissingError(`${name}: ${(err as Error).message}`);
  }
}

function parseUrl(text: string): URL {
  try {
    return new URL(text.trim());
  } catch {
    throw new WebhookRejectedError(`refused the webhook "${text.slice(0, 100)}": not a URL`);
  }
}

/** The URL without its query (receivers put tokens there): what messages and logs show. */
function redacted(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}

/** DNS lookups cannot be cancelled; stop waiting for one when the attempt times out. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolvePromise, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolvePromise, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describe(err: unknown): string {
  const code = (err as { code?: string })?.code;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
