/**
 * The web channel's vote API, through the gateway host that mounts it (sessions issued by the host),
 * over real HTTP against the fake directory.
 */
import assert from 'node:assert/strict';
import { VoteRejectedError, type VoteRejectionCode } from '../../../core/lifecycle-directory';
import { issueSession } from '../../../gateway/session';
import {
  JSON_HEADERS, T0, TTL, expectError, pageClient, raw, startTestGateway as start, stopTestGateway, type GatewayHarness,
} from '../../helpers/gateway';

describe('channels/web/routes (the vote API)', () => {
  let h: GatewayHarness;
  beforeEach(async () => {
    h = await start();
  });
  afterEach(async () => {
    await stopTestGateway(h);
  });
  const { signIn, vote, upA, get } = pageClient(() => h);

  describe('reading lifecycles', () => {
    it('GET /api/lifecycles lists open ones, asking for at most 50', async () => {
      const { token } = await signIn();
      const res = await get('/api/lifecycles', token);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const body = (await res.json()) as { lifecycles: Array<{ lifecycleId: string }> };
      assert.deepEqual(body.lifecycles.map((l) => l.lifecycleId), ['lc/2 ü', 'lc-1']);
      assert.deepEqual(h.directory.listLimits, [50]);
    });

    it('GET /api/lifecycles/:id answers the status, or 404', async () => {
      const { token } = await signIn();
      let res = await get('/api/lifecycles/lc-1', token);
      assert.equal(res.status, 200);
      const status = (await res.json()) as { lifecycleId: string; candidates: unknown[] };
      assert.equal(status.lifecycleId, 'lc-1');
      assert.equal(status.candidates.length, 2);
      res = await get(`/api/lifecycles/${encodeURIComponent('lc/2 ü')}`, token);
      assert.equal(res.status, 200);
      await expectError(await get('/api/lifecycles/nope', token), 404, 'unknown_lifecycle');
      await expectError(await get('/api/lifecycles/%E0%A4%A', token), 404, 'not_found');
    });

    it('shows candidates with signed artifact URLs and without channel posts', async () => {
      const { token } = await signIn();
      const status = (await (await get('/api/lifecycles/lc-1', token)).json()) as { posts?: unknown; candidates: Array<{ artifact: { sha256: string; url: string } }> };
      assert.equal('posts' in status, false);
      const image = status.candidates[0]!.artifact;
      assert.match(image.url, new RegExp(`^/artifacts/${image.sha256}\\?exp=\\d+&sig=[A-Za-z0-9_-]{22}$`));
      // The URL is the permission: no session needed to load it (an <img> cannot send one).
      const res = await fetch(`${h.url}${image.url}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
    });

    it('directory failures are 502 without internals', async () => {
      const { token } = await signIn();
      h.directory.failNext = new Error('connect ECONNREFUSED 10.0.0.7:7233 secret-internal-detail');
      const res = await get('/api/lifecycles', token);
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
          vote: { idempotencyKey: `web:${rater}:browser-key-1`, candidateId: 'c1', value: 'up', rater, channel: 'web', castAt: new Date(T0 + 5000).toISOString(), raterAuth: 'open', comment: 'nice shape' },
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
      const foreign = issueSession(Buffer.from('not-the-session-key-0123'), { rater: 'r_ffffffffffffffffffffffff', displayName: 'x', auth: 'open' }, TTL, T0);
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

    it('refuses a comment with control or bidi-override characters (400 invalid_comment) before forwarding it', async () => {
      const { token } = await signIn();
      const body = await expectError(await vote(token, { ...upA(), comment: 'great \u202eexe.gnp' }), 400, 'invalid_comment');
      assert.match(JSON.stringify(body), /U\+202E/);
      await expectError(await vote(token, { ...upA(), comment: '\u001b[2Jcleared' }), 400, 'invalid_comment');
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
        ['wrong_channel', 403, 'this lifecycle takes votes through another channel'],
        ['lifecycle_full', 409, 'this lifecycle takes no more votes'],
        ['run_continuing', 503],
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
});
