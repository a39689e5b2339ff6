/**
 * The rating page's compare lifecycles in headless Chromium, against the real gateway server and the
 * in-memory directory (which applies the lifecycle's judgement rules): both candidates side by side in
 * the rater's order, the question, the answer buttons and their keys, change and withdraw, no model
 * names while voting (on thumbs A/B lifecycles either), and a phone-width layout.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { presentationOrder } from '../../core/presentation';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { launchChromium } from '../helpers/browser';
import { FakeDirectory, MemoryArtifacts, discPng, votingLifecycle } from '../helpers/fake-directory';

const RATER_KEY = Buffer.from('rater-key-for-compare-page-0123');
const MODEL_NAMES = /demo:shapes|demo:text|replicate:|acme\/fox/;

describe('gateway/rating page: compare lifecycles (headless Chromium)', function () {
  this.timeout(60_000);
  let browser: Browser;
  let page: Page;
  let server: http.Server;
  let url: string;
  let rater: string;
  const directory = new FakeDirectory();
  const artifacts = new MemoryArtifacts();
  const problems: string[] = [];
  const shotDir = mkdtempSync(join(tmpdir(), 'prefline-compare-page-'));

  const card = (id: string): Locator => page.locator(`[data-lifecycle-id="${id}"]`);
  const button = (lc: string, name: string): Locator => card(lc).getByRole('button', { name, exact: true });
  const outcome = (lc: string, text: string | RegExp) => card(lc).locator('[data-role="outcome"]', { hasText: text }).waitFor({ timeout: 10_000 });
  const lastJudgement = () => directory.judged.at(-1)!;
  const pressed = async (lc: string) => {
    const out: string[] = [];
    for (const name of ['Left is better', 'Tie', 'Right is better', 'Both bad']) {
      const b = button(lc, name);
      if ((await b.count()) && (await b.getAttribute('aria-pressed')) === 'true') out.push(name);
    }
    return out;
  };

  before(async () => {
    const img = (rgb: [number, number, number]) => ({ kind: 'image' as const, artifact: artifacts.put(discPng(rgb), 'image/png') });
    const foxes = votingLifecycle('lc-foxes', 'a red fox in the snow, watercolor', [img([210, 60, 30]), img([40, 90, 200])], {
      task: 'compare', question: 'Which image fits the description better?', models: ['demo:shapes', 'replicate:acme/fox'], quorum: { kind: 'responses', responses: 5 },
    });
    foxes.candidates[1]!.model = 'replicate:acme/fox';
    directory.add(foxes);
    directory.add(votingLifecycle('lc-haiku', 'a haiku about rivers', [{ kind: 'text', text: 'water over stone\nthe same song a thousand years' }, { kind: 'text', text: 'the river forgets\nevery face it has mirrored' }], {
      task: 'compare', allowBothBad: false, models: ['demo:text', 'demo:text'], quorum: { kind: 'responses', responses: 3 },
    }));
    directory.add(votingLifecycle('lc-thumbs-ab', 'an owl at dusk', [{ kind: 'text', text: 'owl one' }, { kind: 'text', text: 'owl two' }], { models: ['demo:text', 'replicate:acme/fox'] }));
    server = createGatewayServer({
      directory, artifacts, raterKey: RATER_KEY, sessionKey: Buffer.from('session-key-for-compare-page-0123'), openPanel: true, sessionTtlMs: 3600_000, log: () => {},
    });
    ({ url } = await listen(server, '127.0.0.1', 0));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(url);
    await page.getByLabel('Your name').fill('Alice');
    await page.getByRole('button', { name: 'Start rating' }).click();
    await card('lc-foxes').waitFor();
    rater = await page.evaluate(() => (JSON.parse(localStorage.getItem('prefline.session')!) as { rater: string }).rater);
  });

  after(async () => {
    await browser?.close();
    server?.closeAllConnections();
    if (server) await new Promise((r) => server.close(r));
  });

  it('shows both candidates side by side in this rater\'s order, labelled Left and Right, with the question and four answers', async () => {
    const [left, right] = presentationOrder('lc-foxes', rater, ['c1', 'c2'] as const);
    const sides = await card('lc-foxes').locator('figure.side').evaluateAll((els) => els.map((e) => [e.getAttribute('data-side'), e.getAttribute('data-candidate-id'), e.querySelector('figcaption strong')?.textContent]));
    assert.deepEqual(sides, [['left', left, 'Left'], ['right', right, 'Right']]);
    assert.match(await card('lc-foxes').innerText(), /Which image fits the description better\?/);
    assert.match(await card('lc-foxes').innerText(), /Answers: 0 of 5/);
    assert.deepEqual(await card('lc-foxes').locator('.answers button').evaluateAll((els) => els.map((e) => e.textContent)), ['Left is better1', 'Tie2', 'Right is better3', 'Both bad4']);
    await page.waitForFunction(() => Array.from(document.querySelectorAll('figure.side img')).every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0));
    assert.equal(await card('lc-foxes').locator('figure.side[data-side="left"] img').getAttribute('alt'), 'Left candidate for: a red fox in the snow, watercolor');
    // Side by side: the right candidate sits to the right of the left one, on the same row.
    const [l, r] = await card('lc-foxes').locator('figure.side').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
    assert.ok(r!.x >= l!.x + l!.width && Math.abs(r!.y - l!.y) < 2, JSON.stringify([l, r]));
    // Both bad is offered only where the lifecycle allows it.
    assert.equal(await button('lc-haiku', 'Both bad').count(), 0);
    assert.equal(await button('lc-haiku', 'Tie').count(), 1);
  });

  it('shows no model name anywhere while voting, on compare and thumbs A/B lifecycles alike', async () => {
    assert.doesNotMatch(await page.locator('#cards').innerText(), MODEL_NAMES);
    assert.doesNotMatch(await page.content(), MODEL_NAMES);
    const api = await page.evaluate(async () => {
      const s = JSON.parse(localStorage.getItem('prefline.session')!) as { token: string };
      return (await fetch('/api/lifecycles', { headers: { Authorization: `Bearer ${s.token}` } })).text();
    });
    assert.doesNotMatch(api, MODEL_NAMES);
    assert.match(await card('lc-thumbs-ab').innerText(), /Candidate A/); // the thumbs card is still there, labelled by letter
  });

  it('records "left is better", changes it to a tie and withdraws it; every answer names the order shown', async () => {
    const [left, right] = presentationOrder('lc-foxes', rater, ['c1', 'c2'] as const);
    await button('lc-foxes', 'Left is better').click();
    await outcome('lc-foxes', 'recorded: left is better');
    assert.deepEqual([lastJudgement().lifecycleId, lastJudgement().judgement.left, lastJudgement().judgement.right, lastJudgement().judgement.choice], ['lc-foxes', left, right, 'left']);
    assert.match(lastJudgement().judgement.idempotencyKey, /^web:r_[0-9a-f]{24}:[0-9a-f-]{32,36}$/);
    assert.deepEqual(await pressed('lc-foxes'), ['Left is better']);
    assert.match(await card('lc-foxes').innerText(), /Answers: 1 of 5/);

    await button('lc-foxes', 'Tie').click();
    await outcome('lc-foxes', 'changed: tie');
    assert.equal(lastJudgement().judgement.choice, 'tie');
    assert.deepEqual(await pressed('lc-foxes'), ['Tie']);

    await button('lc-foxes', 'Withdraw my answer').click();
    await outcome('lc-foxes', 'retracted: your answer is withdrawn');
    assert.equal(lastJudgement().judgement.choice, 'retract');
    assert.deepEqual(await pressed('lc-foxes'), []);
    assert.equal(await button('lc-foxes', 'Withdraw my answer').isDisabled(), true);
    assert.equal(new Set(directory.judged.slice(-3).map((j) => j.judgement.idempotencyKey)).size, 3, 'a key per answer');

    // Pressing the standing answer again withdraws it too.
    await button('lc-foxes', 'Right is better').click();
    await outcome('lc-foxes', 'recorded: right is better');
    await button('lc-foxes', 'Right is better').click();
    await outcome('lc-foxes', 'retracted');
    assert.equal(lastJudgement().judgement.choice, 'retract');
  });

  it('answers with keys while focus is in the card (announced on the page), never while typing a comment', async () => {
    const hint = card('lc-haiku').locator('.keys-hint');
    assert.match(await hint.innerText(), /Keys: 1 or ← left is better · 2 or ↓ tie · 3 or → right is better · 0 withdraws\./);
    assert.equal(await button('lc-haiku', 'Tie').getAttribute('aria-describedby'), await hint.getAttribute('id'));
    assert.equal(await button('lc-haiku', 'Right is better').getAttribute('aria-keyshortcuts'), '3 ArrowRight');
    await button('lc-haiku', 'Tie').focus();
    await page.keyboard.press('3');
    await outcome('lc-haiku', 'recorded: right is better');
    assert.deepEqual([lastJudgement().lifecycleId, lastJudgement().judgement.choice], ['lc-haiku', 'right']);
    await page.keyboard.press('ArrowLeft');
    await outcome('lc-haiku', 'changed: left is better');
    await page.keyboard.press('ArrowDown');
    await outcome('lc-haiku', 'changed: tie');
    const before = directory.judged.length;
    await page.keyboard.press('4'); // both bad is not offered here
    await page.keyboard.press('ArrowUp');
    await card('lc-haiku').getByText('Add a comment (optional)').click();
    await card('lc-haiku').getByLabel('Comment on this comparison', { exact: false }).fill('12 3');
    assert.equal(directory.judged.length, before, 'no answer from keys that are not offered, or typed into the comment');
    await button('lc-haiku', 'Tie').focus();
    await page.keyboard.press('1');
    await outcome('lc-haiku', 'changed: left is better (with comment)');
    assert.equal(lastJudgement().judgement.comment, '12 3');
    await page.keyboard.press('0');
    await outcome('lc-haiku', 'retracted');
  });

  it('is reachable with Tab in reading order: the answers, then withdraw', async () => {
    await button('lc-foxes', 'Left is better').click();
    await outcome('lc-foxes', 'recorded: left is better');
    await button('lc-foxes', 'Left is better').focus();
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      names.push(await page.evaluate(() => document.activeElement?.textContent ?? ''));
    }
    assert.deepEqual(names, ['Tie2', 'Right is better3', 'Both bad4', 'Withdraw my answer']);
    const focusRing = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.notEqual(focusRing, 'none');
    assert.equal(await card('lc-foxes').locator('[data-role="outcome"]').getAttribute('aria-live'), 'polite');
  });

  it('stacks the pair at phone width and stays readable (nothing wider than the screen)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      const [l, r] = await card('lc-foxes').locator('figure.side').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect));
      assert.ok(r!.y >= l!.y + l!.height - 1, 'right below left');
      assert.ok(Math.abs(r!.width - l!.width) < 2 && l!.width > 300, 'each at full width');
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
      await page.screenshot({ path: join(shotDir, 'compare-mobile.png'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
    await page.screenshot({ path: join(shotDir, 'compare.png'), fullPage: true });
    console.log(`      screenshots: ${shotDir}`);
  });

  it('says "voting closed" and disables the answers when the lifecycle closed meanwhile', async () => {
    directory.close('lc-haiku');
    await button('lc-haiku', 'Right is better').click();
    await outcome('lc-haiku', 'voting closed');
    assert.equal(await button('lc-haiku', 'Tie').isDisabled(), true);
  });

  it('had no script errors or CSP violations', () => {
    // The closed lifecycle's answer is a 409 on purpose; Chromium logs it as a failed resource.
    assert.deepEqual(problems.filter((p) => !/Failed to load resource: the server responded with a status of 409/.test(p)), []);
  });
});
