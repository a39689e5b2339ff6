/**
 * A campaign's rating page (#/campaigns/cmp) in headless Chromium against the real gateway server, the
 * rater signed in as Alice. Shared by test/gateway/campaign-page.test.ts and campaign-gold-page.test.ts.
 */
import type http from 'node:http';
import type { Browser, Page } from 'playwright-core';
import type { CampaignDirectory } from '../../core/campaign-directory';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { launchChromium } from './browser';
import { MemoryArtifacts, type FakeDirectory } from './fake-directory';

export interface CampaignPage {
  page: Page;
  /** Errors the page threw; a test expects none. */
  problems: string[];
  close(): Promise<void>;
}

/** For a suite's before hook, once `directory` holds the campaign's lifecycles; `name` names the keys. */
export async function openCampaignPage(name: string, directory: FakeDirectory, campaigns: CampaignDirectory): Promise<CampaignPage> {
  const server: http.Server = createGatewayServer({
    directory, campaigns, artifacts: new MemoryArtifacts(), raterKey: Buffer.from(`rater-key-for-campaign-${name}-01`),
    sessionKey: Buffer.from(`session-key-for-campaign-${name}-0`), openPanel: true, sessionTtlMs: 3600_000, log: () => {},
  });
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  try {
    const { url } = await listen(server, '127.0.0.1', 0);
    browser = await launchChromium();
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${url}/#/campaigns/cmp`);
    await page.getByLabel('Your name').fill('Alice');
    await page.getByRole('button', { name: 'Start rating' }).click();
    return { page, problems, close };
  } catch (e) {
    await close();
    throw e;
  }
}
