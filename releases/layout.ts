/**
 * The on-disk layout of releases, and the file-system steps that make publishing atomic.
 *
 *   <releasesDir>/<id>/            a whole release; never modified once renamed into place
 *   <releasesDir>/latest -> <id>   symlink, replaced by renaming a temp symlink over it
 *   <releasesDir>/.tmp-<id>-<nonce>/   a release being written (removed by the next publish)
 *
 * One writer (the ledger worker) publishes, so a leftover `.tmp-*` is always a crashed attempt.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode } from '../core/errors';
import { errnoCode, fsyncDir } from '../core/files';
import type { CampaignReleaseStats } from './campaign-files';
import { CHAT_TABLES, type ChatReleaseStats } from './chat';
import { ReleaseError } from './errors';

export { errnoCode, fsyncDir };

export const RELEASE_FORMAT = 'prefline-release';
/**
 * 2: votes and vote_events carry `rater_auth` and `rater_verified`.
 * 3: lifecycles carry `started_by` and `started_from` (who started each lifecycle, and from where).
 * 4: the chat files (releases/chat.ts) and the manifest's `chat` statistics.
 * 5: judgements (judgement_events, battles, matchups), training files (preferences gains prompt/chosen/
 *    rejected/source/rater columns and compare rows; preferences_chat, kto), model_pairs, and the
 *    leaderboard's compare_* columns.
 */
/**
 * 6: campaigns (campaigns, raters); battles gain `rater_excluded` and `exclusion_reason`; gold
 *    lifecycles' judgements are in no derived file, excluded raters' count only in battles (flagged);
 *    the manifest's `campaigns` statistics.
 */
export const RELEASE_SCHEMA_VERSION = 6;
export const PARQUET_TABLES = [
  'lifecycles', 'candidates', 'votes', 'vote_events', 'judgement_events', 'battles', 'matchups', 'preferences', 'preferences_chat', 'kto',
  'leaderboard', 'model_pairs', 'campaigns', 'raters', ...CHAT_TABLES,
] as const;
/** The tables of schema 5, before campaigns. */
const SCHEMA_5_TABLES = PARQUET_TABLES.filter((t) => t !== 'campaigns' && t !== 'raters');
export type ReleaseTable = (typeof PARQUET_TABLES)[number];
/** The parquet files a release of each schema version holds (older releases stay valid as they are). */
const TABLES_OF_SCHEMA: Readonly<Record<number, readonly ReleaseTable[]>> = {
  1: ['lifecycles', 'candidates', 'votes', 'vote_events', 'preferences', 'leaderboard'],
  2: ['lifecycles', 'candidates', 'votes', 'vote_events', 'preferences', 'leaderboard'],
  3: ['lifecycles', 'candidates', 'votes', 'vote_events', 'preferences', 'leaderboard'],
  4: ['lifecycles', 'candidates', 'votes', 'vote_events', 'preferences', 'leaderboard', ...CHAT_TABLES],
  5: SCHEMA_5_TABLES,
  6: PARQUET_TABLES,
};
export const MANIFEST = 'manifest.json';
export const LATEST = 'latest';
/** Tables that grow with lifecycles: the manifest counts their rows added since the previous release. */
export const GROWING_TABLES = ['lifecycles', 'candidates', 'votes', 'vote_events', 'judgement_events', 'battles', 'matchups', 'preferences', 'preferences_chat', 'kto'] as const;

/** The parquet files of a release (by its manifest's schema version); a newer version than this code knows: all it knows. */
export function releaseTables(manifest: Pick<ReleaseManifest, 'schemaVersion'>): readonly ReleaseTable[] {
  return TABLES_OF_SCHEMA[manifest.schemaVersion] ?? PARQUET_TABLES;
}

export interface FileEntry {
  /** Rows, for parquet files. */
  rows?: number;
  bytes: number;
  sha256: string;
}

export interface ReleaseStats {
  /** Lifecycles committed by the cutoff whose vote rows were not all committed yet (they go in the next release). */
  lifecyclesPendingAtCutoff: number;
  preferencePairs: number;
  /** Pairs of rated candidates of one lifecycle with equal scores: no preference pair. */
  tiedPairs: number;
  /** Comparisons between candidates of different models in one lifecycle (Bradley–Terry input). */
  abComparisons: number;
  raters: number;
  krippendorffAlpha: number | null;
  artifactsReferenced: number;
  /** Referenced artifacts the artifact store did not hold at publish time (export would fail on them). */
  artifactsMissing: number;
  /** Standing judgements (battles.parquet rows). */
  battles: number;
  /** Standing judgements between candidates of different models, ties included: the judgement Bradley–Terry fit's input. */
  compareComparisons: number;
  /** Standing ties and both-bad answers: no preference row; counted here. */
  compareTies: number;
  compareBothBad: number;
  /** preferences.parquet rows from score-derived thumbs pairs and from standing judgements with a winner. */
  preferencesBySource: { thumbs: number; compare: number };
  positionBias: PositionBias;
}

