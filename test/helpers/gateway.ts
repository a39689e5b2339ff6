/**
 * A gateway host on a free port with the web channel mounted, over the fake directory, in-memory
 * artifacts and an invite registry in a temp folder, and the client calls the rating page makes
 * (sign in by name or invite, read, vote, judge). Shared by the host's tests (test/gateway/), the web
 * channel's (test/channels/web/) and the web security suite (test/security/web.test.ts).
 *
 * The open panel (typed names) is on unless a test turns it off: most tests are about what a
 * session may do, and a typed name is the shortest way to one. Tests of the default (invite-only)
 * gateway pass `openPanel: false`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayLogLevel } from '../../core/http';
import { createGatewayServer, listen, type GatewayDeps } from '../../gateway/http-server';
import { InviteRegistry, type InviteRecord } from '../../gateway/invite-registry';
import { signInvite } from '../../gateway/invites';
import { FakeDirectory, MemoryArtifacts, discPng, votingLifecycle } from './fake-directory';

export const RATER_KEY = Buffer.from('rater-key-for-tests-0123456789');
export const SESSION_KEY = Buffer.from('session-key-for-tests-0123456789');
export const INVITE_KEY = Buffer.from('invite-key-for-tests-0123456789');
export const TTL = 3600_000;
export const T0 = Date.parse('2025-06-01T12:00:00.000Z');
export const JSON_HEADERS = { 'Content-Type': 'application/json', 'X-Prefline-Request': '1' };

export interface GatewayHarness {
  url: string;
  server: http.Server;
  directory: FakeDirectory;
  artifacts: MemoryArtifacts;
  logs: Array<{ level: GatewayLogLevel; msg: string; fields?: Record<string, unknown> }>;
  clock: { now: number };
  png: { sha256: string; mime: string; size: number };
  invites: InviteRegistry;
  /** A new invite in the registry and its token. */
  invite(label: string, options?: { campaign?: string; ttlMs?: number; canGenerate?: boolean }): Promise<{ record: InviteRecord; token: string }>;
  /** Removes the registry's folder (stopTestGateway does). */
  dir: string;
}

export type TestGatewayOptions = Partial<Pick<GatewayDeps, 'accessCode' | 'publicUrl' | 'openPanel' | 'limits' | 'inviteCacheMs' | 'oidc' | 'trustProxyHops' | 'starts' | 'health'>> & {
  /** Listen on this port (for a public URL known in advance); a free one otherwise. */
  port?: number;
};

/** Lifecycles `lc-1` (image A, text B), `lc/2 ü` (one text) voting on the web, `lc-gen` still generating. */
export async function startTestGateway(options: TestGatewayOptions = {}): Promise<GatewayHarness> {
  const { port = 0, ...opts } = options;
  const directory = new FakeDirectory();
  const artifacts = new MemoryArtifacts();
  const png = artifacts.put(discPng([200, 40, 40]), 'image/png');
  directory.add(votingLifecycle('lc-1', 'a red circle', [{ kind: 'image', artifact: png }, { kind: 'text', text: 'hello' }]));
  directory.add(votingLifecycle('lc/2 ü', 'odd id', [{ kind: 'text', text: 'x' }]));
  directory.add(votingLifecycle('lc-gen', 'still generating', [{ kind: 'text', text: 'y' }], { phase: 'generating' }));
  const logs: GatewayHarness['logs'] = [];
  const clock = { now: T0 };
  const dir = mkdtempSync(join(tmpdir(), 'prefline-invites-'));
  const invites = await InviteRegistry.open(dir);
  const server = createGatewayServer({
    directory,
    artifacts,
    raterKey: RATER_KEY,
    sessionKey: SESSION_KEY,
    invites: { registry: invites, key: INVITE_KEY },
    openPanel: true,
    sessionTtlMs: TTL,
    now: () => clock.now,
    log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }),
    ...opts,
  });
  const { url } = await listen(server, '127.0.0.1', port);
  const invite = async (label: string, options: { campaign?: string; ttlMs?: number; canGenerate?: boolean } = {}) => {
    const record = await invites.create({ label, campaign: options.campaign, canGenerate: options.canGenerate ?? false, expiresAt: new Date(clock.now + (options.ttlMs ?? 7 * 86_400_000)), now: new Date(clock.now) });
    return { record, token: signInvite(INVITE_KEY, { inviteId: record.id, expiresAt: Date.parse(record.expiresAt) }) };
  };
  return { url, server, directory, artifacts, logs, clock, png, invites, invite, dir };
}

export async function stopTestGateway(h: GatewayHarness): Promise<void> {
  h.server.closeAllConnections();
  await new Promise((r) => h.server.close(r));
  // Handlers whose sockets were just closed may still be writing invite files (markUsed) on a loaded machine:
  // retry the removal until they are done, for at most 20 s.
  for (let attempt = 0; ; attempt++) {
    try {
      rmSync(h.dir, { recursive: true, force: true });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || attempt >= 200) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A raw request (no client-side URL normalisation, any header, chunked bodies). */
export function raw(url: string, method: string, path: string, headers: Record<string, string> = {}, chunks: Buffer[] = []): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
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

/** The rating page's calls against the harness `h()` (a getter: each test starts its own gateway). */
export function pageClient(h: () => GatewayHarness) {
  async function signIn(name = 'Alice'): Promise<{ token: string; rater: string }> {
    const res = await fetch(`${h().url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name }) });
    assert.equal(res.status, 201);
    return (await res.json()) as { token: string; rater: string };
  }

  function vote(token: string, body: unknown, headers: Record<string, string> = {}, lifecycleId = 'lc-1'): Promise<Response> {
    return fetch(`${h().url}/api/lifecycles/${encodeURIComponent(lifecycleId)}/votes`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  const upA = (key = 'key-0000001') => ({ candidateId: 'c1', value: 'up', idempotencyKey: key });

  /** A judgement as the page sends it (POST /api/lifecycles/<id>/judgements). */
  function judge(token: string, body: unknown, lifecycleId: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${h().url}/api/lifecycles/${encodeURIComponent(lifecycleId)}/judgements`, {
      method: 'POST',
      headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  /** POST /api/session with any body (no assertion). */
  function session(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${h().url}/api/session`, { method: 'POST', headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) });
  }

  async function redeem(token: string): Promise<{ token: string; rater: string; name: string; auth: string; campaign?: string; expiresAt: string }> {
    const res = await session({ invite: token });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { token: string; rater: string; name: string; auth: string; expiresAt: string };
  }

  /** A GET as the page makes it, with the session if given. */
  function get(path: string, token?: string, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${h().url}${path}`, { headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers } });
  }

  return { signIn, vote, upA, judge, session, redeem, get };
}

export async function expectError(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.code, code);
  assert.equal(typeof body.error, 'string');
  assert.match(res.headers.get('content-type')!, /^application\/json/);
  return body;
}
