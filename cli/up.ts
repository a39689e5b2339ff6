/**
 * `prefline up` and the long-running process commands. `up` supervises the whole embedded system:
 * the Temporal dev server (SQLite under the data folder), one worker process serving every queue,
 * and the gateway. Children that die unexpectedly are restarted; Ctrl-C stops everything in order.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from '@temporalio/client';
import { describeTemporal, loadConfig, metricsEnvUnderUp, usesTls, WORKER_QUEUES, type ListenAddress, type PreflineConfig } from '../config';
import { ensurePrivateDirSync } from '../core/files';
import { requireClusterSetup } from '../ops/cluster-setup';
import { DevServer } from '../ops/dev-server';
import { childNodeArgs } from '../ops/node-args';
import { createLogger } from '../ops/log';
import { connectClient } from '../ops/temporal-connection';
import type { ParsedArgs } from './args';
import { setUpNamespace, setUpReleaseSchedule, setUpSearchAttributes } from './cluster';
import type { Command } from './command';
import { operatorInviteLink } from './raters';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const CLI_ENTRY = join(__dirname, 'main.js');

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolveSignal(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function ensureTemporalCli(config: PreflineConfig): void {
  if (existsSync(config.temporal.binary)) return;
  const script = join(PROJECT_ROOT, 'scripts', 'install-temporal.sh');
  const result = spawnSync('bash', [script], { stdio: 'inherit' });
  if (result.status !== 0 || !existsSync(config.temporal.binary)) {
    throw new Error(`could not install the Temporal CLI (see above); expected it at ${config.temporal.binary}`);
  }
}

export async function startEmbeddedServer(config: PreflineConfig): Promise<DevServer> {
  if (usesTls(config.temporal) || config.temporal.apiKey !== undefined) {
    // The dev server speaks plain text only: these settings describe some other server.
    throw new Error(
      `the Temporal settings ask for TLS or an API key (${describeTemporal(config.temporal)}), but prefline starts a plain-text dev server here: ` +
        'set PREFLINE_EXTERNAL_TEMPORAL=1 to use that server instead, or unset the TEMPORAL_TLS_*/TEMPORAL_API_KEY settings (or TEMPORAL_PROFILE) for the dev server',
    );
  }
  ensureTemporalCli(config);
  // temporal.db holds recipients' addresses: the data folder is private (ops/dev-server makes its own folders 0700).
  ensurePrivateDirSync(config.dataDir, (message) => createLogger('server', config.logLevel).warn(message));
  const [ip, port] = splitAddress(config.temporal.address);
  return DevServer.start({
    binary: config.temporal.binary,
    ip,
    port,
    uiPort: config.temporal.uiPort,
    dbFile: join(config.dataDir, 'temporal.db'),
    namespace: config.temporal.namespace,
    logFile: join(config.dataDir, 'logs', 'temporal.log'),
  });
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  const port = Number(address.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`PREFLINE_TEMPORAL_ADDRESS must be host:port, got "${address}"`);
  return [address.slice(0, i), port];
}

/** A child process whose log lines pass through, restarted with backoff if it dies on its own. */
class Supervised {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;

  constructor(
    private readonly name: string,
    private readonly args: string[],
    private readonly log: ReturnType<typeof createLogger>,
    private readonly env: NodeJS.ProcessEnv = process.env,
    private readonly nodeArgs: string[] = [],
  ) {}