/** How often the candidate a rater saw on the left won, among standing judgements with a winner. */
export interface PositionBias {
  decided: number;
  leftWins: number;
  /** leftWins / decided; null without a decided judgement. */
  leftShare: number | null;
  /** Wilson score interval, 95%. */
  ciLow: number | null;
  ciHigh: number | null;
}

export interface ReleaseManifest {
  format: typeof RELEASE_FORMAT;
  schemaVersion: number;
  releaseId: string;
  /** Watermark: the release holds every lifecycle whose commit finished at or before this instant. */
  cutoff: string;
  /** The only time-of-publishing value in a release; every other file depends on the cutoff alone. */
  createdAt: string;
  previousReleaseId: string | null;
  ledgerSchemaVersion: number;
  raterIds: 'keyed-hash pseudonyms';
  files: Record<string, FileEntry>;
  /** Releases of schema 2 and older count only the tables they hold. */
  addedSincePrevious: Partial<Record<(typeof GROWING_TABLES)[number], number>>;
  stats: ReleaseStats;
  /** Chat conversations in the release (absent in releases before schema 4). */
  chat?: ChatReleaseStats;
  /** Campaigns, their raters, and what gold and exclusions left out (absent in releases before schema 6). */
  campaigns?: CampaignReleaseStats;
}

export interface ReleaseInfo {
  id: string;
  dir: string;
  manifest: ReleaseManifest;
}

/** Release ids are folder names: letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export function isReleaseId(id: string): boolean {
  return /^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/.test(id) && id !== LATEST;
}

/**
 * Refuses anything but a release id (`prefline_release_invalid`): no path (`../x`, `/etc`, `a/b`), no empty
 * or odd name, so an id never leads out of the releases folder. The id is quoted as JSON, so control
 * characters in it are shown escaped.
 */
export function assertReleaseId(id: string): void {
  if (isReleaseId(id)) return;
  throw new ReleaseError(
    ErrorCode.ReleaseInvalid,
    `invalid release id ${JSON.stringify(id)}: a release id is a folder name of up to 64 letters, digits, ".", "_" and "-" that starts with a letter or digit (e.g. 2026-11-22), or "latest"`,
  );
}

export async function readManifest(dir: string): Promise<ReleaseManifest | undefined> {
  let text: string;
  try {
    text = await fs.readFile(join(dir, MANIFEST), 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
  const manifest = JSON.parse(text) as ReleaseManifest;
  if (manifest.format !== RELEASE_FORMAT) throw new Error(`${dir}/${MANIFEST} is not a Prefline release manifest`);
  return manifest;
}

/** Complete releases (those with a manifest), oldest cutoff first. */
export async function listReleases(releasesDir: string): Promise<ReleaseInfo[]> {
  let names: string[];
  try {
    names = await fs.readdir(releasesDir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const releases: ReleaseInfo[] = [];
  for (const id of names.filter(isReleaseId)) {
    const dir = join(releasesDir, id);
    const manifest = await readManifest(dir);
    if (manifest) releases.push({ id, dir, manifest });
  }
  return releases.sort((a, b) => a.manifest.cutoff.localeCompare(b.manifest.cutoff) || a.id.localeCompare(b.id));
}

export async function readLatest(releasesDir: string): Promise<string | undefined> {
  try {
    return await fs.readlink(join(releasesDir, LATEST));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** `latest` or an id → the release; throws if there is no such complete release. */
export async function resolveRelease(releasesDir: string, idOrLatest = LATEST): Promise<ReleaseInfo> {
  if (idOrLatest !== LATEST) assertReleaseId(idOrLatest);
  const id = idOrLatest === LATEST ? await readLatest(releasesDir) : idOrLatest;
  if (id === undefined) throw new Error(`no release yet in ${releasesDir} (run: prefline release)`);
  if (!isReleaseId(id)) throw new ReleaseError(ErrorCode.ReleaseCorrupt, `${join(releasesDir, LATEST)} points at ${JSON.stringify(id)}, which is not a release of this folder`);
  const dir = join(releasesDir, id);
  const manifest = await readManifest(dir);
  if (!manifest) throw new Error(`no release "${id}" in ${releasesDir}`);
  return { id, dir, manifest };
}

/** Points `latest` at `id` atomically: a fresh symlink renamed over the old one. */
export async function pointLatest(releasesDir: string, id: string, nonce: string): Promise<void> {
  const tmp = join(releasesDir, `.latest-${nonce}`);
  await fs.rm(tmp, { force: true });
  await fs.symlink(id, tmp);
  await fs.rename(tmp, join(releasesDir, LATEST));
  await fsyncDir(releasesDir);
}

/** Removes what a crashed publish left behind: `.tmp-*` folders and `.latest-*` symlinks. */
export async function removeLeftovers(releasesDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fs.readdir(releasesDir)) {
    if (!name.startsWith('.tmp-') && !name.startsWith('.latest-')) continue;
    await fs.rm(join(releasesDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

export async function fsyncFile(file: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}


export async function writeFileSynced(file: string, data: string): Promise<void> {
  const handle = await fs.open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function fileEntry(file: string, rows?: number): Promise<FileEntry> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { ...(rows !== undefined ? { rows } : {}), bytes, sha256: hash.digest('hex') };
}
