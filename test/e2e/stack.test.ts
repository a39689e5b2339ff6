/**
 * The newcomer's path, end to end: `prefline up` brings up the dev server, worker and gateway and
 * prints an invite link; a lifecycle is started exactly as the Temporal UI's "Start Workflow" form
 * does; a rater invited with `prefline raters invite` votes over HTTP, and the operator opens the
 * printed link in Chromium and votes by clicking; the committed rows are read with `prefline query`
 * while the system runs; a revocation from the CLI ends the rater's session; Ctrl-C stops everything
 * cleanly.
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

  /** The invite link `prefline up` printed for whoever ran it. */
  const operatorLink = () => new RegExp(`Your invite\\s+(${gatewayUrl.replace(/\./g, '\\.')}/#/invite/[A-Za-z0-9_.-]+)`).exec(up.output())?.[1];
  const tokenOf = (link: string) => link.slice(link.lastIndexOf('/') + 1);

  it('should print the URLs and an invite link, and serve the Temporal UI and the rating page', async () => {
    assert.match(up.output(), new RegExp(`Temporal UI\\s+http://127\\.0\\.0\\.1:${uiPort}`));
    assert.match(up.output(), new RegExp(`Rating page\\s+${gatewayUrl.replace(/\./g, '\\.')}`));
    assert.ok(operatorLink(), up.output());
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
    // Rater 1, invited from the CLI while everything runs, over HTTP.
    const invited = runCli(['raters', 'invite', 'alice@example.org', '--expires', '2d'], env);
    assert.equal(invited.code, 0, invited.stderr);
    const aliceLink = /(http:\/\/\S+\/#\/invite\/\S+)/.exec(invited.stdout)?.[1];
    assert.ok(aliceLink, invited.stdout);
    const session = await fetch(`${gatewayUrl}/api/session`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-prefline-request': '1' }, body: JSON.stringify({ invite: tokenOf(aliceLink) }),
    });
    assert.equal(session.status, 201);
    const { token, auth } = (await session.json()) as { token: string; auth: string };
    assert.equal(auth, 'invite');
    // Typed names are refused: the page is invite-only by default.
    const typed = await fetch(`${gatewayUrl}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-prefline-request': '1' }, body: JSON.stringify({ name: 'Alice' }) });
    assert.equal(typed.status, 403);

    const listed = await waitUntil(async () => {
      const body = (await (await fetch(`${gatewayUrl}/api/lifecycles`, { headers: { authorization: `Bearer ${token}` } })).json()) as { lifecycles: LifecycleStatus[] };
      return body.lifecycles.find((l) => l.lifecycleId === handle.workflowId);
    }, 60_000, 'the lifecycle on the rating page');
    assert.deepEqual(listed.candidates.map((c) => c.id), ['c1', 'c2']);

    for (const candidateId of ['c1', 'c2']) {
      const res = await fetch(`${gatewayUrl}/api/lifecycles/${handle.workflowId}/votes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-prefline-request': '1' },
        body: JSON.stringify({ candidateId, value: candidateId === 'c1' ? 'up' : 'down', idempotencyKey: `alice-${candidateId}-0001`, comment: 'from HTTP' }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(((await res.json()) as { outcome: string }).outcome, 'recorded');
    }

    // Rater 2, the operator, opens the link `prefline up` printed and votes by clicking.
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(operatorLink()!);
    await page.locator('#who', { hasText: 'Rating as operator' }).waitFor({ timeout: 30_000 });
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
    const result = runCli(['query', `SELECT candidate_id, rating, rater, comment, prompt, path, rater_auth FROM feedback WHERE lifecycle_id = 'e2e-fox' ORDER BY candidate_id, rating`, '--format', 'json'], env);
    assert.equal(result.code, 0, result.stderr);
    const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((r) => [r.candidate_id, r.rating]), [['c1', 1], ['c1', 1], ['c2', -1], ['c2', 1]]);
    const raters = new Set(rows.map((r) => r.rater));
    assert.equal(raters.size, 2);
    for (const rater of raters) assert.match(String(rater), /^r_[0-9a-f]{24}$/);
    assert.ok(!JSON.stringify(rows).toLowerCase().includes('alice') && !JSON.stringify(rows).toLowerCase().includes('bob'), 'raw names never stored');
    assert.ok(rows.every((r) => r.prompt === 'a red fox in the snow' && String(r.path).startsWith('artifacts/sha256/')));
    assert.ok(rows.every((r) => r.rater_auth === 'invite'), JSON.stringify(rows));
    assert.ok(!result.stdout.includes('example.org') && !result.stdout.includes('operator'), 'invite labels never stored');

    // The page now tells a late rater that voting is closed.
    await card.getByRole('button', { name: 'Thumbs down for candidate A' }).click().catch(() => undefined);
    const late = await fetch(`${gatewayUrl}/api/lifecycles/${handle.workflowId}/votes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-prefline-request': '1' },
      body: JSON.stringify({ candidateId: 'c1', value: 'down', idempotencyKey: 'alice-late-0001' }),
    });
    assert.equal(late.status, 409);
    assert.match(await late.text(), /voting closed/);

    // Ops list the invites and withdraw Alice's: her session ends at her next request.
    const listing = runCli(['raters', 'list'], env);
    assert.equal(listing.code, 0, listing.stderr);
    assert.match(listing.stdout, /alice@example\.org .*active/);
    assert.match(listing.stdout, /operator .*active/);
    const revoked = runCli(['raters', 'revoke', 'alice@example.org'], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    const refused = await waitUntil(async () => {
      const res = await fetch(`${gatewayUrl}/api/lifecycles`, { headers: { authorization: `Bearer ${token}` } });
      return res.status === 401 ? res : undefined;
    }, 10_000, 'the revoked session refused');
    assert.equal(((await refused.json()) as { code: string }).code, 'session_revoked');
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
