/**
 * Campaign items for Slack raters: `/prefline next [campaign]` and the "Next item" button ask the campaign
 * for the rater's next item (server-side assignment: never one they answered, never past its quota,
 * reserved for them a while) with the rater's pseudonym, and answer with the item as an ephemeral message
 * (campaign-messages.ts). The campaign must be one of this channel's (`slack:<id>` or `slack:#<name>`):
 * its items take Slack answers only, and only from where the campaign runs. Transport-free and
 * Temporal-free: campaigns and lifecycles are reached through their ports (core/).
 */
import { CampaignRefusedError, type CampaignDirectory } from '../../core/campaign-directory';
import { messageOf, type GatewayLog } from '../../core/http';
import { VoteRejectedError, type LifecycleDirectory } from '../../core/lifecycle-directory';
import type { CampaignStatus, JudgementReceipt, JudgementRequest, VoteReceipt, VoteRequest } from '../../workflows/types';
import { pairText, receiptText, rejectionText } from './answers';
import {
  CAMPAIGN_ANSWERS, NEXT_ACTION, NO_ITEM, assignedItemMessage, isItemOfChannel, parseAssignedValue, readAssignedClick, withNext, type SlackItemAnswer,
} from './campaign-messages';
import { escapeMrkdwn } from './messages';
import type { BlockAction } from './payloads';

/** How a click's answer reaches its lifecycle (SlackInbound's forwarding, retried while Temporal is away). */
export interface ItemForwarding {
  judge(lifecycleId: string, judgement: JudgementRequest): Promise<JudgementReceipt>;
  vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt>;
}

/** A click's answer; `replace`: in place of the clicked message (its buttons go with it). */
export type ClickAnswer = SlackItemAnswer & { replace: boolean };

export interface SlackCampaignItemsDeps {
  campaigns: CampaignDirectory;
  lifecycles: Pick<LifecycleDirectory, 'status'>;
  /** A public URL of an artifact (images of image items); absent: images are not shown in Slack. */
  imageUrl?: (sha256: string) => string | undefined;
  log?: GatewayLog;
}

/** The channel a rater asks from: its id, and its name where Slack says. */
export interface SlackPlace {
  id: string;
  name?: string | undefined;
}

const CAMPAIGN_SCAN_LIMIT = 50;
const noLog: GatewayLog = () => undefined;

export class SlackCampaignItems {
  private readonly log: GatewayLog;

  constructor(private readonly deps: SlackCampaignItemsDeps) {
    this.log = deps.log ?? noLog;
  }

  /**
   * The rater's next item of `campaignId` (or of the one campaign running in this channel), or why there
   * is none, in plain words. `done`: the item just answered or skipped. Never rejects.
   */
  async next(campaignId: string | undefined, rater: string, place: SlackPlace, done?: string): Promise<SlackItemAnswer> {
    try {
      const chosen = await this.campaignHere(place, campaignId);
      if (typeof chosen === 'object') return chosen;
      let answer;
      try {
        answer = await this.deps.campaigns.next(chosen, { rater, channel: 'slack', ...(done !== undefined ? { done } : {}) });
      } catch (err) {
        if (err instanceof CampaignRefusedError) return { text: CAMPAIGN_ANSWERS.unknownCampaign };
        if (err instanceof VoteRejectedError) return { text: err.code === 'busy' ? CAMPAIGN_ANSWERS.busy : `Prefline could not hand out an item (${err.code.replace(/_/g, ' ')}).` };
        throw err;
      }
      if (!answer.assigned) return { text: answer.reason === 'excluded' && answer.message ? `${NO_ITEM.excluded} ${answer.message}` : NO_ITEM[answer.reason] };
      const status = await this.deps.lifecycles.status(answer.lifecycleId);
      // The campaign's items are this channel's only: another channel's campaign is answered as unknown here.
      if (!status || !isItemOfChannel(status, place)) {
        this.log('info', 'Slack next refused: the campaign runs elsewhere', { campaignId: chosen, rater, lifecycleId: answer.lifecycleId });
        return { text: CAMPAIGN_ANSWERS.unknownCampaign };
      }
      if (status.phase !== 'voting') return withNext(':hourglass: The item handed to you is not open for answers yet; ask for the next one in a moment.', chosen, undefined);
      this.log('debug', 'Slack campaign item', { campaignId: chosen, rater, lifecycleId: answer.lifecycleId, again: answer.again });
      return assignedItemMessage(status, rater, chosen, answer.reservedUntil, this.deps.imageUrl);
    } catch (err) {
      this.log('error', 'Slack campaign next failed', { campaignId, rater, error: messageOf(err) });
      return { text: CAMPAIGN_ANSWERS.unreachable };
    }
  }

