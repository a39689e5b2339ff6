/**
 * A gateway host on a free port with the web channel mounted, over the fake directory and in-memory
 * artifacts, and the client calls the rating page makes (sign in, vote). Shared by the host's tests
 * (test/gateway/http-server.test.ts) and the web channel's (test/channels/web/routes.test.ts).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { GatewayLogLevel } from '../../core/http';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { FakeDirectory, MemoryArtifacts, discPng, votingLifecycle } from './fake-directory';

export const RATER_KEY = Buffer.from('rater-key-for-tests-0123456789');
export const SESSION_KEY = Buffer.from('session-key-for-tests-0123456789');
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
}

/** Lifecycles `lc-1` (image A, text B), `lc/2 ü` (one text) voting on the web, `lc-gen` still generating. */
export async function startTestGateway(opts: { accessCode?: string; publicUrl?: string } = {}): Promise<GatewayHarness> {
  const directory = new FakeDirectory();
  const artifacts = new MemoryArtifacts();
  const png = artifacts.put(discPng([200, 40, 40]), 'image/png');
  directory.add(votingLifecycle('lc-1', 'a red circle', [{ kind: 'image', artifact: png }, { kind: 'text', text: 'hello' }]));
  directory.add(votingLifecycle('lc/2 ü', 'odd id', [{ kind: 'text', text: 'x' }]));
  directory.add(votingLifecycle('lc-gen', 'still generating', [{ kind: 'text', text: 'y' }], { phase: 'generating' }));
  const logs: GatewayHarness['logs'] = [];
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

export async function stopTestGateway(h: GatewayHarness): Promise<void> {
  h.server.closeAllConnections();
  await new Promise((r) => h.server.close(r));
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

  return { signIn, vote, upA };
}

export async function expectError(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.code, code);
  assert.equal(typeof body.error, 'string');
  assert.match(res.headers.get('content-type')!, /^application\/json/);
  return body;
}
