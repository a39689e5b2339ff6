/**
 * The `/prefline` slash command, once its transport (routes.ts, with Slack's signature checked over the
 * raw body, or Socket Mode) has received it: who sent it, what it asks, and the private answer. Transport-
 * free and Temporal-free: lifecycles are reached through the LifecycleDirectory port (core/).
 *
 *   /prefline <prompt> [--model m] [--n 4] [--votes 3] [--deadline 2h] [--vs m2]   start a lifecycle here
 *   /prefline status          this channel's open lifecycles
 *   /prefline close <id>      close one (whoever started it, or ops)
 *   /prefline next [campaign] the rater's next campaign item, answered with its buttons (campaign-next.ts)
 *   /prefline help
 *
 * A start is checked here (team, starter list, text, models, the user's rate), then handed to
 * `accept`, which journals it before the answer goes out ("generating 4 candidates with demo:shapes…");
 * the lifecycle is started after the answer (command-starts.ts). Its id derives from the command's
 * `trigger_id`, so a retried command starts nothing twice. Every answer is private (ephemeral), in plain
 * words; prompts shown back are escaped, so a prompt holding `<!channel>` notifies nobody.
 */
import type { RateLimiter } from '../../core/rate-limit';
import type { LifecycleDirectory } from '../../core/lifecycle-directory';
import { messageOf, type GatewayLog } from '../../core/http';
import { pseudonymiseRater } from '../../core/pseudonym';
import type { LifecycleStatus } from '../../workflows/types';
import type { SlackUserList } from './allow-list';
import type { CommandResponder } from './answers';
import { CAMPAIGN_ANSWERS } from './campaign-messages';
import type { SlackCampaignItems } from './campaign-next';
import type { AcceptedStart } from './command-starts';
import { commandLifecycleId, parseCommandText, startInput, usage, type ChannelDefaults, type CommandRequest } from './command-text';
import { escapeMrkdwn } from './messages';
import { SLACK_ID } from './payloads';

/** The fields of a slash command's form body Prefline reads (Slack sends more). */
export interface SlashCommandPayload {
  command?: string;
  text?: string;
  team_id?: string;
  enterprise_id?: string;
  channel_id?: string;
  /** The channel's name (without `#`), as Slack sends it: a campaign started for `slack:#name` is found by it. */
  channel_name?: string;
  user_id?: string;
  response_url?: string;
  trigger_id?: string;
}

/**
 * `accepted`: journaled, to be started; `duplicate`: this command was accepted before; `refused`: new,
 * but `admit` said no (nothing kept); `failed`: not journaled.
 */
export type StartAcceptance = 'accepted' | 'duplicate' | 'refused' | 'failed';

export interface SlackCommandsDeps {
  directory: LifecycleDirectory;
  /** The teams whose commands count (SlackIdentity). */
  allowedTeams(): Promise<ReadonlySet<string>>;
  raterKey: Buffer;
  /** Who may start lifecycles; absent: nobody (starting from Slack is off). */
  starters?: SlackUserList;
  /** Who may close any lifecycle. */
  ops: SlackUserList;
  /** Models a start may use; the first is the default. */
  models: readonly string[];
  /** By channel id, and `*` for channels without an entry. */
  channelDefaults: Readonly<Record<string, ChannelDefaults>>;
  /** Starts per user (keyed by team and user). */
  startsPerUser: RateLimiter;
  /**
   * Journals a start, to be started after the answer (SlackInbound.acceptStart); `admit` is asked only
   * for a start not seen before, and may refuse it (the rate per user).
   */
  accept(start: AcceptedStart, admit: () => boolean): Promise<StartAcceptance>;
  /** Answers later, for a command that took longer than Slack waits (answers.ts createCommandResponder). */
  respond: CommandResponder;
  /** Campaign items (`next`); absent: campaigns are not offered on Slack here. */
  campaignItems?: Pick<SlackCampaignItems, 'next'>;
  /** Whether a user may rate (the votes' allow-list, SlackInbound.mayRate); required with campaignItems. */
  mayRate?: (user: string) => Promise<boolean>;
  log?: GatewayLog;
}

/** What the command is answered, privately: text, and blocks where the answer has buttons (a campaign item). */
export interface CommandAnswer {
  text: string;
  blocks?: Array<Record<string, unknown>>;
}

