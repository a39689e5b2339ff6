/**
 * bench/compare: raters answering compare lifecycles (issue 14), against raw updates in the same run on
 * the same dev server and the same lifecycles:
 *   - directory: judgements through TemporalLifecycleDirectory.judge, the gateway's path to Temporal (its
 *     per-lifecycle limiter and busy retries);
 *   - raw updates: `judgeUpdate` sent straight to Temporal (no limiter), before and after, so drift over
 *     the run (a growing database) is visible and averaged out.
 * Reports answers/s and p50/p99 acknowledgement latency with ratios to the raw baseline, then closes a
 * sample of the lifecycles and checks that each of their accepted answers is in the ledger exactly once
 * (committing all 1,000 would take minutes and measure the ledger, which bench/release does). At the
 * default size it runs in a few minutes on two cores.
 *
 * TODO(lead): switch the measured path to the gateway's web judgement route (HTTP → judge) once the
 * channels work lands it; this base has no such route, so the bench drives the directory the route
 * would call, from this process (like bench/votes' raw path), and the HTTP hop is not measured.
 *
 * The candidates are brought in as inline texts (ingestCandidates), so no inference runs.
 *
 *   node dist/bench/compare.js [--lifecycles 1000] [--answers 15] [--raters 300] [--concurrency 32] [--raw 3000] [--check 50]
 */
