/**
 * The ledger's read path while the writer runs: DuckDB lets one process hold the file read-write,
 * so analysts' queries go through that process. A loopback HTTP endpoint, authenticated by a random
 * token that only users who can read the data folder can see (endpoint file, mode 0600), accepting
 * one SELECT at a time (Ledger.queryIsolated refuses anything else, and bounds rows, time and memory),
 * with bound values (`values`: at most 100 strings, numbers, booleans or nulls) for callers that have any.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ERROR_CATALOGUE, ErrorCode } from '../core/errors';
import { LedgerError } from './errors';
import type { Ledger } from './Ledger';
import type { ReadValue } from './read-process';

export interface LedgerEndpoint {
  url: string;
  token: string;
  pid: number;
  ledgerPath: string;
}

const MAX_SQL_BYTES = 64 * 1024;
/** Bound values per query: ids and labels, not data. */
const MAX_VALUES = 100;

/** `values` of a request body, if it is absent or a short array of strings, numbers, booleans and nulls. */
function boundValues(raw: unknown): ReadValue[] | undefined | false {
  if (raw === undefined) return undefined;
  const ok = Array.isArray(raw) && raw.length <= MAX_VALUES && raw.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
  return ok ? (raw as ReadValue[]) : false;
}

export class LedgerReadServer {
  private constructor(private readonly server: Server, readonly endpoint: LedgerEndpoint, private readonly endpointFile: string) {}

  static async start(ledger: Ledger, options: { host: string; port: number; endpointFile: string }): Promise<LedgerReadServer> {
    const token = randomBytes(24).toString('hex');
    const expected = Buffer.from(`Bearer ${token}`);
    const server = createServer((req, res) => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const auth = Buffer.from(req.headers.authorization ?? '');
      if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return reply(401, { error: 'unauthorized' });
      if (req.method !== 'POST' || req.url !== '/query') return reply(404, { error: 'not found' });
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_SQL_BYTES) chunks.push(chunk);
      });
      req.on('end', () => {
        if (size > MAX_SQL_BYTES) return reply(413, { error: 'query too large' });
        let body: { sql?: unknown; values?: unknown };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          return reply(400, { error: 'body must be JSON {"sql": "...", "values"?: [...]}' });
        }
        if (typeof body !== 'object' || body === null) return reply(400, { error: 'body must be JSON {"sql": "..."}' });
        const { sql } = body;
        if (typeof sql !== 'string' || sql.trim() === '') return reply(400, { error: 'sql: required' });
        const values = boundValues(body.values);
        if (values === false) return reply(400, { error: `values: an array of at most ${MAX_VALUES} strings, numbers, booleans or nulls, bound to $1, $2, …` });
        // In a process of its own, over a copy of the ledger: a runaway read never shares the writer's memory.
        ledger.queryIsolated(sql, {}, values).then(
          (result) => reply(200, result),
          (err: unknown) => {
            // The code's status (core/errors.ts: 400 refused or past a limit, 503 busy), 400 for the
            // ledger's other errors; 422: DuckDB's own error (syntax, binding).
            if (err instanceof LedgerError && err.code === ErrorCode.LedgerBusy) res.setHeader('retry-after', '1');
            const status = err instanceof LedgerError ? (ERROR_CATALOGUE[err.code].httpStatus ?? 400) : 422;
            reply(status, { error: err instanceof Error ? err.message : String(err), ...(err instanceof LedgerError ? { code: err.code } : {}) });
          },
        );
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const endpoint: LedgerEndpoint = { url: `http://${options.host}:${port}`, token, pid: process.pid, ledgerPath: ledger.path };
    mkdirSync(dirname(options.endpointFile), { recursive: true, mode: 0o700 });
    // `mode` applies only when the file is created: remove a stale one so the token never lands in a wider file.
    rmSync(options.endpointFile, { force: true });
    writeFileSync(options.endpointFile, JSON.stringify(endpoint), { mode: 0o600 });
    return new LedgerReadServer(server, endpoint, options.endpointFile);
  }

  async close(): Promise<void> {
    rmSync(this.endpointFile, { force: true });
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
