/**
 * bench/cluster: the vote workload of bench/votes (invited raters voting concurrently through the
 * gateway over keep-alive HTTP on many open lifecycles, then lifecycles completed per minute) on
 * Prefline deployed as separate processes (workflows, inference and ledger workers, one gateway; one
 * shared data folder), in the same run against
 *   (a) the dev server (SQLite), the baseline;
 *   (b) a PostgreSQL-backed Temporal Server with TLS (test/helpers/temporal-cluster.ts), the way a
 *       team self-hosts it;
 *   (c) that cluster with a second workflows worker, then with one again (drift over the run).
 * Figures are ratios to the same run's baseline: on a shared 2-core machine absolutes mean little.
 *
 *   node dist/bench/cluster.js [--votes 1500] [--lifecycles 10] [--concurrency 32] [--raters 100] [--quick 20]
 */
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryLedger } from '../cli/query';
import { loadConfig, type PreflineConfig } from '../config';
import { DevServer, freePort, temporalBinaryPath } from '../ops/dev-server';
import { closeSignal } from '../workflows/messages';
import type { LifecycleSummary } from '../workflows/types';
import { Deployment, type GatewayProcess, type LoggedProcess } from '../test/helpers/deployment';
import { runCli } from '../test/helpers/processes';
import { waitForVoting } from '../test/helpers/temporal';
import { TemporalCluster } from '../test/helpers/temporal-cluster';
import { inviteTokens, newIdempotencyKey, signIn, VoteSender, type PlannedVote, type WebRater } from '../test/helpers/web-raters';
import { fmt, percentile, runPool, type Timed } from './util';

interface ClusterBenchOptions {
  votes: number;
  lifecycles: number;
  concurrency: number;
  raters: number;
  /** Lifecycles of the per-minute measure (demo:shapes, 2 candidates, 1 vote each), started at once. */
  quick: number;
}

const CANDIDATES = 4;

/** One deployment under load: its processes, a client, its raters, and every vote it accepted. */
interface Stack {
  label: string;
  config: PreflineConfig;
  deployment: Deployment;
  client: Client;
  gateway: GatewayProcess;
  raters: WebRater[];
  sender: VoteSender;
  accepted: number;
  handles: number;
  close(): Promise<void>;
}

interface Measured {
  votes: Timed;
  lifecyclesPerMinute: number;
}

