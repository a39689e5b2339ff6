/**
 * bench/campaign (issue 15): a compare campaign of `items` × `responses` answered by `raters` simulated
 * raters over the gateway (bench/campaign-raters.ts: `next`, then the web judgement route, with invite
 * sessions), against raw baselines measured in the same run on the same dev server:
 *   - raw child starts: a trivial parent starting as many trivial children with the same `maxOpen`
 *     (bench/campaign-baseline.ts, run by its own worker process) → children/min;
 *   - raw updates: to one trivial workflow from 8 callers (the shape of `next`: every rater asks the one
 *     campaign, and the gateway sends it 8 at once), and from `concurrency` callers spread over `maxOpen`
 *     of them (the shape of answers: one item each) → updates/s, p50/p99.
 * Then the same campaign shape at exactly `concurrency` (32) raters, where the answer target applies.
 *
 * Reports items completed per minute (÷ the raw child-start rate; target ≥ 0.8×), answers/s with p50/p99
 * of `next` and of the answer (÷ raw; target answer p99 < 300 ms at 32 raters), peak open child
 * lifecycles (sampled from visibility), the worker's and gateway's peak RSS, and checks the ledger:
 * every accepted answer there exactly once, no item over its quota, every item's outcome recorded.
 *
 *   node dist/bench/campaign.js [--items 2000] [--responses 15] [--raters 300] [--max-open 50]
 *                               [--items32 400] [--concurrency 32] [--raw-children <items>] [--raw-updates 3000]
 */
