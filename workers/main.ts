/**
 * A Prefline worker process. It polls the queues named in `PREFLINE_WORKER_QUEUES`:
 * - `workflows`: `<queue>` — lifecycle workflows and channel activities (any number of processes);
 * - `inference`: `<queue>-inference` — model calls, on GPU-side hosts (any number of processes);
 * - `ledger`: `<queue>-ledger` — the DuckDB writer. Exactly one process: it holds the file lock,
 *   and also serves analysts' read queries (`prefline query`).
 */
import { Worker } from '@temporalio/worker';
import { writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { createActivities } from '../activities';
import { createWebPublisher } from '../channels/web/publisher';
import type { CommitRequest, CommitResult } from '../store/ledger-types';
import { describeTemporal, loadSecret, type PreflineConfig } from '../config';
import { ConfigMissingError } from '../core/errors';
import { createSafeDownloader } from '../connectors/http/safe-download';
import { createWebhookSender } from '../connectors/webhook';
import { ensurePrivateDirSync } from '../core/files';
import { createDemoBackend } from '../connectors/inference/demo';
import { createOpenAICompatibleBackend } from '../connectors/inference/openai/OpenAICompatibleBackend';
import { createReplicateBackend } from '../connectors/inference/replicate/ReplicateBackend';
import { InferenceRegistry } from '../connectors/inference/registry';
import type { InferenceBackend } from '../connectors/inference/types';
import { requireClusterSetup } from '../ops/cluster-setup';
import { createLogger } from '../ops/log';
import type { RunningOpsServer } from '../ops/ops-server';
import { installRuntime } from '../ops/runtime';
import { connectNative } from '../ops/temporal-connection';
import { ArtifactStore } from '../store/ArtifactStore';
import { Ledger } from '../store/Ledger';
import { LedgerReadServer } from '../store/LedgerReadServer';
import { ReplyRecords } from '../store/reply-records';
import { inferenceQueue, ledgerQueue } from '../workflows/queues';
import { loadWorkflowBundle } from './bundle';
import { slackChannelPublishers, slackNotifier } from './slack';
import { closeEmailTransports, emailChannel, emailNotifier } from './email';
import { startWorkerOps } from './ops';

export interface RunningWorkers {
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
  queues: string[];
}

/**
 * Inference backends of this worker, from configuration. Replicate is always registered (a missing
 * token fails the activity non-retryably with a clear message); the OpenAI-compatible backend needs a
 * base URL, and without one `openai:` models fail the same way.
 */
export function createInferenceBackends(config: PreflineConfig): InferenceBackend[] {
  const { replicate, openai } = config.inference;
  return [
    createDemoBackend({ chatTokenMs: config.chat.demoTokenMs }),
    createReplicateBackend({
      apiToken: replicate.apiToken ?? '',
      baseUrl: replicate.baseUrl,
      maxWaitMs: replicate.maxWaitMs,
      // No `Prefer: wait`: the create answers at once with the prediction id, which is heartbeated before
      // anything else, so a worker crash can never strand a prediction we would then pay for twice.
      syncWaitSeconds: 0,
      pollIntervalMs: 500,
      downloads: config.downloads,
    }),
    openai
      ? createOpenAICompatibleBackend({
          baseUrl: openai.baseUrl,
          ...(openai.apiKey !== undefined ? { apiKey: openai.apiKey } : {}),
          imageModels: openai.imageModels,
          timeoutMs: openai.timeoutMs,
        })
      : unconfiguredBackend('openai', 'set PREFLINE_OPENAI_BASE_URL on the inference workers to use openai: models'),
  ];
}

function unconfiguredBackend(name: string, hint: string): InferenceBackend {
  return {
    name,
    async generate() {
      throw new ConfigMissingError(`the ${name} backend is not configured: ${hint}`);
    },
  };
}

/** Test-only fault injection, e.g. `crash-after-commit:/tmp/marker` kills the process once, after the rows are durable. */
function faultInjection(spec: string | undefined): ((request: CommitRequest, result: CommitResult) => void) | undefined {
  if (!spec) return undefined;
  const [kind, marker] = spec.split(':');
  if (kind !== 'crash-after-commit' || !marker) throw new Error(`PREFLINE_FAULT_INJECT: unknown fault "${spec}"`);
  return () => {
    try {
      writeFileSync(marker, String(process.pid), { flag: 'wx' });
    } catch {
      return; // crashed once already
    }
    process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * The directories the ledger's DuckDB may touch besides its own files: where releases go and the
 * artifact store they count. Analysts' reads share that instance, so neither may hold the data folder
 * itself (its keys, Temporal's database): a subfolder of it, or a folder elsewhere.
 */
export function ledgerWriterDirectories(config: Pick<PreflineConfig, 'dataDir' | 'releasesDir' | 'artifactDir'>): string[] {
  const directories = [config.releasesDir, config.artifactDir];
  for (const [name, dir] of [['PREFLINE_RELEASES_DIR', config.releasesDir], ['PREFLINE_ARTIFACT_DIR', config.artifactDir]] as const) {
    const toData = relative(dir, config.dataDir);
    if (toData === '' || (toData !== '..' && !toData.startsWith(`..${sep}`))) {
      throw new ConfigMissingError(`${name} (${dir}) holds the data folder ${config.dataDir}: give it a folder of its own, e.g. <data>/${name === 'PREFLINE_RELEASES_DIR' ? 'releases' : 'artifacts'}`);
    }
  }
  return directories;
}

export async function startWorkers(config: PreflineConfig, env: NodeJS.ProcessEnv = process.env): Promise<RunningWorkers> {
  const logger = createLogger('worker', config);
  ensurePrivateDirSync(config.dataDir, (message) => logger.warn(message));
  // Before the first connection: the runtime carries the logger and, with metrics on, the exporter.
  const runtime = await installRuntime(logger, { metrics: config.metrics.worker !== undefined });
  const connection = await connectNative(config.temporal);
  const common = { connection, namespace: config.temporal.namespace };
  const workers: Worker[] = [];
  const queues: string[] = [];
  let ledger: Ledger | undefined;
  let readServer: LedgerReadServer | undefined;
  let ops: RunningOpsServer | undefined;

  try {
    logger.info('connected to Temporal', { server: describeTemporal(config.temporal) });
    // Without the search attributes a lifecycle's first workflow task fails forever: refuse to start instead.
    await requireClusterSetup(connection, config.temporal.namespace, (message, fields) => logger.warn(message, fields));
    if (config.workerQueues.includes('workflows')) {
      const workflowBundle = await loadWorkflowBundle(join(config.dataDir, 'cache'), config.logFormat);
      const slack = slackNotifier(config);
      const { email: emailPublisher, digests } = await emailChannel(config);
      const email = await emailNotifier(config);
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: config.taskQueue,
          workflowBundle,
          activities: createActivities({
            channels: { web: createWebPublisher(config.gateway.publicUrl, (message, fields) => logger.info(message, fields)), ...(await slackChannelPublishers(config)), ...(emailPublisher ? { email: emailPublisher } : {}) },
            // Campaign notifications: the webhook sender refuses every call, in words, until a secret is set.
            notify: { ...(slack ? { slack } : {}), ...(email ? { email } : {}), webhook: createWebhookSender(config.webhooks), webhookReceivers: config.webhooks.receivers },
            ...(digests ? { digests } : {}),
          }),
        }),
      );
      queues.push(config.taskQueue);
    }
    if (config.workerQueues.includes('inference')) {
      const artifacts = await ArtifactStore.open(config.artifactDir);
      const registry = new InferenceRegistry(createInferenceBackends(config));
      const chat = { registry, artifacts, replies: await ReplyRecords.open(config.artifactDir), streamKey: loadSecret(config, 'stream') };
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: inferenceQueue(config.taskQueue),
          activities: createActivities({
            inference: { registry, artifacts, downloader: createSafeDownloader(config.downloads), ...(config.importRoot !== undefined ? { importRoot: config.importRoot } : {}) },
            chat,
          }),
          maxConcurrentActivityTaskExecutions: config.inferenceConcurrency,
          // Heartbeats carry cancellation back: a cancelled lifecycle stops paying for GPU time within seconds.
          maxHeartbeatThrottleInterval: '2 seconds',
        }),
      );
      queues.push(inferenceQueue(config.taskQueue));
    }
    if (config.workerQueues.includes('ledger')) {
      ledger = await Ledger.openWriter(config.ledger.path, { allowedDirectories: ledgerWriterDirectories(config) });
      const afterCommit = faultInjection(env.PREFLINE_FAULT_INJECT);
      workers.push(
        await Worker.create({
          ...common,
          taskQueue: ledgerQueue(config.taskQueue),
          activities: createActivities({
            ledger: { ledger, ...(afterCommit ? { afterCommit } : {}) },
            // Releases read the ledger through this process's DuckDB instance (the only one allowed to open it).
            releases: { ledger, releasesDir: config.releasesDir, artifacts: await ArtifactStore.open(config.artifactDir), card: config.releaseCard },
          }),
          // One DuckDB writer connection: commits run one at a time.
          maxConcurrentActivityTaskExecutions: 1,
        }),
      );
      queues.push(ledgerQueue(config.taskQueue));
      readServer = await LedgerReadServer.start(ledger, {
        host: config.ledger.readHost,
        port: config.ledger.readPort,
        endpointFile: config.ledger.endpointFile,
      });
    }
    if (config.metrics.worker && runtime.metricsUrl) {
      ops = await startWorkerOps(config.metrics.worker, runtime.metricsUrl, connection, workers.map((worker, i) => ({ queue: queues[i]!, worker })));
    }
  } catch (err) {
    await readServer?.close();
    ledger?.closeSync();
    await connection.close();
    throw err;
  }

  logger.info('worker polling', { queues: queues.join(','), ...(readServer ? { ledgerReads: readServer.endpoint.url } : {}), ...(ops ? { ops: ops.url } : {}) });
  const done = Promise.all(workers.map((w) => w.run())).then(async () => {
    await ops?.close();
    closeEmailTransports();
    await readServer?.close();
    ledger?.closeSync();
    await connection.close();
    logger.info('worker stopped');
  });
  return {
    done,
    queues,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}
