/**
 * The email channel: mails each rater the prompt and candidates with signed vote links (and a signed
 * reply address), reminds non-voters, and optionally mails the result. Plain TypeScript, no Temporal.
 *
 * Exactly one mail per (kind, lifecycle, rater), even across activity retries:
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
import { createTransport, type SendMailOptions } from 'nodemailer';
import { readFile } from 'node:fs/promises';
import { pseudonymiseRater } from '../../core/pseudonym';
import type { Candidate } from '../../workflows/types';
import type { ChannelPublisher, ClosePostRequest, PublishRequest, RemindRequest } from '../types';
import { ConfigMissingError, ErrorCode, PreflineError } from '../../core/errors';
import { composeClosing, composeInvite, composeReminder, type MailCandidate, type Sender } from './compose';
import type { EmailState } from './state';
import { lifecycleHash, messageIdFor, replyLocalPart, signUnsubscribe, signVoteLink, type MailKind } from './tokens';

/** The part of a nodemailer transporter the publisher uses (tests and the benchmark pass their own). */
export interface MailTransport {
  sendMail(message: SendMailOptions): Promise<unknown>;
  close(): void;
}

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (usually port 465). */
  secure: boolean;
  /** Refuse to send unless STARTTLS succeeds. */
  requireTLS: boolean;
  user?: string;
  pass?: string;
  /** Pooled connections; 0 opens one connection per message. */
  maxConnections: number;
  /** Messages per second across the pool; 0 for no limit. */
  rateLimit: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
  /** PEM certificate(s) to trust for the server instead of the system's CAs (a private relay). */
  ca?: Buffer;
}

/** SMTP settings as configuration gives them: the DKIM key and the CA as files. */
export type SmtpFileSettings = Omit<SmtpSettings, 'dkim' | 'ca'> & {
  dkim?: { domainName: string; keySelector: string; privateKeyFile: string };
  tlsCaFile?: string;
};

/** Reads the files configuration names (the worker and the gateway both build transports from it). */
export async function readSmtpSettings(settings: SmtpFileSettings): Promise<SmtpSettings> {
  const { dkim, tlsCaFile, ...rest } = settings;
  return {
    ...rest,
    ...(dkim ? { dkim: { domainName: dkim.domainName, keySelector: dkim.keySelector, privateKey: await readFile(dkim.privateKeyFile, 'utf8') } } : {}),
    ...(tlsCaFile ? { ca: await readFile(tlsCaFile) } : {}),
  };
}

export function createSmtpTransport(smtp: SmtpSettings): MailTransport {
  const common = {
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: smtp.requireTLS,
    ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? '' } } : {}),
    ...(smtp.dkim ? { dkim: smtp.dkim } : {}),
    ...(smtp.ca ? { tls: { ca: smtp.ca } } : {}),
    // Fail fast when the server is unreachable: the activity retries with backoff anyway.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
  };
  if (smtp.maxConnections === 0) return createTransport(common);
  return createTransport({
    ...common,
    pool: true,
    maxConnections: smtp.maxConnections,
    maxMessages: 100,
    ...(smtp.rateLimit > 0 ? { rateDelta: 1000, rateLimit: smtp.rateLimit } : {}),
  });
}

/** A reader of artifact bytes (the ArtifactStore). */
export interface ArtifactReader {
  read(sha256: string): Promise<{ bytes: Buffer }>;
}

export type EmailLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface EmailPublisherOptions {
  transport: MailTransport;
  from: Sender;
  /** Right-hand side of Message-IDs; defaults to the From address's domain. */
  messageIdDomain?: string;
  /** The gateway's public URL: vote and unsubscribe links point there. */
  publicUrl: string;
  /** Domain of reply addresses (`vote+…@domain`); without it, mails offer links only. */
  inboundDomain?: string;
  raterKey: Buffer;
  tokenKey: Buffer;
  state: EmailState;
  artifacts: ArtifactReader;
  /** Named rater lists for `email:@name`. */
  lists?: Record<string, string[]>;
  /** Mail the result to raters when the lifecycle closes. */
  closingNote?: boolean;
  /** Concurrent sends (keep at or above the pool size so every connection stays busy). */
  concurrency?: number;
  /** Stop starting new sends after this long and let the activity retry carry on (it has 2 minutes). */
  batchBudgetMs?: number;
  now?: () => number;
  log?: EmailLog;
}

