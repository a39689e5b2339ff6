/**
 * A private Dovecot IMAP server for the reply-polling tests (installed by scripts/install-dovecot.sh):
 * a generated config in a temp dir (own base_dir, state_dir, log, passwd-file, maildirs), listening on
 * free loopback ports, `dovecot -F` as a child process. Runs as root (mail owned by the `dovecot`
 * user, which Dovecot's package creates) and as any other user (everything as that user, no chroot).
 * Mail gets in the way an MTA's delivery agent puts it there: the full RFC 5322 message, with
 * `Return-Path` and `Delivered-To`, appended over IMAP.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { SendMailOptions } from 'nodemailer';
import { freePort } from '../../ops/dev-server';
import { waitUntil } from './processes';

export const DOVECOT_BIN = process.env.PREFLINE_DOVECOT ?? '/usr/sbin/dovecot';
export const IMAP_USER = 'replies';
export const IMAP_PASSWORD = 'imap-test-password-4b1d';

export interface DovecotOptions {
  /** Also serve implicit TLS (tlsPort) and offer STARTTLS, with a generated self-signed certificate. */
  tls?: boolean;
}

export interface StoredMessage {
  uid: number;
  /** Stored flags (without the session flag \Recent). */
  flags: string[];
  messageId?: string;
  size: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

function account(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return line ? { uid: Number(uid), gid: Number(gid) } : undefined;
}

function groupName(gid: number): string {
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[2] === String(gid));
  if (!line) throw new Error(`no group with gid ${gid} in /etc/group`);
  return line.split(':')[0]!;
}

export class Dovecot {
  port = 0;
  /** Implicit TLS port (with `tls`). */
  tlsPort = 0;
  /** The self-signed certificate (PEM) clients must trust (with `tls`). */
  ca?: Buffer;
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(readonly dir: string, private readonly options: DovecotOptions) {}

  static async start(options: DovecotOptions = {}): Promise<Dovecot> {
    if (!existsSync(DOVECOT_BIN)) throw new Error(`${DOVECOT_BIN} not found: run scripts/install-dovecot.sh (npm test's setup does)`);
    const dir = mkdtempSync(join(tmpdir(), 'prefline-dovecot-'));
    chmodSync(dir, 0o755); // Dovecot's unprivileged processes must reach the passwd file and the mail
    const dovecot = new Dovecot(dir, options);
    dovecot.port = await freePort();
    if (options.tls) {
      dovecot.tlsPort = await freePort();
      const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
      if (cert.status !== 0) throw new Error(`openssl could not make a test certificate: ${cert.stderr}`);
      dovecot.ca = readFileSync(join(dir, 'cert.pem'));
    }
    dovecot.writeConfig();
    await dovecot.run();
    return dovecot;
  }

  private writeConfig(): void {
    const root = process.getuid?.() === 0;
    // As root, Dovecot's own users (from its package) run the unprivileged parts; mail is theirs too,
    // since Dovecot refuses to access mail as root. Otherwise everything runs as the current user.
    const me = userInfo().username;
    const [internal, login] = root ? ['dovecot', 'dovenull'] : [me, me];
    const group = root ? 'dovecot' : groupName(process.getgid!());
    const owner = root ? account('dovecot') : { uid: process.getuid!(), gid: process.getgid!() };
    if (!owner) throw new Error('no "dovecot" user: install dovecot-imapd with scripts/install-dovecot.sh');
    for (const sub of ['run', 'state', 'mail']) mkdirSync(join(this.dir, sub), { recursive: true });
    if (root) chownSync(join(this.dir, 'mail'), owner.uid, owner.gid);
    writeFileSync(join(this.dir, 'passwd'), `${IMAP_USER}:{PLAIN}${IMAP_PASSWORD}\n`, { mode: 0o644 });
    const noChroot = root ? '' : ['imap-login', 'anvil', 'auth', 'auth-worker', 'config', 'log', 'stats', 'dict'].map((s) => `service ${s} {\n  chroot =\n}\n`).join('');
    const tls = this.options.tls
      ? `ssl = yes\nssl_cert = <${join(this.dir, 'cert.pem')}\nssl_key = <${join(this.dir, 'key.pem')}\n`
      : 'ssl = no\n';
    writeFileSync(
      join(this.dir, 'dovecot.conf'),
      `# Generated by test/helpers/dovecot.ts
protocols = imap
listen = 127.0.0.1
base_dir = ${join(this.dir, 'run')}
state_dir = ${join(this.dir, 'state')}
log_path = ${join(this.dir, 'dovecot.log')}
info_log_path = ${join(this.dir, 'dovecot.log')}
${tls}disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = ${internal}
default_login_user = ${login}
default_internal_group = ${group}
first_valid_uid = 1
first_valid_gid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${join(this.dir, 'passwd')}
}
userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${join(this.dir, 'mail', '%u')}
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${this.port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${this.tlsPort}
  }
}
${noChroot}`,
    );
  }

