/**
 * Slack votes in: what the gateway does with a reaction event or a button click once its transport
 * (HTTP with signatures in routes.ts, or Socket Mode) has acknowledged it. Transport-free and
 * Temporal-free: lifecycles are reached through the SlackPostDirectory port.
 *
 * - Acknowledge first, forward after (Slack wants an answer within 3 s). Forwarding that fails (Temporal
 *   briefly down) is retried in the background with backoff for a bounded time, and logged loudly.
 * - Deliveries are deduplicated in this process by `event_id` (reactions) or team+action_ts+user (buttons)
 *   while in flight and for 15 minutes after, so Slack's retries (even one that arrives while the first
 *   delivery is still being handled) count once. Across gateway processes the idempotency keys
 *   `slack:<event_id>` / `slack:<team>:<action_ts>:<rater pseudonym>` make the lifecycle count them once.
 * - Reactions are signals (fire-and-forget, no 10-in-flight-update limit); clicks are updates, because
 *   the clicker gets an ephemeral answer (recorded / changed / withdrawn / voting closed).
 * - Only 👍/👎 (any skin tone) on this bot's own candidate messages count; the bot's own reactions never do.
 *   A removed reaction is a retraction; votes are ordered by Slack's timestamps, so a removal that
 *   overtakes its add still wins.
 */
import type { WebClient } from '@slack/web-api';
import type { DeliveryJournal, JournalEntry } from './delivery-journal';
import {
  ACTION_VOTES, PAIR_CHOICES, parseButtonValue, reactionVote, safeMessageRef, slackTsToIso,
} from './messages';
import type { CandidateTally, VoteReceipt, VoteRequest, VoteValue } from '../../workflows/types';
import type { GatewayLog } from '../../core/http';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { pseudonymiseRater } from '../../core/pseudonym';

export interface SlackPostInfo {
  lifecycleId: string;
  /** The candidate the message shows; undefined for the header. */
  candidateId?: string;
  /** The lifecycle's candidates in label order (the pairwise buttons map A and B to the first two). */
  candidates: Array<{ id: string; label: string }>;
}

/** How the Slack handlers reach lifecycles (Temporal in production, a fake in unit tests). */
export interface SlackPostDirectory {
  /** The lifecycle and candidate of a message reference `slack:<channel>:<ts>`, or undefined if not ours. */
  findPost(ref: string): Promise<SlackPostInfo | undefined>;
  /** Fire-and-forget vote. Rejects with VoteRejectedError when retrying cannot help (lifecycle gone). */
  signalVote(lifecycleId: string, vote: VoteRequest): Promise<void>;
  /** A vote with the lifecycle's answer. Rejects with VoteRejectedError for a refused vote. */
  vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt>;
}

export interface SlackInboundDeps {
  posts: SlackPostDirectory;
  raterKey: Buffer;
  /** A bot-token client: `auth.test` (who the bot is), `usergroups.users.list`, `chat.postEphemeral`. */
  web: WebClient;
  /** Slack user ids allowed to vote. With neither list nor group set, everyone in the channel may vote. */
  allowedUsers?: string[];
  /** A user group (`S…`) whose members may vote. */
  allowedUsergroup?: string;
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
  /** For `response_url` replies. */
  fetch?: typeof fetch;
  now?: () => number;
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
const SLACK_ID = /^[A-Z0-9]{1,24}$/;
const USERGROUP_TTL_MS = 5 * 60_000;
const MAX_REMEMBERED = 200_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const noLog: GatewayLog = () => undefined;

/** Deliveries seen: in flight, or done within the TTL. A failed one is forgotten so a redelivery is tried again. */
class DeliveryInbox {
  private readonly inFlight = new Set<string>();
  /** Finished deliveries in finish order, so expiry only ever looks at the head. */
  private readonly done = new Map<string, number>();
  constructor(private readonly ttlMs: number, private readonly now: () => number) {}

  claim(key: string): boolean {
    this.prune();
    if (this.inFlight.has(key) || this.done.has(key)) return false;
    this.inFlight.add(key);
    return true;
  }

