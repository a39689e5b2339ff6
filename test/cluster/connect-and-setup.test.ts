/**
 * Prefline on a real Temporal cluster (PostgreSQL, TLS on the frontend), configured the way Temporal
 * users configure clients: only TEMPORAL_* variables or a profile of a Temporal config file (plus
 * PREFLINE_EXTERNAL_TEMPORAL=1). The fresh cluster has no search attributes: workers refuse to start
 * until `prefline cluster setup` has run, which reports what it changed; then a lifecycle runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Connection } from '@temporalio/client';
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { RELEASE_SCHEDULE_ID } from '../../cli/release-schedule';
import { PREFLINE_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import type { LifecycleStatus } from '../../workflows/types';
import { runCli, spawnCli, waitUntil, type CliProcess } from '../helpers/processes';
import { installTestRuntime } from '../helpers/temporal';
import { addSearchAttributes, TemporalCluster } from '../helpers/temporal-cluster';

const { IndexedValueType } = temporal.api.enums.v1;
const MISSING_ATTRIBUTES = /namespace default lacks Prefline's search attributes PreflineCampaign, PreflineModel, PreflineChannel, PreflineStatus, PreflinePostRefs, PreflineChatOwner: run prefline cluster setup once/;

/** A long-running command that must give up by itself: its exit code and output, within `ms`. */
async function exitsWithin(child: CliProcess, ms: number): Promise<{ code: number | null; output: string }> {
  const timer = setTimeout(() => child.child.kill('SIGKILL'), ms);
  try {
    const { code, signal } = await child.exited;
    assert.equal(signal, null, `still running after ${ms} ms; output:\n${child.output()}`);
    return { code, output: child.output() };
  } finally {
    clearTimeout(timer);
  }
}

