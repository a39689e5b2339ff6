/**
 * The email channel publisher of a workflows worker, when PREFLINE_SMTP_HOST is set (docs/email.md).
 * It reads candidate images from the shared artifact store and keeps its send records and the opt-outs
 * under PREFLINE_EMAIL_STATE_DIR, which the gateway must share.
 */
import type { ChannelPublisher } from '../channels/types';
import { loadSecret, type PreflineConfig } from '../config';
import { createEmailNotifier, type EmailNotifier } from '../channels/email/notifier';
import { EmailDigests } from '../channels/email/digest';
import { createEmailPublisher, type EmailPublisherOptions } from '../channels/email/publisher';
import { createSmtpTransport, readSmtpSettings, type MailTransport } from '../channels/email/smtp';
import { EmailState } from '../channels/email/state';
import { createLogger } from '../ops/log';
import { ArtifactStore } from '../store/ArtifactStore';

const transports = new Set<MailTransport>();

export async function emailChannelPublishers(config: PreflineConfig): Promise<{ email?: ChannelPublisher }> {
  const { email } = await emailChannel(config);
  return email ? { email } : {};
}

/** The email publisher and, beside it, the campaign digests (the same options: transport, state, lists). */
export async function emailChannel(config: PreflineConfig): Promise<{ email?: ChannelPublisher; digests?: EmailDigests }> {
  const email = config.email;
  if (!email?.smtp || !email.from) return {};
  const smtp = email.smtp;
  const transport = createSmtpTransport(await readSmtpSettings(smtp));
  transports.add(transport);
  const logger = createLogger('email', config);
  const options: EmailPublisherOptions = {
    transport,
    from: email.from,
    publicUrl: config.gateway.publicUrl,
    ...(email.inboundDomain ? { inboundDomain: email.inboundDomain } : {}),
    raterKey: loadSecret(config, 'rater'),
    tokenKey: loadSecret(config, 'email-token'),
    state: await EmailState.open(email.stateDir),
    artifacts: await ArtifactStore.open(config.artifactDir),
    lists: email.lists,
    closingNote: email.closingNote,
    concurrency: Math.max(1, smtp.maxConnections) * 4, // keep every pooled connection busy while records are written
    log: (level, message, fields) => logger[level](message, fields),
  };
  const publisher = createEmailPublisher(options);
  return { email: publisher, digests: new EmailDigests(options, publisher) };
}

/** The campaign notifications' mailer of a workflows worker, when outbound mail is configured. */
export async function emailNotifier(config: PreflineConfig): Promise<EmailNotifier | undefined> {
  const email = config.email;
  if (!email?.smtp || !email.from) return undefined;
  const transport = createSmtpTransport(await readSmtpSettings(email.smtp));
  transports.add(transport);
  const logger = createLogger('email', config);
  return createEmailNotifier({
    transport, from: email.from, state: await EmailState.open(email.stateDir), raterKey: loadSecret(config, 'rater'), lists: email.lists,
    log: (level, message, fields) => logger[level](message, fields),
  });
}

/** Closes pooled SMTP connections so a stopped worker process can exit. */
export function closeEmailTransports(): void {
  for (const t of transports) t.close();
  transports.clear();
}
