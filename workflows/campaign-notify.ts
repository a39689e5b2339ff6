/**
 * A campaign's notifications (its `notify` field): when it reaches its quota and when it ends, a summary
 * goes to each target (Slack, email, webhook) through the `sendCampaignNotice` activity on the campaign's
 * own queue, where the channels' credentials are. Each event is sent once per campaign: the campaign
 * records it (and carries it across continue-as-new), and the activity is idempotent per event id and
 * target, so a retry never posts or mails twice. A notice that still fails after its bounded retries is
 * logged and given up: a notification never fails the campaign.
 */
import { log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { CampaignNoticeTarget, CampaignNotifyActivities } from '../activities/types';
import type { RatingCampaign } from './campaign-state';
import type { CampaignEndOutcome, CampaignNotice, CampaignNotifyEvent, CampaignNotifyPlan } from './types';

function noticeActivities(taskQueue: string) {
  return proxyActivities<CampaignNotifyActivities>({
    taskQueue,
    startToCloseTimeout: '1 minute',
    // Bounded: a receiver down for good must not hold the campaign open; 8 tries over about five minutes.
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 8 },
  });
}

/** Every item ended with its answers in full (its responses, or closed confident): the campaign's quota. */
export function quotaReached(campaign: RatingCampaign): boolean {
  return (campaign.counts.answered ?? 0) >= campaign.plan.itemCount;
}

/** How a finished campaign ended: cancelled; cut by its deadline (items never started, or time ran out); or every item ended. */
export function endOutcome(campaign: RatingCampaign, now: number): CampaignEndOutcome {
  if (campaign.cancelled) return 'cancelled';
  if (quotaReached(campaign)) return 'finished';
  return campaign.unstarted > 0 || now >= campaign.deadlineAtMs ? 'deadline' : 'finished';
}

/** The notifications of `event` are wanted and not sent yet. */
export function notifyDue(campaign: RatingCampaign, event: CampaignNotifyEvent): boolean {
  return campaign.plan.notify?.on.includes(event) === true && !campaign.notified.includes(event);
}

export function noticeTargets(notify: CampaignNotifyPlan): CampaignNoticeTarget[] {
  return [
    ...(notify.slack !== undefined ? [{ kind: 'slack' as const, channel: notify.slack }] : []),
    ...(notify.email !== undefined ? [{ kind: 'email' as const, ...notify.email }] : []),
    ...(notify.webhook !== undefined ? [{ kind: 'webhook' as const, name: notify.webhook }] : []),
  ];
}

/** The event id receivers dedupe on: the campaign, its first run (a later campaign of the same id is another), the event. */
export function noticeEventId(campaignId: string, firstRunId: string, event: CampaignNotifyEvent): string {
  return `${campaignId}/${firstRunId}/${event}`;
}

export function buildNotice(campaign: RatingCampaign, event: CampaignNotifyEvent, firstRunId: string, now: number): CampaignNotice {
  const { plan } = campaign;
  return {
    eventId: noticeEventId(campaign.campaignId, firstRunId, event),
    event,
    campaignId: campaign.campaignId,
    label: plan.label,
    task: plan.task,
    responses: plan.responses,
    ...(event === 'completed' ? { outcome: endOutcome(campaign, now) } : {}),
    ...(campaign.cancelReason !== undefined ? { cancelReason: campaign.cancelReason } : {}),
    startedAt: campaign.startedAt,
    deadlineAt: new Date(campaign.deadlineAtMs).toISOString(),
    at: new Date(now).toISOString(),
    counts: campaign.countsNow(now),
    // Only campaigns with gold items score raters, so only they can exclude any.
    ...((campaign.plan.goldCount ?? 0) > 0 ? { ratersExcluded: campaign.quality.counts().raters.excluded } : {}),
    resultsCommand: `prefline campaign results ${campaign.campaignId}`,
  };
}

/** Sends `event` to every target (at once), if wanted and not sent before; records it as sent either way. */
export async function sendNotices(campaign: RatingCampaign, event: CampaignNotifyEvent): Promise<void> {
  const notify = campaign.plan.notify;
  if (!notify || !notifyDue(campaign, event)) return;
  const info = workflowInfo();
  const notice = buildNotice(campaign, event, info.firstExecutionRunId, Date.now());
  const activities = noticeActivities(info.taskQueue);
  await Promise.all(noticeTargets(notify).map((target) => activities.sendCampaignNotice({ notice, target }).catch((err: unknown) => {
    log.warn('campaign notification given up', { campaignId: campaign.campaignId, event, target: target.kind, error: String(err) });
  })));
  campaign.notified.push(event);
}
