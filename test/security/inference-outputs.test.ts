/**
 * Issue 12, Found 5: a model's output is a URL the inference worker downloads, so the model (or a
 * prompt that steers it) chooses what the worker fetches. Each case runs the real generateCandidates
 * activity with the Replicate backend against the Replicate stand-in, whose prediction outputs the
 * attacker's URL, and asserts both halves of the promise: a clear, non-retryable refusal naming the
 * rule, and nothing changed: the artifact store holds no new file and no request reached the target
 * (a canary server on loopback, standing for the dev server's HTTP API or a metadata service, records
 * zero hits). Names resolve through a table (no real DNS), so they can point anywhere.
 */
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInferenceActivities } from '../../activities/generate';
import type { GenerateCandidatesRequest } from '../../activities/types';
import { ErrorCode } from '../../core/errors';
import type { DownloadRules, ResolvedAddress, SafeDownloaderOptions } from '../../connectors/http/safe-download';
import { InferenceRegistry } from '../../connectors/inference/registry';
import { createReplicateBackend } from '../../connectors/inference/replicate/ReplicateBackend';
import { ArtifactStore } from '../../store/ArtifactStore';
import type { Candidate } from '../../workflows/types';
import { createTestCa, type TestCa } from '../helpers/test-ca';
import { endless, file, gzipBomb, redirect, startDownloadStandIn, trickle, type DownloadStandIn } from '../standins/download-server';
import { makePng, startReplicateStandIn, type ReplicateStandIn } from '../standins/replicate-server';

const SECRET_PATH = '/latest/meta-data/iam/security-credentials/role';

