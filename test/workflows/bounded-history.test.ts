/**
 * Bounded history (issue 12, Found 7): large lifecycles never get stuck. On the real dev server with the
 * real ledger (stub inference and channel): 10,000 votes with 2,000-character comments, by signal and
 * by update through the gateway's directory, across many continue-as-new, at production thresholds;
 * and, with the thresholds knob, votes changed after they were committed, duplicates after
 * continue-as-new, and a lifecycle that is never complete while it still votes.
 */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import type { LifecycleStart } from '../../workflows/lifecycle-state';
import { WORKFLOW_TYPE, closeSignal, statusQuery, voteSignal } from '../../workflows/messages';
import type { LifecycleInput, LifecycleSummary, VoteEvent, VoteRequest } from '../../workflows/types';
import { VoteTally } from '../../workflows/vote-tally';
import { waitUntil } from '../helpers/processes';
import { stubInference } from '../helpers/stub-activities';
import { createLifecycleWorkers, sharedTemporal, waitForVoting, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { raterId } from '../helpers/votes';

/** Stays far below Temporal's 2 MB payload limit, and below its 512 KB warning. */
const MAX_CARRY_BYTES = 512 * 1024;

/** A 2,000-character comment; every 50th one in 3-byte characters (6 KB of UTF-8). */
function comment(n: number): string {
  const text = n % 50 === 0 ? '€'.repeat(2000) : `vote ${n}: ${'lorem ipsum dolor sit amet '.repeat(80)}`;
  return text.slice(0, 2000);
}

/** Runs `task` over `items`, at most `concurrency` at a time. */
async function pool<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!, i);
    }
  }));
  return results;
}

interface RunsReport {
  runs: number;
  events: number;
  /** Bytes of each run's history, as the server counts them. */
  historyBytes: number[];
  /** Bytes of each continue-as-new's input payloads (the input and the carried state). */
  carryBytes: number[];
}

/** Every run of the lifecycle: how many, their history events together, and what each continue-as-new carried. */
async function runsOf(handle: WorkflowHandleWithFirstExecutionRunId): Promise<RunsReport> {
  const { client } = await sharedTemporal();
  const report: RunsReport = { runs: 0, events: 0, historyBytes: [], carryBytes: [] };
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
    const execution_ = { workflowId: handle.workflowId, runId: execution.runId };
    const described = await client.workflow.getHandle(handle.workflowId, execution.runId).describe();
    report.runs += 1;
    report.events += described.historyLength;
    report.historyBytes.push(described.historySize ?? 0);
    // Only the close event: whole histories of these runs are larger than a gRPC message may be.
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace, execution: execution_, historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    });
    const carried = history?.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads ?? [];
    if (carried.length > 0) report.carryBytes.push(carried.reduce((n, p) => n + (p.data?.length ?? 0) + Object.values(p.metadata ?? {}).reduce((m, v) => m + v.length, 0), 0));
  }
  return report;
}