import { Client, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { queryLedger } from '../cli/query';
import { loadSecret } from '../config';
import { presentationOrder } from '../core/presentation';
import { pseudonymiseRater } from '../core/pseudonym';
import { TemporalLifecycleDirectory } from '../core/temporal-directory';
import { createLogger } from '../ops/log';
import { closeSignal, judgeUpdate, statusQuery } from '../workflows/messages';
import type { JudgementChoice, JudgementRequest, LifecycleSummary } from '../workflows/types';
import { fmt, formatCpu, percentile, runPool, startBenchStack, withCpu, type Timed } from './util';

interface CompareOptions {
  lifecycles: number;
  /** Answers per lifecycle through the directory (the raw baseline sends as many, half before and half after). */
  answers: number;
  raters: number;
  concurrency: number;
  /** Raw baseline answers (half before, half after): a sample is enough for a rate and a p99. */
  raw: number;
  /** Lifecycles closed at the end and checked in the ledger (the others end with the stack). */
  check: number;
}

const CHOICES: readonly JudgementChoice[] = ['left', 'right', 'left', 'right', 'tie', 'both_bad'];

function line(name: string, t: Timed, baseline?: number): string {
  const rate = (t.ok / t.wallMs) * 1000;
  return `${name.padEnd(30)} ${fmt(rate).padStart(8)} answers/s  p50 ${fmt(percentile(t.latenciesMs, 50)).padStart(6)} ms  p99 ${fmt(percentile(t.latenciesMs, 99)).padStart(7)} ms  ok ${t.ok}  failed ${t.failed}${baseline ? `  ratio ${fmt(rate / baseline, 2)}×` : ''}`;
}

/** Starts `count` compare lifecycles, a few hundred at a time, and waits until every one takes answers. */
async function startCompareLifecycles(client: Client, taskQueue: string, count: number): Promise<WorkflowHandle[]> {
  const input = {
    task: 'compare', prompt: 'benchmark', responses: 10_000, deadline: '2h',
    candidates: [{ text: 'the first answer', model: 'model-a' }, { text: 'the second answer', model: 'model-b' }],
  };
  const handles: WorkflowHandle[] = [];
  await runPool(count, 64, async (i) => {
    handles[i] = await client.workflow.start('ratingLifecycle', { taskQueue, workflowId: `bench-cmp-${i}-${randomUUID().slice(0, 8)}`, args: [input] });
  });
  const deadline = Date.now() + 10 * 60_000;
  await runPool(count, 32, async (i) => {
    for (;;) {
      if ((await handles[i]!.query(statusQuery)).phase === 'voting') return;
      if (Date.now() > deadline) throw new Error(`${handles[i]!.workflowId} did not open voting`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  return handles;
}

/** The lifecycle an answer's idempotency key names (`run:lifecycle:nonce`). */
function handleOfKey(key: string): string {
  return key.split(':')[1] ?? '';
}

export async function benchCompare(options: Partial<CompareOptions> = {}): Promise<Record<string, number>> {
  // Core's own retries of RESOURCE_EXHAUSTED (raw updates have no limiter) are expected here: keep them quiet.
  Runtime.install({ logger: createLogger('bench', 'error'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } } });
  const o: CompareOptions = { lifecycles: 1000, answers: 15, raters: 300, concurrency: 32, raw: 3000, check: 50, ...options };
  const stack = await startBenchStack('compare');
  const connection = await NativeConnection.connect({ address: stack.server.address });
  const client = new Client({ connection });
  const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 60_000 });
  const raterKey = loadSecret(stack.config, 'rater');
  const raterIds = Array.from({ length: o.raters * 2 }, (_, r) => pseudonymiseRater(raterKey, 'web', `rater ${r}`));
  try {
    const t0 = performance.now();
    const handles = await startCompareLifecycles(client, stack.config.taskQueue, o.lifecycles);
    const startMs = performance.now() - t0;
    const total = o.lifecycles * o.answers;
    /**
     * The i-th answer of a run: lifecycles round-robin, each lifecycle's answers from distinct raters of
     * the run's half of the rater pool (the directory's raters 0..raters-1, the raw baseline's the others).
     */
    const answer = (run: string, pool: number, i: number): { handle: WorkflowHandle; request: JudgementRequest } => {
      const handle = handles[i % o.lifecycles]!;
      const round = Math.floor(i / o.lifecycles);
      const rater = raterIds[pool * o.raters + ((i * 7 + round * 13) % o.raters)]!;
      const [left, right] = presentationOrder(handle.workflowId, rater, ['c1', 'c2'] as const);
      return {
        handle,
        request: { idempotencyKey: `${run}:${handle.workflowId}:${randomUUID().slice(0, 8)}`, rater, raterAuth: 'invite', channel: 'web', castAt: new Date().toISOString(), left, right, choice: CHOICES[i % CHOICES.length]! },
      };
    };
    const raw = (run: string, offset: number) => runPool(Math.floor(o.raw / 2), o.concurrency, async (i) => {
      const { handle, request } = answer(run, 1, offset + i);
      await handle.executeUpdate(judgeUpdate, { args: [request], updateId: `u-${request.idempotencyKey}` });
    });

    // Warm-up (JIT, connections, SQLite pages), not measured: raw answers from the baseline's raters.
    await runPool(Math.min(300, o.raw), o.concurrency, async (i) => {
      const { handle, request } = answer('warm', 1, o.raw + i);
      await handle.executeUpdate(judgeUpdate, { args: [request] });
    });
    const { result: rawBefore, cpu: rawCpu } = await withCpu(stack, () => raw('raw1', 0));
    const sent = new Set<string>();
    const { result: viaDirectory, cpu: directoryCpu } = await withCpu(stack, () => runPool(total, o.concurrency, async (i) => {
      const { handle, request } = answer('dir', 0, i);
      sent.add(request.idempotencyKey);
      await directory.judge(handle.workflowId, request);
    }));
    const rawAfter = await raw('raw2', Math.floor(o.raw / 2));
    const rawRate = ((rawBefore.ok / rawBefore.wallMs + rawAfter.ok / rawAfter.wallMs) / 2) * 1000;
    const directoryRate = (viaDirectory.ok / viaDirectory.wallMs) * 1000;
    const rawP99 = percentile([...rawBefore.latenciesMs, ...rawAfter.latenciesMs], 99);
    const directoryP99 = percentile(viaDirectory.latenciesMs, 99);

    // Close a sample; every answer they accepted must be in the ledger once.
    const checked = handles.filter((_, i) => i % Math.max(1, Math.floor(o.lifecycles / o.check)) === 0).slice(0, o.check);
    const c0 = performance.now();
    await runPool(checked.length, 32, async (i) => {
      await checked[i]!.signal(closeSignal, { reason: 'bench' });
    });
    const summaries: LifecycleSummary[] = [];
    await runPool(checked.length, 32, async (i) => {
      summaries[i] = (await checked[i]!.result()) as LifecycleSummary;
    });
    const commitMs = performance.now() - c0;
    const accepted = summaries.reduce((n, s) => n + s.votesAccepted, 0);
    const ids = checked.map((h) => h.workflowId);
    const { rows } = await queryLedger(stack.config, `SELECT count(*)::INT AS n, count(DISTINCT run_id || idempotency_key)::INT AS d, list(idempotency_key) FILTER (WHERE idempotency_key LIKE 'dir:%') AS dir
        FROM judgements WHERE list_contains($1::VARCHAR[], lifecycle_id)`, [JSON.stringify(ids)]);
    const [ledgerRows, distinct] = [Number(rows[0]?.['n']), Number(rows[0]?.['d'])];
    const directoryInLedger = new Set((rows[0]?.['dir'] as string[] | null) ?? []);
    const directorySent = [...sent].filter((key) => ids.includes(handleOfKey(key)));
    const directoryLost = directorySent.filter((key) => !directoryInLedger.has(key)).length;

    const lines = [
      `bench/compare: ${o.lifecycles} compare lifecycles × ${o.answers} answers from ${o.raters} raters (${total} answers), concurrency ${o.concurrency}; raw baseline ${o.raw} answers from ${o.raters} other raters, half before and half after`,
      `dev server: SQLite file (WAL) as prefline up; candidates brought as inline texts; ${o.lifecycles} lifecycles voting after ${fmt(startMs / 1000, 1)} s`,
      line('raw updates (before)', rawBefore),
      line('directory (judge)', viaDirectory, rawRate),
      line('raw updates (after)', rawAfter),
      `directory / raw (mean of before and after): ${fmt(directoryRate / rawRate, 2)}× answers/s;  p99 ${fmt(directoryP99)} ms vs raw ${fmt(rawP99)} ms (${fmt(directoryP99 / rawP99, 2)}×)`,
      `cpu during raw updates: ${formatCpu(rawCpu)}`,
      `cpu during directory answers: ${formatCpu(directoryCpu)}`,
      `committed (${checked.length} lifecycles closed): ${ledgerRows} judgement rows of ${accepted} accepted answers in ${fmt(commitMs / 1000, 1)} s; duplicated ${ledgerRows - distinct}; directory answers to them ${directorySent.length}, not in the ledger ${directoryLost}`,
    ];
    for (const [m, n] of viaDirectory.errors) lines.push(`   directory errors ×${n}: ${m}`);
    for (const [m, n] of [...rawBefore.errors, ...rawAfter.errors]) lines.push(`   raw errors ×${n}: ${m}`);
    process.stdout.write(lines.join('\n') + '\n');
    return {
      directoryAnswersPerSec: directoryRate, rawAnswersPerSec: rawRate, ratio: directoryRate / rawRate,
      directoryP99, rawP99, p99Ratio: directoryP99 / rawP99, lost: directoryLost + (accepted - ledgerRows), duplicated: ledgerRows - distinct,
    };
  } finally {
    await connection.close();
    await stack.stop();
  }
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  benchCompare({
    ...(arg('lifecycles') ? { lifecycles: arg('lifecycles') } : {}),
    ...(arg('answers') ? { answers: arg('answers') } : {}),
    ...(arg('raters') ? { raters: arg('raters') } : {}),
    ...(arg('concurrency') ? { concurrency: arg('concurrency') } : {}),
    ...(arg('raw') ? { raw: arg('raw') } : {}),
    ...(arg('check') ? { check: arg('check') } : {}),
  }).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
