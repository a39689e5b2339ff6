import assert from 'node:assert/strict';
import { pseudonymiseRater } from '../../core/pseudonym';
import { signedArtifactUrl } from '../../gateway/artifact-urls';
import { verifySession } from '../../gateway/session';
import type { HealthReport } from '../../ops/ops-server';
import { discPng } from '../helpers/fake-directory';
import {
  JSON_HEADERS, RATER_KEY, SESSION_KEY, T0, TTL, expectError, pageClient, raw, startTestGateway as start, stopTestGateway, type GatewayHarness,
} from '../helpers/gateway';

describe('gateway/http-server', () => {
  let h: GatewayHarness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await stopTestGateway(h);
  });
  const { signIn } = pageClient(() => h);

  describe('static files and health', () => {
    for (const [path, type, marker] of [
      ['/', 'text/html', '<!doctype html>'],
      ['/index.html', 'text/html', '/app.js'],
      ['/app.js', 'text/javascript', "'use strict'"],
      ['/thumbs.js', 'text/javascript', 'window.PreflineThumbs'],
      ['/prompt-box.js', 'text/javascript', 'window.PreflinePromptBox'],
      ['/style.css', 'text/css', ':root'],
    ] as const) {
      it(`GET ${path}`, async () => {
        const res = await fetch(`${h.url}${path}`);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), `${type}; charset=utf-8`);
        assert.equal(res.headers.get('cache-control'), 'no-cache');
        assert.equal(res.headers.get('content-security-policy'), "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'");
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
        assert.equal(res.headers.get('x-frame-options'), 'DENY');
        assert.ok((await res.text()).includes(marker));
        // Revalidation is cheap.
        const again = await fetch(`${h.url}${path}`, { headers: { 'If-None-Match': res.headers.get('etag')! } });
        assert.equal(again.status, 304);
      });
    }

    it('the page needs no inline script or style (the CSP forbids them)', async () => {
      const html = await (await fetch(`${h.url}/`)).text();
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i);
      assert.doesNotMatch(html, /\sstyle=|<style|\son[a-z]+=/i);
      // No framework: the page and every script and style it loads stay small, unminified (compare, campaign, gold and
      // prompt-box views included; the budget was 30 KiB for the page before them, counting only app.js and style.css).
      const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]!);
      assert.deepEqual(scripts.sort(), ['/app.js', '/compare.js', '/prompt-box.js', '/thumbs.js']);
      const total = await Promise.all(['/', ...scripts, '/style.css'].map(async (p) => (await (await fetch(`${h.url}${p}`)).arrayBuffer()).byteLength));
      assert.ok(total.reduce((a, b) => a + b) < 56 * 1024, `page weighs ${total} bytes`);
    });

    it('HEAD / answers headers only', async () => {
      const res = await raw(h.url, 'HEAD', '/');
      assert.equal(res.status, 200);
      assert.equal(res.body, '');
      assert.ok(Number(res.headers['content-length']) > 0);
    });

    it('GET /healthz', async () => {
      const res = await fetch(`${h.url}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true });
    });

    it('answers /healthz with the health report and /livez regardless, on any Host (probes by address)', async () => {
      await stopTestGateway(h);
      let report: HealthReport = { ok: false, temporal: 'unreachable', error: 'down' };
      h = await start({ publicUrl: 'https://rate.example.org', health: async () => report });
      const foreign = { Host: 'rebind.evil.example' };
      let res = await raw(h.url, 'GET', '/healthz', foreign);
      assert.deepEqual([res.status, JSON.parse(res.body)], [503, report]);
      res = await raw(h.url, 'GET', '/livez', foreign);
      assert.deepEqual([res.status, JSON.parse(res.body)], [200, { ok: true }]);
      report = { ok: true, temporal: 'ok' };
      res = await raw(h.url, 'GET', '/healthz', foreign);
      assert.deepEqual([res.status, JSON.parse(res.body)], [200, { ok: true, temporal: 'ok' }]);
      res = await raw(h.url, 'POST', '/livez', foreign);
      assert.equal(res.status, 405);
      assert.equal(res.headers.allow, 'GET, HEAD');
      // Any other path on that Host is refused (DNS rebinding).
      res = await raw(h.url, 'GET', '/', foreign);
      assert.equal(res.status, 421);
    });

    it('unknown routes are 404 JSON; wrong methods 405 with Allow', async () => {
      await expectError(await fetch(`${h.url}/nope`), 404, 'not_found');
      await expectError(await fetch(`${h.url}/api/lifecycles/x/y/z`), 404, 'not_found');
      let res = await fetch(`${h.url}/api/session`);
      await expectError(res, 405, 'method_not_allowed');
      assert.equal(res.headers.get('allow'), 'POST');
      res = await fetch(`${h.url}/api/lifecycles`, { method: 'DELETE' });
      await expectError(res, 405, 'method_not_allowed');
      assert.equal(res.headers.get('allow'), 'GET');
      res = await fetch(`${h.url}/`, { method: 'POST', body: 'x' });
      await expectError(res, 405, 'method_not_allowed');
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
      // No CORS preflight is ever granted.
      res = await fetch(`${h.url}/api/lifecycles/lc-1/votes`, { method: 'OPTIONS' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    });
  });

  describe('POST /api/session', () => {
    it('issues a token for a pseudonym; names differing in case and spaces are one rater', async () => {
      const res = await fetch(`${h.url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name: '  Alice ' }) });
      assert.equal(res.status, 201);
      const body = (await res.json()) as { token: string; rater: string; name: string; expiresAt: string };
      assert.equal(body.rater, pseudonymiseRater(RATER_KEY, 'web', 'alice'));
      assert.equal(body.name, 'Alice');
      assert.equal(body.expiresAt, new Date(T0 + TTL).toISOString());
      const check = verifySession(SESSION_KEY, body.token, T0);
      assert.ok(check.ok);
      assert.equal(check.session.rater, body.rater);
      assert.equal((await signIn('ALICE')).rater, body.rater);
      assert.notEqual((await signIn('Bob')).rater, body.rater);
    });

    it('wants a name of 1–80 characters', async () => {
      const post = (body: unknown) => fetch(`${h.url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
      for (const body of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(81) }, { name: 42 }, { name: 'a\u0000b' }]) {
        await expectError(await post(body), 400, 'invalid_name');
      }
      assert.equal((await post({ name: 'x'.repeat(80) })).status, 201);
      assert.equal((await post({ name: '😀'.repeat(80) })).status, 201); // characters, not UTF-16 units
    });

    it('refuses forged or non-JSON requests like the vote route', async () => {
      const body = JSON.stringify({ name: 'Alice' });
      await expectError(await fetch(`${h.url}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }), 403, 'forbidden_origin');
      await expectError(await fetch(`${h.url}/api/session`, { method: 'POST', headers: { ...JSON_HEADERS, Origin: 'https://evil.example' }, body }), 403, 'forbidden_origin');
      await expectError(await fetch(`${h.url}/api/session`, { method: 'POST', headers: { 'X-Prefline-Request': '1', 'Content-Type': 'text/plain' }, body }), 415, 'unsupported_media_type');
      await expectError(await fetch(`${h.url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: '{"name":' }), 400, 'invalid_json');
      await expectError(await fetch(`${h.url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: '["Alice"]' }), 400, 'invalid_json');
    });

    it('requires the access code when one is configured', async () => {
      const gated = await start({ accessCode: 'open sesame' });
      try {
        const post = (body: unknown) => fetch(`${gated.url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
        const denied = await expectError(await post({ name: 'Alice' }), 403, 'access_denied');
        assert.equal(denied.error, 'access code required');
        await expectError(await post({ name: 'Alice', accessCode: 'open sesam' }), 403, 'access_denied');
        await expectError(await post({ name: 'Alice', accessCode: 42 }), 403, 'access_denied');
        assert.equal((await post({ name: 'Alice', accessCode: 'open sesame' })).status, 201);
      } finally {
        await stopTestGateway(gated);
      }
    });

    it('also accepts the origin of the configured public URL (reverse proxy)', async () => {
      const proxied = await start({ publicUrl: 'https://rate.example.org/' });
      try {
        const res = await fetch(`${proxied.url}/api/session`, { method: 'POST', headers: { ...JSON_HEADERS, Origin: 'https://rate.example.org' }, body: JSON.stringify({ name: 'Alice' }) });
        assert.equal(res.status, 201);
        const other = await fetch(`${proxied.url}/api/session`, { method: 'POST', headers: { ...JSON_HEADERS, Origin: 'https://rate.example.org.evil.example' }, body: JSON.stringify({ name: 'Alice' }) });
        assert.equal(other.status, 403);
      } finally {
        await stopTestGateway(proxied);
      }
    });
  });

  describe('GET|HEAD /artifacts/:sha256', () => {
    /** The signed URL the status answers carry. */
    const signedUrl = (sha256: string) => signedArtifactUrl(SESSION_KEY, sha256, h.clock.now);

    it('serves the bytes, immutable, with the digest as ETag and 304 on If-None-Match', async () => {
      const res = await fetch(`${h.url}${signedUrl(h.png.sha256)}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('etag'), `"${h.png.sha256}"`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(Buffer.from(await res.arrayBuffer()).compare(discPng([200, 40, 40])), 0);
      const again = await fetch(`${h.url}${signedUrl(h.png.sha256)}`, { headers: { 'If-None-Match': `W/"${h.png.sha256}"` } });
      assert.equal(again.status, 304);
      assert.equal(again.headers.get('etag'), `"${h.png.sha256}"`);
      const head = await raw(h.url, 'HEAD', signedUrl(h.png.sha256));
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal(Number(head.headers['content-length']), h.png.size);
    });

    it('serves a signed-in rater by session too', async () => {
      const { token } = await signIn();
      const res = await fetch(`${h.url}/artifacts/${h.png.sha256}`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200);
      // Never for a shared cache, which would serve it to anyone asking for the bare path.
      assert.equal(res.headers.get('cache-control'), 'private, max-age=31536000, immutable');
    });

    it('404s unknown digests, non-digests and path traversal, never asking the store for them', async () => {
      await expectError(await fetch(`${h.url}${signedUrl('0'.repeat(64))}`), 404, 'not_found');
      assert.deepEqual(h.artifacts.opened, ['0'.repeat(64)]);
      for (const path of [
        `/artifacts/${h.png.sha256.toUpperCase()}`,
        `/artifacts/${h.png.sha256}0`,
        `/artifacts/${h.png.sha256.slice(1)}`,
        '/artifacts/../../package.json',
        '/artifacts/..%2F..%2Fpackage.json',
        '/artifacts/%2e%2e%2f%2e%2e%2fpackage.json',
        '/artifacts/..%5c..%5cpackage.json',
        `/artifacts/${h.png.sha256}%00.png`,
        `/artifacts/${h.png.sha256}/`,
        '/artifacts/',
      ]) {
        const res = await raw(h.url, 'GET', path);
        assert.equal(res.status, 404, path);
        assert.equal(JSON.parse(res.body).code, 'not_found', path);
      }
      assert.deepEqual(h.artifacts.opened, ['0'.repeat(64)]);
    });

    it('answers 405 to writes', async () => {
      const res = await fetch(`${h.url}/artifacts/${h.png.sha256}`, { method: 'PUT', body: 'x' });
      assert.equal(res.status, 405);
      assert.equal(res.headers.get('allow'), 'GET, HEAD');
    });
  });
});
