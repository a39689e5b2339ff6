/**
 * Writes a release's parquet files from the ledger, inside the publisher's snapshot transaction, and
 * gathers what the manifest, dataset card and report say about them. Each file is hashed and
 * fsynced as soon as DuckDB has written it, while DuckDB writes the next.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { join } from 'node:path';
import { BATTLE_COLUMNS, MATCHUP_COLUMNS } from '../store/judgement-derived';
import { campaignReports, campaignsQuery, ratersQuery, type CampaignReleaseStats } from './campaign-files';
import { campaignScope } from './campaign-scope';
import { judgementTotals } from './comparisons';
import {
  GROWING_TABLES, PARQUET_TABLES, fileEntry, fsyncFile,
  type FileEntry, type ReleaseInfo, type ReleaseManifest, type ReleaseStats, type ReleaseTable,
} from './layout';
import { writeChatFiles, type ChatReleaseStats, type ChatTable } from './chat';
import { rows, run } from './query';
import type { ReportData } from './report';
import { releaseScope, type ReleaseScope } from './scope';
import { quotedString } from './sql';
import { showcaseMatchups } from './showcase';
import { leaderboard, modelPairRows, raterAgreement, stageLeaderboard, stageModelPairs } from './standings';
import { voteStatistics, type VoteStatistics } from './statistics';
import { ktoQuery, preferenceSources, preferencesChatQuery, preferencesQuery } from './training-files';
import type { PublishStep } from './types';

const PARQUET_OPTIONS = '(FORMAT parquet, COMPRESSION zstd)';
/** Every way in but the open panel's typed names establishes who the rater is (the dataset card says so). */
const RATER_VERIFIED = `rater_auth <> 'open' AS rater_verified`;
/**
 * preferences.parquet is smaller than the ledger tables, and DuckDB encodes one row group per thread:
 * the default 122,880-row groups leave all but one core idle below that size. 16,384-row groups are
 * still large for readers and let every thread encode. Its path columns are hex digests, which zstd
 * level 1 compresses faster *and* smaller than the default level 3 (bench/release at 1M votes:
 * 0.12–0.14 s and 6.53 MB against 0.17–0.37 s and 6.77 MB).
 */
export const PREFERENCES_ROW_GROUP_ROWS = 16_384;
const PREFERENCES_ZSTD_LEVEL = 1;
/**
 * The per-judgement files, the training files and kto: DuckDB's dictionary encoding (and the bloom
 * filters it writes with it) costs more than it saves on them — rows of a lifecycle are adjacent, so
 * zstd finds the repeats anyway — and zstd level 1 is cheaper still (bench/release-compare at 1M
 * judgements, CPU s: judgement_events 1.0 → 0.8 → 0.65, preferences 1.7 → 1.4, and smaller without the
 * dictionary).
 */
const DICTIONARY_OFF = 'DICTIONARY_SIZE_LIMIT 1';
export const JUDGEMENT_PARQUET_OPTIONS = `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ${DICTIONARY_OFF})`;
/**
 * lifecycles, candidates and matchups: one row per lifecycle or candidate, hex digests and paths, a
 * prompt repeated across lifecycles. zstd level 1 with the dictionary kept: at the default level 3
 * they cost a third of a release beside a 1M-judgement table (bench/release-compare, 66,666
 * lifecycles, CPU s: lifecycles 0.12 → 0.07, candidates 0.55 → 0.34, matchups 0.35 → 0.10; 9.8 MB
 * instead of 10.1 MB of candidates, 5.0 instead of 5.3 MB of matchups, 1.7 instead of 1.1 MB of lifecycles).
 */
const PER_LIFECYCLE_PARQUET_OPTIONS = '(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)';

export interface Written {
  rows: Record<ReleaseTable, number>;
  added: ReleaseManifest['addedSincePrevious'];
  stats: ReleaseStats;
  chat: ChatReleaseStats;
  campaigns: CampaignReleaseStats;
  schemas: Record<ReleaseTable, Array<{ name: string; type: string }>>;
  report: Omit<ReportData, 'releaseId' | 'cutoff'>;
}

