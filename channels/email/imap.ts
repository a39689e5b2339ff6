/**
 * The gateway's IMAP poller: raters' replies that a mail server delivered into a mailbox become votes,
 * through the reply handler the SMTP listener uses too (replies.ts). Selected instead of the
 * listener by PREFLINE_IMAP_HOST (docs/email.md).
 *
 * Each pass over the mailbox looks at the messages without the \Seen flag:
 *
 * 1. Headers and RFC822.SIZE only. The recipients come from `Delivered-To`, `X-Original-To`,
 *    `Envelope-To`, `To` and `Cc` (there is no SMTP envelope); a message none of whose addresses
 *    verifies as a signed reply address for the inbound domain is **not a reply to Prefline** and is
 *    left alone: not flagged, not moved, never deleted (it is not looked at again until the poller
 *    restarts).
 * 2. A reply over the size limit is marked processed without its body being downloaded.
 * 3. Otherwise the message is downloaded (BODY.PEEK, so fetching does not set \Seen) and handled: votes
 *    forwarded, unreadable replies answered; one that is not a readable message at all (malformed MIME,
 *    past the reader's bounds) is logged and marked processed, nothing forwarded. Headers and bodies
 *    are read in the reader's worker threads (message-reader.ts), off the poller's event loop. The auto-answer goes to `Return-Path` (`<>`: a bounce,
 *    never answered), else `Reply-To`, else `From`.
 * 4. Only when every vote in it was accepted or refused for good is the message **marked processed**:
 *    \Seen, then moved to the processed mailbox if one is configured. If a lifecycle cannot be reached
 *    the message stays unseen and the next pass retries it. A crash between forwarding and flagging
 *    just means the message is handled again: the idempotency keys (message key + reply address +
 *    position) make every vote count once, and auto-answers are sent once per message.
 *
 * Between passes the poller waits in IDLE where the server has it (new mail starts a pass at once),
 * and in any case at most the poll interval (which is also how often deferred replies are retried).
 * A refused login, a server that is down or a dropped connection are logged and retried with capped
 * exponential backoff; nothing here can take the gateway down. The password is never logged.
 */
import { ImapFlow, type FetchMessageObject, type ImapFlowOptions } from 'imapflow';
import { isIP } from 'node:net';
import PostalMime from 'postal-mime';
import { UnreadableReplyError } from './errors';
import { redactAddresses } from './smtp';
import { header, type InboundMessage } from './mime';
import { ReplyDeferredError, type ReplyHandler } from './replies';
import type { GatewayLog } from '../../core/http';

export interface ImapServer {
  host: string;
  port: number;
  /** tls: implicit TLS; starttls: STARTTLS required; none: cleartext. */
  security: 'tls' | 'starttls' | 'none';
  /** PEM: the CA (or self-signed certificate) to trust instead of the system's. */
  ca?: Buffer;
  user: string;
  password: string;
}

export interface ImapPollerDeps {
  replies: ReplyHandler;
  server: ImapServer;
  mailbox: string;
  /** Processed replies are moved here (created if missing); without it they stay, flagged \Seen. */
  processedMailbox?: string;
  pollMs: number;
  maxBytes: number;
  log?: GatewayLog;
  /** Reconnect delay: starts at minMs, doubles per failed attempt up to maxMs (default 1 s → 60 s). */
  backoff?: { minMs: number; maxMs: number };
  /** Fault hook for crash tests: runs after a message was handled, before it is marked processed. */
  beforeMarkProcessed?: (uid: number) => Promise<void> | void;
}

