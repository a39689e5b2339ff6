/**
 * Outbound SMTP as configured in production, against a real SMTP server (smtp-server) with a real
 * certificate: implicit TLS and STARTTLS with AUTH, a private CA from PREFLINE_SMTP_TLS_CA, refusals
 * (untrusted certificate, STARTTLS required but not offered, wrong password) that send nothing, and
 * DKIM signatures checked by an independent verifier (mailauth) against the published public key.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '../../../config';
import { composeAutoAnswer, composeInvite } from '../../../channels/email/compose';
import { classifySmtpError, createSmtpTransport, readSmtpSettings, type MailTransport, type SmtpFileSettings } from '../../../channels/email/smtp';

const USER = 'prefline-relay';
const PASS = 'relay-password-7f3a';
const DOMAIN = 'ratings.example.com';
const SELECTOR = 'pl2026';

interface Received {
  raw: Buffer;
  secure: boolean;
  user: string | undefined;
}

async function startServer(options: { implicitTls: boolean; starttls: boolean; key: Buffer; cert: Buffer }): Promise<{ port: number; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = new SMTPServer({
    secure: options.implicitTls,
    key: options.key,
    cert: options.cert,
    logger: false,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: options.starttls || options.implicitTls ? [] : ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASS) return callback(null, { user: USER });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ raw: Buffer.concat(chunks), secure: session.secure, user: session.user as string | undefined });
        callback();
      });
    },
  });
  server.on('error', () => undefined); // refused TLS handshakes are the point of some tests
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.server.address() as AddressInfo).port, received, close: () => new Promise((r) => server.close(() => r())) };
}

describe('channels/email: SMTP over TLS with AUTH, and DKIM', function () {
  this.timeout(30_000);
  let dir: string;
  let key: Buffer;
  let cert: Buffer;
  let dkimPublicKey: string;
  const transports: MailTransport[] = [];
  const servers: Array<{ close: () => Promise<void> }> = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-smtp-tls-'));
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
    key = readFileSync(join(dir, 'key.pem'));
    cert = readFileSync(join(dir, 'cert.pem'));
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(join(dir, 'dkim.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    dkimPublicKey = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  });

  afterEach(async () => {
    for (const t of transports.splice(0)) t.close();
    for (const s of servers.splice(0)) await s.close();
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const mail = () => composeAutoAnswer({ from: { name: 'Prefline', address: `ratings@${DOMAIN}` }, to: 'rater@example.org', reason: 'unreadable', inReplyTo: '<orig@example.org>' });
  const resolver = async (name: string, rrtype: string) => {
    if (rrtype === 'TXT' && name === `${SELECTOR}._domainkey.${DOMAIN}`) return [[`v=DKIM1; k=rsa; p=${dkimPublicKey}`]];
    throw Object.assign(new Error(`no ${rrtype} record for ${name}`), { code: 'ENOTFOUND' });
  };
  const transportFor = async (settings: Partial<SmtpFileSettings> & { port: number }) => {
    const t = createSmtpTransport(await readSmtpSettings({ host: '127.0.0.1', secure: false, requireTLS: false, maxConnections: 0, rateLimit: 0, ...settings }));
    transports.push(t);
    return t;
  };

  it('should send over implicit TLS with AUTH, trusting the configured CA, DKIM-signed so a verifier passes it', async () => {
    const server = await startServer({ implicitTls: true, starttls: false, key, cert });
    servers.push(server);
    // Configured exactly as an operator would, through the environment.
    const config = loadConfig({
      PREFLINE_SMTP_HOST: '127.0.0.1', PREFLINE_SMTP_PORT: String(server.port), PREFLINE_SMTP_SECURE: '1', PREFLINE_SMTP_TLS_CA: join(dir, 'cert.pem'),
      PREFLINE_SMTP_USER: USER, PREFLINE_SMTP_PASS: PASS, PREFLINE_EMAIL_FROM: `Prefline <ratings@${DOMAIN}>`,
      PREFLINE_DKIM_DOMAIN: DOMAIN, PREFLINE_DKIM_SELECTOR: SELECTOR, PREFLINE_DKIM_PRIVATE_KEY_FILE: join(dir, 'dkim.pem'),
    }, dir);
    const transport = createSmtpTransport(await readSmtpSettings(config.email!.smtp!));
    transports.push(transport);
    await transport.sendMail(mail());
    const [got] = server.received;
    assert.equal(got!.secure, true);
    assert.equal(got!.user, USER);
    assert.match(got!.raw.toString('utf8'), /^DKIM-Signature: v=1;[\s\S]*?\sd=ratings\.example\.com;/m);
    const verdict = await dkimVerify(got!.raw, { resolver });
    assert.deepEqual(verdict.results.map((r) => [r.signingDomain, r.selector, r.status.result]), [[DOMAIN, SELECTOR, 'pass']]);
    // An invitation (inline image, List-Unsubscribe) verifies too, with List-Unsubscribe among the signed headers.
    await transport.sendMail(composeInvite({
      from: { name: 'Prefline', address: `ratings@${DOMAIN}` }, to: 'rater@example.org', messageId: `<invite-1@${DOMAIN}>`,
      prompt: 'a fox in the snow', deadlineAt: '2026-11-23T12:00:00.000Z', unsubscribeUrl: 'https://prefline.example.com/email/unsubscribe/t',
      replyTo: `vote+token@${DOMAIN}`,
      candidates: [{
        id: 'c1', label: 'A', kind: 'image', placeholder: true, links: { up: 'https://p/u', down: 'https://p/d', retract: 'https://p/r' },
        image: { cid: 'c1@prefline', content: Buffer.from('89504e470d0a1a0a', 'hex'), contentType: 'image/png', filename: 'a.png' },
      }],
    }));
    const invite = server.received[1]!.raw;
    const signed = (await dkimVerify(invite, { resolver })).results[0];
    assert.equal(signed?.status.result, 'pass');
    assert.match(invite.toString('utf8').replace(/\r\n\s+/g, ' '), /^DKIM-Signature:.*\bh=[^;]*\blist-unsubscribe\b/im);
    // The verifier can fail: one changed body character, or a changed subject, breaks the signature.
    const text = got!.raw.toString('utf8');
    const bodyAt = text.indexOf('\r\n\r\n') + 4;
    const flipped = text[bodyAt] === 'X' ? 'Y' : 'X';
    for (const tampered of [text.slice(0, bodyAt) + flipped + text.slice(bodyAt + 1), text.replace('Subject: Your vote could not be read', 'Subject: Your vote could not be reed')]) {
      assert.notEqual(tampered, text);
      const result = (await dkimVerify(Buffer.from(tampered), { resolver })).results[0]?.status.result;
      assert.ok(result === 'fail' || result === 'neutral', `tampered mail verified as ${result}`); // mailauth: neutral = body hash mismatch
    }
  });

  it('should upgrade with STARTTLS when required, and send nothing when the server does not offer it', async () => {
    const starttls = await startServer({ implicitTls: false, starttls: true, key, cert });
    servers.push(starttls);
    await (await transportFor({ port: starttls.port, requireTLS: true, tlsCaFile: join(dir, 'cert.pem'), user: USER, pass: PASS })).sendMail(mail());
    assert.deepEqual(starttls.received.map((r) => [r.secure, r.user]), [[true, USER]]);

    const plain = await startServer({ implicitTls: false, starttls: false, key, cert });
    servers.push(plain);
    const refused = await (await transportFor({ port: plain.port, requireTLS: true, tlsCaFile: join(dir, 'cert.pem'), user: USER, pass: PASS })).sendMail(mail()).then(() => undefined, (err: unknown) => err);
    assert.ok(refused instanceof Error, 'STARTTLS required but not offered must fail');
    assert.equal(plain.received.length, 0, 'nothing sent in the clear');
  });

  it('should refuse an untrusted certificate and a wrong password, sending nothing; a wrong password is fatal', async () => {
    const server = await startServer({ implicitTls: true, starttls: false, key, cert });
    servers.push(server);
    const untrusted = await (await transportFor({ port: server.port, secure: true, user: USER, pass: PASS })).sendMail(mail()).then(() => undefined, (err: unknown) => err);
    assert.ok(untrusted instanceof Error && /self[- ]signed|certificate/i.test(untrusted.message), `untrusted certificate refused (${String(untrusted)})`);
    assert.equal(classifySmtpError(untrusted), 'transient', 'retried with backoff: fixing the CA setting lets the lifecycle go on');
    const badAuth = await (await transportFor({ port: server.port, secure: true, tlsCaFile: join(dir, 'cert.pem'), user: USER, pass: 'wrong' })).sendMail(mail()).then(() => undefined, (err: unknown) => err);
    assert.ok(badAuth instanceof Error);
    assert.equal(classifySmtpError(badAuth), 'fatal');
    assert.equal(server.received.length, 0);
  });
});
