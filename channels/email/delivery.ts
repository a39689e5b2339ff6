/**
 * Sends one kind of mail of a lifecycle to its raters, exactly one mail per (kind, lifecycle, rater),
 * even across activity retries:
 * - before sending, the durable send record is checked (`EmailState`); after SMTP accepts, it is written;
 * - a send already in flight for the same Message-ID is awaited, not repeated (a timed-out attempt may
 *   still be running when Temporal starts the next one): in-process through a map, across processes
 *   through a claim file (taken over once its holder is dead or the claim is 5 minutes old);
 * - the remaining window, SMTP accepted but the worker died before the record was written, leads to
 *   one resend with the *same* deterministic Message-ID, which receiving MTAs and mail clients use to
 *   collapse duplicates.
 *
 * Failures: connection errors, timeouts and 4xx replies are retryable (thrown after the batch, so the
 * retry sends only what is still missing); a 5xx refusal of one recipient is recorded for that
 * recipient and does not fail the others; authentication and sender refusals fail the call for good.
 */
import type { SendMailOptions } from 'nodemailer';
import type { Sender } from './compose';
import { EmailRejectedError, EmailUnavailableError } from './errors';
import { classifySmtpError, redactAddresses, type MailTransport, type SmtpError } from './smtp';
import type { EmailState } from './state';
import { lifecycleHash, messageIdFor, type MailKind } from './tokens';

export type EmailLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface DeliveryOptions {
  transport: MailTransport;
  from: Sender;
  /** Right-hand side of Message-IDs. */
  domain: string;
  state: EmailState;
  /** Concurrent sends. */
  concurrency: number;
  /** Stop starting new sends after this long and let the activity retry carry on. */
  batchBudgetMs: number;
  now: () => number;
  log: EmailLog;
}

/** A mail of one kind for one rater, built with its Message-ID. */
export type BuildMail = (t: Target, messageId: string) => SendMailOptions;

export interface Target {
  address: string;
  rater: string;
}

type Outcome = 'sent' | 'already' | 'refused' | 'transient' | 'elsewhere' | 'fatal';

/** A send claim older than this is taken over: no attempt sends for that long (socket timeout 60 s). */
const SENDING_STALE_MS = 5 * 60_000;

interface SendResult {
  outcome: Outcome;
  error?: SmtpError;
}
/** Sends in flight in this process, by Message-ID: shared by every publisher instance. */
const inFlight = new Map<string, Promise<SendResult>>();

export interface BatchResult {
  sent: number;
  already: number;
  refused: number;
  transient: number;
  notStarted: number;
  lastError?: SmtpError;
  fatal?: SmtpError;
}

export class MailDelivery {
  constructor(private readonly options: DeliveryOptions) {}

  /**
   * Sends the mail `build` makes to every target that has not had it, then throws the batch's verdict
   * (see `finish`); returns the batch's counts when nothing is left to send.
   */
  async deliver(kind: MailKind, lifecycleId: string, targets: Target[], build: BuildMail): Promise<BatchResult> {
    const result = await this.deliverAll(kind, lifecycleId, targets, build);
    this.finish(kind, lifecycleId, result, targets.length);
    return result;
  }