  finish(key: string, ok: boolean): void {
    this.inFlight.delete(key);
    if (ok) this.done.set(key, this.now());
  }

  private prune(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [key, at] of this.done) {
      if (at > cutoff && this.done.size <= MAX_REMEMBERED) break;
      this.done.delete(key);
    }
  }
}

/** The rater allow-list: explicit user ids and/or a user group's members (cached, refreshed every 5 minutes). */
class RaterAllowList {
  private members?: { users: Set<string>; at: number };
  private loading?: Promise<Set<string>>;

  constructor(
    private readonly web: WebClient,
    private readonly users: ReadonlySet<string>,
    private readonly usergroup: string | undefined,
    private readonly now: () => number,
    private readonly log: GatewayLog,
  ) {}

  get open(): boolean {
    return this.users.size === 0 && this.usergroup === undefined;
  }

  async allows(userId: string): Promise<boolean> {
    if (this.open || this.users.has(userId)) return true;
    if (this.usergroup === undefined) return false;
    return (await this.groupMembers()).has(userId);
  }

  private async groupMembers(): Promise<Set<string>> {
    if (this.members && this.now() - this.members.at < USERGROUP_TTL_MS) return this.members.users;
    this.loading ??= this.web.usergroups.users
      .list({ usergroup: this.usergroup! })
      .then((result) => {
        const users = new Set(result.users ?? []);
        this.members = { users, at: this.now() };
        return users;
      })
      .catch((err: unknown) => {
        // Keep using the last good list; without one, nobody outside PREFLINE_SLACK_ALLOWED_USERS may vote.
        this.log('error', 'could not load the Slack rater user group', { usergroup: this.usergroup, error: messageOf(err) });
        return this.members?.users ?? new Set<string>();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

export class SlackInbound {
  readonly stats: SlackInboundStats = { deliveries: 0, duplicates: 0, forwarded: 0, ignored: 0, failed: 0 };
  private readonly now: () => number;
  private readonly log: GatewayLog;
  private readonly inbox: DeliveryInbox;
  private readonly allowList: RaterAllowList;
  private readonly pending = new Set<Promise<void>>();
  private readonly queue: Array<() => Promise<void>> = [];
  private active = 0;
  private botUser?: Promise<string>;
  private closed = false;

  constructor(private readonly deps: SlackInboundDeps) {
    if (deps.raterKey.length === 0) throw new Error('slack: the rater key must not be empty');
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? noLog;
    this.inbox = new DeliveryInbox(deps.dedupeTtlMs ?? 15 * 60_000, this.now);
    const users = new Set((deps.allowedUsers ?? []).map((u) => u.trim()).filter(Boolean));
    this.allowList = new RaterAllowList(deps.web, users, deps.allowedUsergroup?.trim() || undefined, this.now, this.log);
  }

  /** Learns the bot's own user id (`auth.test`); retried in the background until Slack answers. */
  start(): Promise<string> {
    this.botUser ??= (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const result = await this.deps.web.auth.test();
          if (!result.user_id) throw new Error('auth.test returned no user_id');
          this.log('info', 'Slack bot identity', { botUserId: result.user_id, team: result.team_id });
          return result.user_id;
        } catch (err) {
          if (this.closed) throw err;
          this.log('error', 'Slack auth.test failed; Slack votes wait until it succeeds', { attempt, error: messageOf(err) });
          await sleep(Math.min(30_000, 1000 * 2 ** attempt));
        }
      }
    })();
    return this.botUser;
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
    if (!(await this.journaled(key, 'event', envelope))) return 'failed';
    this.background(key, this.eventTask(envelope as ReactionEnvelope));
    return 'accepted';
  }

  /** An interactivity payload (`block_actions`); like acceptEvent, one journal entry per action. Never rejects. */
  async acceptInteraction(payload: unknown): Promise<AcceptResult> {
    this.stats.deliveries += 1;
    const p = payload as BlockActionsPayload | null;
    if (p?.type !== 'block_actions' || !Array.isArray(p.actions)) return this.ignored(`interaction ${String(p?.type)}`);
    const user = p.user?.id;
    const team = p.team?.id ?? p.user?.team_id ?? 'team';
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
      if (!(await this.journaled(key, 'action', { payload: p, index }))) return 'failed';
      this.background(key, () => this.handleAction(p, action, user, team));
      result = 'accepted';
    }
    if (result === 'ignored') this.stats.ignored += 1;
    return result;
  }

