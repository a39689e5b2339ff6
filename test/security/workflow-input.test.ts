/**
 * Issue 12, the workflow's trust boundary: what ops pass to start a lifecycle, and the votes any
 * gateway (or anyone with a Temporal client) sends it. Each case runs the real ratingLifecycle on the
 * dev server with the real ledger and asserts both halves of the promise: a clear refusal naming the
 * rule, and nothing changed: no activity for a refused start; for a refused vote, the tally, the
 * accepted count and (after the close) the ledger's rows are exactly those of the valid votes.
 * Found 2: a vote through another channel than the lifecycle's is refused, and a signalled one is not counted.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { INVALID_INPUT_ERROR, VoteRejection, WORKFLOW_TYPE, closeSignal, statusQuery, voteSignal, voteUpdate } from '../../workflows/messages';
import type { LifecycleStatus, LifecycleSummary, VoteRequest } from '../../workflows/types';
import { waitUntil } from '../helpers/processes';
import { historyEvents, recordingChannel, stubInference } from '../helpers/stub-activities';
import { createLifecycleWorkers, sharedTemporal, waitForVoting, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { vote } from '../helpers/votes';

const GOOD_INPUT = { prompt: 'a red fox', model: 'demo:text', candidates: 2, totalVotes: 1000, deadline: '1h' };

describe('security: workflow input and votes (real dev server, real ledger)', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;
  let web: WorkflowHandleWithFirstExecutionRunId;
  let slack: WorkflowHandleWithFirstExecutionRunId;
  let email: WorkflowHandleWithFirstExecutionRunId;
  /** The votes each lifecycle accepted, by the tests' own count. */
  const accepted = new Map<string, number>();

  async function start(args: unknown[]): Promise<WorkflowHandleWithFirstExecutionRunId> {
    const { client } = await sharedTemporal();
    return client.workflow.start(WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: `lc-sec-${randomUUID()}`, args });
  }

  async function ledgerRows(): Promise<number> {
    return Number((await workers.ledger.query(`SELECT count(*)::INT AS n FROM votes`)).rows[0]?.['n']);
  }

  async function accept(handle: WorkflowHandle, request: VoteRequest): Promise<void> {
    assert.notEqual((await handle.executeUpdate(voteUpdate, { args: [request] })).outcome, 'duplicate');
    accepted.set(handle.workflowId, (accepted.get(handle.workflowId) ?? 0) + 1);
  }

  /** The parts of a status a refused vote must leave as they were. */
  const observable = (s: LifecycleStatus) => ({ votesAccepted: s.votesAccepted, tallies: s.candidates.map((c) => c.tally) });

  /** Sends `request` as an update; asserts it is refused with `type` and a message matching `message`, and nothing changed. */
  async function refusedUpdate(handle: WorkflowHandle, request: unknown, type: string, message: RegExp): Promise<void> {
    const before = observable(await handle.query(statusQuery));
    const rows = await ledgerRows();
    const err = await handle.executeUpdate(voteUpdate, { args: [request as VoteRequest] }).then(() => assert.fail('the vote was accepted'), (e: unknown) => e);
    assert.ok(err instanceof WorkflowUpdateFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, type);
    assert.match(err.cause.message, message);
    assert.deepEqual(observable(await handle.query(statusQuery)), before);
    assert.equal(await ledgerRows(), rows);
  }

  /** Starts a lifecycle with `args`; asserts it fails at once with InvalidLifecycleInput naming `fields`, before any activity. */
  async function refusedStart(args: unknown[], fields: RegExp[]): Promise<void> {
    const rows = await ledgerRows();
    const handle = await start(args);
    const err = await handle.result().then(() => assert.fail('the lifecycle started'), (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, INVALID_INPUT_ERROR);
    assert.equal(err.cause.nonRetryable, true);
    for (const field of fields) assert.match(err.cause.message, field);
    assert.ok(!(await historyEvents(handle)).some((e) => e.activityTaskScheduledEventAttributes), 'no activity ran');
    assert.equal(await ledgerRows(), rows);
  }

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
    workers = await createLifecycleWorkers('security-workflow-input', { inference: stubInference, channel: recordingChannel().activities });
    await new Promise<void>((resolve, reject) => {
      // The workers run for the whole suite; after() shuts them down.
      workersDone = workers.run(() => new Promise<void>((stop) => {
        stopWorkers = stop;
        resolve();
      })).catch(reject);
    });
    web = await start([GOOD_INPUT, { thresholds: { continueAsNewAfterEvents: 40 } }]);
    slack = await start([{ ...GOOD_INPUT, channel: 'slack:#ratings' }]);
    email = await start([{ ...GOOD_INPUT, channel: 'email:a@example.com' }]);
    await Promise.all([web, slack, email].map((h) => waitForVoting(h, 30_000)));
  });

  let stopWorkers: () => void = () => undefined;
  let workersDone: Promise<void> = Promise.resolve();

  after(async function () {
    this.timeout(60_000);
    stopWorkers();
    await workersDone;
    workers.close();
  });

  describe('lifecycle input', () => {
    it('should refuse an unknown field and a prompt over 4,000 characters', async () => {
      await refusedStart([{ ...GOOD_INPUT, prompt: 'p'.repeat(4001), admin: true }], [/prompt: must be at most 4000 characters/, /admin: unknown field/]);
    });

    it('should refuse a channel that is neither web, slack nor email, and a quorum beyond 10,000 votes', async () => {
      await refusedStart([{ ...GOOD_INPUT, channel: 'irc:#votes', totalVotes: 10_001 }], [/channel: unknown channel "irc:#votes"/, /totalVotes: must be an integer from 1 to 10000/]);
    });

    it('should refuse params that are not an object, and a negative seed', async () => {
      await refusedStart([{ ...GOOD_INPUT, params: [1, 2] }], [/params: must be a JSON object/]);
      await refusedStart([{ ...GOOD_INPUT, params: { seed: -1 } }], [/params\.seed: must be a non-negative integer/]);
    });

    it('should refuse thresholds that would continue-as-new in a loop or drop the live-tally throttle', async () => {
      await refusedStart([GOOD_INPUT, { thresholds: { continueAsNewAfterEvents: 1, liveUpdateIntervalMs: 0, commitBatchSize: 1e9 } }], [
        /thresholds\.continueAsNewAfterEvents: must be an integer of at least 10/, /thresholds\.liveUpdateIntervalMs: must be an integer of at least 100/,
        /thresholds\.commitBatchSize: unknown field/,
      ]);
    });

    it('should refuse a carried voting state passed to a first run, which would skip validation and inject votes', async () => {
      const forged = {
        plan: { prompt: 'forged', models: ['demo:text'], candidatesPerModel: 1, params: {}, channel: { kind: 'web' }, channelLabel: 'web', quorum: { kind: 'total', votes: 1 }, deadline: { kind: 'duration', ms: 1000 } },
        startedAt: new Date().toISOString(), deadlineAt: new Date(Date.now() + 1000).toISOString(), candidates: [], lateVotesRefused: 0, closeRequested: true,
        events: [{ ...vote('c1', 'up', 'alice@example.com', { channel: 'slack' }), seq: 1, acceptedAt: new Date().toISOString() }],
      };
      await refusedStart([GOOD_INPUT, forged], [/second argument: a carried voting state is only accepted from continue-as-new/]);
    });
  });

  describe('votes', () => {
    it('should refuse a web vote on a Slack lifecycle, naming both channels (Found 2)', async () => {
      await refusedUpdate(slack, vote('c1', 'up', 1), VoteRejection.WrongChannel, /slack lifecycle, which takes votes through "slack" only, not "web"/);
    });

    it('should refuse web, cli and slack votes on an email lifecycle, and an email vote on a web one', async () => {
      for (const channel of ['web', 'cli', 'slack']) {
        await refusedUpdate(email, vote('c1', 'up', 1, { channel }), VoteRejection.WrongChannel, new RegExp(`email lifecycle.*"email" only, not "${channel}"`));
      }
      await refusedUpdate(web, vote('c1', 'up', 1, { channel: 'email' }), VoteRejection.WrongChannel, /web lifecycle, which takes votes through "web" or "cli" only, not "email"/);
    });

    it('should answer wrong_channel through the gateway directory', async () => {
      const { client } = await sharedTemporal();
      await assert.rejects(new TemporalLifecycleDirectory(client).vote(slack.workflowId, vote('c1', 'up', 2)),
        (err: unknown) => err instanceof VoteRejectedError && err.code === 'wrong_channel' && /not "web"/.test(err.message));
    });

    it('should not count a signalled vote through the wrong channel (Found 2)', async () => {
      const before = observable(await slack.query(statusQuery));
      for (let n = 1; n <= 3; n++) await slack.signal(voteSignal, vote('c1', 'up', n));
      await accept(slack, vote('c2', 'up', 9, { channel: 'slack' })); // after the three signals in history
      const after = await slack.query(statusQuery);
      assert.equal(after.votesAccepted, before.votesAccepted + 1);
      assert.deepEqual(after.candidates.map((c) => c.tally.votes), [before.tallies[0]!.votes, before.tallies[1]!.votes + 1]);
    });

    it('should refuse a raw identity instead of a pseudonym', async () => {
      await refusedUpdate(web, vote('c1', 'up', 'alice@example.com'), VoteRejection.MalformedVote, /rater: must be a pseudonym/);
    });

    it('should refuse a comment over 2,000 characters, and one that is not text', async () => {
      await refusedUpdate(web, vote('c1', 'up', 1, { comment: 'x'.repeat(2001) }), VoteRejection.MalformedVote, /comment: must be text of at most 2000/);
      await refusedUpdate(web, { ...vote('c1', 'up', 1), comment: { html: '<b>' } }, VoteRejection.MalformedVote, /comment:/);
    });

    it('should refuse an unknown candidate, an unknown value and an oversized idempotency key', async () => {
      await refusedUpdate(web, vote('c9', 'up', 1), VoteRejection.UnknownCandidate, /unknown candidate "c9"/);
      await refusedUpdate(web, { ...vote('c1', 'up', 1), value: 'up up' }, VoteRejection.MalformedVote, /value: must be "up", "down" or "retract"/);
      await refusedUpdate(web, vote('c1', 'up', 1, { idempotencyKey: 'k'.repeat(201) }), VoteRejection.MalformedVote, /idempotencyKey: required, 1–200/);
    });

    it('should refuse a vote that is not an object, and one without castAt', async () => {
      await refusedUpdate(web, 'up', VoteRejection.MalformedVote, /vote must be an object/);
      await refusedUpdate(web, { ...vote('c1', 'up', 1), castAt: 'yesterday' }, VoteRejection.MalformedVote, /castAt: must be an ISO-8601 time/);
    });

    it('should refuse a castAt DuckDB cannot store ("March 1, 2026") by update and directory as malformed_vote, and not count it by signal', async () => {
      const odd = { ...vote('c1', 'up', 4), castAt: 'March 1, 2026' };
      await refusedUpdate(web, odd, VoteRejection.MalformedVote, /castAt: must be an ISO-8601 time with seconds and a zone/);
      const { client } = await sharedTemporal();
      await assert.rejects(new TemporalLifecycleDirectory(client).vote(web.workflowId, odd),
        (err: unknown) => err instanceof VoteRejectedError && err.code === 'malformed_vote' && /castAt/.test(err.message));
      const before = observable(await web.query(statusQuery));
      await web.signal(voteSignal, odd);
      await accept(web, vote('c2', 'up', 5)); // after the signal in history
      const after = observable(await web.query(statusQuery));
      assert.equal(after.votesAccepted, before.votesAccepted + 1);
      assert.deepEqual(after.tallies[0], before.tallies[0]);
      // The close commits the lifecycle's other votes (after the close): before the rule this one failed every commit.
    });

    it('should answer duplicate for a key accepted before continue-as-new, by update and by signal, counting it once', async () => {
      const first = vote('c1', 'up', 3);
      await accept(web, first);
      // Enough valid votes to pass the 40-event threshold and continue as new.
      for (let n = 10; n < 30; n++) await accept(web, vote('c2', n % 2 ? 'up' : 'down', n));
      await waitUntil(async () => ((await web.describe()).runId !== web.firstExecutionRunId ? true : undefined), 30_000, 'a continue-as-new');
      const before = observable(await web.query(statusQuery));
      const again = await web.executeUpdate(voteUpdate, { args: [{ ...first, value: 'down' }], updateId: `retry-${randomUUID()}` });
      assert.equal(again.outcome, 'duplicate');
      await web.signal(voteSignal, { ...first, candidateId: 'c2' });
      await accept(web, vote('c2', 'up', 99));
      const after = observable(await web.query(statusQuery));
      assert.equal(after.votesAccepted, before.votesAccepted + 1);
      assert.deepEqual(after.tallies[0], before.tallies[0]);
    });
  });

  describe('after the close', () => {
    it('should commit exactly the accepted votes of every lifecycle, and count the wrong-channel signals', async () => {
      const summaries = new Map<string, LifecycleSummary>();
      for (const handle of [web, slack, email]) {
        await handle.signal(closeSignal, {});
        summaries.set(handle.workflowId, (await handle.result()) as LifecycleSummary);
      }
      for (const handle of [web, slack, email]) {
        const summary = summaries.get(handle.workflowId)!;
        const want = accepted.get(handle.workflowId) ?? 0;
        assert.equal(summary.votesAccepted, want, handle.workflowId);
        assert.equal(summary.rowsCommitted, want);
        const rows = await workers.ledger.query(`SELECT count(*)::INT AS n, count(*) FILTER (WHERE channel NOT IN ('web', 'slack', 'email'))::INT AS odd FROM votes WHERE lifecycle_id = $1`, [handle.workflowId]);
        assert.deepEqual(rows.rows[0], { n: want, odd: 0 });
      }
      assert.equal(summaries.get(slack.workflowId)?.wrongChannelVotesRefused, 3);
      assert.equal(summaries.get(slack.workflowId)?.lateVotesRefused, 0);
      // The web lifecycle's one refused signal: the castAt DuckDB cannot store.
      assert.equal(summaries.get(web.workflowId)?.lateVotesRefused, 1);
      const slackRows = await workers.ledger.query(`SELECT DISTINCT channel FROM votes WHERE lifecycle_id = $1`, [slack.workflowId]);
      assert.deepEqual(slackRows.rows, [{ channel: 'slack' }]);
    });
  });
});
