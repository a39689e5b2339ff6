/**
 * What the Slack inbound does with a delivery once it is its turn to be forwarded: a reaction becomes a
 * signalled vote, a click a vote or judgement (answered ephemerally: answers.ts), a campaign item's click is
 * campaign-next.ts's, and a journaled start starts its lifecycle. Separate from inbound.ts, which accepts,
 * deduplicates, journals and queues deliveries: this is the reading and forwarding of each kind.
 */
import type { AcceptedStart } from './command-starts';
import { ANSWERS, pairText, receiptText, rejectionText, type EphemeralAnswer } from './answers';
import { isCampaignClick } from './campaign-messages';
import type { SlackCampaignItems } from './campaign-next';
import type { RaterAllowList } from './allow-list';
import type { Forwarding } from './forwarding';
import type { SlackIdentity } from './identity';
import type { AcceptedDelivery } from './journaling';
import { channelOf, foreignTeamOfAction, foreignTeamOfReaction, type BlockAction, type BlockActionsPayload, type ReactionEnvelope } from './payloads';
import { safeMessageRef } from './messages';
import { buttonVoteRequests, isNotAVote, notOnOurPost, reactionVoteRequest, readReaction, type NotAVote } from './votes';
import type { JudgementRequest, VoteReceipt, VoteValue } from '../../workflows/types';
import type { GatewayLog } from '../../core/http';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import type { PostDirectory } from '../../core/post-directory';
import { pseudonymiseRater } from '../../core/pseudonym';

/** The parts of SlackInboundDeps (inbound.ts, where they are described) the handlers use. */
export interface DeliveryHandlerDeps {
  posts: PostDirectory;
  raterKey: Buffer;
  startLifecycle?: (start: AcceptedStart) => Promise<void>;
  campaignItems?: Pick<SlackCampaignItems, 'click'>;
}

/** What the handlers share with the inbound that owns them. */
export interface DeliveryHandlerParts {
  deps: DeliveryHandlerDeps;
  now: () => number;
  log: GatewayLog;
  allowList: RaterAllowList;
  identity: SlackIdentity;
  forwarding: Forwarding;
  answer: EphemeralAnswer;
  /** Whether a delivery not forwarded yet is kept (the delivery journal): what a failed click's answer promises. */
  keeps: () => boolean;
  /** The inbound's counters (SlackInboundStats). */
  stats: { forwarded: number; ignored: number };
}

export class DeliveryHandlers {
  private readonly deps: DeliveryHandlerDeps;
  private readonly now: () => number;
  private readonly log: GatewayLog;

  constructor(private readonly parts: DeliveryHandlerParts) {
    this.deps = parts.deps;
    this.now = parts.now;
    this.log = parts.log;
  }

  /** Handles one delivery; rejects when forwarding failed (the inbound keeps it or gives up). */
  handle(delivery: AcceptedDelivery): Promise<void> {
    if (delivery.kind === 'start') return this.handleStart(delivery.start);
    return delivery.kind === 'event' ? this.handleReaction(delivery.envelope) : this.handleAction(delivery.payload, delivery.action, delivery.user, delivery.team);
  }

  private async handleStart(start: AcceptedStart): Promise<void> {
    const startLifecycle = this.deps.startLifecycle;
    if (!startLifecycle) {
      this.log('error', 'a Slack start was journaled but this gateway does not start lifecycles; dropped', { lifecycleId: start.lifecycleId });
      return;
    }
    await this.parts.forwarding.retried('lifecycle start', { lifecycleId: start.lifecycleId }, () => startLifecycle(start));
    this.parts.stats.forwarded += 1;
  }

  /** The teams whose votes count: the configured ones, else the bot's own (none known: nobody's). */
  private allowedTeams(): Promise<ReadonlySet<string>> {
    return this.parts.identity.allowedTeams();
  }

  /** The bot's own user id (`auth.test`). */
  private async botUserId(): Promise<string> {
    return (await this.parts.identity.whoAmI()).userId;
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
    const notOurs = notOnOurPost(reaction, await this.botUserId());
    if (notOurs) return this.skip(notOurs);
    if (!(await this.parts.allowList.allows(reaction.user))) return this.skip({ skip: 'rater not on the allow-list' });
    const ref = reaction.ref;
    const post = ref ? await this.parts.forwarding.findPost(this.deps.posts, ref, reaction.itemUser !== undefined) : undefined;
    if (!post?.candidateId) return this.skip({ skip: 'not a candidate message of a lifecycle', detail: ref });
    const vote = reactionVoteRequest(reaction, post.candidateId, pseudonymiseRater(this.deps.raterKey, 'slack', reaction.user), this.now());
    try {
      await this.parts.forwarding.vote('reaction vote', post.lifecycleId, vote, () => this.deps.posts.signalVote(post.lifecycleId, vote));
    } catch (err) {
      if (err instanceof VoteRejectedError) {
        if (err.code === 'wrong_channel') this.log('warn', 'Slack reaction on a lifecycle of another channel refused; not counted', { lifecycleId: post.lifecycleId, reason: err.message });
        return this.skip({ skip: `refused: ${err.code}`, detail: post.lifecycleId });
      }
      throw err;
    }
    this.parts.stats.forwarded += 1;
    this.log('info', 'slack vote', { lifecycleId: post.lifecycleId, rater: vote.rater, candidateId: vote.candidateId, value: vote.value, via: 'reaction' });
  }

