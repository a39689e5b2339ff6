/**
 * A local stand-in for the Replicate HTTP API (test-only), faithful to the wire format the client
 * sees: routes, status codes, problem+json error bodies, `Prefer: wait[=n]`, `Retry-After`, the
 * prediction object with its timestamps and metrics, statuses moving starting → processing →
 * terminal over real time, and output files served from its own `/files/...` (which may 404 or
 * expire like Replicate's one-hour retention). Every request is recorded for assertions.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';

export interface HttpFault {
  status: number;
  /** Sent as the `Retry-After` header, verbatim. */
  retryAfter?: string;
  /** Overrides the default problem+json body. A string is sent as text/html (a proxy's error page). */
  body?: unknown;
}

export type ReplicateOutputSpec =
  /** File outputs served by the stand-in. */
  | {
      kind: 'file';
      /** How many files (the output is an array when `array` or count > 1). Default 1. */
      count?: number;
      array?: boolean;
      /** Default: a PNG. */
      bytes?: Uint8Array;
      /** Default `image/png`; `null` sends no Content-Type. */
      contentType?: string | null;
      /** The first N downloads of each file answer 404. */
      failDownloads?: number;
      /** Files (and the prediction's output) are deleted this long after completion, like Replicate's 1 h. */
      expireAfterMs?: number;
    }
  /** A language model: an array of tokens, streamed into `output` while `processing`. */
  | { kind: 'tokens'; tokens: string[] }
  /** Any raw output value (a string, null, [], an object, a foreign URL…). */
  | { kind: 'value'; value: unknown };

export interface ReplicateModelScript {
  /** The version id; the versioned route finds models by it. Default: derived from the name. */
  version?: string;
  /** Time in `starting` (queue, cold boot). Default 20 ms. */
  queueMs?: number;
  /** Time in `processing`. Default 80 ms; `Infinity` never finishes. */
  runMs?: number;
  /** Default `succeeded`. `aborted` never starts (a deadline ends it in `starting`); `canceled` is someone else's cancel. */
  outcome?: 'succeeded' | 'failed' | 'canceled' | 'aborted';
  /** The `error` text of a failed prediction. */
  error?: string;
  /** Default: one PNG file. */
  output?: ReplicateOutputSpec;
  /** Faults answered, in order, to creates for this model before they succeed. */
  createFaults?: HttpFault[];
  /** Faults answered, in order, to GETs of this model's predictions. */
  getFaults?: HttpFault[];
  /** Returns a validation message to reject the input with 422. */
  validate?: (input: Record<string, unknown>) => string | undefined;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON, else the raw text ('' when empty). */
  body: unknown;
  /** Date.now() when the request arrived. */
  at: number;
}

interface StoredPrediction {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  createdAt: number;
  canceledAt?: number;
  script: ReplicateModelScript;
  files: string[];
}

interface StoredFile {
  bytes: Uint8Array;
  contentType: string | null;
  failuresLeft: number;
  prediction: StoredPrediction;
}

