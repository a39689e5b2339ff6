/**
 * The email channel as the processes build it from the environment: the gateway's link routes and
 * inbound listener or IMAP poller (started and closed by startGateway), and the worker's publisher.
 * The settings themselves are tested in test/config/email.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { loadConfig, loadSecret } from '../../config';
import { startGateway } from '../../gateway/main';
import { freePort } from '../../ops/dev-server';
import { closeEmailTransports, emailChannelPublishers } from '../../workers/email';
import { replyLocalPart } from '../../channels/email/tokens';
import { pseudonymiseRater } from '../../core/pseudonym';
import { Dovecot, IMAP_PASSWORD, IMAP_USER, replyMail } from '../helpers/dovecot';
import { waitUntil } from '../helpers/processes';
import { SmtpSink } from '../helpers/smtp-sink';
import { sharedTemporal } from '../helpers/temporal';

describe('email channel wiring from the environment', function () {
  this.timeout(60_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-email-wiring-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should mount the link routes and the inbound listener in the gateway, and build the worker publisher', async () => {
    const { address } = await sharedTemporal();
    const sink = await new SmtpSink().start();
    const [gatewayPort, inboundPort] = [await freePort(), await freePort()];
    const config = loadConfig({
      PREFLINE_DATA_DIR: dir, PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_GATEWAY_PORT: String(gatewayPort), PREFLINE_LOG_LEVEL: 'error',
      PREFLINE_SMTP_HOST: '127.0.0.1', PREFLINE_SMTP_PORT: String(sink.port), PREFLINE_EMAIL_FROM: 'ratings@prefline.test',
      PREFLINE_EMAIL_INBOUND_DOMAIN: 'in.prefline.test', PREFLINE_EMAIL_INBOUND_PORT: String(inboundPort), PREFLINE_EMAIL_TOKEN_KEY: 'a-long-enough-email-token-key',
    }, dir);
    const gateway = await startGateway(config);
    try {
      const page = await fetch(`${gateway.url}/email/v/forged.token`);
      assert.equal(page.status, 400);
      assert.match(await page.text(), /Link invalid/);
      const sender = createTransport({ host: '127.0.0.1', port: inboundPort, secure: false, ignoreTLS: true });
      await assert.rejects(sender.sendMail({ from: 'a@example.com', to: 'vote+0000@in.prefline.test', subject: 'x', text: '+1' }), (err: Error & { responseCode?: number }) => err.responseCode === 550);
      sender.close();
      const { email } = await emailChannelPublishers(config);
      assert.ok(email?.remind, 'the worker registers the email publisher');
    } finally {
      closeEmailTransports();
      await gateway.close();
      await sink.stop();
    }
    // Closed: the listener is gone.
    const probe = createTransport({ host: '127.0.0.1', port: inboundPort, secure: false, ignoreTLS: true, connectionTimeout: 2000 });
    await assert.rejects(probe.verify());
  });

  it('should run the IMAP poller in the gateway from PREFLINE_IMAP_*, and stop it on close', async () => {
    const { address } = await sharedTemporal();
    const dovecot = await Dovecot.start();
    try {
      writeFileSync(join(dir, 'imap.pass'), `${IMAP_PASSWORD}\n`);
      const config = loadConfig({
        PREFLINE_DATA_DIR: dir, PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_GATEWAY_PORT: String(await freePort()), PREFLINE_LOG_LEVEL: 'error',
        PREFLINE_EMAIL_INBOUND_DOMAIN: 'in.prefline.test',
        PREFLINE_IMAP_HOST: '127.0.0.1', PREFLINE_IMAP_PORT: String(dovecot.port), PREFLINE_IMAP_SECURE: 'none', PREFLINE_IMAP_USER: IMAP_USER,
        PREFLINE_IMAP_PASSWORD_FILE: 'imap.pass', PREFLINE_IMAP_PROCESSED_MAILBOX: 'Done', PREFLINE_IMAP_POLL_SECONDS: '1',
      }, dir);
      const gateway = await startGateway(config);
      try {
        // A signed address of a lifecycle this gateway never mailed: read, refused, marked processed.
        const to = `${replyLocalPart(loadSecret(config, 'email-token'), 'lc-never-mailed', pseudonymiseRater(Buffer.from('k'.repeat(32)), 'email', 'a@example.com'))}@in.prefline.test`;
        await dovecot.deliver(await replyMail({ to, text: '+1 A', messageId: '<wired@example.com>' }));
        await dovecot.deliver(await replyMail({ to: 'sales@example.com', text: 'hello', messageId: '<stranger@example.com>' }));
        await waitUntil(async () => (await dovecot.messages('Done')).find((m) => m.messageId === '<wired@example.com>' && m.flags.includes('\\Seen')), 30_000, 'the poller to process the reply');
        assert.deepEqual((await dovecot.messages()).map((m) => [m.messageId, m.flags]), [['<stranger@example.com>', []]], 'mail for others left alone');
      } finally {
        await gateway.close();
      }
      // Closed: every IMAP session Dovecot saw has ended (the poller logged out).
      const sessions = (pattern: RegExp) => dovecot.log().split('\n').filter((l) => pattern.test(l)).length;
      await waitUntil(() => sessions(/Login: user=<replies>/) === sessions(/imap\(replies\).*Disconnected/) || undefined, 20_000, 'the poller to log out');
    } finally {
      await dovecot.destroy();
    }
  });
});
