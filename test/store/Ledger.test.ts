import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CommitRequest, CommittedVote, LifecycleRecord } from '../../store/ledger-types';
import { ErrorCode } from '../../core/errors';
import { LEDGER_SCHEMA_VERSION, Ledger, LedgerError } from '../../store/Ledger';
import { LedgerReadServer } from '../../store/LedgerReadServer';
import { DuckDBInstance } from '@duckdb/node-api';
import { validateLifecycleInput } from '../../workflows/input';
import { RatingLifecycle } from '../../workflows/lifecycle-state';
import { VoteTally } from '../../workflows/vote-tally';
import { OLD_PATHS, writeOldLedger } from './old-ledgers';
import type { Candidate, LifecyclePlan, VoteRequest, VoteValue } from '../../workflows/types';

const LEDGER_JS = path.resolve(__dirname, '../../store/Ledger.js');

const PLAN: LifecyclePlan = {
  prompt: 'a red fox in the snow',
  models: ['demo:shapes', 'demo:text'],
  candidatesPerModel: 1,
  params: { seed: 7, steps: 20 },
  channel: { kind: 'web' },
  channelLabel: 'web',
  quorum: { kind: 'perCandidate', votes: 3 },
  deadline: { kind: 'duration', ms: 3_600_000 },
  campaign: 'spring',
};

function lifecycleRecord(overrides: Partial<LifecycleRecord> = {}): LifecycleRecord {
  return {
    lifecycleId: 'lc-1',
    runId: 'run-1',
    plan: PLAN,
    startedAt: '2026-03-01T10:00:00.000Z',
    deadlineAt: '2026-03-01T11:00:00.000Z',
    closedAt: '2026-03-01T10:30:00.000Z',
    closeReason: 'quorum',
    votesAccepted: 0,
    ...overrides,
  };
}

function candidate(n: number, overrides: Partial<Candidate> = {}): Candidate {
  const sha = String(n).repeat(64).slice(0, 64);
  return {
    id: `c${n}`,
    label: String.fromCharCode(64 + n),
    model: n === 1 ? 'demo:shapes' : 'demo:text',
    kind: n === 1 ? 'image' : 'text',
    artifact: { sha256: sha, mime: n === 1 ? 'image/png' : 'text/plain; charset=utf-8', size: 100 * n, path: `sha256/${sha.slice(0, 2)}/${sha}.${n === 1 ? 'png' : 'txt'}` },
    ...(n === 1 ? {} : { text: `candidate ${n} text` }),
    placeholder: true,
    provenance: { backend: 'demo', model: n === 1 ? 'shapes' : 'text', version: 'demo-1', params: { steps: 20 }, seed: 7 + n, wallTimeMs: 3 },
    ...overrides,
  };
}

const rater = (n: number): string => `r_${n.toString(16).padStart(16, '0')}`;

function vote(seq: number, candidateId: string, value: VoteValue, raterNo: number, standing: boolean, extra: Partial<CommittedVote> = {}): CommittedVote {
  return {
    idempotencyKey: `web:${seq}`,
    candidateId,
    value,
    rater: rater(raterNo),
    channel: 'web',
    castAt: new Date(Date.parse('2026-03-01T10:05:00Z') + seq * 1000).toISOString(),
    seq,
    acceptedAt: new Date(Date.parse('2026-03-01T10:05:00.500Z') + seq * 1000).toISOString(),
    standing,
    ...extra,
  };
}

/** A small, realistic lifecycle: changed votes, a retraction, a comment. */
function smallCommit(overrides: Partial<LifecycleRecord> = {}): CommitRequest {
  const votes = [
    vote(1, 'c1', 'up', 1, false),
    vote(2, 'c1', 'down', 1, true, { comment: 'blurry, "meh"' }),
    vote(3, 'c2', 'up', 1, true),
    vote(4, 'c2', 'up', 2, false),
    vote(5, 'c2', 'retract', 2, false),
    vote(6, 'c1', 'up', 3, true),
  ];
  return { lifecycle: lifecycleRecord({ votesAccepted: votes.length, ...overrides }), candidates: [candidate(1), candidate(2)], votes };
}

function manyVotes(count: number): CommittedVote[] {
  return Array.from({ length: count }, (_, i) => vote(i + 1, i % 2 === 0 ? 'c1' : 'c2', i % 3 === 0 ? 'down' : 'up', i + 1, true));
}

async function count(ledger: Ledger, sql: string, values?: Parameters<Ledger['query']>[1]): Promise<number> {
  const result = await ledger.query(sql, values);
  return Number(result.rows[0]?.['n']);
}

async function rejectsWithCode(promise: Promise<unknown>, code: LedgerError['code']): Promise<LedgerError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected a LedgerError ${code}`),
    (err: unknown) => {
      caught = err;
    },
  );
  assert.ok(caught instanceof LedgerError, `expected a LedgerError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

