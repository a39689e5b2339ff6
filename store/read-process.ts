/**
 * An analyst's query in a process of its own: the ledger worker's read endpoint runs it over a copy
 * of the ledger (store/ledger-snapshots.ts), `prefline query` with no worker over the file itself.
 *
 * Why not in the writer process (docs/security.md, "The ledger"): DuckDB bounds what it manages, not
 * everything a query can do. Measured on 1.5.6: `SELECT len(range(1000000000))` grew a process to
 * 12.5 GB under `memory_limit = '256MB'` and ignored `interrupt()` for as long as it was watched
 * (15 s); `repeat('x', 2000000000)` did the same at 4 GB. In the writer that is a commit that cannot
 * get memory, or a worker the kernel kills. Here it is a child that is killed: past its time limit,
 * or past its memory (its resident size, read from /proc, above DuckDB's limit plus slack).
 *
 * The child opens the database read-only, locked down like every read instance, with one thread (the
 * writer keeps the other core), runs the query by the read path's rules (store/read-query.ts) and
 * answers one JSON line on stdout.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ErrorCode } from '../core/errors';
import { NO_EXTENSION_AUTOLOAD, lockDown } from './duckdb-lockdown';
import { LedgerError, lockedOr, type LedgerErrorCode } from './errors';
import { ReadQuery, memoryError, timeoutError, type QueryResult, type ReadLimits } from './read-query';

/** Values bound to a read's `$1`, `$2`, …: JSON can carry them to the child as they are. */
export type ReadValue = string | number | boolean | null;

interface ReadRequest {
  database: string;
  sql: string;
  subject: string;
  limits: ReadLimits;
  values?: ReadValue[];
}

type ReadReply = { result: QueryResult } | { error: { message: string; code?: LedgerErrorCode } };

/** Limits of a read in its own process: all of them are needed to bound it. */
export type ProcessReadLimits = ReadLimits & { timeoutMs: number; memoryBytes: number };

/** What the child may take above DuckDB's memory limit (Node, DuckDB's own code, the result) before it is killed. */
const MEMORY_SLACK_BYTES = 256 * 1024 ** 2;
/** Time after the query's limit for the child to report its own timeout, and to start up, before it is killed. */
const KILL_GRACE_MS = 5_000;
const MEMORY_POLL_MS = 100;
/** The answer's size: rows are capped, but one value could be huge. */
const MAX_REPLY_BYTES = 64 * 1024 ** 2;

/** Resident memory of a process, from /proc (Linux); undefined where that cannot be read. */
function residentBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `sql` (with `values` bound) against `database` in a child process, within `limits`; the child
 * is killed past the time limit (plus a grace for it to stop itself) and past the memory limit (plus slack).
 */
export function queryInReadProcess(database: string, sql: string, subject: string, limits: ProcessReadLimits, values?: readonly ReadValue[]): Promise<QueryResult> {
  return new Promise((resolve, reject) => {
    // Nothing of the worker's environment (API tokens, keys given as variables) but the time zone results are shown in.
    const env = process.env.TZ !== undefined ? { TZ: process.env.TZ } : {};
    const child = spawn(process.execPath, [__filename], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stopped: LedgerError | undefined;
    const stop = (reason: LedgerError) => {
      stopped ??= reason;
      child.kill('SIGKILL');
    };
    const chunks: Buffer[] = [];
    let replyBytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      replyBytes += chunk.length;
      if (replyBytes > MAX_REPLY_BYTES) {
        stop(new LedgerError(ErrorCode.LedgerQueryTooLarge, `the result is larger than ${MAX_REPLY_BYTES / 1024 ** 2} MiB, the limit of queries on ${subject}; select fewer or shorter values`));
      } else chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const timer = setTimeout(() => stop(timeoutError(subject, limits.timeoutMs)), limits.timeoutMs + KILL_GRACE_MS);
    const memoryLine = limits.memoryBytes + MEMORY_SLACK_BYTES;
    const poll = setInterval(() => {
      const resident = child.pid !== undefined ? residentBytes(child.pid) : undefined;
      if (resident !== undefined && resident > memoryLine) stop(memoryError(subject, limits.memoryBytes));
    }, MEMORY_POLL_MS);
    child.once('error', (err) => stop(new LedgerError(ErrorCode.LedgerUnavailable, `could not start a read process: ${err.message}`, { cause: err })));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      if (stopped) return reject(stopped);
      let reply: ReadReply;
      try {
        reply = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReadReply;
      } catch {
        return reject(new LedgerError(ErrorCode.LedgerUnavailable, `the read process ended (${signal ?? `exit ${code}`}) without an answer: ${stderr.trim() || 'no output'}`));
      }
      if ('result' in reply) return resolve(reply.result);
      const { message, code: errorCode } = reply.error;
      reject(errorCode !== undefined ? new LedgerError(errorCode, message) : new Error(message));
    });
    child.stdin.on('error', () => undefined); // a child that died early: its exit says why
    child.stdin.end(JSON.stringify({ database, sql, subject, limits, ...(values !== undefined ? { values: [...values] } : {}) } satisfies ReadRequest));
  });
}

/** The child: one request on stdin, one answer on stdout. */
async function serveOneRead(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const { database, sql, subject, limits, values } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReadRequest;
  let reply: ReadReply;
  try {
    const instance = await DuckDBInstance.create(database, {
      access_mode: 'READ_ONLY',
      threads: '1',
      ...(limits.memoryBytes !== undefined ? { memory_limit: `${Math.floor(limits.memoryBytes / 1024 ** 2)}MiB` } : {}),
      ...NO_EXTENSION_AUTOLOAD,
    }).catch((err: unknown) => {
      throw lockedOr(err, database);
    });
    try {
      const connection = await instance.connect();
      try {
        await lockDown(connection);
        reply = { result: await new ReadQuery(connection, subject, limits).run(sql, values) };
      } finally {
        connection.closeSync();
      }
    } finally {
      instance.closeSync();
    }
  } catch (err) {
    reply = { error: { message: err instanceof Error ? err.message : String(err), ...(err instanceof LedgerError ? { code: err.code } : {}) } };
  }
  process.stdout.write(JSON.stringify(reply));
}

if (require.main === module) {
  serveOneRead().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
