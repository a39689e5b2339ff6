/**
 * `node dist/bench/slack.js`: a burst of Slack reactions through the gateway, against the same votes
 * sent straight to Temporal, in one run on a real dev server.
 *
 * Deployed shape: a `prefline worker` and a `prefline gateway` process configured by PREFLINE_SLACK_*
 * variables, the Slack stand-in in Slack's place; this process only generates load and measures.
 * - 50 Slack lifecycles (2 text candidates each, posted to the stand-in, live tally on), 40 reactions
 *   each: 2,000 signed `reaction_added` events, plus 10% redelivered as Slack retries
 *   (`X-Slack-Retry-Num: 1`, `http_timeout`), sent 64 at a time to `POST /slack/events`.
 * - Baseline: 50 more lifecycles get the same 2,000 votes (and the same 10% repeats) as `voteSignal`s
 *   straight from a Temporal client, 64 at a time.
 * Reported: acknowledgement (gateway) vs signal (raw) latency, time until every vote is counted, votes
 * committed and duplicates, and gateway/raw ratios. Targets: gateway p99 ack < 500 ms, 0 duplicates.
 *
 * Environment: BENCH_LIFECYCLES (50), BENCH_REACTIONS (40 per lifecycle), BENCH_CONCURRENCY (64),
 * BENCH_VERBOSE=1 (also print the slowest acknowledgements and when they were sent).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { queryLedger } from '../cli/query';
import { loadConfig } from '../config';
import { pseudonymiseRater } from '../core/pseudonym';
import { freePort } from '../ops/dev-server';
import { spawnCli, type CliProcess } from '../test/helpers/processes';
import { sharedTemporal, stopSharedTemporal, uniqueQueue } from '../test/helpers/temporal';
import { SlackStandIn } from '../test/standins/slack-server';
import { closeSignal, statusQuery, voteSignal } from '../workflows/messages';
import type { LifecycleStatus, LifecycleSummary, VoteRequest } from '../workflows/types';

const LIFECYCLES = Number(process.env.BENCH_LIFECYCLES ?? 50);
const PER_LIFECYCLE = Number(process.env.BENCH_REACTIONS ?? 40);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const RETRY_SHARE = 0.1;
const RATER_KEY = randomBytes(32).toString('hex');

interface Planned {
  lifecycleId: string;
  channel: string;
  messageTs: string;
  candidateId: string;
  user: string;
  reaction: '+1' | '-1';
}

/** A small deterministic PRNG (mulberry32): the same workload every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

async function pool<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The originals in order, plus a share of them sent again a little after the original (Slack retries what it sent). */
function withRetries<T>(items: T[], random: () => number): Array<{ item: T; retry: boolean }> {
  const sends = items.map((item) => ({ item, retry: false }));
  for (const item of items) {
    if (random() >= RETRY_SHARE) continue;
    const after = sends.findIndex((s) => s.item === item && !s.retry) + 1;
    sends.splice(after + Math.floor(random() * Math.min(100, sends.length - after + 1)), 0, { item, retry: true });
  }
  return sends;
}

