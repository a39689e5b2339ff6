/**
 * Lifecycles on real model backends (Replicate and an OpenAI-compatible server, each a local stand-in
 * speaking the real wire format) driven through the real clients, on the real dev server:
 * an A/B lifecycle across two backends with provenance in the ledger; a worker killed mid-prediction
 * resumes the same prediction; cancelling a lifecycle cancels the prediction at Replicate; a failed
 * prediction fails the lifecycle with Replicate's error text.
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpenAICompatibleBackend } from '../../connectors/inference/openai/OpenAICompatibleBackend';
import { createReplicateBackend } from '../../connectors/inference/replicate/ReplicateBackend';
import { statusQuery, voteUpdate } from '../../workflows/messages';
import type { LifecycleSummary } from '../../workflows/types';
import { spawnCli, waitUntil, type CliProcess } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, uniqueQueue, waitForVoting, type LifecycleWorkers } from '../helpers/temporal';
import { vote } from '../helpers/votes';
import { startOpenAIStandIn, type OpenAIStandIn } from '../standins/openai-server';
import { STANDIN_DOWNLOAD_ENV, STANDIN_DOWNLOADS, startReplicateStandIn, type ReplicateStandIn } from '../standins/replicate-server';

/** The remote handle (prediction id) the lifecycle's inference activity last heartbeated, once the server holds it. */
async function heartbeatedHandle(handle: WorkflowHandle): Promise<string | undefined> {
  const { raw } = await handle.describe();
  for (const activity of raw.pendingActivities ?? []) {
    const [payload] = activity.heartbeatDetails?.payloads ?? [];
    const progress = payload ? defaultPayloadConverter.fromPayload<{ inFlight?: { handle: string } }>(payload) : undefined;
    if (progress?.inFlight?.handle) return progress.inFlight.handle;
  }
  return undefined;
}

