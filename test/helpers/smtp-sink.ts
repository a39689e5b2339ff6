/**
 * An in-process SMTP server that receives what Prefline sends (smtp-server), parsed with mailparser.
 * It can refuse recipients for good (550), defer (451), and go down and come back on the same port.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface SunkMail {
  raw: Buffer;
  envelope: { from: string | undefined; to: string[] };
  mail: ParsedMail;
}

export class SmtpSink {
  readonly mails: SunkMail[] = [];
  /** Recipients refused with 550 at RCPT TO. */
  readonly refuse = new Set<string>();
  /** Number of next messages deferred with 451 at DATA. */
  deferNext = 0;
  port = 0;
  private server?: SMTPServer;
  private readonly waiters = new Set<() => void>();

  async start(port = 0): Promise<this> {
    const server = new SMTPServer({
      logger: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      disableReverseLookup: true,
      onRcptTo: (address, _session, cb) => {
        if (this.refuse.has(address.address.toLowerCase())) return cb(Object.assign(new Error(`5.1.1 <${address.address}>: No such user here`), { responseCode: 550 }));
        cb();
      },
      onData: (stream, session, cb) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          if (this.deferNext > 0) {
            this.deferNext -= 1;
            return cb(Object.assign(new Error('4.3.0 Try again later'), { responseCode: 451 }));
          }
          const raw = Buffer.concat(chunks);
          simpleParser(raw, { keepCidLinks: true }).then(
            (mail) => {
              this.mails.push({ raw, envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined, to: session.envelope.rcptTo.map((r) => r.address) }, mail });
              for (const w of this.waiters) w();
              cb(null, 'queued');
            },
            (err: Error) => cb(err),
          );
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const c of server.connections) c.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string): SunkMail[] {
    return this.mails.filter((m) => m.envelope.to.includes(address));
  }

  async waitFor(predicate: () => boolean, timeoutMs = 20_000, what = 'mail'): Promise<void> {
    if (predicate()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${this.mails.length} mails`));
      }, timeoutMs);
      const check = () => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }
}