describe('store/Ledger', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  let ledger: Ledger | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-ledger-'));
    file = path.join(dir, 'nested', 'ledger.duckdb');
  });

  afterEach(() => {
    ledger?.closeSync();
    ledger = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function writer(): Promise<Ledger> {
    ledger = await Ledger.openWriter(file);
    return ledger;
  }

  describe('schema', () => {
    it('should create the folder, the tables, the feedback view and the schema version', async () => {
      const l = await writer();
      assert.ok(fs.existsSync(file));
      assert.equal(l.readOnly, false);
      assert.equal(l.path, file);
      const tables = await l.query(`SELECT table_name, table_type FROM information_schema.tables ORDER BY table_name`);
      assert.deepEqual(tables.rows, [
        { table_name: 'campaign_gold', table_type: 'BASE TABLE' },
        { table_name: 'campaign_items', table_type: 'BASE TABLE' },
        { table_name: 'campaign_raters', table_type: 'BASE TABLE' },
        { table_name: 'campaigns', table_type: 'BASE TABLE' },
        { table_name: 'candidate_scores', table_type: 'BASE TABLE' },
        { table_name: 'candidates', table_type: 'BASE TABLE' },
        { table_name: 'chat_conversations', table_type: 'VIEW' },
        { table_name: 'chat_events', table_type: 'BASE TABLE' },
        { table_name: 'chat_messages', table_type: 'VIEW' },
        { table_name: 'feedback', table_type: 'VIEW' },
        { table_name: 'judgement_battles', table_type: 'BASE TABLE' },
        { table_name: 'judgement_matchups', table_type: 'BASE TABLE' },
        { table_name: 'judgements', table_type: 'BASE TABLE' },
        { table_name: 'ledger_meta', table_type: 'BASE TABLE' },
        { table_name: 'lifecycle_completions', table_type: 'BASE TABLE' },
        { table_name: 'lifecycles', table_type: 'BASE TABLE' },
        { table_name: 'preference_pairs', table_type: 'BASE TABLE' },
        { table_name: 'votes', table_type: 'BASE TABLE' },
      ]);
      const meta = await l.query(`SELECT key, value FROM ledger_meta`);
      assert.deepEqual(meta.rows, [{ key: 'schema_version', value: String(LEDGER_SCHEMA_VERSION) }]);
    });

    it('should reopen an existing ledger without losing rows or duplicating the schema version', async () => {
      const l = await writer();
      await l.commit(smallCommit());
      l.closeSync();
      ledger = undefined;
      const again = await writer();
      assert.equal(await count(again, `SELECT count(*) AS n FROM votes`), 6);
      assert.equal(await count(again, `SELECT count(*) AS n FROM ledger_meta`), 1);
    });
  });

  describe('commit', () => {
    it('should insert the lifecycle row with every column', async () => {
      const l = await writer();
      const now = new Date('2026-03-01T10:31:00.000Z');
      await l.commit(smallCommit(), now);
      const { rows } = await l.query(`
        SELECT run_id, lifecycle_id, prompt, models, candidates_per_model, channel, campaign, model_version,
               quorum_kind, quorum_votes, params::VARCHAR AS params, epoch_ms(started_at) AS started, epoch_ms(deadline_at) AS deadline,
               epoch_ms(closed_at) AS closed, close_reason, votes_accepted, epoch_ms(committed_at) AS committed, started_by, started_from
          FROM lifecycles`);
      assert.equal(rows.length, 1);
      const row = rows[0]!;
      assert.deepEqual(
        { ...row, started: Number(row['started']), deadline: Number(row['deadline']), closed: Number(row['closed']), committed: Number(row['committed']), params: JSON.parse(row['params'] as string) },
        {
          run_id: 'run-1',
          lifecycle_id: 'lc-1',
          prompt: PLAN.prompt,
          models: ['demo:shapes', 'demo:text'],
          candidates_per_model: 1,
          channel: 'web',
          campaign: 'spring',
          model_version: null,
          quorum_kind: 'perCandidate',
          quorum_votes: 3,
          params: { seed: 7, steps: 20 },
          started: Date.parse('2026-03-01T10:00:00Z'),
          deadline: Date.parse('2026-03-01T11:00:00Z'),
          closed: Date.parse('2026-03-01T10:30:00Z'),
          close_reason: 'quorum',
          votes_accepted: 6,
          committed: now.getTime(),
          started_by: null,
          started_from: 'unknown',
        },
      );
    });

    it('should insert candidates with their artifact, provenance and flags', async () => {
      const l = await writer();
      await l.commit(smallCommit());
      const { rows } = await l.query(`
        SELECT run_id, lifecycle_id, candidate_id, label, model, backend, model_version, kind, artifact_sha256, mime,
               size_bytes, path, text, placeholder, seed, provenance::VARCHAR AS provenance
          FROM candidates ORDER BY candidate_id`);
      assert.equal(rows.length, 2);
      const [c1, c2] = [candidate(1), candidate(2)];
      assert.deepEqual(
        rows.map((r) => ({ ...r, size_bytes: Number(r['size_bytes']), seed: Number(r['seed']), provenance: JSON.parse(r['provenance'] as string) })),
        [c1, c2].map((c) => ({
          run_id: 'run-1',
          lifecycle_id: 'lc-1',
          candidate_id: c.id,
          label: c.label,
          model: c.model,
          backend: 'demo',
          model_version: 'demo-1',
          kind: c.kind,
          artifact_sha256: c.artifact.sha256,
          mime: c.artifact.mime,
          size_bytes: c.artifact.size,
          path: c.artifact.path,
          text: c.text ?? null,
          placeholder: true,
          seed: c.provenance.seed,
          provenance: c.provenance,
        })),
      );
    });

    it('should insert one row per vote with kind, value, standing and timestamps', async () => {
      const l = await writer();
      const now = new Date('2026-03-01T10:31:00.000Z');
      const request = smallCommit();
      const result = await l.commit(request, now);
      assert.deepEqual(result, { voteRowsInserted: 6, voteRowsForLifecycle: 6 });
      const { rows } = await l.query(`
        SELECT run_id, lifecycle_id, idempotency_key, seq, candidate_id, rater, kind, value, comment, channel,
               epoch_ms(cast_at) AS cast_at, epoch_ms(accepted_at) AS accepted_at, epoch_ms(committed_at) AS committed_at, standing
          FROM votes ORDER BY seq`);
      assert.deepEqual(
        rows.map((r) => ({ ...r, cast_at: Number(r['cast_at']), accepted_at: Number(r['accepted_at']), committed_at: Number(r['committed_at']) })),
        request.votes.map((v) => ({
          run_id: 'run-1',
          lifecycle_id: 'lc-1',
          idempotency_key: v.idempotencyKey,
          seq: v.seq,
          candidate_id: v.candidateId,
          rater: v.rater,
          kind: v.value === 'retract' ? 'retract' : 'vote',
          value: v.value === 'up' ? 1 : v.value === 'down' ? -1 : null,
          comment: v.comment ?? null,
          channel: 'web',
          cast_at: Date.parse(v.castAt),
          accepted_at: Date.parse(v.acceptedAt),
          committed_at: now.getTime(),
          standing: v.standing,
        })),
      );
    });

    it('should keep timestamps with an offset as the same instant', async () => {
      const l = await writer();
      const request = smallCommit();
      request.votes = [vote(1, 'c1', 'up', 1, true, { castAt: '2026-03-01T12:05:00+02:00' })];
      await l.commit(request);
      assert.equal(await count(l, `SELECT epoch_ms(cast_at) AS n FROM votes`), Date.parse('2026-03-01T10:05:00Z'));
    });

    it('should commit a lifecycle without votes (lifecycle and candidates only)', async () => {
      const l = await writer();
      const result = await l.commit({ ...smallCommit(), votes: [] });
      assert.deepEqual(result, { voteRowsInserted: 0, voteRowsForLifecycle: 0 });
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycles`), 1);
      assert.equal(await count(l, `SELECT count(*) AS n FROM candidates`), 2);
    });

    it('should insert nothing more when the same commit runs again, and report the rows it has', async () => {
      const l = await writer();
      const request = smallCommit();
      assert.deepEqual(await l.commit(request), { voteRowsInserted: 6, voteRowsForLifecycle: 6 });
      assert.deepEqual(await l.commit(request), { voteRowsInserted: 0, voteRowsForLifecycle: 6 });
      assert.deepEqual(await l.commit(request), { voteRowsInserted: 0, voteRowsForLifecycle: 6 });
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes`), 6);
      assert.equal(await count(l, `SELECT count(DISTINCT idempotency_key) AS n FROM votes`), 6);
      assert.equal(await count(l, `SELECT count(*) AS n FROM candidates`), 2);
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycles`), 1);
    });

    it('should store vote rows in commit order, batch order within a batch, also when a re-run completes a partial batch', async () => {
      const l = await writer();
      const votes = manyVotes(250);
      const base = smallCommit({ votesAccepted: votes.length });
      // A first attempt that landed only part of the batch, then the retry of the whole batch.
      await l.commit({ ...base, votes: votes.slice(0, 140) });
      assert.deepEqual(await l.commit({ ...base, votes }), { voteRowsInserted: 110, voteRowsForLifecycle: 250 });
      const other = smallCommit({ runId: 'run-later', lifecycleId: 'lc-later' });
      await l.commit(other);
      const { rows } = await l.query(`SELECT run_id, seq FROM votes ORDER BY rowid`);
      const expected = [...votes.map((v) => [base.lifecycle.runId, v.seq]), ...other.votes.map((v) => ['run-later', v.seq])];
      assert.deepEqual(rows.map((r) => [r['run_id'], r['seq']]), expected);
    });

    it('should store candidates in the order of the request, and add none when the commit is re-run', async () => {
      const l = await writer();
      const request = { ...smallCommit(), candidates: [candidate(3), candidate(1), candidate(4), candidate(2)] };
      await l.commit(request);
      await l.commit(request);
      // A retry whose first attempt never landed candidates 4 and 2 (as if they came in a later request).
      await l.commit({ ...request, lifecycle: { ...request.lifecycle, runId: 'run-2', lifecycleId: 'lc-2' }, candidates: request.candidates.slice(0, 2) });
      await l.commit({ ...request, lifecycle: { ...request.lifecycle, runId: 'run-2', lifecycleId: 'lc-2' } });
      const { rows } = await l.query(`SELECT run_id, candidate_id FROM candidates ORDER BY rowid`);
      assert.deepEqual(rows.map((r) => `${String(r['run_id'])}/${String(r['candidate_id'])}`), [
        'run-1/c3', 'run-1/c1', 'run-1/c4', 'run-1/c2', 'run-2/c3', 'run-2/c1', 'run-2/c4', 'run-2/c2',
      ]);
    });

    it('should keep the first committed_at of a vote when a commit is re-run later', async () => {
      const l = await writer();
      const request = smallCommit();
      await l.commit(request, new Date('2026-03-01T10:31:00Z'));
      await l.commit(request, new Date('2026-03-01T10:45:00Z'));
      const { rows } = await l.query(`SELECT DISTINCT epoch_ms(committed_at) AS t FROM votes`);
      assert.deepEqual(rows.map((r) => Number(r['t'])), [Date.parse('2026-03-01T10:31:00Z')]);
    });

    it('should update the close fields of the lifecycle row on a later commit of the same run', async () => {
      const l = await writer();
      await l.commit(smallCommit());
      await l.commit({ ...smallCommit({ closeReason: 'closed', closedAt: '2026-03-01T10:40:00.000Z', votesAccepted: 9 }), votes: [], candidates: [] });
      const { rows } = await l.query(`SELECT close_reason, epoch_ms(closed_at) AS closed, votes_accepted FROM lifecycles`);
      assert.deepEqual(rows.map((r) => ({ ...r, closed: Number(r['closed']) })), [
        { close_reason: 'closed', closed: Date.parse('2026-03-01T10:40:00Z'), votes_accepted: 9 },
      ]);
    });

    it('should commit in several batches, candidates with the first, and end with one row per vote', async () => {
      const l = await writer();
      const votes = manyVotes(250);
      const lifecycle = lifecycleRecord({ votesAccepted: votes.length });
      const batches = [votes.slice(0, 100), votes.slice(100, 200), votes.slice(200)];
      const results = [];
      for (const [i, batch] of batches.entries()) {
        results.push(await l.commit({ lifecycle, candidates: i === 0 ? [candidate(1), candidate(2)] : [], votes: batch }));
      }
      assert.deepEqual(results, [
        { voteRowsInserted: 100, voteRowsForLifecycle: 100 },
        { voteRowsInserted: 100, voteRowsForLifecycle: 200 },
        { voteRowsInserted: 50, voteRowsForLifecycle: 250 },
      ]);
      // A retried middle batch (the activity crashed after the commit) adds nothing.
      assert.deepEqual(await l.commit({ lifecycle, candidates: [], votes: batches[1]! }), { voteRowsInserted: 0, voteRowsForLifecycle: 250 });
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes`), 250);
      assert.equal(await count(l, `SELECT count(*) AS n FROM candidates`), 2);
      assert.deepEqual((await l.query(`SELECT min(seq) AS lo, max(seq) AS hi FROM votes`)).rows, [{ lo: 1, hi: 250 }]);
    });

    it('should insert only the missing rows of a batch that partly overlaps committed votes', async () => {
      const l = await writer();
      const votes = manyVotes(30);
      const lifecycle = lifecycleRecord({ votesAccepted: 30 });
      await l.commit({ lifecycle, candidates: [candidate(1), candidate(2)], votes: votes.slice(0, 20) });
      assert.deepEqual(await l.commit({ lifecycle, candidates: [], votes: votes.slice(10) }), { voteRowsInserted: 10, voteRowsForLifecycle: 30 });
    });

    it('should roll back completely when a commit fails mid-way, and a correct retry then succeeds', async () => {
      const l = await writer();
      const votes = manyVotes(150);
      const broken = votes.map((v, i) => (i === 120 ? ({ ...v, rater: null } as unknown as CommittedVote) : v));
      const lifecycle = lifecycleRecord({ votesAccepted: votes.length });
      await assert.rejects(l.commit({ lifecycle, candidates: [candidate(1), candidate(2)], votes: broken }), /NOT NULL|null/i);
      // The first 100 votes went in before the failing chunk: they must be gone with everything else.
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes`), 0);
      assert.equal(await count(l, `SELECT count(*) AS n FROM candidates`), 0);
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycles`), 0);

      assert.deepEqual(await l.commit({ lifecycle, candidates: [candidate(1), candidate(2)], votes }), { voteRowsInserted: 150, voteRowsForLifecycle: 150 });
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes`), 150);
      assert.equal(await count(l, `SELECT count(*) AS n FROM candidates`), 2);
    });

    it('should roll back a commit whose candidate violates NOT NULL, keeping earlier commits intact', async () => {
      const l = await writer();
      await l.commit(smallCommit({ runId: 'run-0', lifecycleId: 'lc-0' }));
      const badCandidate = { ...candidate(2), label: null } as unknown as Candidate;
      await assert.rejects(l.commit({ ...smallCommit(), candidates: [candidate(1), badCandidate] }));
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycles WHERE run_id = 'run-1'`), 0);
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes WHERE run_id = 'run-1'`), 0);
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes WHERE run_id = 'run-0'`), 6);
      // The connection is usable again afterwards.
      assert.deepEqual(await l.commit(smallCommit()), { voteRowsInserted: 6, voteRowsForLifecycle: 6 });
    });

    it('should treat the same workflow id with another run id as a separate lifecycle', async () => {
      const l = await writer();
      await l.commit(smallCommit({ runId: 'run-1' }));
      const second = await l.commit(smallCommit({ runId: 'run-2' }));
      assert.deepEqual(second, { voteRowsInserted: 6, voteRowsForLifecycle: 6 });
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycles WHERE lifecycle_id = 'lc-1'`), 2);
      assert.equal(await count(l, `SELECT count(*) AS n FROM candidates`), 4);
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes`), 12);
      assert.deepEqual(
        (await l.query(`SELECT run_id, count(*) AS n FROM votes GROUP BY run_id ORDER BY run_id`)).rows.map((r) => [r['run_id'], Number(r['n'])]),
        [['run-1', 6], ['run-2', 6]],
      );
    });

    it('should refuse to commit through a read-only ledger', async () => {
      const l = await writer();
      await l.commit(smallCommit());
      l.closeSync();
      ledger = await Ledger.openReader(file);
      assert.equal(ledger.readOnly, true);
      await rejectsWithCode(ledger.commit(smallCommit()), ErrorCode.LedgerUnavailable);
    });
  });

  describe('derived tables (store/ledger-derived)', () => {
    /** Scores and pairs recomputed from the vote rows, the way releases did before the derived tables. */
    async function recomputed(l: Ledger): Promise<{ scores: unknown[]; pairs: unknown[] }> {
      const scores = `SELECT c.run_id, c.candidate_id, c.model,
                             count(v.run_id) FILTER (WHERE v.standing AND v.kind = 'vote' AND v.value = 1)::INTEGER AS up,
                             count(v.run_id) FILTER (WHERE v.standing AND v.kind = 'vote' AND v.value = -1)::INTEGER AS down
                        FROM candidates c LEFT JOIN votes v ON v.run_id = c.run_id AND v.candidate_id = c.candidate_id
                       WHERE c.run_id IN (SELECT run_id FROM lifecycle_completions)
                       GROUP BY ALL`;
      return {
        scores: (await l.query(`SELECT run_id, candidate_id, model, up, down, up - down AS score FROM (${scores}) ORDER BY ALL`)).rows,
        pairs: (await l.query(
          `SELECT a.run_id, a.candidate_id AS chosen, b.candidate_id AS rejected, (a.up - a.down) - (b.up - b.down) AS margin, a.up - a.down = b.up - b.down AS tie
             FROM (${scores}) a JOIN (${scores}) b ON a.run_id = b.run_id
              AND (b.up - b.down < a.up - a.down OR (b.up - b.down = a.up - a.down AND a.candidate_id < b.candidate_id))
            WHERE a.up + a.down > 0 AND b.up + b.down > 0 ORDER BY ALL`,
        )).rows,
      };
    }
    const derived = async (l: Ledger) => ({
      scores: (await l.query(`SELECT run_id, candidate_id, model, up, down, score FROM candidate_scores ORDER BY ALL`)).rows,
      pairs: (await l.query(`SELECT run_id, chosen_candidate_id AS chosen, rejected_candidate_id AS rejected, margin, tie FROM preference_pairs ORDER BY ALL`)).rows,
    });

    it('should derive scores and pairs in the commit that completes a lifecycle, once however often it is retried', async () => {
      const l = await writer();
      const at = new Date('2026-03-01T10:31:00Z');
      await l.commit(smallCommit(), at);
      await l.commit(smallCommit(), new Date('2026-03-01T10:40:00Z'));
      assert.deepEqual((await l.query(`SELECT run_id, epoch_ms(completed_at) AS t FROM lifecycle_completions`)).rows.map((r) => [r['run_id'], Number(r['t'])]), [['run-1', at.getTime()]]);
      // c1: r1 changed up → down, r3 up; c2: r1 up, r2 up then retracted.
      assert.deepEqual((await derived(l)).scores, [
        { run_id: 'run-1', candidate_id: 'c1', model: 'demo:shapes', up: 1, down: 1, score: 0 },
        { run_id: 'run-1', candidate_id: 'c2', model: 'demo:text', up: 1, down: 0, score: 1 },
      ]);
      const { rows } = await l.query(`SELECT * EXCLUDE (completed_at) FROM preference_pairs`);
      assert.deepEqual(rows, [{
        prompt: PLAN.prompt, chosen_path: `artifacts/${candidate(2).artifact.path}`, rejected_path: `artifacts/${candidate(1).artifact.path}`,
        chosen_text: 'candidate 2 text', rejected_text: null, chosen_model: 'demo:text', rejected_model: 'demo:shapes', margin: 1,
        chosen_up: 1, chosen_down: 0, rejected_up: 1, rejected_down: 1, lifecycle_id: 'lc-1', run_id: 'run-1',
        chosen_candidate_id: 'c2', rejected_candidate_id: 'c1', tie: false,
      }]);
    });

    it('should leave unrated candidates out, flag ties, and order each pair by score, then candidate id', async () => {
      const l = await writer();
      const votes = [vote(1, 'c1', 'up', 1, true), vote(2, 'c2', 'up', 2, true), vote(3, 'c3', 'down', 3, true)];
      await l.commit({ lifecycle: lifecycleRecord({ votesAccepted: 3 }), candidates: [candidate(1), candidate(2), candidate(3), candidate(4)], votes });
      assert.deepEqual((await l.query(`SELECT chosen_candidate_id AS a, rejected_candidate_id AS b, margin, tie FROM preference_pairs ORDER BY rowid`)).rows, [
        { a: 'c1', b: 'c2', margin: 0, tie: true },
        { a: 'c1', b: 'c3', margin: 2, tie: false },
        { a: 'c2', b: 'c3', margin: 2, tie: false },
      ]);
      // c4 scored 0/0: counted on the leaderboard, never paired. c1 is demo:shapes, c2–c4 demo:text.
      assert.deepEqual((await l.query(`SELECT candidate_id AS c, score, first_of_model AS first FROM candidate_scores ORDER BY rowid`)).rows, [
        { c: 'c1', score: 1, first: true }, { c: 'c2', score: 1, first: true }, { c: 'c3', score: -1, first: false }, { c: 'c4', score: 0, first: false },
      ]);
    });

    it('should derive nothing before the last batch, then from every batch, and not again for a retried batch', async () => {
      const l = await writer();
      const votes = manyVotes(250);
      const lifecycle = lifecycleRecord({ votesAccepted: votes.length });
      const batches = [votes.slice(0, 100), votes.slice(100, 200), votes.slice(200)];
      await l.commit({ lifecycle, candidates: [candidate(1), candidate(2)], votes: batches[0]! }, new Date('2026-03-01T10:31:00Z'));
      await l.commit({ lifecycle, candidates: [], votes: batches[1]! }, new Date('2026-03-01T10:32:00Z'));
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycle_completions`), 0);
      assert.equal(await count(l, `SELECT count(*) AS n FROM candidate_scores`), 0);
      await l.commit({ lifecycle, candidates: [], votes: batches[2]! }, new Date('2026-03-01T10:33:00Z'));
      await l.commit({ lifecycle, candidates: [], votes: batches[2]! }, new Date('2026-03-01T10:34:00Z'));
      assert.deepEqual((await l.query(`SELECT epoch_ms(completed_at) AS t FROM lifecycle_completions`)).rows.map((r) => Number(r['t'])), [Date.parse('2026-03-01T10:33:00Z')]);
      const want = await recomputed(l);
      assert.equal((want.scores as Array<{ up: number }>).reduce((n, r) => n + r.up, 0), votes.filter((v) => v.value === 'up').length);
      assert.deepEqual(await derived(l), want);
    });

    it('should never date a commit before an earlier one, so a clock stepping back loses no vote', async () => {
      const l = await writer();
      const votes = manyVotes(20);
      const lifecycle = lifecycleRecord({ votesAccepted: votes.length });
      await l.commit({ lifecycle, candidates: [candidate(1), candidate(2)], votes: votes.slice(0, 10) }, new Date('2026-03-01T10:40:00Z'));
      // The clock stepped back ten minutes before the second batch.
      await l.commit({ lifecycle, candidates: [], votes: votes.slice(10) }, new Date('2026-03-01T10:30:00Z'));
      assert.deepEqual((await l.query(`SELECT DISTINCT epoch_ms(committed_at) AS t FROM votes`)).rows.map((r) => Number(r['t'])), [Date.parse('2026-03-01T10:40:00Z')]);
      assert.deepEqual(await derived(l), await recomputed(l));
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycle_completions`), 1);
      // The floor survives a reopen: it is read back from the ledger.
      l.closeSync();
      const reopened = await writer();
      await reopened.commit(smallCommit({ runId: 'run-2', lifecycleId: 'lc-2' }), new Date('2026-03-01T10:00:00Z'));
      assert.deepEqual((await reopened.query(`SELECT epoch_ms(committed_at) AS t FROM lifecycles WHERE run_id = 'run-2'`)).rows.map((r) => Number(r['t'])), [Date.parse('2026-03-01T10:40:00Z')]);
    });

    it('should redo the derived rows when a completed lifecycle commits again with more votes (its workflow was reset)', async () => {
      const l = await writer();
      const first = smallCommit();
      await l.commit(first, new Date('2026-03-01T10:31:00Z'));
      // The reset run accepted two more votes for c1 and commits everything again.
      const more = [...first.votes, vote(7, 'c1', 'up', 4, true), vote(8, 'c1', 'up', 5, true)];
      const again = { ...first, lifecycle: { ...first.lifecycle, votesAccepted: more.length }, votes: more };
      // Its first batch is only part of the new total: the lifecycle is pending again, nothing derived.
      await l.commit({ ...again, votes: more.slice(0, 7) }, new Date('2026-03-01T10:50:00Z'));
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycle_completions`), 0);
      assert.equal(await count(l, `SELECT count(*) AS n FROM candidate_scores`), 0);
      assert.equal(await count(l, `SELECT count(*) AS n FROM preference_pairs`), 0);
      await l.commit({ ...again, candidates: [], votes: more.slice(7) }, new Date('2026-03-01T10:51:00Z'));
      assert.deepEqual((await l.query(`SELECT epoch_ms(completed_at) AS t FROM lifecycle_completions`)).rows.map((r) => Number(r['t'])), [Date.parse('2026-03-01T10:51:00Z')]);
      assert.deepEqual(await derived(l), await recomputed(l));
      assert.deepEqual((await l.query(`SELECT candidate_id, score FROM candidate_scores ORDER BY ALL`)).rows, [
        { candidate_id: 'c1', score: 2 }, { candidate_id: 'c2', score: 1 },
      ]);
      // A reset run that commits everything in one batch redoes them in place of the old ones, too.
      const third = [...more, vote(9, 'c2', 'down', 6, true)];
      await l.commit({ ...again, lifecycle: { ...again.lifecycle, votesAccepted: third.length }, votes: third }, new Date('2026-03-01T11:00:00Z'));
      assert.deepEqual(await derived(l), await recomputed(l));
      assert.equal(await count(l, `SELECT count(*) AS n FROM candidate_scores`), 2);
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycle_completions`), 1);
    });

    it('should match a recomputation from the vote rows on many random lifecycles', async () => {
      const l = await writer();
      let seed = 42;
      const random = (n: number) => {
        // mulberry32: a fixed seed gives the same lifecycles every run.
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n | 0;
      };
      for (let i = 0; i < 40; i++) {
        const candidates = Array.from({ length: 1 + random(4) }, (_, k) => candidate(k + 1));
        const votes: CommittedVote[] = Array.from({ length: random(12) }, (_, k) => {
          const value = (['up', 'down', 'retract'] as const)[random(3)]!;
          return vote(k + 1, `c${1 + random(candidates.length)}`, value, random(5), value !== 'retract' && random(4) > 0);
        });
        const lifecycle = lifecycleRecord({ runId: `run-${i}`, lifecycleId: `lc-${i}`, votesAccepted: votes.length });
        const cut = random(votes.length + 1); // one batch or two
        await l.commit({ lifecycle, candidates, votes: votes.slice(0, cut) });
        if (cut < votes.length) await l.commit({ lifecycle, candidates: [], votes: votes.slice(cut) });
      }
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycle_completions`), 40);
      const want = await recomputed(l);
      assert.ok(want.pairs.length > 20, `only ${want.pairs.length} pairs`);
      assert.deepEqual(await derived(l), want);
    });

    it('should derive, on opening a ledger from before the derived tables, what commits would have derived', async () => {
      const l = await writer();
      await l.commit(smallCommit(), new Date('2026-03-01T10:31:00Z'));
      const votes = manyVotes(30);
      const twoBatches = lifecycleRecord({ runId: 'run-2', lifecycleId: 'lc-2', votesAccepted: votes.length });
      await l.commit({ lifecycle: twoBatches, candidates: [candidate(1), candidate(2)], votes: votes.slice(0, 10) }, new Date('2026-03-01T10:32:00Z'));
      await l.commit({ lifecycle: twoBatches, candidates: [], votes: votes.slice(10) }, new Date('2026-03-01T10:33:00Z'));
      const unfinished = lifecycleRecord({ runId: 'run-3', lifecycleId: 'lc-3', votesAccepted: votes.length });
      await l.commit({ lifecycle: unfinished, candidates: [candidate(1), candidate(2)], votes: votes.slice(0, 10) }, new Date('2026-03-01T10:34:00Z'));
      const snapshot = async (x: Ledger) => [
        (await x.query(`SELECT run_id, epoch_ms(completed_at) AS t FROM lifecycle_completions ORDER BY rowid`)).rows,
        (await x.query(`SELECT * FROM candidate_scores ORDER BY rowid`)).rows,
        (await x.query(`SELECT * FROM preference_pairs ORDER BY rowid`)).rows,
      ];
      const incremental = await snapshot(l);
      assert.equal(incremental[0]?.length, 2);
      // Turn it into a schema-1 ledger: no derived tables.
      await l.withConnection(async (c) => {
        for (const t of ['lifecycle_completions', 'candidate_scores', 'preference_pairs']) await c.run(`DROP TABLE ${t}`);
        await c.run(`UPDATE ledger_meta SET value = '1' WHERE key = 'schema_version'`);
      });
      l.closeSync();
      const upgraded = await writer();
      assert.deepEqual(await snapshot(upgraded), incremental);
      assert.deepEqual((await upgraded.query(`SELECT value FROM ledger_meta WHERE key = 'schema_version'`)).rows, [{ value: String(LEDGER_SCHEMA_VERSION) }]);
      // The unfinished lifecycle completes through a commit as usual, and nothing is derived twice.
      await upgraded.commit({ lifecycle: unfinished, candidates: [], votes: votes.slice(10) }, new Date('2026-03-01T10:35:00Z'));
      assert.equal(await upgraded.deriveCompleted(), 0);
      assert.deepEqual(await derived(upgraded), await recomputed(upgraded));
      assert.equal(await count(upgraded, `SELECT count(*) AS n FROM lifecycle_completions`), 3);
    });
  });

  describe('increments while voting (bounded history)', () => {
    /** An increment: the lifecycle row without a close, as a voting lifecycle commits before continue-as-new. */
    const voting = (overrides: Partial<LifecycleRecord> = {}): LifecycleRecord => {
      const { closedAt: _c, closeReason: _r, ...open } = lifecycleRecord(overrides);
      return open;
    };

    it('should store a voting lifecycle with no close and never count it complete, whatever its rows', async () => {
      const l = await writer();
      const votes = manyVotes(6);
      // All accepted votes so far are in the ledger, but voting goes on: not complete.
      await l.commit({ lifecycle: voting({ votesAccepted: 6 }), candidates: [candidate(1), candidate(2)], votes }, new Date('2026-03-01T10:20:00Z'));
      assert.deepEqual((await l.query(`SELECT closed_at, close_reason, votes_accepted FROM lifecycles`)).rows, [{ closed_at: null, close_reason: null, votes_accepted: 6 }]);
      for (const table of ['lifecycle_completions', 'candidate_scores', 'preference_pairs']) {
        assert.equal(await count(l, `SELECT count(*) AS n FROM ${table}`), 0, table);
      }
      // The close commit completes it, with the first commit's time kept on the lifecycle row.
      const more = [vote(7, 'c1', 'up', 7, true)];
      await l.commit({ lifecycle: lifecycleRecord({ votesAccepted: 7 }), candidates: [], votes: more }, new Date('2026-03-01T10:31:00Z'));
      assert.deepEqual((await l.query(`SELECT close_reason, votes_accepted, epoch_ms(committed_at)::DOUBLE AS t FROM lifecycles`)).rows, [
        { close_reason: 'quorum', votes_accepted: 7, t: Date.parse('2026-03-01T10:20:00Z') },
      ]);
      assert.deepEqual((await l.query(`SELECT epoch_ms(completed_at)::DOUBLE AS t FROM lifecycle_completions`)).rows, [{ t: Date.parse('2026-03-01T10:31:00Z') }]);
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes`), 7);
    });

    it('should clear the standing flags of committed votes listed in unstand, idempotently, keeping the rows in place', async () => {
      const l = await writer();
      const first = [vote(1, 'c1', 'up', 1, true), vote(2, 'c2', 'down', 1, true), vote(3, 'c1', 'up', 2, true)];
      await l.commit({ lifecycle: voting({ votesAccepted: 3 }), candidates: [candidate(1), candidate(2)], votes: first });
      // Rater 1 changed both votes later: the next commit brings the new ones and clears the old flags.
      const second = { lifecycle: lifecycleRecord({ votesAccepted: 5 }), candidates: [], votes: [vote(4, 'c1', 'down', 1, true), vote(5, 'c2', 'retract', 1, false)], unstand: [1, 2] };
      await l.commit(second);
      await l.commit(second); // a retried activity
      assert.deepEqual((await l.query(`SELECT seq, standing FROM votes ORDER BY rowid`)).rows, [
        { seq: 1, standing: false }, { seq: 2, standing: false }, { seq: 3, standing: true }, { seq: 4, standing: true }, { seq: 5, standing: false },
      ]);
      assert.deepEqual((await l.query(`SELECT candidate_id, up, down FROM candidate_scores ORDER BY candidate_id`)).rows, [
        { candidate_id: 'c1', up: 1, down: 1 }, { candidate_id: 'c2', up: 0, down: 0 },
      ]);
      // Another lifecycle's rows with the same seqs are untouched.
      await l.commit(smallCommit({ runId: 'run-2', lifecycleId: 'lc-2' }));
      await l.commit({ lifecycle: voting({ runId: 'run-3', lifecycleId: 'lc-3', votesAccepted: 1 }), candidates: [candidate(1)], votes: [vote(1, 'c1', 'up', 9, true)], unstand: [2, 3] });
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes WHERE run_id = 'run-2' AND standing`), 3);
    });

    it('should refuse an unstand that is not a list of seqs, changing nothing', async () => {
      const l = await writer();
      await l.commit({ lifecycle: voting({ votesAccepted: 1 }), candidates: [candidate(1)], votes: [vote(1, 'c1', 'up', 1, true)] });
      await assert.rejects(l.commit({ lifecycle: voting({ votesAccepted: 2 }), candidates: [], votes: [vote(2, 'c1', 'up', 2, true)], unstand: [1.5] }), /unstand holds 1\.5/);
      assert.deepEqual((await l.query(`SELECT seq, standing FROM votes ORDER BY seq`)).rows, [{ seq: 1, standing: true }]);
    });

    it('should end with the flags and scores of the tally rule on random lifecycles committed in increments', async () => {
      const l = await writer();
      let seed = 7;
      const random = (n: number) => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return (((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * n | 0;
      };
      const plan = validateLifecycleInput({ prompt: 'increments', model: 'demo:text', candidates: 4, totalVotes: 10_000 }, Date.parse('2026-03-01T10:00:00Z'));
      assert.ok(plan.ok);
      let increments = 0;
      let unstood = 0;
      for (let i = 0; i < 30; i++) {
        const runId = `run-${i}`;
        const candidates = Array.from({ length: 1 + random(4) }, (_, k) => candidate(k + 1));
        let lifecycle = RatingLifecycle.start(`lc-${i}`, plan.plan, {}, Date.parse('2026-03-01T10:00:00Z'));
        lifecycle.openVoting(candidates, []);
        const reference = new VoteTally(candidates);
        const cast: VoteRequest[] = [];
        for (let k = 0, n = random(60); k < n; k++) {
          // A repeated key now and then, castAt out of order, ties on castAt.
          const again = cast.length > 0 && random(8) === 0 ? cast[random(cast.length)] : undefined;
          const request: VoteRequest = again ?? {
            idempotencyKey: `web:${i}:${k}`, candidateId: `c${1 + random(candidates.length)}`, value: (['up', 'down', 'retract'] as const)[random(3)]!,
            rater: rater(random(6)), channel: 'web', castAt: new Date(Date.parse('2026-03-01T10:05:00Z') + random(20) * 1000).toISOString(),
          };
          cast.push(request);
          const acceptedAt = new Date(Date.parse('2026-03-01T10:06:00Z') + k).toISOString();
          assert.equal(lifecycle.recordVote(request).outcome, reference.record(request, acceptedAt).outcome);
          if (random(10) === 0 && lifecycle.tally.uncommittedEvents().length > 0) {
            const request = lifecycle.incrementRequest(runId);
            unstood += request.unstand?.length ?? 0;
            await l.commit(request);
            lifecycle.incrementCommitted(request);
            increments += 1;
          }
          if (random(15) === 0) lifecycle = RatingLifecycle.resume(`lc-${i}`, JSON.parse(JSON.stringify(lifecycle.toCarry()))); // continue-as-new
        }
        lifecycle.close('deadline');
        for (const request of lifecycle.commitRequests(runId, '2026-03-01T10:30:00.000Z')) {
          unstood += request.unstand?.length ?? 0;
          await l.commit(request);
        }
        const events = reference.uncommittedEvents();
        assert.equal(await count(l, `SELECT count(*) AS n FROM votes WHERE run_id = $1`, [runId]), events.length);
        const flags = (await l.query(`SELECT idempotency_key, standing FROM votes WHERE run_id = $1 ORDER BY seq`, [runId])).rows;
        assert.deepEqual(flags, events.map((e) => ({ idempotency_key: e.idempotencyKey, standing: reference.isStanding(e.idempotencyKey) })), `lifecycle ${i}`);
        const scores = (await l.query(`SELECT candidate_id, up, down FROM candidate_scores WHERE run_id = $1 ORDER BY candidate_id`, [runId])).rows;
        assert.deepEqual(scores, reference.tallies().map((t) => ({ candidate_id: t.candidateId, up: t.up, down: t.down })));
        assert.deepEqual(lifecycle.tally.tallies(), reference.tallies());
      }
      assert.equal(await count(l, `SELECT count(*) AS n FROM lifecycle_completions`), 30);
      assert.ok(increments > 30 && unstood > 10, `${increments} increments, ${unstood} flags cleared: the random lifecycles should exercise both`);
    });

    it('should upgrade a schema-2 ledger, whose close columns are NOT NULL, and then take increments', async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const old = await DuckDBInstance.create(file);
      const c = await old.connect();
      await c.run(`CREATE TABLE ledger_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`);
      await c.run(`INSERT INTO ledger_meta VALUES ('schema_version', '2')`);
      await c.run(`CREATE TABLE lifecycles (run_id VARCHAR PRIMARY KEY, lifecycle_id VARCHAR NOT NULL, prompt VARCHAR NOT NULL, models VARCHAR[] NOT NULL,
        candidates_per_model INTEGER NOT NULL, channel VARCHAR NOT NULL, campaign VARCHAR, model_version VARCHAR, quorum_kind VARCHAR NOT NULL,
        quorum_votes INTEGER NOT NULL, params JSON, started_at TIMESTAMPTZ NOT NULL, deadline_at TIMESTAMPTZ NOT NULL, closed_at TIMESTAMPTZ NOT NULL,
        close_reason VARCHAR NOT NULL, votes_accepted INTEGER NOT NULL, committed_at TIMESTAMPTZ NOT NULL)`);
      c.closeSync();
      old.closeSync();
      // The schema-2 ledger refuses a row without a close; the upgraded one takes it.
      const l = await writer();
      assert.deepEqual((await l.query(`SELECT value FROM ledger_meta WHERE key = 'schema_version'`)).rows, [{ value: String(LEDGER_SCHEMA_VERSION) }]);
      assert.ok(LEDGER_SCHEMA_VERSION >= 4, 'the close columns may be NULL from schema 4 on');
      const nullable = await l.query(`SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'lifecycles' AND column_name IN ('closed_at', 'close_reason') ORDER BY column_name`);
      assert.deepEqual(nullable.rows, [{ column_name: 'close_reason', is_nullable: 'YES' }, { column_name: 'closed_at', is_nullable: 'YES' }]);
      await l.commit(smallCommit());
      await l.commit({ lifecycle: voting({ runId: 'run-2', lifecycleId: 'lc-2', votesAccepted: 1 }), candidates: [candidate(1)], votes: [vote(1, 'c1', 'up', 1, true)] });
      assert.deepEqual((await l.query(`SELECT run_id, close_reason FROM lifecycles ORDER BY run_id`)).rows, [{ run_id: 'run-1', close_reason: 'quorum' }, { run_id: 'run-2', close_reason: null }]);
      // Opening it again upgrades nothing twice.
      l.closeSync();
      ledger = undefined;
      await writer();
    });
  });

  describe('rater_auth (schema 3)', () => {
    const channels = ['web', 'web', 'slack', 'email', 'cli', 'web'] as const;
    /** smallCommit's votes through several channels; the first two say how their web rater signed in. */
    function mixedCommit(): CommitRequest {
      const base = smallCommit();
      return {
        ...base,
        votes: base.votes.map((v, i) => ({ ...v, channel: channels[i]!, ...(i === 0 ? { raterAuth: 'invite' as const } : i === 1 ? { raterAuth: 'oidc' as const } : {}) })),
      };
    }
    const stored = async (l: Ledger) => (await l.query(`SELECT idempotency_key, channel, rater_auth FROM votes ORDER BY rowid`)).rows;

    it('should store how each rater was authenticated, or what the channel implies for votes that do not say', async () => {
      const l = await writer();
      const request = mixedCommit();
      await l.commit(request);
      assert.deepEqual((await stored(l)).map((r) => r.rater_auth), ['invite', 'oidc', 'slack', 'email', 'cli', 'open']);
      // The feedback view carries it too, row for row.
      const joined = await l.query(`SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE f.rater_auth = v.rater_auth)::INTEGER AS same
                                      FROM feedback f JOIN votes v USING (lifecycle_id, candidate_id, rater) WHERE v.standing AND v.kind = 'vote'`);
      assert.equal(joined.rows[0]!.n, joined.rows[0]!.same);
      assert.ok(Number(joined.rows[0]!.n) > 0);
    });

    it('should fill the column from the channel when opening a ledger from before it, keeping row order', async () => {
      const l = await writer();
      await l.commit(mixedCommit());
      await l.commit(smallCommit({ runId: 'run-2', lifecycleId: 'lc-2' }));
      const before = (await l.query(`SELECT idempotency_key, run_id FROM votes ORDER BY rowid`)).rows;
      // Turn it into a schema-2 ledger: votes without rater_auth.
      await l.withConnection(async (c) => {
        await c.run(`ALTER TABLE votes DROP COLUMN rater_auth`);
        await c.run(`UPDATE ledger_meta SET value = '2' WHERE key = 'schema_version'`);
      });
      l.closeSync();
      const upgraded = await writer();
      const after = await upgraded.query(`SELECT idempotency_key, run_id, channel, rater_auth FROM votes ORDER BY rowid`);
      assert.deepEqual(after.rows.map((r) => ({ idempotency_key: r.idempotency_key, run_id: r.run_id })), before);
      // Web votes then came from typed names: open.
      assert.deepEqual(after.rows.map((r) => r.rater_auth), [...['open', 'open', 'slack', 'email', 'cli', 'open'], ...Array(6).fill('open')]);
      const column = await upgraded.query(`SELECT is_nullable FROM duckdb_columns() WHERE table_name = 'votes' AND column_name = 'rater_auth'`);
      assert.deepEqual(column.rows, [{ is_nullable: false }]);
      assert.deepEqual((await upgraded.query(`SELECT value FROM ledger_meta WHERE key = 'schema_version'`)).rows, [{ value: String(LEDGER_SCHEMA_VERSION) }]);
      // And it commits as a new ledger does.
      await upgraded.commit(smallCommit({ runId: 'run-3', lifecycleId: 'lc-3' }));
      assert.equal(await count(upgraded, `SELECT count(*) AS n FROM votes WHERE rater_auth IS NOT NULL`), 18);
    });

    it('should finish an upgrade that stopped half-way (column added, not filled)', async () => {
      const l = await writer();
      await l.commit(mixedCommit());
      await l.withConnection(async (c) => {
        await c.run(`ALTER TABLE votes DROP COLUMN rater_auth`);
        await c.run(`ALTER TABLE votes ADD COLUMN rater_auth VARCHAR`);
        await c.run(`UPDATE votes SET rater_auth = 'invite' WHERE seq = 1`);
        await c.run(`UPDATE ledger_meta SET value = '2' WHERE key = 'schema_version'`);
      });
      l.closeSync();
      const upgraded = await writer();
      assert.deepEqual((await stored(upgraded)).map((r) => r.rater_auth), ['invite', 'open', 'slack', 'email', 'cli', 'open']);
      await assert.rejects(upgraded.withConnection((c) => c.run(`UPDATE votes SET rater_auth = NULL`)), /NOT NULL/);
    });
  });

  describe('provenance (lifecycles.started_by, started_from)', () => {
    const starter = 'r_0123456789abcdef01234567';
    const started = (runId: string, provenance: Partial<LifecyclePlan>) => smallCommit({ runId, lifecycleId: `lc-${runId}`, plan: { ...PLAN, ...provenance } });
    const stored = async (l: Ledger) => (await l.query(`SELECT run_id, started_by, started_from FROM lifecycles ORDER BY rowid`)).rows;

    it('should store who started each lifecycle and from where, and unknown where its input did not say', async () => {
      const l = await writer();
      await l.commit(started('slack', { startedBy: starter, startedFrom: 'slack:/prefline' }));
      await l.commit(started('web', { startedBy: starter, startedFrom: 'web:prompt-box' }));
      await l.commit(started('cli', { startedFrom: 'cli' }));
      await l.commit(started('ui', {}));
      assert.deepEqual(await stored(l), [
        { run_id: 'slack', started_by: starter, started_from: 'slack:/prefline' },
        { run_id: 'web', started_by: starter, started_from: 'web:prompt-box' },
        { run_id: 'cli', started_by: null, started_from: 'cli' },
        { run_id: 'ui', started_by: null, started_from: 'unknown' },
      ]);
    });

    it('should give the lifecycles of a ledger from before it unknown, keeping row order, and commit provenance afterwards', async () => {
      const l = await writer();
      await l.commit(started('one', {}));
      await l.commit(started('two', {}));
      // Turn it into a schema-4 ledger: lifecycles without provenance.
      await l.withConnection(async (c) => {
        await c.run(`ALTER TABLE lifecycles DROP COLUMN started_by`);
        await c.run(`ALTER TABLE lifecycles DROP COLUMN started_from`);
        await c.run(`UPDATE ledger_meta SET value = '4' WHERE key = 'schema_version'`);
      });
      l.closeSync();
      const upgraded = await writer();
      assert.deepEqual(await stored(upgraded), [
        { run_id: 'one', started_by: null, started_from: 'unknown' },
        { run_id: 'two', started_by: null, started_from: 'unknown' },
      ]);
      const column = await upgraded.query(`SELECT is_nullable FROM duckdb_columns() WHERE table_name = 'lifecycles' AND column_name = 'started_from'`);
      assert.deepEqual(column.rows, [{ is_nullable: false }]);
      assert.deepEqual((await upgraded.query(`SELECT value FROM ledger_meta WHERE key = 'schema_version'`)).rows, [{ value: String(LEDGER_SCHEMA_VERSION) }]);
      await upgraded.commit(started('three', { startedBy: starter, startedFrom: 'slack:/prefline' }));
      assert.deepEqual((await stored(upgraded)).at(-1), { run_id: 'three', started_by: starter, started_from: 'slack:/prefline' });
    });

    it('should finish an upgrade that stopped half-way (columns added, not filled)', async () => {
      const l = await writer();
      await l.commit(started('one', {}));
      await l.withConnection(async (c) => {
        await c.run(`ALTER TABLE lifecycles DROP COLUMN started_by`);
        await c.run(`ALTER TABLE lifecycles DROP COLUMN started_from`);
        await c.run(`ALTER TABLE lifecycles ADD COLUMN started_by VARCHAR`);
        await c.run(`ALTER TABLE lifecycles ADD COLUMN started_from VARCHAR`);
        await c.run(`UPDATE ledger_meta SET value = '4' WHERE key = 'schema_version'`);
      });
      l.closeSync();
      const upgraded = await writer();
      assert.deepEqual(await stored(upgraded), [{ run_id: 'one', started_by: null, started_from: 'unknown' }]);
      await assert.rejects(upgraded.withConnection((c) => c.run(`UPDATE lifecycles SET started_from = NULL`)), /NOT NULL/);
    });
  });

  describe('upgrades of older ledgers (schemas 1–4)', () => {
    /** What defines a ledger's shape: every table's columns (order, type, nullability, default), constraints, views and indexes. */
    const shapeOf = (l: Ledger) => l.withConnection(async (c) => {
      const read = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJson();
      const here = `database_name = current_database()`;
      return {
        tables: await read(`SELECT table_name, sql FROM duckdb_tables() WHERE ${here} ORDER BY table_name`),
        columns: await read(`SELECT table_name, column_index, column_name, data_type, is_nullable, column_default FROM duckdb_columns()
                              WHERE ${here} ORDER BY table_name, column_index`),
        constraints: await read(`SELECT table_name, constraint_type, constraint_text FROM duckdb_constraints() WHERE ${here} ORDER BY ALL`),
        views: await read(`SELECT view_name, sql FROM duckdb_views() WHERE ${here} AND NOT internal ORDER BY view_name`),
        indexes: await read(`SELECT table_name, index_name, sql FROM duckdb_indexes() WHERE ${here} ORDER BY ALL`),
      };
    });
    const newLedgerShape = async () => {
      const fresh = await Ledger.openWriter(path.join(dir, 'fresh.duckdb'));
      try {
        return await shapeOf(fresh);
      } finally {
        fresh.closeSync();
      }
    };
    const rows = async (l: Ledger) => ({
      lifecycles: (await l.query(`SELECT run_id, started_by, started_from FROM lifecycles WHERE run_id = 'run-old'`)).rows,
      votes: (await l.query(`SELECT idempotency_key, channel, rater_auth, standing FROM votes WHERE run_id = 'run-old' ORDER BY rowid`)).rows,
      completions: await count(l, `SELECT count(*) AS n FROM lifecycle_completions WHERE run_id = 'run-old'`),
      scores: (await l.query(`SELECT candidate_id, up, down, score, first_of_model FROM candidate_scores WHERE run_id = 'run-old' ORDER BY rowid`)).rows,
      pairs: (await l.query(`SELECT chosen_candidate_id, rejected_candidate_id, chosen_path, margin, tie FROM preference_pairs WHERE run_id = 'run-old'`)).rows,
    });
    const OLD_ROWS = {
      // No provenance before schema 5: unknown.
      lifecycles: [{ run_id: 'run-old', started_by: null, started_from: 'unknown' }],
      votes: [
        { idempotency_key: 'web:1', channel: 'web', rater_auth: 'open', standing: false },
        { idempotency_key: 'web:2', channel: 'web', rater_auth: 'open', standing: true },
        { idempotency_key: 'slack:3', channel: 'slack', rater_auth: 'slack', standing: true },
      ],
      completions: 1,
      scores: [
        { candidate_id: 'c1', up: 1, down: 0, score: 1, first_of_model: true },
        { candidate_id: 'c2', up: 1, down: 0, score: 1, first_of_model: true },
      ],
      pairs: [{ chosen_candidate_id: 'c1', rejected_candidate_id: 'c2', chosen_path: `artifacts/${OLD_PATHS.c1}`, margin: 0, tie: true }],
    };

    for (const version of [1, 2, 3, 4] as const) {
      it(`should bring a schema-${version} ledger to exactly the shape of a new one, keeping its rows, and then take increments`, async () => {
        const expected = await newLedgerShape();
        await writeOldLedger(file, version);
        const l = await writer();
        assert.deepEqual(await shapeOf(l), expected);
        assert.deepEqual((await l.query(`SELECT value FROM ledger_meta WHERE key = 'schema_version'`)).rows, [{ value: String(LEDGER_SCHEMA_VERSION) }]);
        // Rows as they were; rater_auth from the channel where it was missing; a schema-1 ledger's lifecycle derived on open.
        assert.deepEqual(await rows(l), OLD_ROWS);
        const { closedAt: _c, closeReason: _r, ...open } = lifecycleRecord({ runId: 'run-new', lifecycleId: 'lc-new', votesAccepted: 1 });
        await l.commit({ lifecycle: open, candidates: [candidate(1)], votes: [vote(1, 'c1', 'up', 1, true, { raterAuth: 'invite' })] });
        assert.deepEqual((await l.query(`SELECT close_reason FROM lifecycles WHERE run_id = 'run-new'`)).rows, [{ close_reason: null }]);
        // Opened again: the same shape, nothing derived or filled twice.
        l.closeSync();
        ledger = undefined;
        const again = await writer();
        assert.deepEqual(await shapeOf(again), expected);
        assert.deepEqual(await rows(again), OLD_ROWS);
        assert.deepEqual((await again.query(`SELECT rater_auth FROM votes WHERE run_id = 'run-new'`)).rows, [{ rater_auth: 'invite' }]);
      });
    }

    it('should finish a schema-4 upgrade that stopped half-way (one close column still NOT NULL, the version still 3)', async () => {
      const expected = await newLedgerShape();
      await writeOldLedger(file, 3);
      const old = await DuckDBInstance.create(file);
      const c = await old.connect();
      await c.run(`ALTER TABLE lifecycles ALTER COLUMN closed_at DROP NOT NULL`);
      c.closeSync();
      old.closeSync();
      const l = await writer();
      assert.deepEqual(await shapeOf(l), expected);
      assert.deepEqual(await rows(l), OLD_ROWS);
    });

    it('should open a new ledger with the same shape again and again', async () => {
      const expected = await newLedgerShape();
      await writer();
      ledger!.closeSync();
      ledger = undefined;
      assert.deepEqual(await shapeOf(await writer()), expected);
    });
  });

  describe('feedback view', () => {
    it('should return only standing votes with prompt, artifacts path, rating, rater and model version', async () => {
      const l = await writer();
      await l.commit(smallCommit());
      const { columns, rows } = await l.query(`SELECT prompt, path, rating, rater, model_version, model, comment, channel, candidate_id, lifecycle_id FROM feedback ORDER BY rater, candidate_id`);
      assert.deepEqual(columns, ['prompt', 'path', 'rating', 'rater', 'model_version', 'model', 'comment', 'channel', 'candidate_id', 'lifecycle_id']);
      const c1 = candidate(1);
      const c2 = candidate(2);
      assert.deepEqual(rows, [
        { prompt: PLAN.prompt, path: `artifacts/${c1.artifact.path}`, rating: -1, rater: rater(1), model_version: 'demo-1', model: 'demo:shapes', comment: 'blurry, "meh"', channel: 'web', candidate_id: 'c1', lifecycle_id: 'lc-1' },
        { prompt: PLAN.prompt, path: `artifacts/${c2.artifact.path}`, rating: 1, rater: rater(1), model_version: 'demo-1', model: 'demo:text', comment: null, channel: 'web', candidate_id: 'c2', lifecycle_id: 'lc-1' },
        { prompt: PLAN.prompt, path: `artifacts/${c1.artifact.path}`, rating: 1, rater: rater(3), model_version: 'demo-1', model: 'demo:shapes', comment: null, channel: 'web', candidate_id: 'c1', lifecycle_id: 'lc-1' },
      ]);
    });

    it('should prefer the lifecycle model version over the candidate one', async () => {
      const l = await writer();
      await l.commit(smallCommit({ plan: { ...PLAN, modelVersion: 'fox-v3' } }));
      const { rows } = await l.query(`SELECT DISTINCT model_version FROM feedback`);
      assert.deepEqual(rows, [{ model_version: 'fox-v3' }]);
    });

    it('should never show a standing-flagged retraction', async () => {
      const l = await writer();
      const request = smallCommit();
      request.votes = [vote(1, 'c1', 'retract', 1, true)];
      await l.commit(request);
      assert.equal(await count(l, `SELECT count(*) AS n FROM feedback`), 0);
    });

    it('should keep the lifecycles of two runs apart', async () => {
      const l = await writer();
      await l.commit(smallCommit({ runId: 'run-1' }));
      await l.commit(smallCommit({ runId: 'run-2', plan: { ...PLAN, prompt: 'second prompt' } }));
      const { rows } = await l.query(`SELECT prompt, count(*) AS n FROM feedback GROUP BY prompt ORDER BY prompt`);
      assert.deepEqual(rows.map((r) => [r['prompt'], Number(r['n'])]), [[PLAN.prompt, 3], ['second prompt', 3]]);
    });
  });

  describe('query', () => {
    it('should run SELECT and return columns and rows', async () => {
      const l = await writer();
      await l.commit(smallCommit());
      const result = await l.query(`SELECT candidate_id, count(*) AS n FROM votes GROUP BY candidate_id ORDER BY candidate_id`);
      assert.deepEqual(result.columns, ['candidate_id', 'n']);
      assert.deepEqual(result.rows.map((r) => [r['candidate_id'], Number(r['n'])]), [['c1', 3], ['c2', 3]]);
    });

    it('should run EXPLAIN', async () => {
      const l = await writer();
      const result = await l.query(`EXPLAIN SELECT * FROM votes`);
      assert.ok(result.columns.length > 0);
      assert.ok(result.rows.length > 0);
    });

    it('should bind values instead of splicing them', async () => {
      const l = await writer();
      await l.commit(smallCommit());
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes WHERE rater = $1`, [rater(1)]), 3);
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes WHERE rater = $1`, [`' OR '1'='1`]), 0);
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes WHERE seq > $1 AND kind = $2`, [2, 'vote']), 3);
    });

    for (const [what, sql] of [
      ['INSERT', `INSERT INTO ledger_meta VALUES ('x', 'y')`],
      ['DELETE', `DELETE FROM votes`],
      ['UPDATE', `UPDATE votes SET standing = false`],
      ['CREATE', `CREATE TABLE evil (x INTEGER)`],
      ['DROP', `DROP TABLE votes`],
      ['COPY', `COPY votes TO '/tmp/prefline-ledger-copy.csv'`],
      ['ATTACH', `ATTACH ':memory:' AS other`],
      ['multiple statements', `SELECT 1; DELETE FROM votes`],
      ['a SELECT followed by a second SELECT', `SELECT 1; SELECT 2`],
    ] as const) {
      it(`should refuse ${what} with prefline_ledger_query_refused and change nothing`, async () => {
        const l = await writer();
        await l.commit(smallCommit());
        await rejectsWithCode(l.query(sql), ErrorCode.LedgerQueryRefused);
        assert.equal(await count(l, `SELECT count(*) AS n FROM votes WHERE standing`), 3);
        assert.equal(await count(l, `SELECT count(*) AS n FROM ledger_meta`), 1);
        // 8, judgements and its derived battles and matchups (schema 7), chat_events and its two views (schema 6), campaigns,
        // campaign_items, campaign_raters and campaign_gold (schema 8): nothing dropped, nothing added.
        assert.equal(await count(l, `SELECT count(*) AS n FROM information_schema.tables`), 18);
      });
    }

    it('should refuse a write even through a read-only reader', async () => {
      const l = await writer();
      await l.commit(smallCommit());
      l.closeSync();
      ledger = await Ledger.openReader(file);
      await rejectsWithCode(ledger.query(`DELETE FROM votes`), ErrorCode.LedgerQueryRefused);
      assert.equal(await count(ledger, `SELECT count(*) AS n FROM votes`), 6);
    });

    it('should report SQL errors of a SELECT as errors', async () => {
      const l = await writer();
      await assert.rejects(l.query(`SELECT no_such_column FROM votes`), /no_such_column/);
    });

    it('should see committed rows from a separate connection while the writer stays open', async () => {
      const l = await writer();
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes`), 0);
      await l.commit(smallCommit());
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes`), 6);
    });
  });

  describe('the writer\'s DuckDB (issue 12)', () => {
    async function setting(l: Ledger, name: string): Promise<unknown> {
      return l.withConnection(async (c) => (await c.runAndReadAll(`SELECT value FROM duckdb_settings() WHERE name = $1`, [name])).getRows()[0]?.[0]);
    }

    it('should be locked down: no external access but its folders, no extension autoload, configuration locked but for the release writer\'s settings', async () => {
      const releases = path.join(dir, 'releases');
      ledger = await Ledger.openWriter(file, { allowedDirectories: [releases] });
      assert.equal(await setting(ledger, 'enable_external_access'), 'false');
      assert.equal(await setting(ledger, 'lock_configuration'), 'true');
      assert.equal(await setting(ledger, 'autoload_known_extensions'), 'false');
      assert.equal(await setting(ledger, 'autoinstall_known_extensions'), 'false');
      assert.equal(await setting(ledger, 'allowed_directories'), `[${file}.tmp/, ${releases}/]`);
      assert.equal(await setting(ledger, 'allowed_configs'), '[threads, preserve_insertion_order, max_memory]'); // memory_limit is max_memory
      await ledger.withConnection(async (c) => {
        await c.run(`SET memory_limit = '1GB'`);
        await c.run('RESET memory_limit');
        await assert.rejects(c.run(`SET enable_external_access = true`), /configuration has been locked/);
        await assert.rejects(c.run(`SELECT * FROM glob('${dir}/*')`), /Permission Error/);
        fs.mkdirSync(releases);
        await c.run(`COPY (SELECT 1 AS x) TO '${path.join(releases, 'x.csv')}'`);
      });
      assert.ok(fs.existsSync(path.join(releases, 'x.csv')), 'the writer still writes into its own folders');
    });

    it('should checkpoint in the commit that takes the WAL past 16 MiB (DuckDB\'s own checkpoints are off)', async () => {
      const l = await writer();
      const wal = `${file}.wal`;
      const votes = manyVotes(9_000).map((v) => ({ ...v, comment: 'c'.repeat(2_000) }));
      await l.commit({ ...smallCommit({ votesAccepted: votes.length }), votes });
      const after = fs.existsSync(wal) ? fs.statSync(wal).size : 0;
      assert.ok(after < 1024 ** 2, `WAL of ${after} bytes after a commit of ~18 MB`);
      assert.equal(await count(l, `SELECT count(*) AS n FROM votes`), 9_000);
    });

    it('should reuse one read copy while the ledger does not change, take a new one after a commit, and remove them on close', async () => {
      const l = await writer();
      const copies = () => (fs.existsSync(`${file}.reads`) ? fs.readdirSync(`${file}.reads`).filter((f) => f.endsWith('.duckdb') || /-\d+$/.test(f)) : []);
      assert.deepEqual((await l.queryIsolated(`SELECT count(*)::INT AS n FROM votes`)).rows, [{ n: 0 }]);
      const first = copies();
      assert.equal(first.length, 1);
      await l.queryIsolated(`SELECT 1`);
      assert.deepEqual(copies(), first, 'no change, no new copy');
      await l.commit(smallCommit());
      assert.deepEqual((await l.queryIsolated(`SELECT count(*)::INT AS n FROM votes`)).rows, [{ n: 6 }]);
      const second = copies();
      assert.equal(second.length, 1);
      assert.notDeepEqual(second, first);
      l.closeSync();
      ledger = undefined;
      assert.equal(fs.existsSync(`${file}.reads`), false);
    });

    it('should remove read copies a crashed writer left when it opens', async () => {
      fs.mkdirSync(`${file}.reads`, { recursive: true });
      fs.writeFileSync(path.join(`${file}.reads`, 'ledger.duckdb-7'), 'stale');
      await writer();
      assert.equal(fs.existsSync(`${file}.reads`), false);
    });
  });

  describe('openReader', () => {
    let child: ChildProcess | undefined;

    afterEach(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child.stdin?.end();
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      child = undefined;
    });

    /** Starts a child process holding the ledger read-write until its stdin closes. */
    async function holdWriterInChild(ledgerFile: string): Promise<ChildProcess> {
      const script = `
        const { Ledger } = require(${JSON.stringify(LEDGER_JS)});
        Ledger.openWriter(${JSON.stringify(ledgerFile)}).then((l) => {
          process.stdout.write('ready\\n');
          process.stdin.on('data', () => {});
          process.stdin.on('end', () => { l.closeSync(); process.exit(0); });
        }, (err) => { process.stderr.write(String(err && err.message) + '\\n'); process.exit(3); });`;
      const proc = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
      child = proc;
      let stderr = '';
      proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      await new Promise<void>((resolve, reject) => {
        proc.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve();
        });
        proc.once('exit', (code) => reject(new Error(`writer child exited with ${code}: ${stderr}`)));
      });
      return proc;
    }

    it('should fail with prefline_ledger_locked while another process holds the writer', async () => {
      await holdWriterInChild(file);
      const err = await rejectsWithCode(Ledger.openReader(file), ErrorCode.LedgerLocked);
      assert.ok(err.message.includes(file), err.message);
      assert.ok(err.cause instanceof Error, 'the DuckDB error is kept as the cause');
      // A second writer is refused just the same.
      await rejectsWithCode(Ledger.openWriter(file), ErrorCode.LedgerLocked);
    });

    it('should open read-only once the writer process has gone', async () => {
      const proc = await holdWriterInChild(file);
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.stdin!.end();
      await exited;
      ledger = await Ledger.openReader(file);
      assert.equal(ledger.readOnly, true);
      assert.equal(await count(ledger, `SELECT count(*) AS n FROM votes`), 0);
    });

    it('should read committed rows when no writer holds the file', async () => {
      const w = await writer();
      await w.commit(smallCommit());
      w.closeSync();
      ledger = await Ledger.openReader(file);
      assert.equal(ledger.readOnly, true);
      assert.equal(await count(ledger, `SELECT count(*) AS n FROM feedback`), 3);
    });

    it('should fail with prefline_ledger_unavailable (not locked) when the file does not exist', async () => {
      const missing = path.join(dir, 'missing.duckdb');
      await rejectsWithCode(Ledger.openReader(missing), ErrorCode.LedgerUnavailable);
      assert.equal(fs.existsSync(missing), false, 'a reader must not create the ledger');
    });
  });
});