  /** Forwards deliveries a stopped gateway had journaled but not forwarded (DeliveryJournal.open). */
  resume(entries: JournalEntry[]): void {
    for (const entry of entries) {
      if (!this.inbox.claim(entry.key)) continue;
      if (entry.kind === 'event') {
        this.background(entry.key, this.eventTask(entry.body as ReactionEnvelope));
        continue;
      }
      const { payload, index } = (entry.body ?? {}) as { payload?: BlockActionsPayload; index?: number };
      const action = payload?.actions?.[index ?? -1];
      const user = payload?.user?.id;
      const team = payload?.team?.id ?? payload?.user?.team_id ?? 'team';
      if (entry.kind !== 'action' || !payload || !action || typeof user !== 'string') {
        this.log('error', 'unreadable delivery journal entry skipped', { key: entry.key, kind: entry.kind });
        this.inbox.finish(entry.key, true);
        this.deps.journal?.done(entry.key);
        continue;
      }
      this.background(entry.key, () => this.handleAction(payload, action, user, team));
    }
  }

  /** Resolves when every accepted delivery has been forwarded (or given up on). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Stops background retries from starting new attempts (shutdown). */
  close(): void {
    this.closed = true;
  }

  private eventTask(envelope: ReactionEnvelope): () => Promise<void> {
    return () => this.handleReaction(envelope);
  }

  /** Writes the delivery to the journal (when there is one) before it may be acknowledged. */
  private async journaled(key: string, kind: string, body: unknown): Promise<boolean> {
    if (!this.deps.journal) return true;
    try {
      await this.deps.journal.append(key, kind, body, this.now());
      return true;
    } catch (err) {
      this.inbox.finish(key, false); // not acknowledged: Slack's redelivery must be tried afresh
      this.stats.failed += 1;
      this.log('error', 'Slack delivery refused: the delivery journal cannot be written; Slack will deliver it again', { key, error: messageOf(err) });
      return false;
    }
  }

  // ---- reactions -------------------------------------------------------------------------------

  private async handleReaction(envelope: ReactionEnvelope): Promise<void> {
    const event = envelope.event;
    const direction = reactionVote(event.reaction);
    if (!direction) return this.skip('emoji is not a vote', event.reaction);
    if (event.item?.type !== 'message' || typeof event.user !== 'string' || !SLACK_ID.test(event.user)) return this.skip('not a reaction on a message');
    const bot = await this.start();
    if (event.user === bot) return this.skip("the bot's own reaction");
    // item_user is the message's author: a message by anyone else cannot be a Prefline post.
    if (event.item_user !== undefined && event.item_user !== bot) return this.skip('not a message of this bot');
    if (!(await this.allowList.allows(event.user))) return this.skip('rater not on the allow-list');
    const ref = safeMessageRef(event.item.channel, event.item.ts);
    const post = ref ? await this.findPost(ref, event.item_user === bot) : undefined;
    if (!post?.candidateId) return this.skip('not a candidate message of a lifecycle', ref);
    const vote: VoteRequest = {
      idempotencyKey: `slack:${envelope.event_id}`,
      candidateId: post.candidateId,
      value: event.type === 'reaction_added' ? direction : 'retract',
      rater: pseudonymiseRater(this.deps.raterKey, 'slack', event.user),
      channel: 'slack',
      castAt: slackTsToIso(event.event_ts) ?? new Date((Number(envelope.event_time) || this.now() / 1000) * 1000).toISOString(),
    };
    try {
      await this.forward('reaction vote', post.lifecycleId, vote, () => this.deps.posts.signalVote(post.lifecycleId, vote));
    } catch (err) {
      if (err instanceof VoteRejectedError) return this.skip(`refused: ${err.code}`, post.lifecycleId);
      throw err;
    }
    this.stats.forwarded += 1;
    this.log('info', 'slack vote', { lifecycleId: post.lifecycleId, rater: vote.rater, candidateId: vote.candidateId, value: vote.value, via: 'reaction' });
  }

