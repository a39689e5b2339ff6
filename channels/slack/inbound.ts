/**
 * Slack votes in: what the gateway does with a reaction event or a button click once its transport
 * (HTTP with signatures in routes.ts, or Socket Mode) has received it. Transport-free and Temporal-free:
 * lifecycles are reached through the PostDirectory port (core/post-directory.ts).
 *
 * - Acknowledge first, forward after (Slack wants an answer within 3 s): a delivery is claimed in the
 *   deduplication inbox (dedupe-inbox.ts), written to the delivery journal (journaling.ts), and then
 *   acknowledged; forwarding runs in the background, at most `maxConcurrentForwards` at once.
 * - Forwarding that fails (Temporal briefly down) is retried with backoff for a bounded time
 *   (forwarding.ts), and logged loudly; with a journal, a delivery still not forwarded is kept and
 *   tried again later, and one the gateway died holding is replayed by the next gateway (`resume`).
 * - Reactions are signals (fire-and-forget, no 10-in-flight-update limit); clicks are updates, because
 *   the clicker gets an ephemeral answer (answers.ts: recorded / changed / withdrawn / voting closed).
 * - Which events are votes, and which votes they are, is decided by votes.ts (pure); who may vote by
 *   allow-list.ts, and only raters of the configured teams (default: the bot token's own) count:
 *   a reaction or click naming another team (Slack Connect) is refused (payloads.ts).
 */
import type { WebClient } from '@slack/web-api';
import type { AcceptedStart } from './command-starts';
import { createEphemeralAnswer, responseUrlOrigins } from './answers';
import type { SlackCampaignItems } from './campaign-next';
import { RaterAllowList } from './allow-list';
import type { DeliveryJournal, JournalEntry } from './delivery-journal';
import { DeliveryHandlers } from './delivery-handlers';
import { DeliveryInbox } from './dedupe-inbox';
import { Forwarding } from './forwarding';
import { SlackIdentity } from './identity';
import { InboundJournal, readJournalEntry, type AcceptedDelivery } from './journaling';
import { SLACK_ID, teamOf, type BlockActionsPayload, type ReactionEnvelope } from './payloads';
import { messageOf, type GatewayLog } from '../../core/http';
import { Limiter } from '../../core/limiter';
import type { PostDirectory } from '../../core/post-directory';
import { systemClock, type Clock } from '../../core/retry';

export interface SlackInboundDeps {
  posts: PostDirectory;
  raterKey: Buffer;
  /** A bot-token client: `auth.test` (who the bot is), `usergroups.users.list`, `chat.postEphemeral`. */
  web: WebClient;
  /** Slack user ids allowed to vote. With neither list nor group set, everyone in the channel may vote. */
  allowedUsers?: string[];
  /** A user group (`S…`) whose members may vote. */
  allowedUsergroup?: string;
  /**
   * Teams (`T…`, Enterprise Grid orgs `E…`) whose votes count. Default: the bot token's own team
   * (`auth.test`). Reactions and clicks that name another team (Slack Connect) are refused.
   */
  teamIds?: string[];
  /** Origins a click's `response_url` may be on. Default: `https://hooks.slack.com` and the Web API's origin. */
  responseUrlOrigins?: string[];
  /** How long failed forwarding is retried in the background. Default 10 minutes. */
  forwardBudgetMs?: number;
  /** Waits before looking a fresh message up again (visibility is eventually consistent). Default 1, 2, 4 s. */
  lookupRetryMs?: number[];
  /** How long a delivery is remembered for deduplication. Default 15 minutes (Slack retries within ~5). */
  dedupeTtlMs?: number;
  /**
   * Deliveries forwarded at once; the rest wait in memory. Default 16: a reaction flood then neither
   * starves the acknowledgements of CPU nor opens thousands of concurrent calls to Temporal.
   */
  maxConcurrentForwards?: number;
  /**
   * Where accepted deliveries are written before they are acknowledged (delivery-journal.ts).
   * With it, a delivery that cannot be forwarded within `forwardBudgetMs` is kept and tried again every
   * `redeliverAfterMs`, and one the gateway died holding is replayed by the next gateway (`resume`).
   * Without it (unit tests), such a delivery is lost after the budget, loudly.
   */
  journal?: DeliveryJournal;
  /** Wait before a delivery kept in the journal is tried again. Default 1 minute. */
  redeliverAfterMs?: number;
  /**
   * Starts what a slash command accepted (command-starts.ts), after its acknowledgement; rejects when it
   * could not (it is retried like forwarding). Without it, journaled starts are dropped, loudly.
   */
  startLifecycle?: (start: AcceptedStart) => Promise<void>;
  /** Campaign items handed to raters (`/prefline next`): their buttons' clicks. Absent: such clicks count for nothing. */
  campaignItems?: Pick<SlackCampaignItems, 'click'>;
  /** For `response_url` replies. */
  fetch?: typeof fetch;
  now?: () => number;
  /** Waits between retries; real time by default. */
  sleep?: (ms: number) => Promise<void>;
  log?: GatewayLog;
}