async function main(): Promise<void> {
  const total = LIFECYCLES * PER_LIFECYCLE;
  process.stdout.write(`Slack burst benchmark: ${total} reactions across ${LIFECYCLES} lifecycles, ${RETRY_SHARE * 100}% retried, concurrency ${CONCURRENCY}\n`);
  const { client, address } = await sharedTemporal();
  const slack = await SlackStandIn.start({ channels: Array.from({ length: 2 * LIFECYCLES }, (_, i) => ({ id: `CBENCH${String(i).padStart(4, '0')}`, name: `bench-${i}` })) });
  const dataDir = mkdtempSync(join(tmpdir(), 'prefline-bench-slack-'));
  const taskQueue = uniqueQueue('bench-slack');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PREFLINE_TEMPORAL_ADDRESS: address,
    PREFLINE_DATA_DIR: dataDir,
    PREFLINE_TASK_QUEUE: taskQueue,
    PREFLINE_GATEWAY_PORT: String(port),
    PREFLINE_RATER_KEY: RATER_KEY,
    PREFLINE_SLACK_BOT_TOKEN: slack.botToken,
    PREFLINE_SLACK_SIGNING_SECRET: slack.signingSecret,
    PREFLINE_SLACK_API_URL: slack.apiUrl,
    PREFLINE_LOG_LEVEL: 'warn',
  };
  const processes: CliProcess[] = [];
  try {
    const worker = spawnCli(['worker'], { ...env, PREFLINE_LOG_LEVEL: 'info' });
    processes.push(worker, spawnCli(['gateway'], env));
    await worker.waitFor(/worker polling/, 120_000);
    await waitFor('the gateway', async () => (await fetch(`${url}/healthz`)).ok, 60_000);

    // ---- lifecycles, posted to one channel each -------------------------------------------------
    type Handle = WorkflowHandle;
    const start = (set: 'gw' | 'raw', i: number): Promise<Handle> =>
      client.workflow.start('ratingLifecycle', {
        taskQueue,
        workflowId: `bench-slack-${set}-${i}-${taskQueue}`,
        args: [{ prompt: `bench ${set} ${i}`, model: 'demo:text', candidates: 2, channel: `slack:#bench-${set === 'gw' ? i : LIFECYCLES + i}`, totalVotes: 10_000, deadline: '30m' }],
      });
    const handles = { gw: [] as Handle[], raw: [] as Handle[] };
    for (let i = 0; i < LIFECYCLES; i++) {
      handles.gw.push(await start('gw', i));
      handles.raw.push(await start('raw', i));
    }
    const all = [...handles.gw, ...handles.raw];
    const statuses = new Map<string, LifecycleStatus>();
    await waitFor('every lifecycle posted and voting', async () => {
      for (const h of all) {
        if (statuses.has(h.workflowId)) continue;
        const s = await h.query(statusQuery);
        if (s.phase === 'voting' && s.posts) statuses.set(h.workflowId, s);
      }
      return statuses.size === all.length;
    });
    process.stdout.write(`  ${all.length} lifecycles posted to the stand-in and voting; load average ${loadavg()[0]!.toFixed(1)}\n`);

    // ---- the workload: the same raters, candidates and thumbs for both sets ----------------------
    const random = rng(42);
    const plan = (ids: string[]): Planned[] =>
      ids.flatMap((lifecycleId, i) => {
        const posts = statuses.get(lifecycleId)!.posts!.filter((p) => p.candidateId);
        return Array.from({ length: PER_LIFECYCLE }, (_, k) => {
          const post = posts[k % posts.length]!;
          const [, channel, messageTs] = post.ref.split(':') as [string, string, string];
          const user = `UB${String(i).padStart(3, '0')}${String(Math.floor(k / posts.length)).padStart(4, '0')}`;
          return { lifecycleId, channel, messageTs, candidateId: post.candidateId!, user, reaction: random() < 0.7 ? '+1' : '-1' } as Planned;
        });
      });
    const counted = async (hs: Handle[]) => {
      let n = 0;
      for (const h of hs) n += (await h.query(statusQuery)).votesAccepted;
      return n >= total;
    };

    // ---- through the gateway --------------------------------------------------------------------
    const gwSends = withRetries(plan(handles.gw.map((h) => h.workflowId)).map((v) => slack.reactionEnvelope({ user: v.user, reaction: v.reaction, channel: v.channel, ts: v.messageTs })), random);
    const ackMs: number[] = [];
    const ackTimes: Array<[number, number]> = [];
    let non200 = 0;
    // Calibration: how fast the same gateway answers GET /healthz (no Slack work at all) during the burst.
    const healthMs: number[] = [];
    let bursting = true;
    const probe = (async () => {
      while (bursting) {
        const t = performance.now();
        await new Promise<void>((resolve) => http.get(`${url}/healthz`, (res) => res.resume().on('end', resolve)).on('error', () => resolve()));
        healthMs.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const gwStarted = performance.now();
    await pool(gwSends, CONCURRENCY, async ({ item, retry }) => {
      const res = await slack.deliverEvent(url, item, retry ? { retryNum: 1, retryReason: 'http_timeout' } : {});
      if (res.status !== 200) non200 += 1;
      ackMs.push(res.ms);
      if (process.env.BENCH_VERBOSE) ackTimes.push([Math.round(performance.now() - gwStarted - res.ms), Math.round(res.ms)]);
    });
    if (process.env.BENCH_VERBOSE) process.stdout.write(`  slowest acks [sent at ms, took ms]: ${JSON.stringify([...ackTimes].sort((x, y) => y[1] - x[1]).slice(0, 40))}\n`);
    const gwBurstMs = performance.now() - gwStarted;
    bursting = false;
    await probe;
    await waitFor('the gateway votes counted', () => counted(handles.gw));
    const gwCountedMs = performance.now() - gwStarted;

    // ---- raw baseline: the same votes as signals straight to Temporal ---------------------------
    const rawVotes = plan(handles.raw.map((h) => h.workflowId));
    const rawSends = withRetries(rawVotes.map((v, n) => ({
      lifecycleId: v.lifecycleId,
      vote: {
        idempotencyKey: `raw:${n}`,
        candidateId: v.candidateId,
        value: v.reaction === '+1' ? 'up' : 'down',
        rater: pseudonymiseRater(Buffer.from(RATER_KEY), 'slack', v.user),
        channel: 'slack',
        castAt: new Date().toISOString(),
      } satisfies VoteRequest,
    })), random);
    const signalMs: number[] = [];
    const rawStarted = performance.now();
    await pool(rawSends, CONCURRENCY, async ({ item }) => {
      const t = performance.now();
      await client.workflow.getHandle(item.lifecycleId).signal(voteSignal, item.vote);
      signalMs.push(performance.now() - t);
    });
    const rawBurstMs = performance.now() - rawStarted;
    await waitFor('the raw votes counted', () => counted(handles.raw));
    const rawCountedMs = performance.now() - rawStarted;

    // ---- commit, then count rows ----------------------------------------------------------------
    await Promise.all(all.map((h) => h.signal(closeSignal, { reason: 'bench done' })));
    const summaries = new Map<string, LifecycleSummary>();
    for (const h of all) summaries.set(h.workflowId, (await h.result()) as LifecycleSummary);
    const committed = (hs: Handle[]) => hs.reduce((n, h) => n + summaries.get(h.workflowId)!.rowsCommitted, 0);
    const config = loadConfig({ PREFLINE_DATA_DIR: dataDir });
    const rows = async (hs: Handle[]) => {
      const ids = hs.map((h) => `'${h.workflowId}'`).join(',');
      const { rows: [row] } = await queryLedger(config, `SELECT count(*)::INT AS n, count(DISTINCT idempotency_key)::INT AS keys FROM votes WHERE lifecycle_id IN (${ids})`);
      return row as { n: number; keys: number };
    };
    const gw = { sends: gwSends.length, p50: percentile(ackMs, 50), p99: percentile(ackMs, 99), max: Math.max(...ackMs), burstMs: gwBurstMs, countedMs: gwCountedMs, committed: committed(handles.gw), rows: await rows(handles.gw) };
    const raw = { sends: rawSends.length, p50: percentile(signalMs, 50), p99: percentile(signalMs, 99), max: Math.max(...signalMs), burstMs: rawBurstMs, countedMs: rawCountedMs, committed: committed(handles.raw), rows: await rows(handles.raw) };

    const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
    const line = (name: string, a: number, b: number, ratio = true) =>
      `  ${name.padEnd(36)} ${fmt(a).padStart(9)} ${fmt(b).padStart(9)} ${ratio && b > 0 ? `${(a / b).toFixed(2)}×`.padStart(8) : ''}\n`;
    process.stdout.write(
      `\n  ${''.padEnd(36)} ${'gateway'.padStart(9)} ${'raw'.padStart(9)} ${'gw/raw'.padStart(8)}\n` +
        line('deliveries (incl. 10% repeats)', gw.sends, raw.sends, false) +
        line('ack (gw) / signal (raw) p50, ms', gw.p50, raw.p50) +
        line('ack (gw) / signal (raw) p99, ms', gw.p99, raw.p99) +
        line('ack (gw) / signal (raw) max, ms', gw.max, raw.max) +
        line('burst sent in, ms', gw.burstMs, raw.burstMs) +
        line('every vote counted after, ms', gw.countedMs, raw.countedMs) +
        line('votes committed', gw.committed, raw.committed, false) +
        line('ledger rows', gw.rows.n, raw.rows.n, false) +
        line('duplicates (rows − distinct votes)', gw.rows.n - gw.rows.keys + (gw.committed - total), raw.rows.n - raw.rows.keys + (raw.committed - total), false) +
        `  calibration: GET /healthz on the same gateway during the burst: p50 ${fmt(percentile(healthMs, 50))} ms, p99 ${fmt(percentile(healthMs, 99))} ms (${healthMs.length} probes)\n` +
        `  non-200 answers: ${non200}; live-tally edits on the stand-in: ${slack.callsOf('chat.update').length}; load average now ${loadavg()[0]!.toFixed(1)} on this machine\n`,
    );
    const duplicates = gw.rows.n - gw.rows.keys + (gw.committed - total);
    const ok = gw.p99 < 500 && duplicates === 0 && gw.committed === total && non200 === 0;
    process.stdout.write(`\n  targets: p99 ack < 500 ms ${gw.p99 < 500 ? 'met' : 'MISSED'}; 0 duplicates ${duplicates === 0 ? 'met' : 'MISSED'}; all ${total} votes committed ${gw.committed === total ? 'yes' : 'NO'}\n`);
    process.exitCode = ok ? 0 : 1;
  } finally {
    for (const p of processes) await p.kill('SIGTERM');
    await slack.close();
    await stopSharedTemporal();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
