/**
 * Prefline deployed as separate processes, the way docs/deploy.md runs it on many hosts: each
 * `prefline worker --queues …` and `prefline gateway` is its own OS process with one shared data
 * folder (artifacts, ledger, secrets, invites), each logging to its own file. For the cluster tests
 * and bench/cluster; failure messages carry every process's log tail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../ops/dev-server';
import { logTail } from './log-tail';
import { CLI } from './processes';

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** One `prefline …` process whose stdout and stderr go to `<logs>/<name>.log`. */
export class LoggedProcess {
  readonly exited: Promise<Exit>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {
    this.exited = new Promise((resolveExit) =>
      child.once('exit', (code, signal) => {
        live.delete(child);
        resolveExit({ code, signal });
      }),
    );
  }

  static spawn(name: string, args: string[], env: NodeJS.ProcessEnv, logDir: string): LoggedProcess {
    mkdirSync(logDir, { recursive: true });
    const logFile = join(logDir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    try {
      const child = spawn(process.execPath, ['--enable-source-maps', CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
      live.add(child);
      return new LoggedProcess(name, child, logFile);
    } finally {
      closeSync(fd);
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  log(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8') : '';
  }

  tail(bytes = 2500): string {
    return logTail(this.logFile, bytes);
  }

  /** Resolves once the log matches `pattern`; rejects with the log's tail if the process exits or time runs out. */
  async waitForLog(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (pattern.test(this.log())) return;
      if (!this.running) throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) before logging ${pattern}; log:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} did not log ${pattern} within ${timeoutMs} ms; log:\n${this.tail()}`);
      await sleep(100);
    }
  }

  /** Sends `signal` (if still running) and waits for the exit; SIGKILL after `graceMs` if it lingers. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<Exit> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export type WorkerQueue = 'workflows' | 'inference' | 'ledger';

export interface GatewayProcess extends LoggedProcess {
  url: string;
}

/**
 * The processes of one deployment. `env` holds what every process shares (the Temporal settings,
 * PREFLINE_DATA_DIR, …); each process may add its own.
 */
export class Deployment {
  readonly processes: LoggedProcess[] = [];
  readonly logDir: string;

  constructor(
    /** The deployment's folder: `logs/` for the process logs. */
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    this.logDir = join(dir, 'logs');
  }

  start(name: string, args: string[], env: NodeJS.ProcessEnv = {}): LoggedProcess {
    if (this.processes.some((p) => p.name === name)) throw new Error(`a process named ${name} exists already`);
    const spawned = LoggedProcess.spawn(name, args, { ...this.env, ...env }, this.logDir);
    this.processes.push(spawned);
    return spawned;
  }

  /** `prefline worker --queues <queues>`, resolved once it polls. */
  async startWorker(name: string, queues: readonly WorkerQueue[], timeoutMs = 120_000): Promise<LoggedProcess> {
    const worker = this.start(name, ['worker', '--queues', queues.join(',')]);
    await worker.waitForLog(/worker polling/, timeoutMs);
    return worker;
  }

  /** `prefline gateway` on a free port of 127.0.0.1, resolved once GET /healthz answers 200. */
  async startGateway(name: string, timeoutMs = 60_000): Promise<GatewayProcess> {
    const port = await freePort();
    const gateway = this.start(name, ['gateway'], { PREFLINE_GATEWAY_HOST: '127.0.0.1', PREFLINE_GATEWAY_PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const healthy = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
      if (healthy) return Object.assign(gateway, { url });
      if (!gateway.running) throw new Error(`${name} exited (${gateway.child.exitCode ?? gateway.child.signalCode}) while starting; log:\n${gateway.tail()}`);
      if (Date.now() > deadline) throw new Error(`${name} did not answer ${url}/healthz within ${timeoutMs} ms; log:\n${gateway.tail()}`);
      await sleep(200);
    }
  }

  /** Every process's state and log tail, for a failure message. */
  tails(bytes = 1500): string {
    return this.processes.map((p) => `--- ${p.name} (${p.running ? 'running' : `exited ${p.child.exitCode ?? p.child.signalCode}`}): ${p.logFile}\n${p.tail(bytes)}`).join('\n');
  }

  /** Stops what still runs: SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill('SIGTERM', graceMs)));
  }
}
