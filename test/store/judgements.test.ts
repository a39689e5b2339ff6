/**
 * The ledger's judgements (store/Ledger.ts, schema 7): every event once however often a commit is
 * retried, increments while voting, cleared flags, completion counting votes and judgements, standing
 * flags that equal the tally rule on seeded random lifecycles, and upgrades from older ledgers.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Ledger } from '../../store/Ledger';
import type { CommitRequest, CommittedJudgement, LifecycleRecord } from '../../store/ledger-types';
import { validateLifecycleInput } from '../../workflows/input';
import { JudgementTally } from '../../workflows/judgement-tally';
import { RatingLifecycle } from '../../workflows/lifecycle-state';
import { VoteTally } from '../../workflows/vote-tally';
import type { Candidate, JudgementChoice, JudgementEvent, LifecyclePlan } from '../../workflows/types';
import { judgement, raterId, vote } from '../helpers/votes';
import { writeOldLedger } from './old-ledgers';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function plan(input: Record<string, unknown>): LifecyclePlan {
  const result = validateLifecycleInput({ prompt: 'a fox', ...input }, T0);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

const COMPARE = plan({ task: 'compare', models: ['demo:shapes', 'demo:gradient'], question: 'Which fox?', responses: 5, allowBothBad: false });

function candidate(n: number): Candidate {
  const sha = String(n).repeat(64);
  return {
    id: `c${n}`, label: n === 1 ? 'A' : 'B', model: n === 1 ? 'demo:shapes' : 'demo:gradient', kind: 'image', placeholder: true,
    artifact: { sha256: sha, mime: 'image/png', size: 10, path: `sha256/${sha.slice(0, 2)}/${sha}.png` },
    provenance: { backend: 'demo', model: 'shapes', params: {}, seed: n, wallTimeMs: 1 },
  };
}

function record(overrides: Partial<LifecycleRecord> = {}): LifecycleRecord {
  return {
    lifecycleId: 'lc-cmp', runId: 'run-cmp', plan: COMPARE, startedAt: at(0), deadlineAt: at(3600),
    closedAt: at(600), closeReason: 'quorum', votesAccepted: 0, ...overrides,
  };
}

function committed(seq: number, choice: JudgementChoice, rater: number, standing: boolean, shown: [string, string] = ['c1', 'c2']): CommittedJudgement {
  return { ...judgement(choice, rater, shown, { idempotencyKey: `web:${seq}`, castAt: at(seq), raterAuth: 'invite' }), seq, acceptedAt: at(seq + 0.5), modelsHidden: true, standing };
}

describe('store/Ledger: judgements', function () {
  this.timeout(60_000);
  let dir: string;
  let ledger: Ledger;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-judgements-'));
    ledger = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
  });

  afterEach(() => {
    ledger.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const rows = async (sql: string, values: string[] = ['run-cmp']) => (await ledger.query(sql, values)).rows;

  it('should store every judgement event with the sides shown, the winner, what the rater could see, and the lifecycle\'s task', async () => {
    const judgements = [committed(1, 'left', 1, false), committed(2, 'right', 1, true, ['c2', 'c1']), committed(3, 'tie', 2, true), committed(4, 'retract', 3, false)];
    const result = await ledger.commit({ lifecycle: record({ votesAccepted: 4 }), candidates: [candidate(1), candidate(2)], votes: [], judgements });
    assert.deepEqual(result, { voteRowsInserted: 0, voteRowsForLifecycle: 0, judgementRowsInserted: 4, judgementRowsForLifecycle: 4 });
    assert.deepEqual(await rows(`SELECT seq, rater, rater_auth, channel, left_candidate, right_candidate, choice, winner_candidate, models_hidden, standing
                                   FROM judgements WHERE run_id = $1 ORDER BY rowid`), [
      { seq: 1, rater: raterId(1), rater_auth: 'invite', channel: 'web', left_candidate: 'c1', right_candidate: 'c2', choice: 'left', winner_candidate: 'c1', models_hidden: true, standing: false },
      { seq: 2, rater: raterId(1), rater_auth: 'invite', channel: 'web', left_candidate: 'c2', right_candidate: 'c1', choice: 'right', winner_candidate: 'c1', models_hidden: true, standing: true },
      { seq: 3, rater: raterId(2), rater_auth: 'invite', channel: 'web', left_candidate: 'c1', right_candidate: 'c2', choice: 'tie', winner_candidate: null, models_hidden: true, standing: true },
      { seq: 4, rater: raterId(3), rater_auth: 'invite', channel: 'web', left_candidate: 'c1', right_candidate: 'c2', choice: 'retract', winner_candidate: null, models_hidden: true, standing: false },
    ]);
    assert.deepEqual(await rows(`SELECT task, question, quorum_kind, quorum_votes, allow_both_bad, reveal_models FROM lifecycles WHERE run_id = $1`), [
      { task: 'compare', question: 'Which fox?', quorum_kind: 'responses', quorum_votes: 5, allow_both_bad: false, reveal_models: false },
    ]);
    assert.deepEqual(await rows(`SELECT count(*)::INT AS n FROM lifecycle_completions WHERE run_id = $1`), [{ n: 1 }]);
    assert.deepEqual(await rows(`SELECT count(*)::INT AS n FROM feedback WHERE lifecycle_id = 'lc-cmp'`, []), [{ n: 0 }], 'the feedback view holds votes only');
  });

  it('should keep every judgement once however often a commit, or part of it, is retried', async () => {
    const judgements = Array.from({ length: 250 }, (_, i) => committed(i + 1, i % 2 ? 'left' : 'right', i, true));
    const request: CommitRequest = { lifecycle: record({ votesAccepted: 251 }), candidates: [candidate(1), candidate(2)], votes: [{ ...vote('c1', 'up', 900, { idempotencyKey: 'web:v', castAt: at(1) }), seq: 251, acceptedAt: at(2), standing: true }], judgements };
    await ledger.commit(request);
    const again = await ledger.commit(request);
    assert.deepEqual(again, { voteRowsInserted: 0, voteRowsForLifecycle: 1, judgementRowsInserted: 0, judgementRowsForLifecycle: 250 });
    // A retry of an increment whose first half was committed: only the rest goes in.
    const halfway = { ...request, lifecycle: record({ runId: 'run-2', votesAccepted: 250 }), votes: [] };
    await ledger.commit({ ...halfway, judgements: judgements.slice(0, 120) });
    const rest = await ledger.commit(halfway);
    assert.equal(rest.judgementRowsInserted, 130);
    assert.deepEqual(await rows(`SELECT count(*)::INT AS n, count(DISTINCT idempotency_key)::INT AS keys FROM judgements WHERE run_id = $1`, ['run-2']), [{ n: 250, keys: 250 }]);
    assert.deepEqual(await rows(`SELECT list(seq ORDER BY rowid) = list(seq ORDER BY seq) AS ordered FROM judgements WHERE run_id = $1`, ['run-2']), [{ ordered: true }]);
  });

  it('should commit increments under an open lifecycle, clear flags of judgements changed since, and complete on votes and judgements together', async () => {
    const { closedAt: _c, closeReason: _r, ...open } = record({ votesAccepted: 3 });
    await ledger.commit({ lifecycle: open, candidates: [candidate(1), candidate(2)], votes: [], judgements: [committed(1, 'left', 1, true), committed(2, 'left', 2, true)] });
    await ledger.commit({ lifecycle: open, candidates: [], votes: [{ ...vote('c1', 'up', 7, { idempotencyKey: 'web:v3', castAt: at(3) }), seq: 3, acceptedAt: at(3), standing: true }] });
    assert.deepEqual(await rows(`SELECT count(*)::INT AS n FROM lifecycle_completions WHERE run_id = $1`), [{ n: 0 }], 'never complete while voting');
    // Closed with one more judgement than the ledger holds: still incomplete.
    const closing = record({ votesAccepted: 5 });
    await ledger.commit({ lifecycle: closing, candidates: [], votes: [], judgements: [committed(4, 'tie', 1, true)], unstandJudgements: [1] });
    assert.deepEqual(await rows(`SELECT count(*)::INT AS n FROM lifecycle_completions WHERE run_id = $1`), [{ n: 0 }]);
    const last = await ledger.commit({ lifecycle: closing, candidates: [], votes: [], judgements: [committed(5, 'right', 3, true)] });
    assert.deepEqual([last.voteRowsForLifecycle, last.judgementRowsForLifecycle], [1, 4]);
    assert.deepEqual(await rows(`SELECT count(*)::INT AS n FROM lifecycle_completions WHERE run_id = $1`), [{ n: 1 }]);
    assert.deepEqual(await rows(`SELECT seq, standing FROM judgements WHERE run_id = $1 ORDER BY seq`), [
      { seq: 1, standing: false }, { seq: 2, standing: true }, { seq: 4, standing: true }, { seq: 5, standing: true },
    ]);
    await assert.rejects(ledger.commit({ lifecycle: closing, candidates: [], votes: [], unstandJudgements: [0] }), /not a judgement's seq/);
  });

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`should leave standing flags equal to the tally rule on a random lifecycle (seed ${seed}), committed in random increments`, async () => {
      let state = seed * 7919;
      const random = () => {
        state = (state * 1103515245 + 12345) % 2 ** 31;
        return state / 2 ** 31;
      };
      const lifecycle = RatingLifecycle.start(`lc-rand-${seed}`, COMPARE, {}, T0);
      lifecycle.openVoting([candidate(1), candidate(2)], []);
      const choices: JudgementChoice[] = ['left', 'right', 'tie', 'retract'];
      for (let n = 0; n < 400; n++) {
        const rater = Math.floor(random() * 12);
        // castAt jitters, so some judgements arrive after a later one of the same rater.
        const castAt = at(n + Math.floor(random() * 20) - 10);
        if (random() < 0.15) lifecycle.recordVote(vote(random() < 0.5 ? 'c1' : 'c2', random() < 0.5 ? 'up' : 'down', rater, { castAt }));
        else lifecycle.recordJudgement(judgement(choices[Math.floor(random() * 4)]!, rater, random() < 0.5 ? ['c1', 'c2'] : ['c2', 'c1'], { castAt }));
        if (random() < 0.03) {
          const increment = lifecycle.incrementRequest(`run-rand-${seed}`);
          await ledger.commit(increment);
          lifecycle.incrementCommitted(increment);
        }
      }
      lifecycle.close('closed');
      for (const request of lifecycle.commitRequests(`run-rand-${seed}`, at(9999))) await ledger.commit(request);
      const stored = await rows(`SELECT idempotency_key, seq, rater, left_candidate, right_candidate, choice, epoch_ms(cast_at)::DOUBLE AS cast_ms, standing
                                   FROM judgements WHERE run_id = $1 ORDER BY seq`, [`run-rand-${seed}`]);
      const events: JudgementEvent[] = stored.map((r) => ({
        idempotencyKey: String(r['idempotency_key']), seq: Number(r['seq']), rater: String(r['rater']), channel: 'web', castAt: new Date(Number(r['cast_ms'])).toISOString(),
        left: String(r['left_candidate']), right: String(r['right_candidate']), choice: r['choice'] as JudgementChoice, acceptedAt: '', modelsHidden: true,
      }));
      const rule = new JudgementTally([{ id: 'c1' }, { id: 'c2' }], events);
      assert.deepEqual(stored.filter((r) => r['standing'] !== rule.isStanding(String(r['idempotency_key']))), []);
      assert.deepEqual(rule.counted(), lifecycle.judgements.counted());
      // The votes between them, whose seqs the judgements skip, keep the votes' rule too.
      const storedVotes = await rows(`SELECT idempotency_key, seq, candidate_id, rater, kind, value, epoch_ms(cast_at)::DOUBLE AS cast_ms, standing
                                        FROM votes WHERE run_id = $1 ORDER BY seq`, [`run-rand-${seed}`]);
      const voteRule = new VoteTally([{ id: 'c1', label: 'A' }, { id: 'c2', label: 'B' }], storedVotes.map((r) => ({
        idempotencyKey: String(r['idempotency_key']), seq: Number(r['seq']), candidateId: String(r['candidate_id']), rater: String(r['rater']), channel: 'web',
        value: r['kind'] === 'retract' ? 'retract' as const : Number(r['value']) === 1 ? 'up' as const : 'down' as const, castAt: new Date(Number(r['cast_ms'])).toISOString(), acceptedAt: '',
      })));
      assert.deepEqual(storedVotes.filter((r) => r['standing'] !== voteRule.isStanding(String(r['idempotency_key']))), []);
      const total = await rows(`SELECT (SELECT count(*) FROM votes WHERE run_id = $1)::INT + (SELECT count(*) FROM judgements WHERE run_id = $1)::INT AS n`, [`run-rand-${seed}`]);
      assert.deepEqual(total, [{ n: 400 }]);
      assert.deepEqual(await rows(`SELECT count(*)::INT AS n FROM lifecycle_completions WHERE run_id = $1`, [`run-rand-${seed}`]), [{ n: 1 }]);
    });
  }

  for (const version of [1, 3] as const) {
    it(`should mark a schema-${version} ledger's lifecycles as thumbs and then take compare lifecycles`, async () => {
      ledger.closeSync();
      const file = path.join(dir, `old-${version}.duckdb`);
      await writeOldLedger(file, version);
      ledger = await Ledger.openWriter(file);
      assert.deepEqual(await rows(`SELECT task, question, allow_both_bad, reveal_models FROM lifecycles WHERE run_id = $1`, ['run-old']), [
        { task: 'thumbs', question: null, allow_both_bad: null, reveal_models: null },
      ]);
      await ledger.commit({ lifecycle: record({ votesAccepted: 1 }), candidates: [candidate(1), candidate(2)], votes: [], judgements: [committed(1, 'left', 1, true)] });
      assert.deepEqual(await rows(`SELECT l.task, count(j.seq)::INT AS n FROM lifecycles l JOIN judgements j USING (run_id) WHERE run_id = $1 GROUP BY l.task`), [{ task: 'compare', n: 1 }]);
    });
  }
});
