/**
 * Downloads of URLs that someone else chose: a model's output files today, "bring your own
 * candidates" lists later. The rules, each checked on every redirect hop:
 * - https only; plain http only for hosts the operator lists (PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS);
 * - loopback, private, CGNAT, link-local (cloud metadata), unique-local, multicast, unspecified and
 *   other special addresses refused, in every IPv6 spelling, after DNS resolution: every resolved
 *   address is checked and the connection is pinned to the checked addresses, so a second answer
 *   from DNS (rebinding) is never used. The operator may allow hosts or networks for model servers
 *   of their own (PREFLINE_DOWNLOAD_ALLOW_HOSTS);
 * - redirects followed by hand, at most `maxRedirects`, never from https to http;
 * - at most `maxBytes`: a larger Content-Length is refused before the body is read, and a body (or its
 *   decompression) that grows past the cap is aborted there;
 * - one deadline for the whole download, and the caller's AbortSignal;
 * - credentials (an API token) only in the first request, and only when its URL is on the origin and
 *   one of the paths they belong to: never to another path or host, never to a hop of a redirect;
 * - `data:` URLs decoded in memory (data-url.ts), never fetched.
 * Plain TypeScript over node:http(s); no Temporal.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { ConfigMissingError } from '../../core/errors';
import { HostRules, isRefusedName, parseIp, refusedRange } from './addresses';
import { pinnedLookup, type ResolvedAddress } from './pinned-lookup';
import { decodeDataUrl } from './data-url';
import { DownloadFailedError, DownloadRefusedError } from './errors';

export type { ResolvedAddress };

/** DNS resolution: every address of a host name. Injected by tests, which need no real DNS. */
export type Resolve = (hostname: string) => Promise<ResolvedAddress[]>;

export interface DownloadRules {
  /** Hosts (names, IP addresses, CIDR ranges) that may be downloaded from over plain http. */
  allowHttpHosts?: readonly string[];
  /** Hosts or networks exempt from the address rules: model servers the operator runs on a private network. */
  allowHosts?: readonly string[];
  /** Default 64 MiB. */
  maxBytes?: number;
  /** For the whole download, redirects included; default 120 s. */
  timeoutMs?: number;
  /** Default 5. */
  maxRedirects?: number;
}

export interface SafeDownloaderOptions extends DownloadRules {
  /** Default: the system resolver (getaddrinfo), every address. */
  resolve?: Resolve;
  /** CA certificates trusted instead of the system's (a private CA, the tests' own). */
  ca?: string | Buffer | Array<string | Buffer>;
}

/** Headers (an API token) for the URLs of one service that need them, and for no other. */
export interface DownloadCredentials {
  /** The service's origin: scheme, host and port, exactly. */
  origin: string;
  /** The paths on that origin that need the headers (matched against the URL's normalised path). */
  path: RegExp;
  headers: Record<string, string>;
}

export interface DownloadRequest {
  signal?: AbortSignal;
  /** Sent with the first request only, when its URL is on `origin` and its path matches `path`; never after a redirect. */
  credentials?: DownloadCredentials;
}

export interface Downloaded {
  bytes: Uint8Array;
  /** The Content-Type as sent ('' when none), or a data: URL's media type. */
  contentType: string;
  /** Where the bytes came from after redirects (`data:<type>` for a data: URL). */
  url: string;
}

export interface SafeDownloader {
  readonly maxBytes: number;
  download(url: string, request?: DownloadRequest): Promise<Downloaded>;
}

export const DEFAULT_DOWNLOAD_MAX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 120_000;
export const DEFAULT_MAX_REDIRECTS = 5;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const ALLOW_HTTP = 'PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS';
const ALLOW_HOSTS = 'PREFLINE_DOWNLOAD_ALLOW_HOSTS';

const systemResolve: Resolve = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** A URL that passed the rules, with the addresses its connection is pinned to. */
interface Vetted {
  url: URL;
  addresses: ResolvedAddress[];
}

