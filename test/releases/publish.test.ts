/**
 * Publishing parquet releases from a ledger filled through `Ledger.commit` (test/releases/fixtures.ts):
 * every file read back with hyparquet (independent) and DuckDB against the ledger, hand-computed
 * preferences and leaderboard, the cutoff rule, determinism, crash injection at every step, verify,
 * diff, export and querying a release.
 */
import assert from 'node:assert/strict';
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fillSyntheticLedger } from '../../bench/release';
import { runRelease } from '../../cli/release';
import { loadConfig } from '../../config';
import { listReleases, readManifest, resolveRelease, type ReleaseManifest } from '../../releases/layout';
import { ErrorCode } from '../../core/errors';
import { PUBLISH_STEPS, publishRelease, ReleaseError, type PublishStep } from '../../releases/publisher';
import { quotedString } from '../../releases/sql';
import { diffReleases, exportRelease, queryRelease, verifyRelease, withMemoryDatabase } from '../../releases/tools';
import { ArtifactStore } from '../../store/ArtifactStore';
import { Ledger } from '../../store/Ledger';
import { CUTOFF_1, CUTOFF_2, INVITED_RATER, at, fillLedger, rater, readParquetIndependently } from './fixtures';

const PARQUET_FILES = [
  'lifecycles', 'candidates', 'votes', 'vote_events', 'judgement_events', 'battles', 'matchups', 'preferences', 'preferences_chat', 'kto', 'leaderboard', 'model_pairs',
  'campaigns', 'raters', 'conversations', 'messages', 'chat_preferences', 'chat_kto',
].map((t) => `${t}.parquet`);

const FIRST_RUNS = `('run-L1', 'run-L2', 'run-L3', 'run-L4')`;

/** hyparquet gives Dates, bigints and parsed JSON; DuckDB's JSON rows give strings for those. */
function sameValue(independent: unknown, duck: unknown): boolean {
  if (independent instanceof Date) return typeof duck === 'string' && independent.getTime() === Date.parse(duck.replace(' ', 'T').replace(/\+00$/, 'Z'));
  if (typeof independent === 'bigint') return BigInt(duck as string) === independent;
  if (Array.isArray(independent)) return Array.isArray(duck) && independent.length === duck.length && independent.every((v, i) => sameValue(v, duck[i]));
  if (independent !== null && typeof independent === 'object') return typeof duck === 'string' && JSON.stringify(independent) === JSON.stringify(JSON.parse(duck));
  return independent === duck;
}

function assertSameRows(independent: Array<Record<string, unknown>>, duck: Array<Record<string, unknown>>, label: string): void {
  assert.equal(independent.length, duck.length, `${label}: row count`);
  independent.forEach((row, i) => {
    assert.deepEqual(Object.keys(row), Object.keys(duck[i] ?? {}), `${label}: columns`);
    for (const [k, v] of Object.entries(row)) assert.ok(sameValue(v, duck[i]?.[k]), `${label} row ${i} ${k}: ${String(v)} vs ${String(duck[i]?.[k])}`);
  });
}

