/**
 * OIDC sign-in against a real provider (oidc-provider on loopback, test/helpers/oidc-provider.ts):
 * authorization code + PKCE from the gateway's /auth/login to a session and a vote, and the ways a
 * sign-in must fail.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerationBudget } from '../../core/generation-budget';
import { pseudonymiseRater } from '../../core/pseudonym';
import { invitedRater } from '../../gateway/invites';
import { freePort } from '../../ops/dev-server';
import { CookieJar, request, signInThroughProvider, startOidcProvider, type TestOidcProvider } from '../helpers/oidc-provider';
import { JSON_HEADERS, RATER_KEY, expectError, pageClient, startTestGateway, stopTestGateway, type GatewayHarness } from '../helpers/gateway';

describe('gateway/oidc (against oidc-provider)', function () {
  this.timeout(30_000);
  let provider: TestOidcProvider;
  let h: GatewayHarness;
  let gatewayUrl: string;
  let budgetDir: string;
  const { vote, upA, get } = pageClient(() => h);

  before(async () => {
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    provider = await startOidcProvider({
      redirectUri: `${gatewayUrl}/auth/callback`,
      accounts: {
        'alice-sub': { email: 'Alice@Example.org', email_verified: true, name: 'Alice Liddell' },
        'bob-sub': { email: 'bob@example.org', email_verified: false, name: 'bob@example.org' },
      },
    });
    budgetDir = mkdtempSync(join(tmpdir(), 'prefline-oidc-budget-'));
    h = await startTestGateway({
      port, publicUrl: gatewayUrl, openPanel: false, limits: { signInsPerHour: 0 },
      oidc: { issuer: provider.issuer, clientId: provider.clientId, clientSecret: provider.clientSecret, scopes: 'openid email profile' },
      // Alice's domain may generate; Bob's address is listed but not verified.
      starts: { models: ['demo:text'], startsPerHour: 0, budget: await GenerationBudget.open(budgetDir, 0), oidcGenerators: ['@example.org', 'bob@example.org'] },
    });
    // The gateway's clock drives sessions; the provider's ID tokens are checked against real time.
    h.clock.now = Date.now();
  });
  after(async () => {
    await stopTestGateway(h);
    await provider.stop();
    rmSync(budgetDir, { recursive: true, force: true });
  });

  /** The page's hand-over call, with the jar's cookies. */
  async function collect(jar: CookieJar): Promise<Response> {
    const res = await fetch(`${gatewayUrl}/api/session`, { method: 'POST', headers: { ...JSON_HEADERS, Cookie: jar.header('/api/session') }, body: JSON.stringify({ oidc: true }) });
    jar.store(res.headers.getSetCookie());
    return res;
  }

  it('offers the provider on the page', async () => {
    const options = (await (await fetch(`${gatewayUrl}/api/auth`)).json()) as { oidc: { label: string } | null; openPanel: boolean };
    assert.deepEqual(options.oidc, { label: new URL(provider.issuer).host });
    assert.equal(options.openPanel, false);
  });

  it('signs a rater in with code + PKCE and a verified email: the same rater as by invite or email, voting as oidc', async () => {
    const jar = new CookieJar();
    const callback = await signInThroughProvider(jar, gatewayUrl, 'alice-sub');
    assert.match(callback, /[?&]code=/);
    const done = await request(jar, callback);
    assert.equal(done.status, 303);
    assert.equal(done.location, `${gatewayUrl}/#/signed-in`);
    assert.doesNotMatch(done.location!, /code=|token/); // nothing secret in a URL
    assert.ok(jar.has('prefline_oidc_session'));
    const res = await collect(jar);
    assert.equal(res.status, 201, await res.clone().text());
    const session = (await res.json()) as { token: string; rater: string; name: string; auth: string };
    assert.equal(session.auth, 'oidc');
    assert.equal(session.name, 'Alice Liddell');
    assert.equal(session.rater, pseudonymiseRater(RATER_KEY, 'email', 'alice@example.org'));
    assert.equal(session.rater, invitedRater(RATER_KEY, 'alice@example.org'));
    assert.equal(jar.has('prefline_oidc_session'), false); // collected once
    assert.equal((await vote(session.token, upA('oidc-key-0001'))).status, 200);
    const last = h.directory.received.at(-1)!.vote;
    assert.deepEqual([last.rater, last.raterAuth], [session.rater, 'oidc']);
    // The hand-over cannot be collected twice.
    await expectError(await collect(jar), 401, 'session_invalid');
  });

  it('keys a rater without a verified email by issuer and subject, and shows no address', async () => {
    const jar = new CookieJar();
    await request(jar, await signInThroughProvider(jar, gatewayUrl, 'bob-sub'));
    const session = (await (await collect(jar)).json()) as { rater: string; name: string };
    assert.equal(session.rater, pseudonymiseRater(RATER_KEY, 'oidc', JSON.stringify([provider.issuer, 'bob-sub'])));
    assert.notEqual(session.rater, pseudonymiseRater(RATER_KEY, 'email', 'bob@example.org'));
    assert.equal(session.name, 'bob');
  });

  it('lets raters generate whose verified address PREFLINE_OIDC_GENERATORS lists (or its domain), and no unverified one', async () => {
    const signIn = async (sub: string) => {
      const jar = new CookieJar();
      await request(jar, await signInThroughProvider(jar, gatewayUrl, sub));
      return (await (await collect(jar)).json()) as { token: string; canGenerate: boolean };
    };
    const alice = await signIn('alice-sub');
    assert.equal(alice.canGenerate, true);
    assert.equal(((await (await get('/api/generate', alice.token)).json()) as { canGenerate: boolean }).canGenerate, true);
    const bob = await signIn('bob-sub');
    assert.equal(bob.canGenerate, false, 'listed, but the provider did not verify the address');
    assert.deepEqual(await (await get('/api/generate', bob.token)).json(), { canGenerate: false });
  });

  it('refuses a callback without its state cookie (another browser), or with a state that is not its own', async () => {
    const jar = new CookieJar();
    const callback = await signInThroughProvider(jar, gatewayUrl, 'alice-sub');
    const before = h.directory.received.length;
    const stranger = await request(new CookieJar(), callback);
    assert.equal(stranger.status, 400);
    assert.equal(JSON.parse(stranger.body).code, 'oidc_state_missing');
    const forged = new URL(callback);
    forged.searchParams.set('state', 'not-the-state');
    const wrongState = await request(jar, forged.href);
    assert.equal(wrongState.status, 403);
    assert.equal(JSON.parse(wrongState.body).code, 'oidc_failed');
    assert.equal(jar.has('prefline_oidc_session'), false);
    await expectError(await collect(jar), 401, 'session_invalid');
    assert.equal(h.directory.received.length, before);
  });

  it('refuses a code used twice (the provider revokes it) and a provider error', async () => {
    const jar = new CookieJar();
    const callback = await signInThroughProvider(jar, gatewayUrl, 'alice-sub');
    const stateCookie = jar.header('/auth/callback');
    assert.equal((await request(jar, callback)).status, 303);
    const replay = new CookieJar();
    replay.store([`${stateCookie}; Path=/auth/callback`]);
    const again = await request(replay, callback);
    assert.equal(again.status, 403);
    assert.equal(JSON.parse(again.body).code, 'oidc_failed');
    const denied = new CookieJar();
    denied.store([`${stateCookie}; Path=/auth/callback`]);
    const error = await request(denied, `${gatewayUrl}/auth/callback?error=access_denied&state=x`);
    assert.equal(error.status, 403);
    assert.equal(JSON.parse(error.body).code, 'oidc_denied');
  });
});
