/**
 * Bad input on the web API (issue 12, Found 3 and 4): who may sign in, read and vote on the rating
 * page, against the gateway as deployed by default (invite-only) unless a case says otherwise. Every
 * case asserts both halves of the promise: a clear refusal (status, code, message), and nothing
 * changed — the directory received no vote (or exactly the votes that were allowed), no session was
 * issued, the store was not asked for an artifact.
 *
 * Body size, content type, JSON shape, idempotency keys and malformed votes are refused by the same
 * routes and covered in test/channels/web/routes.test.ts and test/gateway/http-server.test.ts.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { signInvite } from '../../gateway/invites';
import { issueSession } from '../../gateway/session';
import { sealToken } from '../../gateway/signed-token';
import { votingLifecycle } from '../helpers/fake-directory';
import {
  INVITE_KEY, JSON_HEADERS, SESSION_KEY, T0, TTL, expectError, pageClient, startTestGateway, stopTestGateway,
  type GatewayHarness, type TestGatewayOptions,
} from '../helpers/gateway';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+/;
const ALICE = 'alice@example.org';

/** A request with any Host header (fetch would not let a test set it). */
function rawRequest(url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('security: the web API', function () {
  this.timeout(20_000);
  let h: GatewayHarness;
  const { vote, upA, session, redeem, get } = pageClient(() => h);

  async function start(options: TestGatewayOptions = {}): Promise<void> {
    h = await startTestGateway({ openPanel: false, inviteCacheMs: 0, ...options });
    h.directory.add(votingLifecycle('lc-mail', 'emailed', [{ kind: 'text', text: 'm' }], { channel: `email:${ALICE},bob@example.org` }));
    h.directory.add(votingLifecycle('lc-spring', 'spring only', [{ kind: 'text', text: 's' }], { campaign: 'spring' }));
  }
  beforeEach(() => start());
  afterEach(() => stopTestGateway(h));

  const sessionsIssued = () => h.logs.filter((l) => l.msg === 'session issued').length;
  const nothingVoted = () => assert.deepEqual(h.directory.received, []);

  describe('signing in', () => {
    it('refuses a typed name when the open panel is off (nobody becomes "alice" by typing it)', async () => {
      const body = await expectError(await session({ name: 'alice' }), 403, 'open_panel_disabled');
      assert.match(String(body.error), /invite link/);
      assert.equal('token' in body, false);
      assert.equal(sessionsIssued(), 0);
    });

    it('refuses a made-up invite token', async () => {
      await expectError(await session({ invite: 'eyJ2IjoxfQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }), 403, 'invite_invalid');
      await expectError(await session({ invite: 42 }), 403, 'invite_invalid');
      assert.equal(sessionsIssued(), 0);
    });

    it('refuses an invite whose payload was changed (another id, a later expiry)', async () => {
      const { record, token } = await h.invite(ALICE);
      const sig = token.split('.')[1];
      const longer = Buffer.from(JSON.stringify({ v: 1, i: record.id, exp: Date.parse(record.expiresAt) + 365 * 86_400_000 })).toString('base64url');
      await expectError(await session({ invite: `${longer}.${sig}` }), 403, 'invite_invalid');
      assert.equal(sessionsIssued(), 0);
    });

    it('refuses an invite signed with another key, or a session token offered as an invite', async () => {
      const { record } = await h.invite(ALICE);
      const foreign = signInvite(Buffer.from('not-the-invite-key-0123456789'), { inviteId: record.id, expiresAt: Date.parse(record.expiresAt) });
      await expectError(await session({ invite: foreign }), 403, 'invite_invalid');
      const sessionToken = issueSession(SESSION_KEY, { rater: 'r_0123456789abcdef01234567', displayName: 'x', auth: 'open' }, TTL, T0);
      await expectError(await session({ invite: sessionToken }), 403, 'invite_invalid');
      // Nor an invite-purpose token made with the session key.
      await expectError(await session({ invite: sealToken(SESSION_KEY, { v: 1, i: record.id, exp: T0 + TTL }, 'prefline-invite') }), 403, 'invite_invalid');
      assert.equal(sessionsIssued(), 0);
    });

    it('refuses an expired invite', async () => {
      const { token } = await h.invite(ALICE, { ttlMs: 60_000 });
      h.clock.now += 60_000;
      const body = await expectError(await session({ invite: token }), 403, 'invite_expired');
      assert.match(String(body.error), /expired/);
      assert.equal(sessionsIssued(), 0);
    });

    it('refuses a revoked invite, and one the registry no longer holds', async () => {
      const { record, token } = await h.invite(ALICE);
      await h.invites.revoke(record.id);
      await expectError(await session({ invite: token }), 403, 'invite_revoked');
      const unknown = signInvite(INVITE_KEY, { inviteId: 'inv_ffffffffffffffffffff', expiresAt: T0 + TTL });
      await expectError(await session({ invite: unknown }), 403, 'invite_invalid');
      assert.equal(sessionsIssued(), 0);
    });

    it('refuses a body that tries two ways in at once', async () => {
      const { token } = await h.invite(ALICE);
      await expectError(await session({ invite: token, name: 'mallory' }), 400, 'invalid_sign_in');
      assert.equal(sessionsIssued(), 0);
    });

    it('refuses an OIDC hand-over without the provider configured, or without its cookie', async () => {
      await expectError(await session({ oidc: true }), 404, 'oidc_not_configured');
      assert.equal(sessionsIssued(), 0);
    });

    it('limits sign-in attempts per client address (429 with Retry-After), and a spoofed X-Forwarded-For does not escape it', async () => {
      await stopTestGateway(h);
      await start({ limits: { signInsPerHour: 3 } });
      const { token } = await h.invite(ALICE);
      for (let i = 0; i < 3; i++) await expectError(await session({ invite: `bogus-${i}.AAAA` }), 403, 'invite_invalid');
      for (const headers of [{}, { 'X-Forwarded-For': '203.0.113.77' }] as Array<Record<string, string>>) {
        const res = await session({ invite: token }, headers);
        const body = await expectError(res, 429, 'rate_limited');
        assert.equal(res.headers.get('retry-after'), '1200'); // one attempt back every 20 minutes
        assert.equal(body.retryAfterSeconds, 1200);
      }
      assert.equal(sessionsIssued(), 0);
      h.clock.now += 1_200_000;
      assert.equal((await session({ invite: token })).status, 201);
    });

    it('limits wrong access codes more strictly than sign-ins, and the right code waits out the limit too', async () => {
      await stopTestGateway(h);
      await start({ openPanel: true, accessCode: 'open sesame', limits: { signInsPerHour: 100, accessCodeFailuresPerHour: 10 } });
      for (let i = 0; i < 10; i++) await expectError(await session({ name: 'Mallory', accessCode: `guess-${i}` }), 403, 'access_denied');
      const res = await session({ name: 'Mallory', accessCode: 'open sesame' });
      await expectError(res, 429, 'rate_limited');
      assert.equal(res.headers.get('retry-after'), '360');
      assert.equal(sessionsIssued(), 0);
    });
  });

  describe('reading', () => {
    it('answers a lifecycle\'s status only with a session (Found 4)', async () => {
      for (const path of ['/api/lifecycles/lc-mail', '/api/lifecycles/lc-1', '/api/lifecycles']) {
        const res = await get(path);
        await expectError(res, 401, 'session_invalid');
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      }
      await stopTestGateway(h);
      await start({ accessCode: 'open sesame', openPanel: true }); // the access code gates reads too: they need a session
      await expectError(await get('/api/lifecycles/lc-mail'), 401, 'session_invalid');
    });

    it('never answers an email address: not in a session, a status, a list or a vote receipt (Found 4)', async () => {
      const { token } = await h.invite(ALICE);
      const signedIn = await session({ invite: token });
      const texts = [await signedIn.clone().text()];
      const { token: sessionToken, name } = (await signedIn.json()) as { token: string; name: string };
      assert.equal(name, 'alice');
      for (const path of ['/api/lifecycles/lc-mail', '/api/lifecycles', '/api/auth']) texts.push(await (await get(path, sessionToken)).text());
      texts.push(await (await vote(sessionToken, upA('key-mail-0001'), {}, 'lc-mail')).text());
      // The session token itself is readable by its holder: no address in it either.
      texts.push(Buffer.from(sessionToken.split('.')[0]!, 'base64url').toString());
      for (const text of texts) assert.doesNotMatch(text, EMAIL, text.slice(0, 200));
      assert.equal(JSON.parse(texts[1]!).channel, 'email');
    });

    it('serves artifacts only by a signed URL or a session, and never asks the store otherwise', async () => {
      await expectError(await get(`/artifacts/${h.png.sha256}`), 401, 'session_invalid');
      const { token } = await h.invite(ALICE);
      const { token: sessionToken } = await redeem(token);
      const status = (await (await get('/api/lifecycles/lc-1', sessionToken)).json()) as { candidates: Array<{ artifact: { url: string } }> };
      const signed = new URL(status.candidates[0]!.artifact.url, h.url);
      const forOther = `/artifacts/${'0'.repeat(64)}${signed.search}`;
      await expectError(await get(forOther), 401, 'session_invalid');
      const stale = `/artifacts/${h.png.sha256}?exp=${Math.floor(T0 / 1000)}&sig=${signed.searchParams.get('sig')}`;
      await expectError(await get(stale), 401, 'session_invalid');
      assert.deepEqual(h.artifacts.opened, []);
      assert.equal((await get(`${signed.pathname}${signed.search}`)).status, 200);
    });

    it('hides another campaign\'s lifecycles from a campaign invite', async () => {
      const { token } = await h.invite('reviewer 7', { campaign: 'autumn' });
      const { token: sessionToken } = await redeem(token);
      const list = (await (await get('/api/lifecycles', sessionToken)).json()) as { lifecycles: unknown[] };
      assert.deepEqual(list.lifecycles, []);
      await expectError(await get('/api/lifecycles/lc-spring', sessionToken), 404, 'unknown_lifecycle');
    });
  });

  describe('voting', () => {
    it('refuses a typed-name session once the open panel is off, also from a token minted before sessions had kinds', async () => {
      const legacy = sealToken(SESSION_KEY, { v: 1, r: 'r_0123456789abcdef01234567', n: 'alice', iat: T0, exp: T0 + TTL });
      const open = issueSession(SESSION_KEY, { rater: 'r_0123456789abcdef01234567', displayName: 'alice', auth: 'open' }, TTL, T0);
      for (const token of [legacy, open]) {
        const body = await expectError(await vote(token, upA()), 401, 'session_invalid');
        assert.match(String(body.error), /invite link/);
      }
      nothingVoted();
    });

    it('refuses a session signed with another key, or an invite session without its invite', async () => {
      const forged = issueSession(Buffer.from('not-the-session-key-0123456789'), { rater: 'r_0123456789abcdef01234567', displayName: 'x', auth: 'invite', inviteId: 'inv_0123456789abcdef0123' }, TTL, T0);
      await expectError(await vote(forged, upA()), 401, 'session_invalid');
      const orphan = issueSession(SESSION_KEY, { rater: 'r_0123456789abcdef01234567', displayName: 'x', auth: 'invite', inviteId: 'inv_0123456789abcdef0123' }, TTL, T0);
      await expectError(await vote(orphan, upA()), 401, 'session_invalid');
      nothingVoted();
    });

    it('ends an invite\'s sessions when the invite is revoked: the next vote is refused', async () => {
      const { record, token } = await h.invite(ALICE);
      const { token: sessionToken } = await redeem(token);
      assert.equal((await vote(sessionToken, upA('key-before-1'))).status, 200);
      await h.invites.revoke(ALICE);
      const body = await expectError(await vote(sessionToken, upA('key-after-01')), 401, 'session_revoked');
      assert.match(String(body.error), /withdrawn/);
      await expectError(await get('/api/lifecycles', sessionToken), 401, 'session_revoked');
      assert.deepEqual(h.directory.received.map((r) => r.vote.idempotencyKey.split(':').at(-1)), ['key-before-1']);
      assert.ok(record.id);
    });

    it('records the session\'s rater and way in, whatever the body claims', async () => {
      const { token } = await h.invite(ALICE);
      const { token: sessionToken, rater } = await redeem(token);
      const res = await vote(sessionToken, { ...upA('key-claims-1'), rater: 'r_ffffffffffffffffffffffff', raterAuth: 'cli', channel: 'slack' });
      assert.equal(res.status, 200);
      assert.equal(h.directory.received.length, 1);
      const forwarded = h.directory.received[0]!.vote as unknown as Record<string, unknown>;
      assert.deepEqual([forwarded.rater, forwarded.raterAuth, forwarded.channel], [rater, 'invite', 'web']);
    });

    it('limits votes per rater (429 with Retry-After), counting only the votes allowed', async () => {
      await stopTestGateway(h);
      await start({ limits: { votesPerMinute: 5 } });
      const { token } = await h.invite(ALICE);
      const { token: sessionToken } = await redeem(token);
      for (let i = 0; i < 5; i++) assert.equal((await vote(sessionToken, upA(`key-flood-${i}`))).status, 200);
      const res = await vote(sessionToken, upA('key-flood-5'));
      await expectError(res, 429, 'rate_limited');
      assert.equal(res.headers.get('retry-after'), '12');
      assert.equal(h.directory.received.length, 5);
      // Another rater is not held up by this one.
      const other = await redeem((await h.invite('bob@example.org')).token);
      assert.equal((await vote(other.token, upA('key-other-01'))).status, 200);
    });

    it('refuses a campaign invite\'s vote on another campaign\'s lifecycle', async () => {
      const { token } = await h.invite('reviewer 7', { campaign: 'autumn' });
      const { token: sessionToken } = await redeem(token);
      await expectError(await vote(sessionToken, upA(), {}, 'lc-spring'), 404, 'unknown_lifecycle');
      nothingVoted();
    });

    it('refuses a vote from another origin, and one without the custom header', async () => {
      const { token } = await h.invite(ALICE);
      const { token: sessionToken } = await redeem(token);
      await expectError(await vote(sessionToken, upA(), { Origin: 'https://evil.example' }), 403, 'forbidden_origin');
      await expectError(await vote(sessionToken, upA(), { 'X-Prefline-Request': '' }), 403, 'forbidden_origin');
      nothingVoted();
    });
  });

  describe('DNS rebinding and the Host header (Found 3)', () => {
    it('refuses a vote whose Origin merely matches its Host, when neither is the public URL', async () => {
      await stopTestGateway(h);
      await start({ publicUrl: 'https://rate.example.org' });
      const { token } = await h.invite(ALICE);
      const { token: sessionToken } = await redeem(token);
      const port = new URL(h.url).port;
      // What the old check accepted: Origin http://<Host>, with Host under the attacker's control.
      const res = await rawRequest(h.url, 'POST', '/api/lifecycles/lc-1/votes', {
        ...JSON_HEADERS, Authorization: `Bearer ${sessionToken}`, Host: `127.0.0.1:${port}`, Origin: `http://gw.internal:${port}`,
      }, JSON.stringify(upA()));
      assert.equal(res.status, 403);
      assert.equal(JSON.parse(res.text).code, 'forbidden_origin');
      nothingVoted();
    });

    it('refuses every request whose Host is a rebinding name, reads included (421)', async () => {
      const { token } = await h.invite(ALICE);
      const { token: sessionToken } = await redeem(token);
      const port = new URL(h.url).port;
      const rebinding = { Host: `rebind.evil.example:${port}`, Origin: `http://rebind.evil.example:${port}` };
      for (const [method, path, body] of [['GET', '/', undefined], ['GET', '/api/lifecycles', undefined], ['GET', `/artifacts/${h.png.sha256}`, undefined], ['POST', '/api/lifecycles/lc-1/votes', JSON.stringify(upA())], ['POST', '/api/session', JSON.stringify({ invite: token })]] as const) {
        const res = await rawRequest(h.url, method, path, { ...JSON_HEADERS, Authorization: `Bearer ${sessionToken}`, ...rebinding }, body);
        assert.equal(res.status, 421, `${method} ${path}`);
        assert.equal(JSON.parse(res.text).code, 'unknown_host');
      }
      nothingVoted();
      assert.deepEqual(h.artifacts.opened, []);
      assert.equal(sessionsIssued(), 1); // the redemption above, not the rebinding one
      // The health check answers on any Host (container probes by address) and tells nothing.
      const health = await rawRequest(h.url, 'GET', '/healthz', { Host: 'rebind.evil.example' });
      assert.deepEqual([health.status, JSON.parse(health.text)], [200, { ok: true }]);
    });
  });
});
