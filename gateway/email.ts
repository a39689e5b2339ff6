/**
 * Wires the email channel into the gateway process from configuration (docs/email.md): the vote and
 * unsubscribe link routes whenever email is configured, and for replies either the inbound SMTP listener
 * (PREFLINE_EMAIL_INBOUND_PORT) or the IMAP poller (PREFLINE_IMAP_HOST). Automatic answers to unreadable
 * replies go out through SMTP when PREFLINE_SMTP_HOST is set here too.
 */
import { readFile } from 'node:fs/promises';
import { loadSecret, type PreflineConfig } from '../config';
import { createSmtpTransport, readSmtpSettings, type MailTransport } from '../channels/email/smtp';
import { EmailState } from '../channels/email/state';
import { startImapPoller, type RunningImapPoller } from '../channels/email/imap';
import { createMessageReader, type MessageReader } from '../channels/email/message-reader';
import { startEmailInbound, type RunningInbound } from '../channels/email/smtp-inbound';
import { createReplyHandler } from '../channels/email/replies';
import { createEmailRoutes } from '../channels/email/routes';
import type { ChannelInbound } from '../channels/types';
import type { GatewayLog } from '../core/http';
import type { LifecycleDirectory } from '../core/lifecycle-directory';

/** The email channel's gateway half: the link routes, and the reply intake (SMTP listener or IMAP poller). */
export interface RunningEmailGateway extends ChannelInbound {
  inbound?: RunningInbound;
  imap?: RunningImapPoller;
}

export async function startEmailGateway(config: PreflineConfig, deps: { directory: LifecycleDirectory; log: GatewayLog }): Promise<RunningEmailGateway | undefined> {
  const email = config.email;
  if (!email) return undefined;
  const tokenKey = loadSecret(config, 'email-token');
  const state = await EmailState.open(email.stateDir);
  const routes = createEmailRoutes({ directory: deps.directory, tokenKey, state, log: deps.log });
  let transport: MailTransport | undefined;
  let inbound: RunningInbound | undefined;
  let imap: RunningImapPoller | undefined;
  let reader: MessageReader | undefined;
  if ((email.inbound || email.imap) && email.inboundDomain) {
    reader = createMessageReader(); // replies are parsed in a worker thread, off the gateway's event loop
    // Answers are rare: one connection per message, no pool to keep open.
    if (email.smtp && email.from) {
      transport = createSmtpTransport(await readSmtpSettings({ ...email.smtp, maxConnections: 0 }));
    }
    const answers = transport && email.from ? { answers: { transport, from: email.from } } : {};
    if (email.inbound) {
      inbound = await startEmailInbound({
        directory: deps.directory,
        state,
        tokenKey,
        domain: email.inboundDomain,
        host: email.inbound.host,
        port: email.inbound.port,
        maxBytes: email.inbound.maxBytes,
        ...(email.inbound.tls ? { tls: email.inbound.tls } : {}),
        ...answers,
        reader,
        log: deps.log,
      });
    } else if (email.imap) {
      const { caFile, host, port, security, user, password, mailbox, processedMailbox, pollMs, maxBytes } = email.imap;
      imap = startImapPoller({
        replies: createReplyHandler({ directory: deps.directory, state, tokenKey, domain: email.inboundDomain, ...answers, reader, log: deps.log }),
        server: { host, port, security, user, password, ...(caFile ? { ca: await readFile(caFile) } : {}) },
        mailbox,
        ...(processedMailbox !== undefined ? { processedMailbox } : {}),
        pollMs,
        maxBytes,
        log: deps.log,
      });
    }
  }
  deps.log('info', 'email votes enabled', { links: true, replies: inbound ? 'smtp' : imap ? 'imap' : false });
  return {
    routes,
    ...(inbound ? { inbound } : {}),
    ...(imap ? { imap } : {}),
    async close() {
      await inbound?.close();
      await imap?.close();
      await reader?.close();
      transport?.close();
    },
  };
}
