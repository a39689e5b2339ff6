/**
 * Publishes one immutable, dated release of the ledger as parquet (no Temporal here: the activity in
 * activities/release.ts wraps it, tests and the benchmark call it directly).
 *
 * Cutoff rule: a release holds every lifecycle whose commit *finished* at or before the cutoff — its
 * lifecycle row and all `votes_accepted` vote rows committed ≤ cutoff — with all its candidates and
 * vote events. A lifecycle still committing batches at the cutoff is left for the next release (and
 * counted as pending), so no release holds half a lifecycle. Ledger rows never change after commit, so
 * the same cutoff always selects the same rows, in the same (ledger) order, hence the same bytes.
 * Scores and preference pairs come from the tables the ledger derives as each lifecycle completes
 * (store/ledger-derived.ts): a release copies them instead of recomputing them.
 *
 * Atomicity: everything is written into `.tmp-<id>-<nonce>/`, fsynced, renamed to `<id>/`, and only
 * then does `latest` move. A crash leaves no release or a whole one; the next run removes leftovers,
 * and reuses (after verifying) a whole release of the same cutoff instead of making a second one.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { join, sep } from 'node:path';
import { LEDGER_SCHEMA_VERSION, LEDGER_THREADS } from '../store/Ledger';
import { PREFERENCE_COLUMNS } from '../store/ledger-derived';
import { withTransaction } from '../store/transaction';
import { krippendorffAlphaNominal, type ValueProfile } from './agreement';
import { bootstrapBradleyTerry, type ComparisonCell } from './bradley-terry';
import {
  GROWING_TABLES, MANIFEST, PARQUET_TABLES, RELEASE_FORMAT, RELEASE_SCHEMA_VERSION, fileEntry, fsyncDir, fsyncFile,
  isReleaseId, listReleases, pointLatest, readLatest, readManifest, removeLeftovers, writeFileSynced,
  type FileEntry, type ReleaseInfo, type ReleaseManifest, type ReleaseStats, type ReleaseTable,
} from './layout';
import { renderDatasetCard, renderReport, type LeaderboardRow, type ReportData } from './report';
import { quotedString } from './sql';
import { verifyReleaseFiles } from './tools';

export const PUBLISH_STEPS = [
  'prepare', 'lifecycles', 'candidates', 'votes', 'vote_events', 'preferences', 'leaderboard', 'readme', 'report', 'manifest', 'fsync', 'rename', 'latest',
] as const;
export type PublishStep = (typeof PUBLISH_STEPS)[number];

const PARQUET_OPTIONS = '(FORMAT parquet, COMPRESSION zstd)';
/**
 * preferences.parquet is smaller than the ledger tables, and DuckDB encodes one row group per thread:
 * the default 122,880-row groups leave all but one core idle below that size. 16,384-row groups are
 * still large for readers and let every thread encode. Its path columns are hex digests, which zstd
 * level 1 compresses faster *and* smaller than the default level 3 (bench/release at 1M votes:
 * 0.12–0.14 s and 6.53 MB against 0.17–0.37 s and 6.77 MB).
 */
const PREFERENCES_ROW_GROUP_ROWS = 16_384;
const PREFERENCES_ZSTD_LEVEL = 1;
const DEFAULT_MEMORY_LIMIT = '2GB';
/** Bootstrap seed: fixed, so the same cutoff gives the same intervals (and bytes). */
const BOOTSTRAP_SEED = 20_241_122;

export interface PublishOptions {
  /** The ledger, or anything that lends a fresh DuckDB connection to it. */
  ledger: { withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> };
  releasesDir: string;
  /** ISO-8601 watermark; must not be in the future. */
  cutoff: string;
  /** Folder name; default the cutoff's UTC date, then `-2`, `-3`… for further releases that day. */
  releaseId?: string;
  /** Artifact store root, to count referenced artifacts it does not hold. */
  artifactDir?: string;
  now?: () => Date;
  /** Called after every step: the activity heartbeats here; crash tests throw here. */
  afterStep?: (step: PublishStep) => void | Promise<void>;
  bootstrapRounds?: number;
  /**
   * DuckDB memory limit while publishing (sorts and joins spill to disk beyond it), default 2GB; the
   * instance's own limit (80% of RAM by default) is restored afterwards. The ledger worker runs one
   * activity at a time, so no commit runs under the lower limit.
   */
  memoryLimit?: string;
  /** Rows per row group of preferences.parquet; tests make it tiny to get many groups from few rows. */
  preferencesRowGroupRows?: number;
}

