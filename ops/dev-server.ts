/**
 * Starts and stops a real `temporal server start-dev` (CLI v1.5.1, built by
 * scripts/install-temporal.sh) from Node. Used by `prefline up`, the tests and the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants as fsConstants, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { retrying } from '../core/retry';
import { PREFLINE_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { ensureSearchAttributes } from './cluster-setup';

// Registering attributes is cluster setup's job; the dev server does it for every file it opens.
export { ensureSearchAttributes } from './cluster-setup';

export interface DevServerOptions {
  /** Path to the temporal CLI. */
  binary: string;
  /** Frontend gRPC port. */
  port: number;
  /** Default 127.0.0.1. */
  ip?: string;
  /** Web UI port; undefined => --headless. */
  uiPort?: number;
  /** SQLite file; undefined => in memory. The parent directory is created. */
  dbFile?: string;
  /** Default 'default'. */
  namespace?: string;
  /** Server stdout/stderr are appended here; otherwise only a short tail is kept in memory for errors. */
  logFile?: string;
  /** Default { journal_mode: 'WAL', synchronous: 'NORMAL', busy_timeout: '5000' }. */
  sqlitePragmas?: Record<string, string>;
  /** Added to (and overriding) DEFAULT_DYNAMIC_CONFIG: one partition per task queue. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Default 60000. */
  startTimeoutMs?: number;
}

// WAL + NORMAL: the dev server funnels every write through one SQLite connection, so fsync per
// commit (the default FULL) is the throughput ceiling; WAL keeps the file consistent on a crash.
const DEFAULT_PRAGMAS: Record<string, string> = { journal_mode: 'WAL', synchronous: 'NORMAL', busy_timeout: '5000' };
const TAIL_BYTES = 4000;

// One partition per task queue: partitions spread a queue over matching hosts, and the dev server is
// one. With the server's four, a task can land on a partition no poller waits on and is forwarded or
// read back from the database: bench/chat's p99 time to first token was 0.57× and 0.81× with one, in
// two pairs of adjacent runs (100 users, 10 s think time). Caller's values override these.
const DEFAULT_DYNAMIC_CONFIG: Record<string, number> = { 'matching.numTaskqueueReadPartitions': 1, 'matching.numTaskqueueWritePartitions': 1 };

// Servers still running when Node exits get SIGTERM, so a crashed `prefline up` or test run
// doesn't leave an orphan holding the port and the SQLite file.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGTERM');
});

