/**
 * The gateway process: one Temporal client for the whole process, the rating page and the vote API.
 * It verifies, parses and forwards; lifecycles decide.
 */
import { Client, Connection } from '@temporalio/client';
import type { Server } from 'node:http';
import { loadSecret, type PreflineConfig } from '../config';
import { createLogger } from '../ops/log';
import { ArtifactStore } from '../store/ArtifactStore';
import type { ArtifactSource } from './artifact-source';
import { createGatewayServer, listen } from './http-server';
import { TemporalLifecycleDirectory } from './temporal-directory';

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
  const logger = createLogger('gateway', config.logLevel);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const artifacts = await ArtifactStore.open(config.artifactDir);
  const server = createGatewayServer({
    directory: new TemporalLifecycleDirectory(client),
    artifacts: artifactSourceFor(artifacts),
    raterKey: loadSecret(config, 'rater'),
    sessionKey: loadSecret(config, 'session'),
    ...(config.gateway.accessCode !== undefined ? { accessCode: config.gateway.accessCode } : {}),
    sessionTtlMs: config.gateway.sessionTtlMs,
    publicUrl: config.gateway.publicUrl,
    log: (level, message, fields) => logger[level](message, fields),
  });
  const { url } = await listen(server, config.gateway.host, config.gateway.port);
  logger.info('rating page and vote API listening', { url });
  return {
    url,
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await connection.close();
    },
  };
}
