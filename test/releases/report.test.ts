/**
 * report.html in headless Chromium: self-contained (no request leaves the file), every plot present as
 * inline SVG. The screenshot is kept (PREFLINE_REPORT_SCREENSHOT, default in the temp dir) for a human look.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { publishRelease } from '../../releases/publisher';
import { ArtifactStore } from '../../store/ArtifactStore';
import { Ledger } from '../../store/Ledger';
import { launchChromium } from '../helpers/browser';
import { CUTOFF_2, at, fillLedger } from './fixtures';

describe('release report (report.html in Chromium)', function () {
  this.timeout(90_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-report-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('should render every plot as inline SVG without fetching anything', async () => {
    const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
    let releaseDir: string;
    try {
      await fillLedger(ledger, await ArtifactStore.open(join(dir, 'artifacts')));
      ({ dir: releaseDir } = await publishRelease({ ledger, releasesDir: join(dir, 'releases'), cutoff: CUTOFF_2, now: () => at(600) }));
    } finally {
      ledger.closeSync();
    }
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const url = pathToFileURL(join(releaseDir, 'report.html')).href;
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(url);
      assert.deepEqual(requests, [url], 'the report fetched something besides itself');
      const plots = await page.$$eval('section svg.plot', (svgs) => svgs.map((s) => ({ label: s.getAttribute('aria-label'), shapes: s.querySelectorAll('rect, circle, line').length })));
      assert.deepEqual(plots.map((p) => p.label), ['votes over time', 'approval per model', 'Bradley–Terry scores', 'win-rate matrix', 'votes per rater', "Krippendorff's alpha"]);
      for (const p of plots) assert.ok(p.shapes >= 2, `${p.label} draws nothing`);
      assert.equal(await page.locator('#bradley-terry circle').count(), 2); // alpha and beta; gamma has no A/B comparison
      assert.equal(await page.locator('#leaderboard tbody tr').count(), 3);
      assert.match(await page.locator('h1').innerText(), /Prefline release 2026-11-20/);
      const screenshot = process.env.PREFLINE_REPORT_SCREENSHOT ?? join(dir, 'report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
