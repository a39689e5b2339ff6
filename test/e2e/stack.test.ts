/**
 * The newcomer's path, end to end: `prefline up` brings up the dev server, worker and gateway; a
 * lifecycle is started exactly as the Temporal UI's "Start Workflow" form does; raters vote over HTTP
 * and by clicking in Chromium; the committed rows are read with `prefline query` while the system runs;
 * Ctrl-C stops everything cleanly.
 */
import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { freePort } from '../../ops/dev-server';
import type { LifecycleStatus, LifecycleSummary } from '../../workflows/types';
import { launchChromium } from '../helpers/browser';
import { runCli, spawnCli, waitUntil, type CliProcess } from '../helpers/processes';
import { scrape, total } from '../helpers/prometheus';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('prefline up: the whole system, end to end', function () {
  this.timeout(240_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let up: CliProcess;
  let client: Client;
  let connection: Connection;
  let gatewayUrl: string;
  let temporalPort: number;
  let uiPort: number;
  let workerOps: string;
  let gatewayOps: string;
  let browser: Browser | undefined;

  before(async function () {
    dataDir = mkdtempSync(join(tmpdir(), 'prefline-e2e-'));
    [temporalPort, uiPort] = [await freePort(), await freePort()];
    const gatewayPort = await freePort();
    gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    // up serves metrics by default; free ports, so runs side by side do not collide on 9464/9465.
    [workerOps, gatewayOps] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    env = {
      PREFLINE_DATA_DIR: dataDir,
      PREFLINE_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      PREFLINE_TEMPORAL_UI_PORT: String(uiPort),
      PREFLINE_GATEWAY_PORT: String(gatewayPort),
      PREFLINE_TASK_QUEUE: 'prefline',
      PREFLINE_WORKER_METRICS_ADDRESS: workerOps,
      PREFLINE_GATEWAY_METRICS_ADDRESS: gatewayOps,
    };
    up = spawnCli(['up'], env);
    await up.waitFor(/Prefline is up\./, 180_000);
    connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
    client = new Client({ connection });
  });

  after(async () => {
    await browser?.close();
    await connection?.close();
    await up?.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should print the URLs and serve the Temporal UI and the rating page', async () => {
    assert.match(up.output(), new RegExp(`Temporal UI\\s+http://127\\.0\\.0\\.1:${uiPort}`));
    assert.match(up.output(), new RegExp(`Rating page\\s+${gatewayUrl.replace(/\./g, '\\.')}`));
    assert.equal((await fetch(`http://127.0.0.1:${uiPort}/`)).status, 200);
    const page = await fetch(`${gatewayUrl}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    assert.ok(up.output().includes(`Metrics       worker http://${workerOps}/metrics   gateway http://${gatewayOps}/metrics`), up.output());
    for (const ops of [workerOps, gatewayOps]) {
      const health = await waitUntil(async () => {
        const res = await fetch(`http://${ops}/healthz`);
        return res.status === 200 ? ((await res.json()) as { temporal: string }) : undefined;
      }, 30_000, `${ops}/healthz`);
      assert.equal(health.temporal, 'ok');
    }
    assert.equal((await fetch(`${gatewayUrl}/healthz`)).status, 200);
  });

  it('should take a lifecycle from the UI form to committed rows, with votes over HTTP and by clicks in Chromium', async () => {
    // Exactly what the UI form sends: type name, task queue, one JSON input.
    const handle = await client.workflow.start('ratingLifecycle', {
      taskQueue: 'prefline',
      workflowId: 'e2e-fox',
      args: [{ prompt: 'a red fox in the snow', model: 'demo:shapes', candidates: 2, votesPerCandidate: 2, campaign: 'e2e' }],
    });
    const listed = await waitUntil(async () => {
      const body = (await (await fetch(`${gatewayUrl}/api/lifecycles`)).json()) as { lifecycles: LifecycleStatus[] };
      return body.lifecycles.find((l) => l.lifecycleId === handle.workflowId);
    }, 60_000, 'the lifecycle on the rating page');
    assert.deepEqual(listed.candidates.map((c) => c.id), ['c1', 'c2']);

    // Rater 1 over HTTP.
    const session = await fetch(`${gatewayUrl}/api/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-prefline-request': '1' }, body: JSON.stringify({ name: 'Alice' }),
    });
    assert.equal(session.status, 201);
    const { token } = (await session.json()) as { token: string };
    for (const candidateId of ['c1', 'c2']) {
      const res = await fetch(`${gatewayUrl}/api/lifecycles/${handle.workflowId}/votes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-prefline-request': '1' },
        body: JSON.stringify({ candidateId, value: candidateId === 'c1' ? 'up' : 'down', idempotencyKey: `alice-${candidateId}-0001`, comment: 'from HTTP' }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(((await res.json()) as { outcome: string }).outcome, 'recorded');
    }

    // Rater 2 by clicking in the page.
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(gatewayUrl);
    await page.fill('#name', 'Bob');
    await page.press('#name', 'Enter');
    const card = page.locator(`[data-lifecycle-id="${handle.workflowId}"]`);
    await card.waitFor({ timeout: 30_000 });
    await card.getByRole('button', { name: 'Thumbs up for candidate A' }).click();
    await card.locator('[data-role="outcome"]').filter({ hasText: /recorded/i }).waitFor({ timeout: 15_000 });
    await card.getByRole('button', { name: 'Thumbs up for candidate B' }).click();

    const summary = (await handle.result()) as LifecycleSummary;
    assert.equal(summary.closeReason, 'quorum');
    assert.equal(summary.votesAccepted, 4);
    assert.equal(summary.rowsCommitted, 4);
    // Both processes counted the four votes.
    const workerMetrics = await waitUntil(async () => {
      const { samples } = await scrape(`http://${workerOps}/metrics`);
      return total(samples, 'prefline_lifecycle_phase_transitions', { phase: 'completed' }) === 1 ? samples : undefined;
    }, 15_000, 'the completed lifecycle on the worker endpoint');
    assert.equal(total(workerMetrics, 'prefline_votes_accepted', { channel: 'web', outcome: 'recorded' }), 4);
    assert.equal(total((await scrape(`http://${gatewayOps}/metrics`)).samples, 'prefline_gateway_votes_forwarded', { channel: 'web', outcome: 'recorded' }), 4);

    // An analyst reads the ledger while everything keeps running.
    const result = runCli(['query', `SELECT candidate_id, rating, rater, comment, prompt, path FROM feedback WHERE lifecycle_id = 'e2e-fox' ORDER BY candidate_id, rating`, '--format', 'json'], env);
    assert.equal(result.code, 0, result.stderr);
    const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((r) => [r.candidate_id, r.rating]), [['c1', 1], ['c1', 1], ['c2', -1], ['c2', 1]]);
    const raters = new Set(rows.map((r) => r.rater));
    assert.equal(raters.size, 2);
    for (const rater of raters) assert.match(String(rater), /^r_[0-9a-f]{24}$/);
    assert.ok(!JSON.stringify(rows).toLowerCase().includes('alice') && !JSON.stringify(rows).toLowerCase().includes('bob'), 'raw names never stored');
    assert.ok(rows.every((r) => r.prompt === 'a red fox in the snow' && String(r.path).startsWith('artifacts/sha256/')));

    // The page now tells a late rater that voting is closed.
    await card.getByRole('button', { name: 'Thumbs down for candidate A' }).click().catch(() => undefined);
    const late = await fetch(`${gatewayUrl}/api/lifecycles/${handle.workflowId}/votes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-prefline-request': '1' },
      body: JSON.stringify({ candidateId: 'c1', value: 'down', idempotencyKey: 'alice-late-0001' }),
    });
    assert.equal(late.status, 409);
    assert.match(await late.text(), /voting closed/);
  });

  it('should stop everything cleanly on Ctrl-C', async () => {
    const { code } = await up.kill('SIGINT');
    assert.equal(code, 0, up.output().slice(-2000));
    assert.match(up.output(), /stopped cleanly/);
    assert.equal(await portOpen(temporalPort), false, 'the dev server is gone');
    // The state survived: the ledger can be opened read-only now that the writer is gone.
    const result = runCli(['query', `SELECT count(*)::INT AS n FROM votes WHERE lifecycle_id = 'e2e-fox'`, '--format', 'json'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), [{ n: 4 }]);
  });
});