async function customAttributes(connection: Connection, namespace: string): Promise<Record<string, number>> {
  return (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes as Record<string, number>;
}

async function registerNamespace(connection: Connection, namespace: string): Promise<void> {
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  // A new namespace reaches every service's cache after a moment.
  await waitUntil(() => customAttributes(connection, namespace).then(() => true), 30_000, `namespace ${namespace}`);
}

describe('prefline on a TLS cluster, configured only through TEMPORAL_* variables', function () {
  this.timeout(180_000);
  let cluster: TemporalCluster;
  let connection: Connection;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    installTestRuntime();
    cluster = await TemporalCluster.start();
    connection = await cluster.connect();
    dir = mkdtempSync(join(tmpdir(), 'prefline-cluster-cli-'));
    env = { ...cluster.env(), PREFLINE_EXTERNAL_TEMPORAL: '1', PREFLINE_DATA_DIR: dir, PREFLINE_TASK_QUEUE: 'prefline-cluster', PREFLINE_GATEWAY_PORT: '0' };
  });
  after(async () => {
    await connection?.close();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should refuse a client without the cluster CA, with the reason and the setting to change', () => {
    const { TEMPORAL_TLS_SERVER_CA_CERT_PATH: _ca, ...withoutCa } = env;
    const result = runCli(['list'], { ...withoutCa, TEMPORAL_TLS: '1' });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /cannot connect to Temporal \(127\.0\.0\.1:\d+, namespace default, TLS \(system CAs, server name localhost\)\): unable to verify the first certificate\n {2}the server's certificate is not signed by a CA this client trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
  });

  it('should stop a worker, a gateway and prefline up at start while the search attributes are missing, naming prefline cluster setup', async () => {
    for (const command of ['worker', 'gateway', 'up']) {
      const { code, output } = await exitsWithin(spawnCli([command], env), 30_000);
      assert.equal(code, 1, `${command}:\n${output}`);
      assert.match(output, MISSING_ATTRIBUTES, command);
    }
    assert.deepEqual(Object.keys(await customAttributes(connection, 'default')).filter((n) => n.startsWith('Prefline')), [], 'nothing registered on the way');
  });

  it('should set the namespace up, reporting each change, and change nothing the second time', async () => {
    const first = runCli(['cluster', 'setup'], env);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /^Temporal: 127\.0\.0\.1:\d+, namespace default, TLS \(private CA, server name localhost\)\n/);
    const outcomes = (text: string) => Object.fromEntries([...text.matchAll(/^ {2}(.+?) {2,}(created|already present|updated)$/gm)].map((m) => [m[1]!.trim(), m[2]]));
    assert.deepEqual(outcomes(first.stdout), {
      'namespace default': 'already present',
      'search attribute PreflineCampaign (Keyword)': 'created',
      'search attribute PreflineModel (KeywordList)': 'created',
      'search attribute PreflineChannel (Keyword)': 'created',
      'search attribute PreflineStatus (Keyword)': 'created',
      'search attribute PreflinePostRefs (KeywordList)': 'created',
      'search attribute PreflineChatOwner (Keyword)': 'created',
      [`schedule ${RELEASE_SCHEDULE_ID}`]: 'created',
    });
    assert.match(first.stdout, /7 changes; the namespace is ready for Prefline\n$/);
    const attributes = await customAttributes(connection, 'default');
    for (const { name, type } of PREFLINE_SEARCH_ATTRIBUTES) {
      assert.equal(attributes[name], type === 'Keyword' ? IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD : IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST, name);
    }
    const schedule = await new Client({ connection }).schedule.getHandle(RELEASE_SCHEDULE_ID).describe();
    assert.equal(schedule.action.type === 'startWorkflow' && schedule.action.taskQueue, 'prefline-cluster');

    const second = runCli(['cluster', 'setup'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(Object.values(outcomes(second.stdout)).every((o) => o === 'already present'), second.stdout);
    assert.equal(Object.keys(outcomes(second.stdout)).length, 8);
    assert.match(second.stdout, /nothing to change: the namespace is ready for Prefline\n$/);
  });

  it('should update a release schedule made for another task queue', async () => {
    const moved = runCli(['cluster', 'setup'], { ...env, PREFLINE_TASK_QUEUE: 'prefline-moved' });
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, new RegExp(`schedule ${RELEASE_SCHEDULE_ID} +updated\\n1 change;`));
    const handle = new Client({ connection }).schedule.getHandle(RELEASE_SCHEDULE_ID);
    const described = await handle.describe();
    assert.equal(described.action.type === 'startWorkflow' && described.action.taskQueue, 'prefline-moved');
    assert.equal(described.spec.timezone, 'UTC', 'the rest of the definition stays');
    const back = runCli(['cluster', 'setup'], env);
    assert.match(back.stdout, new RegExp(`schedule ${RELEASE_SCHEDULE_ID} +updated`));
  });

  it('should report a search attribute of another type, change nothing, and stop workers on it too', async () => {
    await registerNamespace(connection, 'conflicted');
    await addSearchAttributes(connection, 'conflicted', [{ name: 'PreflineStatus', type: 'KeywordList' }]);
    const conflicted = { ...env, TEMPORAL_NAMESPACE: 'conflicted' };
    const result = runCli(['cluster', 'setup'], conflicted);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, /search attribute type conflict in namespace conflicted: PreflineStatus is KeywordList, Prefline sets it as Keyword\. Prefline does not change the type of an existing attribute: remove or rename the other attribute, then run prefline cluster setup again/);
    const attributes = await customAttributes(connection, 'conflicted');
    assert.equal(attributes.PreflineCampaign, undefined, 'no attribute registered');
    assert.equal(attributes.PreflineStatus, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST, 'the other type stays');
    const worker = await exitsWithin(spawnCli(['worker', '--queues', 'workflows'], conflicted), 30_000);
    assert.equal(worker.code, 1, worker.output);
    assert.match(worker.output, /PreflineStatus is KeywordList, Prefline sets it as Keyword/);
  });

  it('should create a missing namespace only when asked to, with the retention given', async () => {
    const fresh = { ...env, TEMPORAL_NAMESPACE: 'prefline-fresh' };
    const refused = runCli(['cluster', 'setup'], fresh);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /namespace prefline-fresh does not exist on this server: run prefline cluster setup --create-namespace/);
    const created = runCli(['cluster', 'setup', '--create-namespace', '--retention', '3d'], fresh);
    assert.equal(created.code, 0, created.stdout + created.stderr);
    assert.match(created.stdout, /namespace prefline-fresh +created\n/);
    assert.match(created.stdout, /search attribute PreflineStatus \(Keyword\) +created\n/);
    const { config } = await connection.workflowService.describeNamespace({ namespace: 'prefline-fresh' });
    assert.equal(Number(config?.workflowExecutionRetentionTtl?.seconds), 3 * 86_400);
  });

  it('should then run a lifecycle: worker and CLI on TEMPORAL_* settings, votes to ledger rows, with the UI link', async () => {
    assert.equal(runCli(['cluster', 'setup'], env).code, 0, 'set up (idempotent: a no-op after the tests above)');
    const worker = spawnCli(['worker'], env);
    try {
      await worker.waitFor(/worker polling/, 60_000);
      assert.match(worker.output(), /connected to Temporal server="127\.0\.0\.1:\d+, namespace default, TLS \(private CA, server name localhost\)"/);
      const cli = (args: string[]) => runCli(args, { ...env, PREFLINE_TEMPORAL_UI_URL: 'https://temporal-ui.example/' });
      const started = cli(['start', JSON.stringify({ prompt: 'a fox on a cluster', model: 'demo:text', candidates: 2, votesPerCandidate: 1 })]);
      assert.equal(started.code, 0, started.stderr);
      const id = /^started (\S+)/.exec(started.stdout)?.[1] as string;
      assert.match(started.stdout, new RegExp(`  Temporal UI: https://temporal-ui\\.example/namespaces/default/workflows/${id}\\n`));
      await waitUntil(() => {
        const status = cli(['status', id, '--json']);
        return status.code === 0 && (JSON.parse(status.stdout) as LifecycleStatus).phase === 'voting' ? true : undefined;
      }, 60_000, 'voting to open');
      for (const [candidate, value, rater] of [['c1', 'up', 'alice'], ['c2', 'down', 'bob']] as const) {
        const vote = cli(['vote', id, candidate, value, '--rater', rater]);
        assert.equal(vote.code, 0, vote.stderr);
      }
      let last = '';
      const rows = await waitUntil(() => {
        const query = cli(['query', `SELECT candidate_id, value FROM votes WHERE lifecycle_id = '${id}' ORDER BY candidate_id`, '--format', 'json']);
        last = query.stdout + query.stderr;
        const parsed = query.code === 0 ? (JSON.parse(query.stdout) as Array<{ candidate_id: string; value: number }>) : [];
        return parsed.length === 2 ? parsed : undefined;
      }, 60_000, 'the two votes in the ledger').catch((err: Error) => {
        throw new Error(`${err.message}; last query said: ${last}\nworker:\n${worker.output().slice(-3000)}`);
      });
      assert.deepEqual(rows, [{ candidate_id: 'c1', value: 1 }, { candidate_id: 'c2', value: -1 }]);
    } finally {
      await worker.kill('SIGTERM');
    }
  });
});