  /** Sends to every target with bounded concurrency; stops early on fatal errors, an unreachable server or the time budget. */
  private async deliverAll(kind: MailKind, lifecycleId: string, targets: Target[], build: BuildMail): Promise<BatchResult> {
    const queue = [...targets];
    const result: BatchResult = { sent: 0, already: 0, refused: 0, transient: 0, notStarted: 0 };
    const budget = this.options.batchBudgetMs;
    const started = this.options.now();
    let stop = false;
    const known = await this.options.state.sendRecords(lifecycleHash(lifecycleId), kind); // most retries end here
    const worker = async () => {
      while (!stop && queue.length > 0 && this.options.now() - started <= budget) {
        const target = queue.shift()!;
        const messageId = messageIdFor(kind, lifecycleId, target.rater, this.options.domain);
        // A send for this Message-ID still running (e.g. from a timed-out attempt) is awaited, not repeated.
        const key = `${this.options.state.dir}\0${messageId}`;
        const status = known.get(target.rater);
        let pending: Promise<SendResult> | undefined = status ? Promise.resolve({ outcome: status === 'sent' ? 'already' : 'refused' }) : inFlight.get(key);
        if (!pending) {
          pending = this.send(kind, lifecycleId, target, messageId, build).finally(() => inFlight.delete(key));
          inFlight.set(key, pending);
        }
        const { outcome, error } = await pending;
        if (error) result.lastError = error;
        if (outcome === 'fatal') {
          result.fatal = error;
          stop = true;
        } else if (outcome === 'elsewhere') {
          result.transient += 1;
        } else {
          result[outcome] += 1;
          if (outcome === 'transient' && !error?.responseCode) stop = true; // unreachable: stop hammering it
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency) }, worker));
    result.notStarted = queue.length;
    return result;
  }

  private async send(kind: MailKind, lifecycleId: string, target: Target, messageId: string, build: BuildMail): Promise<SendResult> {
    const { state } = this.options;
    const hash = lifecycleHash(lifecycleId);
    const recorded = async () => {
      const record = await state.sendRecord(hash, kind, target.rater);
      return record && { outcome: record.status === 'sent' ? ('already' as const) : ('refused' as const) };
    };
    // Another process may be sending this very mail (an earlier attempt that timed out but still runs).
    if (!(await state.claimSending(hash, kind, target.rater, SENDING_STALE_MS, this.options.now()))) return { outcome: 'elsewhere' };
    try {
      const raced = await recorded(); // the authoritative check, under the claim: that attempt may have finished
      if (raced) return raced;
      try {
        await this.options.transport.sendMail({ ...build(target, messageId), envelope: { from: this.options.from.address, to: [target.address] } });
      } catch (err) {
        const error = err as SmtpError;
        const verdict = classifySmtpError(err);
        if (verdict === 'refused') {
          await state.recordSend(hash, kind, target.rater, { status: 'failed', at: new Date(this.options.now()).toISOString(), messageId, response: redactAddresses(String(error.response ?? error.message)).slice(0, 300) });
          this.options.log('warn', 'email recipient refused', { lifecycleId, kind, rater: target.rater, response: redactAddresses(String(error.response ?? error.message)) });
        }
        return { outcome: verdict, error };
      }
      // The window: SMTP has the mail, the record is not yet written. A crash here means one resend
      // with the same Message-ID.
      await state.recordSend(hash, kind, target.rater, { status: 'sent', at: new Date(this.options.now()).toISOString(), messageId });
      return { outcome: 'sent' };
    } finally {
      await state.releaseSending(hash, kind, target.rater);
    }
  }

  /** Throws the batch's verdict: fatal → not retryable; anything left unsent → retryable (the retry resumes). */
  private finish(kind: MailKind, lifecycleId: string, result: BatchResult, total: number): void {
    const summary = { lifecycleId, kind, total, sent: result.sent, already: result.already, refused: result.refused, transient: result.transient, notStarted: result.notStarted };
    if (result.fatal) {
      const e = result.fatal;
      throw new EmailRejectedError(`the SMTP server refused Prefline's mail (${e.code ?? 'error'}): ${redactAddresses(e.message)}`);
    }
    const left = result.transient + result.notStarted;
    if (left > 0) {
      this.options.log('warn', 'email batch incomplete, will retry', summary);
      const cause = result.lastError;
      throw new EmailUnavailableError(
        `${left} of ${total} ${kind} emails not sent yet${cause ? ` (SMTP: ${redactAddresses(cause.message)})` : ' (still being sent by another attempt, or out of time)'}; the retry sends only those`,
      );
    }
    this.options.log('info', 'email batch done', summary);
  }
}
