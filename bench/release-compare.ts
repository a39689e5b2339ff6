/**
 * Release benchmark, compare variant: a synthetic ledger of compare lifecycles (two text candidates of
 * different models, 15 judgements each: ties 10%, both bad 5%, the rest by model strength; 5% of the
 * events superseded or withdrawn) filled by DuckDB itself, derived as the ledger derives completed
 * lifecycles, then `publishRelease` timed in the same process, interleaved, against
 *   - the baseline: a raw `COPY` of the judgements table (`SELECT * FROM judgements`) to
 *     parquet with the compression settings the release writes judgement_events with;
 *   - a broader one: plain `COPY … TO parquet` (zstd) of the ledger tables such a release holds —
 *     lifecycles, candidates, the standing judgements and every judgement event.
 *
 *   node dist/bench/release-compare.js [--judgements 1000000] [--repeat 2] [--keep]
 *
 * Target (issue 14): release ≤ 1.3× the raw copy of the judgements table. It also prints that ratio
 * without the CPU of the judgement_events step, the file that is itself that copy.
 */
import { join } from 'node:path';
import { publishRelease } from '../releases/publisher';
import { JUDGEMENT_PARQUET_OPTIONS } from '../releases/writer';
import type { Ledger } from '../store/Ledger';
import { againstRaw, fastest, formatTiming, median, openBenchLedger, rawCopies, runReleaseBench, stepTimer, timeRun, type AgainstRaw, type Timing } from './util';

