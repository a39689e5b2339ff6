/**
 * The gateway process: one Temporal client for the whole process, the HTTP host (the rating page,
 * its sign-in and sessions) and the channels' inbound halves it mounts (web always; Slack and email when
 * configured). It verifies, parses and forwards; lifecycles decide.
 */
import { Client } from '@temporalio/client';
import type { Server } from 'node:http';
import { describeTemporal, loadSecret, type PreflineConfig } from '../config';
import { ensurePrivateDirSync } from '../core/files';
import { requireClusterSetup } from '../ops/cluster-setup';
import { createLogger } from '../ops/log';
import { startOpsServer, type HealthReport } from '../ops/ops-server';
import { installRuntime } from '../ops/runtime';
import { connectNative } from '../ops/temporal-connection';
import { TemporalProbe } from '../ops/temporal-probe';
import { ArtifactStore } from '../store/ArtifactStore';
import { signedArtifactUrl } from './artifact-urls';
import type { ArtifactSource } from './artifact-source';
import { createGatewayServer, listen } from './http-server';
import { InviteRegistry } from './invite-registry';
import { startEmailGateway } from './email';
import { createGatewayMetrics } from './metrics';
import { startSlackGateway } from './slack';
import { TemporalCampaignDirectory } from '../core/temporal-campaigns';
import { GenerationBudget } from '../core/generation-budget';
import { TemporalLifecycleDirectory } from '../core/temporal-directory';
import { TemporalConversationDirectory } from '../core/temporal-conversations';
import { ChatStreamHub } from '../channels/chat/stream-hub';

export interface RunningGateway {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export function artifactSourceFor(store: ArtifactStore): ArtifactSource {
  return {
    async open(sha256) {
      const ref = await store.stat(sha256);
      if (!ref) return undefined;
      const { bytes } = await store.read(sha256);
      return { mime: ref.mime, size: ref.size, bytes };
    },
  };
}

export async function startGateway(config: PreflineConfig): Promise<RunningGateway> {
  const logger = createLogger('gateway', config);
  ensurePrivateDirSync(config.dataDir, (message) => logger.warn(message));
  // The SDK's logs go through Prefline's logger; with the ops endpoint on, the gateway's counters and its
  // Temporal client's metrics share the runtime's exporter.
  const runtime = await installRuntime(logger, { metrics: config.metrics.gateway !== undefined });
  // The Rust-core connection (the one workers use) costs far less CPU per RPC than the pure-JS gRPC
  // client; bench/votes measured the difference. One connection for the whole process.
  const connection = await connectNative(config.temporal);
  try {
    await requireClusterSetup(connection, config.temporal.namespace, (message, fields) => logger.warn(message, fields));
  } catch (err) {
    await connection.close();
    throw err;
  }
  logger.info('connected to Temporal', { server: describeTemporal(config.temporal) });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const artifacts = await ArtifactStore.open(config.artifactDir);
  const metrics = runtime.metricsUrl ? createGatewayMetrics(runtime.meter) : undefined;
  // Slack commands and the prompt box start lifecycles on the workers' task queue.
  const temporalDirectory = new TemporalLifecycleDirectory(client, { taskQueue: config.taskQueue });
  const directory = metrics ? metrics.directory(temporalDirectory) : temporalDirectory;
  const probe = TemporalProbe.of(connection);
  const health = async (): Promise<HealthReport> => {
    const temporal = await probe.check();
    return { ok: temporal.temporal === 'ok', ...temporal };
  };
  const gatewayLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => logger[level](message, fields);
  // Slack votes (docs/slack.md): routes when the signing secret is set, Socket Mode when the app token is.
  const campaigns = new TemporalCampaignDirectory(client);
  const publicUrl = config.gateway.publicUrl?.replace(/\/+$/, '');
  const sessionKey = loadSecret(config, 'session');
  const slack = await startSlackGateway(config, {
    client, directory, raterKey: loadSecret(config, 'rater'), log: gatewayLog, campaigns,
    // Slack fetches a campaign item's images itself: signed artifact URLs on the public origin.
    ...(publicUrl ? { imageUrl: (sha256: string) => `${publicUrl}${signedArtifactUrl(sessionKey, sha256, Date.now())}` } : {}),
  });
  // Email votes (docs/email.md): link routes when email is configured; replies by the SMTP listener or the IMAP poller.
  const email = await startEmailGateway(config, { directory, log: gatewayLog });
  // The prompt box (docs/web.md), when PREFLINE_WEB_START_MODELS offers models; its budget folder is shared by every gateway.
  const starts = config.gateway.starts;
  const server = createGatewayServer({
    directory,
    campaigns,
    artifacts: artifactSourceFor(artifacts),
    raterKey: loadSecret(config, 'rater'),
    sessionKey: loadSecret(config, 'session'),
    invites: { registry: await InviteRegistry.open(config.gateway.invitesDir), key: loadSecret(config, 'invite') },
    openPanel: config.gateway.openPanel,
    ...(config.gateway.accessCode !== undefined ? { accessCode: config.gateway.accessCode } : {}),
    ...(config.gateway.oidc ? { oidc: config.gateway.oidc } : {}),
    sessionTtlMs: config.gateway.sessionTtlMs,
    publicUrl: config.gateway.publicUrl,
    trustProxyHops: config.gateway.trustProxyHops,
    limits: config.gateway.limits,
    ...(starts
      ? { starts: { models: starts.models, startsPerHour: starts.startsPerHour, budget: await GenerationBudget.open(starts.budgetDir, starts.dailyCandidates), oidcGenerators: starts.oidcGenerators } }
      : {}),
    log: (level, message, fields) => logger[level](message, fields),
    channelRoutes: [...(slack?.routes ?? []), ...(email?.routes ?? [])],
    chat: {
      conversations: new TemporalConversationDirectory(client, { taskQueue: config.taskQueue }),
      settings: config.chat,
      textOf: async (sha256) => (await artifacts.read(sha256)).bytes.toString('utf8'),
      // Chat replies stream back through this process: its own URL names it to the inference workers.
      streams: new ChatStreamHub(loadSecret(config, 'stream'), config.chat.internalUrl),
      internalUrl: config.chat.internalUrl,
      messagesPerMinute: config.chat.messagesPerMinute,
    },
    health,
    ...(metrics ? { observe: metrics.request } : {}),
  });
  if (config.gateway.accessCode !== undefined && !config.gateway.openPanel) {
    logger.warn('PREFLINE_WEB_ACCESS_CODE gates the open panel only, which is off: invite links and OIDC need no code (docs/web.md)');
  }
  const { url } = await listen(server, config.gateway.host, config.gateway.port);
  const ops = config.metrics.gateway && runtime.metricsUrl ? await startOpsServer({ ...config.metrics.gateway, metricsUrl: runtime.metricsUrl, health }) : undefined;
  logger.info('rating page and vote API listening', { url, ...(ops ? { ops: ops.url } : {}) });
  return {
    url,
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await slack?.close();
      await email?.close();
      await ops?.close();
      await connection.close();
    },
  };
}