  // ---- buttons ---------------------------------------------------------------------------------

  private async handleAction(payload: BlockActionsPayload, action: BlockAction, user: string, team: string): Promise<void> {
    const channel = payload.container?.channel_id ?? payload.channel?.id;
    const reply = (text: string) => this.reply(payload, channel, user, text);
    if (!(await this.allowList.allows(user))) return reply(':no_entry: You are not on the rater list for Prefline votes here; ask the operator to add you.');
    const ref = safeMessageRef(channel, payload.container?.message_ts ?? payload.message?.ts);
    const post = ref ? await this.findPost(ref, true) : undefined;
    if (!post) return reply('This message is not a Prefline vote (or no longer exists); nothing was counted.');
    const value = parseButtonValue(action.value);
    // The message decides what is voted on; a value that disagrees with it was tampered with.
    if (value?.l !== post.lifecycleId) return this.refuseTampered(reply, post.lifecycleId);
    const rater = pseudonymiseRater(this.deps.raterKey, 'slack', user);
    // Stable across gateway processes; the pseudonym, not the Slack user id, so the ledger never holds who clicked.
    const key = `slack:${team}:${action.action_ts}:${rater}`;
    const castAt = slackTsToIso(action.action_ts) ?? new Date(this.now()).toISOString();
    const base = { rater, channel: 'slack', castAt };

    const actionId = action.action_id ?? '';
    const single = ACTION_VOTES[actionId];
    const choice = PAIR_CHOICES[actionId];
    let votes: Array<{ candidateId: string; value: VoteValue; label: string }>;
    if (single) {
      if (!post.candidateId || value.c !== post.candidateId || value.v !== single) return this.refuseTampered(reply, post.lifecycleId);
      votes = [{ candidateId: post.candidateId, value: single, label: labelOf(post, post.candidateId) }];
    } else if (choice) {
      const [a, b] = post.candidates;
      if (post.candidateId !== undefined || post.candidates.length !== 2 || !a || !b || value.p !== choice) return this.refuseTampered(reply, post.lifecycleId);
      // A better → up A + down B; B better → up B + down A; tie → withdraw both (a tie is no preference pair).
      const [va, vb]: [VoteValue, VoteValue] = choice === 'a' ? ['up', 'down'] : choice === 'b' ? ['down', 'up'] : ['retract', 'retract'];
      votes = [{ candidateId: a.id, value: va, label: a.label }, { candidateId: b.id, value: vb, label: b.label }];
    } else {
      return this.skip('unknown action', action.action_id);
    }

    const receipts: Array<{ receipt: VoteReceipt; value: VoteValue; label: string }> = [];
    try {
      for (const v of votes) {
        const vote: VoteRequest = { ...base, idempotencyKey: votes.length === 1 ? key : `${key}:${v.candidateId}`, candidateId: v.candidateId, value: v.value };
        const receipt = await this.forward('button vote', post.lifecycleId, vote, () => this.deps.posts.vote(post.lifecycleId, vote));
        receipts.push({ receipt, value: v.value, label: v.label });
        this.log('info', 'slack vote', { lifecycleId: post.lifecycleId, rater, candidateId: v.candidateId, value: v.value, outcome: receipt.outcome, via: 'button' });
      }
    } catch (err) {
      if (err instanceof VoteRejectedError) return reply(rejectionText(err.code));
      await reply(
        this.deps.journal
          ? ':hourglass: Prefline could not record your vote yet; it keeps trying and answers here when it has.'
          : ':warning: Prefline could not record your vote right now; please click again in a minute.',
      );
      throw err;
    }
    this.stats.forwarded += 1;
    await reply(choice ? pairText(choice, receipts) : receiptText(receipts[0]!));
  }

