/**
 * Release benchmark: a synthetic ledger (A/B lifecycles of 10 votes each, 5% retractions) filled by
 * DuckDB itself (`INSERT … SELECT … FROM range(N)`), then `publishRelease` timed against plain
 * `COPY (SELECT * FROM <table>) TO parquet` of the same tables (zstd) in the same process.
 *
 *   node dist/bench/release.js [--votes 1000000] [--repeat 2] [--keep]
 *
 * Targets: release ≤ 1.25× the raw copies; peak RSS < 4 GB at 10M votes. It also times Ledger.commit
 * into the filled ledger: a commit that completes a lifecycle (and derives its scores and pairs, see
 * store/ledger-derived.ts) against one that leaves a vote to come (no derivation); and an analyst's
 * query through the read path, after a commit (a fresh copy of the ledger) and with none.
 */
import { createHash } from 'node:crypto';
import { constants, rmSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRelease } from '../releases/publisher';
import type { CommittedVote, CommitRequest } from '../store/ledger-types';
import type { Ledger } from '../store/Ledger';
import type { Candidate, LifecyclePlan } from '../workflows/types';
import { againstRaw, formatTiming, openBenchLedger, rawCopies, runReleaseBench, stepTimer, timeRun, type AgainstRaw, type Timing } from './util';

