/**
 * TemporalLifecycleDirectory's starts, progress, closes and channel listings on the real dev server with
 * real workers: one lifecycle per business id however often it is started (before and after it
 * completes), failures reported with their reason, closes of running, ended and unknown lifecycles.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createChannelActivities } from '../../activities/channel';
import { createWebPublisher } from '../../channels/web/publisher';
import { LIST_STATUS_DEADLINE_MS, TemporalLifecycleDirectory } from '../../core/temporal-directory';
import type { LifecycleSummary } from '../../workflows/types';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { waitUntil } from '../helpers/processes';

describe('core/temporal-directory: starting and closing lifecycles (real dev server)', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;
  let directory: TemporalLifecycleDirectory;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    // Slack lifecycles are "posted" by a publisher that posts nothing: these tests are about the directory.
    const quiet = createWebPublisher('http://rating.test');
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'test', { channel: createChannelActivities({ web: quiet, slack: quiet }) });
    directory = new TemporalLifecycleDirectory((await sharedTemporal()).client, { taskQueue: workers.taskQueue });
  });

  afterEach(() => workers.close());

  const input = { prompt: 'a fox', model: 'demo:text', candidates: 1, votesPerCandidate: 1, startedBy: 'r_0123456789abcdef01234567', startedFrom: 'web:prompt-box' as const };

  it('should start a lifecycle once per id: again while it runs and after it completed, nothing is started', async () => {
    const { client } = await sharedTemporal();
    await workers.run(async () => {
      const lifecycleId = `lc-dir-${randomUUID()}`;
      assert.equal(await directory.start({ lifecycleId, input, staticSummary: '"a fox" · demo:text · web', staticDetails: 'the details' }), 'started');
      assert.equal(await directory.start({ lifecycleId, input: { ...input, prompt: 'another prompt' } }), 'exists');
      // The Temporal UI shows the summary and details the start gave, as for `prefline start`.
      const description = await client.workflow.getHandle(lifecycleId).describe();
      assert.equal(await description.staticSummary(), '"a fox" · demo:text · web');
      assert.equal(await description.staticDetails(), 'the details');
      const voting = await waitUntil(async () => {
        const p = await directory.progress(lifecycleId);
        return p?.status?.phase === 'voting' ? p : undefined;
      }, 30_000, 'voting');
      assert.equal(voting.state, 'running');
      assert.equal(voting.status?.prompt, 'a fox', 'the first start is the one that runs');
      assert.equal(voting.status?.startedBy, input.startedBy);
      assert.equal(voting.status?.startedFrom, 'web:prompt-box');
      assert.equal(await directory.requestClose(lifecycleId, { reason: 'test' }), 'requested');
      const summary = (await client.workflow.getHandle(lifecycleId).result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'closed');
      assert.equal(await directory.start({ lifecycleId, input }), 'exists', 'a completed lifecycle is not started again');
      assert.equal((await directory.progress(lifecycleId))?.state, 'completed');
      assert.equal(await directory.requestClose(lifecycleId, {}), 'ended');
      // One execution for the id, ever.
      const runs: string[] = [];
      for await (const e of client.workflow.list({ query: `WorkflowId = '${lifecycleId}'` })) runs.push(e.runId);
      assert.equal(runs.length, 1);
      const { rows } = await workers.ledger.query(`SELECT started_by, started_from FROM lifecycles WHERE lifecycle_id = $1`, [lifecycleId]);
      assert.deepEqual(rows, [{ started_by: input.startedBy, started_from: 'web:prompt-box' }]);
    });
  });

  it('should report a lifecycle that failed with its reason, and nothing for an unknown one', async () => {
    await workers.run(async () => {
      const lifecycleId = `lc-dir-${randomUUID()}`;
      assert.equal(await directory.start({ lifecycleId, input: { ...input, model: 'demo:nope' } }), 'started');
      const failed = await waitUntil(async () => {
        const p = await directory.progress(lifecycleId);
        return p?.state === 'failed' ? p : undefined;
      }, 30_000, 'the failure');
      assert.match(failed.failure ?? '', /invalid lifecycle input: model: unknown demo model "nope"/);
      assert.equal(await directory.progress(`lc-none-${randomUUID()}`), undefined);
      assert.equal(await directory.requestClose(`lc-none-${randomUUID()}`, {}), 'unknown');
    });
  });

  it('should list the running lifecycles of one kind of channel that have not closed', async () => {
    await workers.run(async () => {
      const [web, slack] = [`lc-dir-web-${randomUUID()}`, `lc-dir-slack-${randomUUID()}`];
      await directory.start({ lifecycleId: web, input });
      await directory.start({ lifecycleId: slack, input: { ...input, channel: 'slack:C0FEEDBK01', startedFrom: 'slack:/prefline' } });
      const listed = await waitUntil(async () => {
        const [w, s] = [await directory.listActive('web', 50), await directory.listActive('slack', 50)];
        return w.some((l) => l.lifecycleId === web) && s.some((l) => l.lifecycleId === slack) ? { w, s } : undefined;
      }, 30_000, 'both listed');
      assert.ok(!listed.w.some((l) => l.lifecycleId === slack) && !listed.s.some((l) => l.lifecycleId === web), 'each under its own channel');
      assert.equal(listed.s.find((l) => l.lifecycleId === slack)?.channel, 'slack:C0FEEDBK01');
      await directory.requestClose(web, {});
      await waitUntil(async () => ((await directory.listActive('web', 50)).some((l) => l.lifecycleId === web) ? undefined : true), 30_000, 'the closed one gone');
      assert.ok((await directory.listActive('slack', 50)).some((l) => l.lifecycleId === slack), 'the other still listed');
      await directory.requestClose(slack, {});
      const { client } = await sharedTemporal();
      await client.workflow.getHandle(slack).result();
    });
  });

  it('should list without waiting for a lifecycle whose workers are gone (its status query never answers)', async function () {
    this.timeout(180_000);
    const orphan = `lc-dir-orphan-${randomUUID()}`;
    await workers.run(async () => {
      await directory.start({ lifecycleId: orphan, input });
      await waitUntil(async () => ((await directory.listActive('web', 50)).some((l) => l.lifecycleId === orphan) ? true : undefined), 30_000, 'the orphan listed');
    });
    // Its workers are gone now; a second set serves a new lifecycle on another queue.
    const quiet = createWebPublisher('http://rating.test');
    const others = await createLifecycleWorkers('directory-after-orphan', { channel: createChannelActivities({ web: quiet, slack: quiet }) });
    const live = `lc-dir-live-${randomUUID()}`;
    const liveDirectory = new TemporalLifecycleDirectory((await sharedTemporal()).client, { taskQueue: others.taskQueue });
    try {
      await others.run(async () => {
        await liveDirectory.start({ lifecycleId: live, input });
        const listed = await waitUntil(async () => {
          const started = Date.now();
          const list = await liveDirectory.listActive('web', 50);
          return list.some((l) => l.lifecycleId === live) ? { list, ms: Date.now() - started } : undefined;
        }, 60_000, 'the live one listed');
        assert.ok(!listed.list.some((l) => l.lifecycleId === orphan), 'the orphan answers no query: left out');
        assert.ok(listed.ms < LIST_STATUS_DEADLINE_MS + 5_000, `one listing took ${listed.ms} ms`);
        await liveDirectory.requestClose(live, {});
      });
    } finally {
      await others.close();
      await (await sharedTemporal()).client.workflow.getHandle(orphan).terminate('test cleanup').catch(() => undefined);
    }
  });

  it('should refuse to start without a task queue', async () => {
    const bare = new TemporalLifecycleDirectory((await sharedTemporal()).client);
    await assert.rejects(bare.start({ lifecycleId: `lc-${randomUUID()}`, input }), /without a task queue/);
  });
});
