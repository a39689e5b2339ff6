/**
 * Reading releases back: verify, query, diff and export. Everything opens the parquet files with an
 * in-memory DuckDB of its own, so none of it needs (or touches) the ledger.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import * as fs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ArtifactStore } from '../store/ArtifactStore';
import { NO_EXTENSION_AUTOLOAD, lockDown } from '../store/duckdb-lockdown';
import { READ_LIMITS, ReadQuery, type QueryResult, type ReadLimits } from '../store/read-query';
import { MANIFEST, PARQUET_TABLES, fileEntry, releaseTables, type ReleaseInfo, type ReleaseManifest, type ReleaseTable } from './layout';
import { quotedIdentifier, quotedString } from './sql';

/** The key of each table: diffs compare key sets by it. */
export const TABLE_KEYS: Record<ReleaseTable, string[]> = {
  lifecycles: ['run_id'],
  candidates: ['run_id', 'candidate_id'],
  votes: ['run_id', 'idempotency_key'],
  vote_events: ['run_id', 'idempotency_key'],
  judgement_events: ['run_id', 'idempotency_key'],
  battles: ['run_id', 'rater'],
  matchups: ['run_id'],
  // A thumbs pair has no rater; a judgement's pair is one rater's.
  preferences: ['source', 'run_id', 'rater', 'chosen_candidate_id', 'rejected_candidate_id'],
  preferences_chat: ['source', 'run_id', 'rater', 'chosen_candidate_id', 'rejected_candidate_id'],
  kto: ['run_id', 'rater', 'candidate_id'],
  leaderboard: ['model'],
  conversations: ['run_id'],
  messages: ['run_id', 'message_id'],
  chat_preferences: ['run_id', 'source', 'rejected_message_id'],
  chat_kto: ['run_id', 'message_id'],
  model_pairs: ['source', 'model_a', 'model_b'],
  campaigns: ['run_id'],
  raters: ['campaign_run_id', 'pseudonym'],
};

export async function withMemoryDatabase<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

function isPlainFileName(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name);
}

async function parquetRows(c: DuckDBConnection, file: string): Promise<number> {
  const reader = await c.runAndReadAll(`SELECT count(*)::BIGINT FROM read_parquet(${quotedString(file)})`);
  return Number(reader.getRows()[0]?.[0]);
}

/** Every file's size and sha256, and every parquet file's row count, against the manifest. Empty = whole. */
export async function verifyReleaseFiles(c: DuckDBConnection, dir: string, manifest: ReleaseManifest): Promise<string[]> {
  const problems: string[] = [];
  for (const table of releaseTables(manifest)) if (!manifest.files[`${table}.parquet`]) problems.push(`${table}.parquet: not in the manifest`);
  for (const [name, expected] of Object.entries(manifest.files).sort(([a], [b]) => a.localeCompare(b))) {
    if (!isPlainFileName(name)) {
      problems.push(`${name}: not a plain file name`);
      continue;
    }
    const file = join(dir, name);
    const actual = await fileEntry(file).catch(() => undefined);
    if (!actual) {
      problems.push(`${name}: missing`);
      continue;
    }
    if (actual.bytes !== expected.bytes) problems.push(`${name}: ${actual.bytes} bytes, manifest says ${expected.bytes}`);
    if (actual.sha256 !== expected.sha256) problems.push(`${name}: sha256 ${actual.sha256}, manifest says ${expected.sha256}`);
    if (expected.rows !== undefined) {
      const rows = await parquetRows(c, file).catch(() => undefined);
      if (rows === undefined) problems.push(`${name}: not readable as parquet`);
      else if (rows !== expected.rows) problems.push(`${name}: ${rows} rows, manifest says ${expected.rows}`);
    }
  }
  return problems;
}

export async function verifyRelease(release: ReleaseInfo): Promise<string[]> {
  return withMemoryDatabase((c) => verifyReleaseFiles(c, release.dir, release.manifest));
}

/** The parquet tables a release folder holds (a release of an older schema lacks the newer ones). */
async function tablesIn(dir: string): Promise<ReleaseTable[]> {
  const names = new Set(await fs.readdir(dir));
  return PARQUET_TABLES.filter((t) => names.has(`${t}.parquet`));
}

/** One view per parquet file, named after it (`votes`, `preferences`, …). */
export async function createReleaseViews(c: DuckDBConnection, dir: string): Promise<void> {
  for (const table of await tablesIn(dir)) {
    await c.run(`CREATE VIEW ${quotedIdentifier(table)} AS SELECT * FROM read_parquet(${quotedString(join(dir, `${table}.parquet`))})`);
  }
}

/**
 * One analyst query over a release's views, by the rules of the ledger's read path (store/read-query.ts),
 * in an in-memory DuckDB of the caller's own process that may read that release's folder and nothing
 * else: no other release, no file of the data folder, no network, no extension, no SET.
 */