  private async refuseTampered(reply: (text: string) => Promise<void>, lifecycleId: string): Promise<void> {
    this.log('warn', 'Slack button value does not match its message; vote refused', { lifecycleId });
    return reply('This button does not belong to this message; nothing was counted.');
  }

  /** An ephemeral answer to the clicker: through `response_url` when given, else `chat.postEphemeral`. */
  private async reply(payload: BlockActionsPayload, channel: string | undefined, user: string, text: string): Promise<void> {
    try {
      const url = payload.response_url;
      if (typeof url === 'string' && /^https?:\/\//.test(url)) {
        const res = await (this.deps.fetch ?? fetch)(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          // replace_original:false, or Slack may replace the candidate message with the answer.
          body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`response_url answered ${res.status}`);
      } else if (channel) {
        await this.deps.web.chat.postEphemeral({ channel, user, text });
      }
    } catch (err) {
      this.log('warn', 'could not send the Slack ephemeral answer', { error: messageOf(err) });
    }
  }

  // ---- shared ----------------------------------------------------------------------------------

  /** Looks a message up; a fresh post of ours may not be in visibility yet, so look again a few times. */
  private async findPost(ref: string, ours: boolean): Promise<SlackPostInfo | undefined> {
    const waits = ours ? (this.deps.lookupRetryMs ?? [1000, 2000, 4000]) : [];
    for (let i = 0; ; i++) {
      const post = await this.retrying('post lookup', { ref }, () => this.deps.posts.findPost(ref));
      if (post || i >= waits.length || this.closed) return post;
      await sleep(waits[i]!);
    }
  }

  private forward<T>(what: string, lifecycleId: string, vote: VoteRequest, call: () => Promise<T>): Promise<T> {
    return this.retrying(what, { lifecycleId, rater: vote.rater, candidateId: vote.candidateId, idempotencyKey: vote.idempotencyKey }, call);
  }

  /** Retries failures other than a refused vote with backoff, within the forwarding budget; loud when it gives up. */
  private async retrying<T>(what: string, fields: Record<string, unknown>, call: () => Promise<T>): Promise<T> {
    const deadline = this.now() + (this.deps.forwardBudgetMs ?? 10 * 60_000);
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (err instanceof VoteRejectedError && err.code !== 'busy') throw err;
        if (this.closed || this.now() >= deadline) {
          if (this.deps.journal) this.log('error', `Slack ${what} failed for the whole forwarding budget; kept in the delivery journal`, { ...fields, attempts: attempt + 1, error: messageOf(err) });
          else this.log('error', `Slack ${what} FAILED for good after retrying; this Slack vote is LOST`, { ...fields, attempts: attempt + 1, error: messageOf(err) });
          throw err;
        }
        this.log(attempt === 0 ? 'error' : 'warn', `Slack ${what} failed; retrying in the background`, { ...fields, attempt, error: messageOf(err) });
        await sleep(Math.min(30_000, 250 * 2 ** attempt) * (0.75 + Math.random() / 2));
      }
    }
  }

  /**
   * Queues the handling of a claimed delivery; at most `maxConcurrentForwards` run at once. Handled
   * (forwarded, or refused for good) → done in the journal. Failed → with a journal, kept and tried
   * again after `redeliverAfterMs` (the key stays claimed, so Slack's redeliveries are not doubled).
   */
  private background(key: string, task: () => Promise<void>): void {
    const run = new Promise<void>((resolve) => {
      this.queue.push(() =>
        task()
          .then(
            () => {
              this.inbox.finish(key, true);
              this.deps.journal?.done(key);
            },
            (err: unknown) => {
              this.stats.failed += 1;
              if (this.deps.journal && !this.closed) {
                const after = this.deps.redeliverAfterMs ?? 60_000;
                this.log('error', 'Slack delivery not forwarded yet; kept in the delivery journal and tried again', { key, afterMs: after, error: messageOf(err) });
                setTimeout(() => {
                  if (!this.closed) this.background(key, task);
                }, after).unref();
                return;
              }
              this.inbox.finish(key, false);
              this.log('error', 'Slack delivery could not be handled', { key, error: messageOf(err) });
            },
          )
          .finally(resolve),
      );
    });
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    this.pump();
  }

  private pump(): void {
    const limit = this.deps.maxConcurrentForwards ?? 16;
    while (this.active < limit && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.active += 1;
      void job().finally(() => {
        this.active -= 1;
        this.pump();
      });
    }
  }

  private ignored(reason: string): AcceptResult {
    this.stats.ignored += 1;
    this.log('debug', 'Slack delivery ignored', { reason });
    return 'ignored';
  }

  private skip(reason: string, detail?: unknown): void {
    this.stats.ignored += 1;
    this.log('debug', 'Slack event not counted', { reason, ...(detail !== undefined ? { detail: String(detail) } : {}) });
  }
}