export const COMMAND_ANSWERS = {
  foreignTeam: ':no_entry: Commands from other workspaces are not accepted here.',
  unreadable: 'This command could not be read; nothing was started.',
  startsOff: ':no_entry: Starting lifecycles from Slack is off here; ask the operator (PREFLINE_SLACK_STARTERS).',
  notAStarter: ':no_entry: You may not start Prefline lifecycles; ask the operator to add you to the starters.',
  notAllowedToClose: ':no_entry: Only whoever started this lifecycle, or ops, may close it.',
  unreachable: ':warning: Prefline cannot reach its lifecycles right now; try again in a minute.',
  notJournaled: ':warning: Prefline could not take this command right now; nothing was started. Try again in a moment.',
  noneOpen: 'No Prefline lifecycles are open in this channel.',
  workingOnIt: ':hourglass: Working on it; the answer follows here.',
} as const;

/** Lifecycles a status answer looks through (the channel's are a subset). */
const STATUS_SCAN_LIMIT = 100;
const STATUS_SHOWN = 15;
const noLog: GatewayLog = () => undefined;

export class SlackCommands {
  private readonly log: GatewayLog;

  constructor(private readonly deps: SlackCommandsDeps) {
    this.log = deps.log ?? noLog;
  }

  /**
   * Answers within `withinMs` (Slack wants the answer within 3 s): a command that takes longer (Temporal
   * slow to list lifecycles) is answered "working on it", and its answer follows by `response_url`.
   */
  async answer(payload: SlashCommandPayload, withinMs = 2500): Promise<CommandAnswer> {
    const handled = this.handle(payload);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), withinMs);
    });
    const first = await Promise.race([handled, late]);
    clearTimeout(timer);
    if (first !== undefined) return first;
    const { channel_id: channel, user_id: user } = payload;
    if (isId(channel) && isId(user)) {
      void handled.then((answer) => this.deps.respond({ channel, user, ...(typeof payload.response_url === 'string' ? { responseUrl: payload.response_url } : {}) }, answer.text, { replace: true, ...(answer.blocks ? { blocks: answer.blocks } : {}) }));
    }
    return { text: COMMAND_ANSWERS.workingOnIt };
  }

  /** Answers one slash command; never rejects (a failure is answered in plain words and logged). */
  async handle(payload: SlashCommandPayload): Promise<CommandAnswer> {
    const { user_id: user, channel_id: channel, team_id: team } = payload;
    const command = typeof payload.command === 'string' && /^\/[a-z0-9_-]{1,32}$/i.test(payload.command) ? payload.command : '/prefline';
    if (!isId(user) || !isId(channel) || !isId(team)) return { text: COMMAND_ANSWERS.unreadable };
    try {
      const teams = await this.deps.allowedTeams();
      const enterprise = payload.enterprise_id;
      if (!teams.has(team) && !(isId(enterprise) && teams.has(enterprise))) {
        this.log('warn', 'Slack command from another team refused', { team });
        return { text: COMMAND_ANSWERS.foreignTeam };
      }
      const parsed = parseCommandText(typeof payload.text === 'string' ? payload.text : '');
      if (!parsed.ok) return { text: `${parsed.problem}\n\n${usage(command)}` };
      const request = parsed.request;
      const who = pseudonymiseRater(this.deps.raterKey, 'slack', user);
      switch (request.kind) {
        case 'help': return { text: usage(command) };
        case 'status': return { text: await this.status(channel, who) };
        case 'close': return { text: await this.close(request.lifecycleId, user, who) };
        case 'start': return { text: await this.start(request, payload, { user, channel, team, who, command }) };
        case 'next': return await this.next(request.campaignId, { user, channel, who, ...(typeof payload.channel_name === 'string' ? { channelName: payload.channel_name } : {}) });
      }
    } catch (err) {
      this.log('error', 'Slack command failed', { error: messageOf(err) });
      return { text: COMMAND_ANSWERS.unreachable };
    }
  }

  private async start(
    request: Extract<CommandRequest, { kind: 'start' }>,
    payload: SlashCommandPayload,
    from: { user: string; channel: string; team: string; who: string; command: string },
  ): Promise<string> {
    if (!this.deps.starters) return COMMAND_ANSWERS.startsOff;
    if (!(await this.deps.starters.includes(from.user))) {
      this.log('info', 'Slack start refused: not a starter', { rater: from.who });
      return COMMAND_ANSWERS.notAStarter;
    }
    const lifecycleId = typeof payload.trigger_id === 'string' ? commandLifecycleId(from.team, payload.trigger_id) : undefined;
    if (!lifecycleId) return COMMAND_ANSWERS.unreadable;
    const defaults = { ...this.deps.channelDefaults['*'], ...this.deps.channelDefaults[from.channel] };
    const built = startInput(request, { channelId: from.channel, defaults, models: this.deps.models, startedBy: from.who });
    if (!built.ok) return `${built.problem}\n\n${usage(from.command)}`;
    // The rate counts new starts only: a retried command (a duplicate) is answered as the first was.
    let wait = 0;
    const admit = () => (wait = this.deps.startsPerUser.take(`${from.team}:${from.user}`)) === 0;
    const accepted = await this.deps.accept({
      lifecycleId, input: built.input, summary: built.summary, team: from.team, channel: from.channel, user: from.user,
      ...(typeof payload.response_url === 'string' ? { responseUrl: payload.response_url } : {}),
    }, admit);
    if (accepted === 'failed') return COMMAND_ANSWERS.notJournaled;
    if (accepted === 'refused') {
      this.log('info', 'Slack starts rate-limited', { rater: from.who, retryAfterSeconds: wait });
      return `:hourglass: You started many lifecycles in a short time; try again in ${waitText(wait)}.`;
    }
    this.log('info', 'Slack start accepted', { lifecycleId, rater: from.who, duplicate: accepted === 'duplicate' });
    return built.summary;
  }

  /** A campaign item for a rater on the allow-list, asked with their pseudonym. */
  private async next(campaignId: string | undefined, from: { user: string; channel: string; who: string; channelName?: string }): Promise<CommandAnswer> {
    const { campaignItems, mayRate } = this.deps;
    if (!campaignItems || !mayRate) return { text: CAMPAIGN_ANSWERS.noCampaignHere };
    if (!(await mayRate(from.user))) {
      this.log('info', 'Slack next refused: not a rater', { rater: from.who });
      return { text: CAMPAIGN_ANSWERS.notARater };
    }
    return campaignItems.next(campaignId, from.who, { id: from.channel, name: from.channelName });
  }

  private async status(channel: string, who: string): Promise<string> {
    const active = await this.deps.directory.listActive('slack', STATUS_SCAN_LIMIT);
    const here = active.filter((l) => inChannel(l, channel));
    if (here.length === 0) return COMMAND_ANSWERS.noneOpen;
    const lines = here.slice(0, STATUS_SHOWN).map((l) => statusLine(l, who));
    const more = here.length > STATUS_SHOWN ? [`…and ${here.length - STATUS_SHOWN} more.`] : [];
    return [`Open Prefline lifecycles in this channel (${here.length}):`, ...lines, ...more].join('\n');
  }

  private async close(lifecycleId: string, user: string, who: string): Promise<string> {
    const status = await this.deps.directory.status(lifecycleId);
    const shown = `\`${escapeMrkdwn(lifecycleId)}\``;
    if (!status) return `There is no lifecycle ${shown}.`;
    const starter = status.startedBy !== undefined && status.startedBy === who;
    if (!starter && !(await this.deps.ops.includes(user))) {
      this.log('info', 'Slack close refused: neither the starter nor ops', { lifecycleId, rater: who });
      return COMMAND_ANSWERS.notAllowedToClose;
    }
    const outcome = await this.deps.directory.requestClose(lifecycleId, { reason: starter ? 'closed by its starter with /prefline close' : 'closed by ops with /prefline close' });
    this.log('info', 'Slack close', { lifecycleId, rater: who, outcome, as: starter ? 'starter' : 'ops' });
    if (outcome === 'requested') return `:lock: Closing ${shown}: it counts the votes it has, commits them and posts the result.`;
    if (outcome === 'ended') return `${shown} has closed already.`;
    return `There is no lifecycle ${shown}.`;
  }
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && SLACK_ID.test(value);
}

