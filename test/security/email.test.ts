/**
 * Bad input at the email channel's entry points: crafted replies over SMTP and IMAP (a real Dovecot),
 * forged reply addresses, and tampered or foreign vote-link tokens. Every case asserts a clear
 * refusal (an SMTP code, an HTTP status, a log line) and that nothing changed: no vote reached the
 * directory (it records every call) and the tally stands as before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { startImapPoller, type RunningImapPoller } from '../../channels/email/imap';
import { createMessageReader, type MessageReader } from '../../channels/email/message-reader';
import { MAX_DELIMITER_LINES } from '../../channels/email/mime';
import { createReplyHandler } from '../../channels/email/replies';
import { createEmailRoutes } from '../../channels/email/routes';
import { startEmailInbound, type RunningInbound } from '../../channels/email/smtp-inbound';
import { EmailState } from '../../channels/email/state';
import { lifecycleHash, replyLocalPart, signUnsubscribe, signVoteLink } from '../../channels/email/tokens';
import { pseudonymiseRater } from '../../core/pseudonym';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { Dovecot, IMAP_PASSWORD, IMAP_USER, replyMail } from '../helpers/dovecot';
import { RATER_KEY, TOKEN_KEY } from '../helpers/email';
import { FakeDirectory, MemoryArtifacts, votingLifecycle } from '../helpers/fake-directory';
import { waitUntil } from '../helpers/processes';

const DOMAIN = 'in.prefline.test';
const LC = 'lc-security-email';
const ALICE = 'alice@example.com';
const alice = pseudonymiseRater(RATER_KEY, 'email', ALICE);
const bob = pseudonymiseRater(RATER_KEY, 'email', 'bob@example.com');
const MAX_BYTES = 4 * 1024 * 1024;
const CRLF = '\r\n';
const replyTo = (lifecycleId = LC, rater = alice) => `${replyLocalPart(TOKEN_KEY, lifecycleId, rater)}@${DOMAIN}`;

let seq = 0;
/** A raw reply to Alice's reply address with this Content-Type and body (and extra header lines). */
function crafted(contentType: string, body: string, extraHeaders = ''): Buffer {
  return Buffer.from(
    `From: ${ALICE}${CRLF}To: ${replyTo()}${CRLF}Subject: Re: vote${CRLF}Message-ID: <crafted-${++seq}@example.com>${CRLF}MIME-Version: 1.0${CRLF}` +
      `${extraHeaders}Content-Type: ${contentType}${CRLF}${CRLF}${body}`,
    'utf8',
  );
}

/** Crafted HTML bodies that made the old regular expressions quadratic (seconds to minutes each). */
const CRAFTED_HTML: Array<[string, string]> = [
  ['"<head" 400,000 times', '<head'.repeat(400_000)],
  ['1 MB of "<"', '<'.repeat(1 << 20)],
  ['100,000 nested blockquotes', `${'<blockquote>'.repeat(100_000)}+1 A`],
  ['400,000 unclosed comments', '<!--'.repeat(400_000)],
  ['150,000 unclosed class attributes', '<div class="'.repeat(150_000)],
  ['200,000 unclosed scripts', '<script>'.repeat(200_000)],
  ['100,000 deeply nested tags', `${'<div><span>'.repeat(100_000)}x`],
];

type SmtpFailure = Error & { responseCode?: number };

