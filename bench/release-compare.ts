/**
 * Release benchmark, compare variant: a synthetic ledger of compare lifecycles (two text candidates of
 * different models, 15 judgements each: ties 10%, both bad 5%, the rest by model strength; 5% of the
 * events superseded or withdrawn) filled by DuckDB itself, derived as the ledger derives completed
 * lifecycles, then `publishRelease` timed in the same process, interleaved, against
 *   - the issue's baseline: a raw `COPY` of the judgements table (`SELECT * FROM judgements`) to
 *     parquet with the compression settings the release writes judgement_events with;
 *   - a broader one: plain `COPY … TO parquet` (zstd) of the ledger tables such a release holds —
 *     lifecycles, candidates, the standing judgements and every judgement event.
 *
 *   node dist/bench/release-compare.js [--judgements 1000000] [--repeat 2] [--keep]
 *
 * Target (issue 14): release ≤ 1.3× the raw copy of the judgements table.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishRelease } from '../releases/publisher';
import { JUDGEMENT_PARQUET_OPTIONS } from '../releases/writer';
import { quotedString } from '../releases/sql';
import { Ledger } from '../store/Ledger';

const JUDGEMENTS_PER_LIFECYCLE = 15;
export interface BenchCompareReleaseOptions {
  judgements: number;
  repeat?: number;
  dir?: string;
  keep?: boolean;
  log?: (line: string) => void;
}

export interface BenchCompareReleaseResult {
  judgements: number;
  lifecycles: number;
  fillMs: number;
  /** The issue's baseline: the fastest raw COPY of the judgements table. */
  tableCopyMs: number;
  /** Fastest release / fastest raw COPY of the judgements table (wall clock). */
  tableRatio: number;
  /** Median over interleaved runs of release / judgements-table copy, process CPU time. */
  tableCpuRatio: number;
  /** Median over interleaved runs of release / judgements-table copy, wall clock. */
  tableMedianPairRatio: number;
  rawCopyMs: number;
  releaseMs: number;
  /** Fastest release / fastest raw copy of the four tables (wall clock). */
  ratio: number;
  /** Median over interleaved runs of release / raw, wall clock. */
  medianPairRatio: number;
  /** Process CPU time of the release / of the raw copies (median of pairs): steadier on a shared machine. */
  cpuRatio: number;
  rawBytes: number;
  releaseBytes: number;
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
                               params, started_at, deadline_at, closed_at, close_reason, votes_accepted, committed_at, task, question, allow_both_bad, reveal_models)
       SELECT 'run-' || i, 'lc-' || i, 'synthetic prompt #' || (i % 5000), ['bench:m' || ${MODEL_A}, 'bench:m' || ${MODEL_B}], 1, 'web', NULL, NULL,
              'responses', ${JUDGEMENTS_PER_LIFECYCLE}, '{}'::JSON, ${committed} - INTERVAL 1 HOUR, ${committed}, ${committed}, 'quorum', ${JUDGEMENTS_PER_LIFECYCLE},
              ${committed}, 'compare', 'Which answer is better?', true, false
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

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function benchCompareRelease(options: BenchCompareReleaseOptions): Promise<BenchCompareReleaseResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const lifecycles = Math.max(1, Math.floor(options.judgements / JUDGEMENTS_PER_LIFECYCLE));
  const judgements = lifecycles * JUDGEMENTS_PER_LIFECYCLE;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'prefline-bench-release-compare-'));
  const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
  try {
    const t = performance.now();
    await fillSyntheticCompareLedger(ledger, lifecycles);
    const fillMs = performance.now() - t;
    log(`filled ${judgements.toLocaleString('en')} judgements, ${lifecycles.toLocaleString('en')} compare lifecycles in ${(fillMs / 1000).toFixed(1)} s`);

    type Timing = { ms: number; cpuMs: number; bytes: number };
    /** The issue's baseline: the judgements table as it is, to parquet, as the release compresses judgement_events. */
    const table = async (run: number): Promise<Timing> => {
      const out = join(dir, `table-${run}`);
      mkdirSync(out);
      const cpu = cpuMs();
      const start = performance.now();
      await ledger.withConnection((c) => c.run(`COPY (SELECT * FROM judgements) TO ${quotedString(join(out, 'judgements.parquet'))} ${JUDGEMENT_PARQUET_OPTIONS}`));
      const timing = { ms: performance.now() - start, cpuMs: cpuMs() - cpu, bytes: folderBytes(out) };
      rmSync(out, { recursive: true, force: true });
      return timing;
    };
    const raw = async (run: number): Promise<Timing> => {
      const out = join(dir, `raw-${run}`);
      mkdirSync(out);
      const cpu = cpuMs();
      const start = performance.now();
      const tables: string[] = [];
      await ledger.withConnection(async (c) => {
        for (const [name, select] of [
          ['lifecycles', 'SELECT * FROM lifecycles'], ['candidates', 'SELECT * FROM candidates'],
          ['judgements', 'SELECT * FROM judgements WHERE standing'], ['judgement_events', 'SELECT * FROM judgements'],
        ] as const) {
          const t = performance.now();
          await c.run(`COPY (${select}) TO ${quotedString(join(out, `${name}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
          tables.push(`${name} ${((performance.now() - t) / 1000).toFixed(2)}`);
        }
      });
      const timing = { ms: performance.now() - start, cpuMs: cpuMs() - cpu, bytes: folderBytes(out) };
      log(`    raw (s):   ${tables.join(', ')}`);
      rmSync(out, { recursive: true, force: true });
      return timing;
    };
    const release = async (run: number): Promise<Timing> => {
      const releasesDir = join(dir, `releases-${run}`);
      const cpu = cpuMs();
      const start = performance.now();
      let last = start;
      let lastCpu = cpu;
      const steps: string[] = [];
      const afterStep = (s: string) => {
        const now = performance.now();
        const nowCpu = cpuMs();
        steps.push(`${s} ${((now - last) / 1000).toFixed(2)}/${((nowCpu - lastCpu) / 1000).toFixed(2)}`);
        last = now;
        lastCpu = nowCpu;
      };
      const result = await publishRelease({ ledger, releasesDir, cutoff: new Date().toISOString(), afterStep });
      const timing = { ms: performance.now() - start, cpuMs: cpuMs() - cpu, bytes: folderBytes(result.dir) };
      log(`    steps (wall/cpu s): ${steps.join(', ')}`);
      if (result.rows.battles === 0) throw new Error('bench: the release holds no battles');
      log(`    rows: battles ${result.rows.battles}, preferences ${result.rows.preferences}, preferences_chat ${result.rows.preferences_chat}, matchups ${result.rows.matchups}`);
      rmSync(releasesDir, { recursive: true, force: true });
      return timing;
    };

    const runs: Array<{ table: Timing; raw: Timing; release: Timing }> = [];
    for (let r = 0; r < (options.repeat ?? 2); r++) {
      const t = await table(r);
      const a = await raw(r);
      const b = await release(r);
      log(
        `  run ${r + 1}: judgements table COPY ${(t.ms / 1000).toFixed(2)} s (cpu ${(t.cpuMs / 1000).toFixed(2)} s), ` +
          `release/table ${(b.ms / t.ms).toFixed(2)}× wall, ${(b.cpuMs / t.cpuMs).toFixed(2)}× cpu; raw COPY ${(a.ms / 1000).toFixed(2)} s (cpu ${(a.cpuMs / 1000).toFixed(2)} s), ` +
          `release ${(b.ms / 1000).toFixed(2)} s (cpu ${(b.cpuMs / 1000).toFixed(2)} s): ${(b.ms / a.ms).toFixed(2)}× wall, ${(b.cpuMs / a.cpuMs).toFixed(2)}× cpu`,
      );
      runs.push({ table: t, raw: a, release: b });
    }
    const fastest = (side: 'table' | 'raw' | 'release') => runs.map((r) => r[side]).reduce((x, y) => (y.ms < x.ms ? y : x));
    const median = (xs: number[]) => {
      const s = [...xs].sort((x, y) => x - y);
      return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
    };
    const best = { table: fastest('table'), raw: fastest('raw'), release: fastest('release') };
    const result: BenchCompareReleaseResult = {
      judgements,
      lifecycles,
      fillMs,
      tableCopyMs: best.table.ms,
      tableRatio: best.release.ms / best.table.ms,
      tableCpuRatio: median(runs.map((r) => r.release.cpuMs / r.table.cpuMs)),
      tableMedianPairRatio: median(runs.map((r) => r.release.ms / r.table.ms)),
      rawCopyMs: best.raw.ms,
      releaseMs: best.release.ms,
      ratio: best.release.ms / best.raw.ms,
      medianPairRatio: median(runs.map((r) => r.release.ms / r.raw.ms)),
      cpuRatio: median(runs.map((r) => r.release.cpuMs / r.raw.cpuMs)),
      rawBytes: best.raw.bytes,
      releaseBytes: best.release.bytes,
    };
    log(
      [
        `judgements          ${judgements.toLocaleString('en')}`,
        `judgements table    ${(result.tableCopyMs / 1000).toFixed(2)} s   ${(best.table.bytes / 1e6).toFixed(1)} MB (raw COPY of the ledger's judgements, the release's settings)`,
        `raw COPY (4 tables) ${(result.rawCopyMs / 1000).toFixed(2)} s   ${(result.rawBytes / 1e6).toFixed(1)} MB (lifecycles, candidates, standing and all judgements)`,
        `release             ${(result.releaseMs / 1000).toFixed(2)} s   ${(result.releaseBytes / 1e6).toFixed(1)} MB (12 parquet files, card, report, manifest)`,
        `ratio to the table  ${result.tableRatio.toFixed(2)}× fastest/fastest, ${result.tableMedianPairRatio.toFixed(2)}× median of paired runs, ${result.tableCpuRatio.toFixed(2)}× CPU time   (issue 14's target ≤ 1.3×)`,
        `ratio to 4 tables   ${result.ratio.toFixed(2)}× fastest/fastest, ${result.medianPairRatio.toFixed(2)}× median of paired runs, ${result.cpuRatio.toFixed(2)}× CPU time`,
      ].join('\n'),
    );
    return result;
  } finally {
    ledger.closeSync();
    if (!options.keep && !options.dir) rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const judgements = Number(flag('judgements') ?? 1_000_000);
  if (!Number.isInteger(judgements) || judgements < JUDGEMENTS_PER_LIFECYCLE) throw new Error(`--judgements must be an integer ≥ ${JUDGEMENTS_PER_LIFECYCLE}`);
  benchCompareRelease({ judgements, repeat: Number(flag('repeat') ?? 2), keep: argv.includes('--keep') }).catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
