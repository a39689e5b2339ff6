/**
 * bench/votes: many raters voting concurrently through the gateway on many open lifecycles, against raw
 * baselines measured in the same run on the same dev server:
 *   - raw updates: `voteUpdate` sent straight to Temporal (no gateway, no per-lifecycle limiter);
 *   - raw signals: `voteSignal` straight to Temporal (fire and forget; no answer for the rater).
 * Reports accepted votes/s, p50/p99 acknowledgement latency, committed votes/s, lost and duplicated
 * votes, a hot-lifecycle case that crosses Temporal's 10 in-flight updates limit, and lifecycles
 * completed per minute with the demo backend.
 *
 *   node dist/bench/votes.js [--votes 2000] [--lifecycles 20] [--concurrency 32]
 */
import { Client, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { queryLedger } from '../cli/query';
import { loadSecret } from '../config';
import { pseudonymiseRater } from '../core/pseudonym';
import { closeSignal, voteSignal, voteUpdate } from '../workflows/messages';
import type { LifecycleSummary, VoteRequest } from '../workflows/types';
import { waitForVoting } from '../test/helpers/temporal';
import {
  errorLines, fmt, formatCpu, installQuietRuntime, inviteSessions, numberFlags, percentile, postAsRater, ratePerSecond, runPool, startBenchStack, timedLine, withCpu,
  type BenchStack, type Timed,
} from './util';

interface VotesOptions {
  votes: number;
  lifecycles: number;
  concurrency: number;
  raters: number;
  duplicateShare: number;
}

async function startLifecycles(client: Client, stack: BenchStack, prefix: string, count: number, input: Record<string, unknown>): Promise<WorkflowHandle[]> {
  const handles = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      client.workflow.start('ratingLifecycle', { taskQueue: stack.config.taskQueue, workflowId: `${prefix}-${i}-${randomUUID().slice(0, 8)}`, args: [input] }),
    ),
  );
  for (const h of handles) await waitForVoting(h, 120_000);
  return handles;
}

async function closeAndCommit(handles: WorkflowHandle[]): Promise<{ wallMs: number; rowsCommitted: number; votesAccepted: number }> {
  const t0 = performance.now();
  await Promise.all(handles.map((h) => h.signal(closeSignal, { reason: 'bench' })));
  const summaries = (await Promise.all(handles.map((h) => h.result()))) as LifecycleSummary[];
  return {
    wallMs: performance.now() - t0,
    rowsCommitted: summaries.reduce((n, s) => n + s.rowsCommitted, 0),
    votesAccepted: summaries.reduce((n, s) => n + s.votesAccepted, 0),
  };
}

async function ledgerCounts(stack: BenchStack, ids: string[]): Promise<{ rows: number; distinctKeys: number }> {
  const list = ids.map((id) => `'${id.replace(/'/g, "''")}'`).join(',');
  const { rows } = await queryLedger(stack.config, `SELECT count(*)::INT AS n, count(DISTINCT run_id || idempotency_key)::INT AS d FROM votes WHERE lifecycle_id IN (${list})`);
  return { rows: Number(rows[0]?.n), distinctKeys: Number(rows[0]?.d) };
}

function line(name: string, t: Timed, baseline?: Timed): string {
  return timedLine(name, 'votes', t, baseline ? ratePerSecond(baseline) : undefined);
}

