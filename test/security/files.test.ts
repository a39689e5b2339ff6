/**
 * Issue 12, Found 10: the data folder (ledger, keys, Temporal's database with recipients' addresses,
 * releases) is private to the user that runs Prefline — 0700, whatever the umask — and key files are
 * 0600. Checked at the entry points that create it (worker, gateway, dev server) and at each
 * component that makes a folder of its own.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, loadSecret } from '../../config';
import { ensurePrivateDirSync } from '../../core/files';
import { freePort } from '../../ops/dev-server';
import { publishRelease } from '../../releases/publisher';
import { ArtifactStore } from '../../store/ArtifactStore';
import { Ledger } from '../../store/Ledger';
import { LedgerReadServer } from '../../store/LedgerReadServer';
import { ledgerWriterDirectories } from '../../workers/main';
import { spawnCli, type CliProcess } from '../helpers/processes';
import { sharedTemporal } from '../helpers/temporal';

const mode = (p: string) => fs.statSync(p).mode & 0o777;
const octal = (m: number) => m.toString(8).padStart(4, '0');

describe('security: private files (issue 12, Found 10)', function () {
  this.timeout(120_000);
  let root: string;
  let umask: number;
  const children: CliProcess[] = [];

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-sec-files-'));
    // The default umask of most systems: it is what made the folder world-readable.
    umask = process.umask(0o022);
  });

  afterEach(async () => {
    for (const child of children.splice(0)) await child.kill('SIGKILL');
    process.umask(umask);
    fs.rmSync(root, { recursive: true, force: true });
  });

  describe('the processes that create the data folder', () => {
    it('should create it 0700 when the ledger worker starts, with the ledger and its read endpoint inside', async () => {
      const { address } = await sharedTemporal();
      const dataDir = path.join(root, 'fresh', 'data');
      const worker = spawnCli(['worker', '--queues', 'ledger'], { PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_DATA_DIR: dataDir, PREFLINE_TASK_QUEUE: `files-${process.pid}` });
      children.push(worker);
      await worker.waitFor(/worker polling/, 90_000);
      assert.equal(octal(mode(dataDir)), '0700', 'the data folder');
      assert.equal(octal(mode(path.join(root, 'fresh'))), '0700', 'a parent it had to create');
      assert.ok(fs.existsSync(path.join(dataDir, 'ledger.duckdb')));
      assert.equal(octal(mode(path.join(dataDir, 'ledger-endpoint.json'))), '0600', 'the read endpoint token');
    });

    it('should tighten an existing world-readable data folder to 0700 and say so', async () => {
      const { address } = await sharedTemporal();
      const dataDir = path.join(root, 'data');
      fs.mkdirSync(dataDir, { mode: 0o755 });
      fs.chmodSync(dataDir, 0o755);
      const worker = spawnCli(['worker', '--queues', 'ledger'], { PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_DATA_DIR: dataDir, PREFLINE_TASK_QUEUE: `files-${process.pid}-2` });
      children.push(worker);
      await worker.waitFor(/worker polling/, 90_000);
      assert.equal(octal(mode(dataDir)), '0700');
      assert.match(worker.output(), /could be read by other users \(mode 0755\); it is now 0700/);
    });

    it('should create the data folder, secrets/ and keys private when the gateway starts', async () => {
      const { address } = await sharedTemporal();
      const dataDir = path.join(root, 'gw-data');
      const gateway = spawnCli(['gateway'], { PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_DATA_DIR: dataDir, PREFLINE_GATEWAY_PORT: String(await freePort()) });
      children.push(gateway);
      await gateway.waitFor(/listening/, 60_000);
      assert.equal(octal(mode(dataDir)), '0700');
      assert.equal(octal(mode(path.join(dataDir, 'secrets'))), '0700');
      for (const key of ['rater.key', 'session.key']) assert.equal(octal(mode(path.join(dataDir, 'secrets', key))), '0600', key);
    });

    it('should create the data folder and the folder of Temporal\'s database 0700 when the dev server starts', async () => {
      const dataDir = path.join(root, 'server-data');
      const server = spawnCli(['server'], {
        PREFLINE_DATA_DIR: dataDir, PREFLINE_TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, PREFLINE_TEMPORAL_UI_PORT: String(await freePort()),
      });
      children.push(server);
      await server.waitFor(/Temporal dev server on/, 90_000);
      assert.equal(octal(mode(dataDir)), '0700');
      assert.ok(fs.existsSync(path.join(dataDir, 'temporal.db')));
      assert.equal(octal(mode(path.join(dataDir, 'logs'))), '0700');
    });
  });

  describe('the folders each component makes', () => {
    it('should make the ledger\'s folder 0700', async () => {
      const ledger = await Ledger.openWriter(path.join(root, 'a', 'b', 'ledger.duckdb'));
      ledger.closeSync();
      assert.equal(octal(mode(path.join(root, 'a'))), '0700');
      assert.equal(octal(mode(path.join(root, 'a', 'b'))), '0700');
    });

    it('should make the artifact store, the releases folder and the endpoint file\'s folder 0700', async () => {
      const artifacts = await ArtifactStore.open(path.join(root, 'artifacts'));
      assert.equal(octal(mode(artifacts.rootDir)), '0700');
      const releasesDir = path.join(root, 'releases');
      const ledger = await Ledger.openWriter(path.join(root, 'ledger.duckdb'), { allowedDirectories: [releasesDir] });
      try {
        await publishRelease({ ledger, releasesDir, cutoff: new Date().toISOString() });
        assert.equal(octal(mode(releasesDir)), '0700');
        const server = await LedgerReadServer.start(ledger, { host: '127.0.0.1', port: 0, endpointFile: path.join(root, 'run', 'endpoint.json') });
        await server.close();
        assert.equal(octal(mode(path.join(root, 'run'))), '0700');
      } finally {
        ledger.closeSync();
      }
    });

    it('should tighten a key file and its folder left readable by others, and warn', () => {
      const config = loadConfig({ PREFLINE_DATA_DIR: path.join(root, 'data') }, root);
      fs.mkdirSync(path.join(config.dataDir, 'secrets'), { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(config.dataDir, 'secrets', 'session.key'), 'an-operator-provided-key-0123456789', { mode: 0o644 });
      const warnings: string[] = [];
      const key = loadSecret(config, 'session', {}, (message) => warnings.push(message));
      assert.equal(key.toString('utf8'), 'an-operator-provided-key-0123456789');
      assert.equal(octal(mode(path.join(config.dataDir, 'secrets', 'session.key'))), '0600');
      assert.equal(octal(mode(path.join(config.dataDir, 'secrets'))), '0700');
      assert.equal(warnings.length, 2, warnings.join('\n'));
      assert.match(warnings.join('\n'), /session\.key could be read by other users \(mode 0644\); it is now 0600/);
    });

    it('should keep an already private folder as it is, without a warning', () => {
      const dir = path.join(root, 'private');
      fs.mkdirSync(dir, { mode: 0o700 });
      const warnings: string[] = [];
      ensurePrivateDirSync(dir, (m) => warnings.push(m));
      assert.equal(octal(mode(dir)), '0700');
      assert.deepEqual(warnings, []);
    });

    it('should refuse ledger folders that hold the data folder (a read could reach the keys)', () => {
      const dataDir = path.join(root, 'data');
      const base = { dataDir, artifactDir: path.join(dataDir, 'artifacts') };
      assert.deepEqual(ledgerWriterDirectories({ ...base, releasesDir: path.join(dataDir, 'releases') }), [path.join(dataDir, 'releases'), path.join(dataDir, 'artifacts')]);
      assert.deepEqual(ledgerWriterDirectories({ ...base, releasesDir: '/srv/releases' })[0], '/srv/releases');
      for (const releasesDir of [dataDir, root, '/']) {
        assert.throws(() => ledgerWriterDirectories({ ...base, releasesDir }), /PREFLINE_RELEASES_DIR .* holds the data folder/, releasesDir);
      }
      assert.throws(() => ledgerWriterDirectories({ dataDir, releasesDir: path.join(dataDir, 'releases'), artifactDir: dataDir }), /PREFLINE_ARTIFACT_DIR/);
    });
  });
});
