/**
 * report.html in headless Chromium: self-contained (no request leaves the file), every plot present as
 * inline SVG, the matchups pictured with their images inlined. The ledger holds thumbs and compare
 * lifecycles (compare-fixtures.ts). The screenshot is kept (PREFLINE_REPORT_SCREENSHOT, default in the
 * temp dir) for a human look.
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
import { fillCompareLedger } from './compare-fixtures';
import { CUTOFF_2, at } from './fixtures';

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
      await fillCompareLedger(ledger, await ArtifactStore.open(join(dir, 'artifacts')));
      ({ dir: releaseDir } = await publishRelease({ ledger, releasesDir: join(dir, 'releases'), cutoff: CUTOFF_2, artifactDir: join(dir, 'artifacts'), now: () => at(600) }));
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
      assert.deepEqual(plots.map((p) => p.label), [
        'votes over time', 'approval per model', 'Bradley–Terry scores', 'win-rate matrix', 'votes per rater', "Krippendorff's alpha",
        'Bradley–Terry scores over judgements', 'win-rate matrix over judgements', 'position bias',
      ]);
      for (const p of plots) assert.ok(p.shapes >= 2, `${p.label} draws nothing`);
      assert.equal(await page.locator('#bradley-terry circle').count(), 2); // alpha and beta; gamma has no A/B comparison
      assert.equal(await page.locator('#compare-bradley-terry circle').count(), 3); // judgements between all three
      assert.equal(await page.locator('#leaderboard tbody tr').count(), 3);
      // Left wins: C1 2/4, C2 3/4, C4 1/2, C5 2/2, C6 0/1, C7 0/1 → 8 of 14 = 57.1%.
      assert.match(await page.locator('#position-bias svg title').textContent() ?? '', /^left wins 8 of 14: 57\.1% /);
      // Most contested (lowest ratio, more decided votes first): C4 and C5 at 1/2, then C1 at 3/4 (4 votes, completed before C2);
      // most decisive of the others: C7 and C6 at 1/1, then C2.
      const figures = await page.$$eval('figure.matchup', (fs) => fs.map((f) => `${f.getAttribute('data-why')}:${f.getAttribute('data-lifecycle')}`));
      assert.deepEqual(figures, ['contested:C4', 'contested:C5', 'contested:C1', 'decisive:C7', 'decisive:C6', 'decisive:C2']);
      // The seed's picture: both candidates side by side over the vote bar. Images are inlined, texts shown as text.
      const c1 = page.locator('figure.matchup[data-lifecycle="C1"]');
      assert.equal(await c1.locator('.side img').count(), 2);
      for (const src of await c1.locator('.side img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).src))) assert.match(src, /^data:image\/png;base64,/);
      assert.ok(await c1.locator('.side img').evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth === 32)), 'the inlined PNGs decode');
      assert.equal(await c1.locator('svg.votebar').getAttribute('aria-label'), 'votes: A 16.7%, tie 16.7%, both bad 16.7%, B 50.0%');
      assert.deepEqual(await c1.locator('.caption').allInnerTexts(), ['A · demo:alpha', 'B · demo:beta']);
      assert.equal(await page.locator('figure.matchup[data-lifecycle="C2"] .textcand').first().innerText(), 'C2 c1 from demo:beta');
      assert.equal(await page.locator('figure.matchup img').count(), 4); // C1 and C7 are the image matchups
      assert.match(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content') ?? '', /default-src 'none'; img-src data:/);
      assert.match(await page.locator('h1').innerText(), /Prefline release 2026-11-20/);
      const screenshot = process.env.PREFLINE_REPORT_SCREENSHOT ?? join(dir, 'report.png');
      await page.screenshot({ path: screenshot, fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
