/**
 * Helpers shared by the benchmarks: a bounded-concurrency runner, percentiles and report lines, a stack
 * starter, rater sessions as the rating page gets them, and the release benchmarks' timing (CPU and
 * wall per run and per step, raw COPY baselines, medians of paired runs), ledger and command line.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, loadSecret, type PreflineConfig } from '../config';
import { InviteRegistry } from '../gateway/invite-registry';
import { signInvite } from '../gateway/invites';
import { DevServer, freePort, temporalBinaryPath } from '../ops/dev-server';
import { createLogger } from '../ops/log';
import { quotedString } from '../releases/sql';
import { Ledger } from '../store/Ledger';
import { spawnCli, type CliProcess } from '../test/helpers/processes';

export interface Timed {
  ok: number;
  failed: number;
  errors: Map<string, number>;
  latenciesMs: number[];
  wallMs: number;
}

/** Runs `tasks` with at most `concurrency` in flight; records per-task latency and failures by message. */
export async function runPool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<Timed> {
  const latenciesMs: number[] = [];
  const errors = new Map<string, number>();
  let next = 0;
  let ok = 0;
  let failed = 0;
  const started = performance.now();
  async function lane(): Promise<void> {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      try {
        await task(i);
        ok++;
        latenciesMs.push(performance.now() - t0);
      } catch (err) {
        failed++;
        const key = (err instanceof Error ? err.message : String(err)).slice(0, 120);
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { ok, failed, errors, latenciesMs, wallMs: performance.now() - started };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** Successful tasks per second of a timed run. */
export function ratePerSecond(t: Timed): number {
  return (t.ok / t.wallMs) * 1000;
}

/** One report line of a timed run: rate, p50/p99 latency, counts, and the rate's ratio to `baselineRate` if given. */
export function timedLine(name: string, unit: string, t: Timed, baselineRate?: number, width = 34): string {
  const rate = ratePerSecond(t);
  return `${name.padEnd(width)} ${fmt(rate).padStart(8)} ${unit}/s  p50 ${fmt(percentile(t.latenciesMs, 50)).padStart(6)} ms  p99 ${fmt(percentile(t.latenciesMs, 99)).padStart(7)} ms  ok ${t.ok}  failed ${t.failed}${baselineRate ? `  ratio ${fmt(rate / baselineRate, 2)}×` : ''}`;
}

/** Each error message of timed runs with its count, one indented line each. */
export function errorLines(label: string, ...runs: Timed[]): string[] {
  const counts = new Map<string, number>();
  for (const t of runs) for (const [m, n] of t.errors) counts.set(m, (counts.get(m) ?? 0) + n);
  return [...counts].map(([m, n]) => `   ${label} errors ×${n}: ${m}`);
}

let runtimeInstalled = false;
/**
 * The bench process's own Temporal runtime, quiet: warnings and above from the SDK, errors from Core
 * (whose own retries of RESOURCE_EXHAUSTED, expected from the raw baselines with no limiter, would
 * otherwise flood the output).
 */
export function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: createLogger('bench', 'error'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } } });
}

/** `--name <number>` from the command line, if given. */
export function numberFlag(name: string, argv = process.argv): number | undefined {
  const i = argv.indexOf(`--${name}`);
  return i > 0 ? Number(argv[i + 1]) : undefined;
}

/** The `--name <number>` flags among `names` that the command line gives, as options. */
export function numberFlags<Name extends string>(names: readonly Name[], argv = process.argv): Partial<Record<Name, number>> {
  return Object.fromEntries(names.flatMap((name) => {
    const value = numberFlag(name, argv);
    return value === undefined ? [] : [[name, value]];
  })) as Partial<Record<Name, number>>;
}