export async function benchVotes(options: Partial<VotesOptions> = {}): Promise<Record<string, number>> {
  installQuietRuntime();
  const o: VotesOptions = { votes: 2000, lifecycles: 20, concurrency: 32, raters: 200, duplicateShare: 0.1, ...options };
  // Every rater signs in from this one address: no sign-in limit (votes per rater stay limited as deployed).
  const stack = await startBenchStack('votes', { PREFLINE_WEB_SIGNINS_PER_HOUR: '0' });
  // The same kind of connection the gateway uses, so the baseline differs only by the gateway itself.
  const connection = await NativeConnection.connect({ address: stack.server.address });
  const client = new Client({ connection });
  const raterKey = loadSecret(stack.config, 'rater');
  const results: Record<string, number> = {};
  try {
    const input = { prompt: 'benchmark', model: 'demo:text', candidates: 4, totalVotes: 10_000, deadline: '2h' };

    // --- Raw baseline: the same shape of load as updates straight to Temporal.
    const rawVote = (i: number): VoteRequest => ({
      idempotencyKey: `raw:${randomUUID()}`, candidateId: `c${(Math.floor(i / o.lifecycles) % 4) + 1}`, value: i % 3 === 0 ? 'down' : 'up',
      rater: pseudonymiseRater(raterKey, 'web', `rater ${i % o.raters}`), channel: 'web', castAt: new Date().toISOString(),
    });
    // Sessions for every rater of the gateway path, redeemed from invite links as raters do by default.
    const sessions = await inviteSessions(stack, o.raters);

    // Warm-up on throwaway lifecycles (JIT, connections, SQLite pages), then the measured runs in the order
    // raw → gateway → raw again, so drift over the run (a growing database) is visible and averaged out.
    const warm = await startLifecycles(client, stack, 'bench-warm', 4, input);
    await runPool(200, o.concurrency, async (i) => {
      const v = rawVote(i);
      await warm[i % 4]!.executeUpdate(voteUpdate, { args: [v] });
      await postAsRater(stack, `/api/lifecycles/${warm[(i + 1) % 4]!.workflowId}/votes`, sessions[i % o.raters]!,
        { candidateId: 'c1', value: 'up', idempotencyKey: `warm${randomUUID().replace(/-/g, '')}` });
    });
    await closeAndCommit(warm);

    const rawHandles = await startLifecycles(client, stack, 'bench-raw', o.lifecycles, input);
    const { result: raw, cpu: rawCpu } = await withCpu(stack, () => runPool(o.votes, o.concurrency, async (i) => {
      const v = rawVote(i);
      await rawHandles[i % o.lifecycles]!.executeUpdate(voteUpdate, { args: [v], updateId: `u-${v.idempotencyKey}` });
    }));

    // --- Gateway path: sessions for every rater, then votes (10% re-delivered with the same key).
    const gatewayHandles = await startLifecycles(client, stack, 'bench-gw', o.lifecycles, input);
    const sentKeys: Array<{ rater: number; key: string; lifecycle: number; candidate: number }> = [];
    const { result: gateway, cpu: gatewayCpu } = await withCpu(stack, () => runPool(o.votes, o.concurrency, async (i) => {
      const repeat = i > 0 && (i * 7919) % 100 < o.duplicateShare * 100 ? sentKeys[(i * 31) % sentKeys.length] : undefined;
      const spec = repeat ?? { rater: i % o.raters, key: `k${randomUUID().replace(/-/g, '')}`, lifecycle: i % o.lifecycles, candidate: Math.floor(i / o.lifecycles) % 4 };
      if (!repeat) sentKeys.push(spec);
      const res = await postAsRater(stack, `/api/lifecycles/${gatewayHandles[spec.lifecycle]!.workflowId}/votes`, sessions[spec.rater]!,
        { candidateId: `c${spec.candidate + 1}`, value: i % 3 === 0 ? 'down' : 'up', idempotencyKey: spec.key });
      if (res.status !== 200) throw new Error(`HTTP ${res.status} ${res.text}`);
    }));
    const uniqueGatewayVotes = sentKeys.length;

    const rawHandles2 = await startLifecycles(client, stack, 'bench-raw2', o.lifecycles, input);
    const { result: raw2 } = await withCpu(stack, () => runPool(o.votes, o.concurrency, async (i) => {
      const v = rawVote(i);
      await rawHandles2[i % o.lifecycles]!.executeUpdate(voteUpdate, { args: [v], updateId: `u-${v.idempotencyKey}` });
    }));
    const rawRate = ((raw.ok / raw.wallMs + raw2.ok / raw2.wallMs) / 2) * 1000;

    // --- Raw signals: what a fire-and-forget source costs.
    const signalHandles = await startLifecycles(client, stack, 'bench-sig', o.lifecycles, input);
    const signals = await runPool(o.votes, o.concurrency, async (i) => {
      await signalHandles[i % o.lifecycles]!.signal(voteSignal, rawVote(i));
    });

    // --- Commit: close everything; every accepted vote must be committed exactly once.
    const commitGateway = await closeAndCommit(gatewayHandles);
    const commitRaw = await closeAndCommit([...rawHandles, ...rawHandles2]);
    const commitSignals = await closeAndCommit(signalHandles);
    const gwLedger = await ledgerCounts(stack, gatewayHandles.map((h) => h.workflowId));

    // --- Hot lifecycle: every rater on one lifecycle, above Temporal's 10 in-flight updates per workflow.
    const [hotGw] = await startLifecycles(client, stack, 'bench-hot-gw', 1, input);
    const [hotRaw] = await startLifecycles(client, stack, 'bench-hot-raw', 1, input);
    const hotVotes = Math.min(600, o.votes);
    const hotGateway = await runPool(hotVotes, o.concurrency, async (i) => {
      const res = await postAsRater(stack, `/api/lifecycles/${hotGw!.workflowId}/votes`, sessions[i % o.raters]!,
        { candidateId: `c${(i % 4) + 1}`, value: 'up', idempotencyKey: `hot${randomUUID().replace(/-/g, '')}` });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    });
    const hotRawResult = await runPool(hotVotes, o.concurrency, async (i) => {
      const v = rawVote(i);
      await hotRaw!.executeUpdate(voteUpdate, { args: [v] });
    });
    const hotCommit = await closeAndCommit([hotGw!, hotRaw!]);

    // --- Lifecycles per minute with the demo backend: start, generate, publish, one vote, commit, close.
    const perMinuteCount = 30;
    const t0 = performance.now();
    const quick = await startLifecycles(client, stack, 'bench-lpm', perMinuteCount, { prompt: 'quick', model: 'demo:shapes', candidates: 2, totalVotes: 1 });
    await Promise.all(quick.map((h) => h.executeUpdate(voteUpdate, { args: [rawVote(1)] })));
    await Promise.all(quick.map((h) => h.result()));
    const lifecyclesPerMinute = (perMinuteCount / (performance.now() - t0)) * 60_000;

    const lines = [
      `bench/votes: ${o.votes} votes, ${o.lifecycles} lifecycles, ${o.raters} raters, concurrency ${o.concurrency}, ${Math.round(o.duplicateShare * 100)}% re-deliveries on the gateway path`,
      `dev server: SQLite file, journal_mode=WAL, synchronous=NORMAL (ops/dev-server.ts defaults, as prefline up)`,
      line('raw updates (baseline, before)', raw),
      line('gateway (HTTP → update)', gateway),
      line('raw updates (baseline, after)', raw2),
      `gateway / raw (mean of before and after): ${fmt((gateway.ok / gateway.wallMs) * 1000 / rawRate, 2)}×   p99 gateway ${fmt(percentile(gateway.latenciesMs, 99))} ms vs raw ${fmt(percentile([...raw.latenciesMs, ...raw2.latenciesMs], 99))} ms`,
      line('raw signals (no answer)', signals, raw),
      `cpu during raw updates: ${formatCpu(rawCpu)}`,
      `cpu during gateway votes: ${formatCpu(gatewayCpu)}`,
      `committed: gateway ${commitGateway.rowsCommitted} rows in ${fmt(commitGateway.wallMs, 0)} ms (${fmt((commitGateway.rowsCommitted / commitGateway.wallMs) * 1000)} votes/s); raw ${commitRaw.rowsCommitted} in ${fmt(commitRaw.wallMs, 0)} ms; signals ${commitSignals.rowsCommitted} in ${fmt(commitSignals.wallMs, 0)} ms`,
      `gateway path: ${uniqueGatewayVotes} distinct votes sent, ${commitGateway.votesAccepted} accepted, ${gwLedger.rows} ledger rows, lost ${uniqueGatewayVotes - gwLedger.distinctKeys}, duplicated ${gwLedger.rows - gwLedger.distinctKeys} (re-deliveries: ${o.votes - uniqueGatewayVotes})`,
      `signals: ${o.votes} sent, ${commitSignals.votesAccepted} accepted; raw updates: ${raw.ok + raw2.ok} acknowledged, ${commitRaw.votesAccepted} accepted`,
      line(`hot lifecycle, gateway (${hotVotes})`, hotGateway, hotRawResult),
      line(`hot lifecycle, raw updates (${hotVotes})`, hotRawResult),
      ...errorLines('raw hot', hotRawResult),
      `hot commits: ${hotCommit.rowsCommitted} rows (gateway ${hotGateway.ok} + raw ${hotRawResult.ok} acknowledged)`,
      `lifecycles completed per minute (demo:shapes, 2 candidates, 1 vote, ${perMinuteCount} concurrent): ${fmt(lifecyclesPerMinute)}`,
    ];
    lines.push(...errorLines('gateway', gateway));
    process.stdout.write(lines.join('\n') + '\n');
    Object.assign(results, {
      gatewayVotesPerSec: (gateway.ok / gateway.wallMs) * 1000,
      rawVotesPerSec: rawRate,
      signalVotesPerSec: (signals.ok / signals.wallMs) * 1000,
      gatewayRatio: ((gateway.ok / gateway.wallMs) * 1000) / rawRate,
      gatewayP50: percentile(gateway.latenciesMs, 50),
      gatewayP99: percentile(gateway.latenciesMs, 99),
      rawP99: percentile(raw.latenciesMs, 99),
      lost: uniqueGatewayVotes - gwLedger.distinctKeys,
      duplicated: gwLedger.rows - gwLedger.distinctKeys,
      committedPerSec: (commitGateway.rowsCommitted / commitGateway.wallMs) * 1000,
      lifecyclesPerMinute,
    });
    return results;
  } finally {
    await connection.close();
    await stack.stop();
  }
}

if (require.main === module) {
  benchVotes(numberFlags(['votes', 'lifecycles', 'concurrency'])).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
