/**
 * bench/compare: raters answering compare lifecycles (issue 14) over the gateway, against raw updates in
 * the same run on the same dev server and the same lifecycles:
 *   - gateway: each simulated rater signs in from an invite as the rating page's raters do and answers
 *     with `POST /api/lifecycles/<id>/judgements` (session, rate limit, the order check against the
 *     rater's own presentation, the directory's per-lifecycle limiter and busy retries, the update);
 *   - raw updates: `judgeUpdate` sent straight to Temporal (no gateway, no limiter), before and after,
 *     so drift over the run (a growing database) is visible and averaged out.
 * Reports answers/s and p50/p99 acknowledgement latency with ratios to the raw baseline. Then it
 * re-delivers a share of the gateway answers (same keys, as a page retrying after a lost response
 * does: answered as the first time), closes a sample of the lifecycles and checks the ledger: every gateway answer to them once,
 * under the rater its session names and in the order that rater was shown (committing all 1,000 would
 * take minutes and measure the ledger, which bench/release does). A few minutes on two cores.
 *
 * The candidates are brought in as inline texts (ingestCandidates), so no inference runs.
 *
 *   node dist/bench/compare.js [--lifecycles 1000] [--answers 15] [--raters 300] [--concurrency 32] [--raw 3000] [--check 50] [--redeliver 500]
 */
