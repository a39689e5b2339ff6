import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport, type SendMailOptions } from 'nodemailer';
import { createSmtpTransport, type MailTransport } from '../../../channels/email/smtp';
import { EmailState } from '../../../channels/email/state';
import { lifecycleHash, replyLocalPart } from '../../../channels/email/tokens';
import { startEmailInbound, type RunningInbound } from '../../../channels/email/smtp-inbound';
import { pseudonymiseRater } from '../../../core/pseudonym';
import { RATER_KEY, TOKEN_KEY } from '../../helpers/email';
import { FakeDirectory, votingLifecycle } from '../../helpers/fake-directory';
import { SmtpSink } from '../../helpers/smtp-sink';

const DOMAIN = 'in.prefline.test';
const LC = 'lc-email-replies';
const ALICE = 'alice@example.com';
const alice = pseudonymiseRater(RATER_KEY, 'email', ALICE);
const MAX_BYTES = 64 * 1024;

type SmtpFailure = Error & { responseCode?: number };

describe('channels/email/smtp-inbound (replies over SMTP)', function () {
  this.timeout(30_000);
  let dir: string;
  let state: EmailState;
  let directory: FakeDirectory;
  let inbound: RunningInbound;
  let answers: SmtpSink;
  let answerTransport: MailTransport;
  let sender: ReturnType<typeof createTransport>;
  let seq = 0;
  const replyTo = (lifecycleId = LC, rater = alice) => `${replyLocalPart(TOKEN_KEY, lifecycleId, rater)}@${DOMAIN}`;

  async function reply(text: string, extra: Partial<SendMailOptions> = {}): Promise<{ response: string }> {
    return sender.sendMail({ from: ALICE, to: replyTo(), subject: 'Re: Rate 2 candidates: a red fox', text, messageId: `<reply-${++seq}@example.com>`, ...extra }) as Promise<{ response: string }>;
  }

  async function failure(promise: Promise<unknown>): Promise<SmtpFailure> {
    try {
      await promise;
    } catch (err) {
      return err as SmtpFailure;
    }
    return assert.fail('expected the SMTP server to refuse');
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-email-inbound-'));
    state = await EmailState.open(join(dir, 'email'));
    answers = await new SmtpSink().start();
    answerTransport = createSmtpTransport({ host: '127.0.0.1', port: answers.port, secure: false, requireTLS: false, maxConnections: 0, rateLimit: 0 });
    directory = new FakeDirectory();
    inbound = await startEmailInbound({
      directory, state, tokenKey: TOKEN_KEY, domain: DOMAIN, host: '127.0.0.1', port: 0, maxBytes: MAX_BYTES,
      answers: { transport: answerTransport, from: { name: 'Prefline', address: 'ratings@prefline.test' } },
    });
    sender = createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true });
  });

  after(async () => {
    sender.close();
    await inbound.close();
    answerTransport.close();
    await answers.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    directory.clear();
    directory.received.length = 0;
    answers.mails.length = 0;
    directory.add(votingLifecycle(LC, 'a red fox', [{ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' }], { channel: `email:${ALICE}` }));
    await state.saveLifecycle(lifecycleHash(LC), { lifecycleId: LC, deadlineAt: new Date(Date.now() + 3_600_000).toISOString(), prompt: 'a red fox', candidates: [{ id: 'c1', label: 'A' }, { id: 'c2', label: 'B' }] });
  });

  it('should count the first line the rater wrote, ignoring quoted text, once per message', async () => {
    const text = '👎 2\n\nOn Mon, 2 Mar 2026 at 10:00, Prefline <ratings@prefline.test> wrote:\n> 👍 A\n> Prompt: a red fox';
    const first = await reply(text, { messageId: '<same-message@example.com>' });
    assert.match(first.response, /^250 .*Vote received/);
    assert.deepEqual(directory.received.map((r) => [r.lifecycleId, r.vote.candidateId, r.vote.value, r.vote.rater, r.vote.channel]), [[LC, 'c2', 'down', alice, 'email']]);
    // The same message delivered again (an MTA retry) counts once.
    await reply(text, { messageId: '<same-message@example.com>' });
    assert.equal(directory.received[1]!.vote.idempotencyKey, directory.received[0]!.vote.idempotencyKey);
    const status = await directory.status(LC);
    assert.equal(status!.candidates[1]!.tally.down, 1);
    assert.equal(status!.votesAccepted, 1);
    // Several votes on one line, and an HTML-only client.
    await reply('👍 A, 👍 B');
    await sender.sendMail({ from: ALICE, to: replyTo(), subject: 'Re: vote', html: '<div>-1 A</div><div class="gmail_quote"><blockquote>👍 B</blockquote></div>', messageId: '<html-only@example.com>' });
    assert.deepEqual(directory.received.slice(2).map((r) => [r.vote.candidateId, r.vote.value]), [['c1', 'up'], ['c2', 'up'], ['c1', 'down']]);
    assert.equal(answers.mails.length, 0, 'readable replies get no answer');
  });

  it('should answer an unreadable reply once, marked auto-replied, and never answer auto-submitted mail', async () => {
    await reply('I like the fox best!\n\n> 👍 A', { messageId: '<unreadable@example.com>' });
    await inbound.idle();
    assert.equal(directory.received.length, 0);
    assert.equal(answers.mails.length, 1);
    const answer = answers.mails[0]!;
    assert.deepEqual(answer.envelope.to, [ALICE]);
    assert.equal(answer.mail.headerLines.find((h) => h.key === 'auto-submitted')?.line, 'Auto-Submitted: auto-replied');
    assert.equal(answer.mail.inReplyTo, '<unreadable@example.com>');
    assert.match(answer.mail.text!, /👍 B/);
    // The same message again: no second answer.
    await reply('I like the fox best!', { messageId: '<unreadable@example.com>' });
    // An out-of-office reply, a list message, a bounce: never answered (no loops).
    await reply('I am out of office', { headers: { 'Auto-Submitted': 'auto-replied' } });
    await reply('digest', { headers: { Precedence: 'bulk' } });
    await sender.sendMail({ envelope: { from: '', to: [replyTo()] }, raw: 'From: MAILER-DAEMON@example.com\r\nSubject: failure\r\n\r\nundeliverable\r\n' });
    await inbound.idle();
    assert.equal(answers.mails.length, 1);
  });

  it('should cap automatic answers per reply address', async () => {
    for (let i = 0; i < 5; i++) await reply(`still not a vote ${i}`);
    await inbound.idle();
    assert.equal(answers.mails.length, 2, 'three per address in all, one was used by the previous test');
  });

  it('should refuse replies over the size limit with 552', async () => {
    const err = await failure(reply(`+1 A\n${'x'.repeat(MAX_BYTES * 2)}`));
    assert.equal(err.responseCode, 552, err.message);
    assert.equal(directory.received.length, 0);
  });

  it('should refuse mail to addresses it did not issue with 550', async () => {
    const forged = `${replyTo().slice(0, 40)}${'0'.repeat(16)}${replyTo().slice(56)}`;
    for (const to of [forged, `vote+nothing@${DOMAIN}`, `postmaster@${DOMAIN}`, replyTo().replace(DOMAIN, 'elsewhere.test'), replyTo('lc-unknown')]) {
      const err = await failure(sender.sendMail({ from: ALICE, to, subject: 'x', text: '+1 A' }));
      assert.equal(err.responseCode, 550, `${to}: ${err.message}`);
    }
    assert.equal(directory.received.length, 0);
  });

  it('should defer with 451 while the lifecycle is unreachable, and count the retried delivery once', async () => {
    directory.failNext = new Error('14 UNAVAILABLE: connection refused');
    const err = await failure(reply('👍 B', { messageId: '<deferred@example.com>' }));
    assert.equal(err.responseCode, 451);
    await reply('👍 B', { messageId: '<deferred@example.com>' });
    await reply('👍 B', { messageId: '<deferred@example.com>' });
    const status = await directory.status(LC);
    assert.equal(status!.candidates[1]!.tally.up, 1);
    assert.equal(status!.votesAccepted, 1);
  });

  it('should tell a rater who replies after voting closed', async () => {
    directory.close(LC);
    const bob = pseudonymiseRater(RATER_KEY, 'email', 'bob@example.com'); // Alice used up her answers above
    const res = (await sender.sendMail({ from: 'bob@example.com', to: replyTo(LC, bob), subject: 'Re: x', text: '+1 A', messageId: '<late@example.com>' })) as { response: string };
    assert.match(res.response, /^250 /);
    await inbound.idle();
    assert.equal(answers.mails.length, 1);
    assert.equal(answers.mails[0]!.mail.subject, 'Voting has closed');
  });
});