export interface PublishResult {
  releaseId: string;
  dir: string;
  cutoff: string;
  /** True when a whole release of this cutoff already existed and was verified instead of rewritten. */
  reused: boolean;
  /** Whether `latest` points at this release afterwards. */
  latest: boolean;
  previousReleaseId: string | null;
  rows: Record<ReleaseTable, number>;
}

export type ReleaseErrorCode = 'release_invalid' | 'release_conflict' | 'release_corrupt';

export class ReleaseError extends Error {
  constructor(readonly code: ReleaseErrorCode, message: string) {
    super(message);
    this.name = 'ReleaseError';
  }
}

/** Normalises the cutoff to `toISOString()` form; refuses garbage and the future (rows could still arrive). */
export function normalizeCutoff(cutoff: string, now: Date): string {
  const ms = Date.parse(cutoff);
  if (Number.isNaN(ms)) throw new ReleaseError('release_invalid', `cutoff "${cutoff}" is not an ISO-8601 time`);
  if (ms > now.getTime()) throw new ReleaseError('release_invalid', `cutoff ${cutoff} is in the future`);
  return new Date(ms).toISOString();
}

async function run(c: DuckDBConnection, sql: string, values?: DuckDBValue[]): Promise<number> {
  const result = await c.run(sql, values);
  return Number(result.rowsChanged);
}

async function rows<T>(c: DuckDBConnection, sql: string, values?: DuckDBValue[]): Promise<T[]> {
  return (await c.runAndReadAll(sql, values)).getRowObjectsJson() as T[];
}

/** Picks the folder: an existing whole release of the same cutoff is reused; otherwise the first free name. */
async function chooseRelease(releasesDir: string, existing: ReleaseInfo[], cutoff: string, requested?: string): Promise<{ id: string; reuse?: ReleaseInfo }> {
  if (requested !== undefined) {
    if (!isReleaseId(requested)) throw new ReleaseError('release_invalid', `invalid release id "${requested}"`);
    const manifest = await readManifest(join(releasesDir, requested)).catch(() => undefined);
    const taken = manifest !== undefined || (await fs.stat(join(releasesDir, requested)).then(() => true, () => false));
    if (!taken) return { id: requested };
    if (manifest?.cutoff === cutoff) return { id: requested, reuse: { id: requested, dir: join(releasesDir, requested), manifest } };
    throw new ReleaseError('release_conflict', `release "${requested}" already exists with another cutoff (${manifest?.cutoff ?? 'none'})`);
  }
  const same = existing.find((r) => r.manifest.cutoff === cutoff);
  if (same) return { id: same.id, reuse: same };
  const names = new Set(await fs.readdir(releasesDir));
  const base = cutoff.slice(0, 10);
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    if (!names.has(id)) return { id };
  }
}

/** Moves `latest` here unless it already points at a release with a later cutoff (a backfill). */
async function maybePointLatest(releasesDir: string, id: string, cutoff: string, nonce: string): Promise<boolean> {
  const current = await readLatest(releasesDir);
  if (current === id) return true;
  const currentManifest = current !== undefined && isReleaseId(current) ? await readManifest(join(releasesDir, current)).catch(() => undefined) : undefined;
  if (currentManifest && currentManifest.cutoff > cutoff) return false;
  await pointLatest(releasesDir, id, nonce);
  return true;
}