import { Client, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { queryLedger } from '../cli/query';
import { loadSecret } from '../config';
import { presentationOrder } from '../core/presentation';
import { pseudonymiseRater } from '../core/pseudonym';
import { closeSignal, judgeUpdate, statusQuery } from '../workflows/messages';
import type { JudgementChoice, JudgementRequest, LifecycleSummary } from '../workflows/types';
import {
  errorLines, fmt, formatCpu, installQuietRuntime, inviteSessions, numberFlags, percentile, postAsRater, ratePerSecond, runPool, startBenchStack, timedLine, withCpu,
  type BenchStack, type RaterSession,
} from './util';

interface CompareOptions {
  lifecycles: number;
  /** Answers per lifecycle over the gateway, each from a different rater. */
  answers: number;
  raters: number;
  concurrency: number;
  /** Raw baseline answers (half before, half after): a sample is enough for a rate and a p99. */
  raw: number;
  /** Lifecycles closed at the end and checked in the ledger (the others end with the stack). */
  check: number;
  /** Gateway answers to the checked lifecycles sent again with the same key (not timed): each must count once. */
  redeliver: number;
}

const CHOICES: readonly JudgementChoice[] = ['left', 'right', 'left', 'right', 'tie', 'both_bad'];
const COMPARE_INPUT = {
  task: 'compare', prompt: 'benchmark', responses: 10_000, deadline: '2h',
  candidates: [{ text: 'the first answer', model: 'model-a' }, { text: 'the second answer', model: 'model-b' }],
};

/** Starts `count` compare lifecycles, a few hundred at a time, and waits until every one takes answers. */
async function startCompareLifecycles(client: Client, taskQueue: string, prefix: string, count: number): Promise<WorkflowHandle[]> {
  const handles: WorkflowHandle[] = [];
  await runPool(count, 64, async (i) => {
    handles[i] = await client.workflow.start('ratingLifecycle', { taskQueue, workflowId: `${prefix}-${i}-${randomUUID().slice(0, 8)}`, args: [COMPARE_INPUT] });
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

/** One answer as the rating page sends it; `key` is the page's idempotency key (the gateway prefixes it with `web:<rater>:`). */
interface PageAnswer {
  lifecycleId: string;
  session: RaterSession;
  left: string;
  right: string;
  choice: JudgementChoice;
  key: string;
  /** What the gateway answered the first time. */
  outcome?: string;
}

/** Sends `answer` through the gateway and returns the outcome; anything but 200 is a failure of the run. */
async function sendAnswer(stack: BenchStack, answer: PageAnswer): Promise<string> {
  const res = await postAsRater(stack, `/api/lifecycles/${encodeURIComponent(answer.lifecycleId)}/judgements`, answer.session, {
    left: answer.left, right: answer.right, choice: answer.choice, idempotencyKey: answer.key,
  });
  if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.text}`);
  return (JSON.parse(res.text) as { outcome: string }).outcome;
}

export async function benchCompare(options: Partial<CompareOptions> = {}): Promise<Record<string, number>> {
  installQuietRuntime();
  const o: CompareOptions = { lifecycles: 1000, answers: 15, raters: 300, concurrency: 32, raw: 3000, check: 50, redeliver: 500, ...options };
  if (o.answers > o.raters) throw new Error(`--answers ${o.answers}: each answer to a lifecycle comes from another rater, so at most --raters (${o.raters})`);
  // Every rater signs in from this one address: no sign-in limit (answers per rater stay limited as deployed).
  const stack = await startBenchStack('compare', { PREFLINE_WEB_SIGNINS_PER_HOUR: '0' });
  const connection = await NativeConnection.connect({ address: stack.server.address });
  const client = new Client({ connection });
  const raterKey = loadSecret(stack.config, 'rater');
  // The raw baseline's raters: other pseudonyms than the gateway's, so no answer of one run changes another's.
  const rawRaters = Array.from({ length: o.raters }, (_, r) => pseudonymiseRater(raterKey, 'web', `raw rater ${r}`));
  try {
    const t0 = performance.now();
    const sessions = await inviteSessions(stack, o.raters);
    const handles = await startCompareLifecycles(client, stack.config.taskQueue, 'bench-cmp', o.lifecycles);
    const startMs = performance.now() - t0;
    const total = o.lifecycles * o.answers;
    /**
     * The i-th answer of a run: lifecycles round-robin; round r of lifecycle l from rater (7·l + r) mod
     * raters, so a lifecycle's answers (r < answers ≤ raters) come from distinct raters, every rater
     * answers about as often, and the answers in flight at once are from different raters.
     */
    const raterOf = (i: number) => (((i % o.lifecycles) * 7) + Math.floor(i / o.lifecycles)) % o.raters;
    const pageAnswer = (prefix: string, i: number): PageAnswer => {
      const lifecycleId = handles[i % o.lifecycles]!.workflowId;
      const session = sessions[raterOf(i)]!;
      const [left, right] = presentationOrder(lifecycleId, session.rater, ['c1', 'c2'] as const);
      return { lifecycleId, session, left, right, choice: CHOICES[i % CHOICES.length]!, key: `${prefix}${randomUUID().replace(/-/g, '')}` };
    };
    const rawAnswer = (run: string, i: number): { handle: WorkflowHandle; request: JudgementRequest } => {
      const handle = handles[i % o.lifecycles]!;
      const rater = rawRaters[raterOf(i)]!;
      const [left, right] = presentationOrder(handle.workflowId, rater, ['c1', 'c2'] as const);
      return {
        handle,
        request: { idempotencyKey: `${run}:${randomUUID().slice(0, 8)}`, rater, raterAuth: 'invite', channel: 'web', castAt: new Date().toISOString(), left, right, choice: CHOICES[i % CHOICES.length]! },
      };
    };
    const raw = (run: string, offset: number) => runPool(Math.floor(o.raw / 2), o.concurrency, async (i) => {
      const { handle, request } = rawAnswer(run, offset + i);
      await handle.executeUpdate(judgeUpdate, { args: [request], updateId: `u-${request.idempotencyKey}` });
    });

    // Warm-up (JIT, connections, SQLite pages, the gateway's sessions and pair cache), not measured, on
    // lifecycles of its own: raw answers and gateway answers from every session (one each; the rate
    // limit's burst leaves room for the measured ones).
    const warm = await startCompareLifecycles(client, stack.config.taskQueue, 'bench-cmp-warm', 4);
    await runPool(Math.min(300, o.raw), o.concurrency, async (i) => {
      const { request } = rawAnswer('warm', i);
      await warm[i % 4]!.executeUpdate(judgeUpdate, { args: [request] });
    });
    await runPool(o.raters, o.concurrency, async (i) => {
      const lifecycleId = warm[i % 4]!.workflowId;
      const [left, right] = presentationOrder(lifecycleId, sessions[i]!.rater, ['c1', 'c2'] as const);
      await sendAnswer(stack, { lifecycleId, session: sessions[i]!, left, right, choice: 'tie', key: `warm${randomUUID().replace(/-/g, '')}` });
    });
    const { result: rawBefore, cpu: rawCpu } = await withCpu(stack, () => raw('raw1', 0));
    const sent: PageAnswer[] = [];
    const { result: viaGateway, cpu: gatewayCpu } = await withCpu(stack, () => runPool(total, o.concurrency, async (i) => {
      const answer = pageAnswer('k', i);
      sent.push(answer);
      answer.outcome = await sendAnswer(stack, answer);
    }));
    const rawAfter = await raw('raw2', Math.floor(o.raw / 2));
    const rawRate = (ratePerSecond(rawBefore) + ratePerSecond(rawAfter)) / 2;
    const gatewayRate = ratePerSecond(viaGateway);
    const rawP99 = percentile([...rawBefore.latenciesMs, ...rawAfter.latenciesMs], 99);
    const gatewayP99 = percentile(viaGateway.latenciesMs, 99);

    // The sample checked in the ledger; a share of its gateway answers delivered again. Each is answered as
    // the first time (the directory's update id is the key, and Temporal returns an update's first result) or `duplicate`.
    const checked = handles.filter((_, i) => i % Math.max(1, Math.floor(o.lifecycles / o.check)) === 0).slice(0, o.check);
    const ids = new Set(checked.map((h) => h.workflowId));
    const toChecked = sent.filter((a) => ids.has(a.lifecycleId));
    const redelivered = await runPool(Math.min(o.redeliver, toChecked.length), o.concurrency, async (i) => {
      const answer = toChecked[(i * 7919) % toChecked.length]!;
      const outcome = await sendAnswer(stack, answer);
      if (outcome !== answer.outcome && outcome !== 'duplicate') throw new Error(`a re-delivery answered ${outcome}, the first delivery ${answer.outcome}`);
    });

    // Close the sample; every gateway answer to it must be in the ledger once, as its rater sent it.
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
    const { rows } = await queryLedger(stack.config, `SELECT count(*)::INT AS n, count(DISTINCT run_id || idempotency_key)::INT AS d,
          list(idempotency_key || ' ' || rater || ' ' || rater_auth || ' ' || left_candidate || ' ' || right_candidate || ' ' || choice) FILTER (WHERE idempotency_key LIKE 'web:%') AS web
        FROM judgements WHERE list_contains($1::VARCHAR[], lifecycle_id)`, [JSON.stringify([...ids])]);
    const [ledgerRows, distinct] = [Number(rows[0]?.['n']), Number(rows[0]?.['d'])];
    const inLedger = new Map(((rows[0]?.['web'] as string[] | null) ?? []).map((line) => [line.split(' ')[0]!, line]));
    // What the ledger must hold for each answer: the gateway's key, the session's rater signed in by invite, the order shown, the choice.
    const expected = (a: PageAnswer) => [`web:${a.session.rater}:${a.key}`, a.session.rater, 'invite', a.left, a.right, a.choice].join(' ');
    const lost = toChecked.filter((a) => !inLedger.has(`web:${a.session.rater}:${a.key}`)).length;
    const altered = toChecked.filter((a) => inLedger.has(`web:${a.session.rater}:${a.key}`) && inLedger.get(`web:${a.session.rater}:${a.key}`) !== expected(a)).length;

    const lines = [
      `bench/compare: ${o.lifecycles} compare lifecycles × ${o.answers} answers from ${o.raters} raters over the gateway (${total} answers), concurrency ${o.concurrency}; raw baseline ${o.raw} answers from ${o.raters} other raters, half before and half after`,
      `dev server: SQLite file (WAL) as prefline up; raters signed in from invites; candidates brought as inline texts; ${o.lifecycles} lifecycles voting after ${fmt(startMs / 1000, 1)} s`,
      timedLine('raw updates (before)', 'answers', rawBefore, undefined, 30),
      timedLine('gateway (HTTP → update)', 'answers', viaGateway, rawRate, 30),
      timedLine('raw updates (after)', 'answers', rawAfter, undefined, 30),
      `gateway / raw (mean of before and after): ${fmt(gatewayRate / rawRate, 2)}× answers/s;  p99 ${fmt(gatewayP99)} ms vs raw ${fmt(rawP99)} ms (${fmt(gatewayP99 / rawP99, 2)}×)`,
      `cpu during raw updates: ${formatCpu(rawCpu)}`,
      `cpu during gateway answers: ${formatCpu(gatewayCpu)}`,
      timedLine(`re-delivered (same key, ${redelivered.ok + redelivered.failed})`, 'answers', redelivered, undefined, 30),
      `committed (${checked.length} lifecycles closed): ${ledgerRows} judgement rows of ${accepted} accepted answers in ${fmt(commitMs / 1000, 1)} s; duplicated ${ledgerRows - distinct}; ` +
        `gateway answers to them ${toChecked.length}, not in the ledger ${lost}, with another rater, sign-in, order or choice ${altered}`,
      ...errorLines('gateway', viaGateway),
      ...errorLines('re-delivery', redelivered),
      ...errorLines('raw', rawBefore, rawAfter),
    ];
    process.stdout.write(lines.join('\n') + '\n');
    return {
      gatewayAnswersPerSec: gatewayRate, rawAnswersPerSec: rawRate, ratio: gatewayRate / rawRate,
      gatewayP99, rawP99, p99Ratio: gatewayP99 / rawP99, lost: lost + (accepted - ledgerRows), duplicated: ledgerRows - distinct, altered,
    };
  } finally {
    await connection.close();
    await stack.stop();
  }
}

if (require.main === module) {
  benchCompare(numberFlags(['lifecycles', 'answers', 'raters', 'concurrency', 'raw', 'check', 'redeliver'])).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
