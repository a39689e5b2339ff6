/**
 * The time-driven paths of ratingLifecycle (step 4, collect votes): the deadline, the reminder, the
 * live-tally throttle and continue-as-new. Inference and channel are stubs that record their calls;
 * the ledger is real. The time-skipping test server cannot be had on these machines (it is downloaded
 * from the internet), so these run on the dev server with short real times: deadlines of a few
 * seconds, and thresholds (`{thresholds: …}`, the workflow's second argument) lowered so the throttle
 * and continue-as-new happen after a second or a dozen votes.
 */
import { WorkflowFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import type { LifecycleStart } from '../../workflows/lifecycle-state';
import { INVALID_INPUT_ERROR, WORKFLOW_TYPE, closeSignal, statusQuery, voteSignal, voteUpdate } from '../../workflows/messages';
import type { LifecycleInput, LifecycleSummary } from '../../workflows/types';
import { waitUntil } from '../helpers/processes';
import { activityScheduledTimes, historyEvents, recordingChannel, stubInference, type ChannelCalls, type HistoryEvent } from '../helpers/stub-activities';
import { createLifecycleWorkers, sharedTemporal, waitForVoting, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { raterId, vote } from '../helpers/votes';

/** Votes as the Slack and email routes send them: each lifecycle takes votes through its own channel only. */
const SLACK = { channel: 'slack' } as const;
const EMAIL = { channel: 'email' } as const;

describe('ratingLifecycle over time (stub inference and channel, real ledger)', function () {
  this.timeout(60_000);
  let workers: LifecycleWorkers;
  let calls: ChannelCalls;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    const channel = recordingChannel();
    calls = channel.calls;
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'timing', { inference: stubInference, channel: channel.activities });
  });

  afterEach(() => workers.close());

  async function start(input: LifecycleInput, second?: LifecycleStart): Promise<WorkflowHandleWithFirstExecutionRunId> {
    const { client } = await sharedTemporal();
    return client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: workers.taskQueue,
      workflowId: `lc-timing-${randomUUID()}`,
      args: second === undefined ? [input] : [input, second],
    });
  }

  it('should close at the deadline, not before, commit the votes it has and refuse later ones', async () => {
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const handle = await start({ prompt: 'a short vote', model: 'demo:text', candidates: 2, deadline: '2s' });
      await waitForVoting(handle, 10_000);
      await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'down', 3)] });
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'deadline');
      assert.equal(summary.rowsCommitted, 1);
      const { rows } = await workers.ledger.query(
        `SELECT closed_at >= deadline_at AS at_or_after, closed_at::VARCHAR AS closed, deadline_at::VARCHAR AS deadline FROM lifecycles WHERE lifecycle_id = $1`,
        [handle.workflowId],
      );
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.at_or_after, true, `closed at ${rows[0]?.closed}, before the deadline ${rows[0]?.deadline}`);
      // The deadline's timer closed it (no close signal, no quorum).
      const events = await historyEvents(handle);
      assert.equal(events.filter((e) => e.timerFiredEventAttributes).length, 1);
      assert.equal(calls.closePost.length, 1);
      assert.equal(calls.closePost[0]?.closeReason, 'deadline');
      await assert.rejects(
        new TemporalLifecycleDirectory(client).vote(handle.workflowId, vote('c1', 'up', 4)),
        (err: unknown) => err instanceof VoteRejectedError && err.code === 'voting_closed',
      );
    });
  });

  it('should remind only the raters who have not voted, once, at deadline − remindBefore', async () => {
    await workers.run(async () => {
      const handle = await start({
        prompt: 'remind them', model: 'demo:text', candidates: 2, channel: 'email:a@example.com,b@example.com', totalVotes: 10,
        deadline: '6s', remindBefore: '4500ms',
      });
      await waitForVoting(handle, 10_000);
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 1, EMAIL)] });
      await handle.signal(voteSignal, vote('c2', 'down', 2, EMAIL));
      await waitUntil(() => calls.remindRaters.length > 0 || undefined, 10_000, 'the reminder');
      const status = await handle.query(statusQuery);
      assert.equal(status.votesAccepted, 2, 'both votes were in before the reminder');
      await handle.signal(closeSignal, {});
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'closed');

      assert.equal(calls.remindRaters.length, 1);
      const [reminder] = calls.remindRaters;
      assert.deepEqual(reminder?.ratersWhoVoted, [raterId(1), raterId(2)]);
      assert.equal(reminder?.deadlineAt, status.deadlineAt);
      const events = await historyEvents(handle);
      const [remindedAt] = activityScheduledTimes(events, 'remindRaters');
      const deadlineAt = Date.parse(status.deadlineAt!);
      assert.ok(remindedAt !== undefined && remindedAt >= deadlineAt - 4500, `reminded at ${remindedAt}, due at ${deadlineAt - 4500}`);
      assert.ok(remindedAt < deadlineAt);
    });
  });

  it('should throttle live-tally updates to one per interval and end on the latest tally', async () => {
    const votes = 8;
    const intervalMs = 1000;
    await workers.run(async () => {
      const handle = await start(
        { prompt: 'live tally', model: 'demo:text', candidates: 2, channel: 'slack:#ratings', totalVotes: 100 },
        { thresholds: { liveUpdateIntervalMs: intervalMs } },
      );
      await waitForVoting(handle, 10_000);
      for (let n = 1; n <= votes; n++) await handle.executeUpdate(voteUpdate, { args: [vote(n % 2 ? 'c1' : 'c2', 'up', n, SLACK)] });
      await waitUntil(() => calls.updatePost.at(-1)?.votesAccepted === votes || undefined, 10_000, 'the post to show every vote');
      await handle.signal(closeSignal, {});
      await handle.result();

      assert.ok(calls.updatePost.length >= 2 && calls.updatePost.length < votes, `${calls.updatePost.length} updates for ${votes} votes`);
      const last = calls.updatePost.at(-1)!;
      assert.deepEqual(last.tally.map((t) => [t.candidateId, t.up]), [['c1', 4], ['c2', 4]]);
      const times = activityScheduledTimes(await historyEvents(handle), 'updatePost');
      assert.equal(times.length, calls.updatePost.length);
      for (let i = 1; i < times.length; i++) {
        assert.ok(times[i]! - times[i - 1]! >= intervalMs, `updates ${i} and ${i + 1} were ${times[i]! - times[i - 1]!} ms apart`);
      }
      assert.deepEqual(calls.closePost[0]?.tally, last.tally);
    });
  });

  it('should not let the throttle delay a close', async function () {
    this.timeout(30_000); // far below the 10-minute throttle: a close that waited for it fails here
    await workers.run(async () => {
      const handle = await start(
        { prompt: 'close now', model: 'demo:text', candidates: 1, channel: 'slack:#ratings', totalVotes: 100 },
        { thresholds: { liveUpdateIntervalMs: 600_000 } },
      );
      await waitForVoting(handle, 10_000);
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 1, SLACK)] });
      const isThrottle = (e: HistoryEvent) => String(e.timerStartedEventAttributes?.startToFireTimeout?.seconds) === '600';
      const throttle = await waitUntil(async () => (await historyEvents(handle)).find(isThrottle), 10_000, 'the throttle after the first live update');
      await handle.signal(closeSignal, {});
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'closed');
      assert.equal(summary.rowsCommitted, 1);
      assert.equal(calls.updatePost.length, 1);
      const events = await historyEvents(handle);
      const throttleId = throttle.timerStartedEventAttributes?.timerId;
      assert.ok(events.some((e) => e.timerCanceledEventAttributes?.timerId === throttleId), 'the close cancelled the throttle');
      assert.ok(!events.some((e) => e.timerFiredEventAttributes), 'no timer fired');
    });
  });

  it('should continue-as-new when history is long, carrying every vote into the commit', async () => {
    const total = 14;
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client);
      const handle = await start(
        { prompt: 'a long vote', model: 'demo:text', candidates: 2, channel: 'email:a@example.com', totalVotes: total, deadline: '1h', remindBefore: '3599s' },
        { thresholds: { continueAsNewAfterEvents: 20 } },
      );
      await waitForVoting(handle, 10_000);
      await waitUntil(() => calls.remindRaters.length > 0 || undefined, 10_000, 'the reminder');
      await handle.signal(voteSignal, vote('c9', 'up', 99, EMAIL)); // refused and counted, in the first run
      const cast = [];
      for (let n = 1; n <= total; n++) {
        const v = vote(n % 2 ? 'c1' : 'c2', n % 3 ? 'up' : 'down', n, EMAIL);
        cast.push(v);
        if (n % 4 === 0) await handle.signal(voteSignal, v);
        else assert.equal((await directory.vote(handle.workflowId, v)).outcome, 'recorded');
      }
      const summary = (await handle.result()) as LifecycleSummary;
      const firstRunId = handle.firstExecutionRunId;
      assert.equal(summary.closeReason, 'quorum');
      assert.equal(summary.votesAccepted, total);
      assert.equal(summary.rowsCommitted, total);
      assert.equal(summary.lateVotesRefused, 1);

      // It did continue as new, more than once, and the first run's history ends there.
      const runs: string[] = [];
      for await (const execution of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(execution.runId);
      assert.ok(runs.length >= 3, `${runs.length} runs`);
      const firstRun = await historyEvents(client.workflow.getHandle(handle.workflowId, firstRunId));
      assert.ok(firstRun.at(-1)?.workflowExecutionContinuedAsNewEventAttributes, 'the first run continued as new');

      const { rows } = await workers.ledger.query(
        `SELECT idempotency_key, seq, run_id FROM votes WHERE lifecycle_id = $1 ORDER BY seq`,
        [handle.workflowId],
      );
      // Each vote once, none lost (a signal and the update sent after it may be accepted in either order).
      assert.deepEqual(rows.map((r) => r.idempotency_key).sort(), cast.map((v) => v.idempotencyKey).sort());
      assert.deepEqual(rows.map((r) => Number(r.seq)), cast.map((_, i) => i + 1));
      assert.ok(rows.every((r) => r.run_id === firstRunId), 'committed under the first run id');
      // The reminder is carried too: sent once, in the first run.
      assert.equal(calls.remindRaters.length, 1);
      assert.equal(calls.publishLifecycle.length, 1);
    });
  });

  it('should refuse bad thresholds naming each field, before any activity', async () => {
    await workers.run(async () => {
      const handle = await start(
        { prompt: 'bad knobs', model: 'demo:text' },
        { thresholds: { continueAsNewAfterEvents: 3, liveUpdateIntervalMs: 'fast', sooner: true }, extra: 1 } as never,
      );
      const err = await handle.result().then(() => assert.fail('completed'), (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, INVALID_INPUT_ERROR);
      assert.equal(err.cause.nonRetryable, true);
      for (const field of ['extra:', 'thresholds.sooner:', 'thresholds.continueAsNewAfterEvents:', 'thresholds.liveUpdateIntervalMs:']) {
        assert.match(err.cause.message, new RegExp(field.replace('.', '\\.')));
      }
      assert.ok(!(await historyEvents(handle)).some((e) => e.activityTaskScheduledEventAttributes));
    });
  });
});
