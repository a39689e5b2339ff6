/**
 * A real Temporal cluster for tests, as users self-host it (not the dev server): Temporal Server
 * v1.29.1 (scripts/install-temporal-server.sh) on a private PostgreSQL (./postgres), both schemas
 * created with temporal-sql-tool, TLS on the frontend with a private CA (optionally mutual TLS),
 * every service port free and owned by this instance, config and logs in the instance's folder.
 * The `default` namespace is registered; search attributes are not (a fresh cluster has none, and
 * registering them is `prefline`'s job: see addSearchAttributes).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, type TLSConfig } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { logTail } from './log-tail';
import { Postgres } from './postgres';
import { createTestCa, SERVER_NAME, type TestCa } from './test-ca';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
type Service = (typeof SERVICES)[number];
/** Every service's gRPC and membership ports, and the frontend's HTTP API port. */
type ClusterPorts = Record<Service, { grpc: number; membership: number }> & { http: number };

export interface TemporalClusterOptions {
  /**
   * One without Temporal's databases (they are created here). Default: a private PostgreSQL started
   * for this cluster and stopped with it.
   */
  postgres?: Postgres;
  /** The frontend also requires a client certificate signed by the cluster's CA. */
  mtls?: boolean;
  /** Registered at the first start. Default 'default'. */
  namespace?: string;
  /** Server log level (the log is `server.log` in the folder). Default 'info'. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Per start of the server process. Default 90000. */
  startTimeoutMs?: number;
}

/** Milliseconds spent in the main steps of the first start. */
export interface ClusterTimings {
  postgres: number;
  schema: number;
  server: number;
  namespace: number;
}

/** `<repo>/.tools/bin/<name>` (from test/helpers or dist/test/helpers). */
export function toolPath(name: string): string {
  const here = resolve(__dirname, '..', '..');
  return join(basename(here) === 'dist' ? dirname(here) : here, '.tools', 'bin', name);
}