export interface ReplicateStandIn {
  /** `http://127.0.0.1:PORT/v1`, to pass as the backend's baseUrl. */
  baseUrl: string;
  origin: string;
  token: string;
  requests: RecordedRequest[];
  readonly createdCount: number;
  readonly canceledCount: number;
  /** Registers or replaces a model: `owner/name` (its version comes from the script or is derived). */
  setModel(model: string, script?: ReplicateModelScript): { version: string };
  /** Snapshot of a stored prediction as the API would return it now. */
  prediction(id: string): Record<string, unknown> | undefined;
  /** Forgets a prediction, so GETs answer 404 (e.g. another account's id, or purged). */
  forget(id: string): void;
  requestsTo(method: string, pathPattern: RegExp): RecordedRequest[];
  /** An extra file route on the API origin (no auth, like /files/), e.g. one that redirects elsewhere. */
  serve(path: string, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): void;
  close(): Promise<void>;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

/**
 * The stand-in serves its output files on http://127.0.0.1, which the download rules refuse by default:
 * backends pointed at it allow that one host (and nothing else) for plain http and for loopback.
 */
export const STANDIN_DOWNLOADS = { allowHttpHosts: ['127.0.0.1'], allowHosts: ['127.0.0.1'] };
/** The same allowance as a worker process's environment. */
export const STANDIN_DOWNLOAD_ENV = { PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS: '127.0.0.1', PREFLINE_DOWNLOAD_ALLOW_HOSTS: '127.0.0.1' };

export async function startReplicateStandIn(options: { token?: string } = {}): Promise<ReplicateStandIn> {
  const token = options.token ?? 'r8_standin_token';
  const models = new Map<string, Required<Pick<ReplicateModelScript, 'version'>> & ReplicateModelScript>();
  const predictions = new Map<string, StoredPrediction>();
  const files = new Map<string, StoredFile>();
  const requests: RecordedRequest[] = [];
  const extraRoutes = new Map<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>();
  let createdCount = 0;
  let canceledCount = 0;
  let origin = '';

  const iso = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z'); // Replicate prints microseconds

  function timeline(p: StoredPrediction): { startAt: number; endAt: number } {
    const startAt = p.createdAt + (p.script.queueMs ?? 20);
    return { startAt, endAt: startAt + (p.script.runMs ?? 80) };
  }

  function expired(p: StoredPrediction, now: number): boolean {
    const out = p.script.output;
    return out?.kind === 'file' && out.expireAfterMs !== undefined && now >= timeline(p).endAt + out.expireAfterMs;
  }

  function fullOutput(p: StoredPrediction): unknown {
    const out = p.script.output ?? { kind: 'file' };
    if (out.kind === 'value') return out.value;
    if (out.kind === 'tokens') return out.tokens;
    const urls = p.files.map((f) => `${origin}${f}`);
    return out.array || urls.length > 1 ? urls : urls[0];
  }

  /** The prediction object at time `now`, as GET /v1/predictions/:id returns it. */
  function view(p: StoredPrediction, now = Date.now()): Record<string, unknown> {
    const { startAt, endAt } = timeline(p);
    const outcome = p.script.outcome ?? 'succeeded';
    let status: string;
    let startedAt: number | undefined;
    let completedAt: number | undefined;
    let output: unknown = null;
    let error: unknown = null;
    if (p.canceledAt !== undefined) {
      // Set only while the prediction was still running (see the cancel route).
      status = 'canceled';
      startedAt = p.canceledAt > startAt ? startAt : undefined;
      completedAt = p.canceledAt;
    } else if (now < startAt) {
      status = 'starting';
    } else if (outcome === 'aborted') {
      status = 'aborted';
      completedAt = startAt;
    } else if (now < endAt) {
      status = 'processing';
      startedAt = startAt;
      const out = p.script.output;
      // Language models stream: a processing prediction already shows the tokens so far.
      if (out?.kind === 'tokens') output = out.tokens.slice(0, Math.floor((out.tokens.length * (now - startAt)) / (endAt - startAt)));
    } else {
      status = outcome;
      startedAt = startAt;
      completedAt = endAt;
      if (outcome === 'succeeded') output = fullOutput(p);
      if (outcome === 'failed') error = p.script.error ?? 'Prediction failed.';
    }
    const removed = status === 'succeeded' && expired(p, now);
    const base = `${origin}/v1/predictions/${p.id}`;
    return {
      id: p.id,
      model: p.model,
      version: p.version,
      input: removed ? {} : p.input,
      logs: startedAt !== undefined ? `Using seed: ${String(p.input['seed'] ?? 'random')}\n` : '',
      output: removed ? null : output,
      data_removed: removed,
      error,
      status,
      source: 'api',
      created_at: iso(p.createdAt),
      ...(startedAt !== undefined ? { started_at: iso(startedAt) } : {}),
      ...(completedAt !== undefined ? { completed_at: iso(completedAt) } : {}),
      ...(TERMINAL.has(status) && startedAt !== undefined && completedAt !== undefined
        ? { metrics: { predict_time: (completedAt - startedAt) / 1000, total_time: (completedAt - p.createdAt) / 1000 } }
        : {}),
      urls: { get: base, cancel: `${base}/cancel`, stream: `${origin}/v1/stream/${p.id}`, web: `https://replicate.com/p/${p.id}` },
    };
  }

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const html = typeof body === 'string';
    res.writeHead(status, { 'Content-Type': html ? 'text/html' : status >= 400 ? 'application/problem+json' : 'application/json', ...headers });
    res.end(html ? body : JSON.stringify(body));
  }

