/**
 * Campaign notifications by email: one mail per (event id, recipient), even across activity retries,
 * through the channel's MailDelivery (delivery.ts: durable send records under PREFLINE_EMAIL_STATE_DIR,
 * a claim per send in flight, a deterministic Message-ID), keyed by the notice's event id where
 * invitations are keyed by their lifecycle. Recipients are the notice's addresses or a configured rater
 * list (`@name`); they are the campaign's owners, not raters, so rating opt-outs do not apply.
 * Plain TypeScript.
 */
import type { SendMailOptions } from 'nodemailer';
import { noticeLines, noticeTitle } from '../../core/campaign-notice';
import { ConfigMissingError } from '../../core/errors';
import { pseudonymiseRater } from '../../core/pseudonym';
import type { CampaignNotice } from '../../workflows/types';
import { escapeHtml, oneLine, sender, truncate, type Sender } from './compose';
import { MailDelivery, type EmailLog } from './delivery';
import { EmailRejectedError } from './errors';
import { redactAddresses, type MailTransport } from './smtp';
import type { EmailState } from './state';

export interface EmailNotifierOptions {
  transport: MailTransport;
  from: Sender;
  /** Right-hand side of Message-IDs; defaults to the From address's domain. */
  messageIdDomain?: string;
  state: EmailState;
  /** Names the recipients in the send records (a keyed hash, as raters are: no addresses on disk). */
  raterKey: Buffer;
  /** Named lists for `@name` (PREFLINE_EMAIL_LISTS). */
  lists?: Record<string, string[]>;
  now?: () => number;
  log?: EmailLog;
}

export interface EmailNotifier {
  notify(to: { recipients: string[]; list?: string }, notice: CampaignNotice): Promise<'sent' | 'already'>;
}

export function composeNoticeMail(from: Sender, to: string, messageId: string, notice: CampaignNotice): SendMailOptions {
  const title = noticeTitle(notice);
  const lines = noticeLines(notice);
  return {
    from: sender(from),
    to,
    subject: oneLine(truncate(title, 150)),
    messageId,
    text: [title, '', ...lines].join('\n'),
    html: `<!doctype html><html><body><p><strong>${escapeHtml(title)}</strong></p><ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul></body></html>`,
    // An automatic message (RFC 3834): vacation responders stay quiet.
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

export function createEmailNotifier(options: EmailNotifierOptions): EmailNotifier {
  const domain = options.messageIdDomain ?? options.from.address.slice(options.from.address.lastIndexOf('@') + 1);
  const delivery = new MailDelivery({
    transport: options.transport, from: options.from, domain, state: options.state, concurrency: 4, batchBudgetMs: 45_000,
    now: options.now ?? Date.now, log: options.log ?? (() => undefined),
  });
  return {
    async notify(to, notice) {
      let addresses = to.recipients;
      if (to.list !== undefined) {
        const list = options.lists?.[to.list];
        if (!list) throw new ConfigMissingError(`email list "@${to.list}" is not configured on this worker (PREFLINE_EMAIL_LISTS)`);
        addresses = list;
      }
      const targets = [...new Set(addresses.map((a) => a.toLowerCase()))].map((address) => ({ address, rater: pseudonymiseRater(options.raterKey, 'email', address) }));
      if (targets.length === 0) throw new ConfigMissingError(`email list "@${to.list ?? ''}" has no addresses`);
      const result = await delivery.deliver('notify', notice.eventId, targets, (t, messageId) => composeNoticeMail(options.from, t.address, messageId, notice));
      if (result.sent + result.already === 0) {
        throw new EmailRejectedError(`no recipient of the notice could be mailed: every one was refused (last: ${redactAddresses(result.lastError?.message ?? 'unknown')})`);
      }
      return result.sent > 0 ? 'sent' : 'already';
    },
  };
}