describe('store/LedgerReadServer', function () {
  this.timeout(60_000);
  let dir: string;
  let ledger: Ledger;
  let server: LedgerReadServer | undefined;
  let endpointFile: string;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-ledger-read-'));
    ledger = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
    await ledger.commit(smallCommit());
    endpointFile = path.join(dir, 'run', 'ledger-endpoint.json');
    server = await LedgerReadServer.start(ledger, { host: '127.0.0.1', port: 0, endpointFile });
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
    ledger.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** `token: null` sends no authorization header at all. */
  async function post(body: string, token: string | null = server!.endpoint.token, urlPath = '/query', method = 'POST'): Promise<{ status: number; body: any }> {
    const response = await fetch(`${server!.endpoint.url}${urlPath}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
      ...(method === 'POST' ? { body } : {}),
    });
    return { status: response.status, body: await response.json() };
  }

  it('should advertise itself in an endpoint file of mode 0600', () => {
    const endpoint = JSON.parse(fs.readFileSync(endpointFile, 'utf8'));
    assert.deepEqual(endpoint, server!.endpoint);
    assert.match(endpoint.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(endpoint.url, 'http://127.0.0.1:0');
    assert.match(endpoint.token, /^[0-9a-f]{48}$/);
    assert.equal(endpoint.pid, process.pid);
    assert.equal(endpoint.ledgerPath, ledger.path);
    assert.equal(fs.statSync(endpointFile).mode & 0o777, 0o600);
  });

  it('should overwrite a stale endpoint file left with a wider mode and make it 0600', async () => {
    await server!.close();
    server = undefined;
    fs.writeFileSync(endpointFile, JSON.stringify({ url: 'http://127.0.0.1:1', token: 'stale', pid: 1, ledgerPath: 'x' }), { mode: 0o644 });
    fs.chmodSync(endpointFile, 0o644);
    server = await LedgerReadServer.start(ledger, { host: '127.0.0.1', port: 0, endpointFile });
    assert.deepEqual(JSON.parse(fs.readFileSync(endpointFile, 'utf8')), server.endpoint);
    assert.equal(fs.statSync(endpointFile).mode & 0o777, 0o600, 'the token must not stay readable by other users');
  });

  it('should use a fresh token per start', async () => {
    const first = server!.endpoint.token;
    await server!.close();
    server = await LedgerReadServer.start(ledger, { host: '127.0.0.1', port: 0, endpointFile });
    assert.notEqual(server.endpoint.token, first);
  });

  it('should remove the endpoint file on close', async () => {
    assert.ok(fs.existsSync(endpointFile));
    await server!.close();
    server = undefined;
    assert.equal(fs.existsSync(endpointFile), false);
  });

  it('should answer 401 without a token', async () => {
    const res = await post(JSON.stringify({ sql: 'SELECT 1' }), null);
    assert.equal(res.status, 401);
    assert.deepEqual(res.body, { error: 'unauthorized' });
  });

  it('should answer 401 with a wrong token, a token of another length, or another scheme', async () => {
    const token = server!.endpoint.token;
    const wrong = token.slice(0, -1) + (token.endsWith('0') ? '1' : '0');
    for (const t of [wrong, token.slice(1), `${token}x`, '']) {
      const res = await post(JSON.stringify({ sql: 'SELECT 1' }), t);
      assert.equal(res.status, 401, `token ${t}`);
    }
    const basic = await fetch(`${server!.endpoint.url}/query`, { method: 'POST', headers: { authorization: `Basic ${token}` }, body: '{"sql":"SELECT 1"}' });
    assert.equal(basic.status, 401);
  });

  it('should answer 401 before revealing which paths exist', async () => {
    assert.equal((await post('', null, '/nope', 'GET')).status, 401);
    assert.equal((await post('', server!.endpoint.token, '/nope', 'GET')).status, 404);
    assert.equal((await post('', server!.endpoint.token, '/query', 'GET')).status, 404);
  });

  it('should run a SELECT and answer its columns and rows', async () => {
    const res = await post(JSON.stringify({ sql: 'SELECT rater, rating FROM feedback ORDER BY rater, candidate_id' }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.columns, ['rater', 'rating']);
    assert.deepEqual(res.body.rows, [
      { rater: rater(1), rating: -1 },
      { rater: rater(1), rating: 1 },
      { rater: rater(3), rating: 1 },
    ]);
  });

  it('should refuse non-SELECT statements with 400 and change nothing', async () => {
    for (const sql of ['DELETE FROM votes', 'DROP TABLE votes', "ATTACH ':memory:' AS x", 'SELECT 1; DELETE FROM votes']) {
      const res = await post(JSON.stringify({ sql }));
      assert.equal(res.status, 400, sql);
      assert.match(res.body.error, /only SELECT|exactly one statement/);
    }
    assert.equal(Number((await ledger.query('SELECT count(*) AS n FROM votes')).rows[0]?.['n']), 6);
  });

  it('should answer 422 for a SELECT that fails in DuckDB', async () => {
    const res = await post(JSON.stringify({ sql: 'SELECT nope FROM votes' }));
    assert.equal(res.status, 422);
    assert.match(res.body.error, /nope/);
  });

  it('should answer 400 for a body that is not JSON {"sql": …}', async () => {
    assert.equal((await post('SELECT 1')).status, 400);
    assert.deepEqual((await post(JSON.stringify({ query: 'SELECT 1' }))).body, { error: 'sql: required' });
    assert.equal((await post(JSON.stringify({ sql: '   ' }))).status, 400);
    assert.equal((await post(JSON.stringify({ sql: 42 }))).status, 400);
  });

  it('should answer 413 for an oversized body', async () => {
    const sql = `SELECT '${'x'.repeat(70 * 1024)}' AS big`;
    const res = await post(JSON.stringify({ sql }));
    assert.equal(res.status, 413);
    assert.deepEqual(res.body, { error: 'query too large' });
  });

  it('should still serve queries after refusing one', async () => {
    assert.equal((await post(JSON.stringify({ sql: 'DELETE FROM votes' }))).status, 400);
    const res = await post(JSON.stringify({ sql: 'SELECT count(*) AS n FROM votes' }));
    assert.equal(res.status, 200);
    assert.equal(Number(res.body.rows[0].n), 6);
  });
});
