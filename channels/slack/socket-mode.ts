/**
 * Slack Socket Mode: for deployments without a public URL. The gateway opens a WebSocket to Slack with
 * an app-level token (`xapp-…`, scope `connections:write`) and receives the same event and interactivity
 * payloads as over HTTP. No signing secret is involved: the socket itself is authenticated.
 * Each envelope is acknowledged first (Slack redelivers unacknowledged ones), then handed to the same
 * SlackInbound as the HTTP routes, which deduplicates by event id as before. A slash command is
 * acknowledged with its private answer as the ack's payload, as Slack expects over the socket.
 */
import { LogLevel, SocketModeClient } from '@slack/socket-mode';
import { DEFAULT_SLACK_API_URL } from './client';
import type { GatewayLog } from '../../core/http';
import type { SlackCommands, SlashCommandPayload } from './commands';
import type { AcceptResult, SlackInbound } from './inbound';

export interface SlackSocketModeOptions {
  appToken: string;
  apiUrl?: string;
  inbound: SlackInbound;
  /** The slash command; without it, commands are acknowledged with no answer. */
  commands?: Pick<SlackCommands, 'answer'>;
  log?: GatewayLog;
  /** Seconds between client pings and the pong deadline (SocketModeClient defaults: 5 s / 30 s). */
  clientPingTimeoutMs?: number;
  serverPingTimeoutMs?: number;
}

export interface RunningSocketMode {
  client: SocketModeClient;
  close(): Promise<void>;
}

interface SocketEnvelope {
  ack: (response?: Record<string, unknown>) => Promise<void>;
  type: string;
  body: unknown;
  retry_num?: number;
  retry_reason?: string;
}

export async function startSlackSocketMode(options: SlackSocketModeOptions): Promise<RunningSocketMode> {
  const log = options.log ?? (() => undefined);
  const client = new SocketModeClient({
    appToken: options.appToken,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: options.apiUrl ?? DEFAULT_SLACK_API_URL },
    ...(options.clientPingTimeoutMs ? { clientPingTimeout: options.clientPingTimeoutMs } : {}),
    ...(options.serverPingTimeoutMs ? { serverPingTimeout: options.serverPingTimeoutMs } : {}),
  });
  client.on('slack_event', (envelope: SocketEnvelope) => {
    void (async () => {
      // Acknowledge once the delivery is journaled; one that could not be is left unacknowledged, and
      // Slack delivers it again.
      let result: AcceptResult = 'ignored';
      let response: Record<string, unknown> | undefined;
      if (envelope.type === 'slash_commands' && options.commands) {
        const body = (envelope.body ?? {}) as Record<string, unknown>;
        const payload = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === 'string')) as SlashCommandPayload;
        const { text, blocks } = await options.commands.answer(payload);
        response = { response_type: 'ephemeral', text, ...(blocks ? { blocks } : {}) };
      } else if (envelope.type === 'events_api') {
        result = await options.inbound.acceptEvent(envelope.body, {
          ...(envelope.retry_num ? { retryNum: envelope.retry_num } : {}),
          ...(envelope.retry_reason ? { retryReason: envelope.retry_reason } : {}),
        });
      } else if (envelope.type === 'interactive') {
        result = await options.inbound.acceptInteraction(envelope.body);
      }
      if (result === 'failed') return;
      try {
        await envelope.ack(response);
      } catch (err) {
        // Unacknowledged: Slack redelivers it, and the inbox counts it once.
        log('warn', 'could not acknowledge a Socket Mode envelope', { type: envelope.type, error: (err as Error).message });
      }
    })();
  });
  client.on('error', (err: Error) => log('warn', 'Slack Socket Mode error', { error: err.message }));
  client.on('reconnecting', () => log('info', 'Slack Socket Mode reconnecting'));
  await client.start();
  log('info', 'Slack Socket Mode connected');
  return {
    client,
    async close() {
      await client.disconnect();
    },
  };
}