  /**
   * A click on a handed-out item's message: "Next item", or an answer, forwarded to the item's lifecycle
   * (through the same checks as posts: the lifecycle takes Slack answers only) and answered with its
   * receipt and the next button. A refusal the rater can act on replaces nothing, so they can click again.
   * Rejects only when forwarding failed for a reason other than a refusal (the inbound keeps the click).
   */
  async click(action: BlockAction, who: { rater: string; team: string }, place: SlackPlace, forward: ItemForwarding, nowMs: number): Promise<ClickAnswer> {
    const value = parseAssignedValue(action.value);
    if (!value?.k) return { text: CAMPAIGN_ANSWERS.tampered, replace: false };
    if (action.action_id === NEXT_ACTION) return { ...(await this.next(value.k, who.rater, place, typeof value.d === 'string' ? value.d : undefined)), replace: true };
    const lifecycleId = value.l;
    const status = typeof lifecycleId === 'string' ? await this.deps.lifecycles.status(lifecycleId) : undefined;
    if (!status || !isItemOfChannel(status, place)) {
      this.log('warn', 'Slack click on a campaign item not of this channel; not counted', { lifecycleId, rater: who.rater });
      return { text: CAMPAIGN_ANSWERS.notAnItem, replace: false };
    }
    const reading = readAssignedClick(action, status, who, nowMs);
    if ('tampered' in reading) {
      this.log('warn', 'Slack campaign button does not match its item; not counted', { lifecycleId: status.lifecycleId });
      return { text: CAMPAIGN_ANSWERS.tampered, replace: false };
    }
    const campaignId = value.k;
    try {
      if ('judgement' in reading) {
        const receipt = await forward.judge(status.lifecycleId, reading.judgement);
        this.log('info', 'slack judgement', { lifecycleId: status.lifecycleId, rater: who.rater, choice: reading.judgement.choice, outcome: receipt.outcome, via: 'campaign item' });
        return { ...withNext(pairText(reading.choice, receipt, false), campaignId, status.lifecycleId), replace: true };
      }
      const receipt = await forward.vote(status.lifecycleId, reading.vote);
      this.log('info', 'slack vote', { lifecycleId: status.lifecycleId, rater: who.rater, candidateId: reading.vote.candidateId, outcome: receipt.outcome, via: 'campaign item' });
      return { ...withNext(receiptText({ receipt, value: reading.vote.value, label: reading.label, counts: false }), campaignId, status.lifecycleId), replace: true };
    } catch (err) {
      if (!(err instanceof VoteRejectedError)) throw err;
      this.log('info', 'Slack campaign answer refused', { lifecycleId: status.lifecycleId, rater: who.rater, code: err.code });
      if (err.code === 'lifecycle_full') return { ...withNext(CAMPAIGN_ANSWERS.full, campaignId, status.lifecycleId), replace: true };
      if (err.code === 'voting_closed') return { ...withNext(rejectionText(err.code), campaignId, status.lifecycleId), replace: true };
      return { text: rejectionText(err.code), replace: false };
    }
  }

  /**
   * The campaign to ask: `named` when it runs in this channel (checked before asking, so no item is reserved
   * for a rater who may not answer it here), else the one campaign running here; or the answer saying there
   * is none, or several.
   */
  private async campaignHere(place: SlackPlace, named?: string): Promise<string | SlackItemAnswer> {
    if (!this.deps.campaigns.listActive) return named ?? { text: CAMPAIGN_ANSWERS.noCampaignHere };
    const running = await this.deps.campaigns.listActive(CAMPAIGN_SCAN_LIMIT);
    const here = running.filter((c) => inPlace(c, place));
    if (named !== undefined) {
      const match = (c: CampaignStatus) => c.campaignId === named || c.label === named;
      const found = here.find(match);
      if (found) return found.campaignId;
      // Not running at all: it has finished (or never existed); running elsewhere: not this channel's.
      return { text: running.some(match) ? CAMPAIGN_ANSWERS.unknownCampaign : CAMPAIGN_ANSWERS.notRunning };
    }
    if (here.length === 1) return here[0]!.campaignId;
    if (here.length === 0) return { text: CAMPAIGN_ANSWERS.noCampaignHere };
    const ids = here.map((c) => `\`${escapeMrkdwn(c.campaignId)}\`${c.label !== c.campaignId ? ` (${escapeMrkdwn(c.label)})` : ''}`).join(', ');
    return { text: `Several campaigns run in this channel; say which: \`/prefline next <campaign>\` with one of ${ids}.` };
  }
}

function inPlace(campaign: CampaignStatus, place: SlackPlace): boolean {
  return campaign.channel === `slack:${place.id}` || (place.name !== undefined && campaign.channel === `slack:#${place.name}`);
}