  function problem(res: http.ServerResponse, status: number, title: string, detail: string, extra: Record<string, unknown> = {}): void {
    send(res, status, { title, detail, status, ...extra });
  }

  function sendFault(res: http.ServerResponse, fault: HttpFault): void {
    const headers = fault.retryAfter !== undefined ? { 'Retry-After': fault.retryAfter } : undefined;
    if (fault.body !== undefined) return send(res, fault.status, fault.body, headers);
    const body =
      fault.status === 429
        ? { title: 'Request was throttled', detail: `Request was throttled. Your rate limit resets in ~${fault.retryAfter ?? 30}s.`, status: 429 }
        : { title: http.STATUS_CODES[fault.status] ?? 'Error', detail: `The server answered ${fault.status}.`, status: fault.status };
    send(res, fault.status, body, headers);
  }

  function create(model: string, script: ReplicateModelScript & { version: string }, input: Record<string, unknown>): StoredPrediction {
    const id = randomId();
    const p: StoredPrediction = { id, model, version: script.version, input, createdAt: Date.now(), script, files: [] };
    const out = script.output ?? { kind: 'file' };
    if (out.kind === 'file') {
      for (let i = 0; i < (out.count ?? 1); i++) {
        const path = `/files/${id}/out-${i}.png`;
        p.files.push(path);
        files.set(path, { bytes: out.bytes ?? makePng(4, 4, [i * 40, 120, 200]), contentType: out.contentType === undefined ? 'image/png' : out.contentType, failuresLeft: out.failDownloads ?? 0, prediction: p });
      }
    }
    predictions.set(id, p);
    createdCount++;
    return p;
  }

  /** `Prefer: wait` / `wait=n`: hold the create until terminal or n seconds (max 60), then answer as-is. */
  async function holdFor(req: http.IncomingMessage, p: StoredPrediction): Promise<void> {
    const prefer = /(?:^|[,;\s])wait(?:=(\d+))?/.exec(String(req.headers['prefer'] ?? ''));
    if (!prefer) return;
    const until = Date.now() + Math.min(60, Number(prefer[1] ?? 60)) * 1000;
    while (Date.now() < until && !TERMINAL.has(view(p).status as string) && !req.socket.destroyed) await new Promise((r) => setTimeout(r, 10));
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const raw = await readBody(req);
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : '';
    } catch {
      // keep the raw text
    }
    requests.push({ method: req.method ?? '', path: url.pathname, headers: req.headers, body, at: Date.now() });

    const extra = req.method === 'GET' ? extraRoutes.get(url.pathname) : undefined;
    if (extra) return extra(req, res);
    const file = req.method === 'GET' ? files.get(url.pathname) : undefined;
    if (url.pathname.startsWith('/files/')) {
      // CDN-like: no auth. Deleted files and injected failures answer 404 as replicate.delivery does.
      if (!file || expired(file.prediction, Date.now()) || file.failuresLeft-- > 0) return send(res, 404, 'Not Found');
      res.writeHead(200, { ...(file.contentType ? { 'Content-Type': file.contentType } : {}), 'Content-Length': String(file.bytes.byteLength) });
      return void res.end(Buffer.from(file.bytes));
    }

