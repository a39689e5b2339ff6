/**
 * Crash and restart: accepted votes survive a killed worker (before and during the commit) and a
 * restarted dev server, and each is committed exactly once.
 */
import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryLedger } from '../../cli/query';
import { loadConfig } from '../../config';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { DevServer, freePort, temporalBinaryPath } from '../../ops/dev-server';
import { closeSignal, statusQuery } from '../../workflows/messages';
import type { LifecycleSummary } from '../../workflows/types';
import { spawnCli, waitUntil, type CliProcess } from '../helpers/processes';
import { sharedTemporal, uniqueQueue, waitForVoting } from '../helpers/temporal';
import { vote } from '../helpers/votes';

function workerEnv(address: string, dataDir: string, taskQueue: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_DATA_DIR: dataDir, PREFLINE_TASK_QUEUE: taskQueue, ...extra };
}

async function startWorker(env: NodeJS.ProcessEnv): Promise<CliProcess> {
  const worker = spawnCli(['worker'], env);
  await worker.waitFor(/worker polling/, 90_000);
  return worker;
}

describe('crash recovery', function () {
  this.timeout(240_000);
  const dirs: string[] = [];
  const processes: CliProcess[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefline-crash-'));
    dirs.push(dir);
    return dir;
  };

  after(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('should commit each accepted vote exactly once after the worker is killed before and during the commit', async () => {
    const { client, address } = await sharedTemporal();
    const dataDir = tempDir();
    const taskQueue = uniqueQueue('crash');
    const marker = join(dataDir, 'crashed-after-commit');
    const env = workerEnv(address, dataDir, taskQueue, { PREFLINE_FAULT_INJECT: `crash-after-commit:${marker}` });

    const first = await startWorker(env);
    processes.push(first);
    const handle = await client.workflow.start('ratingLifecycle', {
      taskQueue,
      workflowId: `crash-${taskQueue}`,
      args: [{ prompt: 'survive a crash', model: 'demo:shapes', candidates: 2, votesPerCandidate: 5 }],
    });
    await waitForVoting(handle);
    const directory = new TemporalLifecycleDirectory(client);
    const votes = [vote('c1', 'up', 1), vote('c2', 'down', 1), vote('c1', 'up', 2), vote('c2', 'up', 3), vote('c1', 'down', 1)];
    for (const v of votes) await directory.vote(handle.workflowId, v);

    // Killed with votes accepted and nothing committed yet.
    const killed = await first.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    await handle.signal(closeSignal, { reason: 'commit now' });

    // The next worker commits, then dies before Temporal hears the activity completed.
    const second = await startWorker(env);
    processes.push(second);
    const died = await second.exited;
    assert.equal(died.signal, 'SIGKILL', 'the fault injection fired after the commit');
    assert.ok(existsSync(marker));
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the lifecycle waits for the commit to be acknowledged');

    // A third worker re-runs the commit: it finds every row present and inserts none.
    const third = await startWorker(env);
    processes.push(third);
    const summary = (await handle.result()) as LifecycleSummary;
    assert.equal(summary.closeReason, 'closed');
    assert.equal(summary.votesAccepted, votes.length);
    assert.equal(summary.rowsCommitted, votes.length);

    const config = loadConfig({ PREFLINE_DATA_DIR: dataDir });
    const { rows } = await queryLedger(config, `SELECT idempotency_key, count(*)::INT AS n FROM votes WHERE lifecycle_id = '${handle.workflowId}' GROUP BY ALL ORDER BY ALL`);
    assert.deepEqual(rows.map((r) => r.idempotency_key), votes.map((v) => v.idempotencyKey).sort());
    assert.ok(rows.every((r) => r.n === 1), 'one row per vote');
    await third.kill('SIGTERM');
  });

  it('should complete a lifecycle across a restart of the dev server on its SQLite file', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const dbFile = join(dataDir, 'temporal.db');
    let server = await DevServer.start({ binary: temporalBinaryPath(), port, dbFile });
    const taskQueue = 'prefline';
    const worker = await startWorker(workerEnv(server.address, dataDir, taskQueue));
    processes.push(worker);
    let connection = await Connection.connect({ address: server.address });
    let client = new Client({ connection });
    const handle = await client.workflow.start('ratingLifecycle', {
      taskQueue,
      workflowId: 'restart-me',
      args: [{ prompt: 'outlive the server', model: 'demo:text', candidates: 1, totalVotes: 2 }],
    });
    await waitForVoting(handle);
    const before = vote('c1', 'up', 1);
    await new TemporalLifecycleDirectory(client).vote('restart-me', before);
    await connection.close();

    await server.stop();
    server = await DevServer.start({ binary: temporalBinaryPath(), port, dbFile });
    try {
      connection = await Connection.connect({ address: server.address });
      client = new Client({ connection });
      const directory = new TemporalLifecycleDirectory(client);
      // The vote accepted before the restart is still there; the worker reconnects on its own.
      const status = await waitUntil(async () => client.workflow.getHandle('restart-me').query(statusQuery), 90_000, 'the lifecycle after restart');
      assert.equal(status.votesAccepted, 1);
      const receipt = await waitUntil(async () => directory.vote('restart-me', vote('c1', 'down', 2)), 60_000, 'a vote after restart');
      assert.equal(receipt.outcome, 'recorded');
      const summary = (await client.workflow.getHandle('restart-me').result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'quorum');
      assert.equal(summary.rowsCommitted, 2);
      await worker.kill('SIGTERM');
      await connection.close();
    } finally {
      await server.stop();
    }
  });
});
