import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { PREFLINE_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import { installTestRuntime } from '../helpers/temporal';
import { addSearchAttributes, TemporalCluster, toolPath } from '../helpers/temporal-cluster';
import { createTestCa } from '../helpers/test-ca';

const { IndexedValueType } = temporal.api.enums.v1;
const { WorkflowExecutionStatus } = temporal.api.enums.v1;

/**
 * One getSystemInfo call on a fresh channel without the SDK's retries, so that a refusal fails at
 * once with the transport's reason (Connection.connect would only report its deadline).
 */
async function systemInfo(options: ConnectionOptions): Promise<string> {
  const connection = Connection.lazy({ connectTimeout: 5000, ...options, interceptors: [] });
  try {
    return (await connection.workflowService.getSystemInfo({})).serverVersion;
  } finally {
    await connection.close();
  }
}

/** The certificate the frontend presents in a TLS handshake that trusts `ca`. */
function presentedCertificate(address: string, ca: Buffer): Promise<{ socket: TLSSocket; fingerprint: string }> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port: Number(port), ca, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      resolve({ socket, fingerprint: socket.getPeerX509Certificate()!.fingerprint256 });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

async function scheduleRuns(cluster: TemporalCluster): Promise<void> {
  // A schedule's next times come from its scheduler workflow, which the cluster's system worker runs:
  // that worker is a TLS client of the frontend too.
  const connection = await cluster.connect();
  try {
    const handle = await new Client({ connection }).schedule.create({
      scheduleId: `tls-probe-${Date.now()}`,
      spec: { intervals: [{ every: '1 hour' }] },
      action: { type: 'startWorkflow', workflowType: 'unused', taskQueue: 'prefline-test-unused' },
    });
    const described = await handle.describe();
    assert.ok(described.info.nextActionTimes.length > 0, 'the scheduler computed next action times');
    await handle.delete();
  } finally {
    await connection.close();
  }
}

describe('test/helpers/temporal-cluster: Temporal Server on a private PostgreSQL, TLS on the frontend', function () {
  let cluster: TemporalCluster;
  let connection: Connection;

  before(async () => {
    installTestRuntime();
    cluster = await TemporalCluster.start();
    console.log(`      cluster ready in ${cluster.startupMs} ms (${Object.entries(cluster.timings).map(([k, v]) => `${k} ${v} ms`).join(', ')})`);
    connection = await cluster.connect();
  });
  after(async () => {
    await connection?.close();
    await cluster?.stop();
  });

  it('serves the default namespace to a client that trusts the cluster CA', async () => {
    const info = await connection.workflowService.getSystemInfo({});
    assert.equal(info.serverVersion, '1.29.1');
    const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: 'default' });
    assert.equal(namespaceInfo?.name, 'default');
    assert.equal(namespaceInfo?.state, temporal.api.enums.v1.NamespaceState.NAMESPACE_STATE_REGISTERED);
  });

  it('keeps its state in its own PostgreSQL', () => {
    assert.equal(cluster.postgres.psql('select name from namespaces order by name', { database: 'temporal' }), 'default\ntemporal-system');
    // Every service of this instance has joined the membership ring through the database.
    const roles = cluster.postgres.psql('select count(distinct role) from cluster_membership', { database: 'temporal' });
    assert.equal(roles, '4');
  });

  it('presents its own CA-signed certificate for 127.0.0.1 and localhost', async () => {
    const { fingerprint } = await presentedCertificate(cluster.address, cluster.ca.ca);
    assert.equal(fingerprint, new X509Certificate(cluster.ca.server.cert).fingerprint256);
    const cert = new X509Certificate(cluster.ca.server.cert);
    assert.ok(cert.checkIssued(new X509Certificate(cluster.ca.ca)));
    assert.equal(cert.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost');
  });

  it('refuses a client without the cluster CA', async () => {
    await assert.rejects(systemInfo({ address: cluster.address, tls: { serverNameOverride: 'localhost' } }), /unable to verify the first certificate/);
    assert.equal(await systemInfo({ address: cluster.address, tls: cluster.clientTls() }), '1.29.1');
  });

  it('refuses a client that expects another host name', async () => {
    await assert.rejects(systemInfo({ address: cluster.address, tls: { ...cluster.clientTls(), serverNameOverride: 'temporal.example' } }), /ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('refuses a plain-text client', async () => {
    await assert.rejects(systemInfo({ address: cluster.address }), (err: Error & { code?: number }) => {
      assert.equal(err.code, 14 /* UNAVAILABLE */);
      assert.match(err.message, /No connection established/);
      return true;
    });
  });

  it('accepts a worker (native) connection with the same TLS settings and refuses one without them', async () => {
    const native = await NativeConnection.connect({ address: cluster.address, tls: cluster.clientTls() });
    await native.close();
    await assert.rejects(NativeConnection.connect({ address: cluster.address }));
    await assert.rejects(NativeConnection.connect({ address: cluster.address, tls: { serverNameOverride: 'localhost' } }));
  });

  it("adds Prefline's search attributes through the operator service; adding them again changes nothing", async () => {
    const custom = async () => (await connection.operatorService.listSearchAttributes({ namespace: 'default' })).customAttributes;
    const expected = Object.fromEntries(
      PREFLINE_SEARCH_ATTRIBUTES.map(({ name, type }) => [name, type === 'Keyword' ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST]),
    );
    for (const name of Object.keys(expected)) assert.equal((await custom())[name], undefined, `${name} absent on a fresh cluster`);
    await addSearchAttributes(connection, 'default', PREFLINE_SEARCH_ATTRIBUTES);
    assert.deepEqual(pick(await custom(), Object.keys(expected)), expected);
    await addSearchAttributes(connection, 'default', PREFLINE_SEARCH_ATTRIBUTES);
    // The server does not report a type conflict either: it keeps the existing type, so a setup
    // command has to compare types itself.
    await addSearchAttributes(connection, 'default', [{ name: 'PreflineStatus', type: 'KeywordList' }]);
    assert.deepEqual(pick(await custom(), Object.keys(expected)), expected);
  });

  it('runs schedules: its system worker reaches the TLS frontend too', async () => {
    await scheduleRuns(cluster);
  });

  it('keeps workflows and its address across restart() and a crash (SIGKILL), and clients reconnect', async () => {
    const client = new Client({ connection });
    const workflowId = `restart-probe-${Date.now()}`;
    await client.workflow.start('unused', { taskQueue: 'prefline-test-unused', workflowId });
    const status = async () => (await client.workflow.getHandle(workflowId).describe()).status.code;
    assert.equal(await status(), WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    await cluster.restart();
    assert.equal(await status(), WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    await cluster.restart('SIGKILL');
    assert.equal(await status(), WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING);
    await client.workflow.getHandle(workflowId).terminate('test done');
  });
});

describe('test/helpers/temporal-cluster: with mutual TLS', function () {
  let cluster: TemporalCluster;
  let otherCaDir: string;

  before(async () => {
    installTestRuntime();
    cluster = await TemporalCluster.start({ mtls: true });
    otherCaDir = mkdtempSync(join(tmpdir(), 'prefline-other-ca-'));
  });
  after(async () => {
    await cluster?.stop();
    if (otherCaDir) rmSync(otherCaDir, { recursive: true, force: true });
  });

  it('accepts clients and workers with a certificate from the cluster CA', async () => {
    assert.equal(await systemInfo({ address: cluster.address, tls: cluster.clientTls() }), '1.29.1');
    const native = await NativeConnection.connect({ address: cluster.address, tls: cluster.clientTls() });
    await native.close();
  });

  it('refuses a client that trusts the CA but has no certificate', async () => {
    await assert.rejects(systemInfo({ address: cluster.address, tls: { serverRootCACertificate: cluster.ca.ca, serverNameOverride: 'localhost' } }), /certificate required/);
  });

  it('refuses a client certificate from another CA', async () => {
    const other = createTestCa(otherCaDir);
    await assert.rejects(
      systemInfo({ address: cluster.address, tls: { serverRootCACertificate: cluster.ca.ca, serverNameOverride: 'localhost', clientCertPair: { crt: other.client.cert, key: other.client.key } } }),
      /unknown ca|bad certificate/,
    );
  });

  it('runs schedules: its system worker authenticates with its client certificate', async () => {
    await scheduleRuns(cluster);
  });

  it('env() is what the temporal CLI needs to reach it', () => {
    const describe = (env: Record<string, string>) =>
      spawnSync(toolPath('temporal'), ['operator', 'namespace', 'describe', '--output', 'json'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env }, timeout: 30_000 });
    const ok = describe(cluster.env());
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).namespaceInfo.name, 'default');
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...withoutCertificate } = cluster.env();
    const refused = describe(withoutCertificate);
    assert.notEqual(refused.status, 0);
  });
});

function pick<T>(record: Record<string, T>, keys: string[]): Record<string, T> {
  return Object.fromEntries(keys.filter((k) => k in record).map((k) => [k, record[k]!]));
}