interface ReactionEnvelope {
  event_id: string;
  event_time?: number;
  event: {
    type: 'reaction_added' | 'reaction_removed';
    user?: string;
    reaction?: string;
    item_user?: string;
    item?: { type?: string; channel?: string; ts?: string };
    event_ts?: string;
  };
}

interface BlockAction {
  action_id?: string;
  block_id?: string;
  value?: string;
  action_ts?: string;
}

interface BlockActionsPayload {
  type?: string;
  user?: { id?: string; team_id?: string };
  team?: { id?: string } | null;
  channel?: { id?: string };
  container?: { channel_id?: string; message_ts?: string };
  message?: { ts?: string };
  actions?: BlockAction[];
  response_url?: string;
}

function labelOf(post: SlackPostInfo, candidateId: string): string {
  return post.candidates.find((c) => c.id === candidateId)?.label ?? candidateId;
}

const EMOJI: Record<VoteValue, string> = { up: ':+1:', down: ':-1:', retract: 'withdrawal' };

function tallyText(t: CandidateTally): string {
  return `${t.label} now has :+1: ${t.up} · :-1: ${t.down}`;
}

function receiptText({ receipt, value, label }: { receipt: VoteReceipt; value: VoteValue; label: string }): string {
  const now = ` (${tallyText(receipt.candidate)})`;
  switch (receipt.outcome) {
    case 'recorded': return `:white_check_mark: Recorded your ${EMOJI[value]} on candidate ${label}.${now}`;
    case 'changed': return `:white_check_mark: Changed your vote on candidate ${label} to ${EMOJI[value]}.${now}`;
    case 'retracted': return `:white_check_mark: Withdrew your vote on candidate ${label}.${now}`;
    case 'duplicate': return `Already recorded.${now}`;
    default: return value === 'retract' ? `You had no vote on candidate ${label} to withdraw.` : `Your ${EMOJI[value]} on candidate ${label} already stood.${now}`;
  }
}

function pairText(choice: 'a' | 'b' | 'tie', receipts: Array<{ receipt: VoteReceipt; label: string }>): string {
  const [a, b] = receipts;
  if (choice === 'tie') return `:white_check_mark: Recorded a tie: your votes on ${a?.label} and ${b?.label} are withdrawn (a tie is no preference).`;
  const [better, worse] = choice === 'a' ? [a, b] : [b, a];
  return `:white_check_mark: Recorded: ${better?.label} is better (:+1: ${better?.label}, :-1: ${worse?.label}).`;
}

function rejectionText(code: VoteRejectedError['code']): string {
  switch (code) {
    case 'voting_closed': return ':lock: Voting on this lifecycle is closed; your vote was not counted.';
    case 'voting_not_open': return 'Voting has not opened yet; try again in a moment.';
    case 'busy': return 'Prefline is busy; please click again in a moment.';
    default: return `This vote could not be counted (${code.replace(/_/g, ' ')}).`;
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
