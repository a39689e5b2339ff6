/**
 * Outbound SMTP of the email channel: the transport (nodemailer, pooled), its settings as
 * configuration names them, and how a refusal is classified. The worker's publisher and the
 * gateway's auto-answers both send through it.
 */
import { createTransport, type SendMailOptions } from 'nodemailer';
import { readFile } from 'node:fs/promises';

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

/** What nodemailer rejects a send with. */
export type SmtpError = Error & { code?: string; command?: string; responseCode?: number; permanent?: boolean; response?: string };

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