describe('ratingLifecycle with bounded history (real dev server, real ledger)', function () {
  this.timeout(300_000);
  let workers: LifecycleWorkers;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'bounded', { inference: stubInference });
  });

  afterEach(() => workers.close());

  async function start(input: LifecycleInput, second?: LifecycleStart): Promise<WorkflowHandleWithFirstExecutionRunId> {
    const { client } = await sharedTemporal();
    return client.workflow.start(WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: `lc-bounded-${randomUUID()}`, args: second === undefined ? [input] : [input, second] });
  }

  /** Ledger rows of the lifecycle in acceptance order, and the flags the tally rule gives them. */
  async function ledgerAgainstTallyRule(lifecycleId: string, candidateIds: string[]) {
    const { rows } = await workers.ledger.query(
      `SELECT idempotency_key, seq, candidate_id, rater, kind, value, channel, epoch_ms(cast_at)::DOUBLE AS cast_ms, standing
         FROM votes WHERE lifecycle_id = $1 ORDER BY seq`,
      [lifecycleId],
    );
    const events: VoteEvent[] = rows.map((r) => ({
      idempotencyKey: String(r['idempotency_key']), seq: Number(r['seq']), candidateId: String(r['candidate_id']), rater: String(r['rater']),
      value: r['kind'] === 'retract' ? 'retract' : Number(r['value']) === 1 ? 'up' : 'down', channel: String(r['channel']), castAt: new Date(Number(r['cast_ms'])).toISOString(), acceptedAt: '',
    }));
    const rule = new VoteTally(candidateIds.map((id) => ({ id, label: id })), events);
    const mismatched = rows.filter((r) => r['standing'] !== rule.isStanding(String(r['idempotency_key'])));
    return { rows, rule, mismatched };
  }

  it('should commit every one of 10,000 votes with 2,000-character comments, by signal and by update, at production thresholds', async () => {
    const total = 10_000;
    const candidateIds = ['c1', 'c2', 'c3', 'c4'];
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 60_000 });
      const handle = await start({ prompt: 'a very long vote', model: 'demo:text', candidates: 4, totalVotes: 10_000, deadline: '1h' });
      await waitForVoting(handle, 20_000);
      const t0 = Date.now();
      // 30 raters on 4 candidates; each vote is a rater's newer opinion, so most change the tally.
      const votes: VoteRequest[] = Array.from({ length: total }, (_, n) => ({
        idempotencyKey: `web:${raterId(n % 30)}:${n}`, candidateId: candidateIds[(n * 7) % 4]!, value: n % 11 === 0 ? 'retract' : n % 3 ? 'up' : 'down',
        rater: raterId(n % 30), channel: 'web', castAt: new Date(t0 + n).toISOString(), comment: comment(n),
      }));
      // Every fourth vote through the gateway's directory (an update: 2,500 of them, more than a run may take), the rest as signals.
      const outcomes = await pool(votes, 24, async (v, n) => {
        if (n % 4 === 0) return (await directory.vote(handle.workflowId, v)).outcome;
        await handle.signal(voteSignal, v);
        return 'signalled';
      });
      assert.ok(outcomes.every((o) => o !== 'duplicate'), 'no distinct vote was taken for a duplicate');
      await waitUntil(async () => ((await handle.query(statusQuery)).votesAccepted === total ? true : undefined), 120_000, 'every vote to be accepted');
      await handle.signal(closeSignal, {});
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.votesAccepted, total);
      assert.equal(summary.rowsCommitted, total);
      assert.equal(summary.lateVotesRefused, 0);

      const { rows, mismatched, rule } = await ledgerAgainstTallyRule(handle.workflowId, candidateIds);
      assert.equal(rows.length, total);
      assert.equal(new Set(rows.map((r) => r['idempotency_key'])).size, total, 'each vote once');
      assert.deepEqual(rows.map((r) => Number(r['seq'])), votes.map((_, i) => i + 1));
      assert.deepEqual(mismatched.slice(0, 3), [], `${mismatched.length} standing flags differ from the tally rule`);
      assert.deepEqual(summary.tally.map((t) => [t.up, t.down]), rule.tallies().map((t) => [t.up, t.down]));
      assert.equal((await workers.ledger.query(`SELECT count(*)::INT AS n FROM lifecycle_completions c JOIN lifecycles l USING (run_id) WHERE l.lifecycle_id = $1`, [handle.workflowId])).rows[0]?.['n'], 1);
      const longest = await workers.ledger.query(`SELECT max(length(comment))::INT AS n FROM votes WHERE lifecycle_id = $1`, [handle.workflowId]);
      assert.equal(longest.rows[0]?.['n'], 2000);

      const report = await runsOf(handle);
      const largest = Math.max(...report.carryBytes);
      process.stdout.write(`      ${report.runs} runs, ${report.events} history events, largest history ${Math.max(...report.historyBytes)} bytes, continue-as-new inputs ${Math.min(...report.carryBytes)}–${largest} bytes\n`);
      assert.ok(report.runs >= 3, `${report.runs} runs`);
      assert.ok(report.events > 4096, `${report.events} events`);
      assert.ok(largest < MAX_CARRY_BYTES, `a continue-as-new carried ${largest} bytes`);
    });
  });

  it('should clear the flags of votes changed after their commit, answer duplicates after continue-as-new, and stay incomplete while voting', async () => {
    const candidateIds = ['c1', 'c2'];
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 30_000 });
      const handle = await start(
        { prompt: 'changing minds', model: 'demo:text', candidates: 2, totalVotes: 10_000, deadline: '1h' },
        { thresholds: { continueAsNewAfterEvents: 150 } },
      );
      await waitForVoting(handle, 20_000);
      const t0 = Date.now();
      let n = 0;
      const next = (rater: number, candidateId: string, value: VoteRequest['value']): VoteRequest => {
        n += 1;
        return {
          idempotencyKey: `web:${raterId(rater)}:${n}`, candidateId, value, rater: raterId(rater), channel: 'web', castAt: new Date(t0 + n).toISOString(), comment: comment(n),
          raterAuth: rater % 2 === 0 ? 'invite' : 'oidc',
        };
      };
      // Round 1: five raters vote up on both candidates, with long comments, so a run commits before continuing.
      const first: VoteRequest[] = [];
      for (let round = 0; round < 8; round++) for (let r = 1; r <= 5; r++) for (const c of candidateIds) first.push(next(r, c, 'up'));
      for (const v of first) await handle.signal(voteSignal, v);
      // Then retractions without a vote (they change no tally) by other raters, until round 1 is in the ledger.
      const fillers: VoteRequest[] = [];
      for (let r = 10; r < 50; r++) fillers.push(next(r, 'c1', 'retract'));
      for (const v of fillers) await handle.signal(voteSignal, v);
      const committed = async () => Number((await workers.ledger.query(
        `SELECT count(*)::INT AS n FROM votes WHERE lifecycle_id = $1 AND seq <= $2`,
        [handle.workflowId, first.length],
      )).rows[0]?.['n']);
      await waitUntil(async () => ((await committed()) === first.length ? true : undefined), 60_000, 'round 1 in the ledger');
      await waitUntil(async () => ((await handle.describe()).runId !== handle.firstExecutionRunId ? true : undefined), 60_000, 'a continue-as-new');
      // Committed while voting runs, under an open lifecycle row, never complete.
      const open = await workers.ledger.query(
        `SELECT l.close_reason, (SELECT count(*)::INT FROM votes v WHERE v.run_id = l.run_id) AS rows, (SELECT count(*)::INT FROM lifecycle_completions c WHERE c.run_id = l.run_id) AS complete
           FROM lifecycles l WHERE l.lifecycle_id = $1`,
        [handle.workflowId],
      );
      assert.equal(open.rows.length, 1);
      assert.equal(open.rows[0]?.['close_reason'], null);
      assert.ok(Number(open.rows[0]?.['rows']) > 0, 'increments were committed while voting');
      assert.equal(open.rows[0]?.['complete'], 0);

      // Round 2, after their first votes were committed: raters 1–3 change their minds, rater 4 retracts.
      const second = [next(1, 'c1', 'down'), next(2, 'c2', 'down'), next(3, 'c1', 'down'), next(4, 'c2', 'retract')];
      for (const v of second) assert.notEqual((await directory.vote(handle.workflowId, v)).outcome, 'duplicate');
      // Duplicates of votes from the first run, by update (another update id: a new run) and by signal.
      for (const v of first.slice(0, 5)) assert.equal((await directory.vote(handle.workflowId, v)).outcome, 'duplicate');
      for (const v of first.slice(5, 10)) await handle.signal(voteSignal, v);
      const accepted = first.length + fillers.length + second.length;
      await handle.signal(closeSignal, {});
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.votesAccepted, accepted);
      assert.equal(summary.rowsCommitted, accepted);
      assert.deepEqual(summary.tally.map((t) => [t.candidateId, t.up, t.down]), [['c1', 3, 2], ['c2', 3, 1]]);

      const { rows, mismatched } = await ledgerAgainstTallyRule(handle.workflowId, candidateIds);
      assert.equal(rows.length, accepted);
      assert.deepEqual(mismatched, []);
      // Each increment, and the votes a continue-as-new carried, kept how the rater signed in.
      const auth = await workers.ledger.query(`SELECT idempotency_key, rater_auth FROM votes WHERE lifecycle_id = $1 ORDER BY seq`, [handle.workflowId]);
      assert.deepEqual(auth.rows, [...first, ...fillers, ...second].map((v) => ({ idempotency_key: v.idempotencyKey, rater_auth: v.raterAuth })));
      const standing = (await workers.ledger.query(`SELECT candidate_id, up, down FROM candidate_scores s JOIN lifecycles l USING (run_id) WHERE l.lifecycle_id = $1 ORDER BY candidate_id`, [handle.workflowId])).rows;
      assert.deepEqual(standing, [{ candidate_id: 'c1', up: 3, down: 2 }, { candidate_id: 'c2', up: 3, down: 1 }]);
      const report = await runsOf(handle);
      assert.ok(report.runs >= 2, `${report.runs} runs`);
      assert.ok(Math.max(...report.carryBytes) < 64 * 1024, `carried ${Math.max(...report.carryBytes)} bytes`);
    });
  });
});
