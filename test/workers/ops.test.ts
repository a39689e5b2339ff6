/**
 * A worker process's ops endpoint (PREFLINE_WORKER_METRICS_ADDRESS), on its own dev server: after a
 * lifecycle, `/metrics` holds the SDK's metrics and Prefline's counters with the right values; `/healthz`
 * reports the polled queues and Temporal, and turns 503 once the server stops.
 */
import assert from 'node:assert/strict';
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../../core/errors';
import { DevServer, freePort, temporalBinaryPath } from '../../ops/dev-server';
import { statusQuery, voteSignal, voteUpdate } from '../../workflows/messages';
import type { LifecycleSummary } from '../../workflows/types';
import { spawnCli, waitUntil, type CliProcess } from '../helpers/processes';
import { scrape, total } from '../helpers/prometheus';
import { waitForVoting } from '../helpers/temporal';
import { raterId, vote } from '../helpers/votes';

const QUEUE = 'ops';

describe('worker ops endpoint: metrics and health', function () {
  this.timeout(180_000);
  let dataDir: string;
  let server: DevServer;
  let connection: Connection;
  let client: Client;
  let worker: CliProcess;
  let opsUrl: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'prefline-worker-ops-'));
    // A private server: the last test stops it.
    server = await DevServer.start({ binary: temporalBinaryPath(), port: await freePort() });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    worker = spawnCli(['worker'], {
      PREFLINE_DATA_DIR: dataDir,
      PREFLINE_TEMPORAL_ADDRESS: server.address,
      PREFLINE_TASK_QUEUE: QUEUE,
      PREFLINE_WORKER_METRICS_ADDRESS: '127.0.0.1:0',
    });
    await worker.waitFor(/worker polling .*ops=http:\/\/\S+/, 120_000);
    opsUrl = /worker polling .*ops=(http:\/\/\S+)/.exec(worker.output())![1]!;
  });

  after(async () => {
    await worker?.kill('SIGKILL');
    await connection?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("should count a lifecycle's votes, phases, predictions, posts and commits beside the SDK's metrics", async () => {
    const workflowId = `ops-fox-${Date.now()}`;
    const handle = await client.workflow.start('ratingLifecycle', {
      taskQueue: QUEUE,
      workflowId,
      args: [{ prompt: 'a fox for the metrics', model: 'demo:text', candidates: 2, votesPerCandidate: 1 }],
    });
    await waitForVoting(handle);
    const first = vote('c1', 'up', 1);
    assert.equal((await handle.executeUpdate(voteUpdate, { args: [first] })).outcome, 'recorded');
    assert.equal((await handle.executeUpdate(voteUpdate, { args: [first] })).outcome, 'duplicate');
    await assert.rejects(handle.executeUpdate(voteUpdate, { args: [vote('c9', 'up', 2)] }), WorkflowUpdateFailedError);
    await handle.signal(voteSignal, vote('c9', 'up', 3)); // refused: counted, not recorded
    await handle.signal(voteSignal, vote('c1', 'down', 3));
    await waitUntil(async () => ((await handle.query(statusQuery)).votesAccepted === 2 ? true : undefined), 30_000, 'the signalled vote');
    await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'up', 2)] }); // quorum: one vote on each
    const summary = (await handle.result()) as LifecycleSummary;
    assert.equal(summary.rowsCommitted, 3);

    const metricsUrl = `${opsUrl}/metrics`;
    // Sink calls reach the exporter right after the workflow task that made them.
    const { text, samples } = await waitUntil(async () => {
      const scraped = await scrape(metricsUrl);
      return total(scraped.samples, 'prefline_lifecycle_phase_transitions', { phase: 'completed' }) > 0 ? scraped : undefined;
    }, 15_000, 'the completed phase on the endpoint');

    const wf = { namespace: 'default', taskQueue: QUEUE, workflowType: 'ratingLifecycle', channel: 'web' };
    assert.equal(total(samples, 'prefline_votes_accepted', { ...wf, outcome: 'recorded' }), 3);
    assert.equal(total(samples, 'prefline_votes_accepted', { ...wf, outcome: 'duplicate' }), 1);
    assert.equal(total(samples, 'prefline_votes_refused', { ...wf, reason: ErrorCode.UnknownCandidate }), 2, 'by update and by signal');
    for (const phase of ['generating', 'publishing', 'voting', 'committing', 'completed']) {
      assert.equal(total(samples, 'prefline_lifecycle_phase_transitions', { ...wf, phase }), 1, phase);
    }
    assert.equal(total(samples, 'prefline_lifecycles_closed', { ...wf, reason: 'quorum' }), 1);
    assert.equal(total(samples, 'prefline_lifecycles_continued_as_new'), 0);
    assert.equal(total(samples, 'prefline_inference_predictions', { backend: 'demo', outcome: 'ok', taskQueue: `${QUEUE}-inference` }), 2);
    assert.equal(total(samples, 'prefline_inference_prediction_duration_count', { backend: 'demo' }), 2);
    assert.equal(total(samples, 'prefline_channel_posts', { channel: 'web', action: 'publish', outcome: 'ok' }), 1);
    assert.equal(total(samples, 'prefline_channel_posts', { channel: 'web', action: 'close', outcome: 'ok' }), 1);
    assert.equal(total(samples, 'prefline_ledger_commits', { batch: 'first', outcome: 'ok', taskQueue: `${QUEUE}-ledger` }), 1);
    assert.equal(total(samples, 'prefline_ledger_vote_rows_inserted'), 3);
    assert.equal(total(samples, 'prefline_ledger_vote_rows_already_held'), 0);
    // The SDK's own metrics come out on the same endpoint.
    assert.equal(total(samples, 'temporal_workflow_completed', { workflow_type: 'ratingLifecycle', task_queue: QUEUE }), 1);
    assert.ok(total(samples, 'temporal_activity_execution_latency_count', { activity_type: 'commitLifecycle' }) >= 1);
    // Bounded labels: no lifecycle id, rater or prompt anywhere.
    for (const unbounded of [workflowId, raterId(1), raterId(3), 'a fox for the metrics']) assert.ok(!text.includes(unbounded), unbounded);

    // The UI's current details show the outcome.
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    assert.match(metadata.currentDetails ?? '', /^\*\*completed\*\*, closed: quorum · 3 votes accepted · /);
  });

  it('should report the polled queues and Temporal at /healthz, and 503 once Temporal stops', async () => {
    const healthz = async () => {
      const res = await fetch(`${opsUrl}/healthz`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    assert.deepEqual(await healthz(), {
      status: 200,
      body: { ok: true, temporal: 'ok', queues: { [QUEUE]: 'RUNNING', [`${QUEUE}-inference`]: 'RUNNING', [`${QUEUE}-ledger`]: 'RUNNING' } },
    });
    await server.stop();
    const down = await waitUntil(async () => {
      const answer = await healthz();
      return answer.status === 503 ? answer : undefined;
    }, 20_000, 'the worker to report Temporal unreachable');
    assert.equal(down.body.ok, false);
    assert.equal(down.body.temporal, 'unreachable');
    assert.equal(typeof down.body.error, 'string');
    assert.equal((down.body.queues as Record<string, string>)[QUEUE], 'RUNNING', 'the worker itself still runs');
    assert.equal((await fetch(`${opsUrl}/metrics`)).status, 200, 'metrics stay readable');
  });
});
