/** Small helpers shared by the benchmarks: a bounded-concurrency runner, percentiles, a stack starter. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type PreflineConfig } from '../config';
import { DevServer, freePort, temporalBinaryPath } from '../ops/dev-server';
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
    ...extraEnv,
  };
  // Quiet processes: per-request logging through a pipe would measure the log reader, not Prefline.
  const worker = spawnCli(['worker'], env);
  const gateway = spawnCli(['gateway'], env);
  const ledgerEndpoint = join(dataDir, 'ledger-endpoint.json');
  for (const deadline = Date.now() + 120_000; ; ) {
    const gatewayUp = await fetch(`http://127.0.0.1:${gatewayPort}/healthz`).then((r) => r.ok, () => false);
    if (gatewayUp && existsSync(ledgerEndpoint)) break;
    if (Date.now() > deadline) throw new Error(`the bench stack did not come up:\n${worker.output()}\n${gateway.output()}`);
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
    },
  };
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