import { Client, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { queryLedger } from '../cli/query';
import { createLogger } from '../ops/log';
import { ArtifactStore } from '../store/ArtifactStore';
import { inviteTokens, signIn, type WebRater } from '../test/helpers/web-raters';
import { CAMPAIGN_WORKFLOW_TYPE, WORKFLOW_TYPE, campaignCancelSignal, campaignStatusQuery } from '../workflows/messages';
import type { CampaignInput, CampaignItem, CampaignSummary } from '../workflows/types';
import { benchFinishSignal, benchPingUpdate } from './campaign-baseline';
import { RaterLoad, runRaters } from './campaign-raters';
import { fmt, formatCpu, percentile, runPool, startBenchStack, withCpu, type BenchStack, type Timed } from './util';

export interface CampaignBenchOptions {
  items: number;
  responses: number;
  raters: number;
  maxOpen: number;
  /** Items of the second campaign, answered by exactly `concurrency` raters. */
  items32: number;
  concurrency: number;
  rawChildren: number;
  rawUpdates: number;
}

/** Resident memory of a process now and at its peak (VmRSS, VmHWM), in MiB, from /proc (Linux). */
function memoryMiB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** The baseline's worker, its own process like the product's; resolves once it polls. */
async function startBaselineWorker(address: string, taskQueue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--enable-source-maps', require.resolve('./campaign-baseline-worker'), address, taskQueue], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready\n')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the baseline worker exited with ${code}:\n${output}`)));
  });
  return child;
}

/** The raw child-start rate: a trivial parent's children per minute, start to finish. */
async function rawChildStarts(client: Client, taskQueue: string, count: number, maxOpen: number): Promise<{ perMinute: number; wallMs: number }> {
  const t0 = performance.now();
  const done = (await client.workflow.execute('benchTrivialParent', { taskQueue, workflowId: `bench-parent-${randomUUID().slice(0, 8)}`, args: [count, maxOpen] })) as number;
  const wallMs = performance.now() - t0;
  if (done !== count) throw new Error(`the trivial parent completed ${done} of ${count} children`);
  return { perMinute: (count / wallMs) * 60_000, wallMs };
}

/** Callers of the one-workflow raw baseline: TemporalCampaignDirectory's default in-flight limit per campaign. */
const ONE_WORKFLOW_CALLERS = 8;

/** Temporal refuses updates beyond this many per run (history.maxTotalUpdates): a target takes fewer. */
const UPDATES_PER_TARGET = 1500;

/** `count` raw updates at `concurrency`, over `spread` trivial workflows at a time (each replaced before its update limit). */
async function rawUpdates(client: Client, taskQueue: string, count: number, concurrency: number, spread: number): Promise<Timed> {
  const targetsNeeded = spread * Math.ceil(count / spread / UPDATES_PER_TARGET);
  const targets: WorkflowHandle[] = await Promise.all(
    Array.from({ length: targetsNeeded }, () => client.workflow.start('benchTrivialTarget', { taskQueue, workflowId: `bench-target-${randomUUID().slice(0, 8)}` })),
  );
  const result = await runPool(count, concurrency, async (i) => {
    const target = targets[Math.floor(i / (spread * UPDATES_PER_TARGET)) * spread + (i % spread)]!;
    let answer: number;
    try {
      answer = await target.executeUpdate(benchPingUpdate, { args: [i] });
    } catch (err) {
      // The reason is in the cause (e.g. the server's limit of in-flight updates per workflow).
      const cause = (err as { cause?: unknown }).cause;
      throw new Error(`${(err as Error).message}${cause instanceof Error ? `: ${cause.message}` : ''}`);
    }
    if (answer !== i) throw new Error(`ping ${i} answered ${answer}`);
  });
  await Promise.all(targets.map((t) => t.signal(benchFinishSignal)));
  return result;
}

function compareItems(count: number, tag: string): CampaignItem[] {
  return Array.from({ length: count }, (_, i) => ({
    prompt: `${tag} matchup ${i}: which caption fits the picture better?`,
    candidates: [{ text: `the first caption of matchup ${i}`, model: 'model-a' }, { text: `the second caption of matchup ${i}`, model: 'model-b' }],
  }));
}

interface CampaignRun {
  campaignId: string;
  items: number;
  raters: number;
  wallMs: number;
  summary: CampaignSummary;
  /** Cancelled by the bench after STALL_MS without an accepted answer. */
  stalled: boolean;
  load: RaterLoad;
  peakOpenLifecycles: number;
  peakOpenReported: number;
  peakRssMiB: { worker: number; gateway: number };
  cpu: Record<string, number>;
  ledger: LedgerCheck;
}

interface LedgerCheck {
  rows: number;
  lost: number;
  duplicated: number;
  /** Items with more standing answers in the ledger than `responses`. */
  overQuota: number;
  itemRows: number;
  ends: Record<string, number>;
}

async function checkLedger(stack: BenchStack, campaignId: string, responses: number, load: RaterLoad): Promise<LedgerCheck> {
  const pattern = `${campaignId}-item-%`;
  const { rows: keys } = await queryLedger(stack.config, `SELECT run_id, idempotency_key FROM judgements WHERE lifecycle_id LIKE $1`, [pattern]);
  const stored = new Map<string, number>();
  for (const row of keys) stored.set(String(row['idempotency_key']), (stored.get(String(row['idempotency_key'])) ?? 0) + 1);
  const lost = load.accepted.filter((a) => !stored.has(a.ledgerKey)).length;
  const duplicated = [...stored.values()].reduce((n, c) => n + c - 1, 0);
  const { rows: quota } = await queryLedger(stack.config, `SELECT count(*)::INTEGER AS n FROM (SELECT lifecycle_id FROM judgements WHERE lifecycle_id LIKE $1 AND standing GROUP BY lifecycle_id HAVING count(*) > $2)`, [pattern, responses]);
  const { rows: ends } = await queryLedger(stack.config, `SELECT end_reason, count(*)::INTEGER AS n FROM campaign_items WHERE campaign_id = $1 GROUP BY end_reason ORDER BY end_reason`, [campaignId]);
  return {
    rows: keys.length, lost, duplicated, overQuota: Number(quota[0]?.['n'] ?? NaN),
    itemRows: ends.reduce((n, r) => n + Number(r['n']), 0), ends: Object.fromEntries(ends.map((r) => [String(r['end_reason']), Number(r['n'])])),
  };
}

/** One campaign from start to its summary, every rater answering over the gateway; open lifecycles and memory sampled meanwhile. */
async function runCampaign(stack: BenchStack, client: Client, raters: readonly WebRater[], o: CampaignBenchOptions, items: number, tag: string): Promise<CampaignRun> {
  const artifacts = await ArtifactStore.open(stack.config.artifactDir);
  const list = await artifacts.put(new TextEncoder().encode(JSON.stringify(compareItems(items, tag))), 'application/json');
  const input: CampaignInput = {
    itemsRef: `sha256:${list.sha256}`, itemCount: items, task: 'compare', responses: o.responses, maxOpen: o.maxOpen,
    question: 'Which caption fits better?', deadline: '1d', reservation: '2m', campaign: `bench-${tag}`,
  };
  const campaignId = `bench-campaign-${tag}-${randomUUID().slice(0, 8)}`;
  const pids = { worker: stack.processes[0]!.child.pid!, gateway: stack.processes[1]!.child.pid! };
  const peakRss = { worker: 0, gateway: 0 };
  let peakOpenLifecycles = 0;
  let peakOpenReported = 0;
  let finished = false;
  let stalled = false;
  const load = new RaterLoad();
  const t0 = performance.now();
  const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: stack.config.taskQueue, workflowId: campaignId, args: [input] });
  const sampler = (async () => {
    let lastAccepted = 0;
    let lastProgressAt = performance.now();
    let lastShownAt = 0;
    while (!finished) {
      for (const [name, pid] of Object.entries(pids) as Array<[keyof typeof pids, number]>) peakRss[name] = Math.max(peakRss[name], memoryMiB(pid).rss);
      const open = await client.workflow.count(`WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`).catch(() => undefined);
      if (open) peakOpenLifecycles = Math.max(peakOpenLifecycles, open.count);
      const status = await handle.query(campaignStatusQuery).catch(() => undefined);
      if (status) peakOpenReported = Math.max(peakOpenReported, status.counts.open);
      const now = performance.now();
      if (load.accepted.length > lastAccepted) [lastAccepted, lastProgressAt] = [load.accepted.length, now];
      if (now - lastShownAt >= 15_000) {
        lastShownAt = now;
        process.stderr.write(`[${tag} ${fmt((now - t0) / 1000, 0)} s] accepted ${load.accepted.length}, done ${status?.counts.done ?? '?'}/${items}, open ${status?.counts.open ?? '?'}, errors ${[...load.errors.values()].reduce((a, b) => a + b, 0)}, refused ${[...load.refused.values()].reduce((a, b) => a + b, 0)}\n`);
      }
      // No answer accepted for this long: the campaign is stuck, and waiting longer measures nothing.
      if (!stalled && now - lastProgressAt > STALL_MS) {
        stalled = true;
        await handle.signal(campaignCancelSignal, { reason: `bench: no answer accepted for ${STALL_MS / 1000} s` });
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const { result, cpu } = await withCpu(stack, async () => {
    await runRaters(stack.gatewayUrl, campaignId, raters, load, () => finished);
    const summary = (await client.workflow.getHandle(campaignId).result()) as CampaignSummary;
    return { load, summary };
  });
  const wallMs = performance.now() - t0;
  finished = true;
  await sampler;
  const ledger = await checkLedger(stack, campaignId, o.responses, result.load);
  return {
    campaignId, items, raters: raters.length, wallMs, summary: result.summary, load: result.load, stalled,
    peakOpenLifecycles, peakOpenReported, peakRssMiB: peakRss, cpu, ledger,
  };
}

/** No answer accepted for this long (ms): the bench cancels the campaign and reports it stalled. */
const STALL_MS = 180_000;

function latencies(name: string, values: number[]): string {
  return `${name} p50 ${fmt(percentile(values, 50))} ms, p99 ${fmt(percentile(values, 99))} ms`;
}

function rawLine(name: string, t: Timed): string {
  return `${name.padEnd(44)} ${fmt((t.ok / t.wallMs) * 1000).padStart(7)} updates/s  p50 ${fmt(percentile(t.latenciesMs, 50)).padStart(6)} ms  p99 ${fmt(percentile(t.latenciesMs, 99)).padStart(7)} ms  ok ${t.ok}  failed ${t.failed}`;
}

function campaignLines(run: CampaignRun, raw: { childPerMinute: number; one: Timed; spread: Timed }): string[] {
  const { load, ledger } = run;
  const itemsPerMinute = (run.items / run.wallMs) * 60_000;
  const answersPerSec = (load.accepted.length / (load.endedAt - load.startedAt)) * 1000;
  const rawOneRate = (raw.one.ok / raw.one.wallMs) * 1000;
  const answerP99 = percentile(load.answerMs, 99);
  const nextP99 = percentile(load.nextMs, 99);
  const lines = [
    `campaign ${run.campaignId}: ${run.items} items × ${run.summary.counts.answers / Math.max(1, run.summary.counts.done)} answers, ${run.raters} concurrent raters: ${run.summary.phase} in ${fmt(run.wallMs / 1000)} s (done ${run.summary.counts.done}, failed ${run.summary.counts.failed}, ended ${JSON.stringify(run.summary.counts.ended)})`,
    `  items completed per minute ${fmt(itemsPerMinute)}  ÷ raw child-start rate ${fmt(itemsPerMinute / raw.childPerMinute, 3)}×`,
    `  answers/s ${fmt(answersPerSec)}  ÷ raw updates/s to one workflow ${fmt(answersPerSec / rawOneRate, 2)}×   (${load.accepted.length} accepted, ${load.assigned} assignments of which ${load.again} held already, ${load.waits} waits)`,
    `  ${latencies('answer (judgement route)', load.answerMs)}  ÷ raw spread p99 ${fmt(answerP99 / percentile(raw.spread.latenciesMs, 99), 2)}×`,
    `  ${latencies('next (campaign route)', load.nextMs)}  ÷ raw one-workflow p99 ${fmt(nextP99 / percentile(raw.one.latenciesMs, 99), 2)}×`,
    `  peak open child lifecycles ${run.peakOpenLifecycles} (visibility), ${run.peakOpenReported} (campaign status); peak RSS worker ${fmt(run.peakRssMiB.worker, 0)} MiB, gateway ${fmt(run.peakRssMiB.gateway, 0)} MiB`,
    `  cpu: ${formatCpu(run.cpu)}`,
    `  ledger: ${ledger.rows} judgement rows for ${load.accepted.length} accepted answers: lost ${ledger.lost}, duplicated ${ledger.duplicated}, items over quota ${ledger.overQuota}; ${ledger.itemRows} item outcomes ${JSON.stringify(ledger.ends)}`,
  ];
  if (run.stalled) lines.push(`  STALLED: no answer accepted for ${STALL_MS / 1000} s; the bench cancelled the campaign`);
  if (load.withoutPair > 0) lines.push(`  assignments without the rater's pair order: ${load.withoutPair}`);
  for (const [m, n] of load.refused) lines.push(`  refused ×${n}: ${m}`);
  for (const [m, n] of load.errors) lines.push(`  errors ×${n}: ${m}`);
  return lines;
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}

