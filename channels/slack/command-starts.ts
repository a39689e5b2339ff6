/**
 * What happens to a `/prefline` start after its acknowledgement: the lifecycle is started (a start the
 * directory refuses as existing is a retried command: nothing more happens), then its progress is watched
 * with a bounded wait, and the ephemeral "generating…" is replaced (`response_url`, `replace_original`)
 * with a link to the posted candidates, or with why the lifecycle could not be generated.
 *
 * Why the gateway watches instead of the publisher reporting back: the `response_url` is a credential
 * (anyone holding it may post to the user) and would otherwise travel into workflow history; watching
 * keeps it in this process and the workers unaware of Slack commands. The watch is in memory only: a
 * restarted gateway does not finish a replacement (the candidates are in the channel anyway), but it
 * never starts twice, since the start is journaled (SlackInbound) and its id derives from the trigger.
 */
import type { LifecycleDirectory } from '../../core/lifecycle-directory';
import { messageOf, type GatewayLog } from '../../core/http';
import { exponentialBackoff, systemClock, type Clock } from '../../core/retry';
import { startMetadataOf } from '../../workflows/describe';
import type { LifecycleInput, LifecycleStatus } from '../../workflows/types';
import type { CommandResponder } from './answers';
import { escapeMrkdwn } from './messages';

/** A start accepted from a command (and journaled): everything needed to start it and to answer. */
export interface AcceptedStart {
  lifecycleId: string;
  input: LifecycleInput;
  /** What the acknowledgement said (`generating 4 candidates with demo:shapes…`). */
  summary: string;
  team: string;
  channel: string;
  user: string;
  responseUrl?: string;
}

export interface SlackStartsDeps {
  directory: LifecycleDirectory;
  /** The link to a message (`chat.getPermalink`); undefined if Slack will not say. */
  permalink(channel: string, ts: string): Promise<string | undefined>;
  /** Answers the command's user (answers.ts createCommandResponder). */
  respond: CommandResponder;
  /** How long a start is watched for its candidates. Default 25 minutes (a `response_url` lasts 30). */
  watchBudgetMs?: number;
  clock?: Clock;
  log?: GatewayLog;
}

/** Polls: 1 s, doubling to at most 10 s. */
const watchBackoff = exponentialBackoff({ baseMs: 1000, capMs: 10_000 });
const noLog: GatewayLog = () => undefined;

export class SlackStarts {
  private readonly watches = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly log: GatewayLog;
  private closed = false;

  constructor(private readonly deps: SlackStartsDeps) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? noLog;
  }

  /**
   * Starts the lifecycle and, if this call started it, watches it in the background. Rejects when the
   * lifecycle could not be started (Temporal unreachable): the inbound keeps the start and tries again.
   */
  async start(start: AcceptedStart): Promise<void> {
    // The Temporal UI lists it as it lists a `prefline start`: prompt, models, channel.
    const outcome = await this.deps.directory.start({ lifecycleId: start.lifecycleId, input: start.input, ...startMetadataOf(start.input, this.clock.now()) });
    this.log('info', outcome === 'started' ? 'lifecycle started from Slack' : 'Slack start already started; nothing more to do', { lifecycleId: start.lifecycleId });
    if (outcome !== 'started' || this.closed) return;
    const watch = this.watch(start).catch((err: unknown) => this.log('warn', 'watching a Slack start failed', { lifecycleId: start.lifecycleId, error: messageOf(err) }));
    this.watches.add(watch);
    void watch.finally(() => this.watches.delete(watch));
  }

  /** Resolves when every watch has ended (tests). */
  async idle(): Promise<void> {
    while (this.watches.size > 0) await Promise.allSettled([...this.watches]);
  }

  /** Stops watching (shutdown): replacements not yet sent are not sent. */
  close(): void {
    this.closed = true;
  }

  private async watch(start: AcceptedStart): Promise<void> {
    const deadline = this.clock.now() + (this.deps.watchBudgetMs ?? 25 * 60_000);
    for (let poll = 0; !this.closed && this.clock.now() < deadline; poll++) {
      const progress = await this.deps.directory.progress(start.lifecycleId).catch(() => undefined);
      if (progress?.state === 'failed') {
        return this.replace(start, `:warning: ${start.summary.replace(/…$/, '')} failed: ${escapeMrkdwn(oneLine(progress.failure ?? 'no reason given'))}. Nothing was posted.`);
      }
      const header = progress?.status && postedHeader(progress.status, start.channel);
      if (header) {
        const link = await this.deps.permalink(start.channel, header).catch(() => undefined);
        const where = link ? `<${link}|see them and vote>` : 'see them in this channel';
        return this.replace(start, `:white_check_mark: Candidates for “${escapeMrkdwn(oneLine(start.input.prompt).slice(0, 200))}” are posted: ${where} (lifecycle \`${start.lifecycleId}\`).`);
      }
      if (progress?.state === 'completed') return; // closed before posting (e.g. closed by ops): nothing to link to
      await this.clock.sleep(watchBackoff(poll));
    }
    if (!this.closed) this.log('warn', 'Slack start not posted within the watch; the acknowledgement stays as it is', { lifecycleId: start.lifecycleId });
  }

  /** Replaces the acknowledgement (on an allowed `response_url`; else a new ephemeral message). */
  private replace(start: AcceptedStart, text: string): Promise<void> {
    return this.deps.respond({ channel: start.channel, user: start.user, ...(start.responseUrl !== undefined ? { responseUrl: start.responseUrl } : {}) }, text, { replace: true });
  }
}

/** The `ts` of the lifecycle's header message in `channel`, once it has posted. */
function postedHeader(status: LifecycleStatus, channel: string): string | undefined {
  if (status.phase === 'generating' || status.phase === 'publishing') return undefined;
  const header = (status.posts ?? []).find((p) => p.candidateId === undefined && p.ref.startsWith(`slack:${channel}:`));
  return header?.ref.split(':')[2];
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