export interface RunningImapPoller {
  /** Asks for a pass now; resolves once a pass that started after this call has completed. */
  pass(): Promise<void>;
  /** Whether a session is logged in with the mailbox open. */
  readonly connected: boolean;
  /** Resolves when every automatic answer started so far has been handed to SMTP (tests wait on it). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Header fields naming the recipients of a delivered message, in the order an MTA adds them. */
export const RECIPIENT_HEADERS = ['delivered-to', 'x-original-to', 'envelope-to', 'to', 'cc'] as const;
/** Messages whose headers are fetched in one FETCH. */
const BATCH = 50;
/** Header values longer than this are not read for addresses (a recipient list is never this long). */
const MAX_ADDRESS_HEADER = 64 * 1024;

/** The addresses of one header value (postal-mime's address parser: quoted names, groups, comments), lowercased. */
function addressesOf(value: string): string[] {
  if (value.length > MAX_ADDRESS_HEADER) return [];
  return PostalMime.addressParser(value, { flatten: true }).flatMap((a) => (a.address && a.address.includes('@') ? [a.address.toLowerCase()] : []));
}

/** Every address of the recipient headers, lowercased, without duplicates. */
export function recipientsOf(message: InboundMessage): string[] {
  const found = new Set<string>();
  for (const name of RECIPIENT_HEADERS) {
    for (const value of message.headers.get(name) ?? []) for (const address of addressesOf(value)) found.add(address);
  }
  return [...found];
}

/** Where an automatic answer would go: Return-Path (empty for bounces), else Reply-To, else From. */
export function envelopeFromOf(message: InboundMessage): string | undefined {
  const returnPath = header(message, 'return-path');
  if (returnPath !== undefined) return /<\s*>/.test(returnPath) ? undefined : addressesOf(returnPath)[0];
  for (const name of ['reply-to', 'from']) {
    const address = addressesOf(header(message, name) ?? '')[0];
    if (address) return address;
  }
  return undefined;
}

function clientOptions(server: ImapServer): ImapFlowOptions {
  const tls = { minVersion: 'TLSv1.2' as const, ...(server.ca ? { ca: server.ca } : {}), ...(isIP(server.host) ? {} : { servername: server.host }) };
  return {
    host: server.host,
    port: server.port,
    auth: { user: server.user, pass: server.password },
    ...(server.security === 'tls' ? { secure: true, tls } : server.security === 'starttls' ? { secure: false, doSTARTTLS: true, tls } : { secure: false, doSTARTTLS: false }),
    logger: false,
    disableAutoIdle: true, // IDLE is started here, between passes
    disableBinary: true, // BINARY may decode transfer encodings (RFC 3516); replies are read raw, as SMTP delivers them
    connectionTimeout: 30_000,
    greetingTimeout: 16_000,
    socketTimeout: 5 * 60_000,
    clientInfo: { name: 'prefline' },
  };
}

function errorText(err: unknown): string {
  const e = err as { message?: string; responseText?: string; code?: string };
  const text = [e.message ?? String(err), e.responseText, e.code].filter(Boolean).join(': ');
  return redactAddresses(text).slice(0, 500);
}

/** Creates a mailbox unless it exists (servers without RFC 5530's ALREADYEXISTS answer a plain NO). */
async function ensureMailbox(c: ImapFlow, path: string): Promise<void> {
  try {
    await c.mailboxCreate(path); // created: false when the server says ALREADYEXISTS
  } catch (err) {
    if (!(await c.status(path, { messages: true }).catch(() => false))) throw err;
  }
}

export function startImapPoller(deps: ImapPollerDeps): RunningImapPoller {
  const log: GatewayLog = deps.log ?? (() => undefined);
  const { minMs, maxMs } = deps.backoff ?? { minMs: 1000, maxMs: 60_000 };
  const where = { host: deps.server.host, port: deps.server.port, mailbox: deps.mailbox, security: deps.server.security };
  if (deps.server.security === 'none' && !/^(127\.|::1$|localhost$)/.test(deps.server.host)) {
    log('warn', 'email imap: PREFLINE_IMAP_SECURE=none sends the password in cleartext to a remote host', where);
  }
  let stopped = false;
  let client: ImapFlow | undefined;
  let connected = false;
  /** An EXISTS arrived since the current pass started. */
  let newMail = false;
  /** Ends the current wait (between passes, or the backoff sleep) early. */
  let wake: (() => void) | undefined;
  /** pass() callers, each waiting for a pass that starts after its call to complete. */
  let nextPass: Array<() => void> = [];
  /** Messages found not to be replies to Prefline, per UIDVALIDITY: skipped until the poller restarts. */
  const ignored = { uidValidity: -1n, uids: new Set<number>() };

  async function markProcessed(c: ImapFlow, uid: number): Promise<void> {
    await deps.beforeMarkProcessed?.(uid);
    if (!(await c.messageFlagsAdd(String(uid), ['\\Seen'], { uid: true }))) throw new Error(`could not set \\Seen on message ${uid}`);
    if (deps.processedMailbox !== undefined && !(await c.messageMove(String(uid), deps.processedMailbox, { uid: true }))) {
      log('warn', 'email imap: could not move a processed reply', { ...where, uid, to: deps.processedMailbox });
    }
  }

  async function handleOne(c: ImapFlow, head: FetchMessageObject): Promise<void> {
    const uid = head.uid;
    let headers: InboundMessage;
    try {
      headers = await deps.replies.read(Buffer.concat([head.headers ?? Buffer.alloc(0), Buffer.from('\r\n')]));
    } catch (err) {
      if (!(err instanceof UnreadableReplyError)) throw err;
      ignored.uids.add(uid); // headers nobody can read: not a reply to Prefline either
      log('warn', 'email imap: unreadable headers, left alone', { ...where, uid, error: errorText(err) });
      return;
    }
    const recipients = recipientsOf(headers).filter((address) => deps.replies.verify(address) !== undefined);
    if (recipients.length === 0) {
      ignored.uids.add(uid);
      log('info', 'email imap: not a reply to Prefline, left alone', { ...where, uid });
      return;
    }
    if ((head.size ?? 0) > deps.maxBytes) {
      log('warn', 'email imap: reply over the size limit, not downloaded', { ...where, uid, size: head.size, maxBytes: deps.maxBytes });
      return markProcessed(c, uid);
    }
    // At most one byte past the limit: a server that understated RFC822.SIZE cannot make us read more.
    const fetched = await c.fetchOne(String(uid), { uid: true, source: { maxLength: deps.maxBytes + 1 } }, { uid: true });
    if (!fetched) return; // expunged meanwhile
    const raw = fetched.source ?? Buffer.alloc(0);
    if (raw.length > deps.maxBytes) {
      log('warn', 'email imap: reply over the size limit, not read', { ...where, uid, maxBytes: deps.maxBytes });
      return markProcessed(c, uid);
    }
    try {
      await deps.replies.handle(raw, recipients, envelopeFromOf);
    } catch (err) {
      // Refused for good (logged by the handler): reading it again cannot help, so it is not retried.
      if (err instanceof UnreadableReplyError) return markProcessed(c, uid);
      // Unreachable lifecycle (ReplyDeferredError, logged by the handler) or a local failure (state
      // folder): leave the message unseen; the next pass retries it and counts each vote once.
      if (!(err instanceof ReplyDeferredError)) log('warn', 'email imap: reply deferred', { ...where, uid, error: errorText(err) });
      return;
    }
    await markProcessed(c, uid);
  }

  async function passOnce(c: ImapFlow): Promise<void> {
    const uidValidity = c.mailbox ? c.mailbox.uidValidity : -1n;
    if (ignored.uidValidity !== uidValidity) {
      ignored.uidValidity = uidValidity;
      ignored.uids.clear();
    }
    const unseen = (await c.search({ seen: false }, { uid: true })) || [];
    const todo = unseen.filter((uid) => !ignored.uids.has(uid));
    for (let i = 0; i < todo.length && !stopped; i += BATCH) {
      const batch = todo.slice(i, i + BATCH);
      const heads = await c.fetchAll(batch.join(','), { uid: true, size: true, flags: true, headers: [...RECIPIENT_HEADERS] }, { uid: true });
      for (const head of heads) {
        if (stopped) return;
        if (head.flags?.has('\\Seen')) continue; // marked by someone else since the search
        await handleOne(c, head);
      }
    }
  }

  /** Until new mail (IDLE), the poll interval, a pass() request, close(), or the connection drops. */
  async function waitForNews(c: ImapFlow): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, deps.pollMs);
      function done() {
        clearTimeout(timer);
        c.off('close', done);
        wake = undefined;
        resolve();
      }
      c.once('close', done);
      wake = done; // also called on new mail (EXISTS)
      if (stopped || newMail || nextPass.length > 0 || !c.usable) return done();
      // Broken by the next command the pass sends (imapflow sends DONE first).
      if (c.capabilities.has('IDLE')) void c.idle().catch(() => undefined);
    });
  }

  async function session(attempt: { opened: boolean }): Promise<void> {
    const c = new ImapFlow(clientOptions(deps.server));
    client = c;
    c.on('error', (err: unknown) => log('debug', 'email imap: connection error', { ...where, error: errorText(err) }));
    c.on('exists', () => {
      newMail = true;
      wake?.();
    });
    try {
      await c.connect();
      if (deps.processedMailbox !== undefined) await ensureMailbox(c, deps.processedMailbox);
      const box = await c.mailboxOpen(deps.mailbox);
      if (box.readOnly) throw new Error(`mailbox ${deps.mailbox} is read-only: processed replies could not be marked`);
      connected = true;
      attempt.opened = true;
      log('info', 'email imap connected', { ...where, idle: c.capabilities.has('IDLE') });
      while (!stopped && c.usable) {
        const waiting = nextPass;
        nextPass = [];
        newMail = false;
        try {
          await passOnce(c);
        } finally {
          if (!stopped && c.usable) for (const resolve of waiting) resolve();
          else nextPass.push(...waiting); // not a complete pass: they wait for the next one
        }
        if (!stopped) await waitForNews(c);
      }
      if (!stopped) log('warn', 'email imap: connection closed by the server', where);
    } finally {
      connected = false;
      client = undefined;
      if (c.usable) await Promise.race([c.logout().catch(() => undefined), new Promise((r) => setTimeout(r, 5000).unref())]);
      c.close();
    }
  }

  const loop = (async () => {
    let delay = minMs;
    while (!stopped) {
      const attempt = { opened: false };
      try {
        await session(attempt);
      } catch (err) {
        if (stopped) break;
        if (attempt.opened) delay = minMs; // it was working: reconnect soon
        log('warn', 'email imap: connection failed', { ...where, error: errorText(err), retryInMs: delay });
      }
      if (stopped) break;
      if (attempt.opened) delay = minMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
      delay = Math.min(delay * 2, maxMs);
    }
  })();

  return {
    get connected() {
      return connected;
    },
    pass() {
      return new Promise<void>((resolve) => {
        nextPass.push(resolve);
        wake?.();
      });
    },
    idle: () => deps.replies.idle(),
    async close() {
      stopped = true;
      wake?.();
      // A pass stops between messages; a command to a server that went silent is cut after 10 s.
      const force = setTimeout(() => client?.close(), 10_000);
      await loop;
      clearTimeout(force);
      for (const resolve of nextPass.splice(0)) resolve();
      await deps.replies.idle();
    },
  };
}