  private async run(): Promise<void> {
    // Its own process group: stop() takes the login and mail processes down with the master at once.
    const child = spawn(DOVECOT_BIN, ['-F', '-c', join(this.dir, 'dovecot.conf')], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    live.add(child);
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        live.delete(child);
        resolve();
      }),
    );
    await waitUntil(async () => {
      if (child.exitCode !== null) throw new Error('exited');
      return (await this.greets()) || undefined;
    }, 20_000, 'Dovecot to accept IMAP connections').catch((err: Error) => {
      throw new Error(`${err.message}; dovecot output: ${output}; log: ${this.log().slice(-2000)}`);
    });
  }

  private greets(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      socket.setTimeout(2000, () => socket.destroy());
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('* OK'));
      });
      socket.once('error', () => resolve(false));
      socket.once('close', () => resolve(false));
    });
  }

  /**
   * Stops the server, as a crash or a host going down would: every Dovecot process at once (left to
   * itself, a mail process lingers ~10 s after its master). The mail and config stay for restart().
   */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    process.kill(-child.pid, 'SIGTERM');
    await this.exited;
    try {
      process.kill(-child.pid, 'SIGKILL'); // stragglers of the group, if any
    } catch {
      // none left
    }
  }

  /** Starts it again on the same ports with the same mail. */
  async restart(): Promise<void> {
    await this.stop();
    await this.run();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'dovecot.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** An IMAP session for the test itself (plain, on the loopback port). */
  async session<T>(fn: (client: ImapFlow) => Promise<T>): Promise<T> {
    const client = new ImapFlow({ host: '127.0.0.1', port: this.port, secure: false, doSTARTTLS: false, auth: { user: IMAP_USER, pass: IMAP_PASSWORD }, logger: false, disableAutoIdle: true });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  /** Delivers a message into a mailbox as a delivery agent would; returns its UID. */
  async deliver(raw: Buffer | string, mailbox = 'INBOX'): Promise<number> {
    return this.session(async (client) => {
      const appended = await client.append(mailbox, raw);
      if (!appended || appended.uid === undefined) throw new Error('APPEND failed');
      return appended.uid;
    });
  }

  /** The messages of a mailbox (none if it does not exist), oldest first. */
  async messages(mailbox = 'INBOX'): Promise<StoredMessage[]> {
    return this.session(async (client) => {
      const status = await client.status(mailbox, { messages: true }).catch(() => false as const);
      if (!status || !status.messages) return [];
      const lock = await client.getMailboxLock(mailbox, { readOnly: true });
      try {
        const list = await client.fetchAll('1:*', { uid: true, flags: true, size: true, envelope: true });
        // \Recent only says which session saw the message first: not a stored flag.
        return list.map((m) => ({ uid: m.uid, flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent'), size: m.size ?? 0, ...(m.envelope?.messageId ? { messageId: m.envelope.messageId } : {}) }));
      } finally {
        lock.release();
      }
    });
  }

  /** Deletes every message of these mailboxes (between tests). */
  async empty(...mailboxes: string[]): Promise<void> {
    await this.session(async (client) => {
      for (const mailbox of mailboxes) {
        const status = await client.status(mailbox, { messages: true }).catch(() => false as const);
        if (!status || !status.messages) continue;
        const lock = await client.getMailboxLock(mailbox);
        try {
          await client.messageDelete('1:*');
        } finally {
          lock.release();
        }
      }
    });
  }
}

export interface ReplyMail {
  /** The reply address the rater answered (To and Delivered-To). */
  to: string;
  text?: string;
  html?: string;
  messageId?: string;
  /** The envelope sender the delivering MTA recorded; `''` for a bounce. Default: `from`. */
  returnPath?: string;
  from?: string;
  headers?: Record<string, string>;
  /** Delivered-To (default: `to`); `null` leaves it out. */
  deliveredTo?: string | null;
}

/** A rater's reply as it lands in the mailbox: Return-Path and Delivered-To on top of the message. */
export async function replyMail(mail: ReplyMail): Promise<Buffer> {
  const from = mail.from ?? 'alice@example.com';
  const options: SendMailOptions = {
    from,
    to: mail.to,
    subject: 'Re: Rate 2 candidates: a red fox',
    ...(mail.text !== undefined ? { text: mail.text } : {}),
    ...(mail.html !== undefined ? { html: mail.html } : {}),
    ...(mail.messageId ? { messageId: mail.messageId } : {}),
    ...(mail.headers ? { headers: mail.headers } : {}),
  };
  const message = await new MailComposer(options).compile().build();
  const returnPath = mail.returnPath ?? from;
  const deliveredTo = mail.deliveredTo === undefined ? mail.to : mail.deliveredTo;
  const trace = `Return-Path: <${returnPath}>\r\n${deliveredTo !== null ? `Delivered-To: ${deliveredTo}\r\n` : ''}`;
  return Buffer.concat([Buffer.from(trace), message]);
}