export async function benchCampaign(options: Partial<CampaignBenchOptions> = {}): Promise<Record<string, number>> {
  // Core's own retries of RESOURCE_EXHAUSTED (raw updates to one workflow) are expected here: keep them quiet.
  Runtime.install({ logger: createLogger('bench', 'error'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } } });
  const items = options.items ?? 2000;
  const o: CampaignBenchOptions = {
    items, responses: 15, raters: 300, maxOpen: 50, items32: Math.max(1, Math.round(items / 5)), concurrency: 32, rawChildren: items, rawUpdates: 3000, ...options,
  };
  if (o.raters < o.responses || o.concurrency < o.responses) throw new Error(`--raters and --concurrency must be at least --responses (${o.responses}): an item needs that many distinct raters`);
  const loadBefore = loadAverage();
  // Every rater signs in from this one address and answers as fast as the system lets them: no sign-in or vote limits.
  const stack = await startBenchStack('campaign', { PREFLINE_WEB_SIGNINS_PER_HOUR: '0', PREFLINE_WEB_VOTES_PER_MINUTE: '0' });
  const connection = await NativeConnection.connect({ address: stack.server.address });
  const client = new Client({ connection });
  const baselineQueue = `bench-baseline-${randomUUID().slice(0, 8)}`;
  const baselineWorker = await startBaselineWorker(stack.server.address, baselineQueue);
  try {
    // Warm-up (JIT, connections, SQLite pages), not measured.
    await rawChildStarts(client, baselineQueue, Math.min(100, o.rawChildren), o.maxOpen);
    await rawUpdates(client, baselineQueue, 200, o.concurrency, o.maxOpen);

    const { result: rawChildren, cpu: rawChildCpu } = await withCpu(stack, () => rawChildStarts(client, baselineQueue, o.rawChildren, o.maxOpen));
    // One workflow takes at most 10 updates in flight (the server refuses more, and the SDK does not wait):
    // its raw baseline gets as many callers as the gateway lets reach one campaign.
    const rawOne = await rawUpdates(client, baselineQueue, o.rawUpdates, ONE_WORKFLOW_CALLERS, 1);
    const rawSpread = await rawUpdates(client, baselineQueue, o.rawUpdates, o.concurrency, o.maxOpen);
    const raw = { childPerMinute: rawChildren.perMinute, one: rawOne, spread: rawSpread };

    const labels = Array.from({ length: Math.max(o.raters, o.concurrency) }, (_, i) => `bench rater ${i}`);
    const tokens = await inviteTokens(stack.config, labels);
    const raters: WebRater[] = [];
    await runPool(labels.length, 16, async (i) => {
      raters[i] = await signIn(stack.gatewayUrl, labels[i]!, tokens[i]!);
    });

    const full = await runCampaign(stack, client, raters.slice(0, o.raters), o, o.items, 'full');
    const at32 = await runCampaign(stack, client, raters.slice(0, o.concurrency), o, o.items32, `c${o.concurrency}`);
    const hwm = { worker: memoryMiB(stack.processes[0]!.child.pid!).peak, gateway: memoryMiB(stack.processes[1]!.child.pid!).peak };

    const lines = [
      `bench/campaign: ${o.items} compare items × ${o.responses} responses, ${o.raters} raters over the gateway (next + judgement route), maxOpen ${o.maxOpen}; then ${o.items32} items at exactly ${o.concurrency} raters`,
      `dev server: SQLite file (WAL) as prefline up; candidates as inline texts (no inference); load average before ${loadBefore}, after ${loadAverage()} (2 shared cores)`,
      `raw child starts (trivial parent, ${o.rawChildren} trivial children, maxOpen ${o.maxOpen}): ${fmt(rawChildren.perMinute)} children/min in ${fmt(rawChildren.wallMs / 1000)} s; cpu ${formatCpu(rawChildCpu)} (baseline worker not counted)`,
      rawLine(`raw updates, one workflow, ${ONE_WORKFLOW_CALLERS} callers`, rawOne),
      rawLine(`raw updates over ${o.maxOpen} workflows, ${o.concurrency} callers`, rawSpread),
      ...campaignLines(full, raw),
      ...campaignLines(at32, raw),
      `target: answer p99 at ${o.concurrency} raters ${fmt(percentile(at32.load.answerMs, 99))} ms (< 300 ms: ${percentile(at32.load.answerMs, 99) < 300 ? 'met' : 'missed'}); items/min ÷ raw child starts ${fmt((full.items / full.wallMs) * 60_000 / raw.childPerMinute, 3)}× (≥ 0.8×: ${(full.items / full.wallMs) * 60_000 / raw.childPerMinute >= 0.8 ? 'met' : 'missed'})`,
      `peak RSS over the whole run (VmHWM): worker ${fmt(hwm.worker, 0)} MiB, gateway ${fmt(hwm.gateway, 0)} MiB`,
    ];
    for (const [m, n] of [...rawOne.errors, ...rawSpread.errors]) lines.push(`   raw update errors ×${n}: ${m}`);
    // What the gateway and worker logged at warn and above, counted by message: where the errors came from.
    for (const [name, p] of [['gateway', stack.processes[1]!], ['worker', stack.processes[0]!]] as const) {
      const messages = new Map<string, number>();
      for (const logLine of p.output().split('\n').filter((l) => /warn|error/i.test(l))) {
        const key = logLine.replace(/^\S+\s+/, '').replace(/"?(lifecycleId|campaignId|rater|workflowId|runId)"?[:=]\s*"?[^",}\s]+"?/g, '$1=…').slice(0, 200);
        messages.set(key, (messages.get(key) ?? 0) + 1);
      }
      for (const [m, n] of [...messages].sort((a, b) => b[1] - a[1]).slice(0, 8)) lines.push(`   ${name} log ×${n}: ${m}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
    const itemsPerMinute = (full.items / full.wallMs) * 60_000;
    return {
      itemsPerMinute, rawChildrenPerMinute: raw.childPerMinute, itemsRatio: itemsPerMinute / raw.childPerMinute,
      answersPerSec: (full.load.accepted.length / (full.load.endedAt - full.load.startedAt)) * 1000,
      answerP99: percentile(full.load.answerMs, 99), nextP99: percentile(full.load.nextMs, 99),
      answerP99At32: percentile(at32.load.answerMs, 99), nextP99At32: percentile(at32.load.nextMs, 99),
      rawOneP99: percentile(rawOne.latenciesMs, 99), rawSpreadP99: percentile(rawSpread.latenciesMs, 99),
      peakOpen: full.peakOpenLifecycles, workerPeakMiB: hwm.worker, gatewayPeakMiB: hwm.gateway,
      lost: full.ledger.lost + at32.ledger.lost, duplicated: full.ledger.duplicated + at32.ledger.duplicated, overQuota: full.ledger.overQuota + at32.ledger.overQuota,
    };
  } finally {
    baselineWorker.kill('SIGTERM');
    await connection.close();
    await stack.stop();
  }
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const n = Number(process.argv[i + 1]);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${process.argv[i + 1]}"`);
    return n;
  };
  const flags: Array<[string, keyof CampaignBenchOptions]> = [
    ['items', 'items'], ['responses', 'responses'], ['raters', 'raters'], ['max-open', 'maxOpen'], ['items32', 'items32'],
    ['concurrency', 'concurrency'], ['raw-children', 'rawChildren'], ['raw-updates', 'rawUpdates'],
  ];
  const options: Partial<CampaignBenchOptions> = {};
  for (const [flag, key] of flags) {
    const value = arg(flag);
    if (value !== undefined) options[key] = value;
  }
  benchCampaign(options).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