const JUDGEMENTS_PER_LIFECYCLE = 15;
export interface BenchCompareReleaseOptions {
  judgements: number;
  repeat?: number;
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

/** Against the raw copy of the four tables (AgainstRaw), and of the judgements table alone (table*). */
export interface BenchCompareReleaseResult extends AgainstRaw {
  judgements: number;
  lifecycles: number;
  fillMs: number;
  /** The baseline: the fastest raw COPY of the judgements table. */
  tableCopyMs: number;
  /** Fastest release / fastest raw COPY of the judgements table (wall clock). */
  tableRatio: number;
  /** Median over interleaved runs of release / judgements-table copy, process CPU time. */
  tableCpuRatio: number;
  /** The same, leaving out the CPU of writing judgement_events.parquet (which is that table's copy). */
  tableCpuRatioWithoutEvents: number;
  /** Median over interleaved runs of release / judgements-table copy, wall clock. */
  tableMedianPairRatio: number;
}

/** Model index of candidate k (0 or 1) of lifecycle i: two different models per lifecycle, as the thumbs bench. */
const MODEL_A = 'i % 6';
const MODEL_B = '(i + 1 + (i // 6) % 5) % 6';

/** Fills an empty ledger with `lifecycles` compare lifecycles of 15 judgements each, complete and derived. */
export async function fillSyntheticCompareLedger(ledger: Ledger, lifecycles: number): Promise<void> {
  const judgements = lifecycles * JUDGEMENTS_PER_LIFECYCLE;
  await ledger.withConnection(async (c) => {
    const committed = `TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds((i * 2592000) // ${lifecycles})`;
    await c.run(
      `INSERT INTO lifecycles (run_id, lifecycle_id, prompt, models, candidates_per_model, channel, campaign, model_version, quorum_kind, quorum_votes,
                               params, started_at, deadline_at, closed_at, close_reason, votes_accepted, committed_at, started_from, task, question, allow_both_bad, reveal_models)
       SELECT 'run-' || i, 'lc-' || i, 'synthetic prompt #' || (i % 5000), ['bench:m' || ${MODEL_A}, 'bench:m' || ${MODEL_B}], 1, 'web', NULL, NULL,
              'responses', ${JUDGEMENTS_PER_LIFECYCLE}, '{}'::JSON, ${committed} - INTERVAL 1 HOUR, ${committed}, ${committed}, 'quorum', ${JUDGEMENTS_PER_LIFECYCLE},
              ${committed}, 'unknown', 'compare', 'Which answer is better?', true, false
         FROM range(${lifecycles}) t(i)`,
    );
    await c.run(
      `INSERT INTO candidates (run_id, lifecycle_id, candidate_id, label, model, backend, model_version, kind, artifact_sha256, mime, size_bytes,
                               path, text, placeholder, seed, provenance, committed_at)
       SELECT 'run-' || i, 'lc-' || i, 'c' || (k + 1), chr(65 + k::INT), 'bench:m' || CASE k WHEN 0 THEN ${MODEL_A} ELSE ${MODEL_B} END, 'bench', NULL, 'text',
              h, 'text/plain', 120, 'sha256/' || h[1:2] || '/' || h || '.txt', 'synthetic candidate text ' || i || '/' || k, false, k, '{}'::JSON, ${committed}
         FROM (SELECT i, k, sha256(i::VARCHAR || '/' || k::VARCHAR) AS h FROM range(${lifecycles}) t(i), range(2) u(k))`,
    );
    // Model m wins with odds (1 + m) : (1 + other): a clear order on the judgement leaderboard.
    await c.run(
      `INSERT INTO judgements
       SELECT 'run-' || i, 'lc-' || i, 'key-' || v, (v % ${JUDGEMENTS_PER_LIFECYCLE} + 1)::INT, 'r_' || lpad(to_hex(hash(v // 3) % 4000), 24, '0'), 'invite', 'web',
              shown_left, CASE shown_left WHEN 'c1' THEN 'c2' ELSE 'c1' END, choice,
              CASE choice WHEN 'left' THEN shown_left WHEN 'right' THEN CASE shown_left WHEN 'c1' THEN 'c2' ELSE 'c1' END END,
              true, CASE WHEN v % 50 = 0 THEN 'synthetic comment ' || v END,
              ${committed} - INTERVAL 30 MINUTE + to_seconds(v % ${JUDGEMENTS_PER_LIFECYCLE}), ${committed} - INTERVAL 30 MINUTE + to_seconds(v % ${JUDGEMENTS_PER_LIFECYCLE}),
              ${committed}, choice <> 'retract' AND v % 20 <> 1
         FROM (SELECT v, i, shown_left,
                      CASE WHEN v % 20 = 0 THEN 'retract' WHEN u < 10 THEN 'tie' WHEN u < 15 THEN 'both_bad'
                           WHEN ((hash(v * 7) % 1000) * (2 + ${MODEL_A} + ${MODEL_B}) < 1000 * (1 + ${MODEL_A})) = (shown_left = 'c1') THEN 'left' ELSE 'right' END AS choice
                 FROM (SELECT v, v // ${JUDGEMENTS_PER_LIFECYCLE} AS i, CASE hash(v) % 2 WHEN 0 THEN 'c1' ELSE 'c2' END AS shown_left, hash(v * 31) % 100 AS u
                         FROM range(${judgements}) t(v)))`,
    );
  });
  // What the commit that completes each lifecycle derives (store/ledger-derived.ts, store/judgement-derived.ts), here in one go.
  await ledger.deriveCompleted();
  await ledger.withConnection((c) => c.run('CHECKPOINT'));
}

export async function benchCompareRelease(options: BenchCompareReleaseOptions): Promise<BenchCompareReleaseResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const lifecycles = Math.max(1, Math.floor(options.judgements / JUDGEMENTS_PER_LIFECYCLE));
  const judgements = lifecycles * JUDGEMENTS_PER_LIFECYCLE;
  const { ledger, dir, close } = await openBenchLedger(options, 'prefline-bench-release-compare-');
  try {
    const t = performance.now();
    await fillSyntheticCompareLedger(ledger, lifecycles);
    const fillMs = performance.now() - t;
    log(`filled ${judgements.toLocaleString('en')} judgements, ${lifecycles.toLocaleString('en')} compare lifecycles in ${(fillMs / 1000).toFixed(1)} s`);

    /** The baseline: the judgements table as it is, to parquet, as the release compresses judgement_events. */
    const table = async (run: number): Promise<Timing> =>
      (await rawCopies(ledger, join(dir, `table-${run}`), [['judgements', 'SELECT * FROM judgements']], JUDGEMENT_PARQUET_OPTIONS)).timing;
    const raw = async (run: number): Promise<Timing> => {
      const { timing, line } = await rawCopies(ledger, join(dir, `raw-${run}`), [
        ['lifecycles', 'SELECT * FROM lifecycles'], ['candidates', 'SELECT * FROM candidates'],
        ['judgements', 'SELECT * FROM judgements WHERE standing'], ['judgement_events', 'SELECT * FROM judgements'],
      ]);
      log(`    ${line}`);
      return timing;
    };
    /** The release, and its CPU without the judgement_events step (the file that is the baseline's copy, issue 14 asks with and without it). */
    const release = async (run: number): Promise<Timing & { cpuMsWithoutEvents: number }> => {
      const steps = stepTimer();
      const timing = await timeRun(join(dir, `releases-${run}`), async () => {
        const result = await publishRelease({ ledger, releasesDir: join(dir, `releases-${run}`), cutoff: new Date().toISOString(), afterStep: steps.afterStep });
        if (result.rows.battles === 0) throw new Error('bench: the release holds no battles');
        log(`    rows: battles ${result.rows.battles}, preferences ${result.rows.preferences}, preferences_chat ${result.rows.preferences_chat}, matchups ${result.rows.matchups}`);
        return result.dir;
      });
      log(`    ${steps.line()}`);
      return { ...timing, cpuMsWithoutEvents: timing.cpuMs - steps.cpuMsOf('judgement_events') };
    };

    const runs: Array<{ table: Timing; raw: Timing; release: Timing & { cpuMsWithoutEvents: number } }> = [];
    for (let r = 0; r < (options.repeat ?? 2); r++) {
      const t = await table(r);
      const a = await raw(r);
      const b = await release(r);
      log(
        `  run ${r + 1}: judgements table COPY ${formatTiming(t)}, release/table ${(b.ms / t.ms).toFixed(2)}× wall, ${(b.cpuMs / t.cpuMs).toFixed(2)}× cpu; ` +
          `raw COPY ${formatTiming(a)}, release ${formatTiming(b)}: ${(b.ms / a.ms).toFixed(2)}× wall, ${(b.cpuMs / a.cpuMs).toFixed(2)}× cpu`,
      );
      runs.push({ table: t, raw: a, release: b });
    }
    const vsRaw = againstRaw(runs);
    const bestTable = fastest(runs.map((r) => r.table));
    const result: BenchCompareReleaseResult = {
      judgements,
      lifecycles,
      fillMs,
      tableCopyMs: bestTable.ms,
      tableRatio: vsRaw.releaseMs / bestTable.ms,
      tableCpuRatio: median(runs.map((r) => r.release.cpuMs / r.table.cpuMs)),
      tableCpuRatioWithoutEvents: median(runs.map((r) => r.release.cpuMsWithoutEvents / r.table.cpuMs)),
      tableMedianPairRatio: median(runs.map((r) => r.release.ms / r.table.ms)),
      ...vsRaw,
    };
    log(
      [
        `judgements          ${judgements.toLocaleString('en')}`,
        `judgements table    ${(result.tableCopyMs / 1000).toFixed(2)} s   ${(bestTable.bytes / 1e6).toFixed(1)} MB (raw COPY of the ledger's judgements, the release's settings)`,
        `raw COPY (4 tables) ${(result.rawCopyMs / 1000).toFixed(2)} s   ${(result.rawBytes / 1e6).toFixed(1)} MB (lifecycles, candidates, standing and all judgements)`,
        `release             ${(result.releaseMs / 1000).toFixed(2)} s   ${(result.releaseBytes / 1e6).toFixed(1)} MB (12 parquet files, card, report, manifest)`,
        `ratio to the table  ${result.tableRatio.toFixed(2)}× fastest/fastest, ${result.tableMedianPairRatio.toFixed(2)}× median of paired runs, ${result.tableCpuRatio.toFixed(2)}× CPU time   (issue 14's target ≤ 1.3×)`,
        `  without judgement_events ${result.tableCpuRatioWithoutEvents.toFixed(2)}× CPU time (the release's CPU less that file's step)`,
        `ratio to 4 tables   ${result.ratio.toFixed(2)}× fastest/fastest, ${result.medianPairRatio.toFixed(2)}× median of paired runs, ${result.cpuRatio.toFixed(2)}× CPU time`,
      ].join('\n'),
    );
    return result;
  } finally {
    close();
  }
}

if (require.main === module) runReleaseBench('judgements', JUDGEMENTS_PER_LIFECYCLE, (judgements, options) => benchCompareRelease({ judgements, ...options }));
