import assert from 'node:assert/strict';
import http from 'node:http';
import { createGatewayServer, listen, type GatewayLogLevel } from '../../gateway/http-server';
import { VoteRejectedError, type VoteRejectionCode } from '../../core/lifecycle-directory';
import { pseudonymiseRater } from '../../core/pseudonym';
import { issueSession, verifySession } from '../../gateway/session';
import { FakeDirectory, MemoryArtifacts, discPng, votingLifecycle } from '../helpers/fake-directory';

const RATER_KEY = Buffer.from('rater-key-for-tests-0123456789');
const SESSION_KEY = Buffer.from('session-key-for-tests-0123456789');
const TTL = 3600_000;
const T0 = Date.parse('2025-06-01T12:00:00.000Z');

interface Harness {
  url: string;
  server: http.Server;
  directory: FakeDirectory;
  artifacts: MemoryArtifacts;
  logs: Array<{ level: GatewayLogLevel; msg: string; fields?: Record<string, unknown> }>;
  clock: { now: number };
  png: { sha256: string; mime: string; size: number };
}

async function start(opts: { accessCode?: string; publicUrl?: string } = {}): Promise<Harness> {
  const directory = new FakeDirectory();
  const artifacts = new MemoryArtifacts();
  const png = artifacts.put(discPng([200, 40, 40]), 'image/png');
  directory.add(votingLifecycle('lc-1', 'a red circle', [{ kind: 'image', artifact: png }, { kind: 'text', text: 'hello' }]));
  directory.add(votingLifecycle('lc/2 ü', 'odd id', [{ kind: 'text', text: 'x' }]));
  directory.add(votingLifecycle('lc-gen', 'still generating', [{ kind: 'text', text: 'y' }], { phase: 'generating' }));
  const logs: Harness['logs'] = [];
  const clock = { now: T0 };
  const server = createGatewayServer({
    directory,
    artifacts,
    raterKey: RATER_KEY,
    sessionKey: SESSION_KEY,
    sessionTtlMs: TTL,
    now: () => clock.now,
    log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }),
    ...opts,
  });
  const { url } = await listen(server, '127.0.0.1', 0);
  return { url, server, directory, artifacts, logs, clock, png };
}

const JSON_HEADERS = { 'Content-Type': 'application/json', 'X-Prefline-Request': '1' };