export class DevServer {
  readonly address: string;
  readonly uiUrl?: string;
  readonly pid: number;
  /** Exit code, or null when killed by a signal (or the spawn failed). Never rejects. */
  readonly exited: Promise<number | null>;
  /** Milliseconds from spawn until the frontend answered and search attributes were registered. */
  startupMs = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly options: Readonly<DevServerOptions>,
    private readonly logTail: () => string,
  ) {
    this.address = `${options.ip ?? '127.0.0.1'}:${options.port}`;
    if (options.uiPort !== undefined) this.uiUrl = `http://${options.ip ?? '127.0.0.1'}:${options.uiPort}`;
    this.pid = child.pid ?? -1;
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code) => {
        live.delete(child);
        resolveExit(code);
      });
      child.once('error', () => {
        live.delete(child);
        resolveExit(null);
      });
    });
  }

  static async start(options: DevServerOptions): Promise<DevServer> {
    const started = Date.now();
    const ip = options.ip ?? '127.0.0.1';
    const namespace = options.namespace ?? 'default';
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    try {
      accessSync(options.binary, fsConstants.X_OK);
    } catch {
      throw new Error(`Temporal CLI not found or not executable at ${options.binary}; run scripts/install-temporal.sh`);
    }
    // Private folders: the SQLite file holds workflow histories, recipients' addresses among them.
    if (options.dbFile) mkdirSync(dirname(resolve(options.dbFile)), { recursive: true, mode: 0o700 });

    // Own HTTP and metrics ports so that several servers (tests, benchmark) can run side by side.
    const [httpPort, metricsPort] = await Promise.all([freePort(), freePort()]);
    const args = ['server', 'start-dev', '--ip', ip, '--port', String(options.port)];
    args.push(...(options.uiPort !== undefined ? ['--ui-port', String(options.uiPort)] : ['--headless']));
    args.push('--http-port', String(httpPort), '--metrics-port', String(metricsPort));
    if (options.dbFile) args.push('--db-filename', resolve(options.dbFile));
    args.push('--namespace', namespace, '--log-level', 'warn', '--log-format', 'json');
    for (const [k, v] of Object.entries(options.sqlitePragmas ?? DEFAULT_PRAGMAS)) args.push('--sqlite-pragma', `${k}=${v}`);
    for (const [k, v] of Object.entries({ ...DEFAULT_DYNAMIC_CONFIG, ...options.dynamicConfig })) args.push('--dynamic-config-value', `${k}=${JSON.stringify(v)}`);
    // Only applies when a namespace is created; ensureSearchAttributes covers existing files.
    for (const sa of PREFLINE_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${sa.name}=${sa.type}`);

    let child: ChildProcess;
    let logTail: () => string;
    if (options.logFile) {
      mkdirSync(dirname(resolve(options.logFile)), { recursive: true, mode: 0o700 });
      const fd = openSync(options.logFile, 'a');
      const from = statSync(options.logFile).size; // show only this run's lines on failure
      child = spawn(options.binary, args, { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      const file = options.logFile;
      logTail = () => readTail(file, from);
    } else {
      // Keep draining the pipes (a full pipe would block the server) but remember only a tail.
      child = spawn(options.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let tail = '';
      const keep = (chunk: Buffer) => {
        tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      logTail = () => tail;
    }
    live.add(child);
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    const server = new DevServer(child, { ...options, ip, namespace }, logTail);

    // Stop polling as soon as the process dies, instead of waiting for the timeout.
    const abort = new AbortController();
    let exitCode: number | null | undefined;
    void server.exited.then((code) => {
      exitCode = code;
      abort.abort();
    });
    const fail = async (why: string): Promise<never> => {
      await server.stop(5000);
      const tail = server.logTail().trim();
      throw new Error(`Temporal dev server on ${server.address} ${why}.${tail ? `\nLast server output:\n${tail}` : ''}`);
    };
    try {
      await waitForFrontend(server.address, timeoutMs, abort.signal);
      await waitForNamespace(server.address, namespace, started + timeoutMs - Date.now());
      await registerSearchAttributes(server.address, namespace);
    } catch (err) {
      if (spawnError) return fail(`could not be spawned (${spawnError.message})`);
      if (exitCode !== undefined) return fail(`exited (code ${exitCode}) before it was ready`);
      return fail(`did not become ready within ${timeoutMs} ms (${(err as Error).message})`);
    }
    server.startupMs = Date.now() - started;
    return server;
  }

  /** SIGTERM (the server then closes SQLite cleanly), SIGKILL after timeoutMs; resolves once exited. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null || !this.child.pid) {
      await this.exited;
      return;
    }
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

function readTail(file: string, from: number): string {
  try {
    const size = statSync(file).size;
    const start = Math.max(from, size - TAIL_BYTES);
    const buf = Buffer.alloc(size - start);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, start);
    } finally {
      closeSync(fd);
    }
    return buf.toString('utf8');
  } catch {
    return '';
  }
}

/** Polls until the frontend answers getSystemInfo. */
export async function waitForFrontend(address: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const over = new Error('waiting is over'); // aborted, or past the deadline: checked before every attempt
  let lastError: unknown;
  try {
    return await retrying(
      async () => {
        const remaining = deadline - Date.now();
        if (signal?.aborted || remaining <= 0) throw over;
        // lazy + ensureConnected, so that a failed attempt's channel can still be closed.
        const connection = Connection.lazy({ address, connectTimeout: Math.min(2000, remaining) });
        try {
          await connection.ensureConnected();
        } catch (err) {
          lastError = err;
          throw err;
        } finally {
          await connection.close();
        }
      },
      { delayMs: () => Math.min(200, Math.max(0, deadline - Date.now())), retryable: (err) => err !== over },
    );
  } catch (err) {
    if (err !== over) throw err;
  }
  if (signal?.aborted) throw new Error(`aborted while waiting for ${address}`);
  throw new Error(`no Temporal frontend at ${address} after ${timeoutMs} ms: ${(lastError as Error | undefined)?.message ?? 'timeout'}`);
}

/** Adds PREFLINE_SEARCH_ATTRIBUTES missing from the file (`--search-attribute` only applies when a namespace is created). */
async function registerSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await ensureSearchAttributes(connection, namespace);
  } finally {
    await connection.close();
  }
}

async function waitForNamespace(address: string, namespace: string, timeoutMs: number): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await retrying(() => connection.workflowService.describeNamespace({ namespace }), { delayMs: () => 200, budgetMs: Math.max(timeoutMs, 1000) });
  } finally {
    await connection.close();
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1 (racy by nature, fine for dev/tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** `<projectRoot>/.tools/bin/temporal`; projectRoot defaults to the repository root (from ops/ or dist/ops/). */
export function temporalBinaryPath(projectRoot?: string): string {
  const here = resolve(__dirname, '..');
  const root = projectRoot ?? (basename(here) === 'dist' ? dirname(here) : here);
  return join(root, '.tools', 'bin', 'temporal');
}