export interface SlackDelivery {
  retryNum?: number;
  retryReason?: string;
}

/** `failed`: it could not be written to the journal; answer with an error so Slack delivers it again. */
export type AcceptResult = 'accepted' | 'duplicate' | 'ignored' | 'failed';

export interface SlackInboundStats {
  deliveries: number;
  duplicates: number;
  forwarded: number;
  ignored: number;
  failed: number;
}

const EVENT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const noLog: GatewayLog = () => undefined;

export class SlackInbound {
  readonly stats: SlackInboundStats = { deliveries: 0, duplicates: 0, forwarded: 0, ignored: 0, failed: 0 };
  private readonly now: () => number;
  private readonly clock: Clock;
  private readonly log: GatewayLog;
  private readonly inbox: DeliveryInbox;
  private readonly allowList: RaterAllowList;
  private readonly journal: InboundJournal;
  private readonly forwards: Limiter;
  private readonly handlers: DeliveryHandlers;
  private readonly pending = new Set<Promise<void>>();
  /** The bot's identity and the teams that count, shared with the slash commands. */
  readonly identity: SlackIdentity;
  private closed = false;

  constructor(private readonly deps: SlackInboundDeps) {
    if (deps.raterKey.length === 0) throw new Error('slack: the rater key must not be empty');
    this.now = deps.now ?? Date.now;
    this.clock = { now: this.now, sleep: deps.sleep ?? systemClock.sleep };
    this.log = deps.log ?? noLog;
    this.inbox = new DeliveryInbox(deps.dedupeTtlMs ?? 15 * 60_000, this.now);
    const users = new Set((deps.allowedUsers ?? []).map((u) => u.trim()).filter(Boolean));
    const members = async (usergroup: string) => (await deps.web.usergroups.users.list({ usergroup })).users ?? [];
    this.allowList = new RaterAllowList(members, users, deps.allowedUsergroup?.trim() || undefined, this.now, this.log);
    this.journal = new InboundJournal(deps.journal, this.now, this.log);
    const answer = createEphemeralAnswer({
      postEphemeral: (args) => deps.web.chat.postEphemeral(args),
      responseUrlOrigins: responseUrlOrigins(deps.responseUrlOrigins, deps.web.slackApiUrl),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      log: this.log,
    });
    this.forwards = new Limiter(deps.maxConcurrentForwards ?? 16);
    this.identity = new SlackIdentity(deps.web, deps.teamIds, this.clock, this.log);
    const forwarding = new Forwarding({
      clock: this.clock,
      log: this.log,
      budgetMs: deps.forwardBudgetMs ?? 10 * 60_000,
      lookupRetryMs: deps.lookupRetryMs ?? [1000, 2000, 4000],
      keeps: () => this.journal.keeps,
      stopped: () => this.closed,
    });
    this.handlers = new DeliveryHandlers({
      deps, now: this.now, log: this.log, allowList: this.allowList, identity: this.identity, forwarding, answer,
      keeps: () => this.journal.keeps,
      stats: this.stats,
    });
  }

  /** Learns the bot's own user id (`auth.test`); retried in the background until Slack answers. */
  async start(): Promise<string> {
    return (await this.identity.whoAmI()).userId;
  }

  /** Whether a Slack user may rate here (the allow-list): the slash command's `next` asks before handing out an item. */
  mayRate(user: string): Promise<boolean> {
    return this.allowList.allows(user);
  }

  /**
   * An Events API envelope (`event_callback`). Resolves once the delivery is safe to acknowledge (in
   * the journal); forwarding goes on in the background. Never rejects.
   */
  async acceptEvent(envelope: unknown, delivery: SlackDelivery = {}): Promise<AcceptResult> {
    this.stats.deliveries += 1;
    const e = envelope as { type?: unknown; event_id?: unknown; event?: { type?: unknown } } | null;
    if (e?.type !== 'event_callback' || typeof e.event_id !== 'string' || !EVENT_ID.test(e.event_id)) return this.ignored('not an event callback');
    const type = e.event?.type;
    if (type !== 'reaction_added' && type !== 'reaction_removed') return this.ignored(`event ${String(type)}`);
    const key = `event:${e.event_id}`;
    if (!this.inbox.claim(key)) {
      this.stats.duplicates += 1;
      this.log('debug', 'Slack redelivery ignored (already handled or in flight)', { eventId: e.event_id, retryNum: delivery.retryNum, retryReason: delivery.retryReason });
      return 'duplicate';
    }
    const accepted: AcceptedDelivery = { kind: 'event', envelope: envelope as ReactionEnvelope };
    if (!(await this.journaled(key, accepted))) return 'failed';
    this.background(key, accepted);
    return 'accepted';
  }

