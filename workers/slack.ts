/**
 * The Slack channel publisher of a workflows worker, when PREFLINE_SLACK_BOT_TOKEN is set. It reads
 * image bytes from the shared artifact store (uploads take Buffers, never paths).
 */
import type { ChannelPublisher } from '../channels/types';
import type { PreflineConfig } from '../config';
import { createSlackNotifier, type SlackNotifier } from '../channels/slack/notifier';
import { createSlackPublisher } from '../channels/slack/publisher';
import { createLogger } from '../ops/log';
import { ArtifactStore } from '../store/ArtifactStore';

export async function slackChannelPublishers(config: PreflineConfig): Promise<{ slack?: ChannelPublisher }> {
  const token = config.slack?.botToken;
  if (!token) return {};
  const artifacts = await ArtifactStore.open(config.artifactDir);
  const logger = createLogger('slack', config);
  return {
    slack: createSlackPublisher({
      token,
      apiUrl: config.slack!.apiUrl,
      readArtifact: async (sha256) => (await artifacts.read(sha256)).bytes,
      log: (level, message, fields) => logger[level](message, fields),
    }),
  };
}

/** The campaign notifications' Slack poster of a workflows worker, when PREFLINE_SLACK_BOT_TOKEN is set. */
export function slackNotifier(config: PreflineConfig): SlackNotifier | undefined {
  const token = config.slack?.botToken;
  if (!token) return undefined;
  const logger = createLogger('slack', config);
  return createSlackNotifier({ token, apiUrl: config.slack!.apiUrl, log: (level, message, fields) => logger[level](message, fields) });
}
