/**
 * Wires Slack into the gateway process from configuration: the HTTP routes when the signing secret is
 * set, Socket Mode when the app token is set (both may be), sharing one SlackInbound and so one
 * deduplication inbox and delivery journal, and the `/prefline` command with it (its starts are
 * journaled there too).
 */
import type { Client } from '@temporalio/client';
import type { PreflineConfig } from '../config';
import { ConfigError } from '../config';
import type { ChannelInbound } from '../channels/types';
import { SlackUserList } from '../channels/slack/allow-list';
import { createCommandResponder, responseUrlOrigins } from '../channels/slack/answers';
import { SlackStarts } from '../channels/slack/command-starts';
import { SlackCampaignItems } from '../channels/slack/campaign-next';
import { SlackCommands } from '../channels/slack/commands';
import { createSlackWebClient } from '../channels/slack/client';
import { DeliveryJournal } from '../channels/slack/delivery-journal';
import { SlackInbound } from '../channels/slack/inbound';
import { SAFE_MESSAGE_REF } from '../channels/slack/messages';
import { createSlackRoutes } from '../channels/slack/routes';
import { startSlackSocketMode, type RunningSocketMode } from '../channels/slack/socket-mode';
import type { CampaignDirectory } from '../core/campaign-directory';
import type { GatewayLog } from '../core/http';
import type { LifecycleDirectory } from '../core/lifecycle-directory';
import { RateLimiter } from '../core/rate-limit';
import { TemporalPostDirectory } from '../core/temporal-posts';
import { postRefsKey } from '../workflows/search-attributes';

/** The Slack channel's gateway half: its HTTP routes (none in Socket Mode only), its inbound and its command. */
export interface RunningSlackGateway extends ChannelInbound {
  inbound: SlackInbound;
  commands: SlackCommands;
}

const HOUR_MS = 3_600_000;

export async function startSlackGateway(
  config: PreflineConfig,
  deps: {
    client: Client; directory: LifecycleDirectory; raterKey: Buffer; log: GatewayLog;
    /** Campaigns on Slack (`/prefline next`); `imageUrl` a public URL of an artifact, for image items. */
    campaigns?: CampaignDirectory; imageUrl?: (sha256: string) => string | undefined;
  },
): Promise<RunningSlackGateway | undefined> {
  const slack = config.slack;
  if (!slack || (slack.signingSecret === undefined && slack.appToken === undefined)) {
    if (slack?.botToken) deps.log('warn', 'Slack votes are not received: set PREFLINE_SLACK_SIGNING_SECRET (HTTP) or PREFLINE_SLACK_APP_TOKEN (Socket Mode) on the gateway');
    return undefined;
  }
  // The bot token tells the gateway which reactions are the bot's own, and resolves rater groups.
  if (!slack.botToken) throw new ConfigError('PREFLINE_SLACK_BOT_TOKEN is required on the gateway when Slack votes are received');
  // Deliveries are journaled before they are acknowledged; what a stopped gateway left is replayed below.
  const { journal, recovered } = await DeliveryJournal.open(slack.journalDir, { log: deps.log });
  const web = createSlackWebClient({ token: slack.botToken, apiUrl: slack.apiUrl });
  const respond = createCommandResponder({
    postEphemeral: (args) => web.chat.postEphemeral(args),
    responseUrlOrigins: responseUrlOrigins(slack.responseUrlOrigins, web.slackApiUrl),
    log: deps.log,
  });
  // Commands' starts run after their acknowledgement, from the journal (command-starts.ts).
  const starts = new SlackStarts({
    directory: deps.directory,
    permalink: async (channel, ts) => (await web.chat.getPermalink({ channel, message_ts: ts })).permalink,
    respond,
    log: deps.log,
  });
  const campaignItems = deps.campaigns
    ? new SlackCampaignItems({ campaigns: deps.campaigns, lifecycles: deps.directory, ...(deps.imageUrl ? { imageUrl: deps.imageUrl } : {}), log: deps.log })
    : undefined;
  const inbound = new SlackInbound({
    journal,
    ...(campaignItems ? { campaignItems } : {}),
    posts: new TemporalPostDirectory(deps.client, deps.directory, { channel: 'slack', refPattern: SAFE_MESSAGE_REF, searchAttribute: postRefsKey.name }),
    raterKey: deps.raterKey,
    web,
    startLifecycle: (start) => starts.start(start),
    allowedUsers: slack.allowedUsers,
    ...(slack.allowedUsergroup ? { allowedUsergroup: slack.allowedUsergroup } : {}),
    ...(slack.teamIds ? { teamIds: slack.teamIds } : {}),
    ...(slack.responseUrlOrigins ? { responseUrlOrigins: slack.responseUrlOrigins } : {}),
    log: deps.log,
  });
  void inbound.start().catch(() => undefined); // learn the bot's identity now; handlers await it
  const commands = createCommands(slack.commands, { web, inbound, respond, directory: deps.directory, raterKey: deps.raterKey, log: deps.log, ...(campaignItems ? { campaignItems } : {}) });
  inbound.resume(recovered);
  const routes = slack.signingSecret !== undefined ? createSlackRoutes({ signingSecret: slack.signingSecret, inbound, commands, log: deps.log }) : [];
  let socket: RunningSocketMode | undefined;
  if (slack.appToken) socket = await startSlackSocketMode({ appToken: slack.appToken, apiUrl: slack.apiUrl, inbound, commands, log: deps.log });
  deps.log('info', 'Slack votes enabled', { http: routes.length > 0, socketMode: socket !== undefined, starts: slack.commands.starters !== undefined });
  return {
    routes,
    inbound,
    commands,
    async close() {
      // Stop receiving, then give acknowledged votes a moment to reach their lifecycles before exiting.
      await socket?.close();
      await Promise.race([inbound.idle(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      starts.close();
      inbound.close();
      await journal.close(); // what is still pending stays in the file for the next gateway
    },
  };
}

/** The `/prefline` command from its configuration: starters and ops (users and user groups), models, defaults, rate. */
function createCommands(
  config: NonNullable<PreflineConfig['slack']>['commands'],
  deps: {
    web: ReturnType<typeof createSlackWebClient>; inbound: SlackInbound; respond: ReturnType<typeof createCommandResponder>; directory: LifecycleDirectory; raterKey: Buffer; log: GatewayLog;
    campaignItems?: SlackCampaignItems;
  },
): SlackCommands {
  const members = async (usergroup: string) => (await deps.web.usergroups.users.list({ usergroup })).users ?? [];
  const list = (m: { users: string[]; usergroups: string[] }, purpose: string) => new SlackUserList(members, new Set(m.users), m.usergroups, Date.now, deps.log, purpose);
  return new SlackCommands({
    directory: deps.directory,
    allowedTeams: () => deps.inbound.identity.allowedTeams(),
    raterKey: deps.raterKey,
    ...(config.starters ? { starters: list(config.starters, 'starter') } : {}),
    ops: list(config.ops, 'ops'),
    models: config.models,
    channelDefaults: config.channelDefaults,
    startsPerUser: new RateLimiter(config.startsPerHour, HOUR_MS),
    accept: (start, admit) => deps.inbound.acceptStart(start, admit).then((r) => (r === 'ignored' ? 'failed' : r)),
    respond: deps.respond,
    ...(deps.campaignItems ? { campaignItems: deps.campaignItems, mayRate: (user: string) => deps.inbound.mayRate(user) } : {}),
    log: deps.log,
  });
}
