/**
 * Wires the email channel into the gateway process from configuration (docs/email.md): the vote and
 * unsubscribe link routes whenever email is configured, and the inbound SMTP listener for replies when
 * PREFLINE_EMAIL_INBOUND_PORT is set. Automatic answers to unreadable replies go out through SMTP when
 * PREFLINE_SMTP_HOST is set here too.
 */
import { readFile } from 'node:fs/promises';
import { loadSecret, type PreflineConfig } from '../config';
import { createSmtpTransport, type MailTransport } from '../connectors/email/EmailPublisher';
import { EmailState } from '../connectors/email/state';
import { startEmailInbound, type RunningInbound } from './email-inbound';
import { createEmailRoutes } from './email-routes';
import type { ExtraRoute, GatewayLog } from './http-server';
import type { LifecycleDirectory } from './lifecycle-directory';

export interface RunningEmailGateway {
  routes: ExtraRoute[];
  inbound?: RunningInbound;
  close(): Promise<void>;
}

export async function startEmailGateway(config: PreflineConfig, deps: { directory: LifecycleDirectory; log: GatewayLog }): Promise<RunningEmailGateway | undefined> {
  const email = config.email;
  if (!email) return undefined;
  const tokenKey = loadSecret(config, 'email-token');
  const state = await EmailState.open(email.stateDir);
  const routes = createEmailRoutes({ directory: deps.directory, tokenKey, state, log: deps.log });
  let transport: MailTransport | undefined;
  let inbound: RunningInbound | undefined;
  if (email.inbound && email.inboundDomain) {
    // Answers are rare: one connection per message, no pool to keep open.
    if (email.smtp && email.from) {
      const { dkim, ...smtp } = email.smtp;
      transport = createSmtpTransport({
        ...smtp,
        maxConnections: 0,
        ...(dkim ? { dkim: { domainName: dkim.domainName, keySelector: dkim.keySelector, privateKey: await readFile(dkim.privateKeyFile, 'utf8') } } : {}),
      });
    }
    inbound = await startEmailInbound({
      directory: deps.directory,
      state,
      tokenKey,
      domain: email.inboundDomain,
      host: email.inbound.host,
      port: email.inbound.port,
      maxBytes: email.inbound.maxBytes,
      ...(email.inbound.tls ? { tls: email.inbound.tls } : {}),
      ...(transport && email.from ? { answers: { transport, from: email.from } } : {}),
      log: deps.log,
    });
  }
  deps.log('info', 'email votes enabled', { links: true, replies: inbound !== undefined });
  return {
    routes,
    ...(inbound ? { inbound } : {}),
    async close() {
      await inbound?.close();
      transport?.close();
    },
  };
}