  /** An interactivity payload (`block_actions`); like acceptEvent, one journal entry per action. Never rejects. */
  async acceptInteraction(payload: unknown): Promise<AcceptResult> {
    this.stats.deliveries += 1;
    const p = payload as BlockActionsPayload | null;
    if (p?.type !== 'block_actions' || !Array.isArray(p.actions)) return this.ignored(`interaction ${String(p?.type)}`);
    const user = p.user?.id;
    const team = teamOf(p);
    if (typeof user !== 'string' || !SLACK_ID.test(user) || typeof team !== 'string') return this.ignored('no user');
    let result: AcceptResult = 'ignored';
    for (const [index, action] of p.actions.entries()) {
      if (typeof action?.action_id !== 'string' || !action.action_id.startsWith('prefline_') || typeof action.action_ts !== 'string') continue;
      const key = `slack:${team}:${action.action_ts}:${user}`;
      if (!this.inbox.claim(key)) {
        this.stats.duplicates += 1;
        result = result === 'accepted' ? result : 'duplicate';
        continue;
      }
      const accepted: AcceptedDelivery = { kind: 'action', payload: p, index, action, user, team };
      if (!(await this.journaled(key, accepted))) return 'failed';
      this.background(key, accepted);
      result = 'accepted';
    }
    if (result === 'ignored') this.stats.ignored += 1;
    return result;
  }

  /**
   * A lifecycle start a slash command accepted: journaled (the command's answer waits for it), then
   * started in the background. A second acceptance of the same start (a retried command) is a duplicate;
   * `admit` is asked for a new one only, and may refuse it (nothing is kept then).
   */
  async acceptStart(start: AcceptedStart, admit: () => boolean = () => true): Promise<AcceptResult | 'refused'> {
    this.stats.deliveries += 1;
    const key = `start:${start.lifecycleId}`;
    if (!this.inbox.claim(key)) {
      this.stats.duplicates += 1;
      return 'duplicate';
    }
    if (!admit()) {
      this.inbox.finish(key, false);
      return 'refused';
    }
    const accepted: AcceptedDelivery = { kind: 'start', start };
    if (!(await this.journaled(key, accepted))) return 'failed';
    this.background(key, accepted);
    return 'accepted';
  }

  /** Forwards deliveries a stopped gateway had journaled but not forwarded (DeliveryJournal.open). */
  resume(entries: JournalEntry[]): void {
    for (const entry of entries) {
      if (!this.inbox.claim(entry.key)) continue;
      const delivery = readJournalEntry(entry);
      if (!delivery) {
        this.log('error', 'unreadable delivery journal entry skipped', { key: entry.key, kind: entry.kind });
        this.inbox.finish(entry.key, true);
        this.journal.done(entry.key);
        continue;
      }
      this.background(entry.key, delivery);
    }
  }

  /** Resolves when every accepted delivery has been forwarded (or given up on). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops background retries from starting new attempts (shutdown). */
  close(): void {
    this.closed = true;
    this.identity.close();
  }

  /** Writes the delivery to the journal (when there is one) before it may be acknowledged. */
  private async journaled(key: string, delivery: AcceptedDelivery): Promise<boolean> {
    if (await this.journal.append(key, delivery)) return true;
    this.inbox.finish(key, false); // not acknowledged: Slack's redelivery must be tried afresh
    this.stats.failed += 1;
    return false;
  }

  // ---- forwarding ------------------------------------------------------------------------------

  /**
   * Queues the handling of a claimed delivery; at most `maxConcurrentForwards` run at once. Handled
   * (forwarded, or refused for good) → done in the journal. Failed → with a journal, kept and tried
   * again after `redeliverAfterMs` (the key stays claimed, so Slack's redeliveries are not doubled).
   */
  private background(key: string, delivery: AcceptedDelivery): void {
    const run = this.forwards.run(() =>
      this.handlers.handle(delivery).then(
        () => {
          this.inbox.finish(key, true);
          this.journal.done(key);
        },
        (err: unknown) => {
          this.stats.failed += 1;
          if (this.journal.keeps && !this.closed) {
            const after = this.deps.redeliverAfterMs ?? 60_000;
            this.log('error', 'Slack delivery not forwarded yet; kept in the delivery journal and tried again', { key, afterMs: after, error: messageOf(err) });
            setTimeout(() => {
              if (!this.closed) this.background(key, delivery);
            }, after).unref();
            return;
          }
          this.inbox.finish(key, false);
          this.log('error', 'Slack delivery could not be handled', { key, error: messageOf(err) });
        },
      ),
    );
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
  }

  private ignored(reason: string): AcceptResult {
    this.stats.ignored += 1;
    this.log('debug', 'Slack delivery ignored', { reason });
    return 'ignored';
  }
}
