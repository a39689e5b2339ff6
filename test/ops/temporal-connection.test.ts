/**
 * What the connection helpers put on the wire, seen by a local HTTP/2 server that records each gRPC
 * request's headers and answers UNAUTHENTICATED (a real Temporal server does not check API keys unless
 * configured to, so the header is checked here), and how refusals read.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer, type IncomingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { connectClient, connectNative, TemporalUnreachableError } from '../../ops/temporal-connection';
import { installTestRuntime } from '../helpers/temporal';
import { createTestCa, SERVER_NAME, type TestCa } from '../helpers/test-ca';

describe('ops/temporal-connection: what reaches the server, and how refusals read', () => {
  let dir: string;
  let ca: TestCa;
  let server: Http2SecureServer;
  let port: number;
  const requests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];

  before(async () => {
    installTestRuntime();
    dir = mkdtempSync(join(tmpdir(), 'prefline-grpc-headers-'));
    ca = createTestCa(join(dir, 'tls'));
    server = createSecureServer({ key: ca.server.key, cert: ca.server.cert, allowHTTP1: false });
    server.on('stream', (stream, headers) => {
      requests.push({ path: String(headers[':path']), headers });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '16', 'grpc-message': 'api key not accepted here' }));
      stream.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    requests.length = 0;
  });

  const settings = () =>
    loadConfig({
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      TEMPORAL_API_KEY: 'k-secret-123',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca.caFile,
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      TEMPORAL_GRPC_META_X_TENANT: 'ratings',
    }).temporal;

  const refusedWithoutTheKey = (err: unknown) => {
    assert.ok(err instanceof TemporalUnreachableError, String(err));
    assert.match(err.message, /cannot connect to Temporal \(127\.0\.0\.1:\d+, namespace default, TLS \(private CA, server name localhost\), API key\): api key not accepted here/);
    assert.match(err.message, /the server refused these credentials: check TEMPORAL_API_KEY/);
    assert.ok(!err.message.includes('k-secret-123'), 'the key is never in a message');
    return true;
  };

  it('should send the API key as a bearer token and the TEMPORAL_GRPC_META_* headers over TLS (client connection)', async () => {
    await assert.rejects(connectClient(settings()), refusedWithoutTheKey);
    const call = requests.find((r) => r.path === '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo');
    assert.ok(call, `a GetSystemInfo call arrived (got ${requests.map((r) => r.path).join(', ')})`);
    assert.equal(call.headers.authorization, 'Bearer k-secret-123');
    assert.equal(call.headers['x-tenant'], 'ratings');
  });

  it('should send them from the worker (native) connection too', async () => {
    await assert.rejects(connectNative(settings()), refusedWithoutTheKey);
    // The Rust core's requests (tonic); the explanation's probe after the refusal comes from grpc-js.
    assert.ok(requests.some((r) => String(r.headers['user-agent']).startsWith('tonic/')), 'the native connection reached the server');
    for (const r of requests) {
      assert.equal(r.headers.authorization, 'Bearer k-secret-123', r.path);
      assert.equal(r.headers['x-tenant'], 'ratings', r.path);
    }
  });

  it('should say when nothing listens at the address', async () => {
    const temporal = loadConfig({ PREFLINE_TEMPORAL_ADDRESS: '127.0.0.1:1' }).temporal;
    for (const connect of [connectClient, connectNative]) {
      await assert.rejects(connect(temporal), /cannot connect to Temporal \(127\.0\.0\.1:1, namespace default, plain text\): connect ECONNREFUSED 127\.0\.0\.1:1\n {2}nothing accepts connections at that address/);
    }
  });
});