export interface BenchReleaseOptions {
  votes: number;
  /** Timed runs of each side, interleaved; the fastest counts (the machine is shared). */
  repeat?: number;
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface BenchReleaseResult extends AgainstRaw {
  votes: number;
  lifecycles: number;
  candidates: number;
  fillMs: number;
  /** Whole process, filling the ledger included. */
  peakRssMb: number;
  /** Sampled every 50 ms while releases were being published. */
  peakRssDuringReleaseMb: number;
  /** Ledger.commit of a lifecycle's only batch, which completes it and derives its scores and pairs. */
  commitP50Ms: number;
  /** The same commit with one vote still to come: everything but the derivation (the same-run baseline). */
  partialCommitP50Ms: number;
  /** An analyst's query (Ledger.queryIsolated) right after a commit: a fresh copy of the ledger, then the read process. */
  readAfterChangeMs: number;
  /** The same query again: the copy is reused, so only the read process. */
  readUnchangedMs: number;
  /** Copying the ledger for reads, which is how long commits wait for it. */
  readCopyMs: number;
  ledgerMb: number;
}

const VOTES_PER_LIFECYCLE = 10;

/** Model index of candidate k (0 or 1) of lifecycle i: two different models per lifecycle. */
const MODEL_A = 'i % 6';
const MODEL_B = '(i + 1 + (i // 6) % 5) % 6';

/** Fills an empty ledger with `lifecycles` synthetic A/B lifecycles (10 votes each) in three SQL statements. */
export async function fillSyntheticLedger(ledger: Ledger, lifecycles: number): Promise<void> {
  const votes = lifecycles * VOTES_PER_LIFECYCLE;
  await ledger.withConnection(async (c) => {
    const committed = `TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds((i * 2592000) // ${lifecycles})`;
    await c.run(
      `INSERT INTO lifecycles (run_id, lifecycle_id, prompt, models, candidates_per_model, channel, campaign, model_version, quorum_kind, quorum_votes,
                               params, started_at, deadline_at, closed_at, close_reason, votes_accepted, committed_at, started_from)
       SELECT 'run-' || i, 'lc-' || i, 'synthetic prompt #' || (i % 5000), ['bench:m' || ${MODEL_A}, 'bench:m' || ${MODEL_B}], 1, 'web', NULL, NULL,
              'perCandidate', 5, '{}'::JSON, ${committed} - INTERVAL 1 HOUR, ${committed}, ${committed}, 'quorum', ${VOTES_PER_LIFECYCLE}, ${committed}, 'unknown'
         FROM range(${lifecycles}) t(i)`,
    );
    await c.run(
      `INSERT INTO candidates (run_id, lifecycle_id, candidate_id, label, model, backend, model_version, kind, artifact_sha256, mime, size_bytes,
                               path, text, placeholder, seed, provenance, committed_at)
       SELECT 'run-' || i, 'lc-' || i, 'c' || (k + 1), chr(65 + k::INT), 'bench:m' || CASE k WHEN 0 THEN ${MODEL_A} ELSE ${MODEL_B} END, 'bench', NULL, 'text',
              h, 'text/plain', 120, 'sha256/' || h[1:2] || '/' || h || '.txt', 'synthetic candidate text ' || i || '/' || k, false, k, '{}'::JSON, ${committed}
         FROM (SELECT i, k, sha256(i::VARCHAR || '/' || k::VARCHAR) AS h FROM range(${lifecycles}) t(i), range(2) u(k))`,
    );
    // Model m's candidates get an up vote with probability 35% + 8%·m, so the leaderboard has a clear order.
    await c.run(
      `INSERT INTO votes (run_id, lifecycle_id, idempotency_key, seq, candidate_id, rater, kind, value, comment, channel, cast_at, accepted_at, committed_at, standing, rater_auth)
       SELECT 'run-' || i, 'lc-' || i, 'key-' || v, (v % ${VOTES_PER_LIFECYCLE} + 1)::INT, 'c' || (k + 1), 'r_' || lpad(to_hex(hash(v // 3) % 4000), 24, '0'),
              CASE WHEN retract THEN 'retract' ELSE 'vote' END,
              CASE WHEN retract THEN NULL WHEN hash(v * 31) % 100 < 35 + 8 * (CASE k WHEN 0 THEN ${MODEL_A} ELSE ${MODEL_B} END) THEN 1 ELSE -1 END::SMALLINT,
              CASE WHEN v % 50 = 0 THEN 'synthetic comment ' || v END, 'web',
              ${committed} - INTERVAL 30 MINUTE + to_seconds(v % ${VOTES_PER_LIFECYCLE}), ${committed} - INTERVAL 30 MINUTE + to_seconds(v % ${VOTES_PER_LIFECYCLE}),
              ${committed}, NOT retract AND v % 20 <> 1, 'invite'
         FROM (SELECT v, v // ${VOTES_PER_LIFECYCLE} AS i, hash(v) % 2 AS k, v % 20 = 0 AS retract FROM range(${votes}) t(v))`,
    );
  });
  // What Ledger.commit derives as each lifecycle completes (store/ledger-derived.ts), here in one go.
  await ledger.deriveCompleted();
  await ledger.withConnection((c) => c.run('CHECKPOINT'));
}

function syntheticCommit(n: number, complete: boolean): CommitRequest {
  const iso = (s: number) => new Date(Date.parse('2026-02-01T00:00:00Z') + s * 1000).toISOString();
  const plan: LifecyclePlan = {
    prompt: `bench commit #${n}`, models: ['bench:m0', 'bench:m1'], candidatesPerModel: 1, params: {}, channel: { kind: 'web' }, channelLabel: 'web',
    quorum: { kind: 'perCandidate', votes: 5 }, deadline: { kind: 'duration', ms: 3_600_000 },
  };
  const candidates: Candidate[] = [0, 1].map((k) => {
    const sha256 = createHash('sha256').update(`commit ${n}/${k}`).digest('hex');
    return {
      id: `c${k + 1}`, label: k ? 'B' : 'A', model: `bench:m${k}`, kind: 'text', text: `bench commit candidate ${n}/${k}`, placeholder: false,
      artifact: { sha256, mime: 'text/plain', size: 40, path: `sha256/${sha256.slice(0, 2)}/${sha256}.txt` },
      provenance: { backend: 'bench', model: `m${k}`, params: {}, seed: k, wallTimeMs: 1 },
    };
  });
  const votes: CommittedVote[] = Array.from({ length: VOTES_PER_LIFECYCLE }, (_, v) => ({
    idempotencyKey: `bench-commit-${n}-${v}`, candidateId: `c${(v % 2) + 1}`, value: v % 3 ? 'up' : 'down', rater: `r_${v.toString(16).padStart(24, '0')}`,
    channel: 'web', castAt: iso(v), seq: v + 1, acceptedAt: iso(v), standing: true,
  }));
  return {
    lifecycle: {
      lifecycleId: `bench-commit-${n}`, runId: `bench-commit-run-${n}`, plan, startedAt: iso(0), deadlineAt: iso(3600), closedAt: iso(60), closeReason: 'quorum',
      votesAccepted: votes.length + (complete ? 0 : 1),
    },
    candidates,
    votes,
  };
}

/**
 * The read path's cost (store/ledger-snapshots.ts, store/read-process.ts), median of `count` rounds:
 * a query right after a commit (copy + read process), the same query again (read process only), and
 * the copy alone, which is how long a commit waits for it.
 */
export async function benchReads(ledger: Ledger, count: number): Promise<{ afterChangeMs: number; unchangedMs: number; copyMs: number }> {
  const sql = 'SELECT count(*)::INT AS n FROM votes';
  const times = { afterChange: [] as number[], unchanged: [] as number[], copy: [] as number[] };
  for (let n = 0; n < count; n++) {
    await ledger.commit(syntheticCommit(1_000_000 + n, true));
    let t = performance.now();
    await ledger.queryIsolated(sql);
    times.afterChange.push(performance.now() - t);
    t = performance.now();
    await ledger.queryIsolated(sql);
    times.unchanged.push(performance.now() - t);
    const copy = join(tmpdir(), `prefline-bench-copy-${process.pid}-${n}.duckdb`);
    t = performance.now();
    await copyFile(ledger.path, copy, constants.COPYFILE_FICLONE);
    times.copy.push(performance.now() - t);
    rmSync(copy, { force: true });
  }
  const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { afterChangeMs: p50(times.afterChange), unchangedMs: p50(times.unchanged), copyMs: p50(times.copy) };
}

/** Commits `count` lifecycles of each kind, interleaved: completing ones, and ones still missing a vote. */
export async function benchCommits(ledger: Ledger, count: number): Promise<Record<'completing' | 'partial', { p50: number; p99: number }>> {
  const times = { completing: [] as number[], partial: [] as number[] };
  for (let n = 0; n < 2 * count; n++) {
    const complete = n % 2 === 0;
    const start = performance.now();
    await ledger.commit(syntheticCommit(n, complete));
    times[complete ? 'completing' : 'partial'].push(performance.now() - start);
  }
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
  return {
    completing: { p50: pct(times.completing, 0.5), p99: pct(times.completing, 0.99) },
    partial: { p50: pct(times.partial, 0.5), p99: pct(times.partial, 0.99) },
  };
}

const rssMb = () => process.resourceUsage().maxRSS / 1024;

export async function benchRelease(options: BenchReleaseOptions): Promise<BenchReleaseResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const lifecycles = Math.max(1, Math.floor(options.votes / VOTES_PER_LIFECYCLE));
  const votes = lifecycles * VOTES_PER_LIFECYCLE;
  const { ledger, dir, close } = await openBenchLedger(options, 'prefline-bench-release-');
  try {
    const t = performance.now();
    await fillSyntheticLedger(ledger, lifecycles);
    const fillMs = performance.now() - t;
    log(`filled ${votes.toLocaleString('en')} votes, ${lifecycles.toLocaleString('en')} lifecycles in ${(fillMs / 1000).toFixed(1)} s`);

    const raw = async (run: number): Promise<Timing> => {
      const { timing, line } = await rawCopies(ledger, join(dir, `raw-${run}`), [
        ['lifecycles', 'SELECT * FROM lifecycles'], ['candidates', 'SELECT * FROM candidates'],
        ['votes', 'SELECT * FROM votes WHERE standing'], ['vote_events', 'SELECT * FROM votes'],
      ]);
      log(`    ${line}`);
      return timing;
    };
    let peakDuringRelease = 0;
    const release = async (run: number): Promise<Timing> => {
      const sampler = setInterval(() => {
        peakDuringRelease = Math.max(peakDuringRelease, process.memoryUsage().rss / 2 ** 20);
      }, 50);
      const steps = stepTimer();
      const timing = await timeRun(join(dir, `releases-${run}`), async () => {
        const result = await publishRelease({ ledger, releasesDir: join(dir, `releases-${run}`), cutoff: new Date().toISOString(), afterStep: steps.afterStep })
          .finally(() => clearInterval(sampler));
        if (result.rows.votes === 0) throw new Error('bench: the release holds no votes');
        return result.dir;
      });
      log(`    ${steps.line()}`);
      return timing;
    };

    const runs: Array<{ raw: Timing; release: Timing }> = [];
    for (let r = 0; r < (options.repeat ?? 2); r++) {
      const a = await raw(r);
      const b = await release(r);
      log(`  run ${r + 1}: raw COPY ${formatTiming(a)}, release ${formatTiming(b)}: ${(b.ms / a.ms).toFixed(2)}× wall, ${(b.cpuMs / a.cpuMs).toFixed(2)}× cpu`);
      runs.push({ raw: a, release: b });
    }
    const commits = await benchCommits(ledger, 100);
    log(
      `  commit of a 10-vote A/B lifecycle into this ledger: completing it (derives scores and pairs) p50 ${commits.completing.p50.toFixed(1)} ms, ` +
        `p99 ${commits.completing.p99.toFixed(1)} ms; not completing it p50 ${commits.partial.p50.toFixed(1)} ms, p99 ${commits.partial.p99.toFixed(1)} ms: ` +
        `${(commits.completing.p50 / commits.partial.p50).toFixed(2)}× at p50`,
    );
    const reads = await benchReads(ledger, 5);
    const ledgerMb = statSync(ledger.path).size / 1e6;
    log(
      `  analyst query (own process over a copy): after a commit p50 ${reads.afterChangeMs.toFixed(0)} ms, unchanged ledger ${reads.unchangedMs.toFixed(0)} ms; ` +
        `copying the ${ledgerMb.toFixed(0)} MB ledger ${reads.copyMs.toFixed(0)} ms (commits wait that long, once per change)`,
    );
    const result: BenchReleaseResult = {
      votes,
      lifecycles,
      candidates: lifecycles * 2,
      fillMs,
      ...againstRaw(runs),
      peakRssMb: rssMb(),
      peakRssDuringReleaseMb: peakDuringRelease,
      commitP50Ms: commits.completing.p50,
      partialCommitP50Ms: commits.partial.p50,
      readAfterChangeMs: reads.afterChangeMs,
      readUnchangedMs: reads.unchangedMs,
      readCopyMs: reads.copyMs,
      ledgerMb,
    };
    log(
      [
        `votes               ${votes.toLocaleString('en')}`,
        `raw COPY (4 tables) ${(result.rawCopyMs / 1000).toFixed(2)} s   ${(result.rawBytes / 1e6).toFixed(1)} MB`,
        `release             ${(result.releaseMs / 1000).toFixed(2)} s   ${(result.releaseBytes / 1e6).toFixed(1)} MB (6 parquet files, card, report, manifest)`,
        `ratio               ${result.ratio.toFixed(2)}× fastest/fastest, ${result.medianPairRatio.toFixed(2)}× median of paired runs, ${result.cpuRatio.toFixed(2)}× CPU time   (target ≤ 1.25×)`,
        `peak RSS            ${result.peakRssMb.toFixed(0)} MB whole run (fill included), ${result.peakRssDuringReleaseMb.toFixed(0)} MB while publishing   (target < 4096 MB at 10M votes)`,
      ].join('\n'),
    );
    return result;
  } finally {
    close();
  }
}

if (require.main === module) runReleaseBench('votes', 10, (votes, options) => benchRelease({ votes, ...options }));
