/**
 * publishRelease on the real dev server: a rating lifecycle commits votes, the release workflow
 * publishes them through the ledger worker, a second start for the same date publishes nothing new,
 * and the daily schedule is created once.
 */
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ReleaseSummary } from '../../activities/types';
import { RELEASE_SCHEDULE_ID, ensureReleaseSchedule, startReleaseWorkflow } from '../../cli/release';
import { readManifest, resolveRelease } from '../../releases/layout';
import { queryRelease, verifyRelease } from '../../releases/tools';
import { WORKFLOW_TYPE, voteUpdate } from '../../workflows/messages';
import { RELEASE_WORKFLOW_TYPE, releaseWorkflowId } from '../../workflows/publish-release';
import type { LifecycleSummary } from '../../workflows/types';
import { createLifecycleWorkers, sharedTemporal, waitForVoting, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { vote } from '../helpers/votes';

async function completeLifecycle(workers: LifecycleWorkers): Promise<LifecycleSummary> {
  const { client } = await sharedTemporal();
  const handle = await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: workers.taskQueue,
    workflowId: `lc-release-${randomUUID()}`,
    args: [{ prompt: 'a lighthouse at dusk', models: ['demo:shapes', 'demo:gradient'], votesPerCandidate: 1 }],
  });
  await waitForVoting(handle, 20_000);
  await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 1)] });
  await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'down', 2)] });
  return (await handle.result()) as LifecycleSummary;
}

describe('publishRelease workflow (real dev server)', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'release');
  });

  afterEach(() => workers.close());

  it('should publish committed votes once per date, however often it is started', async () => {
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const lifecycle = await completeLifecycle(workers);
      assert.equal(lifecycle.rowsCommitted, 2);

      const first = await startReleaseWorkflow(client, { taskQueue: workers.taskQueue });
      assert.equal(first.started, true);
      assert.equal(first.handle.workflowId, releaseWorkflowId());
      const summary = (await first.handle.result()) as ReleaseSummary;
      const today = new Date().toISOString().slice(0, 10);
      assert.equal(summary.releaseId, today);
      assert.equal(summary.reused, false);
      assert.deepEqual([summary.rows.lifecycles, summary.rows.candidates, summary.rows.votes, summary.rows.preferences], [1, 2, 2, 1]);
      const release = await resolveRelease(workers.releasesDir, 'latest');
      assert.equal(release.id, today);
      assert.deepEqual(await verifyRelease(release), []);
      const { rows } = await queryRelease(release.dir, 'SELECT lifecycle_id, chosen_candidate_id, rejected_candidate_id, chosen_model, rejected_model, margin FROM preferences');
      assert.deepEqual(rows, [{ lifecycle_id: lifecycle.lifecycleId, chosen_candidate_id: 'c1', rejected_candidate_id: 'c2', chosen_model: 'demo:shapes', rejected_model: 'demo:gradient', margin: 2 }]);
      const { rows: board } = await queryRelease(release.dir, 'SELECT model, bt_rank FROM leaderboard ORDER BY model');
      assert.deepEqual(board, [{ model: 'demo:gradient', bt_rank: 2 }, { model: 'demo:shapes', bt_rank: 1 }]);

      // The same date again: no new run, no new release; the existing run's result comes back.
      const second = await startReleaseWorkflow(client, { taskQueue: workers.taskQueue });
      assert.equal(second.started, false);
      assert.equal(second.handle.workflowId, first.handle.workflowId);
      assert.deepEqual(await second.handle.result(), summary);
      await assert.rejects(
        client.workflow.start(RELEASE_WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: first.handle.workflowId, args: [{}], workflowIdReusePolicy: 'REJECT_DUPLICATE' }),
        WorkflowExecutionAlreadyStartedError,
      );
      // A backfill of the same cutoff under another workflow id reuses the release instead of writing a second.
      const backfill: WorkflowHandle = await client.workflow.start(RELEASE_WORKFLOW_TYPE, {
        taskQueue: workers.taskQueue, workflowId: `release-backfill-${randomUUID()}`, args: [{ cutoff: summary.cutoff }],
      });
      const reused = (await backfill.result()) as ReleaseSummary;
      assert.equal(reused.reused, true);
      assert.equal(reused.releaseId, today);
      assert.deepEqual(readdirSync(workers.releasesDir).sort(), [today, 'latest']);

      // A scheduled run takes the nominal time from its id as the cutoff: yesterday 02:00, before the lifecycle.
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const scheduled = await client.workflow.execute(RELEASE_WORKFLOW_TYPE, {
        taskQueue: workers.taskQueue, workflowId: `release-${yesterday}T02:00:00Z`, args: [{}],
      });
      assert.equal((scheduled as ReleaseSummary).releaseId, yesterday);
      assert.equal((scheduled as ReleaseSummary).cutoff, `${yesterday}T02:00:00.000Z`);
      assert.equal((scheduled as ReleaseSummary).rows.lifecycles, 0);
      assert.equal((scheduled as ReleaseSummary).latest, false); // older than today's release
      assert.equal(readlinkSync(join(workers.releasesDir, 'latest')), today);
      assert.equal((await readManifest(join(workers.releasesDir, today)))?.previousReleaseId, null);
    });
  });

  it('should fail at once on a cutoff in the future', async () => {
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const handle = await client.workflow.start(RELEASE_WORKFLOW_TYPE, {
        taskQueue: workers.taskQueue, workflowId: `release-future-${randomUUID()}`, args: [{ cutoff: '2999-01-01T00:00:00Z' }],
      });
      await assert.rejects(handle.result(), (err: Error) => /not in the future/.test(String((err.cause as Error | undefined)?.message)));
    });
  });

  it('should create the daily schedule once: 02:00 UTC, overlap SKIP, catchup 1 day', async () => {
    const { client } = await sharedTemporal();
    const scheduleId = `${RELEASE_SCHEDULE_ID}-${randomUUID()}`;
    try {
      assert.equal(await ensureReleaseSchedule(client, { taskQueue: workers.taskQueue }, { scheduleId }), 'created');
      assert.equal(await ensureReleaseSchedule(client, { taskQueue: workers.taskQueue }, { scheduleId }), 'exists');
      const description = await client.schedule.getHandle(scheduleId).describe();
      assert.equal(description.policies.overlap, 'SKIP');
      assert.equal(description.policies.catchupWindow, 86_400_000);
      assert.equal(description.spec.timezone, 'UTC');
      const [calendar] = description.spec.calendars ?? [];
      assert.deepEqual([calendar?.hour, calendar?.minute], [[{ start: 2, end: 2, step: 1 }], [{ start: 0, end: 0, step: 1 }]]);
      assert.equal(description.action.type, 'startWorkflow');
      assert.equal(description.action.type === 'startWorkflow' && description.action.workflowType, RELEASE_WORKFLOW_TYPE);
      assert.equal(description.action.type === 'startWorkflow' && description.action.taskQueue, workers.taskQueue);
      assert.equal(description.action.type === 'startWorkflow' && description.action.workflowId, 'release');
      // Visibility lags a little behind create: poll until the schedule is listed, then expect exactly one.
      let count = 0;
      for (let i = 0; i < 50 && count === 0; i++) {
        for await (const s of client.schedule.list()) if (s.scheduleId === scheduleId) count++;
        if (count === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(count, 1);
    } finally {
      await client.schedule.getHandle(scheduleId).delete().catch(() => undefined);
    }
  });
});
