import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSmtpTransport, type MailTransport } from '../../../channels/email/smtp';
import { readMessage } from '../../../channels/email/mime';
import { EmailState } from '../../../channels/email/state';
import { lifecycleHash, replyLocalPart } from '../../../channels/email/tokens';
import { envelopeFromOf, recipientsOf, startImapPoller, type ImapPollerDeps, type RunningImapPoller } from '../../../channels/email/imap';
import { createReplyHandler, type ReplyHandler } from '../../../channels/email/replies';
import { pseudonymiseRater } from '../../../core/pseudonym';
import { Dovecot, IMAP_PASSWORD, IMAP_USER, replyMail, type StoredMessage } from '../../helpers/dovecot';
import { RATER_KEY, TOKEN_KEY } from '../../helpers/email';
import { FakeDirectory, votingLifecycle } from '../../helpers/fake-directory';
import { waitUntil } from '../../helpers/processes';
import { SmtpSink } from '../../helpers/smtp-sink';

const DOMAIN = 'in.prefline.test';
const LC = 'lc-imap-replies';
const ALICE = 'alice@example.com';
const alice = pseudonymiseRater(RATER_KEY, 'email', ALICE);
const MAX_BYTES = 64 * 1024;
const PROCESSED = 'Prefline-Processed';
const replyTo = (lifecycleId = LC, rater = alice) => `${replyLocalPart(TOKEN_KEY, lifecycleId, rater)}@${DOMAIN}`;

type LogLine = { level: string; msg: string; fields?: Record<string, unknown> };