    if (req.headers['authorization'] !== `Bearer ${token}`) {
      return problem(res, 401, 'Unauthenticated', 'You did not pass a valid authentication token');
    }

    let m: RegExpExecArray | null;
    if (req.method === 'POST' && (m = /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/.exec(url.pathname))) {
      const name = `${m[1]}/${m[2]}`;
      const script = models.get(name);
      if (!script) return problem(res, 404, 'Not found', 'The requested resource could not be found.');
      return createAndAnswer(req, res, name, script, body);
    }
    if (req.method === 'POST' && url.pathname === '/v1/predictions') {
      const version = (body as { version?: unknown })?.version;
      if (typeof version !== 'string') return problem(res, 422, 'Input validation failed', '- version: Required', { invalid_fields: [{ type: 'required', field: 'version', description: 'version is required' }] });
      const found = [...models.entries()].find(([, s]) => s.version === version);
      if (!found) return problem(res, 422, 'Invalid version', 'Invalid version or not permitted');
      return createAndAnswer(req, res, found[0], found[1], body);
    }
    if ((m = /^\/v1\/predictions\/([^/]+)(\/cancel)?$/.exec(url.pathname))) {
      const p = predictions.get(m[1]!);
      if (!p) return problem(res, 404, 'Not found', 'Not found.');
      if (req.method === 'GET' && !m[2]) {
        const fault = p.script.getFaults?.shift();
        if (fault) return sendFault(res, fault);
        return send(res, 200, view(p));
      }
      if (req.method === 'POST' && m[2]) {
        if (!TERMINAL.has(view(p).status as string)) {
          p.canceledAt = Date.now();
          canceledCount++;
        }
        return send(res, 200, view(p));
      }
    }
    problem(res, 404, 'Not found', 'Not found.');
  }

  async function createAndAnswer(req: http.IncomingMessage, res: http.ServerResponse, model: string, script: ReplicateModelScript & { version: string }, body: unknown): Promise<void> {
    const fault = script.createFaults?.shift();
    if (fault) return sendFault(res, fault);
    const input = (body as { input?: unknown })?.input;
    if (!input || typeof input !== 'object') return problem(res, 422, 'Input validation failed', '- input: Required', { invalid_fields: [{ type: 'required', field: 'input', description: 'input is required' }] });
    const invalid = script.validate?.(input as Record<string, unknown>);
    if (invalid) return problem(res, 422, 'Input validation failed', `- input: ${invalid}`, { invalid_fields: [{ type: 'invalid', field: 'input', description: invalid }] });
    const p = create(model, script, input as Record<string, unknown>);
    await holdFor(req, p);
    send(res, 201, view(p), { Location: `${origin}/v1/predictions/${p.id}` });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { title: 'Internal Server Error', detail: String(err), status: 500 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl: `${origin}/v1`,
    origin,
    token,
    requests,
    get createdCount() {
      return createdCount;
    },
    get canceledCount() {
      return canceledCount;
    },
    setModel(model, script = {}) {
      const version = script.version ?? Buffer.from(model.padEnd(32, '0')).toString('hex').slice(0, 64);
      models.set(model, { ...script, version, createFaults: [...(script.createFaults ?? [])], getFaults: [...(script.getFaults ?? [])] });
      return { version };
    },
    prediction: (id) => {
      const p = predictions.get(id);
      return p && view(p);
    },
    forget: (id) => void predictions.delete(id),
    requestsTo: (method, pattern) => requests.filter((r) => r.method === method && pattern.test(r.path)),
    serve: (path, handler) => void extraRoutes.set(path, handler),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function randomId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return [...randomBytes(26)].map((b) => alphabet[b % 32]).join('');
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A real (decodable) RGB PNG of one colour. */
export function makePng(width: number, height: number, rgb: [number, number, number]): Uint8Array {
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set(rgb.map((v) => v & 0xff), 1 + x * 3);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]));
}

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