async function startStack(label: string, temporalEnv: NodeJS.ProcessEnv, connect: () => Promise<Connection>, namespace: string, o: ClusterBenchOptions, onClose: () => Promise<void>): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), `prefline-bench-cluster-${label}-`));
  const env: NodeJS.ProcessEnv = {
    ...temporalEnv,
    PREFLINE_DATA_DIR: join(dir, 'data'),
    // Every rater signs in from this one address. (Logs go to files at info: nothing per vote.)
    PREFLINE_WEB_SIGNINS_PER_HOUR: '0',
  };
  const deployment = new Deployment(dir, env);
  const connection = await connect();
  try {
    await deployment.startWorker('workflows-1', ['workflows']);
    await deployment.startWorker('inference', ['inference']);
    await deployment.startWorker('ledger', ['ledger']);
    const gateway = await deployment.startGateway('gateway');
    const config = loadConfig(env);
    const labels = Array.from({ length: o.raters }, (_, i) => `rater-${i}`);
    const invites = await inviteTokens(config, labels);
    const raters = await Promise.all(invites.map((invite, i) => signIn(gateway.url, labels[i]!, invite)));
    const sender = new VoteSender([gateway.url], { voteTimeoutMs: 60_000 });
    return {
      label,
      config,
      deployment,
      client: new Client({ connection, namespace }),
      gateway,
      raters,
      sender,
      accepted: 0,
      handles: 0,
      async close() {
        sender.close();
        await deployment.stop();
        await connection.close();
        await onClose();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await deployment.stop();
    await connection.close();
    await onClose();
    const tails = deployment.tails();
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${label}: ${(err as Error).message}\n${tails}`);
  }
}

async function startLifecycles(stack: Stack, prefix: string, count: number, input: Record<string, unknown>): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}-${stack.handles++}`);
  const handles = await Promise.all(ids.map((workflowId) => stack.client.workflow.start('ratingLifecycle', { taskQueue: stack.config.taskQueue, workflowId, args: [input] })));
  try {
    for (const h of handles) await waitForVoting(h, 120_000);
  } catch (err) {
    throw new Error(`${stack.label}: ${(err as Error).message}\n${stack.deployment.tails()}`);
  }
  return ids;
}

/** Closes the lifecycles and waits for their commits. */
async function closeAll(stack: Stack, ids: string[]): Promise<LifecycleSummary[]> {
  await Promise.all(ids.map((id) => stack.client.workflow.getHandle(id).signal(closeSignal, { reason: 'bench' })));
  return (await Promise.all(ids.map((id) => stack.client.workflow.getHandle(id).result()))) as LifecycleSummary[];
}

/** `count` votes on `ids` through the gateway, each (rater, lifecycle, candidate) at most once. */
async function voteOn(stack: Stack, ids: string[], count: number, concurrency: number): Promise<Timed> {
  const r = stack.raters.length;
  const l = ids.length;
  const plan = (i: number): PlannedVote => ({
    lifecycleId: ids[i % l]!,
    candidateId: `c${(Math.floor(i / (l * r)) % CANDIDATES) + 1}`,
    value: i % 3 === 0 ? 'down' : 'up',
    rater: stack.raters[Math.floor(i / l) % r]!,
    idempotencyKey: newIdempotencyKey(),
    gateway: 0,
  });
  if (count > r * ids.length * CANDIDATES) throw new Error(`at most ${r * ids.length * CANDIDATES} distinct votes with these raters and lifecycles`);
  const timed = await runPool(count, concurrency, async (i) => {
    await stack.sender.cast(plan(i));
  });
  stack.accepted += timed.ok;
  return timed;
}

/** The vote workload on fresh lifecycles, then lifecycles per minute. */
async function measure(stack: Stack, name: string, o: ClusterBenchOptions): Promise<Measured> {
  const input = { prompt: 'benchmark', model: 'demo:text', candidates: CANDIDATES, totalVotes: 10_000, deadline: '2h' };
  const ids = await startLifecycles(stack, `bench-${name}`, o.lifecycles, input);
  const votes = await voteOn(stack, ids, o.votes, o.concurrency);
  await closeAll(stack, ids);

  const t0 = performance.now();
  const quick = await startLifecycles(stack, `bench-${name}-lpm`, o.quick, { prompt: 'quick', model: 'demo:shapes', candidates: 2, totalVotes: 1 });
  const one = await voteOn(stack, quick, quick.length, quick.length);
  if (one.failed > 0) throw new Error(`${stack.label}: ${one.failed} quick votes failed: ${[...one.errors.keys()].join('; ')}`);
  await Promise.all(quick.map((id) => stack.client.workflow.getHandle(id).result()));
  return { votes, lifecyclesPerMinute: (o.quick / (performance.now() - t0)) * 60_000 };
}

/** Throwaway lifecycles and votes: JIT, connections, the databases' first pages. */
async function warmUp(stack: Stack, o: ClusterBenchOptions): Promise<void> {
  const ids = await startLifecycles(stack, 'bench-warm', 4, { prompt: 'warm-up', model: 'demo:text', candidates: CANDIDATES, totalVotes: 10_000 });
  await voteOn(stack, ids, Math.min(200, o.votes), o.concurrency);
  await closeAll(stack, ids);
}

/** Every vote the gateway accepted is in the ledger once: lost and duplicated rows. */
async function ledgerCheck(stack: Stack): Promise<{ lost: number; duplicated: number }> {
  const { rows } = await queryLedger(stack.config, `SELECT count(*)::INT AS n, count(DISTINCT run_id || idempotency_key)::INT AS d FROM votes`);
  const n = Number(rows[0]?.n);
  const d = Number(rows[0]?.d);
  return { lost: stack.accepted - d, duplicated: n - d };
}

function line(name: string, m: Measured, baseline?: Measured): string {
  const rate = (m.votes.ok / m.votes.wallMs) * 1000;
  const p50 = percentile(m.votes.latenciesMs, 50);
  const p99 = percentile(m.votes.latenciesMs, 99);
  const parts = [
    `${name.padEnd(44)} ${fmt(rate).padStart(7)} votes/s  p50 ${fmt(p50).padStart(6)} ms  p99 ${fmt(p99).padStart(7)} ms  failed ${m.votes.failed}  ${fmt(m.lifecyclesPerMinute).padStart(6)} lifecycles/min`,
  ];
  if (baseline) {
    const b = { rate: (baseline.votes.ok / baseline.votes.wallMs) * 1000, p50: percentile(baseline.votes.latenciesMs, 50), p99: percentile(baseline.votes.latenciesMs, 99) };
    parts.push(`  ×  votes/s ${fmt(rate / b.rate, 2)}, p50 ${fmt(p50 / b.p50, 2)}, p99 ${fmt(p99 / b.p99, 2)}, lifecycles/min ${fmt(m.lifecyclesPerMinute / baseline.lifecyclesPerMinute, 2)}`);
  }
  return parts.join('\n');
}

/** The mean of two runs (before and after), for a baseline that drifts over the run. */
function mean(a: Measured, b: Measured): Measured {
  const rate = (m: Measured) => m.votes.ok / m.votes.wallMs;
  // The wall time at which all votes of both runs go at the mean of their two rates.
  const wallMs = (a.votes.ok + b.votes.ok) / ((rate(a) + rate(b)) / 2);
  return {
    votes: { ok: a.votes.ok + b.votes.ok, failed: a.votes.failed + b.votes.failed, errors: new Map([...a.votes.errors, ...b.votes.errors]), latenciesMs: [...a.votes.latenciesMs, ...b.votes.latenciesMs], wallMs },
    lifecyclesPerMinute: (a.lifecyclesPerMinute + b.lifecyclesPerMinute) / 2,
  };
}

export async function benchCluster(options: Partial<ClusterBenchOptions> = {}): Promise<Record<string, number>> {
  const o: ClusterBenchOptions = { votes: 1500, lifecycles: 10, concurrency: 32, raters: 100, quick: 20, ...options };
  const lines = [
    `bench/cluster: ${o.votes} votes on ${o.lifecycles} lifecycles by ${o.raters} invited raters over one gateway, concurrency ${o.concurrency}; ` +
      `${o.quick} lifecycles at once for lifecycles/min; processes: workflows worker(s), inference worker, ledger worker, gateway`,
  ];
  const ledger: string[] = [];

  // (a) The dev server: the same-run baseline.
  const port = await freePort();
  const devDir = mkdtempSync(join(tmpdir(), 'prefline-bench-devserver-'));
  const server = await DevServer.start({ binary: temporalBinaryPath(), port, dbFile: join(devDir, 'temporal.db'), logFile: join(devDir, 'temporal.log') });
  const dev = await startStack('dev', { PREFLINE_TEMPORAL_ADDRESS: server.address }, () => Connection.connect({ address: server.address }), 'default', o, async () => {
    await server.stop();
    rmSync(devDir, { recursive: true, force: true });
  });
  let devRun: Measured;
  try {
    await warmUp(dev, o);
    devRun = await measure(dev, 'dev', o);
    const check = await ledgerCheck(dev);
    ledger.push(`dev server: ${dev.accepted} accepted, lost ${check.lost}, duplicated ${check.duplicated}`);
  } finally {
    await dev.close();
  }
  lines.push(line('dev server (SQLite), 1 workflows worker', devRun));

  // (b) and (c) The PostgreSQL-backed cluster with TLS, set up by `prefline cluster setup`.
  const cluster = await TemporalCluster.start({ logLevel: 'warn' });
  const clusterEnv = { ...cluster.env(), PREFLINE_EXTERNAL_TEMPORAL: '1' };
  const setup = runCli(['cluster', 'setup'], { ...clusterEnv, PREFLINE_DATA_DIR: cluster.dir });
  if (setup.code !== 0) {
    await cluster.stop();
    throw new Error(`prefline cluster setup failed:\n${setup.stdout}${setup.stderr}`);
  }
  const onCluster = await startStack('cluster', clusterEnv, () => cluster.connect(), cluster.namespace, o, () => cluster.stop());
  let one: Measured;
  let two: Measured;
  let oneAgain: Measured;
  try {
    await warmUp(onCluster, o);
    one = await measure(onCluster, 'one', o);
    const second: LoggedProcess = await onCluster.deployment.startWorker('workflows-2', ['workflows']);
    two = await measure(onCluster, 'two', o);
    await second.kill('SIGTERM');
    oneAgain = await measure(onCluster, 'one-again', o);
    const check = await ledgerCheck(onCluster);
    ledger.push(`cluster: ${onCluster.accepted} accepted, lost ${check.lost}, duplicated ${check.duplicated}`);
  } finally {
    await onCluster.close();
  }
  const oneMean = mean(one, oneAgain);
  lines.push(
    `cluster: ready in ${fmt(cluster.startupMs / 1000)} s (PostgreSQL ${fmt(cluster.timings.postgres / 1000)} s, schemas ${fmt(cluster.timings.schema / 1000)} s, server ${fmt(cluster.timings.server / 1000)} s)`,
    line('cluster (PostgreSQL, TLS), 1 workflows worker', one, devRun) + '   (ratios to the dev server)',
    line('cluster, 2 workflows workers', two, oneMean) + '   (ratios to 1 worker, mean of before and after)',
    line('cluster, 1 workflows worker again', oneAgain, one) + '   (drift: ratios to the first run)',
    `ledger: ${ledger.join('; ')}`,
  );
  for (const [name, m] of [['dev', devRun], ['cluster', one], ['two workers', two]] as const) {
    for (const [message, n] of m.votes.errors) lines.push(`   ${name} vote errors ×${n}: ${message}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
  const rate = (m: Measured) => (m.votes.ok / m.votes.wallMs) * 1000;
  return {
    devVotesPerSec: rate(devRun),
    clusterVotesPerSec: rate(one),
    clusterToDevVotes: rate(one) / rate(devRun),
    clusterToDevP50: percentile(one.votes.latenciesMs, 50) / percentile(devRun.votes.latenciesMs, 50),
    clusterToDevP99: percentile(one.votes.latenciesMs, 99) / percentile(devRun.votes.latenciesMs, 99),
    clusterToDevLifecyclesPerMinute: one.lifecyclesPerMinute / devRun.lifecyclesPerMinute,
    twoToOneWorkersVotes: rate(two) / rate(oneMean),
    twoToOneWorkersLifecyclesPerMinute: two.lifecyclesPerMinute / oneMean.lifecyclesPerMinute,
  };
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const given = Object.fromEntries((['votes', 'lifecycles', 'concurrency', 'raters', 'quick'] as const).flatMap((k) => (arg(k) ? [[k, arg(k)]] : [])));
  benchCluster(given).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
