/**
 * Publishes one immutable, dated release of the ledger as parquet (no Temporal here: the activity in
 * activities/release.ts wraps it, tests and the benchmark call it directly).
 *
 * Cutoff rule: a release holds every lifecycle whose commit *finished* at or before the cutoff — its
 * lifecycle row and all `votes_accepted` vote rows committed ≤ cutoff — with all its candidates and
 * vote events. A lifecycle still committing batches at the cutoff is left for the next release (and
 * counted as pending), so no release holds half a lifecycle. Ledger rows never change after commit, so
 * the same cutoff always selects the same rows, in the same (ledger) order, hence the same bytes.
 * Scores, preference pairs, battles and matchups come from the tables the ledger derives as each
 * lifecycle completes (store/ledger-derived.ts, store/judgement-derived.ts): a release copies them
 * instead of recomputing them.
 *
 * The pieces: which rows (scope.ts), the files (writer.ts; judgements in comparisons.ts, the training
 * files in training-files.ts), statistics and standings (statistics.ts, standings.ts), the card and
 * report (dataset-card.ts, report.ts), the folder and `latest` (release-folder.ts, layout.ts).
 *
 * Atomicity: everything is written into `.tmp-<id>-<nonce>/`, fsynced, renamed to `<id>/`, and only
 * then does `latest` move. A crash leaves no release or a whole one; the next run removes leftovers,
 * and reuses (after verifying) a whole release of the same cutoff instead of making a second one.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode } from '../core/errors';
import { LEDGER_SCHEMA_VERSION, LEDGER_THREADS } from '../store/Ledger';
import { withTransaction } from '../store/transaction';
import { ReleaseError } from './errors';
import {
  MANIFEST, PARQUET_TABLES, RELEASE_FORMAT, RELEASE_SCHEMA_VERSION, fileEntry, fsyncDir, listReleases, removeLeftovers, writeFileSynced,
  type FileEntry, type ReleaseManifest, type ReleaseTable,
} from './layout';
import { chooseRelease, maybePointLatest } from './release-folder';
import { renderDatasetCard, type CardDeclarations } from './dataset-card';
import { renderReport } from './report';
import { quotedString } from './sql';
import { verifyReleaseFiles } from './tools';
import type { PublishResult, PublishStep } from './types';
import { PREFERENCES_ROW_GROUP_ROWS, writeTables } from './writer';

export { ReleaseError, type ReleaseErrorCode } from './errors';
export { PUBLISH_STEPS, type PublishResult, type PublishStep } from './types';

const DEFAULT_MEMORY_LIMIT = '2GB';

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
  /** License and languages the dataset card declares (PREFLINE_RELEASE_LICENSE, PREFLINE_RELEASE_LANGUAGE). */
  card?: CardDeclarations;
}

/** Normalises the cutoff to `toISOString()` form; refuses garbage and the future (rows could still arrive). */
export function normalizeCutoff(cutoff: string, now: Date): string {
  const ms = Date.parse(cutoff);
  if (Number.isNaN(ms)) throw new ReleaseError(ErrorCode.ReleaseInvalid, `cutoff "${cutoff}" is not an ISO-8601 time`);
  if (ms > now.getTime()) throw new ReleaseError(ErrorCode.ReleaseInvalid, `cutoff ${cutoff} is in the future`);
  return new Date(ms).toISOString();
}

export async function publishRelease(options: PublishOptions): Promise<PublishResult> {
  const now = options.now ?? (() => new Date());
  const cutoff = normalizeCutoff(options.cutoff, now());
  const preferencesRowGroupRows = options.preferencesRowGroupRows ?? PREFERENCES_ROW_GROUP_ROWS;
  if (!Number.isSafeInteger(preferencesRowGroupRows) || preferencesRowGroupRows < 1) {
    throw new ReleaseError(ErrorCode.ReleaseInvalid, `preferencesRowGroupRows must be a positive integer, got ${preferencesRowGroupRows}`);
  }
  const { releasesDir } = options;
  const step = async (s: PublishStep) => options.afterStep?.(s);
  const nonce = randomBytes(6).toString('hex');

  await fs.mkdir(releasesDir, { recursive: true, mode: 0o700 });
  await removeLeftovers(releasesDir);
  const existing = await listReleases(releasesDir);
  const { id, reuse } = await chooseRelease(releasesDir, existing, cutoff, options.releaseId);
  const previous = existing.filter((r) => r.manifest.cutoff < cutoff).at(-1);

  if (reuse) {
    const problems = await options.ledger.withConnection((c) => verifyReleaseFiles(c, reuse.dir, reuse.manifest));
    if (problems.length > 0) throw new ReleaseError(ErrorCode.ReleaseCorrupt, `release ${id} exists but fails verification: ${problems.join('; ')}`);
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
  const written = await options.ledger.withConnection((c) =>
    withReleaseSession(c, options.memoryLimit ?? DEFAULT_MEMORY_LIMIT, () =>
      // One transaction: every file reads the same snapshot.
      withTransaction(c, () => writeTables(c, { cutoff, tmp, previous, artifactDir: options.artifactDir, bootstrapRounds: options.bootstrapRounds ?? 200, step, checksums,
        preferencesRowGroupRows, alongside: (fn) => options.ledger.withConnection(fn),
      })),
    ),
  );

  const files: Record<string, FileEntry> = {};
  for (const table of PARQUET_TABLES) {
    const checksum = checksums.get(table);
    if (!checksum) throw new Error(`internal: ${table}.parquet was never written`);
    const entry = await checksum;
    files[`${table}.parquet`] = { rows: written.rows[table], ...entry };
  }
  const schemas = written.schemas;
  await writeFileSynced(file('README.md'), renderDatasetCard({
    releaseId: id, cutoff, previousReleaseId: previous?.id ?? null, rows: written.rows, stats: written.stats, chat: written.chat,
    campaigns: written.campaigns, schemas, ...options.card,
  }));
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
    chat: written.chat,
    campaigns: written.campaigns,
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

/**
 * Runs `fn` with the connection set up for writing a release: the memory limit lowered, insertion
 * order preserved and the ledger's thread count; the connection's own settings are restored after.
 */
async function withReleaseSession<T>(c: DuckDBConnection, memoryLimit: string, fn: () => Promise<T>): Promise<T> {
  const [setting] = (await c.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows();
  await c.run(`SET memory_limit = ${quotedString(memoryLimit)}`);
  // The files' row order is the ledger's (releases/writer.ts): make sure no one turned it off.
  const [order] = (await c.runAndReadAll(`SELECT current_setting('preserve_insertion_order')`)).getRows();
  if (order?.[0] !== true) await c.run('SET preserve_insertion_order = true');
  // Row groups are cut differently on another thread count: pin it, so bytes do not depend on the machine.
  const [threads] = (await c.runAndReadAll(`SELECT current_setting('threads')::INTEGER`)).getRows();
  if (threads?.[0] !== LEDGER_THREADS) await c.run(`SET threads = ${LEDGER_THREADS}`);
  try {
    return await fn();
  } finally {
    // The setting reads back rounded ("18.8 GiB"): RESET restores the default exactly; anything else is re-set.
    if (order?.[0] !== true) await c.run('SET preserve_insertion_order = false');
    if (threads?.[0] !== LEDGER_THREADS) await c.run(`SET threads = ${Number(threads?.[0])}`);
    await c.run('RESET memory_limit');
    const [reset] = (await c.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows();
    if (reset?.[0] !== setting?.[0]) await c.run(`SET memory_limit = ${quotedString(String(setting?.[0]))}`);
  }
}
