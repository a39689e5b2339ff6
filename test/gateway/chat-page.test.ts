/**
 * The chat page in headless Chromium against the real gateway, real conversations on the dev server
 * and the OpenAI-compatible stand-in streaming at a fixed pace: type (Enter sends), watch the reply
 * stream in, 👎 it with a reason and feedback, regenerate, compare the two replies, and find each of
 * those in the ledger; keyboard focus, labelled controls, and a phone-width layout without sideways
 * scrolling.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { createOpenAICompatibleBackend } from '../../connectors/inference/openai/OpenAICompatibleBackend';
import { launchChromium } from '../helpers/browser';
import { CHAT_STREAM_KEY, startChatGateway, type ChatGateway } from '../helpers/chat-gateway';
import { JSON_HEADERS } from '../helpers/gateway';
import { waitUntil } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { startOpenAIStandIn, type OpenAIStandIn } from '../standins/openai-server';

describe('gateway/chat page (headless Chromium)', function () {
  this.timeout(180_000);
  let workers: LifecycleWorkers;
  let gateway: ChatGateway;
  let openai: OpenAIStandIn;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  before(async function () {
    this.timeout(240_000);
    await sharedTemporal();
    await workflowBundle();
    browser = await launchChromium();
  });

  beforeEach(async function () {
    openai = await startOpenAIStandIn();
    // Slow enough that the page shows the reply growing before the whole of it arrives.
    openai.setModel('llama3:8b', { tokenMs: 60, reply: (body) => `Reply ${String(body['seed'])}: ${'word '.repeat(12).trim()} done.` });
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'chat-page', { backends: [createOpenAICompatibleBackend({ baseUrl: openai.baseUrl, timeoutMs: 10_000 })], streamKey: CHAT_STREAM_KEY });
    gateway = await startChatGateway(workers, { settings: { models: ['openai:llama3:8b', 'demo:text'] } });
  });

  afterEach(async () => {
    await gateway?.close();
    workers?.close();
    await openai?.close();
  });

  after(async () => {
    await browser?.close();
  });

  async function signedInPage(width = 1280): Promise<Page> {
    const res = await fetch(`${gateway.url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name: `Page tester ${randomUUID().slice(0, 8)}` }) });
    const session = await res.json();
    const p = await browser.newPage({ viewport: { width, height: 900 } });
    p.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    p.on('pageerror', (e) => problems.push(e.message));
    p.on('dialog', (d) => void d.accept());
    // The rating page's session: one sign-in for both pages.
    await p.addInitScript((s) => localStorage.setItem('prefline.session', JSON.stringify(s)), session);
    await p.goto(`${gateway.url}/chat`);
    return p;
  }

  it('should stream a typed message\'s reply, take 👎 with a reason and feedback, regenerate and compare, all into the ledger', async () => {
    await workers.run(async () => {
      page = await signedInPage();
      await page.getByRole('button', { name: 'New conversation' }).click();
      const composer = page.getByRole('textbox', { name: /^Message/ });
      await composer.waitFor();
      await assert.doesNotReject(page.waitForFunction(() => document.activeElement?.id === 'composer-text'));
      await composer.fill('how many r are in strawberry?');
      await composer.press('Enter');

      // Streaming: the reply grows while the page waits (aria-busy), then the finished reply replaces it.
      const streaming = page.locator('.message.streaming[aria-busy="true"] .reply-text');
      await page.waitForFunction(() => (document.querySelector('.message.streaming[aria-busy="true"] .reply-text')?.textContent ?? '').length > 0, null, { timeout: 20_000 });
      const partial = await streaming.textContent().catch(() => '');
      const reply = page.locator('li.message.assistant[data-message-id="m2"]');
      await reply.waitFor({ timeout: 30_000 });
      const full = (await reply.locator('.reply-text').textContent()) ?? '';
      assert.match(full, /^Reply \d+: word .* done\.$/);
      assert.ok(partial && partial.length < full.length && full.startsWith(partial), `streamed "${partial}" before "${full}"`);
      assert.match((await page.locator('#live').textContent()) ?? '', /Reply finished/);
      await page.waitForFunction(() => document.activeElement?.id === 'composer-text');

      // 👎 with a reason, then feedback.
      const bad = reply.getByRole('button', { name: 'Bad reply (reply 1)' });
      await bad.click();
      await page.waitForFunction(() => document.querySelector('[data-message-id="m2"] button.vote.down')?.getAttribute('aria-pressed') === 'true');
      await reply.getByLabel('Reason').selectOption('incorrect');
      await page.waitForFunction(() => /reason saved/.test(document.getElementById('live')?.textContent ?? ''));
      await reply.getByText('Add feedback').click();
      await reply.getByLabel('Feedback on reply 1').fill("there are three r's in strawberry");
      await reply.getByRole('button', { name: 'Send feedback' }).click();
      await reply.getByText('1 feedback').waitFor();

      // Regenerate, then compare the two replies.
      await page.getByRole('button', { name: 'Regenerate' }).click();
      await page.locator('li.message.assistant[data-message-id="m3"]').waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Compare two replies' }).click();
      const panel = page.getByRole('group', { name: 'Which reply is better?' });
      await panel.waitFor();
      const shownLeft = await page.locator('#compare-left').textContent();
      await panel.getByRole('button', { name: 'A is better' }).click();
      await page.waitForFunction(() => /reply A preferred/.test(document.getElementById('live')?.textContent ?? ''));

      // Everything reached the ledger, with the order the page showed.
      const id = decodeURIComponent(new URL(page.url()).hash.replace('#/c/', ''));
      const events = await waitUntil(async () => {
        const { rows } = await workers.ledger.query(
          `SELECT kind, reply_id, rating, reason, content, left_reply, right_reply, choice, winner_reply FROM chat_events WHERE conversation_id = $1 ORDER BY seq`, [id],
        );
        return rows.some((r) => r.kind === 'compare') ? rows : undefined;
      }, 20_000, 'the comparison in the ledger');
      assert.deepEqual(events.map((e) => e.kind), ['start', 'user_message', 'reply', 'rating', 'rating', 'feedback', 'regenerate', 'reply', 'compare']);
      assert.deepEqual([events[4]?.rating, events[4]?.reason], ['down', 'incorrect']);
      assert.equal(events[5]?.content, "there are three r's in strawberry");
      const compare = events[8]!;
      assert.deepEqual([String(compare.left_reply), String(compare.right_reply)].sort(), ['m2', 'm3']);
      assert.equal(compare.winner_reply, compare.left_reply);
      const { rows: [left] } = await workers.ledger.query(`SELECT content FROM chat_events WHERE conversation_id = $1 AND message_id = $2`, [id, compare.left_reply as string]);
      assert.equal(left?.content, shownLeft, 'the judgement records the reply shown on the left');

      // The conversation is in the list, titled by its first message.
      await page.getByRole('button', { name: /how many r are in strawberry\?/ }).waitFor({ timeout: 15_000 });
      assert.deepEqual(problems, []);
      await page.close();
    });
  });

  it('should be usable at phone width with labelled controls and no sideways scrolling', async () => {
    await workers.run(async () => {
      page = await signedInPage(375);
      await page.getByLabel('Model').selectOption('demo:text');
      await page.getByRole('button', { name: 'New conversation' }).click();
      const composer = page.getByRole('textbox', { name: /^Message/ });
      await composer.fill('hello from a phone');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.locator('li.message.assistant[data-message-id="m2"]').waitFor({ timeout: 30_000 });
      await page.getByText('demo placeholder — not a model output').first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
      // Every button has an accessible name.
      const unnamed = await page.evaluate(() => [...document.querySelectorAll('button')].filter((b) => !b.hidden && b.offsetParent !== null && !(b.getAttribute('aria-label') || b.textContent?.trim())).length);
      assert.equal(unnamed, 0);
      // Clear ends it: the composer is disabled and the state says so.
      await page.getByRole('button', { name: 'Clear (end conversation)' }).click();
      await page.locator('#conversation-state', { hasText: 'ended' }).waitFor();
      assert.equal(await composer.isDisabled(), true);
      assert.deepEqual(problems, []);
      await page.close();
    });
  });
});
