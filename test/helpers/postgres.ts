/**
 * A private PostgreSQL 15 for the cluster tests (installed by scripts/install-temporal-server.sh): initdb
 * into a fresh temp folder, scram-sha-256 password auth for a random password, a free port on
 * 127.0.0.1, the unix socket inside the folder, `postgres` as a child process. PostgreSQL refuses to
 * run as root, so as root everything runs as the `postgres` system user (which the package creates);
 * otherwise as the current user.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../ops/dev-server';
import { logTail } from './log-tail';

export const PG_BIN = process.env.PREFLINE_PG_BIN ?? '/usr/lib/postgresql/15/bin';
/** The superuser initdb creates; Temporal connects as it. */
export const PG_USER = 'temporal';

export interface PostgresOptions {
  /**
   * fsync on (default off): a throwaway folder needs no durability against an OS crash, and a killed
   * PostgreSQL loses nothing either way (its writes are in the page cache); off spares the shared disk.
   */
  fsync?: boolean;
}

interface Account {
  uid: number;
  gid: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function systemAccount(name: string): Account | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return line ? { uid: Number(uid), gid: Number(gid) } : undefined;
}

/** Who runs PostgreSQL: undefined = this process's user (not root). */
function runAs(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const account = systemAccount('postgres');
  if (!account) throw new Error('running as root and there is no "postgres" user to run PostgreSQL as: run scripts/install-temporal-server.sh');
  return account;
}

export class Postgres {
  readonly host = '127.0.0.1';
  port = 0;
  readonly user = PG_USER;
  /** Milliseconds of the last start (initdb included on the first). */
  startupMs = 0;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    /** The instance's folder: data/, socket/, postgres.log. Removed by stop(). */
    readonly dir: string,
    readonly password: string,
    private readonly account: Account | undefined,
    private readonly options: PostgresOptions,
  ) {}

  /** The postmaster's process id (undefined while stopped). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  get logFile(): string {
    return join(this.dir, 'postgres.log');
  }

  static async start(options: PostgresOptions = {}): Promise<Postgres> {
    const started = Date.now();
    if (!existsSync(join(PG_BIN, 'postgres'))) throw new Error(`${PG_BIN}/postgres not found: run scripts/install-temporal-server.sh (npm test's setup does)`);
    const account = runAs();
    const dir = mkdtempSync(join(tmpdir(), 'prefline-pg-'));
    const pg = new Postgres(dir, randomBytes(18).toString('base64url'), account, options);
    try {
      mkdirSync(join(dir, 'socket'));
      // initdb reads the superuser's password from a file; it is deleted right after.
      const pwfile = join(dir, 'pwfile');
      writeFileSync(pwfile, `${pg.password}\n`, { mode: 0o600 });
      if (account) for (const path of [dir, join(dir, 'socket'), pwfile]) chownSync(path, account.uid, account.gid);
      pg.run(join(PG_BIN, 'initdb'), ['-D', pg.dataDir, '-U', PG_USER, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync'], 'initdb');
      rmSync(pwfile);
      pg.port = await freePort();
      await pg.launch();
    } catch (err) {
      await pg.stop();
      throw err;
    }
    pg.startupMs = Date.now() - started;
    return pg;
  }

  /** A libpq connection string (password included) for `database`. */
  url(database = 'postgres'): string {
    return `postgresql://${PG_USER}:${encodeURIComponent(this.password)}@${this.host}:${this.port}/${database}`;
  }

  /** Runs SQL with psql over TCP (password auth, as Temporal connects); returns its unaligned output. */
  psql(sql: string, { database = 'postgres', password = this.password }: { database?: string; password?: string } = {}): string {
    const result = spawnSync(join(PG_BIN, 'psql'), ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', this.host, '-p', String(this.port), '-U', PG_USER, '-d', database, '-c', sql], {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '5' },
      timeout: 30_000,
    });
    if (result.status !== 0) throw new Error(`psql failed (${result.status ?? result.signal}): ${result.stderr.trim()}`);
    return result.stdout.trim();
  }

  /** Stops PostgreSQL (fast shutdown: open sessions are rolled back) and removes its folder. */
  async stop(): Promise<void> {
    await this.shutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const settings = ['listen_addresses=127.0.0.1', `port=${this.port}`, `unix_socket_directories=${join(this.dir, 'socket')}`, `fsync=${this.options.fsync ? 'on' : 'off'}`];
    const fd = openSync(this.logFile, 'a');
    const child = spawn(join(PG_BIN, 'postgres'), ['-D', this.dataDir, ...settings.flatMap((s) => ['-c', s])], {
      stdio: ['ignore', fd, fd],
      ...this.identity(),
    });
    closeSync(fd);
    live.add(child);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        live.delete(child);
        resolve();
      }),
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`PostgreSQL exited (${child.exitCode ?? child.signalCode}) while starting; log:\n${logTail(this.logFile)}`);
      // pg_isready answers 0 once connections are accepted (no authentication needed to ask).
      const ready = spawnSync(join(PG_BIN, 'pg_isready'), ['-q', '-h', this.host, '-p', String(this.port), '-t', '1']);
      if (ready.status === 0) return;
      if (Date.now() > deadline) throw new Error(`PostgreSQL on port ${this.port} not ready after 30 s; log:\n${logTail(this.logFile)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async shutdown(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT'); // "fast shutdown"
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private run(binary: string, args: string[], what: string): SpawnSyncReturns<string> {
    const result = spawnSync(binary, args, { encoding: 'utf8', timeout: 60_000, ...this.identity() });
    if (result.status !== 0) throw new Error(`${what} failed (${result.status ?? result.signal ?? result.error?.message}): ${result.stderr.trim() || result.stdout.trim()}`);
    return result;
  }

  private identity(): { uid?: number; gid?: number; cwd: string; env: NodeJS.ProcessEnv } {
    // A neutral cwd and env: the postgres user may not read the caller's folder, and PG* variables
    // of the caller must not redirect initdb or the server.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' };
    return this.account ? { uid: this.account.uid, gid: this.account.gid, cwd: this.dir, env } : { cwd: this.dir, env };
  }
}
