/**
 * Release ids name folders under the releases folder: `prefline release verify|diff|export <id>`,
 * `prefline query --release <id>` and publishing with `--id` refuse anything else (a path, `..`, an
 * odd character) with a clear error, and touch nothing outside the releases folder.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type PreflineConfig } from '../../config';
import { ReleaseError } from '../../releases/errors';
import { resolveRelease } from '../../releases/layout';
import { publishRelease } from '../../releases/publisher';
import { Ledger } from '../../store/Ledger';
import { runCli } from '../helpers/processes';

const BAD_IDS = [
  '../secrets', '../../etc', '/etc', '/etc/passwd', 'a/b', '..', '.', '', ' 2026-11-22', 'latest/..', '2026-11-22/', '.hidden',
  'a\\b', '%2e%2e%2f', 'x'.repeat(65), '2026-11-22\u001b]0;owned\u0007', 'a\u0000b', '2026-11-22\n',
];

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(path.relative(dir, p));
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe('security: release names', function () {
  this.timeout(120_000);
  let root: string;
  let config: PreflineConfig;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-sec-release-names-'));
    config = loadConfig({ PREFLINE_DATA_DIR: path.join(root, 'data') }, root);
    env = { PREFLINE_DATA_DIR: config.dataDir };
    const ledger = await Ledger.openWriter(config.ledger.path, { allowedDirectories: [config.releasesDir] });
    try {
      await publishRelease({ ledger, releasesDir: config.releasesDir, cutoff: new Date().toISOString(), releaseId: 'good' });
    } finally {
      ledger.closeSync();
    }
    fs.mkdirSync(path.join(config.dataDir, 'secrets'), { recursive: true });
    fs.writeFileSync(path.join(config.dataDir, 'secrets', 'session.key'), 'k'.repeat(64));
  });

  after(() => fs.rmSync(root, { recursive: true, force: true }));

  for (const id of BAD_IDS) {
    it(`should refuse the release id ${JSON.stringify(id)} with prefline_release_invalid`, async () => {
      const err = await resolveRelease(config.releasesDir, id).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof ReleaseError, `expected a ReleaseError, got ${String(err)}`);
      assert.equal(err.code, 'prefline_release_invalid');
      assert.match(err.message, /^invalid release id ".*": a release id is a folder name of up to 64 letters, digits/);
      assert.ok(!/[\u0000-\u0008\u000a-\u001f]/.test(err.message), 'the id is quoted with its controls escaped'); // eslint-disable-line no-control-regex
    });
  }

  it('should refuse a bad id when publishing with an explicit id, and write nothing', async () => {
    const ledger = await Ledger.openWriter(path.join(root, 'publish.duckdb'), { allowedDirectories: [root] });
    try {
      for (const releaseId of ['../escaped', '/tmp/escaped', 'a/b']) {
        const before = tree(root);
        await assert.rejects(publishRelease({ ledger, releasesDir: config.releasesDir, cutoff: new Date().toISOString(), releaseId }), (e: unknown) => e instanceof ReleaseError && e.code === 'prefline_release_invalid');
        assert.deepEqual(tree(root).filter((p) => !p.startsWith('data/releases/.') && !p.startsWith('publish.duckdb')), before.filter((p) => !p.startsWith('data/releases/.') && !p.startsWith('publish.duckdb')));
      }
      assert.equal(fs.existsSync('/tmp/escaped'), false);
    } finally {
      ledger.closeSync();
    }
  });

  it('should refuse a `latest` link that points out of the releases folder', async () => {
    const releasesDir = path.join(root, 'tampered');
    fs.mkdirSync(releasesDir);
    fs.symlinkSync('../data/secrets', path.join(releasesDir, 'latest'));
    await assert.rejects(resolveRelease(releasesDir), (e: unknown) => e instanceof ReleaseError && e.code === 'prefline_release_corrupt' && /latest points at "\.\.\/data\/secrets", which is not a release/.test(e.message));
  });

  for (const [what, args] of [
    ['release verify', (id: string) => ['release', 'verify', id]],
    ['release diff', (id: string) => ['release', 'diff', 'good', id]],
    ['release export', (id: string) => ['release', 'export', id, path.join(root, 'export-out')]],
    ['query --release', (id: string) => ['query', '--release', id, 'SELECT count(*) FROM votes']],
  ] as const) {
    it(`should make prefline ${what} refuse ../, absolute and odd ids, printing the id escaped and creating nothing`, () => {
      const before = tree(root);
      for (const id of ['../secrets', '/etc', 'a/b', '2026\u001b[2J']) {
        const out = runCli(args(id), env);
        assert.equal(out.code, 1, `${id}: ${out.stdout}${out.stderr}`);
        assert.match(out.stderr, /^prefline: invalid release id /);
        assert.ok(!out.stderr.includes('\u001b'), 'a raw escape reached the terminal');
        assert.equal(out.stdout, '');
      }
      assert.deepEqual(tree(root), before);
    });
  }

  it('should still serve a good id and latest', async () => {
    assert.equal((await resolveRelease(config.releasesDir, 'good')).id, 'good');
    assert.equal((await resolveRelease(config.releasesDir)).id, 'good');
    const out = runCli(['release', 'verify', 'good'], env);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /release good: OK/);
  });
});
