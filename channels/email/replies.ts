/**
 * What a rater's reply does, however it reached the gateway (the inbound SMTP listener, smtp-inbound.ts,
 * or the IMAP poller, imap.ts): one module, so the two paths cannot drift.
 *
 * - Each recipient that verifies as a signed reply address (`vote+<token>@<inbound domain>`) of a known
 *   lifecycle is handled on its own; others are skipped.
 * - The message is read by a maintained MIME parser in a worker thread (mime.ts, message-reader.ts),
 *   so a crafted one cannot stall the gateway; one that cannot be read within the reader's bounds is
 *   refused with UnreadableReplyError (the SMTP listener answers 554, the poller marks it processed).
 * - The first line the rater wrote is parsed (quoted text ignored, see reply.ts) and its
 *   votes are forwarded through the directory with idempotency keys derived from the message key
 *   (Message-ID, else a hash of the bytes) + reply address + position on the line: a message delivered
 *   twice, by an MTA retry, by a poll after a crash, or by both paths, counts once.
 * - If the lifecycle cannot be reached, `ReplyDeferredError` is thrown: the SMTP listener answers 451,
 *   the poller leaves the message for its next pass.
 * - Unreadable replies, and replies after voting closed, get one short answer (`Auto-Submitted:
 *   auto-replied`), at most once per inbound message and three times per reply address, and never to
 *   bounces, auto-submitted or list mail (RFC 3834): no loops.
 */
import { createHash } from 'node:crypto';
import type { Sender } from './compose';
import { composeAutoAnswer } from './compose';
import { redactAddresses, type MailTransport } from './smtp';
import { UnreadableReplyError } from './errors';
import { sharedMessageReader, type MessageReader } from './message-reader';
import { header, messageKey, type InboundMessage } from './mime';
import { firstReplyLine, parseVoteLine } from './reply';
import type { EmailState } from './state';
import { verifyReplyAddress, type ReplyClaims } from './tokens';
import { replyVoteRequest } from './votes';
import { ErrorCode, PreflineError } from '../../core/errors';
import type { GatewayLog } from '../../core/http';
import { VoteRejectedError, type LifecycleDirectory } from '../../core/lifecycle-directory';

export interface ReplyHandlerDeps {
  directory: LifecycleDirectory;
  state: EmailState;
  tokenKey: Buffer;
  /** The domain of reply addresses. */
  domain: string;
  /** Where automatic answers go out; without it, unreadable replies are only logged. */
  answers?: { transport: MailTransport; from: Sender };
  /** Reads messages off the event loop; default the process-wide reader (message-reader.ts). */
  reader?: MessageReader;
  now?: () => number;
  log?: GatewayLog;
}

/** Where an automatic answer would go: the SMTP envelope's sender, or one read off the message (IMAP). */
export type EnvelopeFrom = string | undefined | ((message: InboundMessage) => string | undefined);

/** A verified reply address of a lifecycle this gateway knows. */
export type ReplyTarget = ReplyClaims & { lifecycleId: string; candidates: Array<{ id: string; label: string }> };

export interface ReplyOutcome {
  /** Votes the lifecycles accepted (including ones that changed nothing). */
  counted: number;
}

export interface ReplyHandler {
  /** The claims of a signed reply address for this domain (signature only; no lookup), or undefined. */
  verify(address: string): ReplyClaims | undefined;
  /** A signed reply address of a known lifecycle, or undefined. */
  target(address: string): Promise<ReplyTarget | undefined>;
  /** Reads a message (or just its headers) off the event loop; throws UnreadableReplyError for one that cannot be read. */
  read(raw: Buffer): Promise<InboundMessage>;
  /**
   * Handles one inbound message for its recipients. Throws ReplyDeferredError when a lifecycle cannot
   * be reached (nothing is lost: handling the same message again counts each vote once), and
   * UnreadableReplyError for a message that cannot be read at all (nothing was forwarded).
   */
  handle(raw: Buffer, recipients: readonly string[], envelopeFrom: EnvelopeFrom): Promise<ReplyOutcome>;
  /** Resolves when every automatic answer started so far has been handed to SMTP (tests wait on it). */
  idle(): Promise<void>;
}

/** The lifecycle could not be reached: try the same message again later. */
export class ReplyDeferredError extends PreflineError {
  constructor(message: string) {
    super(ErrorCode.ReplyDeferred, message);
  }
}

export const MAX_ANSWERS_PER_ADDRESS = 3;

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

export function createReplyHandler(deps: ReplyHandlerDeps): ReplyHandler {
  const now = deps.now ?? Date.now;
  const log: GatewayLog = deps.log ?? (() => undefined);
  const pending = new Set<Promise<void>>();
  const reader = deps.reader ?? sharedMessageReader();

  const verify = (address: string) => verifyReplyAddress(deps.tokenKey, address, deps.domain);

  async function target(address: string): Promise<ReplyTarget | undefined> {
    const claims = verify(address);
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

  async function handle(raw: Buffer, recipients: readonly string[], sender: EnvelopeFrom): Promise<ReplyOutcome> {
    let message: InboundMessage;
    try {
      message = await reader.read(raw);
    } catch (err) {
      if (err instanceof UnreadableReplyError) log('warn', 'email reply refused: not a readable message', { bytes: raw.length, error: err.message });
      throw err;
    }
    const envelopeFrom = typeof sender === 'function' ? sender(message) : sender;
    const key = messageKey(message, raw);
    let counted = 0;
    for (const rcpt of recipients) {
      const claims = await target(rcpt);
      if (!claims) continue;
      const line = firstReplyLine(message.text);
      const votes = line !== undefined ? parseVoteLine(line, claims.candidates) : undefined;
      if (!votes) {
        log('info', 'email reply unreadable', { lifecycleId: claims.lifecycleId, rater: claims.rater });
        answer(message, key, claims, envelopeFrom, 'unreadable');
        continue;
      }
      for (const [i, v] of votes.entries()) {
        const vote = replyVoteRequest(key, claims, v, i, new Date(now()).toISOString());
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
          throw new ReplyDeferredError(`lifecycle ${claims.lifecycleId} unreachable`);
        }
      }
    }
    return { counted };
  }

  return {
    verify,
    target,
    read: (raw) => reader.read(raw),
    handle,
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