describe('channels/email/imap (replies by polling a mailbox)', function () {
  this.timeout(60_000);
  let dovecot: Dovecot;
  let dir: string;
  let state: EmailState;
  let directory: FakeDirectory;
  let answers: SmtpSink;
  let answerTransport: MailTransport;
  let replies: ReplyHandler;
  let poller: RunningImapPoller | undefined;
  let logs: LogLine[];
  let seq = 0;

  function start(overrides: Partial<ImapPollerDeps> = {}): RunningImapPoller {
    poller = startImapPoller({
      replies,
      server: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: IMAP_USER, password: IMAP_PASSWORD },
      mailbox: 'INBOX',
      processedMailbox: PROCESSED,
      pollMs: 60_000, // passes come from IDLE (new mail) and pass(); the poll-interval test sets its own
      maxBytes: MAX_BYTES,
      backoff: { minMs: 100, maxMs: 1000 },
      log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }),
      ...overrides,
    });
    return poller;
  }

  async function deliver(text: string, extra: Partial<Parameters<typeof replyMail>[0]> = {}): Promise<string> {
    const messageId = extra.messageId ?? `<imap-reply-${++seq}@example.com>`;
    await dovecot.deliver(await replyMail({ to: replyTo(), text, messageId, ...extra }));
    return messageId;
  }

  const processed = async (messageId: string): Promise<StoredMessage | undefined> =>
    (await dovecot.messages(PROCESSED)).find((m) => m.messageId === messageId && m.flags.includes('\\Seen'));
  const inInbox = async (messageId: string): Promise<StoredMessage | undefined> => (await dovecot.messages()).find((m) => m.messageId === messageId);
  const tally = async () => (await directory.status(LC))!.candidates.map((c) => [c.label, c.tally.up, c.tally.down]);

  before(async () => {
    dovecot = await Dovecot.start();
    dir = mkdtempSync(join(tmpdir(), 'prefline-email-imap-'));
    state = await EmailState.open(join(dir, 'email'));
    answers = await new SmtpSink().start();
    answerTransport = createSmtpTransport({ host: '127.0.0.1', port: answers.port, secure: false, requireTLS: false, maxConnections: 0, rateLimit: 0 });
    directory = new FakeDirectory();
    replies = createReplyHandler({ directory, state, tokenKey: TOKEN_KEY, domain: DOMAIN, log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }), answers: { transport: answerTransport, from: { name: 'Prefline', address: 'ratings@prefline.test' } } });
  });

  after(async () => {
    await poller?.close();
    answerTransport?.close();
    await answers?.stop();
    await dovecot?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    logs = [];
    directory.clear();
    directory.received.length = 0;
    directory.failNext = undefined;
    answers.mails.length = 0;
    directory.add(votingLifecycle(LC, 'a red fox', [{ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' }], { channel: `email:${ALICE}` }));
    await state.saveLifecycle(lifecycleHash(LC), { lifecycleId: LC, deadlineAt: new Date(Date.now() + 3_600_000).toISOString(), prompt: 'a red fox', candidates: [{ id: 'c1', label: 'A' }, { id: 'c2', label: 'B' }] });
  });

  afterEach(async () => {
    await poller?.close();
    poller = undefined;
    await dovecot.empty('INBOX', PROCESSED);
  });

  describe('reading a delivered message', () => {
    it('should take every recipient header and the envelope sender an MTA records', async () => {
      const message = await readMessage(Buffer.from(
        'Return-Path: <bounce-alice@example.com>\r\nDelivered-To: catchall@mx.example\r\nX-Original-To: VOTE+AB@in.prefline.test\r\n' +
        'To: "Prefline, votes" <vote+cd@in.prefline.test>, other@example.com\r\nCc: vote+ef@in.prefline.test\r\nFrom: Alice <alice@example.com>\r\n\r\nbody\r\n',
      ));
      assert.deepEqual(recipientsOf(message), ['catchall@mx.example', 'vote+ab@in.prefline.test', 'vote+cd@in.prefline.test', 'other@example.com', 'vote+ef@in.prefline.test']);
      assert.equal(envelopeFromOf(message), 'bounce-alice@example.com');
      assert.equal(envelopeFromOf(await readMessage(Buffer.from('Return-Path: <>\r\nFrom: MAILER-DAEMON@example.com\r\n\r\nx'))), undefined, 'a bounce');
      assert.equal(envelopeFromOf(await readMessage(Buffer.from('Reply-To: Al <al@example.com>\r\nFrom: Alice <alice@example.com>\r\n\r\nx'))), 'al@example.com');
      assert.equal(envelopeFromOf(await readMessage(Buffer.from('From: Alice <alice@example.com>\r\n\r\nx'))), 'alice@example.com');
    });
  });

  it('should count a reply vote once and mark the message processed (\\Seen, moved to the processed mailbox)', async () => {
    start();
    // Non-ASCII text: the composer encodes it (quoted-printable or base64) and the poller must read the raw message.
    const id = await deliver('👎 2\n\nOn Mon, 2 Mar 2026 at 10:00, Prefline <ratings@prefline.test> wrote:\n> 👍 A');
    await waitUntil(() => processed(id), 20_000, 'the reply to be processed');
    assert.deepEqual(directory.received.map((r) => [r.lifecycleId, r.vote.candidateId, r.vote.value, r.vote.rater, r.vote.channel]), [[LC, 'c2', 'down', alice, 'email']]);
    assert.deepEqual(await tally(), [['A', 0, 0], ['B', 0, 1]]);
    assert.equal(await inInbox(id), undefined, 'moved out of the inbox');
    assert.equal(answers.mails.length, 0, 'a readable reply gets no answer');
  });

  it('should keep processed replies in the mailbox, flagged \\Seen, without a processed mailbox, and find a vote address in Cc', async () => {
    start({ processedMailbox: undefined });
    const id = await deliver('+1 A', { deliveredTo: 'catchall@mx.prefline.test', headers: { Cc: `Votes <${replyTo()}>` }, html: '<div>ignored: the text part wins</div>' });
    await waitUntil(async () => (await inInbox(id))?.flags.includes('\\Seen'), 20_000, 'the reply to be flagged');
    assert.deepEqual(await tally(), [['A', 1, 0], ['B', 0, 0]]);
    assert.deepEqual(await dovecot.messages(PROCESSED), []);
  });

  it('should count the same message delivered twice once', async () => {
    start();
    const raw = await replyMail({ to: replyTo(), text: '👍 A, 👍 B', messageId: '<twice@example.com>' });
    await dovecot.deliver(raw);
    await dovecot.deliver(raw);
    await waitUntil(async () => (await dovecot.messages(PROCESSED)).length === 2, 20_000, 'both copies to be processed');
    assert.equal(directory.received.length, 4);
    assert.deepEqual(directory.received.slice(2).map((r) => r.vote.idempotencyKey), directory.received.slice(0, 2).map((r) => r.vote.idempotencyKey));
    assert.deepEqual(await tally(), [['A', 1, 0], ['B', 1, 0]]);
    assert.equal((await directory.status(LC))!.votesAccepted, 2);
  });

  it('should count a reply once when the poller stopped after forwarding it but before marking it processed', async () => {
    let crashedOn: number | undefined;
    const first = start({
      backoff: { minMs: 60_000, maxMs: 60_000 }, // no reconnect: this process is "dead"
      beforeMarkProcessed: (uid) => {
        crashedOn = uid;
        throw new Error('simulated crash between forwarding and flagging');
      },
    });
    const id = await deliver('B 👎', { messageId: '<crash@example.com>' });
    await waitUntil(() => crashedOn, 20_000, 'the first poller to forward the vote');
    await first.close();
    assert.equal(directory.received.length, 1);
    assert.deepEqual((await inInbox(id))?.flags, [], 'still unprocessed');
    // The restarted poller handles it again: same idempotency key, counted once, now flagged.
    start();
    await waitUntil(() => processed(id), 20_000, 'the restarted poller to process the reply');
    assert.equal(directory.received.length, 2);
    assert.equal(directory.received[1]!.vote.idempotencyKey, directory.received[0]!.vote.idempotencyKey);
    assert.deepEqual(await tally(), [['A', 0, 0], ['B', 0, 1]]);
  });

  it('should leave a reply unprocessed while the lifecycle is unreachable and count it after recovery', async () => {
    const running = start();
    directory.failNext = new Error('14 UNAVAILABLE: connection refused');
    const id = await deliver('👍 B', { messageId: '<deferred@example.com>' });
    await waitUntil(() => directory.received.length === 1 || undefined, 20_000, 'the first attempt');
    directory.failNext = new Error('14 UNAVAILABLE: connection refused'); // still down at the next pass
    await running.pass();
    assert.equal(directory.received.length, 2, 'retried at the next pass');
    const stored = await inInbox(id);
    assert.ok(stored, 'still in the inbox');
    assert.ok(!stored.flags.includes('\\Seen'), 'not marked processed (BODY.PEEK: downloading did not set \\Seen either)');
    assert.deepEqual(await tally(), [['A', 0, 0], ['B', 0, 0]]);
    // Temporal is back: the next pass counts it, once.
    await running.pass();
    assert.ok(await processed(id));
    assert.equal(new Set(directory.received.map((r) => r.vote.idempotencyKey)).size, 1);
    assert.deepEqual(await tally(), [['A', 0, 0], ['B', 1, 0]]);
    assert.ok(logs.some((l) => l.msg === 'email reply deferred: lifecycle unreachable'));
  });

  it('should retry deferred replies at the poll interval on its own', async () => {
    start({ pollMs: 300 });
    directory.failNext = new Error('14 UNAVAILABLE: connection refused');
    const id = await deliver('👍 A');
    await waitUntil(() => processed(id), 20_000, 'the poll timer to retry the reply');
    assert.equal(directory.received.length, 2);
    assert.deepEqual(await tally(), [['A', 1, 0], ['B', 0, 0]]);
  });

  it('should mark a reply over the size limit processed without downloading or counting it', async () => {
    start();
    const id = await deliver(`+1 A\n${'x'.repeat(MAX_BYTES * 3)}`);
    await waitUntil(() => processed(id), 20_000, 'the oversized reply to be marked processed');
    assert.equal(directory.received.length, 0);
    assert.ok(logs.some((l) => l.msg === 'email imap: reply over the size limit, not downloaded'));
    await poller!.close();
    poller = undefined;
    // Dovecot logs the body bytes each session fetched: the poller's sessions fetched none of it.
    const fetched = [...dovecot.log().matchAll(/body_bytes=(\d+)/g)].map((m) => Number(m[1]));
    assert.ok(fetched.length > 0, 'Dovecot logged the sessions');
    assert.ok(fetched.every((n) => n < MAX_BYTES), `body bytes fetched per session: ${fetched.join(', ')}`);
  });

  it('should answer an unreadable reply exactly once, and never auto-submitted mail or bounces', async () => {
    start();
    const raw = await replyMail({ to: replyTo(), text: 'I like the fox best!\n\n> 👍 A', messageId: '<unreadable@example.com>', returnPath: 'alice+bounces@example.com' });
    await dovecot.deliver(raw);
    await dovecot.deliver(raw); // the same message again
    const ooo = await deliver('I am out of office', { headers: { 'Auto-Submitted': 'auto-replied' } });
    const bounce = await deliver('undeliverable', { returnPath: '', from: 'MAILER-DAEMON@example.com' });
    await waitUntil(async () => (await dovecot.messages(PROCESSED)).length === 4, 20_000, 'all four to be processed');
    await poller!.idle();
    assert.equal(directory.received.length, 0);
    assert.equal(answers.mails.length, 1);
    const answer = answers.mails[0]!;
    assert.deepEqual(answer.envelope.to, ['alice+bounces@example.com'], 'to the Return-Path');
    assert.equal(answer.mail.headerLines.find((h) => h.key === 'auto-submitted')?.line, 'Auto-Submitted: auto-replied');
    assert.equal(answer.mail.inReplyTo, '<unreadable@example.com>');
    assert.ok(await processed(ooo) && (await processed(bounce)));
  });

  it('should leave mail that is not a reply to Prefline alone, and refuse tampered or foreign reply addresses', async () => {
    const running = start();
    const tampered = `${replyTo().slice(0, 40)}${'0'.repeat(16)}${replyTo().slice(56)}`;
    const ids = [
      await deliver('+1 A', { to: 'someone@example.org', messageId: '<stranger@example.com>' }),
      await deliver('+1 A', { to: tampered, messageId: '<tampered@example.com>' }),
      await deliver('+1 A', { to: replyTo().replace(DOMAIN, 'elsewhere.test'), messageId: '<foreign@example.com>' }),
    ];
    const signed = await deliver('👍 A', { messageId: '<signed@example.com>' });
    await waitUntil(() => processed(signed), 20_000, 'the signed reply to be processed');
    await running.pass();
    await running.pass();
    for (const id of ids) assert.deepEqual((await inInbox(id))?.flags, [], `${id}: left alone (unflagged, in the inbox)`);
    assert.deepEqual(directory.received.map((r) => r.vote.candidateId), ['c1'], 'only the signed reply counted');
    assert.equal(answers.mails.length, 0);
    assert.equal(logs.filter((l) => l.msg === 'email imap: not a reply to Prefline, left alone').length, 3, 'looked at once each, then skipped');
  });

  it('should mark a reply to a lifecycle this gateway does not know processed without counting it', async () => {
    start();
    const id = await deliver('+1 A', { to: replyTo('lc-unknown') });
    await waitUntil(() => processed(id), 20_000, 'the reply to be processed');
    assert.equal(directory.received.length, 0);
  });

  it('should reconnect after Dovecot went down and process the mail that arrived meanwhile', async () => {
    const running = start();
    await waitUntil(() => running.connected, 20_000, 'the first session');
    await dovecot.stop();
    await waitUntil(() => !running.connected || undefined, 20_000, 'the poller to notice');
    await waitUntil(() => logs.some((l) => l.msg === 'email imap: connection failed'), 20_000, 'a failed reconnect');
    await dovecot.restart();
    const id = await deliver('👍 B');
    await waitUntil(() => processed(id), 30_000, 'the reply after the restart');
    assert.deepEqual(await tally(), [['A', 0, 0], ['B', 1, 0]]);
    assert.ok(!JSON.stringify(logs).includes(IMAP_PASSWORD), 'the password is never logged');
  });

  it('should log and keep retrying when the login is refused, without logging the password', async () => {
    const running = start({ server: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: IMAP_USER, password: 'wrong-password-1234' } });
    await waitUntil(() => logs.filter((l) => l.msg === 'email imap: connection failed').length >= 2 || undefined, 20_000, 'two failed logins');
    assert.equal(running.connected, false);
    assert.ok(!JSON.stringify(logs).includes('wrong-password-1234'));
    await running.close(); // closes promptly while backing off
  });

  describe('over TLS', () => {
    let tlsDovecot: Dovecot;
    before(async () => {
      tlsDovecot = await Dovecot.start({ tls: true });
    });
    after(async () => {
      await tlsDovecot?.destroy();
    });

    for (const security of ['tls', 'starttls'] as const) {
      it(`should count a reply read over ${security === 'tls' ? 'implicit TLS' : 'STARTTLS'} with the server's certificate trusted`, async () => {
        const tlsLogins = () => tlsDovecot.log().split('\n').filter((l) => /Login: user=<replies>, method=PLAIN.*\bTLS\b/.test(l)).length;
        const before = tlsLogins();
        start({ server: { host: '127.0.0.1', port: security === 'tls' ? tlsDovecot.tlsPort : tlsDovecot.port, security, ca: tlsDovecot.ca!, user: IMAP_USER, password: IMAP_PASSWORD } });
        const id = `<tls-${security}@example.com>`;
        await tlsDovecot.deliver(await replyMail({ to: replyTo(), text: '+1 B', messageId: id }));
        await waitUntil(async () => (await tlsDovecot.messages(PROCESSED)).some((m) => m.messageId === id), 20_000, 'the reply to be processed');
        assert.deepEqual(await tally(), [['A', 0, 0], ['B', 1, 0]]);
        assert.ok(tlsLogins() > before, 'the poller logged in over TLS');
      });
    }

    it('should refuse a server certificate it does not trust, and a server without STARTTLS when STARTTLS is required', async () => {
      const untrusted = start({ server: { host: '127.0.0.1', port: tlsDovecot.tlsPort, security: 'tls', user: IMAP_USER, password: IMAP_PASSWORD } });
      await waitUntil(() => logs.some((l) => l.msg === 'email imap: connection failed' && /certificate/i.test(String(l.fields?.error))) || undefined, 20_000, 'a certificate error');
      assert.equal(untrusted.connected, false);
      await untrusted.close();
      logs = [];
      const cleartextOnly = start({ server: { host: '127.0.0.1', port: dovecot.port, security: 'starttls', user: IMAP_USER, password: IMAP_PASSWORD } });
      await waitUntil(() => logs.some((l) => l.msg === 'email imap: connection failed') || undefined, 20_000, 'a STARTTLS failure');
      assert.equal(cleartextOnly.connected, false);
    });
  });
});
