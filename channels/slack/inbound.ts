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
import { ANSWERS, createEphemeralAnswer, pairText, receiptText, rejectionText, responseUrlOrigins, type EphemeralAnswer } from './answers';
import { isCampaignClick } from './campaign-messages';
import type { SlackCampaignItems } from './campaign-next';
import { RaterAllowList } from './allow-list';
import type { DeliveryJournal, JournalEntry } from './delivery-journal';
import { DeliveryInbox } from './dedupe-inbox';
import { Forwarding } from './forwarding';
import { SlackIdentity } from './identity';
import { InboundJournal, readJournalEntry, type AcceptedDelivery } from './journaling';
import { SLACK_ID, channelOf, foreignTeamOfAction, foreignTeamOfReaction, teamOf, type BlockAction, type BlockActionsPayload, type ReactionEnvelope } from './payloads';
import { safeMessageRef } from './messages';
import { buttonVoteRequests, isNotAVote, notOnOurPost, reactionVoteRequest, readReaction, type NotAVote } from './votes';
import type { JudgementRequest, VoteReceipt, VoteValue } from '../../workflows/types';
import { messageOf, type GatewayLog } from '../../core/http';
import { Limiter } from '../../core/limiter';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import type { PostDirectory } from '../../core/post-directory';
import { pseudonymiseRater } from '../../core/pseudonym';
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
  private readonly answer: EphemeralAnswer;
  private readonly forwards: Limiter;
  private readonly forwarding: Forwarding;
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
    this.answer = createEphemeralAnswer({
      postEphemeral: (args) => deps.web.chat.postEphemeral(args),
      responseUrlOrigins: responseUrlOrigins(deps.responseUrlOrigins, deps.web.slackApiUrl),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      log: this.log,
    });
    this.forwards = new Limiter(deps.maxConcurrentForwards ?? 16);
    this.identity = new SlackIdentity(deps.web, deps.teamIds, this.clock, this.log);
    this.forwarding = new Forwarding({
      clock: this.clock,
      log: this.log,
      budgetMs: deps.forwardBudgetMs ?? 10 * 60_000,
      lookupRetryMs: deps.lookupRetryMs ?? [1000, 2000, 4000],
      keeps: () => this.journal.keeps,
      stopped: () => this.closed,
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

  /** The teams whose votes count: the configured ones, else the bot's own (none known: nobody's). */
  private allowedTeams(): Promise<ReadonlySet<string>> {
    return this.identity.allowedTeams();
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

  private handle(delivery: AcceptedDelivery): Promise<void> {
    if (delivery.kind === 'start') return this.handleStart(delivery.start);
    return delivery.kind === 'event' ? this.handleReaction(delivery.envelope) : this.handleAction(delivery.payload, delivery.action, delivery.user, delivery.team);
  }

  private async handleStart(start: AcceptedStart): Promise<void> {
    const startLifecycle = this.deps.startLifecycle;
    if (!startLifecycle) {
      this.log('error', 'a Slack start was journaled but this gateway does not start lifecycles; dropped', { lifecycleId: start.lifecycleId });
      return;
    }
    await this.forwarding.retried('lifecycle start', { lifecycleId: start.lifecycleId }, () => startLifecycle(start));
    this.stats.forwarded += 1;
  }

  // ---- reactions -------------------------------------------------------------------------------

  private async handleReaction(envelope: ReactionEnvelope): Promise<void> {
    const reaction = readReaction(envelope);
    if (isNotAVote(reaction)) return this.skip(reaction);
    const foreign = foreignTeamOfReaction(envelope, await this.allowedTeams());
    if (foreign) {
      this.log('warn', 'Slack reaction from another team refused; not counted', { team: foreign, eventId: reaction.eventId });
      return this.skip({ skip: 'reaction from another team', detail: foreign });
    }
    const notOurs = notOnOurPost(reaction, await this.start());
    if (notOurs) return this.skip(notOurs);
    if (!(await this.allowList.allows(reaction.user))) return this.skip({ skip: 'rater not on the allow-list' });
    const ref = reaction.ref;
    const post = ref ? await this.forwarding.findPost(this.deps.posts, ref, reaction.itemUser !== undefined) : undefined;
    if (!post?.candidateId) return this.skip({ skip: 'not a candidate message of a lifecycle', detail: ref });
    const vote = reactionVoteRequest(reaction, post.candidateId, pseudonymiseRater(this.deps.raterKey, 'slack', reaction.user), this.now());
    try {
      await this.forwarding.vote('reaction vote', post.lifecycleId, vote, () => this.deps.posts.signalVote(post.lifecycleId, vote));
    } catch (err) {
      if (err instanceof VoteRejectedError) {
        if (err.code === 'wrong_channel') this.log('warn', 'Slack reaction on a lifecycle of another channel refused; not counted', { lifecycleId: post.lifecycleId, reason: err.message });
        return this.skip({ skip: `refused: ${err.code}`, detail: post.lifecycleId });
      }
      throw err;
    }
    this.stats.forwarded += 1;
    this.log('info', 'slack vote', { lifecycleId: post.lifecycleId, rater: vote.rater, candidateId: vote.candidateId, value: vote.value, via: 'reaction' });
  }

  // ---- buttons ---------------------------------------------------------------------------------

  private async handleAction(payload: BlockActionsPayload, action: BlockAction, user: string, team: string): Promise<void> {
    const channel = channelOf(payload);
    const reply = (text: string) => this.answer(payload, channel, user, text);
    const foreign = foreignTeamOfAction(payload, await this.allowedTeams());
    if (foreign) {
      this.log('warn', 'Slack click from another team refused; not counted', { team: foreign });
      return reply(ANSWERS.foreignTeam);
    }
    if (!(await this.allowList.allows(user))) return reply(ANSWERS.notARater);
    if (isCampaignClick(action)) return this.handleCampaignClick(payload, action, { user, team, channel });
    const ref = safeMessageRef(channel, payload.container?.message_ts ?? payload.message?.ts);
    const post = ref ? await this.forwarding.findPost(this.deps.posts, ref, true) : undefined;
    if (!post) return reply(ANSWERS.notAVote);
    const rater = pseudonymiseRater(this.deps.raterKey, 'slack', user);
    const reading = buttonVoteRequests(action, post, { rater, team }, this.now());
    if ('tampered' in reading) {
      this.log('warn', 'Slack button value does not match its message; vote refused', { lifecycleId: post.lifecycleId });
      return reply(ANSWERS.tampered);
    }
    if (isNotAVote(reading)) return this.skip(reading);
    if ('judgement' in reading) return this.forwardJudgement(post.lifecycleId, reading.judgement, reading.choice, reply);

    const receipts: Array<{ receipt: VoteReceipt; value: VoteValue; label: string }> = [];
    try {
      for (const { request: vote, label } of reading.votes) {
        const receipt = await this.forwarding.vote('button vote', post.lifecycleId, vote, () => this.deps.posts.vote(post.lifecycleId, vote));
        receipts.push({ receipt, value: vote.value, label });
        this.log('info', 'slack vote', { lifecycleId: post.lifecycleId, rater, candidateId: vote.candidateId, value: vote.value, outcome: receipt.outcome, via: 'button' });
      }
    } catch (err) {
      if (err instanceof VoteRejectedError) return reply(rejectionText(err.code));
      await reply(this.journal.keeps ? ANSWERS.keepsTrying : ANSWERS.clickAgain);
      throw err;
    }
    this.stats.forwarded += 1;
    await reply(receiptText(receipts[0]!));
  }

  /**
   * A click on a campaign item handed to this rater (an ephemeral message, so no post to look up): the item's
   * checks and answer are campaign-next.ts's; forwarding is retried here like every click's.
   */
  private async handleCampaignClick(payload: BlockActionsPayload, action: BlockAction, from: { user: string; team: string; channel: string | undefined }): Promise<void> {
    const reply = (text: string, options?: { blocks?: Array<Record<string, unknown>>; replace?: boolean }) => this.answer(payload, from.channel, from.user, text, options);
    const items = this.deps.campaignItems;
    if (!items || !from.channel) return reply(ANSWERS.notAVote);
    const rater = pseudonymiseRater(this.deps.raterKey, 'slack', from.user);
    const retried = <T>(what: string, lifecycleId: string, key: string, call: () => Promise<T>) => this.forwarding.retried(what, { lifecycleId, rater, idempotencyKey: key }, call);
    let answer;
    try {
      answer = await items.click(action, { rater, team: from.team }, { id: from.channel, name: payload.channel?.name }, {
        judge: (lifecycleId, j) => retried('campaign item judgement', lifecycleId, j.idempotencyKey, () => this.deps.posts.judge(lifecycleId, j)),
        vote: (lifecycleId, v) => retried('campaign item vote', lifecycleId, v.idempotencyKey, () => this.deps.posts.vote(lifecycleId, v)),
      }, this.now());
    } catch (err) {
      await reply(this.journal.keeps ? ANSWERS.keepsTrying : ANSWERS.clickAgain);
      throw err;
    }
    this.stats.forwarded += 1;
    await reply(answer.text, { ...(answer.blocks ? { blocks: answer.blocks } : {}), replace: answer.replace });
  }

  /** A comparison's click: one judgement, answered with the lifecycle's receipt. */
  private async forwardJudgement(lifecycleId: string, judgement: JudgementRequest, choice: Parameters<typeof pairText>[0], reply: (text: string) => Promise<void>): Promise<void> {
    let text: string;
    try {
      const fields = { lifecycleId, rater: judgement.rater, idempotencyKey: judgement.idempotencyKey };
      const receipt = await this.forwarding.retried('button judgement', fields, () => this.deps.posts.judge(lifecycleId, judgement));
      this.log('info', 'slack judgement', { lifecycleId, rater: judgement.rater, left: judgement.left, right: judgement.right, choice: judgement.choice, outcome: receipt.outcome, via: 'button' });
      text = pairText(choice, receipt);
    } catch (err) {
      if (err instanceof VoteRejectedError) return reply(rejectionText(err.code));
      await reply(this.journal.keeps ? ANSWERS.keepsTrying : ANSWERS.clickAgain);
      throw err;
    }
    this.stats.forwarded += 1;
    await reply(text);
  }

  // ---- forwarding ------------------------------------------------------------------------------

  /**
   * Queues the handling of a claimed delivery; at most `maxConcurrentForwards` run at once. Handled
   * (forwarded, or refused for good) → done in the journal. Failed → with a journal, kept and tried
   * again after `redeliverAfterMs` (the key stays claimed, so Slack's redeliveries are not doubled).
   */
  private background(key: string, delivery: AcceptedDelivery): void {
    const run = this.forwards.run(() =>
      this.handle(delivery).then(
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

  private skip({ skip: reason, detail }: NotAVote): void {
    this.stats.ignored += 1;
    this.log('debug', 'Slack event not counted', { reason, ...(detail !== undefined ? { detail: String(detail) } : {}) });
  }
}