/** CPU used by each process of the stack (and this one) while `fn` runs. */
export async function withCpu<T>(stack: BenchStack, fn: () => Promise<T>): Promise<{ result: T; cpu: Record<string, number> }> {
  const pids: Record<string, number> = { server: stack.server.pid, worker: stack.processes[0]!.child.pid!, gateway: stack.processes[1]!.child.pid!, bench: process.pid };
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
  const result = await fn();
  const cpu = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) - (before[k] as number)]));
  return { result, cpu };
}

export function formatCpu(cpu: Record<string, number>): string {
  return Object.entries(cpu).map(([k, v]) => `${k} ${fmt(v, 2)}s`).join(', ');
}

export interface BenchStack {
  config: PreflineConfig;
  env: NodeJS.ProcessEnv;
  server: DevServer;
  gatewayUrl: string;
  processes: CliProcess[];
  stop(): Promise<void>;
}

/** A run's folder (dev server database, ledger, artifacts) is thrown away at its end, unless PREFLINE_BENCH_KEEP=1 keeps it. */
function removeRunFolder(dir: string): void {
  if (process.env.PREFLINE_BENCH_KEEP === '1') process.stdout.write(`bench data kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}

/**
 * The embedded system as `prefline up` runs it: a dev server on a SQLite file (WAL), one worker process
 * for every queue, one gateway process, each its own OS process like in production.
 */
export async function startBenchStack(label: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), `prefline-bench-${label}-`));
  const port = await freePort();
  const gatewayPort = await freePort();
  // PREFLINE_BENCH_PRAGMAS / PREFLINE_BENCH_DYNAMIC_CONFIG (JSON objects) try other dev-server settings.
  const pragmas = process.env.PREFLINE_BENCH_PRAGMAS ? (JSON.parse(process.env.PREFLINE_BENCH_PRAGMAS) as Record<string, string>) : undefined;
  const dynamicConfig = process.env.PREFLINE_BENCH_DYNAMIC_CONFIG ? (JSON.parse(process.env.PREFLINE_BENCH_DYNAMIC_CONFIG) as Record<string, string | number | boolean>) : undefined;
  const server = await DevServer.start({
    binary: temporalBinaryPath(), port, dbFile: join(dataDir, 'temporal.db'), logFile: join(dataDir, 'temporal.log'),
    ...(pragmas ? { sqlitePragmas: pragmas } : {}), ...(dynamicConfig ? { dynamicConfig } : {}),
  });
  const env: NodeJS.ProcessEnv = {
    PREFLINE_DATA_DIR: dataDir,
    PREFLINE_TEMPORAL_ADDRESS: server.address,
    PREFLINE_GATEWAY_PORT: String(gatewayPort),
    PREFLINE_LOG_LEVEL: 'warn',
    // The product's default (PREFLINE_SOURCE_MAPS off), not the tests' source-mapped stacks.
    PREFLINE_SOURCE_MAPS: process.env.PREFLINE_SOURCE_MAPS ?? '0',
    ...extraEnv,
  };
  // Quiet processes: per-request logging through a pipe would measure the log reader, not Prefline.
  // PREFLINE_BENCH_CPU_PROF=<folder>: the worker and the gateway write V8 CPU profiles, one per thread
  // (the worker's workflows run in a thread of their own), to <folder>/<label>-<process> when they stop.
  const profileDir = process.env.PREFLINE_BENCH_CPU_PROF;
  const profiled = (name: string): string[] => (profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, `${label}-${name}`)}`] : []);
  const worker = spawnCli(['worker'], env, profiled('worker'));
  const gateway = spawnCli(['gateway'], env, profiled('gateway'));
  const ledgerEndpoint = join(dataDir, 'ledger-endpoint.json');
  for (const deadline = Date.now() + 120_000; ; ) {
    const gatewayUp = await fetch(`http://127.0.0.1:${gatewayPort}/healthz`).then((r) => r.ok, () => false);
    if (gatewayUp && existsSync(ledgerEndpoint)) break;
    if (Date.now() > deadline) {
      await Promise.all([worker.kill('SIGKILL'), gateway.kill('SIGKILL'), server.stop()]);
      removeRunFolder(dataDir);
      throw new Error(`the bench stack did not come up:\n${worker.output()}\n${gateway.output()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const processes = [worker, gateway];
  return {
    config: loadConfig(env),
    env,
    server,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    processes,
    async stop() {
      for (const p of processes) await p.kill('SIGTERM');
      await server.stop();
      removeRunFolder(dataDir);
    },
  };
}

/** A signed-in rater of the rating page: the session's bearer token and the pseudonym it names. */
export interface RaterSession {
  token: string;
  rater: string;
}

/**
 * Sessions for `count` raters, as raters get them by default: an invite in the stack's registry
 * (labels `<prefix> 0`, `<prefix> 1`, …), redeemed at `POST /api/session`. The stack should allow
 * unlimited sign-ins (PREFLINE_WEB_SIGNINS_PER_HOUR=0): every rater signs in from this one address.
 */
export async function inviteSessions(stack: BenchStack, count: number, prefix = 'rater'): Promise<RaterSession[]> {
  const invites = await InviteRegistry.open(stack.config.gateway.invitesDir);
  const inviteKey = loadSecret(stack.config, 'invite');
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const invite = await invites.create({ label: `${prefix} ${i}`, expiresAt: new Date(Date.now() + 86_400_000) });
      const res = await fetch(`${stack.gatewayUrl}/api/session`, {
        method: 'POST', headers: { 'content-type': 'application/json', 'x-prefline-request': '1' },
        body: JSON.stringify({ invite: signInvite(inviteKey, { inviteId: invite.id, expiresAt: Date.parse(invite.expiresAt) }) }),
      });
      if (res.status !== 201) throw new Error(`sign-in: HTTP ${res.status} ${await res.text()}`);
      const { token, rater } = (await res.json()) as RaterSession;
      return { token, rater };
    }),
  );
}

/** A POST to the gateway's API as the rating page sends it: JSON, the session's bearer token, the page's request header. */
export function postAsRater(stack: BenchStack, path: string, session: RaterSession, body: unknown): Promise<{ status: number; text: string }> {
  return postJson(`${stack.gatewayUrl}${path}`, body, { authorization: `Bearer ${session.token}`, 'x-prefline-request': '1' });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * A POST over a keep-alive node:http agent. The load generator shares the machine with the system under
 * test, so it should cost as little CPU as possible (undici's fetch costs about twice as much per request).
 */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// --- The release benchmarks (bench/release, bench/release-compare): timed runs, interleaved with raw COPY baselines.

/** One timed run: wall clock, this process's CPU (every DuckDB thread), bytes written. */
export interface Timing {
  ms: number;
  cpuMs: number;
  bytes: number;
}

/** CPU milliseconds (user + system) this process has used so far. */
export function processCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The run with the shortest wall clock. */
export function fastest(timings: readonly Timing[]): Timing {
  return timings.reduce((x, y) => (y.ms < x.ms ? y : x));
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

/** A timing's wall and CPU seconds, as the release benchmarks print them. */
export function formatTiming(t: Timing): string {
  return `${seconds(t.ms)} s (cpu ${seconds(t.cpuMs)} s)`;
}

/**
 * Times `fn`, which writes into `out` (removed after) or into the folder under it that it returns,
 * whose files' bytes are counted. CPU is the whole process's: run nothing else in it meanwhile.
 */
export async function timeRun(out: string, fn: () => Promise<string | void>): Promise<Timing> {
  const cpu = processCpuMs();
  const start = performance.now();
  const written = (await fn()) ?? out;
  const timing = { ms: performance.now() - start, cpuMs: processCpuMs() - cpu, bytes: folderBytes(written) };
  rmSync(out, { recursive: true, force: true });
  return timing;
}

/** `publishRelease`'s afterStep, collecting each step's wall and CPU time since the previous one. */
export function stepTimer(): { afterStep: (step: string) => void; line: () => string; cpuMsOf: (step: string) => number } {
  let last = performance.now();
  let lastCpu = processCpuMs();
  const steps: Array<{ step: string; ms: number; cpuMs: number }> = [];
  return {
    afterStep(step: string) {
      const now = performance.now();
      const nowCpu = processCpuMs();
      steps.push({ step, ms: now - last, cpuMs: nowCpu - lastCpu });
      last = now;
      lastCpu = nowCpu;
    },
    line: () => `steps (wall/cpu s): ${steps.map((s) => `${s.step} ${seconds(s.ms)}/${seconds(s.cpuMs)}`).join(', ')}`,
    cpuMsOf: (step: string) => steps.filter((s) => s.step === step).reduce((n, s) => n + s.cpuMs, 0),
  };
}

/**
 * A raw baseline: each `[name, select]` copied to `<out>/<name>.parquet` with `options`, in order, on
 * one connection of `ledger`. Returns the timing of all of them and a line of each one's seconds.
 */
export async function rawCopies(
  ledger: { withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> },
  out: string,
  tables: ReadonlyArray<readonly [string, string]>,
  options = '(FORMAT parquet, COMPRESSION zstd)',
): Promise<{ timing: Timing; line: string }> {
  const each: string[] = [];
  mkdirSync(out, { recursive: true });
  const timing = await timeRun(out, () => ledger.withConnection(async (c) => {
    for (const [name, select] of tables) {
      const t = performance.now();
      await c.run(`COPY (${select}) TO ${quotedString(join(out, `${name}.parquet`))} ${options}`);
      each.push(`${name} ${seconds(performance.now() - t)}`);
    }
  }));
  return { timing, line: `raw (s): ${each.join(', ')}` };
}

/** The release against a raw COPY baseline over interleaved runs, as both release benchmarks report it. */
export interface AgainstRaw {
  rawCopyMs: number;
  releaseMs: number;
  /** Fastest release / fastest raw copy (wall clock). */
  ratio: number;
  /** Median over interleaved runs of release / raw, wall clock. */
  medianPairRatio: number;
  /** Process CPU time (all DuckDB threads) of the release / of the raw copies, median of the pairs: steadier on a shared machine. */
  cpuRatio: number;
  rawBytes: number;
  releaseBytes: number;
}

export function againstRaw(runs: ReadonlyArray<{ raw: Timing; release: Timing }>): AgainstRaw {
  const best = { raw: fastest(runs.map((r) => r.raw)), release: fastest(runs.map((r) => r.release)) };
  return {
    rawCopyMs: best.raw.ms,
    releaseMs: best.release.ms,
    ratio: best.release.ms / best.raw.ms,
    medianPairRatio: median(runs.map((r) => r.release.ms / r.raw.ms)),
    cpuRatio: median(runs.map((r) => r.release.cpuMs / r.raw.cpuMs)),
    rawBytes: best.raw.bytes,
    releaseBytes: best.release.bytes,
  };
}

/**
 * A release benchmark's writable ledger, in `options.dir` or else in a new temp folder named after
 * `prefix`, which close() removes unless `keep`.
 */
export async function openBenchLedger(options: { dir?: string; keep?: boolean }, prefix: string): Promise<{ ledger: Ledger; dir: string; close: () => void }> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), prefix));
  const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
  return {
    ledger,
    dir,
    close: () => {
      ledger.closeSync();
      if (!options.keep && !options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A release benchmark's command line: `--<countFlag> N` (default 1,000,000; an integer of at least
 * `min`), `--repeat R` (default 2) and `--keep`; a failed run prints its stack and exits 1.
 */
export function runReleaseBench(countFlag: string, min: number, bench: (count: number, options: { repeat: number; keep: boolean }) => Promise<unknown>): void {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const count = Number(flag(countFlag) ?? 1_000_000);
  if (!Number.isInteger(count) || count < min) throw new Error(`--${countFlag} must be an integer ≥ ${min}`);
  bench(count, { repeat: Number(flag('repeat') ?? 2), keep: argv.includes('--keep') }).catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