export interface WriteContext {
  cutoff: string;
  /** The release's temp folder. */
  tmp: string;
  previous?: ReleaseInfo | undefined;
  artifactDir?: string | undefined;
  bootstrapRounds: number;
  step: (s: PublishStep) => Promise<void>;
  preferencesRowGroupRows: number;
  /** Runs `fn` on another connection of the ledger, concurrently with this one. */
  alongside: <T>(fn: (c: DuckDBConnection) => Promise<T>) => Promise<T>;
  /** Filled with each parquet file's checksum (size and sha256), settled once it is durable. */
  checksums: Map<ReleaseTable, Promise<FileEntry>>;
}

/** Writes every parquet file of the release into `ctx.tmp`; `c` must be in the snapshot transaction. */
export async function writeTables(c: DuckDBConnection, ctx: WriteContext): Promise<Written> {
  const scope = await releaseScope(c, ctx.cutoff);
  // Another connection computes the statistics while this one writes lifecycles.parquet, which
  // DuckDB encodes on one core.
  const statistics = ctx.alongside((other) => voteStatistics(other, scope.inRelease, ctx.artifactDir));
  statistics.catch(() => undefined); // awaited below; a failed publish waits for it to settle
  try {
    return await writeFiles(c, ctx, scope, statistics);
  } finally {
    await statistics.catch(() => undefined);
  }
}

