/**
 * A real OpenID Connect provider for sign-in tests: oidc-provider (a certified implementation) on a
 * free loopback port, with one confidential test client, the accounts a test gives, PKCE required,
 * and its development login and consent pages, which `signInThroughProvider` fills in over plain HTTP
 * like a browser would (redirects followed one by one, cookies kept per name and path).
 *
 * oidc-provider is ESM-only: loaded with a real dynamic import(), which TypeScript's CommonJS output
 * would otherwise turn into require(). It warns that Node 20 is not its supported runtime (22 is);
 * what these tests use works on 20.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

// A real import() of an ESM-only package from CommonJS output.
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<{ default: new (issuer: string, config: object) => { callback(): http.RequestListener } }>;

export async function startOidcProvider(options: { redirectUri: string; accounts: Record<string, TestAccount> }): Promise<TestOidcProvider> {
  const { default: Provider } = await importEsm('oidc-provider');
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'prefline-test';
  const clientSecret = 'test-client-secret-0123456789';
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [options.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    async findAccount(_ctx: unknown, sub: string) {
      const account = options.accounts[sub];
      return account && { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['cookie-key-for-the-test-provider-0123'] },
    jwks: { keys: [{ ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test', use: 'sig', alg: 'RS256' }] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Cookies as a browser keeps them for one host (ports share cookies): by name and path. */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  store(setCookie: string[]): void {
    for (const line of setCookie) {
      const [pair, ...attrs] = line.split(';').map((p) => p.trim());
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const path = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const gone = value === '' || attrs.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()));
      if (gone) this.cookies.delete(`${name};${path}`);
      else this.cookies.set(`${name};${path}`, { name, value, path });
    }
  }

  header(path: string): string {
    return [...this.cookies.values()].filter((c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)).map((c) => `${c.name}=${c.value}`).join('; ');
  }

  has(name: string): boolean {
    return [...this.cookies.values()].some((c) => c.name === name);
  }
}

export interface Hop {
  status: number;
  location?: string;
  body: string;
}

/** One request with the jar's cookies; redirects are not followed. */
export async function request(jar: CookieJar, url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Hop> {
  const target = new URL(url);
  const res = await fetch(target, {
    method: init.method ?? 'GET',
    redirect: 'manual',
    headers: { ...(jar.header(target.pathname) ? { Cookie: jar.header(target.pathname) } : {}), ...(init.form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}), ...init.headers },
    ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
  });
  jar.store(res.headers.getSetCookie());
  const location = res.headers.get('location');
  return { status: res.status, body: await res.text(), ...(location ? { location: new URL(location, target).href } : {}) };
}

/**
 * From the gateway's `/auth/login` through the provider's login and consent pages, up to (not
 * including) the gateway's callback: returns the callback URL the provider redirected to.
 */
export async function signInThroughProvider(jar: CookieJar, gatewayUrl: string, login: string): Promise<string> {
  let hop = await request(jar, `${gatewayUrl}/auth/login`);
  for (let steps = 0; steps < 12; steps++) {
    if (hop.status < 300 || hop.status >= 400 || !hop.location) throw new Error(`sign-in stopped at HTTP ${hop.status}: ${hop.body.slice(0, 300)}`);
    const next = new URL(hop.location);
    if (next.origin === new URL(gatewayUrl).origin && next.pathname === '/auth/callback') return next.href;
    hop = await request(jar, next.href);
    // An interaction page: fill in the development login form, or accept the consent prompt.
    if (hop.status === 200 && /name="prompt" value="login"/.test(hop.body)) hop = await request(jar, next.href, { method: 'POST', form: { prompt: 'login', login, password: 'any' } });
    else if (hop.status === 200 && /name="prompt" value="consent"/.test(hop.body)) hop = await request(jar, next.href, { method: 'POST', form: { prompt: 'consent' } });
  }
  throw new Error('sign-in did not reach the callback');
}
