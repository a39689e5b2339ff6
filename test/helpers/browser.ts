/** Headless Chromium for page tests: the Debian `chromium` binary driven by playwright-core (no bundled browsers). */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PREFLINE_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run scripts/install-chromium.sh (or set PREFLINE_CHROMIUM to a Chromium binary)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // No sandbox (containers/CI run as root); no GPU; nothing that phones home during tests.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