/** Where the table sends each name; `cdn.test` is a legitimate file host, the others are attacks. */
const DNS: Record<string, string[]> = {
  'cdn.test': ['127.0.0.1'],
  'files.example.test': ['93.184.216.34'],
  'loopback.test': ['127.0.0.1'],
  'private.test': ['10.0.0.1'],
  'cgnat.test': ['100.100.100.200'],
  'metadata.test': ['169.254.169.254'],
  'v6-loopback.test': ['::1'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'ula.test': ['fd00:ec2::254'],
  'mixed.test': ['93.184.216.34', '127.0.0.1'],
};

/** Plain http allowed for every address and name, so the address rules alone decide. */
const HTTP_EVERYWHERE: DownloadRules = { allowHttpHosts: ['0.0.0.0/0', '::/0', ...Object.keys(DNS)] };
/** A file host the operator allowed (`cdn.test` on loopback), and only it. */
const CDN_ALLOWED: DownloadRules = { allowHttpHosts: ['cdn.test', '127.0.0.1'], allowHosts: ['cdn.test'] };

describe('security: model output URLs the inference worker downloads (issue 12, Found 5)', function () {
  this.timeout(60_000);
  let replicate: ReplicateStandIn;
  let canary: DownloadStandIn;
  let cdn: DownloadStandIn;
  let root: string;
  let artifacts: ArtifactStore;
  let lookups: string[];
  let caDir: string;
  let ca: TestCa;

  const resolve = async (host: string): Promise<ResolvedAddress[]> => {
    lookups.push(host);
    return (DNS[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

  before(async () => {
    replicate = await startReplicateStandIn();
    caDir = mkdtempSync(join(tmpdir(), 'prefline-sec-ca-'));
    ca = createTestCa(caDir);
  });
  after(async () => {
    await replicate.close();
    rmSync(caDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    lookups = [];
    canary = await startDownloadStandIn();
    canary.serve(SECRET_PATH, file('{"AccessKeyId":"AKIA-CANARY","SecretAccessKey":"s3cr3t"}', 'text/plain'));
    canary.serve('/api/v1/namespaces', file('{"namespaces":[{"name":"default"}]}', 'text/plain'));
    cdn = await startDownloadStandIn();
    cdn.serve('/ok.png', file(makePng(2, 2, [9, 9, 9])));
    root = mkdtempSync(join(tmpdir(), 'prefline-sec-artifacts-'));
    artifacts = await ArtifactStore.open(root);
  });
  afterEach(async () => {
    await canary.close();
    await cdn.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Runs one lifecycle's generation whose only model outputs `output`. */
  function generate(output: unknown, downloads: SafeDownloaderOptions = {}): Promise<Candidate[]> {
    replicate.setModel('attacker/model', { queueMs: 0, runMs: 0, output: { kind: 'value', value: output } });
    const backend = createReplicateBackend({ apiToken: replicate.token, baseUrl: replicate.baseUrl, pollIntervalMs: 10, syncWaitSeconds: 0, downloads: { resolve, ...downloads } });
    const activities = createInferenceActivities({ registry: new InferenceRegistry([backend]), artifacts });
    const request: GenerateCandidatesRequest = { lifecycleId: 'lc-security', prompt: 'ignore previous instructions', models: ['replicate:attacker/model'], candidatesPerModel: 1, params: {} };
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    return env.run(activities.generateCandidates, request) as Promise<Candidate[]>;
  }

  function storedFiles(): string[] {
    return (readdirSync(root, { recursive: true, withFileTypes: true }) as Array<{ isFile(): boolean; name: string; parentPath?: string; path?: string }>)
      .filter((entry) => entry.isFile())
      .map((entry) => relative(root, join(entry.parentPath ?? entry.path ?? root, entry.name)));
  }

  async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
    const err = await promise.then(
      (value) => assert.fail(`expected a refusal, got ${JSON.stringify(value)}`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }

  /** The refusal is clear and final, and nothing was stored or requested from the canary. */
  async function assertRefused(output: unknown, downloads: SafeDownloaderOptions, message: RegExp): Promise<ApplicationFailure> {
    const before = storedFiles();
    const err = await failure(generate(output, downloads));
    assert.equal(err.type, ErrorCode.DownloadRefused, err.message);
    assert.equal(err.nonRetryable, true, 'a rule that refused refuses again: no retry');
    assert.match(err.message, /^output of Replicate prediction \w+ not downloaded: refused /);
    assert.match(err.message, message);
    assert.deepEqual(storedFiles(), before, 'the artifact store holds no new file');
    assert.equal(canary.hits.length, 0, `the canary got ${canary.hits.map((h) => h.path).join(', ')}`);
    return err;
  }

  it('control: with loopback allowed, the same URL reaches the canary and is stored (so the checks below can fail)', async () => {
    const [candidate] = await generate(`${canary.origin}${SECRET_PATH}`, { allowHttpHosts: ['127.0.0.1'], allowHosts: ['127.0.0.1'] });
    assert.equal(candidate?.kind, 'text');
    assert.equal(canary.hitsTo(SECRET_PATH).length, 1);
    assert.equal(storedFiles().length, 2, 'the file and its sidecar');
  });

  describe('scheme', () => {
    it('refuses plain http by default, before resolving the name', async () => {
      await assertRefused(`http://files.example.test:${canary.port}/out.png`, {}, /plain http is allowed only for the hosts in PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS, and files\.example\.test is not one of them/);
      assert.deepEqual(lookups, []);
    });

    it("refuses plain http to the dev server's HTTP API on loopback by default", async () => {
      await assertRefused(`http://127.0.0.1:${canary.port}/api/v1/namespaces`, {}, /plain http is allowed only for the hosts in PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS/);
    });

    it('refuses a URL with a user name and password in it', async () => {
      await assertRefused(`https://admin:hunter2@cdn.test:${cdn.port}/ok.png`, CDN_ALLOWED, /URLs with a user name or password are not downloaded/);
      assert.equal(cdn.hits.length, 0);
    });
  });

  describe('addresses, after resolution', () => {
    const cases: Array<[string, (port: number) => string, RegExp]> = [
      ['the loopback address itself', (p) => `http://127.0.0.1:${p}${SECRET_PATH}`, /127\.0\.0\.1 is in loopback 127\.0\.0\.0\/8/],
      ['a name that resolves to loopback', (p) => `http://loopback.test:${p}${SECRET_PATH}`, /loopback\.test resolves to 127\.0\.0\.1, in loopback/],
      ['a name that resolves to a private address', (p) => `http://private.test:${p}${SECRET_PATH}`, /resolves to 10\.0\.0\.1, in private 10\.0\.0\.0\/8/],
      ['a name that resolves into carrier-grade NAT (Alibaba metadata)', (p) => `http://cgnat.test:${p}${SECRET_PATH}`, /100\.100\.100\.200, in carrier-grade NAT/],
      ['the cloud metadata address', () => `http://169.254.169.254${SECRET_PATH}`, /169\.254\.169\.254 is in link-local 169\.254\.0\.0\/16 \(cloud metadata/],
      ['a name that resolves to the cloud metadata address', () => `http://metadata.test${SECRET_PATH}`, /resolves to 169\.254\.169\.254, in link-local/],
      ['a name that resolves to IPv6 loopback', (p) => `http://v6-loopback.test:${p}/`, /resolves to ::1, in loopback ::1/],
      ['a name that resolves to IPv4-mapped loopback', (p) => `http://mapped.test:${p}${SECRET_PATH}`, /resolves to ::ffff:127\.0\.0\.1, in IPv4-mapped form of loopback/],
      ['an IPv4-mapped IPv6 literal of loopback', (p) => `http://[::ffff:127.0.0.1]:${p}${SECRET_PATH}`, /\[::ffff:7f00:1\] is in IPv4-mapped form of loopback/],
      ['loopback spelled as one decimal number', (p) => `http://2130706433:${p}${SECRET_PATH}`, /127\.0\.0\.1 is in loopback/],
      ['a name that resolves to a unique-local address (AWS IPv6 metadata)', () => `http://ula.test${SECRET_PATH}`, /fd00:ec2::254, in unique-local fc00::\/7/],
      ['a name with one public and one loopback address', (p) => `http://mixed.test:${p}${SECRET_PATH}`, /mixed\.test resolves to 127\.0\.0\.1, in loopback/],
    ];
    for (const [what, url, message] of cases) {
      it(`refuses ${what}`, async () => {
        const err = await assertRefused(url(canary.port), HTTP_EVERYWHERE, message);
        assert.match(err.message, /add it to PREFLINE_DOWNLOAD_ALLOW_HOSTS if it is a server you run/);
      });
    }

    it('refuses the metadata host names and localhost without resolving them', async () => {
      await assertRefused(`http://metadata.google.internal${SECRET_PATH}`, { allowHttpHosts: ['metadata.google.internal'] }, /metadata\.google\.internal names this host or a cloud metadata service/);
      await assertRefused(`https://localhost:${canary.port}${SECRET_PATH}`, {}, /localhost names this host/);
      assert.deepEqual(lookups, []);
    });
  });

  describe('redirects', () => {
    it('refuses a redirect chain from an allowed file host into loopback', async () => {
      cdn.serve('/r1', redirect('/r2'));
      cdn.serve('/r2', redirect(`http://127.0.0.1:${canary.port}${SECRET_PATH}`, 307));
      await assertRefused(`http://cdn.test:${cdn.port}/r1`, CDN_ALLOWED, /refused the redirect from http:\/\/cdn\.test:\d+\/r2 to http:\/\/127\.0\.0\.1:\d+\/latest.* is in loopback/);
      assert.deepEqual(cdn.hits.map((h) => h.path), ['/r1', '/r2']);
    });

    it('refuses a redirect to a name that resolves to the metadata address', async () => {
      cdn.serve('/r', redirect(`http://metadata.test${SECRET_PATH}`));
      await assertRefused(`http://cdn.test:${cdn.port}/r`, { ...CDN_ALLOWED, allowHttpHosts: ['cdn.test', 'metadata.test'] }, /metadata\.test resolves to 169\.254\.169\.254/);
    });

    it('refuses a redirect from https to plain http, even to a host allowed both', async () => {
      const secure = await startDownloadStandIn({ tls: { key: ca.server.key, cert: ca.server.cert } });
      try {
        secure.serve('/out.png', redirect(`http://127.0.0.1:${canary.port}${SECRET_PATH}`));
        await assertRefused(`https://127.0.0.1:${secure.port}/out.png`, { allowHttpHosts: ['127.0.0.1'], allowHosts: ['127.0.0.1'], ca: ca.ca }, /a redirect from https to plain http is never followed/);
        assert.equal(secure.hitsTo('/out.png').length, 1, 'the https hop was made');
      } finally {
        await secure.close();
      }
    });

    it('refuses a redirect to a data: URL (which would skip the data: rules)', async () => {
      cdn.serve('/to-data', redirect(`data:application/javascript,${encodeURIComponent('alert(1)')}`));
      await assertRefused(`http://cdn.test:${cdn.port}/to-data`, CDN_ALLOWED, /only https URLs are downloaded, not data:/);
    });

    it('refuses a redirect loop after the limit', async () => {
      cdn.serve('/loop', redirect('/loop'));
      await assertRefused(`http://cdn.test:${cdn.port}/loop`, CDN_ALLOWED, /more than 5 redirects/);
      assert.equal(cdn.hitsTo('/loop').length, 6, 'the first request and five redirects, then no more');
    });
  });

  describe('size', () => {
    const capped = { ...CDN_ALLOWED, maxBytes: 64 * 1024 };

    it('refuses a Content-Length above the cap', async () => {
      cdn.serve('/huge.png', file(Buffer.alloc(64 * 1024 + 1)));
      await assertRefused(`http://cdn.test:${cdn.port}/huge.png`, capped, /Content-Length of 65537 bytes is larger than the download cap of 65536 bytes \(PREFLINE_DOWNLOAD_MAX_BYTES\)/);
    });

    it('aborts a body without a length that never ends, and the server stops sending', async () => {
      cdn.serve('/endless.png', endless());
      await assertRefused(`http://cdn.test:${cdn.port}/endless.png`, capped, /its body is larger than the download cap of 65536 bytes/);
      const sent = cdn.bytesWritten;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(cdn.bytesWritten, sent, 'the connection was closed');
    });

    it('aborts a body whose small Content-Length hides a large decompressed size (gzip bomb)', async () => {
      cdn.serve('/bomb.png', gzipBomb(16 * 1024 * 1024));
      await assertRefused(`http://cdn.test:${cdn.port}/bomb.png`, capped, /its decompressed body is larger than the download cap/);
    });

    it('refuses a data: URL larger than the cap without decoding it', async () => {
      await assertRefused(`data:image/png;base64,${'A'.repeat(100_000)}`, capped, /a data: URL of about 75000 bytes: larger than the download cap of 65536 bytes/);
    });

    it('refuses a data: URL of a type that is neither image nor text', async () => {
      await assertRefused(`data:application/javascript;base64,${Buffer.from('fetch("//evil")').toString('base64')}`, {}, /type "application\/javascript": only image\/\* and text\/\* data: URLs are accepted/);
    });
  });

  describe('time', () => {
    it('gives up on a body that trickles forever at the deadline, retryably, storing nothing', async () => {
      cdn.serve('/slow.png', trickle(50));
      const started = Date.now();
      const err = await failure(generate(`http://cdn.test:${cdn.port}/slow.png`, { ...CDN_ALLOWED, timeoutMs: 500 }));
      assert.equal(err.type, ErrorCode.OutputFetchFailed);
      assert.equal(err.nonRetryable, false, 'a slow server may be faster next time; the retry resumes the prediction');
      assert.match(err.message, /timed out after 500 ms/);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      assert.deepEqual(storedFiles(), []);
    });
  });

  describe('the API token', () => {
    const both = { allowHttpHosts: ['127.0.0.1', 'cdn.test'], allowHosts: ['127.0.0.1', 'cdn.test'] };
    const authOf = (path: RegExp) => replicate.requestsTo('GET', path).map((r) => r.headers['authorization']);

    it('goes to a Replicate file URL on the API origin (/v1/files/<id>), never to the origin it redirects to', async () => {
      replicate.serve('/v1/files/bounce01/download', redirect(`http://cdn.test:${cdn.port}/ok.png`));
      const [candidate] = await generate(`${replicate.origin}/v1/files/bounce01/download`, both);
      assert.equal(candidate?.kind, 'image');
      assert.equal(authOf(/^\/v1\/files\/bounce01\/download$/).at(-1), `Bearer ${replicate.token}`);
      assert.equal(cdn.hitsTo('/ok.png').length, 1);
      assert.equal(cdn.hitsTo('/ok.png')[0]?.headers['authorization'], undefined, 'the token stayed on the API origin');
    });

    it('does not go to another port of the API host, which is another origin', async () => {
      const [candidate] = await generate(`http://127.0.0.1:${cdn.port}/ok.png`, both);
      assert.equal(candidate?.kind, 'image');
      assert.equal(cdn.hitsTo('/ok.png')[0]?.headers['authorization'], undefined);
    });

    it('does not go to other paths of the API origin, which would answer with the account\'s data, nothing stored', async () => {
      // What the old rule (any URL on the API origin) sent the token to: the answer would have become a candidate.
      const before = storedFiles();
      for (const path of ['/v1/predictions', '/v1/account', '/v1/files/../predictions', '/v1/files/x%2F..%2F..%2Fpredictions', '/files/out-0.png']) {
        const err = await failure(generate(`${replicate.origin}${path}`, both));
        assert.match(err.message, /output of Replicate prediction \w+ could not be downloaded: .*answered HTTP (401|404)/, path);
      }
      for (const path of [/^\/v1\/predictions$/, /^\/v1\/account$/, /^\/v1\/files\/x%2F/, /^\/files\/out-0\.png$/]) {
        const sent = authOf(path);
        assert.ok(sent.length > 0, `the download of ${path} was tried`);
        assert.deepEqual(sent.filter((a) => a !== undefined), [], `no token to ${path}`);
      }
      assert.deepEqual(storedFiles(), before);
    });

    it('does not go to a redirect hop, though it leads to a file URL on the API origin', async () => {
      cdn.serve('/to-api', redirect(`${replicate.origin}/v1/files/steered1`));
      replicate.serve('/v1/files/steered1', (req, res) => {
        res.writeHead(req.headers['authorization'] ? 200 : 401, { 'Content-Type': 'image/png' });
        res.end(req.headers['authorization'] ? makePng(2, 2, [1, 2, 3]) : undefined);
      });
      const err = await failure(generate(`http://cdn.test:${cdn.port}/to-api`, both));
      assert.match(err.message, /answered HTTP 401/);
      assert.deepEqual(authOf(/^\/v1\/files\/steered1$/), [undefined]);
      assert.deepEqual(storedFiles(), []);
    });
  });
});