async function writeFiles(c: DuckDBConnection, ctx: WriteContext, scope: ReleaseScope, statistics: Promise<VoteStatistics>): Promise<Written> {
  const { inRelease, completeByCutoff, pendingLifecycles } = scope;
  const to = (table: ReleaseTable) => quotedString(join(ctx.tmp, `${table}.parquet`));
  const rowCounts = {} as Record<ReleaseTable, number>;
  /** Writes one file; `copy` also reports its step (the chat files share one step, `chat`). */
  const copyFile = async (table: ReleaseTable, select: string, options = PARQUET_OPTIONS): Promise<void> => {
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
  const copy = async (table: Exclude<ReleaseTable, ChatTable>, select: string, options = PARQUET_OPTIONS): Promise<void> => {
    await copyFile(table, select, options);
    await ctx.step(table);
  };

  // Deterministic bytes without a sort: the ledger is append-only (Ledger.commit appends each batch in
  // its own order; nothing is deleted or moved), and with preserve_insertion_order a filtered scan
  // returns rows in ledger order, i.e. commit order. Sorting by key instead cost as much as writing
  // the files (bench/release).
  await copy('lifecycles', `SELECT * FROM lifecycles WHERE ${inRelease}`, PER_LIFECYCLE_PARQUET_OPTIONS);
  await copy('candidates', `SELECT * FROM candidates WHERE ${inRelease}`, PER_LIFECYCLE_PARQUET_OPTIONS);
  await copy(
    'votes',
    `SELECT run_id, lifecycle_id, idempotency_key, seq, candidate_id, rater, value, comment, channel, cast_at, accepted_at, committed_at,
            rater_auth, ${RATER_VERIFIED}
       FROM votes WHERE standing AND kind = 'vote' AND ${inRelease}`,
  );
  await copy('vote_events', `SELECT *, ${RATER_VERIFIED} FROM votes WHERE ${inRelease}`);

  // Judgements: every event as it arrived, then the standing ones and the per-lifecycle results as the
  // ledger derived them when each lifecycle completed (store/judgement-derived.ts), less what campaigns
  // take out (releases/campaign-scope.ts: gold lifecycles; excluded raters, flagged in battles).
  const campaign = await campaignScope(c, ctx.cutoff, completeByCutoff);
  await copy('judgement_events', `SELECT *, ${RATER_VERIFIED} FROM judgements WHERE ${inRelease}`, JUDGEMENT_PARQUET_OPTIONS);
  await copy('battles', `SELECT ${BATTLE_COLUMNS.join(', ')}, ${campaign.exclusionColumns} FROM ${campaign.battles} WHERE ${completeByCutoff}`, JUDGEMENT_PARQUET_OPTIONS);
  await copy('matchups', `SELECT ${MATCHUP_COLUMNS.join(', ')} FROM ${campaign.matchups} WHERE ${completeByCutoff}`, PER_LIFECYCLE_PARQUET_OPTIONS);

  // Training files (releases/training-files.ts): pairs in completion order, as the ledger derived them.
  const sources = await preferenceSources(c);
  const battles = { table: campaign.battles, counted: campaign.countedBattles, notGold: campaign.notGold };
  await copy('preferences', preferencesQuery(completeByCutoff, sources, battles),
    `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${PREFERENCES_ZSTD_LEVEL}, ${DICTIONARY_OFF}, ROW_GROUP_SIZE ${ctx.preferencesRowGroupRows})`);
  await copy('preferences_chat', preferencesChatQuery(completeByCutoff, sources, battles), JUDGEMENT_PARQUET_OPTIONS);
  await copy('kto', ktoQuery(inRelease, campaign.countedVotes), JUDGEMENT_PARQUET_OPTIONS);

  const judgements = await judgementTotals(c, completeByCutoff, campaign.matchups);
  const board = await leaderboard(c, completeByCutoff, ctx.bootstrapRounds, judgements, campaign.notGold);
  await copy('leaderboard', await stageLeaderboard(c, board.rows));
  await copy('model_pairs', await stageModelPairs(c, modelPairRows(board.cells, judgements)));
  await copy('campaigns', campaignsQuery(ctx.cutoff));
  await copy('raters', ratersQuery(ctx.cutoff));
  const campaigns = await campaignReports(
    c, { campaigns: join(ctx.tmp, 'campaigns.parquet'), raters: join(ctx.tmp, 'raters.parquet') }, inRelease, campaign, ctx.cutoff,
  );

  const chat = await writeChatFiles(c, ctx.cutoff, async (table, select) => {
    await copyFile(table, select);
    return rowCounts[table];
  });
  await ctx.step('chat');

  const agreement = await raterAgreement(c, completeByCutoff, board.rows.map((r) => r.model), campaign.notGold);
  const showcase = await showcaseMatchups(c, completeByCutoff, ctx.artifactDir, campaign.matchups);
  const [bySource] = await rows<{ thumbs: number; compare: number }>(
    c, `SELECT count(*) FILTER (WHERE source = 'thumbs')::INTEGER AS thumbs, count(*) FILTER (WHERE source = 'compare')::INTEGER AS compare FROM read_parquet(${to('preferences')})`,
  );
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
  const { cells, tiedPairs } = board;
  const stats: ReleaseStats = {
    lifecyclesPendingAtCutoff: pendingLifecycles,
    preferencePairs: rowCounts.preferences,
    tiedPairs,
    abComparisons: cells.reduce((n, cell) => n + cell.winsA + cell.winsB + cell.ties, 0),
    raters,
    krippendorffAlpha: agreement.overall.alpha,
    artifactsReferenced,
    artifactsMissing,
    battles: rowCounts.battles,
    compareComparisons: judgements.cells.reduce((n, cell) => n + cell.winsA + cell.winsB + cell.ties, 0),
    compareTies: judgements.ties,
    compareBothBad: judgements.totalBothBad,
    preferencesBySource: { thumbs: bySource?.thumbs ?? 0, compare: bySource?.compare ?? 0 },
    positionBias: judgements.positionBias,
  };
  return {
    rows: rowCounts,
    added,
    stats,
    chat,
    campaigns: campaigns.stats,
    schemas,
    report: {
      rows: rowCounts, stats, chat, daily, leaderboard: board.rows, cells, topRaters, agreement, compareCells: judgements.cells, showcase,
      campaigns: campaigns.reports,
    },
  };
}