  // ---- buttons ---------------------------------------------------------------------------------

  private async handleAction(payload: BlockActionsPayload, action: BlockAction, user: string, team: string): Promise<void> {
    const channel = channelOf(payload);
    const reply = (text: string) => this.parts.answer(payload, channel, user, text);
    const foreign = foreignTeamOfAction(payload, await this.allowedTeams());
    if (foreign) {
      this.log('warn', 'Slack click from another team refused; not counted', { team: foreign });
      return reply(ANSWERS.foreignTeam);
    }
    if (!(await this.parts.allowList.allows(user))) return reply(ANSWERS.notARater);
    if (isCampaignClick(action)) return this.handleCampaignClick(payload, action, { user, team, channel });
    const ref = safeMessageRef(channel, payload.container?.message_ts ?? payload.message?.ts);
    const post = ref ? await this.parts.forwarding.findPost(this.deps.posts, ref, true) : undefined;
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
        const receipt = await this.parts.forwarding.vote('button vote', post.lifecycleId, vote, () => this.deps.posts.vote(post.lifecycleId, vote));
        receipts.push({ receipt, value: vote.value, label });
        this.log('info', 'slack vote', { lifecycleId: post.lifecycleId, rater, candidateId: vote.candidateId, value: vote.value, outcome: receipt.outcome, via: 'button' });
      }
    } catch (err) {
      if (err instanceof VoteRejectedError) return reply(rejectionText(err.code));
      await reply(this.parts.keeps() ? ANSWERS.keepsTrying : ANSWERS.clickAgain);
      throw err;
    }
    this.parts.stats.forwarded += 1;
    await reply(receiptText(receipts[0]!));
  }

  /**
   * A click on a campaign item handed to this rater (an ephemeral message, so no post to look up): the item's
   * checks and answer are campaign-next.ts's; forwarding is retried here like every click's.
   */
  private async handleCampaignClick(payload: BlockActionsPayload, action: BlockAction, from: { user: string; team: string; channel: string | undefined }): Promise<void> {
    const reply = (text: string, options?: { blocks?: Array<Record<string, unknown>>; replace?: boolean }) => this.parts.answer(payload, from.channel, from.user, text, options);
    const items = this.deps.campaignItems;
    if (!items || !from.channel) return reply(ANSWERS.notAVote);
    const rater = pseudonymiseRater(this.deps.raterKey, 'slack', from.user);
    const retried = <T>(what: string, lifecycleId: string, key: string, call: () => Promise<T>) => this.parts.forwarding.retried(what, { lifecycleId, rater, idempotencyKey: key }, call);
    let answer;
    try {
      answer = await items.click(action, { rater, team: from.team }, { id: from.channel, name: payload.channel?.name }, {
        judge: (lifecycleId, j) => retried('campaign item judgement', lifecycleId, j.idempotencyKey, () => this.deps.posts.judge(lifecycleId, j)),
        vote: (lifecycleId, v) => retried('campaign item vote', lifecycleId, v.idempotencyKey, () => this.deps.posts.vote(lifecycleId, v)),
      }, this.now());
    } catch (err) {
      await reply(this.parts.keeps() ? ANSWERS.keepsTrying : ANSWERS.clickAgain);
      throw err;
    }
    this.parts.stats.forwarded += 1;
    await reply(answer.text, { ...(answer.blocks ? { blocks: answer.blocks } : {}), replace: answer.replace });
  }

  /** A comparison's click: one judgement, answered with the lifecycle's receipt. */
  private async forwardJudgement(lifecycleId: string, judgement: JudgementRequest, choice: Parameters<typeof pairText>[0], reply: (text: string) => Promise<void>): Promise<void> {
    let text: string;
    try {
      const fields = { lifecycleId, rater: judgement.rater, idempotencyKey: judgement.idempotencyKey };
      const receipt = await this.parts.forwarding.retried('button judgement', fields, () => this.deps.posts.judge(lifecycleId, judgement));
      this.log('info', 'slack judgement', { lifecycleId, rater: judgement.rater, left: judgement.left, right: judgement.right, choice: judgement.choice, outcome: receipt.outcome, via: 'button' });
      text = pairText(choice, receipt);
    } catch (err) {
      if (err instanceof VoteRejectedError) return reply(rejectionText(err.code));
      await reply(this.parts.keeps() ? ANSWERS.keepsTrying : ANSWERS.clickAgain);
      throw err;
    }
    this.parts.stats.forwarded += 1;
    await reply(text);
  }

  private skip({ skip: reason, detail }: NotAVote): void {
    this.parts.stats.ignored += 1;
    this.log('debug', 'Slack event not counted', { reason, ...(detail !== undefined ? { detail: String(detail) } : {}) });
  }
}