export async function queryRelease(dir: string, sql: string, limits: ReadLimits = { maxRows: READ_LIMITS.maxRows }): Promise<QueryResult> {
  const instance = await DuckDBInstance.create(':memory:', NO_EXTENSION_AUTOLOAD);
  try {
    const connection = await instance.connect();
    try {
      await createReleaseViews(connection, dir);
      await lockDown(connection, { allowedDirectories: [dir] });
      return await new ReadQuery(connection, `release ${basename(dir)}`, limits).run(sql);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

export interface TableDiff {
  table: ReleaseTable;
  rowsA: number;
  rowsB: number;
  /** Keys in b, not in a. */
  added: number;
  /** Keys in a, not in b: for `votes`, votes no longer standing (retracted). */
  removed: number;
  /** Same key, different values (e.g. a model's leaderboard row). */
  changed: number;
}

/** Per table both releases hold (a release of an older schema lacks the newer tables). */
export async function diffReleases(a: ReleaseInfo, b: ReleaseInfo): Promise<TableDiff[]> {
  const inB = new Set(await tablesIn(b.dir));
  const tables = (await tablesIn(a.dir)).filter((t) => inB.has(t));
  return withMemoryDatabase(async (c) => {
    const diffs: TableDiff[] = [];
    for (const table of tables) {
      const fa = `read_parquet(${quotedString(join(a.dir, `${table}.parquet`))})`;
      const fb = `read_parquet(${quotedString(join(b.dir, `${table}.parquet`))})`;
      // Releases of different schemas compare on the columns both have (keys included).
      const columnsOf = async (file: string) => (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${file}`)).getRows().map((r) => String(r[0]));
      const inFb = new Set(await columnsOf(fb));
      const common = (await columnsOf(fa)).filter((name) => inFb.has(name));
      const all = common.map(quotedIdentifier).join(', ');
      const keys = TABLE_KEYS[table].filter((k) => inFb.has(k) && common.includes(k)).map(quotedIdentifier).join(', ');
      const count = async (sql: string) => Number((await c.runAndReadAll(`SELECT count(*)::BIGINT FROM (${sql})`)).getRows()[0]?.[0]);
      const added = await count(`SELECT ${keys} FROM ${fb} EXCEPT SELECT ${keys} FROM ${fa}`);
      const differing = await count(`SELECT ${all} FROM ${fb} EXCEPT SELECT ${all} FROM ${fa}`);
      diffs.push({
        table,
        rowsA: await count(`SELECT 1 FROM ${fa}`),
        rowsB: await count(`SELECT 1 FROM ${fb}`),
        added,
        removed: await count(`SELECT ${keys} FROM ${fa} EXCEPT SELECT ${keys} FROM ${fb}`),
        changed: differing - added,
      });
    }
    return diffs;
  });
}

export interface ExportResult {
  dir: string;
  files: number;
  artifacts: number;
  artifactBytes: number;
}

/**
 * A self-contained copy: the release files plus every artifact its candidates reference, under
 * `artifacts/<store path>` — the image paths of preferences' `chosen`/`rejected` (and thumbs rows'
 * `chosen_path`/`rejected_path`) resolve inside it.
 * The release is verified first and every artifact is read back against its sha256.
 */
export async function exportRelease(release: ReleaseInfo, outDir: string, artifactDir: string): Promise<ExportResult> {
  const problems = await verifyRelease(release);
  if (problems.length > 0) throw new Error(`release ${release.id} fails verification: ${problems.join('; ')}`);
  const existing = await fs.readdir(outDir).catch(() => [] as string[]);
  if (existing.length > 0) throw new Error(`export: ${outDir} is not empty`);
  await fs.mkdir(outDir, { recursive: true });
  const names = [...Object.keys(release.manifest.files), MANIFEST];
  for (const name of names) await fs.copyFile(join(release.dir, name), join(outDir, name));

  const referenced = await withMemoryDatabase(async (c) =>
    (await c.runAndReadAll(`SELECT DISTINCT artifact_sha256, path FROM read_parquet(${quotedString(join(release.dir, 'candidates.parquet'))}) ORDER BY path`))
      .getRowObjectsJson() as Array<{ artifact_sha256: string; path: string }>,
  );
  const store = await ArtifactStore.open(artifactDir);
  let artifactBytes = 0;
  const missing: string[] = [];
  for (const { artifact_sha256: sha256, path } of referenced) {
    const found = await store.read(sha256).catch((err: unknown) => {
      missing.push(`${sha256.slice(0, 12)}… (${(err as Error).message})`);
      return undefined;
    });
    if (!found) continue;
    if (found.ref.path !== path) throw new Error(`export: artifact ${sha256} is stored at ${found.ref.path}, the release says ${path}`);
    const target = join(outDir, 'artifacts', path);
    await fs.mkdir(dirname(target), { recursive: true });
    await fs.writeFile(target, found.bytes);
    artifactBytes += found.bytes.byteLength;
  }
  if (missing.length > 0) throw new Error(`export: ${missing.length} referenced artifact(s) unavailable: ${missing.slice(0, 5).join(', ')}`);
  return { dir: outDir, files: names.length, artifacts: referenced.length, artifactBytes };
}