/** The server module's source in Go's module cache: config templates and SQL schemas. */
export function serverModuleDir(): string {
  const go = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/go/bin` } });
  if (go.status !== 0 || !go.stdout.trim()) throw new Error(`go env GOMODCACHE failed (${go.error?.message ?? go.stderr.trim()}): Go is needed for the cluster's schemas`);
  const dir = join(go.stdout.trim(), `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`);
  if (!existsSync(join(dir, 'schema'))) throw new Error(`${dir} is missing: run scripts/install-temporal-server.sh`);
  return dir;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class TemporalCluster {
  /** The frontend, `127.0.0.1:<port>` (TLS). */
  readonly address: string;
  readonly namespace: string;
  readonly timings: ClusterTimings = { postgres: 0, schema: 0, server: 0, namespace: 0 };
  /** Milliseconds from nothing to a usable cluster (the first start, certificates included). */
  startupMs = 0;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    /** The instance's folder: config/, tls/, server.log, schema.log. Removed by stop(). */
    readonly dir: string,
    readonly postgres: Postgres,
    private readonly ownsPostgres: boolean,
    readonly ca: TestCa,
    private readonly ports: ClusterPorts,
    private readonly options: TemporalClusterOptions,
  ) {
    this.address = `127.0.0.1:${ports.frontend.grpc}`;
    this.namespace = options.namespace ?? 'default';
  }

  get logFile(): string {
    return join(this.dir, 'server.log');
  }

  static async start(options: TemporalClusterOptions = {}): Promise<TemporalCluster> {
    for (const tool of ['temporal-server', 'temporal-sql-tool']) {
      if (!existsSync(toolPath(tool))) throw new Error(`${toolPath(tool)} not found: run scripts/install-temporal-server.sh (npm test's setup does)`);
    }
    const started = Date.now();
    const moduleDir = serverModuleDir();
    const dir = mkdtempSync(join(tmpdir(), 'prefline-cluster-'));
    let postgres = options.postgres;
    let cluster: TemporalCluster | undefined;
    try {
      const pgStarted = Date.now();
      postgres ??= await Postgres.start();
      const pgMs = options.postgres ? 0 : Date.now() - pgStarted;
      const ca = createTestCa(join(dir, 'tls'));
      cluster = new TemporalCluster(dir, postgres, !options.postgres, ca, await allocatePorts(), options);
      cluster.timings.postgres = pgMs;
      let step = Date.now();
      cluster.createSchemas(moduleDir);
      cluster.timings.schema = Date.now() - step;
      cluster.writeConfig(moduleDir);
      step = Date.now();
      await cluster.launch();
      cluster.timings.server = Date.now() - step;
      step = Date.now();
      await cluster.registerNamespace();
      cluster.timings.namespace = Date.now() - step;
      cluster.startupMs = Date.now() - started;
      return cluster;
    } catch (err) {
      if (cluster) await cluster.stop();
      else {
        if (postgres && !options.postgres) await postgres.stop();
        rmSync(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** Client TLS options that the frontend accepts (with the client certificate under mtls). */
  clientTls(): TLSConfig {
    return {
      serverNameOverride: SERVER_NAME, // the address is an IP, which TLS's SNI may not carry
      serverRootCACertificate: this.ca.ca,
      ...(this.options.mtls ? { clientCertPair: { crt: this.ca.client.cert, key: this.ca.client.key } } : {}),
    };
  }

  /** A client connection over TLS; the caller closes it. */
  connect(): Promise<Connection> {
    return Connection.connect({ address: this.address, tls: this.clientTls(), connectTimeout: 5000 });
  }

  /** The environment the temporal CLI and the SDKs' envconfig read to reach this cluster. */
  env(): Record<string, string> {
    return {
      TEMPORAL_ADDRESS: this.address,
      TEMPORAL_NAMESPACE: this.namespace,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: this.ca.caFile,
      TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
      ...(this.options.mtls ? { TEMPORAL_TLS_CLIENT_CERT_PATH: this.ca.client.certFile, TEMPORAL_TLS_CLIENT_KEY_PATH: this.ca.client.keyFile } : {}),
    };
  }

  /**
   * Stops the server process (SIGTERM: graceful; SIGKILL: a crash) and starts it again on the same
   * ports, config and data; resolves once the frontend answers again.
   */
  async restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await this.stopServer(signal);
    await this.launch();
  }

  /** The server first (against a stopped PostgreSQL it keeps retrying), then PostgreSQL if it is ours; removes the folder. */
  async stop(): Promise<void> {
    await this.stopServer('SIGTERM');
    if (this.ownsPostgres) await this.postgres.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private createSchemas(moduleDir: string): void {
    const pg = this.postgres;
    const log = join(this.dir, 'schema.log');
    const sql = (database: string, ...args: string[]) => {
      const result = spawnSync(toolPath('temporal-sql-tool'), ['--plugin', 'postgres12', '--ep', pg.host, '-p', String(pg.port), '-u', pg.user, '--db', database, ...args], {
        encoding: 'utf8',
        env: { ...process.env, SQL_PASSWORD: pg.password },
        timeout: 120_000,
      });
      writeFileSync(log, `$ temporal-sql-tool --db ${database} ${args.join(' ')}\n${result.stdout}${result.stderr}`, { flag: 'a' });
      if (result.status !== 0) throw new Error(`temporal-sql-tool --db ${database} ${args[0]} failed (${result.status ?? result.signal}); log:\n${logTail(log)}`);
    };
    for (const [database, schema] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
      sql(database, 'create-database');
      sql(database, 'setup-schema', '-v', '0.0');
      sql(database, 'update-schema', '-d', join(moduleDir, 'schema', 'postgresql', 'v12', schema, 'versioned'));
    }
  }

  /** config/development.yaml after the module's development-postgres12.yaml, as JSON (which YAML reads). */
  private writeConfig(moduleDir: string): void {
    const configDir = join(this.dir, 'config');
    mkdirSync(configDir);
    const { ca, postgres: pg, ports } = this;
    const mtls = this.options.mtls ?? false;
    // The template's nexus callback URL names the default frontend HTTP port; this instance has its own.
    const templateDynamic = readFileSync(join(moduleDir, 'config', 'dynamicconfig', 'development-sql.yaml'), 'utf8');
    const dynamic = templateDynamic.replaceAll('localhost:7243', `127.0.0.1:${ports.http}`);
    if (dynamic === templateDynamic) throw new Error('development-sql.yaml no longer names localhost:7243: check the dynamic config');
    const dynamicFile = join(configDir, 'dynamicconfig.yaml');
    writeFileSync(dynamicFile, dynamic);
    const store = (databaseName: string, maxConns: number) => ({
      sql: { pluginName: 'postgres12', databaseName, connectAddr: `${pg.host}:${pg.port}`, connectProtocol: 'tcp', user: pg.user, password: pg.password, maxConns, maxIdleConns: maxConns, maxConnLifetime: '1h' },
    });
    // The system worker (scheduler, batcher, …) is a client of the frontend like any other;
    // systemWorker is the current key for it, frontend.client the older one the server still reads.
    const frontendClient = { serverName: SERVER_NAME, rootCaFiles: [ca.caFile] };
    const config = {
      log: { stdout: true, level: this.options.logLevel ?? 'info' },
      persistence: {
        defaultStore: 'postgres-default',
        visibilityStore: 'postgres-visibility',
        numHistoryShards: 4,
        datastores: { 'postgres-default': store('temporal', 20), 'postgres-visibility': store('temporal_visibility', 2) },
      },
      global: {
        membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
        tls: {
          frontend: {
            server: { certFile: ca.server.certFile, keyFile: ca.server.keyFile, requireClientAuth: mtls, ...(mtls ? { clientCaFiles: [ca.caFile] } : {}) },
            client: frontendClient,
          },
          systemWorker: { ...(mtls ? { certFile: ca.client.certFile, keyFile: ca.client.keyFile } : {}), client: frontendClient },
        },
      },
      services: Object.fromEntries(
        SERVICES.map((service) => [
          service,
          { rpc: { grpcPort: ports[service].grpc, membershipPort: ports[service].membership, bindOnLocalHost: true, ...(service === 'frontend' ? { httpPort: ports.http } : {}) } },
        ]),
      ),
      clusterMetadata: {
        enableGlobalNamespace: false,
        failoverVersionIncrement: 10,
        masterClusterName: 'active',
        currentClusterName: 'active',
        clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: this.address } },
      },
      dcRedirectionPolicy: { policy: 'noop' },
      dynamicConfigClient: { filepath: dynamicFile, pollInterval: '10s' },
    };
    writeFileSync(join(configDir, 'development.yaml'), JSON.stringify(config, null, 2), { mode: 0o600 });
  }

  private async launch(): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 90_000;
    const from = existsSync(this.logFile) ? statSync(this.logFile).size : 0; // this run's lines on failure
    const fd = openSync(this.logFile, 'a');
    const child = spawn(toolPath('temporal-server'), ['--root', this.dir, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], { stdio: ['ignore', fd, fd], cwd: this.dir });
    closeSync(fd);
    live.add(child);
    this.child = child;
    this.exited = new Promise((resolveExit) => {
      child.once('exit', () => {
        live.delete(child);
        resolveExit();
      });
      child.once('error', () => {
        live.delete(child);
        resolveExit();
      });
    });
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
        throw new Error(`temporal-server exited (${child.exitCode ?? child.signalCode ?? 'spawn failed'}) while starting; log:\n${logTail(this.logFile, 4000, from)}`);
      }
      try {
        const connection = await Connection.connect({ address: this.address, tls: this.clientTls(), connectTimeout: 2000 });
        try {
          await connection.workflowService.getSystemInfo({});
          return;
        } finally {
          await connection.close();
        }
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() > deadline) {
        await this.stopServer('SIGKILL');
        throw new Error(`temporal-server frontend ${this.address} not answering over TLS after ${timeoutMs} ms (${lastError}); log:\n${logTail(this.logFile, 4000, from)}`);
      }
      await sleep(250);
    }
  }

  private async registerNamespace(): Promise<void> {
    const connection = await this.connect();
    try {
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          await connection.workflowService.registerNamespace({ namespace: this.namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
          return;
        } catch (err) {
          if ((err as { code?: number }).code === 6 /* ALREADY_EXISTS */) return;
          if (Date.now() > deadline) throw new Error(`could not register namespace ${this.namespace}: ${(err as Error).message}; log:\n${logTail(this.logFile)}`);
          await sleep(250);
        }
      }
    } finally {
      await connection.close();
    }
  }

  private async stopServer(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Distinct free ports for all of ClusterPorts, below Linux's ephemeral range (32768+): the cluster
 * stores each membership port in a SMALLINT column (cluster_membership.rpc_port; 32768 and up fail
 * the server's start), and no outgoing connection is handed one of these ports before the server binds it.
 */
async function allocatePorts(): Promise<ClusterPorts> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const port = 20_000 + randomInt(32_767 - 20_000);
      if (!taken.has(port) && (await isFree(port))) {
        taken.add(port);
        return port;
      }
    }
    throw new Error('no free port found in 20000-32767');
  };
  const ports: Partial<ClusterPorts> = {};
  for (const service of SERVICES) ports[service] = { grpc: await next(), membership: await next() };
  ports.http = await next();
  return ports as ClusterPorts;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolveFree(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolveFree(true)));
  });
}

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const SEARCH_ATTRIBUTE_TYPES = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
} as const;

/**
 * Adds custom search attributes through the operator service, as `prefline` must on a fresh cluster
 * (ops/dev-server's ensureSearchAttributes does this for the plain-text dev server).
 */
export async function addSearchAttributes(
  connection: Connection,
  namespace: string,
  attributes: ReadonlyArray<{ name: string; type: keyof typeof SEARCH_ATTRIBUTE_TYPES }>,
): Promise<void> {
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(attributes.map(({ name, type }) => [name, SEARCH_ATTRIBUTE_TYPES[type]])) });
}
