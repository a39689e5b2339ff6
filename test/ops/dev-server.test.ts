import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DevServer, ensureSearchAttributes, freePort, temporalBinaryPath, waitForFrontend } from '../../ops/dev-server';
import { PREFLINE_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

const binary = process.env.PREFLINE_TEMPORAL_BIN || temporalBinaryPath();

async function customAttributes(address: string): Promise<Record<string, number>> {
  const connection = await Connection.connect({ address });
  try {
    const res = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    return res.customAttributes as Record<string, number>;
  } finally {
    await connection.close();
  }
}

describe('ops/dev-server', function () {
  this.timeout(120_000);
  let dir: string;
  const servers: DevServer[] = [];
  const start = async (dbFile: string, port?: number) => {
    const server = await DevServer.start({ binary, port: port ?? (await freePort()), dbFile, logFile: join(dir, 'server.log') });
    servers.push(server);
    return server;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-devserver-'));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts on a fresh SQLite file with all search attributes, and keeps workflows across a restart', async () => {
    const dbFile = join(dir, 'nested', 'temporal.sqlite');
    const first = await start(dbFile);
    console.log(`      dev server ready on a fresh file in ${first.startupMs} ms`);
    assert.equal(first.uiUrl, undefined);
    assert.ok(first.pid > 0);
    const attrs = await customAttributes(first.address);
    for (const { name } of PREFLINE_SEARCH_ATTRIBUTES) assert.ok(name in attrs, `${name} registered`);

    const workflowId = `noop-${Date.now()}`;
    const connection = await Connection.connect({ address: first.address });
    await new Client({ connection }).workflow.start('noop', { taskQueue: 'prefline-test-unused', workflowId });
    await connection.close();
    await first.stop();
    assert.equal(await first.exited, 0);

    const second = await start(dbFile, first.options.port); // same port, as `prefline up` does
    console.log(`      dev server ready on an existing file in ${second.startupMs} ms`);
    const connection2 = await Connection.connect({ address: second.address });
    try {
      const description = await new Client({ connection: connection2 }).workflow.getHandle(workflowId).describe();
      assert.equal(description.status.name, 'RUNNING');
    } finally {
      await connection2.close();
    }
  });

  it('runs each task queue on one partition, as one host should, unless the caller says otherwise', async () => {
    const partitions = async (address: string) => {
      const connection = await Connection.connect({ address });
      try {
        const res = await connection.workflowService.listTaskQueuePartitions({ namespace: 'default', taskQueue: { name: 'prefline-partitions' } });
        return [res.workflowTaskQueuePartitions?.length, res.activityTaskQueuePartitions?.length];
      } finally {
        await connection.close();
      }
    };
    const server = await start(join(dir, 'one.db'));
    assert.deepEqual(await partitions(server.address), [1, 1]);
    const four = await DevServer.start({
      binary, port: await freePort(), dbFile: join(dir, 'four.db'), logFile: join(dir, 'four.log'),
      dynamicConfig: { 'matching.numTaskqueueReadPartitions': 4, 'matching.numTaskqueueWritePartitions': 4 },
    });
    servers.push(four);
    assert.deepEqual(await partitions(four.address), [4, 4]);
  });

    it('registers search attributes missing from a file created without them', async () => {
    const dbFile = join(dir, 'old.sqlite');
    const port = await freePort();
    // An "older" server: raw CLI with only one of the attributes.
    const old = spawn(binary, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', dbFile,
      '--log-level', 'error', '--search-attribute', 'PreflineCampaign=Keyword'], { stdio: 'ignore' });
    const oldExited = new Promise((r) => old.once('exit', r));
    try {
      await waitForFrontend(`127.0.0.1:${port}`, 60_000);
      const before = await customAttributes(`127.0.0.1:${port}`);
      assert.ok('PreflineCampaign' in before);
      assert.ok(!('PreflineStatus' in before), 'precondition: PreflineStatus not registered yet');
    } finally {
      old.kill('SIGTERM');
      await oldExited;
    }

    const server = await start(dbFile);
    const after = await customAttributes(server.address);
    for (const { name } of PREFLINE_SEARCH_ATTRIBUTES) assert.ok(name in after, `${name} registered`);
    const connection = await Connection.connect({ address: server.address });
    try {
      assert.deepEqual(await ensureSearchAttributes(connection, 'default'), [], 'idempotent');
    } finally {
      await connection.close();
    }
  });

  it('fails fast with a clear error when the port is taken', async () => {
    const blocker: Server = createServer((socket) => socket.destroy()); // readiness probes may connect to it
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const t0 = Date.now();
      await assert.rejects(DevServer.start({ binary, port, startTimeoutMs: 60_000 }), (err: Error) => {
        assert.match(err.message, /exited \(code \d+\) before it was ready/);
        assert.match(err.message, new RegExp(`port ${port}`));
        return true;
      });
      assert.ok(Date.now() - t0 < 30_000, 'did not wait for the timeout');
    } finally {
      blocker.close();
    }
  });

  it('reports a missing binary clearly', async () => {
    await assert.rejects(DevServer.start({ binary: join(dir, 'nope'), port: await freePort() }), /install-temporal\.sh/);
  });
});
