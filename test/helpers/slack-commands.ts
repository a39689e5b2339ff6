/**
 * A gateway serving `POST /slack/commands` (and the other Slack routes) over real HTTP, with the Slack
 * stand-in as Slack (it signs and sends the commands, records what reaches `response_url`s, answers
 * `chat.getPermalink`) and lifecycles behind the fake directory (starts recorded, one per id). Starts go
 * through a real delivery journal in a temp folder. Shared by test/channels/slack/commands.test.ts and
 * test/security/start.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlackUserList } from '../../channels/slack/allow-list';
import { createCommandResponder, responseUrlOrigins } from '../../channels/slack/answers';
import { createSlackWebClient } from '../../channels/slack/client';
import { SlackStarts } from '../../channels/slack/command-starts';
import type { ChannelDefaults } from '../../channels/slack/command-text';
import { SlackCommands } from '../../channels/slack/commands';
import { DeliveryJournal } from '../../channels/slack/delivery-journal';
import { SlackInbound } from '../../channels/slack/inbound';
import { createSlackRoutes } from '../../channels/slack/routes';
import type { GatewayLogLevel } from '../../core/http';
import { RateLimiter } from '../../core/rate-limit';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { FakeDirectory, MemoryArtifacts } from './fake-directory';
import { FakeSlackPosts, RATER_KEY } from './slack-gateway';
import { SlackStandIn } from '../standins/slack-server';

export { RATER_KEY };
export const CHANNEL = 'C0FEEDBK01';
export const OTHER_CHANNEL = 'C0OTHER001';
/** Who is who in the stand-in's workspace. */
export const USERS = { starter: 'U0ALICE01', groupStarter: 'U0GROUP01', stranger: 'U0STRANGE', ops: 'U0OPS0001', other: 'U0BOB0001' } as const;

export interface CommandHarnessOptions {
  /** Starter user ids and groups; default Alice and the group S0STARTRS (holding U0GROUP01); null: nobody may start. */
  starters?: { users: string[]; usergroups: string[] } | null;
  ops?: { users: string[]; usergroups: string[] };
  models?: string[];
  channelDefaults?: Record<string, ChannelDefaults>;
  startsPerHour?: number;
  responseUrlOrigins?: string[];
  /** Another harness's journal folder, to start where it stopped. */
  journalDir?: string;
  /** Another harness's directory and stand-in, to be a second gateway of the same deployment. */
  directory?: FakeDirectory;
  slack?: SlackStandIn;
}

export interface CommandHarness {
  slack: SlackStandIn;
  directory: FakeDirectory;
  inbound: SlackInbound;
  commands: SlackCommands;
  starts: SlackStarts;
  journal: DeliveryJournal;
  journalDir: string;
  url: string;
  server: http.Server;
  logs: Array<{ level: GatewayLogLevel; msg: string; fields?: Record<string, unknown> }>;
  /** Types `/prefline <text>` as `user` in `channel` (default the feedback channel), signed by the stand-in. */
  command(user: string, text: string, extra?: Partial<Parameters<SlackStandIn['slashCommandFields']>[0]>): Promise<{ status: number; body: Record<string, unknown>; fields: Record<string, string> }>;
  /**
   * Stops serving. `keepJournal` leaves pending starts for the next harness (a gateway that stopped);
   * `keepSlack` leaves the stand-in running for it.
   */
  stop(options?: { keepJournal?: boolean; keepSlack?: boolean }): Promise<void>;
}

/** Waits that pass quickly: the watch polls every 20 ms instead of 1 s and more. */
const quickClock = { now: () => Date.now(), sleep: () => new Promise<void>((resolve) => setTimeout(resolve, 20)) };