export async function publishRelease(options: PublishOptions): Promise<PublishResult> {
  const now = options.now ?? (() => new Date());
  const cutoff = normalizeCutoff(options.cutoff, now());
  const preferencesRowGroupRows = options.preferencesRowGroupRows ?? PREFERENCES_ROW_GROUP_ROWS;
  if (!Number.isSafeInteger(preferencesRowGroupRows) || preferencesRowGroupRows < 1) {
    throw new ReleaseError('release_invalid', `preferencesRowGroupRows must be a positive integer, got ${preferencesRowGroupRows}`);
  }
  const { releasesDir } = options;
  const step = async (s: PublishStep) => options.afterStep?.(s);
  const nonce = randomBytes(6).toString('hex');

  await fs.mkdir(releasesDir, { recursive: true });
  await removeLeftovers(releasesDir);
  const existing = await listReleases(releasesDir);
  const { id, reuse } = await chooseRelease(releasesDir, existing, cutoff, options.releaseId);
  const previous = existing.filter((r) => r.manifest.cutoff < cutoff).at(-1);

  if (reuse) {
    const problems = await options.ledger.withConnection((c) => verifyReleaseFiles(c, reuse.dir, reuse.manifest));
    if (problems.length > 0) throw new ReleaseError('release_corrupt', `release ${id} exists but fails verification: ${problems.join('; ')}`);
    await step('prepare');
    const latest = await maybePointLatest(releasesDir, id, cutoff, nonce);
    await step('latest');
    return {
      releaseId: id, dir: reuse.dir, cutoff, reused: true, latest, previousReleaseId: reuse.manifest.previousReleaseId,
      rows: Object.fromEntries(PARQUET_TABLES.map((t) => [t, reuse.manifest.files[`${t}.parquet`]?.rows ?? 0])) as Record<ReleaseTable, number>,
    };
  }

  const tmp = join(releasesDir, `.tmp-${id}-${nonce}`);
  await fs.mkdir(tmp);
  await step('prepare');
  const file = (name: string) => join(tmp, name);

  // Each parquet file is hashed as soon as DuckDB has written it, while DuckDB writes the next.
  const checksums = new Map<ReleaseTable, Promise<FileEntry>>();
  const written = await options.ledger.withConnection(async (c) => {
    const [setting] = (await c.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows();
    await c.run(`SET memory_limit = ${quotedString(options.memoryLimit ?? DEFAULT_MEMORY_LIMIT)}`);
    // The files' row order is the ledger's (see writeTables): make sure no one turned it off.
    const [order] = (await c.runAndReadAll(`SELECT current_setting('preserve_insertion_order')`)).getRows();
    if (order?.[0] !== true) await c.run('SET preserve_insertion_order = true');
    // Row groups are cut differently on another thread count: pin it, so bytes do not depend on the machine.
    const [threads] = (await c.runAndReadAll(`SELECT current_setting('threads')::INTEGER`)).getRows();
    if (threads?.[0] !== LEDGER_THREADS) await c.run(`SET threads = ${LEDGER_THREADS}`);
    try {
      // One transaction: every file reads the same snapshot.
      return await withTransaction(c, () => writeTables(c, { cutoff, tmp, previous, artifactDir: options.artifactDir, bootstrapRounds: options.bootstrapRounds ?? 200, step, checksums,
        preferencesRowGroupRows, alongside: (fn) => options.ledger.withConnection(fn),
      }));
    } finally {
      // The setting reads back rounded ("18.8 GiB"): RESET restores the default exactly; anything else is re-set.
      if (order?.[0] !== true) await c.run('SET preserve_insertion_order = false');
      if (threads?.[0] !== LEDGER_THREADS) await c.run(`SET threads = ${Number(threads?.[0])}`);
      await c.run('RESET memory_limit');
      const [reset] = (await c.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows();
      if (reset?.[0] !== setting?.[0]) await c.run(`SET memory_limit = ${quotedString(String(setting?.[0]))}`);
    }
  });

  const files: Record<string, FileEntry> = {};
  for (const table of PARQUET_TABLES) {
    const checksum = checksums.get(table);
    if (!checksum) throw new Error(`internal: ${table}.parquet was never written`);
    const entry = await checksum;
    files[`${table}.parquet`] = { rows: written.rows[table], ...entry };
  }
  const schemas = written.schemas;
  await writeFileSynced(file('README.md'), renderDatasetCard({ releaseId: id, cutoff, previousReleaseId: previous?.id ?? null, rows: written.rows, stats: written.stats, schemas }));
  files['README.md'] = await fileEntry(file('README.md'));
  await step('readme');
  await writeFileSynced(file('report.html'), renderReport({ ...written.report, releaseId: id, cutoff }));
  files['report.html'] = await fileEntry(file('report.html'));
  await step('report');

  const manifest: ReleaseManifest = {
    format: RELEASE_FORMAT,
    schemaVersion: RELEASE_SCHEMA_VERSION,
    releaseId: id,
    cutoff,
    createdAt: now().toISOString(),
    previousReleaseId: previous?.id ?? null,
    ledgerSchemaVersion: LEDGER_SCHEMA_VERSION,
    raterIds: 'keyed-hash pseudonyms',
    files,
    addedSincePrevious: written.added,
    stats: written.stats,
  };
  await writeFileSynced(file(MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  await step('manifest');

  // Every file is durable by now (parquet files were synced as they were hashed, the card, report and
  // manifest as they were written); the folder's entries must be too before the rename.
  await fsyncDir(tmp);
  await step('fsync');
  const dir = join(releasesDir, id);
  await fs.rename(tmp, dir);
  await fsyncDir(releasesDir);
  await step('rename');
  const latest = await maybePointLatest(releasesDir, id, cutoff, nonce);
  await step('latest');
  return { releaseId: id, dir, cutoff, reused: false, latest, previousReleaseId: previous?.id ?? null, rows: written.rows };
}

interface Written {
  rows: Record<ReleaseTable, number>;
  added: ReleaseManifest['addedSincePrevious'];
  stats: ReleaseStats;
  schemas: Record<ReleaseTable, Array<{ name: string; type: string }>>;
  report: Omit<ReportData, 'releaseId' | 'cutoff'>;
}

interface WriteContext {
  cutoff: string;
  tmp: string;
  previous?: ReleaseInfo | undefined;
  artifactDir?: string | undefined;
  bootstrapRounds: number;
  step: (s: PublishStep) => Promise<void>;
  preferencesRowGroupRows: number;
  /** Runs `fn` on another connection of the ledger, concurrently with this one. */
  alongside: <T>(fn: (c: DuckDBConnection) => Promise<T>) => Promise<T>;
  checksums: Map<ReleaseTable, Promise<FileEntry>>;
}

async function writeTables(c: DuckDBConnection, ctx: WriteContext): Promise<Written> {
  // Scores and pairs of the lifecycles complete by the cutoff, as the ledger derived them when each
  // one completed (store/ledger-derived.ts).
  const completeByCutoff = `completed_at <= ${quotedString(ctx.cutoff)}::TIMESTAMPTZ`;
  // Pending: lifecycles whose first commit batch is ≤ cutoff but whose last is not (or is still to
  // come). Usually none, and always few. Every completed lifecycle was committed first, so when the
  // counts agree none is pending and the anti-join can be skipped.
  const [totals] = await rows<{ committed: number; complete: number }>(
    c,
    `SELECT (SELECT count(*) FROM lifecycles WHERE committed_at <= $1::TIMESTAMPTZ)::INTEGER AS committed,
            (SELECT count(*) FROM lifecycle_completions WHERE completed_at <= $1::TIMESTAMPTZ)::INTEGER AS complete`,
    [ctx.cutoff],
  );
  const pendingRuns = totals?.committed === totals?.complete ? [] : (await rows<{ run_id: string }>(
    c,
    `SELECT l.run_id FROM lifecycles l
      WHERE l.committed_at <= $1::TIMESTAMPTZ
        AND NOT EXISTS (SELECT 1 FROM lifecycle_completions d WHERE d.run_id = l.run_id AND d.completed_at <= $1::TIMESTAMPTZ)
      ORDER BY l.run_id`,
    [ctx.cutoff],
  )).map((r) => quotedString(r.run_id));
  // Every row of a released lifecycle was committed ≤ cutoff (vote batches never precede their
  // lifecycle row), so "committed ≤ cutoff, not pending" selects exactly the released lifecycles'
  // rows — a cheap column filter.
  const inRelease = `committed_at <= ${quotedString(ctx.cutoff)}::TIMESTAMPTZ${pendingRuns.length ? ` AND run_id NOT IN (${pendingRuns.join(', ')})` : ''}`;

  // Vote and artifact statistics read only vote and candidate rows committed ≤ cutoff, which never
  // change once written: another connection computes them while this one writes lifecycles.parquet,
  // which DuckDB encodes on one core.
  const statistics = ctx.alongside((other) => voteStatistics(other, inRelease, ctx.artifactDir));
  statistics.catch(() => undefined); // awaited below; a failed publish waits for it to settle
  try {
    return await writeFiles(c, ctx, { inRelease, completeByCutoff, pendingLifecycles: pendingRuns.length }, statistics);
  } finally {
    await statistics.catch(() => undefined);
  }
}

interface VoteStatistics {
  daily: ReportData['daily'];
  topRaters: ReportData['topRaters'];
  raters: number;
  artifactsReferenced: number;
  artifactsMissing: number;
}

async function voteStatistics(connection: DuckDBConnection, inRelease: string, artifactDir: string | undefined): Promise<VoteStatistics> {
  return withTransaction(connection, async (c) => {
    // UTC days from epoch milliseconds: independent of the session's TimeZone setting.
    const daily = await rows<{ day: string; votes: number; retractions: number }>(
      c,
      `SELECT strftime(DATE '1970-01-01' + d::INTEGER, '%Y-%m-%d') AS day, votes, retractions
         FROM (SELECT epoch_ms(cast_at) // 86400000 AS d,
                      count(*) FILTER (WHERE kind = 'vote')::INTEGER AS votes, count(*) FILTER (WHERE kind = 'retract')::INTEGER AS retractions
                 FROM votes WHERE ${inRelease} GROUP BY d)
        ORDER BY day`,
    );
    await c.run(`CREATE OR REPLACE TEMP TABLE rel_raters AS SELECT rater, count(*)::INTEGER AS votes FROM votes WHERE standing AND kind = 'vote' AND ${inRelease} GROUP BY rater`);
    const topRaters = await rows<{ rater: string; votes: number }>(c, `SELECT rater, votes FROM rel_raters ORDER BY votes DESC, rater LIMIT 25`);
    const [raters] = await rows<{ n: number }>(c, `SELECT count(*)::INTEGER AS n FROM rel_raters`);
    // Referenced artifacts the store lacks, listed by DuckDB's glob: no per-file stat, no paths through JS.
    const [artifacts] = await rows<{ referenced: number; missing: number }>(
      c,
      `SELECT count(*)::INTEGER AS referenced,
              ${artifactDir ? `count(*) FILTER (WHERE g.file IS NULL)::INTEGER` : '0'} AS missing
         FROM (SELECT DISTINCT ${artifactDir ? `${quotedString(artifactDir + sep)} || ` : ''}path AS file FROM candidates WHERE ${inRelease}) r
         ${artifactDir ? `LEFT JOIN glob(${quotedString(join(artifactDir, 'sha256', '*', '*'))}) g ON g.file = r.file` : ''}`,
    );
    return { daily, topRaters, raters: raters?.n ?? 0, artifactsReferenced: artifacts?.referenced ?? 0, artifactsMissing: artifacts?.missing ?? 0 };
  });
}

/** Which ledger rows a release holds, as SQL conditions (quoted literals: COPY cannot bind). */
interface ReleaseScope {
  /** Rows of lifecycles, candidates and votes: committed ≤ cutoff and not of a pending lifecycle. */
  inRelease: string;
  /** Rows of the derived tables: lifecycles complete by the cutoff. */
  completeByCutoff: string;
  pendingLifecycles: number;
}

async function writeFiles(c: DuckDBConnection, ctx: WriteContext, scope: ReleaseScope, statistics: Promise<VoteStatistics>): Promise<Written> {
  const { inRelease, completeByCutoff, pendingLifecycles } = scope;
  const to = (table: ReleaseTable) => quotedString(join(ctx.tmp, `${table}.parquet`));
  const rowCounts = {} as Record<ReleaseTable, number>;
  const copy = async (table: ReleaseTable, select: string, options = PARQUET_OPTIONS): Promise<void> => {
    const path = join(ctx.tmp, `${table}.parquet`);
    rowCounts[table] = await run(c, `COPY (${select}) TO ${quotedString(path)} ${options}`);
    // Hashed and made durable while DuckDB writes the next file: both are I/O or one core at most.
    const checksum = fileEntry(path).then(async (entry) => {
      await fsyncFile(path);
      return entry;
    });
    checksum.catch(() => undefined); // awaited after the last COPY; a failed publish may never await it
    ctx.checksums.set(table, checksum);
  };

  // Deterministic bytes without a sort: the ledger is append-only (Ledger.commit appends each batch in
  // its own order; nothing is deleted or moved), and with preserve_insertion_order a filtered scan
  // returns rows in ledger order, i.e. commit order. Sorting by key instead cost as much as writing
  // the files (bench/release).
  await copy('lifecycles', `SELECT * FROM lifecycles WHERE ${inRelease}`);
  await ctx.step('lifecycles');
  await copy('candidates', `SELECT * FROM candidates WHERE ${inRelease}`);
  await ctx.step('candidates');
  await copy(
    'votes',
    `SELECT run_id, lifecycle_id, idempotency_key, seq, candidate_id, rater, value, comment, channel, cast_at, accepted_at, committed_at
       FROM votes WHERE standing AND kind = 'vote' AND ${inRelease}`,
  );
  await ctx.step('votes');
  await copy('vote_events', `SELECT * FROM votes WHERE ${inRelease}`);
  await ctx.step('vote_events');

  // Pairs in completion order (within a lifecycle by candidate ids), as the ledger derived them; ties stay out.
  await copy(
    'preferences',
    `SELECT ${PREFERENCE_COLUMNS.join(', ')} FROM preference_pairs WHERE NOT tie AND ${completeByCutoff}`,
    `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${PREFERENCES_ZSTD_LEVEL}, ROW_GROUP_SIZE ${ctx.preferencesRowGroupRows})`,
  );
  await ctx.step('preferences');

  // Every pair of rated candidates in a lifecycle, by (model, model, outcome): ties for the manifest,
  // and between different models the comparisons Bradley–Terry is fitted on.
  const outcomes = await rows<{ model_a: string; model_b: string; outcome: number; n: number }>(
    c,
    `SELECT chosen_model AS model_a, rejected_model AS model_b, CASE WHEN tie THEN 0 ELSE 1 END AS outcome, count(*)::INTEGER AS n
       FROM preference_pairs WHERE ${completeByCutoff}
      GROUP BY ALL ORDER BY ALL`,
  );
  const tiedPairs = outcomes.reduce((n, o) => n + (o.outcome === 0 ? o.n : 0), 0);
  const cellMap = new Map<string, ComparisonCell>();
  for (const o of outcomes) {
    if (o.model_a === o.model_b) continue;
    const flip = o.model_a > o.model_b; // orient every cell as (lesser model, greater model)
    const [modelA, modelB] = flip ? [o.model_b, o.model_a] : [o.model_a, o.model_b];
    const key = `${modelA}\u0000${modelB}`;
    const cell = cellMap.get(key) ?? { modelA, modelB, winsA: 0, winsB: 0, ties: 0 };
    const outcome = flip ? -o.outcome : o.outcome;
    if (outcome > 0) cell.winsA += o.n;
    else if (outcome < 0) cell.winsB += o.n;
    else cell.ties += o.n;
    cellMap.set(key, cell);
  }
  const cells = [...cellMap.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, cell]) => cell);

  // Leaderboard: per-model tallies in SQL, Bradley–Terry over A/B comparisons in TypeScript.
  const perModel = await rows<{ model: string; lifecycles: number; candidates: number; up: number; down: number }>(
    c,
    `SELECT model, count(*) FILTER (WHERE first_of_model)::INTEGER AS lifecycles, count(*)::INTEGER AS candidates, sum(up)::INTEGER AS up, sum(down)::INTEGER AS down
       FROM candidate_scores WHERE ${completeByCutoff} GROUP BY model ORDER BY model`,
  );
  const bt = new Map(bootstrapBradleyTerry(cells, { rounds: ctx.bootstrapRounds, seed: BOOTSTRAP_SEED }).map((m) => [m.model, m]));
  const ranked = [...bt.values()].sort((x, y) => y.score - x.score || x.model.localeCompare(y.model));
  const leaderboard: LeaderboardRow[] = perModel.map((m) => {
    const outcome = (side: 'win' | 'loss' | 'tie') =>
      cells.reduce((n, cell) => {
        if (cell.modelA !== m.model && cell.modelB !== m.model) return n;
        if (side === 'tie') return n + cell.ties;
        const mine = cell.modelA === m.model ? cell.winsA : cell.winsB;
        const theirs = cell.modelA === m.model ? cell.winsB : cell.winsA;
        return n + (side === 'win' ? mine : theirs);
      }, 0);
    const rating = bt.get(m.model);
    const votes = m.up + m.down;
    return {
      model: m.model, lifecycles: m.lifecycles, candidates: m.candidates, votes, up: m.up, down: m.down,
      approval_rate: votes > 0 ? m.up / votes : null,
      ab_comparisons: rating?.comparisons ?? 0, ab_wins: outcome('win'), ab_losses: outcome('loss'), ab_ties: outcome('tie'),
      bt_score: rating?.score ?? null, bt_ci_low: rating?.ciLow ?? null, bt_ci_high: rating?.ciHigh ?? null,
      bt_rank: rating ? ranked.indexOf(rating) + 1 : null,
    };
  });
  await c.run(
    `CREATE OR REPLACE TEMP TABLE rel_leaderboard (model VARCHAR, lifecycles INTEGER, candidates INTEGER, votes INTEGER, up INTEGER, down INTEGER,
       approval_rate DOUBLE, ab_comparisons INTEGER, ab_wins INTEGER, ab_losses INTEGER, ab_ties INTEGER,
       bt_score DOUBLE, bt_ci_low DOUBLE, bt_ci_high DOUBLE, bt_rank INTEGER)`,
  );
  for (const r of leaderboard) {
    await c.run(`INSERT INTO rel_leaderboard VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, [
      r.model, r.lifecycles, r.candidates, r.votes, r.up, r.down, r.approval_rate, r.ab_comparisons, r.ab_wins, r.ab_losses, r.ab_ties,
      r.bt_score, r.bt_ci_low, r.bt_ci_high, r.bt_rank,
    ]);
  }
  await copy('leaderboard', `SELECT * FROM rel_leaderboard ORDER BY bt_rank NULLS LAST, model`);
  await ctx.step('leaderboard');

  // Rater agreement: items are candidates, values a rater's standing up/down; only value-count profiles leave SQL.
  const profileRows = await rows<{ model: string; up: number; down: number; items: number }>(
    c, `SELECT model, up, down, count(*)::INTEGER AS items FROM candidate_scores WHERE ${completeByCutoff} AND up + down >= 2 GROUP BY ALL ORDER BY ALL`,
  );
  const profiles = (model?: string): ValueProfile[] =>
    profileRows.filter((p) => model === undefined || p.model === model).map((p) => ({ counts: [p.up, p.down], items: p.items }));
  const overall = krippendorffAlphaNominal(profiles());
  const { daily, topRaters, raters, artifactsReferenced, artifactsMissing } = await statistics;

  // Added since the previous release: rows of lifecycles that release did not hold.
  const added = {} as Written['added'];
  if (ctx.previous) {
    await c.run(
      `CREATE OR REPLACE TEMP TABLE rel_old AS SELECT run_id FROM read_parquet(${quotedString(join(ctx.previous.dir, 'lifecycles.parquet'))})`,
    );
    for (const t of GROWING_TABLES) {
      const [old] = await rows<{ n: number }>(c, `SELECT count(*)::INTEGER AS n FROM read_parquet(${to(t)}) WHERE run_id IN (SELECT run_id FROM rel_old)`);
      added[t] = rowCounts[t] - (old?.n ?? 0);
    }
  } else {
    for (const t of GROWING_TABLES) added[t] = rowCounts[t];
  }

  const schemas = {} as Written['schemas'];
  for (const table of PARQUET_TABLES) {
    schemas[table] = (await rows<{ column_name: string; column_type: string }>(c, `DESCRIBE SELECT * FROM read_parquet(${to(table)})`)).map((r) => ({
      name: r.column_name, type: r.column_type,
    }));
  }
  const stats: ReleaseStats = {
    lifecyclesPendingAtCutoff: pendingLifecycles,
    preferencePairs: rowCounts.preferences,
    tiedPairs,
    abComparisons: cells.reduce((n, cell) => n + cell.winsA + cell.winsB + cell.ties, 0),
    raters,
    krippendorffAlpha: overall.alpha,
    artifactsReferenced,
    artifactsMissing,
  };
  return {
    rows: rowCounts,
    added,
    stats,
    schemas,
    report: {
      rows: rowCounts,
      stats,
      daily,
      leaderboard,
      cells,
      topRaters,
      agreement: {
        overall,
        perModel: perModel.map((m) => ({ model: m.model, ...krippendorffAlphaNominal(profiles(m.model)) })),
      },
    },
  };
}
