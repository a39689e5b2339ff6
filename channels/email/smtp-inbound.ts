/**
 * The gateway's inbound SMTP listener: raters' replies to `vote+<token>@<inbound domain>` become votes.
 *
 * - RCPT: only signed reply addresses of known lifecycles are accepted (550 otherwise), so the listener
 *   neither relays nor answers strangers.
 * - DATA: replies over the size limit are refused with 552 (`stream.sizeExceeded`); the rest goes to the
 *   reply handler shared with the IMAP poller (replies.ts: parse, forward, auto-answer). A message
 *   the reader cannot read (malformed or past its bounds) is refused with 554. If the
 *   lifecycle cannot be reached, the reply is deferred with 451 so the sending MTA retries; the
 *   idempotency key (inbound Message-ID + reply address + position) makes it count once.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import type { Sender } from './compose';
import { UnreadableReplyError } from './errors';
import type { MessageReader } from './message-reader';
import type { MailTransport } from './smtp';
import type { EmailState } from './state';
import { createReplyHandler, ReplyDeferredError } from './replies';
import type { GatewayLog } from '../../core/http';
import type { LifecycleDirectory } from '../../core/lifecycle-directory';

export { mayAnswer } from './replies';

export interface EmailInboundDeps {
  directory: LifecycleDirectory;
  state: EmailState;
  tokenKey: Buffer;
  /** The domain of reply addresses. */
  domain: string;
  host: string;
  port: number;
  maxBytes: number;
  /** PEM files; with them the listener offers STARTTLS, without them STARTTLS is disabled. */
  tls?: { keyFile: string; certFile: string };
  /** Where automatic answers go out; without it, unreadable replies are only logged. */
  answers?: { transport: MailTransport; from: Sender };
  /** Reads messages off the event loop; default the process-wide reader. */
  reader?: MessageReader;
  now?: () => number;
  log?: GatewayLog;
}

export interface RunningInbound {
  port: number;
  /** Resolves when every automatic answer started so far has been handed to SMTP (tests wait on it). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

type SmtpReplyError = Error & { responseCode: number };

function smtpError(responseCode: number, message: string): SmtpReplyError {
  return Object.assign(new Error(message), { responseCode });
}

export async function startEmailInbound(deps: EmailInboundDeps): Promise<RunningInbound> {
  const log: GatewayLog = deps.log ?? (() => undefined);
  const tls = deps.tls ? { key: await readFile(deps.tls.keyFile), cert: await readFile(deps.tls.certFile) } : undefined;
  const replies = createReplyHandler({
    directory: deps.directory, state: deps.state, tokenKey: deps.tokenKey, domain: deps.domain,
    ...(deps.answers ? { answers: deps.answers } : {}), ...(deps.reader ? { reader: deps.reader } : {}), ...(deps.now ? { now: deps.now } : {}), log,
  });

  const server = new SMTPServer({
    name: deps.domain,
    banner: 'Prefline vote replies',
    logger: false,
    authOptional: true, // an MX for replies: senders never authenticate
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(tls ? tls : {}),
    size: deps.maxBytes,
    disableReverseLookup: true,
    maxClients: 100,
    socketTimeout: 60_000,
    onRcptTo(address, _session, callback) {
      replies.target(address.address).then(
        (claims) => callback(claims ? null : smtpError(550, 'No such mailbox')),
        () => callback(smtpError(451, 'Temporary failure, please retry')),
      );
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        if (!stream.sizeExceeded) chunks.push(chunk); // past the limit: keep draining, stop buffering
      });
      stream.on('error', (err: Error) => callback(err));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(smtpError(552, `Message exceeds fixed maximum message size (${deps.maxBytes} bytes)`));
        const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined;
        replies.handle(Buffer.concat(chunks), session.envelope.rcptTo.map((r) => r.address), envelopeFrom).then(
          ({ counted }) => callback(null, counted > 0 ? `Vote received (${counted})` : 'Message received'),
          (err: unknown) => callback(
            err instanceof UnreadableReplyError ? smtpError(554, 'Message could not be read; nothing was counted')
              : err instanceof ReplyDeferredError ? smtpError(451, 'Temporary failure recording the vote, please retry')
                : smtpError(451, 'Temporary failure, please retry'),
          ),
        );
      });
    },
  });
  server.on('error', (err: Error) => log('error', 'email inbound listener error', { error: err.message }));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(deps.port, deps.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  log('info', 'email inbound listening', { host: deps.host, port, domain: deps.domain, starttls: Boolean(tls) });
  return {
    port,
    idle: () => replies.idle(),
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await replies.idle();
    },
  };
}
