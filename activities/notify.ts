/**
 * `sendCampaignNotice`: a campaign's notification to one target, on the campaign's own queue (whose
 * workers hold the Slack token, the SMTP settings and the webhook secret, as for the channel
 * activities). Each sender is idempotent per (event id, target): Slack finds its earlier post by
 * message metadata, email keeps a send record per recipient, a webhook's receiver dedupes on
 * Prefline-Event-Id. A target this worker is not configured for (a webhook name not in its
 * PREFLINE_WEBHOOKS) fails for good, in words.
 */
import { log } from '@temporalio/activity';
import type { EmailNotifier } from '../channels/email/notifier';
import type { SlackNotifier } from '../channels/slack/notifier';
import { WebhookRejectedError, type WebhookSender } from '../connectors/webhook';
import { ConfigMissingError } from '../core/errors';
import { toActivityFailure } from './failures';
import type { CampaignNotifyActivities } from './types';

export interface NotifyActivityDeps {
  slack?: SlackNotifier;
  email?: EmailNotifier;
  webhook?: WebhookSender;
  /** PREFLINE_WEBHOOKS: receiver name → URL (the URL stays on the workers, out of workflow history). */
  webhookReceivers?: Readonly<Record<string, string>>;
}

const MISSING = {
  slack: 'set PREFLINE_SLACK_BOT_TOKEN on the workflows workers to notify a Slack channel',
  email: 'set PREFLINE_SMTP_HOST and PREFLINE_EMAIL_FROM on the workflows workers to notify by email',
  webhook: 'set PREFLINE_WEBHOOK_SECRET on the workflows workers to call webhooks',
};

export function createCampaignNotifyActivities(deps: NotifyActivityDeps): CampaignNotifyActivities {
  return {
    async sendCampaignNotice({ notice, target }) {
      try {
        if (target.kind === 'slack') {
          if (!deps.slack) throw new ConfigMissingError(`no Slack notification sent: ${MISSING.slack}`);
          return { outcome: await deps.slack.notify(target.channel, notice) };
        }
        if (target.kind === 'email') {
          if (!deps.email) throw new ConfigMissingError(`no email notification sent: ${MISSING.email}`);
          return { outcome: await deps.email.notify(target, notice) };
        }
        if (!deps.webhook) throw new ConfigMissingError(`no webhook called: ${MISSING.webhook}`);
        const url = Object.hasOwn(deps.webhookReceivers ?? {}, target.name) ? deps.webhookReceivers![target.name] : undefined;
        if (url === undefined) {
          const known = Object.keys(deps.webhookReceivers ?? {});
          throw new WebhookRejectedError(`no webhook called: "${target.name}" is not a receiver in PREFLINE_WEBHOOKS on the workflows workers (${known.length > 0 ? `known: ${known.join(', ')}` : 'none configured'})`);
        }
        const { status } = await deps.webhook.deliver({ url, eventId: notice.eventId, body: notice });
        log.info('campaign webhook delivered', { eventId: notice.eventId, status });
        return { outcome: 'sent' };
      } catch (err) {
        throw toActivityFailure(err);
      }
    },
  };
}
