/**
 * The prompt box end to end, as in the Gradio seed: a rater invited with --can-generate opens the
 * page in headless Chromium, types a prompt, picks a model and a count, clicks Generate, watches the
 * progress while the demo backend runs on real workers (dev server, inference and ledger queues), sees
 * the candidates appear with vote buttons on the same page, votes, and the lifecycle's rows land in the
 * ledger with who started it and from where. Errors show in place: a model refused, the daily budget.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { GenerationBudget } from '../../core/generation-budget';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { InviteRegistry } from '../../gateway/invite-registry';
import { inviteLink, invitedRater, signInvite } from '../../gateway/invites';
import { artifactSourceFor } from '../../gateway/main';
import type { LifecycleSummary } from '../../workflows/types';
import { launchChromium } from '../helpers/browser';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';

const RATER_KEY = Buffer.from('rater-key-for-the-prompt-box-e2e-01');
const SESSION_KEY = Buffer.from('session-key-for-the-prompt-box-e2e');
const INVITE_KEY = Buffer.from('invite-key-for-the-prompt-box-e2e-1');

describe('the prompt box end to end (Chromium, real workers and dev server)', function () {
  this.timeout(180_000);
  let workers: LifecycleWorkers;
  let server: http.Server;
  let url: string;
  let browser: Browser;
  let page: Page;
  let dir: string;
  let registry: InviteRegistry;
  let directory: TemporalLifecycleDirectory;
  const problems: string[] = [];

  before(async function () {
    this.timeout(240_000);
    await sharedTemporal();
    await workflowBundle();
    workers = await createLifecycleWorkers('prompt-box-e2e');
    dir = mkdtempSync(join(tmpdir(), 'prefline-prompt-box-'));
    registry = await InviteRegistry.open(join(dir, 'invites'));
    directory = new TemporalLifecycleDirectory((await sharedTemporal()).client, { taskQueue: workers.taskQueue });
    server = createGatewayServer({
      directory,
      artifacts: artifactSourceFor(workers.artifacts),
      raterKey: RATER_KEY,
      sessionKey: SESSION_KEY,
      invites: { registry, key: INVITE_KEY },
      sessionTtlMs: 3600_000,
      starts: { models: ['demo:shapes', 'demo:text'], startsPerHour: 0, budget: await GenerationBudget.open(join(dir, 'budget'), 6) },
      log: () => {},
    });
    ({ url } = await listen(server, '127.0.0.1', 0));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
  });

  after(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    workers?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function invite(label: string, canGenerate: boolean): Promise<string> {
    const record = await registry.create({ label, canGenerate, expiresAt: new Date(Date.now() + 86_400_000) });
    return inviteLink(url, signInvite(INVITE_KEY, { inviteId: record.id, expiresAt: Date.parse(record.expiresAt) }));
  }

  it('should take a prompt from Generate through progress to candidates, votes and ledger rows', async () => {
    await workers.run(async () => {
      await page.goto(await invite('alice@example.org', true));
      await page.locator('#who', { hasText: 'Rating as alice' }).waitFor({ timeout: 20_000 });
      const box = page.getByRole('region', { name: 'Generate candidates' });
      await box.waitFor();
      assert.match(await box.innerText(), /Today: 0 of 6 candidates generated \(6 left; renews at 00:00 UTC\)/);
      assert.deepEqual(await page.locator('#gen-model option').allInnerTexts(), ['demo:shapes', 'demo:text']);

      await box.getByLabel('Prompt').fill('a red fox in the snow, watercolor');
      await box.getByLabel('Model').selectOption('demo:shapes');
      await box.getByLabel('Candidates').fill('2');
      await box.getByRole('button', { name: 'Generate' }).click();
      await page.locator('#gen-progress', { hasText: /Generating 2 candidates with demo:shapes…/ }).waitFor({ timeout: 10_000 });
      await page.locator('#gen-progress', { hasText: 'Your candidates are up: vote below.' }).waitFor({ timeout: 60_000 });

      const card = page.locator('#cards [data-lifecycle-id^="lc-web-"]').first();
      const lifecycleId = (await card.getAttribute('data-lifecycle-id'))!;
      assert.match(lifecycleId, /^lc-web-[0-9a-f]{20}$/);
      assert.equal(await page.locator('#cards [data-lifecycle-id]').first().getAttribute('data-lifecycle-id'), lifecycleId, 'shown first');
      assert.match(await card.innerText(), /a red fox in the snow, watercolor/);
      await page.waitForFunction((id) => {
        const imgs = Array.from(document.querySelectorAll(`[data-lifecycle-id="${id}"] img`)) as HTMLImageElement[];
        return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
      }, lifecycleId);
      assert.match(await box.innerText(), /Today: 2 of 6 candidates generated/);
      assert.equal(await box.getByLabel('Prompt').inputValue(), '', 'the box is ready for the next prompt');

      await card.getByRole('button', { name: 'Thumbs up for candidate A' }).click();
      await card.locator('[data-role="outcome"]', { hasText: /recorded/ }).waitFor({ timeout: 15_000 });
      await card.getByRole('button', { name: 'Thumbs down for candidate B' }).click();
      await card.locator('[data-role="outcome"]', { hasText: /recorded.*candidate B/ }).waitFor({ timeout: 15_000 });

      // The default quorum wants three raters per candidate; closing commits what is there.
      assert.equal(await directory.requestClose(lifecycleId, { reason: 'test' }), 'requested');
      const summary = (await (await sharedTemporal()).client.workflow.getHandle(lifecycleId).result()) as LifecycleSummary;
      assert.equal(summary.rowsCommitted, 2);
      const rater = invitedRater(RATER_KEY, 'alice@example.org');
      const lifecycles = await workers.ledger.query(`SELECT prompt, models, channel, started_by, started_from FROM lifecycles WHERE lifecycle_id = $1`, [lifecycleId]);
      assert.deepEqual(lifecycles.rows, [{ prompt: 'a red fox in the snow, watercolor', models: ['demo:shapes'], channel: 'web', started_by: rater, started_from: 'web:prompt-box' }]);
      const votes = await workers.ledger.query(`SELECT candidate_id, rating, rater, rater_auth FROM feedback WHERE lifecycle_id = $1 ORDER BY candidate_id`, [lifecycleId]);
      assert.deepEqual(votes.rows, [
        { candidate_id: 'c1', rating: 1, rater, rater_auth: 'invite' },
        { candidate_id: 'c2', rating: -1, rater, rater_auth: 'invite' },
      ]);
      const candidates = await workers.ledger.query(`SELECT count(*)::INT AS n FROM candidates WHERE lifecycle_id = $1`, [lifecycleId]);
      assert.deepEqual(candidates.rows, [{ n: 2 }]);
    });
  });

  it('should show errors in place: over the daily budget nothing starts', async () => {
    const box = page.getByRole('region', { name: 'Generate candidates' });
    await box.getByLabel('Prompt').fill('a second fox');
    await box.getByLabel('Candidates').fill('5');
    await box.getByRole('button', { name: 'Generate' }).click();
    const error = page.locator('#gen-error');
    await error.filter({ hasText: /today's generation budget is used: 2 of 6 candidates; 5 more do not fit/ }).waitFor({ timeout: 10_000 });
    assert.equal(await error.getAttribute('role'), 'alert');
    const started: string[] = [];
    for await (const e of (await sharedTemporal()).client.workflow.list({ query: `TaskQueue = '${workers.taskQueue}'` })) started.push(e.workflowId);
    assert.equal(started.length, 1, 'only the first lifecycle was ever started');
    await box.getByLabel('Prompt').fill('');
    await box.getByRole('button', { name: 'Generate' }).click();
    await error.filter({ hasText: 'Please write a prompt.' }).waitFor();
    assert.equal(await box.getByLabel('Prompt').getAttribute('aria-invalid'), '');
    assert.equal(await box.getByLabel('Prompt').evaluate((el) => el === document.activeElement), true);
  });

  it('should offer no prompt box to a rater who may not generate', async () => {
    const other = await browser.newPage();
    await other.goto(await invite('bob@example.org', false));
    await other.locator('#who', { hasText: 'Rating as bob' }).waitFor({ timeout: 20_000 });
    // Once the page has its answer to GET /api/generate, the box would show.
    await other.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/api/generate')));
    await other.waitForTimeout(300);
    assert.equal(await other.locator('#generate').isVisible(), false);
    await other.close();
  });

  it('had no script errors or CSP violations', () => {
    // Refusals the page shows in place (the 429 of the budget) are logged by Chromium as failed loads.
    assert.deepEqual(problems.filter((p) => !/Failed to load resource: the server responded with a status of 429/.test(p)), []);
  });
});