export async function startCommandHarness(options: CommandHarnessOptions = {}): Promise<CommandHarness> {
  const slack = options.slack ?? await SlackStandIn.start({ usergroups: { S0STARTRS: [USERS.groupStarter], S0OPSTEAM: [USERS.ops] }, channels: [{ id: CHANNEL, name: 'ox-feedback' }, { id: OTHER_CHANNEL, name: 'elsewhere' }] });
  const directory = options.directory ?? new FakeDirectory();
  const logs: CommandHarness['logs'] = [];
  const log = (level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, ...(fields ? { fields } : {}) });
  const web = createSlackWebClient({ token: slack.botToken, apiUrl: slack.apiUrl, retries: 0 });
  const respond = createCommandResponder({
    postEphemeral: (args) => web.chat.postEphemeral(args),
    responseUrlOrigins: responseUrlOrigins(options.responseUrlOrigins, slack.apiUrl),
    log,
  });
  const starts = new SlackStarts({
    directory,
    permalink: async (channel, ts) => (await web.chat.getPermalink({ channel, message_ts: ts })).permalink,
    respond,
    clock: quickClock,
    log,
  });
  const journalDir = options.journalDir ?? mkdtempSync(join(tmpdir(), 'prefline-slack-commands-'));
  const { journal, recovered } = await DeliveryJournal.open(journalDir);
  const inbound = new SlackInbound({
    posts: new FakeSlackPosts(),
    raterKey: RATER_KEY,
    web,
    journal,
    startLifecycle: (start) => starts.start(start),
    forwardBudgetMs: 300,
    redeliverAfterMs: 100,
    log,
  });
  const members = async (usergroup: string) => (await web.usergroups.users.list({ usergroup })).users ?? [];
  const list = (m: { users: string[]; usergroups: string[] }, purpose: string) => new SlackUserList(members, new Set(m.users), m.usergroups, Date.now, log, purpose);
  const starters = options.starters === undefined ? { users: [USERS.starter], usergroups: ['S0STARTRS'] } : options.starters;
  const commands = new SlackCommands({
    directory,
    allowedTeams: () => inbound.identity.allowedTeams(),
    raterKey: RATER_KEY,
    ...(starters ? { starters: list(starters, 'starter') } : {}),
    ops: list(options.ops ?? { users: [], usergroups: ['S0OPSTEAM'] }, 'ops'),
    models: options.models ?? ['demo:shapes', 'demo:gradient', 'demo:text'],
    channelDefaults: options.channelDefaults ?? {},
    startsPerUser: new RateLimiter(options.startsPerHour ?? 10, 3_600_000),
    accept: (start, admit) => inbound.acceptStart(start, admit).then((r) => (r === 'ignored' ? 'failed' : r)),
    respond,
    log,
  });
  inbound.resume(recovered);
  const server = createGatewayServer({
    directory,
    artifacts: new MemoryArtifacts(),
    raterKey: RATER_KEY,
    sessionKey: Buffer.from('session-key-for-slack-commands-01'),
    sessionTtlMs: 3600_000,
    channelRoutes: createSlackRoutes({ signingSecret: slack.signingSecret, inbound, commands, log }),
    log,
  });
  const { url } = await listen(server, '127.0.0.1', 0);
  const harness: CommandHarness = {
    slack, directory, inbound, commands, starts, journal, journalDir, url, server, logs,
    async command(user, text, extra = {}) {
      const fields = slack.slashCommandFields({ user, channel: CHANNEL, text, ...extra });
      const res = await slack.deliverCommand(url, fields);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(res.body) as Record<string, unknown>;
      } catch {
        body = { raw: res.body };
      }
      return { status: res.status, body, fields };
    },
    async stop({ keepJournal = false, keepSlack = false } = {}) {
      inbound.close();
      starts.close();
      if (!keepJournal) {
        await inbound.idle();
        await starts.idle();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await journal.close();
      if (!options.slack && !keepSlack) await slack.close();
      if (!keepJournal && !options.journalDir) rmSync(journalDir, { recursive: true, force: true });
    },
  };
  return harness;
}