  start(): void {
    const child = spawn(process.execPath, [...this.nodeArgs, CLI_ENTRY, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'], env: this.env });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => process.stderr.write(line + '\n'));
    }
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      this.restarts += 1;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(this.restarts, 6));
      this.log.warn(`${this.name} exited; restarting`, { code, signal, inMs: delay });
      setTimeout(() => !this.stopping && this.start(), delay).unref();
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Before the worker and gateway start. The dev server gets the steps of `prefline cluster setup` (its
 * namespace exists already); an external server must have been set up, else up stops here with the
 * message a worker would give. The release schedule is ensured in both cases; failing that is a warning.
 */
async function prepareTemporal(config: PreflineConfig, log: ReturnType<typeof createLogger>): Promise<void> {
  const { namespace } = config.temporal;
  const connection = await connectClient(config.temporal);
  try {
    if (!config.temporal.external) {
      const steps = [await setUpNamespace(connection, namespace), ...(await setUpSearchAttributes(connection, namespace))];
      for (const step of steps) log.info(`${step.what}: ${step.outcome}`);
    } else {
      await requireClusterSetup(connection, namespace, (message, fields) => log.warn(message, fields));
    }
    try {
      const step = await setUpReleaseSchedule(new Client({ connection, namespace }), config);
      log.info(`${step.what}: ${step.outcome}`);
    } catch (err) {
      log.warn('could not create the daily release schedule', { error: err instanceof Error ? err.message : String(err) });
    }
  } finally {
    await connection.close();
  }
}

export async function runUp(config: PreflineConfig): Promise<number> {
  const log = createLogger('up', config);
  ensurePrivateDirSync(config.dataDir, (message) => log.warn(message));
  let server: DevServer | undefined;
  if (!config.temporal.external) {
    log.info('starting the Temporal dev server', { db: join(config.dataDir, 'temporal.db') });
    server = await startEmbeddedServer(config);
  }
  try {
    await prepareTemporal(config, log);
  } catch (err) {
    await server?.stop();
    throw err;
  }
  // The worker's and the gateway's ops endpoints are on by default here (loopback; docs/observability.md).
  const childEnv = { ...process.env, ...metricsEnvUnderUp(process.env) };
  const { metrics, sourceMaps } = loadConfig(childEnv);
  const nodeArgs = childNodeArgs(sourceMaps);
  const worker = new Supervised('worker', ['worker'], log, childEnv, nodeArgs);
  const gateway = new Supervised('gateway', ['gateway'], log, childEnv, nodeArgs);
  worker.start();
  gateway.start();
  const stopAll = async () => {
    await Promise.all([gateway.stop(), worker.stop()]);
    await server?.stop();
  };
  try {
    await waitForHttp(`http://${config.gateway.host === '0.0.0.0' ? '127.0.0.1' : config.gateway.host}:${config.gateway.port}/healthz`, 120_000);
  } catch (err) {
    await stopAll();
    throw err;
  }
  // The rating page takes invited raters only (docs/web.md): whoever ran `up` gets a link of their own.
  const inviteLink = await operatorInviteLink(config).catch((err: unknown) => {
    log.warn('could not make an invite link', { error: err instanceof Error ? err.message : String(err) });
    return '(none: see the warning above; prefline raters invite <email-or-name>)';
  });
  process.stdout.write(
    [
      '',
      'Prefline is up.',
      `  Temporal UI   ${server?.uiUrl ?? '(external server ' + config.temporal.address + ')'}   Start Workflow → type "ratingLifecycle", task queue "${config.taskQueue}"`,
      `  Rating page   ${config.gateway.publicUrl}`,
      `  Chat page     ${config.gateway.publicUrl}/chat   (models: ${config.chat.models.join(', ')})`,
      `  Your invite   ${inviteLink}   (more: prefline raters invite <email-or-name>)`,
      ...(config.slack?.signingSecret ? [`  Slack         ${config.gateway.publicUrl}/slack/events and /slack/interactivity   (docs/slack.md)`] : []),
      ...(config.slack?.appToken ? ['  Slack         Socket Mode (PREFLINE_SLACK_APP_TOKEN)   (docs/slack.md)'] : []),
      `  Ledger        ${config.ledger.path}   (prefline query "FROM feedback")`,
      ...(metrics.worker || metrics.gateway ? [`  Metrics       ${[opsLine('worker', metrics.worker), opsLine('gateway', metrics.gateway)].filter(Boolean).join('   ')}   (/healthz beside each)`] : []),
      `  Data folder   ${config.dataDir}   (Temporal log: logs/temporal.log)`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  const signal = await untilSignal();
  log.info('stopping', { signal });
  await stopAll();
  log.info('stopped cleanly');
  return 0;
}

function opsLine(role: string, address: ListenAddress | undefined): string | undefined {
  if (!address) return undefined;
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host;
  const shown = address.port === 0 ? `${host}:<free port; see its log>` : `${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  return `${role} http://${shown}/metrics`;
}

export async function runServerCommand(config: PreflineConfig): Promise<number> {
  const server = await startEmbeddedServer(config);
  process.stdout.write(`Temporal dev server on ${server.address}; UI ${server.uiUrl}\n`);
  await Promise.race([untilSignal(), server.exited]);
  await server.stop();
  return 0;
}

export async function runWorkerCommand(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  // The spec has checked every name against WORKER_QUEUES.
  const queues = typeof args.flags.queues === 'string' ? [...new Set(args.flags.queues.split(',').map((q) => q.trim()).filter(Boolean))] : config.workerQueues;
  // Loaded here, not at the top: the worker's modules take most of a second, which every other command would pay.
  const { startWorkers } = await import('../workers/main');
  const running = await startWorkers({ ...config, workerQueues: queues as PreflineConfig['workerQueues'] });
  await Promise.race([untilSignal(), running.done]);
  await running.shutdown();
  return 0;
}

export async function runGatewayCommand(config: PreflineConfig): Promise<number> {
  const { startGateway } = await import('../gateway/main');
  const gateway = await startGateway(config);
  await untilSignal();
  await gateway.close();
  return 0;
}

export const PROCESS_COMMANDS: Command[] = [
  {
    spec: {
      name: 'up',
      summary: 'start the whole system: the Temporal dev server (unless PREFLINE_EXTERNAL_TEMPORAL=1), one worker for every queue and the gateway; Ctrl-C stops all',
    },
    run: (config) => runUp(config),
  },
  { spec: { name: 'server', summary: 'start only the Temporal dev server' }, run: (config) => runServerCommand(config) },
  {
    spec: {
      name: 'worker',
      summary: 'run a worker process; it polls the queues given (default PREFLINE_WORKER_QUEUES: all three)',
      options: { queues: { type: 'string', value: 'QUEUES', description: 'the queues to poll', choices: WORKER_QUEUES, list: true } },
      details: 'workflows and inference may run in any number of processes; exactly one process may serve ledger.',
    },
    run: runWorkerCommand,
  },
  { spec: { name: 'gateway', summary: 'run the rating page and vote API (and the Slack and email endpoints when configured)' }, run: (config) => runGatewayCommand(config) },
];