describe('prefline on a cluster with mutual TLS: client certificates and a Temporal config file', function () {
  this.timeout(120_000);
  let cluster: TemporalCluster;
  let dir: string;

  before(async () => {
    installTestRuntime();
    cluster = await TemporalCluster.start({ mtls: true });
    dir = mkdtempSync(join(tmpdir(), 'prefline-cluster-mtls-'));
  });
  after(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should connect with the client certificate and key from TEMPORAL_TLS_CLIENT_*, and be refused without them', () => {
    const env: Record<string, string> = { ...cluster.env(), PREFLINE_EXTERNAL_TEMPORAL: '1', PREFLINE_DATA_DIR: dir };
    const setup = runCli(['cluster', 'setup'], env);
    assert.equal(setup.code, 0, setup.stdout + setup.stderr);
    assert.match(setup.stdout, /TLS \(private CA, server name localhost, client certificate\)/);
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...withoutCertificate } = env;
    const refused = runCli(['list'], withoutCertificate);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /certificate required.*\n {2}the server requires a client certificate \(mutual TLS\): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/);
  });

  it('should take everything from a profile of a Temporal config file, for the CLI and a worker, and log no key material', async () => {
    const configFile = join(dir, 'temporal.toml');
    const e = cluster.env();
    writeFileSync(
      configFile,
      [
        '[profile.prefline]',
        `address = "${e.TEMPORAL_ADDRESS}"`,
        'namespace = "default"',
        '[profile.prefline.tls]',
        `server_ca_cert_path = "${e.TEMPORAL_TLS_SERVER_CA_CERT_PATH}"`,
        `server_name = "${e.TEMPORAL_TLS_SERVER_NAME}"`,
        `client_cert_path = "${e.TEMPORAL_TLS_CLIENT_CERT_PATH}"`,
        `client_key_path = "${e.TEMPORAL_TLS_CLIENT_KEY_PATH}"`,
        '',
      ].join('\n'),
    );
    const env = { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'prefline', PREFLINE_EXTERNAL_TEMPORAL: '1', PREFLINE_DATA_DIR: dir };
    const setup = runCli(['cluster', 'setup'], env);
    assert.equal(setup.code, 0, setup.stdout + setup.stderr);
    const list = runCli(['list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, 'no open lifecycles\n');
    const worker = spawnCli(['worker', '--queues', 'workflows'], env);
    try {
      await worker.waitFor(/worker polling/, 60_000);
      assert.match(worker.output(), new RegExp(`client certificate\\), profile \\\\?"prefline\\\\?" of ${configFile.replace(/[.]/g, '\\.')}`));
      assert.ok(!/BEGIN|PRIVATE KEY/.test(worker.output()), 'no PEM in the log');
    } finally {
      await worker.kill('SIGTERM');
    }
  });
});