async function readWithDuckDb(file: string, sql = 'SELECT * FROM t'): Promise<Array<Record<string, unknown>>> {
  return withMemoryDatabase(async (c) => {
    await c.run(`CREATE VIEW t AS SELECT * FROM read_parquet(${quotedString(file)})`);
    return (await c.runAndReadAll(sql)).getRowObjectsJson() as Array<Record<string, unknown>>;
  });
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('release publishing (releases/publisher)', function () {
  this.timeout(60_000);
  let dir: string;
  let ledger: Ledger;
  let artifacts: ArtifactStore;
  let releasesDir: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-release-'));
    ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
    artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    await fillLedger(ledger, artifacts);
    // A quote in the path exercises the quoting of COPY targets and read_parquet paths.
    releasesDir = join(dir, "it's releases");
  });

  afterEach(() => {
    ledger.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  const publish = (cutoff: string, extra: Partial<Parameters<typeof publishRelease>[0]> = {}) =>
    publishRelease({ ledger, releasesDir, cutoff, artifactDir: artifacts.rootDir, now: () => at(600), ...extra });

  it('should write every file, identical to the ledger through hyparquet and DuckDB alike', async () => {
    const memoryLimit = () => ledger.withConnection(async (c) => (await c.runAndReadAll(`SELECT current_setting('memory_limit')`)).getRows()[0]?.[0]);
    const limitBefore = await memoryLimit();
    const result = await publish(CUTOFF_1);
    assert.equal(await memoryLimit(), limitBefore); // the release's lower limit does not outlive it
    assert.equal(result.releaseId, '2026-11-20');
    assert.equal(result.latest, true);
    // No judgements in this ledger: their files are there, empty. Every pair's candidates are texts (preferences_chat); kto has a row per standing vote.
    // No chat conversations either: the chat files are there, empty.
    assert.deepEqual(result.rows, {
      lifecycles: 4, candidates: 10, votes: 12, vote_events: 15, judgement_events: 0, battles: 0, matchups: 0, preferences: 4, preferences_chat: 4, kto: 12,
      leaderboard: 3, model_pairs: 1, campaigns: 0, raters: 0, conversations: 0, messages: 0, chat_preferences: 0, chat_kto: 0,
    });
    assert.deepEqual(readdirSync(result.dir).sort(), ['README.md', 'manifest.json', ...PARQUET_FILES, 'report.html'].sort());
    // Rows in ledger order (rowid: commit order), which is what makes the bytes deterministic.
    const expected: Record<string, string> = {
      lifecycles: `SELECT * FROM lifecycles WHERE run_id IN ${FIRST_RUNS} ORDER BY rowid`,
      candidates: `SELECT * FROM candidates WHERE run_id IN ${FIRST_RUNS} ORDER BY rowid`,
      votes: `SELECT run_id, lifecycle_id, idempotency_key, seq, candidate_id, rater, value, comment, channel, cast_at, accepted_at, committed_at,
                     rater_auth, rater_auth <> 'open' AS rater_verified
                FROM votes WHERE standing AND kind = 'vote' AND run_id IN ${FIRST_RUNS} ORDER BY rowid`,
      vote_events: `SELECT *, rater_auth <> 'open' AS rater_verified FROM votes WHERE run_id IN ${FIRST_RUNS} ORDER BY rowid`,
    };
    for (const [table, sql] of Object.entries(expected)) {
      const file = join(result.dir, `${table}.parquet`);
      const fromLedger = (await ledger.query(sql)).rows;
      const fromDuckDb = await readWithDuckDb(file);
      assert.deepEqual(fromDuckDb, fromLedger, `${table}: DuckDB read-back vs ledger`);
      assertSameRows(await readParquetIndependently(file), fromDuckDb, table);
    }
    // Who started each lifecycle and from where: as the fixture's inputs said, unknown where they did not.
    const lifecycles = await readParquetIndependently(join(result.dir, 'lifecycles.parquet'));
    assert.deepEqual(lifecycles.map((l) => [l.lifecycle_id, l.started_by, l.started_from]), [
      ['L1', rater(1), 'slack:/prefline'],
      ['L2', rater(2), 'web:prompt-box'],
      ['L3', null, 'cli'],
      ['L4', null, 'unknown'],
    ]);
    assert.match(readFileSync(join(result.dir, 'README.md'), 'utf8'), /`lifecycles\.started_from` says where a lifecycle was started/);
    // How each rater signed in: rater 2 by invite (verified), the others by typed name (open, unverified).
    const standing = await readParquetIndependently(join(result.dir, 'votes.parquet'));
    assert.deepEqual([...new Set(standing.map((v) => `${String(v.rater_auth)}:${String(v.rater_verified)}`))].sort(), ['invite:true', 'open:false']);
    assert.ok(standing.every((v) => v.rater_verified === (v.rater === `r_${String(INVITED_RATER).padStart(24, '0')}`)));
    assert.match(readFileSync(join(result.dir, 'README.md'), 'utf8'), /`rater_verified` is false exactly for `open`/);
    // Retractions applied: the retracted and the changed-away votes are events, not votes.
    const events = await readParquetIndependently(join(result.dir, 'vote_events.parquet'));
    assert.deepEqual(events.filter((e) => !e.standing).map((e) => e.idempotency_key), ['L1:k06', 'L1:k07', 'L2:k03']);
    assert.equal(events.filter((e) => e.kind === 'retract').length, 1);
    // The report's daily plot: every event was cast on 2026-11-20 (UTC).
    const report = readFileSync(join(result.dir, 'report.html'), 'utf8');
    assert.deepEqual(report.match(/<title>\d{4}-\d{2}-\d{2}: \d+ (votes|retractions)<\/title>/g), ['<title>2026-11-20: 14 votes</title>', '<title>2026-11-20: 1 retractions</title>']);
  });

  it('should derive preference pairs and the leaderboard exactly as computed by hand', async () => {
    const result = await publish(CUTOFF_1);
    const file = join(result.dir, 'preferences.parquet');
    const pairs = await readParquetIndependently(file);
    assertSameRows(pairs, await readWithDuckDb(file), 'preferences');
    const cols = ['lifecycle_id', 'chosen_candidate_id', 'rejected_candidate_id', 'chosen_model', 'rejected_model', 'margin', 'chosen_up', 'chosen_down', 'rejected_up', 'rejected_down'];
    assert.deepEqual(pairs.map((p) => cols.map((c) => p[c])), [
      ['L1', 'c1', 'c2', 'demo:alpha', 'demo:beta', 3, 2, 1, 0, 2],
      ['L2', 'c1', 'c3', 'demo:alpha', 'demo:alpha', 2, 1, 0, 0, 1],
      ['L2', 'c2', 'c3', 'demo:alpha', 'demo:alpha', 2, 1, 0, 0, 1],
      ['L4', 'c2', 'c1', 'demo:beta', 'demo:alpha', 2, 1, 0, 0, 1],
    ]);
    const first = pairs[0] as Record<string, unknown>;
    assert.equal(first.prompt, 'a fox in the snow');
    assert.equal(first.chosen_text, 'L1 candidate c1 from demo:alpha');
    assert.match(String(first.chosen_path), /^artifacts\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\.txt$/);

    const board = await readParquetIndependently(join(result.dir, 'leaderboard.parquet'));
    const view = board.map((r) => [r.model, r.lifecycles, r.candidates, r.votes, r.up, r.down, r.approval_rate, r.ab_comparisons, r.ab_wins, r.ab_losses, r.ab_ties, r.bt_rank]);
    assert.deepEqual(view, [
      ['demo:alpha', 4, 6, 8, 5, 3, 0.625, 3, 1, 1, 1, 1],
      ['demo:beta', 3, 3, 4, 2, 2, 0.5, 3, 1, 1, 1, 2],
      ['demo:gamma', 1, 1, 0, 0, 0, null, 0, 0, 0, 0, null],
    ]);
    // alpha and beta: one win each and one tie → equal strengths, both at the 1000 anchor.
    assert.ok(Math.abs((board[0]?.bt_score as number) - 1000) < 1e-6 && Math.abs((board[1]?.bt_score as number) - 1000) < 1e-6);
    assert.ok((board[0]?.bt_ci_low as number) < 1000 && (board[0]?.bt_ci_high as number) > 1000);
    assert.equal(board[2]?.bt_score, null);

    const manifest = (await readManifest(result.dir)) as ReleaseManifest;
    assert.deepEqual(manifest.stats, {
      lifecyclesPendingAtCutoff: 1, // L6: its second batch committed after the cutoff
      preferencePairs: 4,
      tiedPairs: 2, // L2 c1=c2, L3 c1=c2
      abComparisons: 3,
      raters: 4,
      // Items rated twice or more: L1c1 (2 up, 1 down), L1c2 (2 down) → n=5, Σo_ud=2, Σn_c·n_k=12 → 1 − 4·2/12.
      krippendorffAlpha: manifest.stats.krippendorffAlpha,
      artifactsReferenced: 10,
      artifactsMissing: 0,
      battles: 0,
      compareComparisons: 0,
      compareTies: 0,
      compareBothBad: 0,
      preferencesBySource: { thumbs: 4, compare: 0 },
      positionBias: { decided: 0, leftWins: 0, leftShare: null, ciLow: null, ciHigh: null },
    });
    assert.ok(Math.abs((manifest.stats.krippendorffAlpha as number) - 1 / 3) < 1e-12);
  });

  it('should follow the cutoff rule, count rows added since the previous release and diff them', async () => {
    const first = await publish(CUTOFF_1);
    const second = await publish(CUTOFF_2);
    assert.equal(second.releaseId, '2026-11-20-2'); // the same day's second release
    assert.equal(second.previousReleaseId, first.releaseId);
    assert.equal(readlinkSync(join(releasesDir, 'latest')), second.releaseId);
    const manifest = (await readManifest(second.dir)) as ReleaseManifest;
    assert.equal(manifest.cutoff, CUTOFF_2);
    assert.equal(manifest.createdAt, at(600).toISOString());
    assert.deepEqual(manifest.addedSincePrevious, {
      lifecycles: 2, candidates: 4, votes: 5, vote_events: 5, judgement_events: 0, battles: 0, matchups: 0, preferences: 2, preferences_chat: 2, kto: 5,
    });
    assert.equal(manifest.stats.lifecyclesPendingAtCutoff, 0);
    // Commit order, not key order: L6 (committed at +50 and +70 min) precedes L5 (+90 min), and the
    // vote of L6's second batch comes before L5's votes.
    const lifecycleOrder = (await readParquetIndependently(join(second.dir, 'lifecycles.parquet'))).map((r) => r.lifecycle_id);
    assert.deepEqual(lifecycleOrder, ['L1', 'L2', 'L3', 'L4', 'L6', 'L5']);
    const eventOrder = (await readParquetIndependently(join(second.dir, 'vote_events.parquet'))).map((r) => r.idempotency_key).slice(-5);
    assert.deepEqual(eventOrder, ['L6:k01', 'L6:k02', 'L6:k03', 'L5:k01', 'L5:k02']);
    for (const [name, entry] of Object.entries(manifest.files)) {
      assert.equal(entry.sha256, sha(join(second.dir, name)), name);
      assert.equal(entry.bytes, readFileSync(join(second.dir, name)).length, name);
    }
    const diffs = await diffReleases(await resolveRelease(releasesDir, first.releaseId), await resolveRelease(releasesDir, 'latest'));
    const byTable = Object.fromEntries(diffs.map((d) => [d.table, [d.rowsA, d.rowsB, d.added, d.removed, d.changed]]));
    assert.deepEqual(byTable, {
      lifecycles: [4, 6, 2, 0, 0],
      candidates: [10, 14, 4, 0, 0],
      votes: [12, 17, 5, 0, 0],
      vote_events: [15, 20, 5, 0, 0],
      judgement_events: [0, 0, 0, 0, 0],
      battles: [0, 0, 0, 0, 0],
      matchups: [0, 0, 0, 0, 0],
      preferences: [4, 6, 2, 0, 0],
      preferences_chat: [4, 6, 2, 0, 0],
      kto: [12, 17, 5, 0, 0],
      leaderboard: [3, 3, 0, 0, 2], // alpha's and beta's tallies changed, gamma's did not
      model_pairs: [1, 1, 0, 0, 1], // alpha–beta: one more comparison
      campaigns: [0, 0, 0, 0, 0],
      raters: [0, 0, 0, 0, 0],
      conversations: [0, 0, 0, 0, 0],
      messages: [0, 0, 0, 0, 0],
      chat_preferences: [0, 0, 0, 0, 0],
      chat_kto: [0, 0, 0, 0, 0],
    });
    const backwards = await diffReleases(await resolveRelease(releasesDir, 'latest'), await resolveRelease(releasesDir, first.releaseId));
    assert.deepEqual(backwards.find((d) => d.table === 'votes'), { table: 'votes', rowsA: 17, rowsB: 12, added: 0, removed: 5, changed: 0 });
    // A backfill of an older cutoff does not pull `latest` back.
    const backfill = await publish(at(45).toISOString());
    assert.equal(backfill.latest, false);
    assert.equal(readlinkSync(join(releasesDir, 'latest')), second.releaseId);
  });

  it('should publish byte-identical parquet (and card and report) for the same cutoff, and reuse a whole release', async () => {
    const first = await publish(CUTOFF_1);
    const again = await publish(CUTOFF_1, { releaseId: 'same-cutoff-again', now: () => at(900) });
    // Closing the ledger (a checkpoint rewrites its storage) and reopening it keeps the row order.
    const ledgerPath = ledger.path;
    ledger.closeSync();
    ledger = await Ledger.openWriter(ledgerPath, { allowedDirectories: [dir] });
    const reopened = await publish(CUTOFF_1, { releaseId: 'after-reopen', now: () => at(950) });
    // The same commits into a different ledger file give the same bytes too.
    const otherDir = mkdtempSync(join(tmpdir(), 'prefline-release-other-'));
    const other = await Ledger.openWriter(join(otherDir, 'ledger.duckdb'), { allowedDirectories: [otherDir] });
    try {
      await fillLedger(other, await ArtifactStore.open(join(otherDir, 'artifacts')));
      const elsewhere = await publishRelease({ ledger: other, releasesDir: join(otherDir, 'releases'), cutoff: CUTOFF_1, now: () => at(700) });
      const names = Object.keys(((await readManifest(first.dir)) as ReleaseManifest).files);
      assert.equal(names.length, PARQUET_FILES.length + 2);
      for (const name of names) {
        // The card and report name the release id, so they match where the id does.
        if (name.endsWith('.parquet')) assert.equal(sha(join(again.dir, name)), sha(join(first.dir, name)), name);
        if (name.endsWith('.parquet')) assert.equal(sha(join(reopened.dir, name)), sha(join(first.dir, name)), `${name} (ledger reopened)`);
        assert.equal(sha(join(elsewhere.dir, name)), sha(join(first.dir, name)), `${name} (other ledger)`);
      }
    } finally {
      other.closeSync();
      rmSync(otherDir, { recursive: true, force: true });
    }
    assert.notEqual(sha(join(again.dir, 'manifest.json')), sha(join(first.dir, 'manifest.json'))); // created_at lives there only
    // Without an explicit id, the same cutoff finds the existing release: verified, reused, nothing new written.
    const before = readdirSync(releasesDir).sort();
    const reused = await publish(CUTOFF_1);
    assert.equal(reused.reused, true);
    assert.ok([first.releaseId, 'same-cutoff-again', 'after-reopen'].includes(reused.releaseId));
    assert.deepEqual(readdirSync(releasesDir).sort(), before);
    // An explicit id already used by another cutoff is refused.
    await assert.rejects(publish(CUTOFF_2, { releaseId: first.releaseId }), (err: unknown) => err instanceof ReleaseError && err.code === ErrorCode.ReleaseConflict);
    await assert.rejects(publish(at(10_000).toISOString()), (err: unknown) => err instanceof ReleaseError && err.code === ErrorCode.ReleaseInvalid);
  });

  it('should leave out every row of a lifecycle committing increments while voting, and hold it whole once it completed by the cutoff', async () => {
    const parquetHashes = (releaseDir: string) => PARQUET_FILES.map((name) => [name, sha(join(releaseDir, name))]);
    const before = await publish(CUTOFF_2, { releaseId: 'before-l7' });
    // L7 votes for a long time: two increments before CUTOFF_2 (the second clears the flag of a vote rater 1 changed), the close after it.
    const base = {
      lifecycleId: 'L7', runId: 'run-L7', startedAt: at(95).toISOString(), deadlineAt: at(400).toISOString(),
      plan: { prompt: 'still voting', models: ['demo:alpha'], candidatesPerModel: 2, params: {}, channel: { kind: 'web' as const }, channelLabel: 'web', quorum: { kind: 'total' as const, votes: 100 }, deadline: { kind: 'duration' as const, ms: 1 } },
    };
    const vote = (seq: number, candidateId: string, value: 'up' | 'down', r: string, standing: boolean) => ({
      idempotencyKey: `L7:k${seq}`, candidateId, value, rater: r, channel: 'web', castAt: at(95 + seq).toISOString(), seq, acceptedAt: at(95 + seq).toISOString(), standing,
    });
    const candidates = [1, 2].map((n) => ({
      id: `c${n}`, label: n === 1 ? 'A' : 'B', model: 'demo:alpha', kind: 'text' as const, text: `L7 c${n}`, placeholder: true,
      artifact: { sha256: String(n).repeat(64), mime: 'text/plain', size: 5, path: `sha256/${String(n).repeat(2)}/${String(n).repeat(64)}.txt` },
      provenance: { backend: 'demo', model: 'alpha', params: {}, seed: n, wallTimeMs: 1 },
    }));
    const [r1, r2] = ['r_00000000000000a1', 'r_00000000000000a2'];
    await ledger.commit({ lifecycle: { ...base, votesAccepted: 2 }, candidates, votes: [vote(1, 'c1', 'up', r1, true), vote(2, 'c2', 'up', r2, true)] }, at(100));
    await ledger.commit({ lifecycle: { ...base, votesAccepted: 3 }, candidates: [], votes: [vote(3, 'c1', 'down', r1, true)], unstand: [1] }, at(150));
    const voting = await publish(CUTOFF_2, { releaseId: 'l7-voting' });
    assert.deepEqual(parquetHashes(voting.dir), parquetHashes(before.dir), 'a voting lifecycle changes no file');
    assert.equal(((await readManifest(voting.dir)) as ReleaseManifest).stats.lifecyclesPendingAtCutoff, 1);
    // Closed and complete after CUTOFF_2: still not in a release at CUTOFF_2, byte for byte.
    await ledger.commit({ lifecycle: { ...base, closedAt: at(300).toISOString(), closeReason: 'deadline', votesAccepted: 4 }, candidates: [], votes: [vote(4, 'c2', 'down', 'r_00000000000000a3', true)] }, at(300));
    const closedLater = await publish(CUTOFF_2, { releaseId: 'l7-closed-later' });
    assert.deepEqual(parquetHashes(closedLater.dir), parquetHashes(before.dir));
    // A cutoff after its completion holds it whole, with the final flags.
    const after = await publish(at(310).toISOString());
    const events = await readWithDuckDb(join(after.dir, 'vote_events.parquet'), `SELECT idempotency_key, standing FROM t WHERE lifecycle_id = 'L7' ORDER BY seq`);
    assert.deepEqual(events, [
      { idempotency_key: 'L7:k1', standing: false }, { idempotency_key: 'L7:k2', standing: true }, { idempotency_key: 'L7:k3', standing: true }, { idempotency_key: 'L7:k4', standing: true },
    ]);
    assert.deepEqual(await readWithDuckDb(join(after.dir, 'lifecycles.parquet'), `SELECT close_reason, votes_accepted FROM t WHERE lifecycle_id = 'L7'`), [{ close_reason: 'deadline', votes_accepted: 4 }]);
    assert.equal(((await readManifest(after.dir)) as ReleaseManifest).stats.lifecyclesPendingAtCutoff, 0);
  });

  it('should write preferences.parquet in row groups of the configured size, the same bytes whatever the thread setting', async function () {
    this.timeout(120_000);
    // Row groups are cut in whole vectors (2,048 rows), so this needs thousands of pairs: the bench's synthetic ledger.
    const synthetic = await Ledger.openWriter(join(dir, 'synthetic.duckdb'), { allowedDirectories: [dir] });
    try {
      await fillSyntheticLedger(synthetic, 6_000);
      const publishSynthetic = (releaseId: string, preferencesRowGroupRows?: number) =>
        publishRelease({ ledger: synthetic, releasesDir: join(dir, 'synthetic-releases'), cutoff: at(600).toISOString(), now: () => at(600), releaseId, preferencesRowGroupRows });
      const grouped = await publishSynthetic('grouped', 2_048);
      const pairs = grouped.rows.preferences;
      assert.ok(pairs > 2 * 2_048, `only ${pairs} pairs`);
      const rowGroups = await withMemoryDatabase(async (c) =>
        (await c.runAndReadAll(
          `SELECT row_group_id, max(row_group_num_rows)::INTEGER AS n FROM parquet_metadata(${quotedString(join(grouped.dir, 'preferences.parquet'))}) GROUP BY ALL ORDER BY ALL`,
        )).getRowObjectsJson() as Array<{ n: number }>);
      assert.deepEqual(rowGroups.map((g) => g.n), Array.from({ length: Math.ceil(pairs / 2_048) }, (_, i) => Math.min(2_048, pairs - i * 2_048)));
      // DuckDB cuts row groups differently on one thread; the publisher pins the ledger's thread count,
      // so a changed setting does not change the bytes, and the setting is restored afterwards.
      await synthetic.withConnection((c) => c.run('SET threads = 1'));
      const single = await publishSynthetic('one-thread', 2_048);
      assert.equal(sha(join(single.dir, 'preferences.parquet')), sha(join(grouped.dir, 'preferences.parquet')));
      assert.equal(await synthetic.withConnection(async (c) => (await c.runAndReadAll(`SELECT current_setting('threads')::INTEGER`)).getRows()[0]?.[0]), 1);
      // The grouping changes the file, not the rows or their order.
      const keys = 'SELECT run_id, chosen_candidate_id, rejected_candidate_id, margin FROM t';
      const whole = await publishSynthetic('one-group', 1_000_000);
      assert.notEqual(sha(join(whole.dir, 'preferences.parquet')), sha(join(grouped.dir, 'preferences.parquet')));
      assert.deepEqual(await readWithDuckDb(join(grouped.dir, 'preferences.parquet'), keys), await readWithDuckDb(join(whole.dir, 'preferences.parquet'), keys));
      await assert.rejects(publishSynthetic('bad', 0), (err: unknown) => err instanceof ReleaseError && err.code === ErrorCode.ReleaseInvalid && /preferencesRowGroupRows/.test(err.message));
    } finally {
      synthetic.closeSync();
    }
  });

  for (const crashAfter of PUBLISH_STEPS) {
    it(`should leave no release or a whole one after a crash after "${crashAfter}", and finish on the rerun`, async () => {
      const base = await publish(at(45).toISOString());
      const crash = (step: PublishStep) => {
        if (step === crashAfter) throw new Error(`injected crash after ${step}`);
      };
      await assert.rejects(publish(CUTOFF_2, { afterStep: crash }), /injected crash/);
      const whole = (await listReleases(releasesDir)).filter((r) => r.manifest.cutoff === CUTOFF_2);
      const renamed = PUBLISH_STEPS.indexOf(crashAfter) >= PUBLISH_STEPS.indexOf('rename');
      assert.equal(whole.length, renamed ? 1 : 0);
      for (const r of whole) assert.deepEqual(await verifyRelease(r), []);
      // `latest` moves last: only a crash after that step sees it moved.
      assert.equal(readlinkSync(join(releasesDir, 'latest')), crashAfter === 'latest' ? '2026-11-20-2' : base.releaseId);

      const rerun = await publish(CUTOFF_2);
      assert.equal(rerun.reused, renamed);
      const releases = await listReleases(releasesDir);
      assert.deepEqual(releases.map((r) => [r.id, r.manifest.cutoff]), [[base.releaseId, at(45).toISOString()], ['2026-11-20-2', CUTOFF_2]]);
      assert.deepEqual(await verifyRelease(releases[1]!), []);
      assert.equal(readlinkSync(join(releasesDir, 'latest')), '2026-11-20-2');
      assert.deepEqual(readdirSync(releasesDir).filter((n) => n.startsWith('.')), []); // leftovers removed
    });
  }

  it('should fail with a failed statistics query\'s own error, leave no release, and publish on the rerun', async () => {
    // Vote statistics run on a second connection, in a transaction of their own; break their rater query there.
    const breakRaterQuery = (c: DuckDBConnection): DuckDBConnection =>
      new Proxy(c, {
        get(target, key) {
          if (key === 'runAndReadAll') return (sql: string, values?: DuckDBValue[]) => target.runAndReadAll(/FROM rel_raters/.test(sql) ? 'SELECT * FROM no_such_table' : sql, values);
          const value: unknown = Reflect.get(target, key);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    const broken = { withConnection: <T>(fn: (c: DuckDBConnection) => Promise<T>) => ledger.withConnection((c) => fn(breakRaterQuery(c))) };
    await assert.rejects(publish(CUTOFF_1, { ledger: broken }), /no_such_table/);
    assert.deepEqual(await listReleases(releasesDir), []);
    const rerun = await publish(CUTOFF_1);
    assert.deepEqual(await verifyRelease((await listReleases(releasesDir))[0]!), []);
    assert.equal(rerun.reused, false);
  });

  it('should detect a tampered file in verify (CLI exits non-zero) and refuse to reuse it', async () => {
    const result = await publish(CUTOFF_1);
    const config = loadConfig({ PREFLINE_DATA_DIR: dir, PREFLINE_RELEASES_DIR: releasesDir, PREFLINE_ARTIFACT_DIR: artifacts.rootDir });
    const quiet = silenceOutput();
    try {
      assert.equal(await runRelease(config, ['verify']), 0);
      const file = join(result.dir, 'votes.parquet');
      const bytes = readFileSync(file);
      const middle = Math.floor(bytes.length / 2);
      bytes.writeUInt8(bytes.readUInt8(middle) ^ 0xff, middle);
      writeFileSync(file, bytes);
      assert.equal(await runRelease(config, ['verify', result.releaseId]), 1);
    } finally {
      quiet.restore();
    }
    const problems = await verifyRelease(await resolveRelease(releasesDir, 'latest'));
    assert.match(problems[0] as string, /^votes\.parquet: sha256/);
    assert.ok(problems.every((p) => p.startsWith('votes.parquet: ')), problems.join('; '));
    writeFileSync(join(result.dir, 'README.md'), 'edited\n');
    assert.ok((await verifyRelease(await resolveRelease(releasesDir, result.releaseId))).some((p) => p.startsWith('README.md: ')));
    await assert.rejects(publish(CUTOFF_1), (err: unknown) => err instanceof ReleaseError && err.code === ErrorCode.ReleaseCorrupt);
  });

  it('should export a self-contained folder with every referenced artifact', async () => {
    const result = await publish(CUTOFF_1);
    const out = join(dir, 'export');
    const exported = await exportRelease(await resolveRelease(releasesDir, 'latest'), out, artifacts.rootDir);
    assert.equal(exported.artifacts, 10);
    assert.equal(exported.files, PARQUET_FILES.length + 3);
    for (const pair of await readParquetIndependently(join(out, 'preferences.parquet'))) {
      for (const key of ['chosen_path', 'rejected_path'] as const) {
        const path = join(out, String(pair[key]));
        assert.ok(existsSync(path), path);
        assert.equal(readFileSync(path, 'utf8'), pair[key === 'chosen_path' ? 'chosen_text' : 'rejected_text']);
        assert.equal(sha(path), /([0-9a-f]{64})\.txt$/.exec(String(pair[key]))?.[1]);
      }
    }
    // The copy verifies like the release itself.
    assert.deepEqual(await verifyRelease({ id: result.releaseId, dir: out, manifest: (await readManifest(out)) as ReleaseManifest }), []);
    await assert.rejects(exportRelease(await resolveRelease(releasesDir, 'latest'), out, artifacts.rootDir), /not empty/);
    // A referenced artifact gone from the store makes the export fail rather than ship a broken folder.
    const [candidate] = await readWithDuckDb(join(result.dir, 'candidates.parquet'), 'SELECT path FROM t ORDER BY path LIMIT 1');
    rmSync(join(artifacts.rootDir, String(candidate?.path)));
    await assert.rejects(exportRelease(await resolveRelease(releasesDir, 'latest'), join(dir, 'export2'), artifacts.rootDir), /1 referenced artifact/);
    // The next release notes it in its manifest.
    const next = await publish(CUTOFF_2);
    assert.deepEqual([next.releaseId, (await readManifest(next.dir))?.stats.artifactsMissing, (await readManifest(next.dir))?.stats.artifactsReferenced], ['2026-11-20-2', 1, 14]);
  });

  it('should query a release through views named after its files, read-only', async () => {
    const result = await publish(CUTOFF_1);
    const { rows } = await queryRelease(result.dir, `SELECT (SELECT count(*) FROM votes)::INT AS votes, (SELECT count(*) FROM preferences)::INT AS pairs,
      (SELECT count(*) FROM vote_events)::INT AS events, (SELECT model FROM leaderboard WHERE bt_rank = 1) AS top`);
    assert.deepEqual(rows, [{ votes: 12, pairs: 4, events: 15, top: 'demo:alpha' }]);
    await assert.rejects(queryRelease(result.dir, `COPY votes TO '${join(dir, 'x.csv')}'`), /only SELECT/);
    await assert.rejects(queryRelease(result.dir, 'SELECT 1; SELECT 2'), /exactly one statement/);
  });
});

function silenceOutput(): { restore(): void } {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  return {
    restore() {
      process.stdout.write = out;
      process.stderr.write = err;
    },
  };
}