/** A raw request (no client-side URL normalisation, any header, chunked bodies). */
function raw(url: string, method: string, path: string, headers: Record<string, string> = {}, chunks: Buffer[] = []): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, headers, path }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('gateway/http-server', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    h.server.closeAllConnections();
    await new Promise((r) => h.server.close(r));
  });

  async function signIn(name = 'Alice'): Promise<{ token: string; rater: string }> {
    const res = await fetch(`${h.url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name }) });
    assert.equal(res.status, 201);
    return (await res.json()) as { token: string; rater: string };
  }

  function vote(token: string, body: unknown, headers: Record<string, string> = {}, lifecycleId = 'lc-1'): Promise<Response> {
    return fetch(`${h.url}/api/lifecycles/${encodeURIComponent(lifecycleId)}/votes`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  const upA = (key = 'key-0000001') => ({ candidateId: 'c1', value: 'up', idempotencyKey: key });

  async function expectError(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.code, code);
    assert.equal(typeof body.error, 'string');
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    return body;
  }

  describe('static files and health', () => {
    for (const [path, type, marker] of [
      ['/', 'text/html', '<!doctype html>'],
      ['/index.html', 'text/html', '/app.js'],
      ['/app.js', 'text/javascript', "'use strict'"],
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
      const total = await Promise.all(['/', '/app.js', '/style.css'].map(async (p) => (await (await fetch(`${h.url}${p}`)).arrayBuffer()).byteLength));
      assert.ok(total.reduce((a, b) => a + b) < 30 * 1024, `page weighs ${total} bytes`);
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
        gated.server.closeAllConnections();
        await new Promise((r) => gated.server.close(r));
      }
    });
  });

  describe('reading lifecycles', () => {
    it('GET /api/lifecycles lists open ones, asking for at most 50', async () => {
      const res = await fetch(`${h.url}/api/lifecycles`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as { lifecycles: Array<{ lifecycleId: string }> };
      assert.deepEqual(body.lifecycles.map((l) => l.lifecycleId), ['lc/2 ü', 'lc-1']);
      assert.deepEqual(h.directory.listLimits, [50]);
    });

    it('GET /api/lifecycles/:id answers the status, or 404', async () => {
      let res = await fetch(`${h.url}/api/lifecycles/lc-1`);
      assert.equal(res.status, 200);
      const status = (await res.json()) as { lifecycleId: string; candidates: unknown[] };
      assert.equal(status.lifecycleId, 'lc-1');
      assert.equal(status.candidates.length, 2);
      res = await fetch(`${h.url}/api/lifecycles/${encodeURIComponent('lc/2 ü')}`);
      assert.equal(res.status, 200);
      await expectError(await fetch(`${h.url}/api/lifecycles/nope`), 404, 'unknown_lifecycle');
      await expectError(await fetch(`${h.url}/api/lifecycles/%E0%A4%A`), 404, 'not_found');
    });

    it('directory failures are 502 without internals', async () => {
      h.directory.failNext = new Error('connect ECONNREFUSED 10.0.0.7:7233 secret-internal-detail');
      const res = await fetch(`${h.url}/api/lifecycles`);
      const body = await expectError(res, 502, 'upstream_error');
      assert.doesNotMatch(JSON.stringify(body), /ECONNREFUSED|secret/);
      assert.ok(h.logs.some((l) => l.level === 'error' && String(l.fields?.error).includes('ECONNREFUSED')));
    });
  });

  describe('POST /api/lifecycles/:id/votes', () => {
    it('forwards a VoteRequest namespaced by rater and answers the receipt', async () => {
      const { token, rater } = await signIn();
      h.clock.now = T0 + 5000;
      const res = await vote(token, { ...upA('browser-key-1'), comment: '  nice shape  ' });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { outcome: 'recorded', candidate: { candidateId: 'c1', label: 'A', up: 1, down: 0, score: 1, votes: 1 } });
      assert.deepEqual(h.directory.received, [
        {
          lifecycleId: 'lc-1',
          vote: { idempotencyKey: `web:${rater}:browser-key-1`, candidateId: 'c1', value: 'up', rater, channel: 'web', castAt: new Date(T0 + 5000).toISOString(), comment: 'nice shape' },
        },
      ]);
      // A blank comment is left out entirely.
      await vote(token, { candidateId: 'c2', value: 'down', idempotencyKey: 'browser-key-2', comment: '   ' });
      assert.equal('comment' in h.directory.received[1]!.vote, false);
    });

    it('reports changed, retracted, unchanged and duplicate outcomes', async () => {
      const { token } = await signIn();
      const outcome = async (body: unknown) => ((await (await vote(token, body)).json()) as { outcome: string }).outcome;
      assert.equal(await outcome(upA('k-00000001')), 'recorded');
      h.clock.now += 1000;
      assert.equal(await outcome({ ...upA('k-00000002'), value: 'down' }), 'changed');
      h.clock.now += 1000;
      assert.equal(await outcome({ ...upA('k-00000003'), value: 'down' }), 'unchanged');
      h.clock.now += 1000;
      assert.equal(await outcome({ ...upA('k-00000004'), value: 'retract' }), 'retracted');
      assert.equal(await outcome({ ...upA('k-00000004'), value: 'retract' }), 'duplicate');
    });

    it('namespaces idempotency keys: the same key from two raters is two votes, from one rater one', async () => {
      const alice = await signIn('Alice');
      const bob = await signIn('Bob');
      const r1 = (await (await vote(alice.token, upA('shared-key'))).json()) as { outcome: string; candidate: { up: number } };
      const r2 = (await (await vote(bob.token, upA('shared-key'))).json()) as { outcome: string; candidate: { up: number } };
      assert.equal(r1.outcome, 'recorded');
      assert.equal(r2.outcome, 'recorded'); // Bob cannot collide with (or suppress) Alice's vote
      assert.equal(r2.candidate.up, 2);
      const r3 = (await (await vote(alice.token, upA('shared-key'))).json()) as { outcome: string };
      assert.equal(r3.outcome, 'duplicate'); // a browser retry counts once
      assert.deepEqual(
        h.directory.received.map((r) => r.vote.idempotencyKey),
        [`web:${alice.rater}:shared-key`, `web:${bob.rater}:shared-key`, `web:${alice.rater}:shared-key`],
      );
    });

    it('never forwards or logs raw names', async () => {
      const alice = await signIn('Alice Wonderland');
      await vote(alice.token, { ...upA('key-names-1'), comment: 'ok' });
      h.directory.failNext = new Error('boom');
      await vote(alice.token, upA('key-names-2'));
      const seen = JSON.stringify({ received: h.directory.received, logs: h.logs });
      assert.doesNotMatch(seen, /alice|wonderland/i);
      assert.ok(seen.includes(alice.rater));
    });

    it('refuses requests without X-Prefline-Request or from a foreign Origin (403)', async () => {
      const { token } = await signIn();
      await expectError(await vote(token, upA(), { 'X-Prefline-Request': '' }), 403, 'forbidden_origin');
      await expectError(await vote(token, upA(), { 'X-Prefline-Request': 'yes' }), 403, 'forbidden_origin');
      await expectError(await vote(token, upA(), { Origin: 'https://evil.example' }), 403, 'forbidden_origin');
      await expectError(await vote(token, upA(), { Origin: 'null' }), 403, 'forbidden_origin');
      const port = new URL(h.url).port;
      await expectError(await vote(token, upA(), { Origin: `http://127.0.0.1:${Number(port) + 1}` }), 403, 'forbidden_origin');
      assert.equal(h.directory.received.length, 0);
      // Our own origin (as the browser sends it) passes.
      assert.equal((await vote(token, upA(), { Origin: h.url })).status, 200);
      // Without Origin (non-browser clients) the custom header is still required.
      const res = await raw(h.url, 'POST', '/api/lifecycles/lc-1/votes', { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, [Buffer.from(JSON.stringify(upA('key-raw-01')))]);
      assert.equal(res.status, 403);
    });

    it('also accepts the origin of the configured public URL (reverse proxy)', async () => {
      const proxied = await start({ publicUrl: 'https://rate.example.org/' });
      try {
        const res = await fetch(`${proxied.url}/api/session`, { method: 'POST', headers: { ...JSON_HEADERS, Origin: 'https://rate.example.org' }, body: JSON.stringify({ name: 'Alice' }) });
        assert.equal(res.status, 201);
        const other = await fetch(`${proxied.url}/api/session`, { method: 'POST', headers: { ...JSON_HEADERS, Origin: 'https://rate.example.org.evil.example' }, body: JSON.stringify({ name: 'Alice' }) });
        assert.equal(other.status, 403);
      } finally {
        proxied.server.closeAllConnections();
        await new Promise((r) => proxied.server.close(r));
      }
    });

    it('refuses a wrong content type (415)', async () => {
      const { token } = await signIn();
      await expectError(await vote(token, JSON.stringify(upA()), { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
      await expectError(await vote(token, JSON.stringify(upA()), { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
      assert.equal((await vote(token, upA(), { 'Content-Type': 'Application/JSON; charset=utf-8' })).status, 200);
    });

    it('refuses a body over 16 KB (413), declared or streamed', async () => {
      const { token } = await signIn();
      const big = { ...upA(), comment: 'x'.repeat(16 * 1024) };
      await expectError(await vote(token, big), 413, 'body_too_large');
      // Chunked, no Content-Length: cut off while streaming.
      const headers = { ...JSON_HEADERS, Authorization: `Bearer ${token}`, 'Transfer-Encoding': 'chunked' };
      const res = await raw(h.url, 'POST', '/api/lifecycles/lc-1/votes', headers, [Buffer.from('{"comment":"'), Buffer.alloc(17 * 1024, 'x'), Buffer.from('"}')]);
      assert.equal(res.status, 413);
      assert.equal(JSON.parse(res.body).code, 'body_too_large');
      assert.equal(h.directory.received.length, 0);
    });

    it('refuses invalid JSON (400)', async () => {
      const { token } = await signIn();
      await expectError(await vote(token, '{"candidateId":'), 400, 'invalid_json');
      await expectError(await vote(token, 'null'), 400, 'invalid_json');
    });

    it('refuses a missing, bad, foreign-key or expired session token (401)', async () => {
      const { token } = await signIn();
      const noAuth = await fetch(`${h.url}/api/lifecycles/lc-1/votes`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(upA()) });
      await expectError(noAuth, 401, 'session_invalid');
      assert.equal(noAuth.headers.get('www-authenticate'), 'Bearer');
      await expectError(await vote(token.slice(0, -2) + (token.endsWith('AA') ? 'BA' : 'AA'), upA()), 401, 'session_invalid');
      await expectError(await vote('garbage', upA()), 401, 'session_invalid');
      const [body, sig] = token.split('.');
      const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), r: 'r_ffffffffffffffffffffffff' })).toString('base64url');
      await expectError(await vote(`${tampered}.${sig}`, upA()), 401, 'session_invalid');
      const foreign = issueSession(Buffer.from('not-the-session-key-0123'), { rater: 'r_ffffffffffffffffffffffff', displayName: 'x' }, TTL, T0);
      await expectError(await vote(foreign, upA()), 401, 'session_invalid');
      h.clock.now = T0 + TTL;
      const expired = await expectError(await vote(token, upA()), 401, 'session_expired');
      assert.equal(expired.error, 'session expired — enter your name again');
      assert.equal(h.directory.received.length, 0);
    });

    it('refuses a bad idempotency key (400)', async () => {
      const { token } = await signIn();
      for (const key of [undefined, 42, 'short', 'x'.repeat(129), 'has space!', 'web:r_1:x', 'ключ-ключ-ключ']) {
        await expectError(await vote(token, { ...upA(), idempotencyKey: key }), 400, 'invalid_idempotency_key');
      }
      assert.equal((await vote(token, upA('x'.repeat(128)))).status, 200);
      assert.equal((await vote(token, upA('Ab_-0123'))).status, 200);
    });

    it('refuses a malformed vote before forwarding it (400)', async () => {
      const { token } = await signIn();
      await expectError(await vote(token, { ...upA(), value: 'sideways' }), 400, 'malformed_vote');
      await expectError(await vote(token, { ...upA(), candidateId: '' }), 400, 'malformed_vote');
      await expectError(await vote(token, { ...upA(), comment: 'x'.repeat(2001) }), 400, 'malformed_vote');
      await expectError(await vote(token, { ...upA(), comment: { html: true } }), 400, 'malformed_vote');
      assert.equal(h.directory.received.length, 0);
    });

    it('maps every rejection of the lifecycle to an HTTP answer', async () => {
      const { token } = await signIn();
      const cases: Array<[VoteRejectionCode, number, string?]> = [
        ['voting_closed', 409, 'voting closed'],
        ['voting_not_open', 409],
        ['unknown_candidate', 404],
        ['unknown_lifecycle', 404],
        ['malformed_vote', 400],
        ['busy', 503],
      ];
      for (const [code, status, error] of cases) {
        h.directory.failNext = new VoteRejectedError(code, `refused: ${code}`);
        const res = await vote(token, upA(`key-${code}`.replace(/[^A-Za-z0-9_-]/g, '')));
        const body = await expectError(res, status, code);
        if (error) assert.equal(body.error, error);
        assert.equal(res.headers.get('retry-after'), code === 'busy' ? '1' : null);
      }
    });

    it('maps real refusals of the (fake) lifecycle', async () => {
      const { token } = await signIn();
      await expectError(await vote(token, { ...upA(), candidateId: 'c9' }), 404, 'unknown_candidate');
      await expectError(await vote(token, upA(), {}, 'no-such-lifecycle'), 404, 'unknown_lifecycle');
      await expectError(await vote(token, upA(), {}, 'lc-gen'), 409, 'voting_not_open');
      h.directory.close('lc-1');
      const closed = await expectError(await vote(token, upA()), 409, 'voting_closed');
      assert.equal(closed.error, 'voting closed');
    });

    it('answers 502 for any other failure, logs it and leaks nothing', async () => {
      const { token } = await signIn();
      h.directory.failNext = new Error('workflow task failed at /srv/prefline/internal.ts:42');
      const body = await expectError(await vote(token, upA()), 502, 'upstream_error');
      assert.equal(body.error, 'could not reach the lifecycle, try again');
      assert.doesNotMatch(JSON.stringify(body), /srv|internal/);
      assert.ok(h.logs.some((l) => l.level === 'error' && String(l.fields?.error).includes('/srv/prefline')));
    });
  });

  describe('GET|HEAD /artifacts/:sha256', () => {
    it('serves the bytes, immutable, with the digest as ETag and 304 on If-None-Match', async () => {
      const res = await fetch(`${h.url}/artifacts/${h.png.sha256}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal(res.headers.get('etag'), `"${h.png.sha256}"`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(Buffer.from(await res.arrayBuffer()).compare(discPng([200, 40, 40])), 0);
      const again = await fetch(`${h.url}/artifacts/${h.png.sha256}`, { headers: { 'If-None-Match': `W/"${h.png.sha256}"` } });
      assert.equal(again.status, 304);
      assert.equal(again.headers.get('etag'), `"${h.png.sha256}"`);
      const head = await raw(h.url, 'HEAD', `/artifacts/${h.png.sha256}`);
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal(Number(head.headers['content-length']), h.png.size);
    });

    it('404s unknown digests, non-digests and path traversal, never asking the store for them', async () => {
      await expectError(await fetch(`${h.url}/artifacts/${'0'.repeat(64)}`), 404, 'not_found');
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
