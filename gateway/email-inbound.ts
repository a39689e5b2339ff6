/**
 * The gateway's inbound SMTP listener: raters' replies to `vote+<token>@<inbound domain>` become votes.
 *
 * - RCPT: only signed reply addresses of known lifecycles are accepted (550 otherwise), so the listener
 *   neither relays nor answers strangers.
 * - DATA: replies over the size limit are refused with 552 (`stream.sizeExceeded`); the first line the
 *   rater wrote is parsed (quoted text ignored, see connectors/email/reply.ts) and forwarded through the
 *   directory. If the lifecycle cannot be reached, the reply is deferred with 451 so the sending MTA
 *   retries; the idempotency key (inbound Message-ID + reply address + position) makes it count once.
 * - Unreadable replies, and replies after voting closed, get one short answer (`Auto-Submitted:
 *   auto-replied`), at most once per inbound message and three times per reply address, and never to
 *   bounces, auto-submitted or list mail (RFC 3834): no loops.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Sender } from '../connectors/email/compose';
import { composeAutoAnswer } from '../connectors/email/compose';
import { redactAddresses, type MailTransport } from '../connectors/email/EmailPublisher';
import { firstReplyLine, header, messageKey, parseVoteLine, readMessage, type InboundMessage } from '../connectors/email/reply';
import type { EmailState } from '../connectors/email/state';
import { verifyReplyAddress, type ReplyClaims } from '../connectors/email/tokens';
import type { GatewayLog } from './http-server';
import { VoteRejectedError, type LifecycleDirectory } from './lifecycle-directory';

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
  now?: () => number;
  log?: GatewayLog;
}

export interface RunningInbound {
  port: number;
  /** Resolves when every automatic answer started so far has been handed to SMTP (tests wait on it). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const MAX_ANSWERS_PER_ADDRESS = 3;

type SmtpReplyError = Error & { responseCode: number };

function smtpError(responseCode: number, message: string): SmtpReplyError {
  return Object.assign(new Error(message), { responseCode });
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** RFC 3834 §2: never answer bounces, auto-submitted, bulk or list mail, or daemons. */
export function mayAnswer(message: InboundMessage, envelopeFrom: string | undefined): boolean {
  if (!envelopeFrom) return false; // null reverse-path: a bounce
  if (/^(mailer-daemon|postmaster|no-?reply|bounces?)([+@-]|$)/i.test(envelopeFrom)) return false;
  const auto = header(message, 'auto-submitted');
  if (auto !== undefined && auto.trim().toLowerCase() !== 'no') return false;
  if (/^(bulk|junk|list|auto_reply)$/i.test(header(message, 'precedence')?.trim() ?? '')) return false;
  if (header(message, 'list-id') !== undefined || header(message, 'list-unsubscribe') !== undefined) return false;
  if (/\b(all|autoreply)\b/i.test(header(message, 'x-auto-response-suppress') ?? '')) return false;
  return true;
}

export async function startEmailInbound(deps: EmailInboundDeps): Promise<RunningInbound> {
  const now = deps.now ?? Date.now;
  const log: GatewayLog = deps.log ?? (() => undefined);
  const pending = new Set<Promise<void>>();
  const tls = deps.tls ? { key: await readFile(deps.tls.keyFile), cert: await readFile(deps.tls.certFile) } : undefined;

  async function claimsOf(address: string): Promise<(ReplyClaims & { lifecycleId: string; candidates: Array<{ id: string; label: string }> }) | undefined> {
    const claims = verifyReplyAddress(deps.tokenKey, address, deps.domain);
    const record = claims && (await deps.state.lifecycle(claims.lifecycleHash));
    return claims && record ? { ...claims, lifecycleId: record.lifecycleId, candidates: record.candidates } : undefined;
  }

  function answer(message: InboundMessage, key: string, claims: ReplyClaims, envelopeFrom: string | undefined, reason: 'unreadable' | 'closed'): void {
    if (!deps.answers || !mayAnswer(message, envelopeFrom)) return;
    const { transport, from } = deps.answers;
    const task = (async () => {
      if (!(await deps.state.claim(`msg-${sha(`${key}\0${claims.token}`).slice(0, 40)}`))) return; // once per message
      let allowed = false;
      for (let n = 1; n <= MAX_ANSWERS_PER_ADDRESS && !allowed; n++) allowed = await deps.state.claim(`addr-${sha(claims.token).slice(0, 40)}-${n}`);
      if (!allowed) return log('warn', 'email auto-answer cap reached', { rater: claims.rater });
      const inReplyTo = message.messageId;
      await transport.sendMail(composeAutoAnswer({ from, to: envelopeFrom!, reason, ...(inReplyTo ? { inReplyTo } : {}) }));
      log('info', 'email auto-answer sent', { rater: claims.rater, reason });
    })()
      .catch((err: unknown) => log('warn', 'email auto-answer failed', { error: redactAddresses(err instanceof Error ? err.message : String(err)) }))
      .finally(() => pending.delete(task));
    pending.add(task);
  }

  async function handle(raw: Buffer, session: SMTPServerSession): Promise<string> {
    const message = readMessage(raw);
    const key = messageKey(message, raw);
    const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined;
    let counted = 0;
    for (const rcpt of session.envelope.rcptTo) {
      const claims = await claimsOf(rcpt.address);
      if (!claims) continue; // accepted at RCPT, so only a state change since; nothing to do
      const line = firstReplyLine(message.text);
      const votes = line !== undefined ? parseVoteLine(line, claims.candidates) : undefined;
      if (!votes) {
        log('info', 'email reply unreadable', { lifecycleId: claims.lifecycleId, rater: claims.rater });
        answer(message, key, claims, envelopeFrom, 'unreadable');
        continue;
      }
      for (const [i, v] of votes.entries()) {
        const vote = {
          idempotencyKey: `email:reply:${sha(`${key}\0${claims.token}\0${i}`).slice(0, 40)}`,
          candidateId: v.candidateId,
          value: v.value,
          rater: claims.rater,
          channel: 'email',
          castAt: new Date(now()).toISOString(),
        };
        try {
          const receipt = await deps.directory.vote(claims.lifecycleId, vote);
          counted += 1;
          log('info', 'email reply vote', { lifecycleId: claims.lifecycleId, rater: claims.rater, candidateId: v.candidateId, value: v.value, outcome: receipt.outcome });
        } catch (err) {
          if (err instanceof VoteRejectedError && err.code === 'voting_closed') {
            answer(message, key, claims, envelopeFrom, 'closed');
            break;
          }
          if (err instanceof VoteRejectedError && err.code !== 'busy' && err.code !== 'voting_not_open') {
            log('warn', 'email reply vote refused', { lifecycleId: claims.lifecycleId, rater: claims.rater, code: err.code });
            continue;
          }
          log('warn', 'email reply deferred: lifecycle unreachable', { lifecycleId: claims.lifecycleId, error: err instanceof Error ? err.message : String(err) });
          throw smtpError(451, 'Temporary failure recording the vote, please retry');
        }
      }
    }
    return counted > 0 ? `Vote received (${counted})` : 'Message received';
  }

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
      claimsOf(address.address).then(
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
        handle(Buffer.concat(chunks), session).then(
          (reply) => callback(null, reply),
          (err: unknown) => callback(typeof (err as SmtpReplyError).responseCode === 'number' ? (err as SmtpReplyError) : smtpError(451, 'Temporary failure, please retry')),
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
  const idle = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  return {
    port,
    idle,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await idle();
    },
  };
}