/** Whether a lifecycle posts to (or has posted in) this channel. */
function inChannel(lifecycle: LifecycleStatus, channel: string): boolean {
  return lifecycle.channel === `slack:${channel}` || (lifecycle.posts ?? []).some((p) => p.ref.startsWith(`slack:${channel}:`));
}

function statusLine(l: LifecycleStatus, who: string): string {
  const prompt = l.prompt.length > 80 ? `${l.prompt.slice(0, 79)}…` : l.prompt;
  const phase = l.phase === 'voting' ? `voting, ${l.votesAccepted} vote${l.votesAccepted === 1 ? '' : 's'}` : l.phase;
  const closes = l.deadlineAt ? `, closes ${closesIn(Date.parse(l.deadlineAt) - Date.now())}` : '';
  return `• \`${escapeMrkdwn(l.lifecycleId)}\` “${escapeMrkdwn(prompt)}” (${l.models.map(escapeMrkdwn).join(' vs ')}): ${phase}${closes}${l.startedBy === who ? ' · started by you' : ''}`;
}

function closesIn(ms: number): string {
  if (!(ms > 0)) return 'now';
  const minutes = ms / 60_000;
  if (minutes < 60) return `in ${Math.max(1, Math.floor(minutes))} min`;
  if (minutes < 48 * 60) return `in ${Math.floor(minutes / 60)} h`;
  return `in ${Math.floor(minutes / 1440)} d`;
}

function waitText(seconds: number): string {
  return seconds < 90 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}