describe('security: email', function () {
  this.timeout(60_000);
  let dir: string;
  let state: EmailState;
  let directory: FakeDirectory;
  let reader: MessageReader;
  let logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const log = (level: string, msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, ...(fields ? { fields } : {}) });
  const tally = async () => (await directory.status(LC))!.candidates.map((c) => [c.label, c.tally.up, c.tally.down]);
  const UNTOUCHED = [['A', 0, 0], ['B', 0, 0]];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-security-email-'));
    state = await EmailState.open(join(dir, 'email'));
    directory = new FakeDirectory();
    reader = createMessageReader();
  });

  after(async () => {
    await reader.close();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    logs = [];
    directory.clear();
    directory.received.length = 0;
    directory.add(votingLifecycle(LC, 'a red fox', [{ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' }], { channel: `email:${ALICE}` }));
    await state.saveLifecycle(lifecycleHash(LC), { lifecycleId: LC, deadlineAt: new Date(Date.now() + 3_600_000).toISOString(), prompt: 'a red fox', candidates: [{ id: 'c1', label: 'A' }, { id: 'c2', label: 'B' }] });
  });

  describe('replies over SMTP', () => {
    let inbound: RunningInbound;
    let sender: ReturnType<typeof createTransport>;
    const send = (raw: Buffer, to = replyTo()) => sender.sendMail({ envelope: { from: ALICE, to: [to] }, raw }) as Promise<{ response: string }>;
    async function refusal(promise: Promise<unknown>): Promise<SmtpFailure> {
      try {
        await promise;
      } catch (err) {
        return err as SmtpFailure;
      }
      return assert.fail('expected the SMTP listener to refuse');
    }

    before(async () => {
      inbound = await startEmailInbound({ directory, state, tokenKey: TOKEN_KEY, domain: DOMAIN, host: '127.0.0.1', port: 0, maxBytes: MAX_BYTES, reader, log });
      sender = createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true });
    });
    after(async () => {
      sender.close();
      await inbound.close();
    });

    for (const [name, html] of CRAFTED_HTML) {
      it(`should read an HTML-only reply of ${name} in one pass and count nothing`, async () => {
        const res = await send(crafted('text/html; charset=utf-8', html));
        assert.match(res.response, /^250 .*Message received/, 'accepted as mail, not as a vote');
        assert.deepEqual(directory.received, []);
        assert.deepEqual(await tally(), UNTOUCHED);
        assert.ok(logs.some((l) => l.msg === 'email reply unreadable'), 'read to the end and found no vote');
      });
    }

    it('should still count the vote written above a crafted HTML tail, once', async () => {
      const res = await send(crafted('text/html', `<div>👎 B</div>${'<head'.repeat(400_000)}`));
      assert.match(res.response, /^250 .*Vote received \(1\)/);
      assert.deepEqual(directory.received.map((r) => [r.vote.candidateId, r.vote.value, r.vote.rater]), [['c2', 'down', alice]]);
    });

    it(`should refuse a reply of more than ${MAX_DELIMITER_LINES} MIME parts with 554, forwarding nothing`, async () => {
      const parts = `--b${CRLF}Content-Type: text/plain${CRLF}${CRLF}+1 A${CRLF}`.repeat(MAX_DELIMITER_LINES + 1);
      const err = await refusal(send(crafted('multipart/mixed; boundary=b', `${parts}--b--`)));
      assert.equal(err.responseCode, 554, err.message);
      assert.match(err.message, /could not be read; nothing was counted/);
      assert.deepEqual(directory.received, []);
      assert.ok(logs.some((l) => l.msg === 'email reply refused: not a readable message' && /delimiter lines/.test(String(l.fields?.error))));
    });

    it('should refuse a reply nested 300 multiparts deep with 554, forwarding nothing', async () => {
      const nested = Array.from({ length: 300 }, (_, i) => `--b${i}${CRLF}Content-Type: multipart/mixed; boundary=b${i + 1}${CRLF}${CRLF}`).join('');
      const err = await refusal(send(crafted('multipart/mixed; boundary=b0', `${nested}+1 A`)));
      assert.equal(err.responseCode, 554, err.message);
      assert.deepEqual(directory.received, []);
      assert.deepEqual(await tally(), UNTOUCHED);
    });

    it('should refuse a reply with 300 KB of headers with 554, forwarding nothing', async () => {
      const err = await refusal(send(crafted('text/plain', '+1 A', `X-Filler: ${'a'.repeat(300 * 1024)}${CRLF}`)));
      assert.equal(err.responseCode, 554, err.message);
      assert.deepEqual(directory.received, []);
    });

    it('should read base64 garbage and a quoted-printable soft-break storm as no vote', async () => {
      for (const raw of [
        crafted('text/plain', '!*#%'.repeat(250_000), `Content-Transfer-Encoding: base64${CRLF}`),
        crafted('text/plain', `=${CRLF}`.repeat(300_000), `Content-Transfer-Encoding: quoted-printable${CRLF}`),
        crafted('text/plain', '='.repeat(1 << 20), `Content-Transfer-Encoding: quoted-printable${CRLF}`),
      ]) {
        assert.match((await send(raw)).response, /^250 .*Message received/);
      }
      assert.deepEqual(directory.received, []);
      assert.deepEqual(await tally(), UNTOUCHED);
    });

    it('should refuse forged and foreign reply addresses at RCPT with 550, forwarding nothing', async () => {
      const good = replyTo();
      const forged = [
        `${good.slice(0, 40)}${good[40] === '0' ? '1' : '0'}${good.slice(41)}`, // one character of the signature changed
        `${replyLocalPart(Buffer.from('another-deployments-token-key-0123'), LC, alice)}@${DOMAIN}`, // signed with another key
        good.replace(DOMAIN, 'in.elsewhere.test'),
        replyTo('lc-never-published'),
        `vote+${'0'.repeat(120)}@${DOMAIN}`,
      ];
      for (const to of forged) {
        const err = await refusal(send(crafted('text/plain', '+1 A'), to));
        assert.equal(err.responseCode, 550, `${to.slice(0, 60)}: ${err.message}`);
      }
      assert.deepEqual(directory.received, []);
      assert.deepEqual(await tally(), UNTOUCHED);
    });

    it('should count a reply by the rater its address names, whatever From says', async () => {
      const raw = Buffer.from(`From: bob@example.com${CRLF}Reply-To: bob@example.com${CRLF}To: ${replyTo()}${CRLF}Message-ID: <forged-from@example.com>${CRLF}${CRLF}+1 A${CRLF}`);
      await send(raw);
      assert.deepEqual(directory.received.map((r) => r.vote.rater), [alice]);
      assert.ok(!directory.received.some((r) => r.vote.rater === bob), 'a From header cannot vote for anyone');
    });
  });

  describe('reading off the event loop', () => {
    it('should answer a web request while crafted replies are being parsed', async () => {
      // Reads finished when the web answer arrived: on the event loop they would all be done before
      // the request could even be sent; in the reader's worker thread most are still running.
      const crafts = CRAFTED_HTML.flatMap(([, html]) => [html, html]);
      let readsDone = 0;
      const counting: MessageReader = { read: (raw) => reader.read(raw).finally(() => (readsDone += 1)), close: async () => undefined };
      const replies = createReplyHandler({ directory, state, tokenKey: TOKEN_KEY, domain: DOMAIN, reader: counting, log });
      const server: Server = createGatewayServer({
        directory, artifacts: new MemoryArtifacts(), raterKey: RATER_KEY, sessionKey: Buffer.from('session-key-for-security-0123456'), sessionTtlMs: 3_600_000, log: () => undefined,
      });
      const { url } = await listen(server, '127.0.0.1', 0);
      try {
        const parsing = crafts.map((html) => replies.handle(crafted('text/html', html), [replyTo()], ALICE));
        const res = await fetch(`${url}/healthz`);
        const doneWhenAnswered = readsDone;
        assert.equal(res.status, 200);
        assert.ok(doneWhenAnswered < crafts.length, `the web request was answered with ${crafts.length - doneWhenAnswered} of ${crafts.length} crafted replies still being read`);
        await Promise.all(parsing);
        assert.equal(readsDone, crafts.length);
        assert.deepEqual(directory.received, [], 'none of them was a vote');
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });
  });

  describe('vote and unsubscribe links', () => {
    let server: Server;
    let url: string;
    const expiresAt = Date.now() + 3_600_000;
    const token = (claims: Partial<Parameters<typeof signVoteLink>[1]> = {}, key = TOKEN_KEY) =>
      signVoteLink(key, { lifecycleId: LC, rater: alice, candidateId: 'c1', value: 'up', expiresAt, ...claims });
    const post = (t: string) => fetch(`${url}/email/v/${t}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });

    before(async () => {
      server = createGatewayServer({
        directory, artifacts: new MemoryArtifacts(), raterKey: RATER_KEY, sessionKey: Buffer.from('session-key-for-security-0123456'), sessionTtlMs: 3_600_000,
        channelRoutes: createEmailRoutes({ directory, tokenKey: TOKEN_KEY, state }), log: () => undefined,
      });
      ({ url } = await listen(server, '127.0.0.1', 0));
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('should refuse tampered, foreign and re-assembled vote-link tokens with 400, forwarding nothing', async () => {
      const good = token();
      const [body, signature] = [good.slice(0, good.lastIndexOf('.')), good.slice(good.lastIndexOf('.') + 1)];
      const other = token({ candidateId: 'c2', value: 'down' });
      const at = good.lastIndexOf('.') + 5;
      const cases = [
        `${good.slice(0, at)}${good[at] === 'A' ? 'B' : 'A'}${good.slice(at + 1)}`, // signature changed
        token({}, Buffer.from('another-deployments-token-key-0123')), // signed with another key
        `${other.slice(0, other.lastIndexOf('.'))}.${signature}`, // another token's claims under this signature
        `${body}`, // no signature
        'x'.repeat(1999),
        'not.a-token',
      ];
      for (const t of cases) {
        const res = await post(t);
        assert.equal(res.status, 400, t.slice(0, 40));
        assert.match(await res.text(), /Link invalid/);
      }
      assert.deepEqual(directory.received, []);
      assert.deepEqual(await tally(), UNTOUCHED);
    });

    it('should refuse an expired link with 410, and never vote on GET or HEAD', async () => {
      const expired = await post(token({ expiresAt: Date.now() - 1000 }));
      assert.equal(expired.status, 410);
      for (const method of ['GET', 'HEAD']) assert.equal((await fetch(`${url}/email/v/${token()}`, { method })).status, 200);
      assert.deepEqual(directory.received, []);
    });

    it('should refuse a forged unsubscribe token with 400 and record no opt-out', async () => {
      const forged = signUnsubscribe(Buffer.from('another-deployments-token-key-0123'), alice);
      const res = await fetch(`${url}/email/unsubscribe/${forged}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });
      assert.equal(res.status, 400);
      assert.equal(await state.isOptedOut(alice), false);
    });
  });

  describe('replies by IMAP (a real Dovecot)', () => {
    let dovecot: Dovecot;
    let poller: RunningImapPoller;

    before(async () => {
      dovecot = await Dovecot.start();
      poller = startImapPoller({
        replies: createReplyHandler({ directory, state, tokenKey: TOKEN_KEY, domain: DOMAIN, reader, log }),
        server: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: IMAP_USER, password: IMAP_PASSWORD },
        mailbox: 'INBOX',
        processedMailbox: 'Prefline-Processed',
        pollMs: 60_000,
        maxBytes: MAX_BYTES,
        backoff: { minMs: 100, maxMs: 1000 },
        log,
      });
      await waitUntil(() => poller.connected || undefined, 10_000, 'the poller to connect');
    });
    after(async () => {
      await poller?.close();
      await dovecot?.destroy();
    });
    afterEach(async () => dovecot.empty('INBOX', 'Prefline-Processed'));

    const inboxFlags = async () => (await dovecot.messages()).map((m) => m.flags);
    const processedCount = async () => (await dovecot.messages('Prefline-Processed')).length;

    it('should mark a reply of crafted structure processed without counting it, and go on with the next', async () => {
      const parts = `--b${CRLF}Content-Type: text/html${CRLF}${CRLF}${'<head'.repeat(100)}${CRLF}`.repeat(MAX_DELIMITER_LINES + 5);
      await dovecot.deliver(Buffer.concat([Buffer.from(`Return-Path: <${ALICE}>${CRLF}Delivered-To: ${replyTo()}${CRLF}`), crafted('multipart/alternative; boundary=b', `${parts}--b--`)]));
      await waitUntil(async () => (await processedCount()) === 1 || undefined, 20_000, 'the crafted reply to be marked processed');
      assert.deepEqual(await inboxFlags(), [], 'refused for good: moved out of the inbox, not retried');
      assert.equal(directory.received.length, 0);
      assert.ok(logs.some((l) => l.msg === 'email reply refused: not a readable message'));
      // The poller is not stuck: the next reply counts.
      await dovecot.deliver(await replyMail({ to: replyTo(), text: '👍 B', messageId: '<after-crafted@example.com>' }));
      await waitUntil(async () => (await processedCount()) === 2 || undefined, 20_000, 'the next reply to be processed');
      assert.deepEqual(directory.received.map((r) => [r.vote.candidateId, r.vote.value]), [['c2', 'up']]);
    });

    it('should leave alone a message whose recipient headers are a crafted megabyte, counting nothing', async () => {
      const raw = Buffer.from(`Return-Path: <${ALICE}>${CRLF}To: ${'a'.repeat(200_000)}${CRLF}Cc: ${'<'.repeat(200_000)}${CRLF}Subject: x${CRLF}${CRLF}+1 A${CRLF}`);
      await dovecot.deliver(raw);
      await waitUntil(() => logs.some((l) => /left alone/.test(l.msg)) || undefined, 20_000, 'the poller to look at the message');
      await poller.pass();
      assert.deepEqual(await inboxFlags(), [[]], 'not a reply to Prefline: not flagged, not moved');
      assert.equal(await processedCount(), 0);
      assert.deepEqual(directory.received, []);
    });
  });
});