interface Target {
  address: string;
  rater: string;
}

type Outcome = 'sent' | 'already' | 'refused' | 'transient' | 'elsewhere' | 'fatal';

/** A send claim older than this is taken over: no attempt sends for that long (socket timeout 60 s). */
const SENDING_STALE_MS = 5 * 60_000;

/** Sends in flight in this process, by Message-ID: shared by every publisher instance. */
interface SendResult {
  outcome: Outcome;
  error?: SmtpError;
}
const inFlight = new Map<string, Promise<SendResult>>();

interface BatchResult {
  sent: number;
  already: number;
  refused: number;
  transient: number;
  notStarted: number;
  lastError?: SmtpError;
  fatal?: SmtpError;
}

/** Coded errors of the email channel (`ChannelUnavailable` is retryable, `ChannelRejected` is not). */
export class EmailUnavailableError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ChannelUnavailable, message, true, options);
    this.name = 'EmailUnavailableError';
  }
}

export class EmailRejectedError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ChannelRejected, message, false, options);
    this.name = 'EmailRejectedError';
  }
}

type SmtpError = Error & { code?: string; command?: string; responseCode?: number; permanent?: boolean; response?: string };

/** SMTP replies often quote the recipient; logs, records and errors keep only the reply's gist. */
export function redactAddresses(text: string): string {
  return text.replace(/[^\s<>()"',;:]+@[^\s<>()"',;:]+/g, '<address>');
}

/** fatal: no mail can go out until ops fix something; refused: this recipient, for good; transient: try again. */
export function classifySmtpError(err: unknown): 'fatal' | 'refused' | 'transient' {
  const e = err as SmtpError;
  if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || e.code === 'EOAUTH2' || e.code === 'ECONFIG') return 'fatal';
  if (e.permanent === true) return /^MAIL/i.test(e.command ?? '') ? 'fatal' : 'refused';
  return 'transient';
}

export class EmailPublisher implements ChannelPublisher {
  private readonly domain: string;
  private readonly now: () => number;
  private readonly log: EmailLog;

  constructor(private readonly options: EmailPublisherOptions) {
    this.domain = options.messageIdDomain ?? options.from.address.slice(options.from.address.lastIndexOf('@') + 1);
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
  }

  async publish(request: PublishRequest): Promise<{ channel: string }> {
    const { lifecycleId, plan, candidates, deadlineAt } = request;
    const hash = lifecycleHash(lifecycleId);
    const targets = await this.deliverable(this.recipients(request.plan.channel));
    if (targets.length === 0) this.log('warn', 'email lifecycle has no rater to mail: every recipient opted out', { lifecycleId });
    // The gateway maps reply addresses back to the lifecycle (and reminders find the candidates) here.
    await this.options.state.saveLifecycle(hash, { lifecycleId, deadlineAt, prompt: plan.prompt, candidates: candidates.map((c) => ({ id: c.id, label: c.label })) });
    const images = await this.loadImages(candidates);
    const result = await this.deliverAll('invite', lifecycleId, targets, (t, messageId) =>
      composeInvite({
        from: this.options.from,
        to: t.address,
        messageId,
        prompt: plan.prompt,
        deadlineAt,
        candidates: candidates.map((c) => this.mailCandidate(c, lifecycleId, t.rater, Date.parse(deadlineAt), images.get(c.id))),
        unsubscribeUrl: this.unsubscribeUrl(t.rater),
        ...this.replyTo(lifecycleId, t.rater),
      }),
    );
    this.finish('invite', lifecycleId, result, targets.length);
    if (targets.length > 0 && result.sent + result.already === 0) {
      throw new EmailRejectedError(`no rater could be mailed: every recipient was refused (last: ${redactAddresses(result.lastError?.message ?? 'unknown')})`);
    }
    return { channel: 'email' };
  }

  async remind(request: RemindRequest): Promise<{ reminded: number }> {
    const { lifecycleId, plan, deadlineAt } = request;
    const hash = lifecycleHash(lifecycleId);
    const voted = new Set(request.ratersWhoVoted);
    const record = await this.options.state.lifecycle(hash);
    // Only raters whose invitation went out (a refused address stays refused) and who have not voted.
    const invited = await this.options.state.sendRecords(hash, 'invite');
    const targets = (await this.deliverable(this.recipients(plan.channel))).filter((t) => !voted.has(t.rater) && invited.get(t.rater) === 'sent');
    const result = await this.deliverAll('remind', lifecycleId, targets, (t, messageId) =>
      composeReminder({
        from: this.options.from,
        to: t.address,
        messageId,
        inReplyTo: messageIdFor('invite', lifecycleId, t.rater, this.domain),
        prompt: plan.prompt,
        deadlineAt,
        candidates: (record?.candidates ?? []).map((c) => ({ label: c.label, links: this.links(lifecycleId, t.rater, c.id, Date.parse(deadlineAt)) })),
        unsubscribeUrl: this.unsubscribeUrl(t.rater),
        ...this.replyTo(lifecycleId, t.rater),
      }),
    );
    this.finish('remind', lifecycleId, result, targets.length);
    return { reminded: result.sent + result.already };
  }

  async close(request: ClosePostRequest): Promise<void> {
    if (!this.options.closingNote) return;
    const { lifecycleId, plan } = request;
    const hash = lifecycleHash(lifecycleId);
    const invited = await this.options.state.sendRecords(hash, 'invite');
    const targets = (await this.deliverable(this.recipients(plan.channel))).filter((t) => invited.get(t.rater) === 'sent');
    const result = await this.deliverAll('close', lifecycleId, targets, (t, messageId) =>
      composeClosing({
        from: this.options.from,
        to: t.address,
        messageId,
        inReplyTo: messageIdFor('invite', lifecycleId, t.rater, this.domain),
        prompt: plan.prompt,
        closeReason: request.closeReason,
        tally: request.tally,
        unsubscribeUrl: this.unsubscribeUrl(t.rater),
      }),
    );
    this.finish('close', lifecycleId, result, targets.length);
  }

  /** Addresses of the channel: its own list, or a named list from configuration. Lowercased (pseudonyms depend on it). */
  recipients(channel: PublishRequest['plan']['channel']): string[] {
    if (channel.kind !== 'email') throw new ConfigMissingError(`the email publisher got a "${channel.kind}" lifecycle`);
    if (channel.list === undefined) return channel.recipients.map((a) => a.toLowerCase());
    const list = this.options.lists?.[channel.list];
    if (!list) throw new ConfigMissingError(`rater list "@${channel.list}" is not configured on this worker (PREFLINE_EMAIL_LISTS)`);
    return [...new Set(list.map((a) => a.toLowerCase()))];
  }

  /** The recipients with their pseudonyms, minus those who opted out. */
  private async deliverable(addresses: string[]): Promise<Target[]> {
    const targets: Target[] = [];
    for (const address of addresses) {
      const rater = pseudonymiseRater(this.options.raterKey, 'email', address);
      if (await this.options.state.isOptedOut(rater)) continue;
      targets.push({ address, rater });
    }
    return targets;
  }

  private async loadImages(candidates: Candidate[]): Promise<Map<string, MailCandidate['image']>> {
    const images = new Map<string, MailCandidate['image']>();
    for (const c of candidates) {
      if (c.kind !== 'image') continue;
      const { bytes } = await this.options.artifacts.read(c.artifact.sha256);
      const ext = c.artifact.mime.split('/')[1]?.split(/[;+]/)[0] ?? 'bin';
      images.set(c.id, { cid: `${c.id}.${c.artifact.sha256.slice(0, 16)}@prefline`, content: bytes, contentType: c.artifact.mime, filename: `candidate-${c.label}.${ext}` });
    }
    return images;
  }

  private mailCandidate(c: Candidate, lifecycleId: string, rater: string, expiresAt: number, image: MailCandidate['image']): MailCandidate {
    return {
      id: c.id,
      label: c.label,
      kind: c.kind,
      placeholder: c.placeholder,
      ...(c.text !== undefined ? { text: c.text } : {}),
      ...(image ? { image } : {}),
      links: this.links(lifecycleId, rater, c.id, expiresAt),
    };
  }

  private links(lifecycleId: string, rater: string, candidateId: string, expiresAt: number): MailCandidate['links'] {
    const link = (value: 'up' | 'down' | 'retract') =>
      `${this.options.publicUrl}/email/v/${signVoteLink(this.options.tokenKey, { lifecycleId, rater, candidateId, value, expiresAt })}`;
    return { up: link('up'), down: link('down'), retract: link('retract') };
  }

  private unsubscribeUrl(rater: string): string {
    return `${this.options.publicUrl}/email/unsubscribe/${signUnsubscribe(this.options.tokenKey, rater)}`;
  }

  private replyTo(lifecycleId: string, rater: string): { replyTo?: string } {
    const domain = this.options.inboundDomain;
    return domain ? { replyTo: `${replyLocalPart(this.options.tokenKey, lifecycleId, rater)}@${domain}` } : {};
  }

  /** Sends to every target with bounded concurrency; stops early on fatal errors, an unreachable server or the time budget. */
  private async deliverAll(kind: MailKind, lifecycleId: string, targets: Target[], build: (t: Target, messageId: string) => SendMailOptions): Promise<BatchResult> {
    const queue = [...targets];
    const result: BatchResult = { sent: 0, already: 0, refused: 0, transient: 0, notStarted: 0 };
    const budget = this.options.batchBudgetMs ?? 90_000;
    const started = this.now();
    let stop = false;
    const known = await this.options.state.sendRecords(lifecycleHash(lifecycleId), kind); // most retries end here
    const worker = async () => {
      while (!stop && queue.length > 0 && this.now() - started <= budget) {
        const target = queue.shift()!;
        const messageId = messageIdFor(kind, lifecycleId, target.rater, this.domain);
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
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency ?? 8) }, worker));
    result.notStarted = queue.length;
    return result;
  }

  private async send(kind: MailKind, lifecycleId: string, target: Target, messageId: string, build: (t: Target, messageId: string) => SendMailOptions): Promise<SendResult> {
    const { state } = this.options;
    const hash = lifecycleHash(lifecycleId);
    const recorded = async () => {
      const record = await state.sendRecord(hash, kind, target.rater);
      return record && { outcome: record.status === 'sent' ? ('already' as const) : ('refused' as const) };
    };
    // Another process may be sending this very mail (an earlier attempt that timed out but still runs).
    if (!(await state.claimSending(hash, kind, target.rater, SENDING_STALE_MS, this.now()))) return { outcome: 'elsewhere' };
    try {
      const raced = await recorded(); // the authoritative check, under the claim: that attempt may have finished
      if (raced) return raced;
      try {
        await this.options.transport.sendMail({ ...build(target, messageId), envelope: { from: this.options.from.address, to: [target.address] } });
      } catch (err) {
        const error = err as SmtpError;
        const verdict = classifySmtpError(err);
        if (verdict === 'refused') {
          await state.recordSend(hash, kind, target.rater, { status: 'failed', at: new Date(this.now()).toISOString(), messageId, response: redactAddresses(String(error.response ?? error.message)).slice(0, 300) });
          this.log('warn', 'email recipient refused', { lifecycleId, kind, rater: target.rater, response: redactAddresses(String(error.response ?? error.message)) });
        }
        return { outcome: verdict, error };
      }
      // The window: SMTP has the mail, the record is not yet written. A crash here means one resend
      // with the same Message-ID.
      await state.recordSend(hash, kind, target.rater, { status: 'sent', at: new Date(this.now()).toISOString(), messageId });
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
      this.log('warn', 'email batch incomplete, will retry', summary);
      const cause = result.lastError;
      throw new EmailUnavailableError(
        `${left} of ${total} ${kind} emails not sent yet${cause ? ` (SMTP: ${redactAddresses(cause.message)})` : ' (still being sent by another attempt, or out of time)'}; the retry sends only those`,
      );
    }
    this.log('info', 'email batch done', summary);
  }
}

export function createEmailPublisher(options: EmailPublisherOptions): EmailPublisher {
  return new EmailPublisher(options);
}
