/**
 * The safe downloader against real local servers (http and https with a private CA) and an injected
 * resolver, so names can map to any address without real DNS.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ErrorCode, isCodedError, type CodedError } from '../../../core/errors';
import { DownloadFailedError, DownloadRefusedError } from '../../../connectors/http/errors';
import { createSafeDownloader, type ResolvedAddress, type SafeDownloaderOptions } from '../../../connectors/http/safe-download';
import { createTestCa, type TestCa } from '../../helpers/test-ca';
import { endless, file, gzipBomb, lyingLength, redirect, startDownloadStandIn, trickle, type DownloadStandIn } from '../../standins/download-server';

async function rejection(promise: Promise<unknown>): Promise<CodedError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isCodedError(err), `expected a coded error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the download to fail');
}

/** A resolver from a fixed table, counting its calls. */
function resolver(table: Record<string, string[]>): { resolve: (host: string) => Promise<ResolvedAddress[]>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    resolve: async (host) => {
      calls.push(host);
      return (table[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  };
}

describe('connectors/http/safe-download', function () {
  this.timeout(30_000);
  let server: DownloadStandIn;
  const local = (options: SafeDownloaderOptions = {}) => createSafeDownloader({ allowHttpHosts: ['127.0.0.1', 'files.test'], allowHosts: ['127.0.0.1'], ...options });

  beforeEach(async () => {
    server = await startDownloadStandIn();
  });
  afterEach(async () => {
    await server.close();
  });

  describe('what it downloads', () => {
    it('should return the bytes, the Content-Type and the final URL', async () => {
      server.serve('/a.png', file('PNGBYTES', 'image/png'));
      const got = await local().download(`${server.origin}/a.png?sig=1`);
      assert.equal(Buffer.from(got.bytes).toString(), 'PNGBYTES');
      assert.equal(got.contentType, 'image/png');
      assert.equal(got.url, `${server.origin}/a.png?sig=1`);
      assert.equal(server.hitsTo('/a.png').length, 1);
    });

    it('should follow relative and absolute redirects up to the limit, re-checking each hop', async () => {
      server.serve('/one', redirect('/two', 301));
      server.serve('/two', redirect(`${server.origin}/three`, 307));
      server.serve('/three', file('done', 'text/plain'));
      const got = await local({ maxRedirects: 2 }).download(`${server.origin}/one`);
      assert.equal(Buffer.from(got.bytes).toString(), 'done');
      assert.equal(got.url, `${server.origin}/three`);

      const err = await rejection(local({ maxRedirects: 1 }).download(`${server.origin}/one`));
      assert.ok(err instanceof DownloadRefusedError);
      assert.equal(err.rule, 'redirect');
      assert.match(err.message, /more than 1 redirects/);
      assert.equal(server.hitsTo('/three').length, 1, 'the over-limit hop was never requested');
    });

    it('should decompress gzip bodies', async () => {
      const body = gzipSync(Buffer.from('hello gzip'));
      server.serve('/z', (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'Content-Length': String(body.byteLength) });
        res.end(body);
      });
      assert.equal(Buffer.from((await local().download(`${server.origin}/z`)).bytes).toString(), 'hello gzip');
    });

    it('should download https from a private CA, by IP or by a name pinned to its checked address', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'prefline-download-ca-'));
      let tls: DownloadStandIn | undefined;
      try {
        const ca: TestCa = createTestCa(dir);
        tls = await startDownloadStandIn({ tls: { key: ca.server.key, cert: ca.server.cert } });
        tls.serve('/secure.png', file('SECURE', 'image/png'));
        const viaIp = await createSafeDownloader({ allowHosts: ['127.0.0.1'], ca: ca.ca }).download(`https://127.0.0.1:${tls.port}/secure.png`);
        assert.equal(Buffer.from(viaIp.bytes).toString(), 'SECURE');
        // The certificate names localhost: the TLS check uses the URL's name while the socket goes to the checked address.
        const dns = resolver({ localhost: ['127.0.0.1'] });
        const viaName = await createSafeDownloader({ allowHosts: ['localhost'], ca: ca.ca, resolve: dns.resolve }).download(`https://localhost:${tls.port}/secure.png`);
        assert.equal(Buffer.from(viaName.bytes).toString(), 'SECURE');
        assert.deepEqual(dns.calls, ['localhost']);
        // Without the CA the system's trust store applies, and the private certificate is refused (retryable: a transport failure).
        const untrusted = await rejection(createSafeDownloader({ allowHosts: ['127.0.0.1'] }).download(`https://127.0.0.1:${tls.port}/secure.png`));
        assert.equal(untrusted.code, ErrorCode.DownloadFailed);
      } finally {
        await tls?.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('addresses', () => {
    it('should connect to the address it checked, not to what DNS answers next (no rebinding)', async () => {
      // Two servers on one port: the allowed one on 127.0.0.2, a canary on 127.0.0.1.
      const allowedServer = await startDownloadStandIn({ host: '127.0.0.2' });
      let canary: DownloadStandIn | undefined;
      try {
        canary = await startDownloadStandIn({ host: '127.0.0.1', port: allowedServer.port });
        allowedServer.serve('/f', file('from the checked address', 'text/plain'));
        canary.serve('/f', file('from the rebound address', 'text/plain'));
        let answers = 0;
        const calls: string[] = [];
        const rebinding = async (host: string): Promise<ResolvedAddress[]> => {
          calls.push(host);
          return [{ address: answers++ === 0 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
        };
        const got = await createSafeDownloader({ allowHttpHosts: ['rebind.test'], allowHosts: ['127.0.0.2'], resolve: rebinding }).download(`http://rebind.test:${allowedServer.port}/f`);
        assert.equal(Buffer.from(got.bytes).toString(), 'from the checked address');
        assert.deepEqual(calls, ['rebind.test'], 'resolved once, then pinned');
        assert.equal(canary.hits.length, 0);
        assert.equal(allowedServer.hitsTo('/f')[0]?.headers.host, `rebind.test:${allowedServer.port}`, 'the Host header keeps the name');
      } finally {
        await canary?.close();
        await allowedServer.close();
      }
    });

    it('should refuse when any one of the addresses a name resolves to is refused', async () => {
      const dns = resolver({ 'mixed.test': ['93.184.216.34', '127.0.0.1'] });
      const err = await rejection(createSafeDownloader({ allowHttpHosts: ['mixed.test'], resolve: dns.resolve }).download(`http://mixed.test:${server.port}/x`));
      assert.ok(err instanceof DownloadRefusedError);
      assert.equal(err.rule, 'address');
      assert.match(err.message, /mixed\.test resolves to 127\.0\.0\.1, in loopback 127\.0\.0\.0\/8; add it to PREFLINE_DOWNLOAD_ALLOW_HOSTS/);
      assert.equal(server.hits.length, 0);
    });

    it('should let an allowed name or network through, and only that', async () => {
      server.serve('/x', file('ok', 'text/plain'));
      const dns = resolver({ 'gpu.lan': ['127.0.0.1'], 'other.lan': ['127.0.0.1'] });
      const byName = createSafeDownloader({ allowHttpHosts: ['gpu.lan', 'other.lan'], allowHosts: ['gpu.lan'], resolve: dns.resolve });
      assert.equal(Buffer.from((await byName.download(`http://gpu.lan:${server.port}/x`)).bytes).toString(), 'ok');
      assert.equal((await rejection(byName.download(`http://other.lan:${server.port}/x`))).code, ErrorCode.DownloadRefused);
      const byRange = createSafeDownloader({ allowHttpHosts: ['other.lan'], allowHosts: ['127.0.0.0/30'], resolve: dns.resolve });
      assert.equal(Buffer.from((await byRange.download(`http://other.lan:${server.port}/x`)).bytes).toString(), 'ok');
      assert.equal(server.hitsTo('/x').length, 2);
    });

    it('should fail retryably when a name does not resolve or the connection is refused', async () => {
      const dns = resolver({});
      const unresolved = await rejection(createSafeDownloader({ resolve: dns.resolve }).download('https://nowhere.test/x'));
      assert.ok(unresolved instanceof DownloadFailedError);
      assert.equal(unresolved.retryable, true);
      assert.match(unresolved.message, /does not resolve/);
      const port = server.port;
      await server.close();
      const refusedConnection = await rejection(local().download(`http://127.0.0.1:${port}/x`));
      assert.ok(refusedConnection instanceof DownloadFailedError);
      assert.equal(refusedConnection.retryable, true);
      assert.match(refusedConnection.message, /ECONNREFUSED/);
      server = await startDownloadStandIn();
    });
  });

  describe('answers', () => {
    it('should fail non-retryably on a 4xx, retryably on a 5xx, 408 or 429, keeping the status', async () => {
      for (const [status, retryable] of [[404, false], [403, false], [500, true], [503, true], [408, true], [429, true]] as const) {
        server.serve(`/s${status}`, (_req, res) => res.writeHead(status).end());
        const err = await rejection(local().download(`${server.origin}/s${status}`));
        assert.ok(err instanceof DownloadFailedError, String(status));
        assert.equal(err.status, status);
        assert.equal(err.retryable, retryable, String(status));
        assert.match(err.message, new RegExp(`answered HTTP ${status}`));
      }
    });

    it('should refuse a redirect without a usable Location', async () => {
      server.serve('/nowhere', (_req, res) => res.writeHead(302).end());
      assert.match((await rejection(local().download(`${server.origin}/nowhere`))).message, /302 without a Location/);
      server.serve('/bad', redirect('http://[::1'));
      const err = await rejection(local().download(`${server.origin}/bad`));
      assert.ok(err instanceof DownloadRefusedError);
      assert.equal(err.rule, 'redirect');
    });
  });

  describe('size', () => {
    it('should refuse a Content-Length above the cap before reading the body', async () => {
      server.serve('/big', file(Buffer.alloc(2048), 'image/png'));
      const err = await rejection(local({ maxBytes: 1024 }).download(`${server.origin}/big`));
      assert.ok(err instanceof DownloadRefusedError);
      assert.equal(err.rule, 'size');
      assert.match(err.message, /Content-Length of 2048 bytes is larger than the download cap of 1024 bytes \(PREFLINE_DOWNLOAD_MAX_BYTES\)/);
    });

    it('should accept a body exactly at the cap', async () => {
      server.serve('/exact', file(Buffer.alloc(1024, 1), 'image/png'));
      assert.equal((await local({ maxBytes: 1024 }).download(`${server.origin}/exact`)).bytes.byteLength, 1024);
    });

    it('should abort an endless body without a length at the cap, and the server stops sending', async () => {
      server.serve('/endless', endless());
      const err = await rejection(local({ maxBytes: 256 * 1024 }).download(`${server.origin}/endless`));
      assert.ok(err instanceof DownloadRefusedError);
      assert.equal(err.rule, 'size');
      assert.match(err.message, /its body is larger than the download cap of 262144 bytes/);
      await new Promise((r) => setTimeout(r, 200));
      const sent = server.bytesWritten;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(server.bytesWritten, sent, 'the connection was closed: nothing more is being sent');
    });

    it('should read no further than a Content-Length that understates the body', async () => {
      server.serve('/liar', lyingLength(10, 5 * 1024 * 1024));
      const got = await local({ maxBytes: 1024 }).download(`${server.origin}/liar`);
      assert.equal(got.bytes.byteLength, 10);
    });

    it('should abort a decompression that grows past the cap (a gzip bomb)', async () => {
      server.serve('/bomb', gzipBomb(8 * 1024 * 1024));
      const err = await rejection(local({ maxBytes: 64 * 1024 }).download(`${server.origin}/bomb`));
      assert.ok(err instanceof DownloadRefusedError);
      assert.equal(err.rule, 'size');
      assert.match(err.message, /its decompressed body is larger than the download cap/);
    });
  });

  describe('time and cancellation', () => {
    it('should give up on a slow body at the deadline, retryably', async () => {
      server.serve('/slow', trickle(50));
      const started = Date.now();
      const err = await rejection(local({ timeoutMs: 400 }).download(`${server.origin}/slow`));
      assert.ok(err instanceof DownloadFailedError);
      assert.equal(err.retryable, true);
      assert.match(err.message, /timed out after 400 ms/);
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    });

    it("should stop at once when the caller's signal aborts, with the signal's reason", async () => {
      server.serve('/slow', trickle(50));
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('activity cancelled')), 150);
      const started = Date.now();
      await assert.rejects(local().download(`${server.origin}/slow`, { signal: controller.signal }), /activity cancelled/);
      assert.ok(Date.now() - started < 2000);
      await assert.rejects(local().download(`${server.origin}/slow`, { signal: AbortSignal.abort(new Error('already')) }), /already/);
      assert.equal(server.hitsTo('/slow').length, 1, 'an aborted signal sends nothing');
    });
  });

  describe('credentials', () => {
    it('should send credentials only to a matching path on their exact origin, and never to a redirect hop, same origin included', async () => {
      const other = await startDownloadStandIn();
      try {
        other.serve('/cdn.png', file('CDN', 'image/png'));
        server.serve('/v1/files/abc', redirect('/v1/files/def'));
        server.serve('/v1/files/def', redirect(`${other.origin}/cdn.png`));
        server.serve('/v1/account', file('{"username":"owner"}', 'text/plain'));
        const credentials = { origin: `${server.origin}/v1`, path: /^\/v1\/files\/[a-z]+$/, headers: { Authorization: 'Bearer r8_secret' } };
        const got = await local().download(`${server.origin}/v1/files/abc`, { credentials });
        assert.equal(Buffer.from(got.bytes).toString(), 'CDN');
        assert.equal(server.hitsTo('/v1/files/abc')[0]?.headers.authorization, 'Bearer r8_secret');
        assert.equal(server.hitsTo('/v1/files/def')[0]?.headers.authorization, undefined, 'a redirect hop, though on the origin and a matching path');
        assert.equal(other.hitsTo('/cdn.png')[0]?.headers.authorization, undefined, 'another port is another origin');
        await local().download(`${other.origin}/cdn.png`, { credentials });
        assert.equal(other.hitsTo('/cdn.png')[1]?.headers.authorization, undefined);
        // Another path of the origin, also one that a dot segment turns into another path.
        await local().download(`${server.origin}/v1/account`, { credentials });
        await local().download(`${server.origin}/v1/files/../account`, { credentials });
        assert.deepEqual(server.hitsTo('/v1/account').map((h) => h.headers.authorization), [undefined, undefined]);
      } finally {
        await other.close();
      }
    });
  });

  describe('data: URLs', () => {
    it('should decode base64 and percent-encoded data without any request', async () => {
      const png = await local().download(`data:image/png;base64,${Buffer.from('PNG!').toString('base64')}`);
      assert.deepEqual([Buffer.from(png.bytes).toString(), png.contentType], ['PNG!', 'image/png']);
      const text = await local().download('data:text/plain;charset=utf-8,caf%C3%A9 au lait');
      assert.deepEqual([Buffer.from(text.bytes).toString(), text.contentType], ['café au lait', 'text/plain;charset=utf-8']);
      const bare = await local().download('data:,plain');
      assert.equal(bare.contentType, 'text/plain;charset=US-ASCII');
      assert.equal(server.hits.length, 0);
    });

    it('should refuse data: URLs that are too large, of another type, or malformed', async () => {
      const cases: Array<[string, string, RegExp]> = [
        [`data:image/png;base64,${'A'.repeat(4000)}`, 'size', /about 3000 bytes: larger than the download cap of 1024 bytes/],
        [`data:text/plain,${'x'.repeat(1025)}`, 'size', /larger than the download cap/],
        ['data:application/x-sh;base64,IyEvYmluL3No', 'data-url', /type "application\/x-sh": only image\/\* and text\/\*/],
        ['data:application/json,{}', 'data-url', /only image\/\* and text\/\*/],
        ['data:image/png;base64,@@@@', 'data-url', /base64 data is malformed/],
        ['data:image/png;base64', 'data-url', /no ","/],
      ];
      for (const [url, rule, message] of cases) {
        const err = await rejection(local({ maxBytes: 1024 }).download(url));
        assert.ok(err instanceof DownloadRefusedError, url);
        assert.equal(err.rule, rule, url.slice(0, 40));
        assert.equal(err.retryable, false);
        assert.match(err.message, message);
      }
    });
  });

  describe('configuration', () => {
    it('should refuse a malformed host rule when built, naming the setting', () => {
      assert.throws(() => createSafeDownloader({ allowHosts: ['10.0.0.0/99'] }), /PREFLINE_DOWNLOAD_ALLOW_HOSTS: "10\.0\.0\.0\/99" is not a host name/);
      assert.throws(() => createSafeDownloader({ allowHttpHosts: ['http://x'] }), /PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS/);
    });
  });
});
