/**
 * Workflow-test fixtures on the real Temporal dev server (the binary scripts/install-temporal.sh builds):
 * one server per mocha run, started on first use and stopped by the root hook; one bundle per run;
 * a unique task queue per test; workers wired with real activities over temp dirs.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCampaignItemActivities, createCampaignLedgerActivities, createChannelActivities, createChatInferenceActivities, createChatLedgerActivities, createInferenceActivities, createLedgerActivities } from '../../activities';
import { createWebPublisher } from '../../channels/web/publisher';
import { createReleaseActivities } from '../../activities/release';
import type { CampaignDigestActivities, CampaignNotifyActivities, ChannelActivities, ChatInferenceActivities, InferenceActivities, LedgerActivities } from '../../activities/types';
import type { SafeDownloader } from '../../connectors/http/safe-download';
import { createDemoBackend } from '../../connectors/inference/demo';
import { InferenceRegistry } from '../../connectors/inference/registry';
import type { InferenceBackend } from '../../connectors/inference/types';
import { DevServer, freePort, temporalBinaryPath } from '../../ops/dev-server';
import { createLogger } from '../../ops/log';
import { ArtifactStore } from '../../store/ArtifactStore';
import { Ledger } from '../../store/Ledger';
import { ReplyRecords } from '../../store/reply-records';
import { buildWorkflowBundle } from '../../workers/bundle';
import { inferenceQueue, ledgerQueue } from '../../workflows/queues';
import { statusQuery } from '../../workflows/messages';
import type { WorkflowHandle } from '@temporalio/client';
import { waitUntil } from './processes';

export interface SharedTemporal {
  server: DevServer;
  address: string;
  connection: Connection;
  client: Client;
  nativeConnection: NativeConnection;
}

let shared: Promise<SharedTemporal> | undefined;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
let runtimeInstalled = false;

export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: createLogger('test-worker', process.env.PREFLINE_TEST_LOG_LEVEL ?? 'error'), shutdownSignals: [] });
  runtimeInstalled = true;
}

export function sharedTemporal(): Promise<SharedTemporal> {
  shared ??= (async () => {
    installTestRuntime();
    const server = await DevServer.start({ binary: temporalBinaryPath(), port: await freePort() });
    const connection = await Connection.connect({ address: server.address });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    return { server, address: server.address, connection, nativeConnection, client: new Client({ connection }) };
  })();
  return shared;
}

export async function stopSharedTemporal(): Promise<void> {
  if (!shared) return;
  const s = await shared.catch(() => undefined);
  shared = undefined;
  if (!s) return;
  // A worker may still hold the native connection while its shutdown completes; the process exits
  // right after the suite anyway, so only the dev server must be stopped for sure.
  await s.nativeConnection.close().catch(() => undefined);
  await s.connection.close();
  await s.server.stop();
}

export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= buildWorkflowBundle();
  return bundle;
}

let queueCounter = 0;
export function uniqueQueue(label: string): string {
  return `test-${label.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-${process.pid}-${++queueCounter}`;
}

export interface LifecycleWorkers {
  taskQueue: string;
  ledger: Ledger;
  artifacts: ArtifactStore;
  /** Where `publishRelease` writes (under the temp dir). */
  releasesDir: string;
  dir: string;
  /** Runs `fn` while all three workers poll, then shuts them down. */
  run<T>(fn: () => Promise<T>): Promise<T>;
  close(): void;
}

export interface WorkerOverrides {
  /** Inference backends besides the demo one (e.g. Replicate/OpenAI pointed at stand-ins). */
  backends?: InferenceBackend[];
  /** PREFLINE_IMPORT_ROOT of the inference worker (brought `file:` candidates). */
  importRoot?: string;
  /** The inference worker's downloader of brought `https:` candidates (default: the strict rules). */
  downloader?: SafeDownloader;
  inference?: Partial<InferenceActivities & ChatInferenceActivities>;
  /** Pause before each word of a demo chat reply (default 1 ms: fast tests, still streamed). */
  chatTokenMs?: number;
  /** The stream key chat replies are streamed with (none: not streamed). */
  streamKey?: Buffer;
  /** Lifecycle-queue activities: channels, campaign notifications and digests (none by default). */
  channel?: Partial<ChannelActivities & CampaignNotifyActivities & CampaignDigestActivities>;
  ledger?: Partial<LedgerActivities>;
}

/** Workers for the three queues of one lifecycle task queue, over a temp artifact store and ledger. */
export async function createLifecycleWorkers(label: string, overrides: WorkerOverrides = {}): Promise<LifecycleWorkers> {
  const { nativeConnection } = await sharedTemporal();
  const taskQueue = uniqueQueue(label);
  const dir = mkdtempSync(join(tmpdir(), 'prefline-wf-'));
  const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
  const releasesDir = join(dir, 'releases');
  const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [releasesDir, artifacts.rootDir] });
  const registry = new InferenceRegistry([createDemoBackend({ chatTokenMs: overrides.chatTokenMs ?? 1 }), ...(overrides.backends ?? [])]);
  const replies = await ReplyRecords.open(join(dir, 'artifacts'));
  const workers = await Promise.all([
    Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { ...createChannelActivities({ web: createWebPublisher('http://rating.test') }), ...overrides.channel },
    }),
    Worker.create({
      connection: nativeConnection,
      taskQueue: inferenceQueue(taskQueue),
      maxHeartbeatThrottleInterval: '2 seconds',
      activities: {
        ...createInferenceActivities({
          registry,
          artifacts,
          ...(overrides.importRoot !== undefined ? { importRoot: overrides.importRoot } : {}),
          ...(overrides.downloader !== undefined ? { downloader: overrides.downloader } : {}),
        }),
        ...createCampaignItemActivities({ artifacts }),
        ...createChatInferenceActivities({ registry, artifacts, replies, ...(overrides.streamKey ? { streamKey: overrides.streamKey } : {}) }),
        ...overrides.inference,
      },
    }),
    Worker.create({
      connection: nativeConnection,
      taskQueue: ledgerQueue(taskQueue),
      activities: { ...createLedgerActivities({ ledger }), ...createChatLedgerActivities({ ledger }), ...createCampaignLedgerActivities({ ledger }), ...createReleaseActivities({ ledger, releasesDir, artifacts }), ...overrides.ledger },
      maxConcurrentActivityTaskExecutions: 1,
    }),
  ]);
  return {
    taskQueue,
    ledger,
    artifacts,
    releasesDir,
    dir,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      const [first, ...others] = workers;
      const runOthers = others.map((w) => w.run());
      try {
        return await first!.runUntil(fn);
      } finally {
        for (const w of others) if (w.getState() === 'RUNNING') w.shutdown();
        await Promise.all(runOthers);
      }
    },
    close() {
      ledger.closeSync();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the lifecycle has generated and published its candidates and accepts votes. */
export async function waitForVoting(handle: WorkflowHandle, timeoutMs = 60_000): Promise<void> {
  await waitUntil(async () => ((await handle.query(statusQuery)).phase === 'voting' ? true : undefined), timeoutMs, `${handle.workflowId} to open voting`);
}