export function createSafeDownloader(options: SafeDownloaderOptions = {}): SafeDownloader {
  const httpHosts = hostRules(ALLOW_HTTP, options.allowHttpHosts);
  const allowed = hostRules(ALLOW_HOSTS, options.allowHosts);
  const maxBytes = options.maxBytes ?? DEFAULT_DOWNLOAD_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const resolve = options.resolve ?? systemResolve;

  return { maxBytes, download };

  async function download(rawUrl: string, request: DownloadRequest = {}): Promise<Downloaded> {
    const { signal: callerSignal, credentials } = request;
    if (callerSignal?.aborted) throw callerSignal.reason;
    const text = rawUrl.trim();
    if (/^data:/i.test(text)) {
      const { bytes, contentType } = decodeDataUrl(text, maxBytes);
      return { bytes, contentType, url: `data:${contentType}` };
    }
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, deadline]) : deadline;
    const credentialOrigin = credentials ? new URL(credentials.origin).origin : undefined;
    let url = parseUrl(text);
    let from: URL | undefined;
    try {
      for (let redirects = 0; ; redirects++) {
        const target = await vet(url, from, signal);
        // Never on a redirect hop: where a redirect leads is the answering server's choice, not the caller's.
        const credentialed = credentials !== undefined && redirects === 0 && url.origin === credentialOrigin && credentials.path.test(url.pathname);
        const headers = credentialed ? credentials.headers : {};
        const response = await get(target, headers, signal);
        const status = response.statusCode ?? 0;
        if (REDIRECTS.has(status)) {
          response.destroy();
          const location = response.headers.location;
          if (!location) throw new DownloadFailedError(`${url.href} answered ${status} without a Location`, false, status);
          if (redirects >= maxRedirects) throw new DownloadRefusedError('redirect', `refused ${url.href}: more than ${maxRedirects} redirects`);
          from = url;
          url = parseUrl(location, url, `the redirect from ${url.href}`);
          continue;
        }
        if (status < 200 || status > 299) {
          response.destroy();
          throw new DownloadFailedError(`${url.href} answered HTTP ${status}`, status === 408 || status === 429 || status >= 500, status);
        }
        const bytes = await readBody(response, url);
        return { bytes, contentType: String(response.headers['content-type'] ?? ''), url: url.href };
      }
    } catch (err) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      if (deadline.aborted) throw new DownloadFailedError(`${url.href} timed out after ${timeoutMs} ms`, true, undefined, { cause: err });
      if (err instanceof DownloadRefusedError || err instanceof DownloadFailedError) throw err;
      throw new DownloadFailedError(`${url.href} could not be downloaded: ${describe(err)}`, true, undefined, { cause: err });
    }
  }

  /** Checks the scheme, the host and every address it resolves to; a redirect's target is `url` with `from` set. */
  async function vet(url: URL, from: URL | undefined, signal: AbortSignal): Promise<Vetted> {
    const where = from ? `the redirect from ${from.href} to ${url.href}` : url.href;
    const host = url.hostname.toLowerCase();
    if (url.protocol === 'http:' && from?.protocol === 'https:') {
      throw new DownloadRefusedError('redirect', `refused ${where}: a redirect from https to plain http is never followed`);
    }
    if (url.protocol === 'http:' && !httpHosts.hasHost(host)) {
      throw new DownloadRefusedError('scheme', `refused ${where}: plain http is allowed only for the hosts in ${ALLOW_HTTP}, and ${host} is not one of them`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new DownloadRefusedError('scheme', `refused ${where}: only https URLs are downloaded, not ${url.protocol}`);
    }
    if (url.username || url.password) throw new DownloadRefusedError('url', `refused ${where}: URLs with a user name or password are not downloaded`);
    const hint = `; add it to ${ALLOW_HOSTS} if it is a server you run`;
    if (isRefusedName(host) && !allowed.hasHost(host)) {
      throw new DownloadRefusedError('address', `refused ${where}: ${host} names this host or a cloud metadata service${hint}`);
    }

    const literal = parseIp(host);
    if (literal) {
      const why = refusedRange(literal);
      if (why && !allowed.hasAddress(literal)) throw new DownloadRefusedError('address', `refused ${where}: ${host} is in ${why}${hint}`);
      return { url, addresses: [{ address: host.replace(/^\[|\]$/g, ''), family: literal.family }] };
    }
    const addresses = await untilAborted(resolve(host), signal);
    if (addresses.length === 0) throw new DownloadFailedError(`${where}: ${host} does not resolve to any address`, true);
    if (!allowed.hasHost(host)) {
      for (const { address } of addresses) {
        const ip = parseIp(address);
        const why = ip ? refusedRange(ip) : 'no IP address';
        if (why && !(ip && allowed.hasAddress(ip))) {
          throw new DownloadRefusedError('address', `refused ${where}: ${host} resolves to ${address}, in ${why}${hint}`);
        }
      }
    }
    return { url, addresses };
  }

  function get(target: Vetted, headers: Record<string, string>, signal: AbortSignal): Promise<http.IncomingMessage> {
    const { url, addresses } = target;
    // The connection goes to the addresses just checked: DNS is not asked again between check and connect.
    const pinned = pinnedLookup(url.hostname, addresses);
    return new Promise((resolvePromise, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const req = client.request({
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        ...(url.port ? { port: Number(url.port) } : {}),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { Accept: '*/*', 'Accept-Encoding': 'gzip, deflate, br', 'User-Agent': 'prefline', ...headers },
        // One connection per hop: a pooled socket could belong to another host's checked address.
        agent: false,
        lookup: pinned,
        signal,
        ...(options.ca !== undefined ? { ca: options.ca } : {}),
      });
      req.once('response', resolvePromise);
      req.on('error', reject);
      req.end();
    });
  }

  /** The body, decompressed, aborted as soon as it passes the cap. */
  async function readBody(response: http.IncomingMessage, url: URL): Promise<Uint8Array> {
    const tooLarge = (what: string): DownloadRefusedError =>
      new DownloadRefusedError('size', `refused ${url.href}: ${what} is larger than the download cap of ${maxBytes} bytes (PREFLINE_DOWNLOAD_MAX_BYTES)`);
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      response.destroy();
      throw tooLarge(`its Content-Length of ${declared} bytes`);
    }
    const encoding = String(response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    const decoder = DECODERS[encoding];
    if (encoding !== 'identity' && !decoder) {
      response.destroy();
      throw new DownloadFailedError(`${url.href} came with Content-Encoding "${encoding}", which is not gzip, deflate or br`, false);
    }
    const body: Readable = decoder ? pipeline(response, decoder(), () => undefined) : response;
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        total += chunk.byteLength;
        if (total > maxBytes) throw tooLarge(decoder ? 'its decompressed body' : 'its body');
        chunks.push(chunk);
      }
    } catch (err) {
      response.destroy();
      body.destroy();
      throw err;
    }
    return new Uint8Array(Buffer.concat(chunks, total));
  }
}

const DECODERS: Record<string, () => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

function hostRules(name: string, entries: readonly string[] = []): HostRules {
  try {
    return new HostRules(entries);
  } catch (err) {
    throw new ConfigMissingError(`${name}: ${(err as Error).message}`);
  }
}

function parseUrl(text: string, base?: URL, what?: string): URL {
  try {
    return new URL(text, base);
  } catch {
    throw new DownloadRefusedError(base ? 'redirect' : 'url', `refused ${what ?? 'a download'}: "${text.slice(0, 200)}" is not a URL`);
  }
}

/** DNS lookups cannot be cancelled; stop waiting for one when the download is aborted. */
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