describe('lifecycles on remote inference backends', function () {
  this.timeout(180_000);
  let replicate: ReplicateStandIn;
  let openai: OpenAIStandIn;
  let workers: LifecycleWorkers | undefined;
  const processes: CliProcess[] = [];
  const dirs: string[] = [];

  before(async () => {
    replicate = await startReplicateStandIn();
    openai = await startOpenAIStandIn({ apiKey: 'sk-local' });
    await sharedTemporal();
  });

  after(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await replicate.close();
    await openai.close();
  });

  afterEach(() => {
    workers?.close();
    workers = undefined;
  });

  /** `syncWaitSeconds: 0` where a test needs the prediction id at once rather than after the create's wait. */
  function backends(syncWaitSeconds?: number) {
    return [
      createReplicateBackend({ apiToken: replicate.token, baseUrl: replicate.baseUrl, pollIntervalMs: 50, downloads: STANDIN_DOWNLOADS, ...(syncWaitSeconds !== undefined ? { syncWaitSeconds } : {}) }),
      createOpenAICompatibleBackend({ baseUrl: openai.baseUrl, apiKey: 'sk-local', imageModels: [] }),
    ];
  }

  it('should run an A/B lifecycle across Replicate and an OpenAI-compatible server and record each provenance', async () => {
    replicate.setModel('acme/painter', { runMs: 150 });
    openai.setModel('llama3:8b', { kind: 'chat' });
    workers = await createLifecycleWorkers('ab-remote', { backends: backends() });
    const w = workers;
    await w.run(async () => {
      const { client } = await sharedTemporal();
      const handle = await client.workflow.start('ratingLifecycle', {
        taskQueue: w.taskQueue,
        workflowId: `ab-${w.taskQueue}`,
        args: [{ prompt: 'a lighthouse at dusk', models: ['replicate:acme/painter', 'openai:llama3:8b'], params: { seed: 11 }, votesPerCandidate: 1 }],
      });
      await waitForVoting(handle);
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 1)] });
      await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'down', 1)] });
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.rowsCommitted, 2);

      const { rows } = await w.ledger.query(
        `SELECT candidate_id, backend, model, kind, mime, placeholder, seed, model_version,
                provenance->>'predictionId' AS prediction_id, provenance->>'model' AS remote_model
           FROM candidates WHERE lifecycle_id = $1 ORDER BY candidate_id`,
        [handle.workflowId],
      );
      assert.equal(rows.length, 2);
      const [painter, llama] = rows;
      assert.deepEqual([painter?.backend, painter?.model, painter?.kind, painter?.mime, painter?.placeholder, Number(painter?.seed)], ['replicate', 'replicate:acme/painter', 'image', 'image/png', false, 11]);
      assert.ok(painter?.prediction_id && replicate.prediction(String(painter.prediction_id)), 'the Replicate prediction id is recorded');
      assert.ok(painter?.model_version, 'the model version is recorded');
      assert.deepEqual([llama?.backend, llama?.model, llama?.kind, llama?.placeholder, Number(llama?.seed), llama?.remote_model], ['openai', 'openai:llama3:8b', 'text', false, 11, 'llama3:8b']);
      // What the clients sent: the official-model route with the token, and a chat completion with the seed.
      const creates = replicate.requestsTo('POST', /^\/v1\/models\/acme\/painter\/predictions$/);
      assert.equal(creates.length, 1);
      assert.equal(creates[0]?.headers.authorization, `Bearer ${replicate.token}`);
      assert.deepEqual((creates[0]?.body as { input: Record<string, unknown> }).input, { prompt: 'a lighthouse at dusk', seed: 11 });
      const chats = openai.requestsTo('/v1/chat/completions');
      assert.equal(chats.length, 1);
      assert.equal((chats[0]?.body as { seed: number }).seed, 11);
    });
  });

  it('should resume the same prediction after the inference worker is killed mid-prediction', async () => {
    replicate.setModel('acme/slow', { queueMs: 100, runMs: 4000 });
    const dataDir = mkdtempSync(join(tmpdir(), 'prefline-resume-'));
    dirs.push(dataDir);
    const { client, address } = await sharedTemporal();
    const taskQueue = uniqueQueue('resume');
    const env = {
      PREFLINE_TEMPORAL_ADDRESS: address,
      PREFLINE_DATA_DIR: dataDir,
      PREFLINE_TASK_QUEUE: taskQueue,
      REPLICATE_API_TOKEN: replicate.token,
      PREFLINE_REPLICATE_BASE_URL: replicate.baseUrl,
      ...STANDIN_DOWNLOAD_ENV,
    };
    // The GPU-side worker polls only the inference queue; the rest runs in a second process.
    const gpu = spawnCli(['worker', '--queues', 'inference'], env);
    const main = spawnCli(['worker', '--queues', 'workflows,ledger'], env);
    processes.push(gpu, main);
    await Promise.all([gpu.waitFor(/worker polling/, 90_000), main.waitFor(/worker polling/, 90_000)]);
    const before = replicate.createdCount;
    const handle = await client.workflow.start('ratingLifecycle', {
      taskQueue,
      workflowId: `resume-${taskQueue}`,
      args: [{ prompt: 'slow painting', model: 'replicate:acme/slow', candidates: 1, votesPerCandidate: 1 }],
    });
    await waitUntil(() => (replicate.createdCount > before ? true : undefined), 30_000, 'the prediction to be created');
    const predictionId = await waitUntil(() => heartbeatedHandle(handle), 30_000, 'a heartbeat carrying the prediction id');
    assert.ok(replicate.prediction(predictionId), 'the heartbeated id is the created prediction');
    assert.equal((await gpu.kill('SIGKILL')).signal, 'SIGKILL');

    const second = spawnCli(['worker', '--queues', 'inference'], env);
    processes.push(second);
    await waitForVoting(handle, 120_000); // after the resume
    const trace = replicate.requests.slice(-40).map((r) => `${r.method} ${r.path}`).join('\n');
    assert.equal(replicate.createdCount - before, 1, `no second prediction was created; requests:\n${trace}\nworker:\n${second.output().slice(-3000)}`);
    const gets = replicate.requestsTo('GET', /^\/v1\/predictions\//);
    assert.ok(gets.length > 0);
    assert.ok(gets.some((r) => r.path === `/v1/predictions/${predictionId}`), 'the retry polled the heartbeated prediction');
    const status = await handle.query(statusQuery);
    assert.equal(status.candidates.length, 1);
    await handle.terminate('test done');
  });

  it('should cancel the prediction at Replicate when the lifecycle is cancelled', async () => {
    replicate.setModel('acme/forever', { runMs: Infinity });
    workers = await createLifecycleWorkers('cancel-remote', { backends: backends(0) });
    const w = workers;
    await w.run(async () => {
      const { client } = await sharedTemporal();
      const before = replicate.canceledCount;
      const handle = await client.workflow.start('ratingLifecycle', {
        taskQueue: w.taskQueue,
        workflowId: `cancel-${w.taskQueue}`,
        args: [{ prompt: 'never finishes', model: 'replicate:acme/forever', candidates: 1 }],
      });
      await waitUntil(() => (replicate.requestsTo('POST', /^\/v1\/models\/acme\/forever\/predictions$/).length > 0 ? true : undefined), 30_000, 'creation');
      // The activity knows the prediction it must cancel once it has heartbeated its id.
      await waitUntil(() => heartbeatedHandle(handle), 30_000, 'a heartbeat carrying the prediction id');
      await handle.cancel();
      await assert.rejects(handle.result(), WorkflowFailedError);
      await waitUntil(() => (replicate.canceledCount > before ? true : undefined), 30_000, 'the cancel request at Replicate');
      assert.equal(replicate.requestsTo('POST', /^\/v1\/predictions\/[^/]+\/cancel$/).length, replicate.canceledCount);
    });
  });

  it("should fail the lifecycle without retries, showing Replicate's error text, when the prediction fails", async () => {
    replicate.setModel('acme/broken', { outcome: 'failed', error: 'CUDA out of memory: tried to allocate 2.00 GiB' });
    workers = await createLifecycleWorkers('failed-remote', { backends: backends() });
    const w = workers;
    await w.run(async () => {
      const { client } = await sharedTemporal();
      const handle = await client.workflow.start('ratingLifecycle', {
        taskQueue: w.taskQueue,
        workflowId: `failed-${w.taskQueue}`,
        args: [{ prompt: 'too big', model: 'replicate:acme/broken', candidates: 1 }],
      });
      const err = await handle.result().then(() => assert.fail('completed'), (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ActivityFailure);
      assert.ok(err.cause.cause instanceof ApplicationFailure);
      assert.equal(err.cause.cause.type, 'prefline_inference_failed');
      assert.match(err.cause.cause.message, /CUDA out of memory/);
      assert.equal(replicate.requestsTo('POST', /^\/v1\/models\/acme\/broken\/predictions$/).length, 1, 'not retried');
    });
  });
});
