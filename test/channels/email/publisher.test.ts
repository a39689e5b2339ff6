import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChannelActivities } from '../../../activities/channel';
import type { PublishRequest } from '../../../channels/types';
import { EmailRejectedError } from '../../../channels/email/errors';
import { createEmailPublisher, type EmailPublisher, type EmailPublisherOptions } from '../../../channels/email/publisher';
import { createSmtpTransport, type MailTransport } from '../../../channels/email/smtp';
import { EmailState } from '../../../channels/email/state';
import { lifecycleHash, messageIdFor, verifyReplyAddress, verifyVoteLink } from '../../../channels/email/tokens';
import { ErrorCode, PreflineError } from '../../../core/errors';
import { pseudonymiseRater } from '../../../core/pseudonym';
import { ArtifactStore } from '../../../store/ArtifactStore';
import type { Candidate, ChannelSpec } from '../../../workflows/types';
import { RATER_KEY, TOKEN_KEY, emailCandidates, emailPlan } from '../../helpers/email';
import { discPng } from '../../helpers/fake-directory';
import { SmtpSink, type SunkMail } from '../../helpers/smtp-sink';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const rater = (address: string) => pseudonymiseRater(RATER_KEY, 'email', address);

function header(mail: SunkMail, name: string): string[] {
  return mail.mail.headerLines.filter((h) => h.key === name.toLowerCase()).map((h) => h.line.slice(h.line.indexOf(':') + 1).trim());
}

function voteLinks(mail: SunkMail): string[] {
  return [...new Set([...(mail.mail.text ?? '').matchAll(/http:\/\/gw\.test\/email\/v\/([A-Za-z0-9_.-]+)/g)].map((m) => m[1]!))];
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return assert.fail('expected a rejection');
}

describe('channels/email/publisher (to a real SMTP server)', function () {
  this.timeout(60_000);
  let dir: string;
  let sink: SmtpSink;
  let transport: MailTransport;
  let state: EmailState;
  let artifacts: ArtifactStore;
  let candidates: Candidate[];
  let seq = 0;
  const deadlineAt = new Date(Date.now() + 3_600_000).toISOString();

  function publisher(overrides: Partial<EmailPublisherOptions> = {}): EmailPublisher {
    return createEmailPublisher({
      transport,
      from: { name: 'Prefline', address: 'ratings@prefline.test' },
      publicUrl: 'http://gw.test',
      inboundDomain: 'in.prefline.test',
      raterKey: RATER_KEY,
      tokenKey: TOKEN_KEY,
      state,
      artifacts,
      lists: { reviewers: [ALICE, 'Dave@Example.com'] },
      closingNote: true,
      concurrency: 4,
      ...overrides,
    });
  }

  function request(recipients: string[] | { list: string }, prompt?: string): PublishRequest {
    const channel: ChannelSpec = Array.isArray(recipients) ? { kind: 'email', recipients } : { kind: 'email', recipients: [], list: recipients.list };
    return { lifecycleId: `lc-email-${process.pid}-${++seq}`, plan: emailPlan(channel, prompt), candidates, deadlineAt };
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-email-'));
    sink = await new SmtpSink().start();
    transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 2, rateLimit: 0 });
    state = await EmailState.open(join(dir, 'email'));
    artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    candidates = await emailCandidates(artifacts);
  });

  afterEach(async () => {
    transport.close();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should mail each rater the prompt, inline images, texts, signed links and a signed reply address', async () => {
    const req = request([ALICE, BOB]);
    assert.deepEqual(await publisher().publish(req), { channel: 'email' });
    assert.equal(sink.mails.length, 2);
    const mail = sink.to(ALICE)[0]!;
    assert.equal(mail.mail.subject, 'Rate 2 candidates: a red fox in the snow');
    assert.equal(mail.envelope.from, 'ratings@prefline.test');
    assert.deepEqual(mail.envelope.to, [ALICE]);
    assert.equal(mail.mail.messageId, messageIdFor('invite', req.lifecycleId, rater(ALICE), 'prefline.test'));
    // The image inline (multipart/related, cid:), the text candidate in the body.
    const image = mail.mail.attachments.find((a) => a.contentType === 'image/png')!;
    assert.ok(image.cid && (mail.mail.html as string).includes(`cid:${image.cid}`));
    assert.deepEqual(image.content, discPng([200, 40, 40]));
    assert.match(mail.mail.text!, /A fox curls up in fresh snow\./);
    assert.match(mail.mail.html as string, /A fox curls up in fresh snow\./);
    // 👍/👎/withdraw per candidate: six distinct links, each bound to this rater.
    const links = voteLinks(mail);
    assert.equal(links.length, 6);
    const claims = links.map((t) => verifyVoteLink(TOKEN_KEY, t, Date.now()));
    assert.ok(claims.every((c) => c.ok && c.claims.rater === rater(ALICE) && c.claims.lifecycleId === req.lifecycleId));
    assert.deepEqual(claims.map((c) => (c.ok ? `${c.claims.candidateId}:${c.claims.value}` : '')).sort(), ['c1:down', 'c1:retract', 'c1:up', 'c2:down', 'c2:retract', 'c2:up']);
    // Replies go to a signed address naming lifecycle and rater.
    const replyTo = mail.mail.replyTo!.value[0]!.address!;
    assert.deepEqual(verifyReplyAddress(TOKEN_KEY, replyTo, 'in.prefline.test')?.rater, rater(ALICE));
    assert.ok(replyTo.length - '@in.prefline.test'.length <= 64, 'the local part fits RFC 5321');
    // RFC 8058 one-click unsubscribe, and machine-generated mail (no autoresponder loops).
    assert.match(header(mail, 'List-Unsubscribe')[0]!, /^<http:\/\/gw\.test\/email\/unsubscribe\/[A-Za-z0-9_.-]+>/);
    assert.deepEqual(header(mail, 'List-Unsubscribe-Post'), ['List-Unsubscribe=One-Click']);
    assert.deepEqual(header(mail, 'Auto-Submitted'), ['auto-generated']);
    // Bob's links are his own.
    assert.notDeepEqual(voteLinks(sink.to(BOB)[0]!), links);
  });

  it('should never mail a rater twice for one lifecycle, when retried after success or concurrently', async () => {
    const req = request([ALICE, BOB, CAROL]);
    // A timed-out attempt still running while the retry starts, in the same worker.
    await Promise.all([publisher().publish(req), publisher().publish(req)]);
    const p = publisher();
    await Promise.all([p.publish(req), p.publish(req)]);
    await p.publish(req);
    assert.deepEqual(sink.mails.map((m) => m.envelope.to[0]).sort(), [ALICE, BOB, CAROL]);
  });

  it('should leave a mail another live process is sending to that process, and take over a dead one', async () => {
    const req = request([ALICE, BOB]);
    const hash = lifecycleHash(req.lifecycleId);
    const claim = (who: string) => join(state.dir, 'sent', hash, `invite.${rater(who)}.sending`);
    mkdirSync(join(state.dir, 'sent', hash), { recursive: true });
    writeFileSync(claim(ALICE), JSON.stringify({ host: 'another-worker-host', pid: 1, at: Date.now() }));
    writeFileSync(claim(BOB), JSON.stringify({ host: hostname(), pid: 999_999_999, at: Date.now() })); // this host, pid gone
    const err = await rejection(publisher().publish(req));
    assert.ok(err instanceof PreflineError && err.retryable, String(err));
    assert.deepEqual(sink.mails.map((m) => m.envelope.to[0]), [BOB]);
    // The other process finished (its record written, its claim released): nothing more to send.
    await state.recordSend(hash, 'invite', rater(ALICE), { status: 'sent', at: new Date().toISOString(), messageId: '<x@y>' });
    rmSync(claim(ALICE));
    await publisher().publish(req);
    assert.deepEqual(sink.mails.map((m) => m.envelope.to[0]), [BOB]);
  });

  it('should keep CR/LF in prompts and names from producing extra headers', async () => {
    const evil = 'a fox\r\nBcc: evil@attacker.test\r\nX-Injected: 1\nSubject: spoofed';
    const req = request([ALICE], evil);
    await publisher({ from: { name: 'Prefline\r\nBcc: evil2@attacker.test\r\nX-Injected: 2', address: 'ratings@prefline.test' } }).publish(req);
    assert.equal(sink.mails.length, 1);
    const mail = sink.mails[0]!;
    const keys = mail.mail.headerLines.map((h) => h.key);
    assert.ok(!keys.includes('bcc') && !keys.includes('x-injected'), keys.join(','));
    assert.equal(keys.filter((k) => k === 'subject').length, 1);
    assert.deepEqual(mail.envelope.to, [ALICE]);
    const head = mail.raw.toString('latin1').split(/\r\n\r\n/)[0]!;
    assert.ok(!/^(bcc|x-injected):/im.test(head), head);
    assert.equal(mail.mail.subject, 'Rate 2 candidates: a fox Bcc: evil@attacker.test X-Injected: 1 Subject: spoofed');
    assert.equal(mail.mail.from?.value[0]?.name, 'Prefline Bcc: evil2@attacker.test X-Injected: 2');
  });

  it('should fail retryably while SMTP is down, then mail everyone exactly once when it is back', async () => {
    const req = request([ALICE, BOB, CAROL]);
    const port = sink.port;
    await sink.stop();
    const down = await rejection(publisher().publish(req));
    assert.ok(down instanceof PreflineError && down.retryable && down.code === ErrorCode.ChannelUnavailable, String(down));
    // Through the activity: a retryable Temporal failure with the coded type.
    const activities = createChannelActivities({ email: publisher() });
    const failure = await rejection(new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') }).run(activities.publishLifecycle, req));
    assert.ok(failure instanceof ApplicationFailure && failure.type === 'prefline_channel_unavailable' && !failure.nonRetryable);

    await sink.start(port);
    sink.deferNext = 1; // one 4xx on the way back up: retryable, the others go through
    const deferred = await rejection(publisher().publish(req));
    assert.ok(deferred instanceof PreflineError && deferred.retryable, String(deferred));
    assert.equal(sink.mails.length, 2);
    await publisher().publish(req);
    assert.deepEqual(sink.mails.map((m) => m.envelope.to[0]).sort(), [ALICE, BOB, CAROL]);
    await publisher().publish(req);
    assert.equal(sink.mails.length, 3);
  });

  it('should record a 5xx refusal for that recipient and still mail the others', async () => {
    sink.refuse.add(BOB);
    const req = request([ALICE, BOB, CAROL]);
    await publisher().publish(req);
    assert.deepEqual(sink.mails.map((m) => m.envelope.to[0]).sort(), [ALICE, CAROL]);
    const record = await state.sendRecord(lifecycleHash(req.lifecycleId), 'invite', rater(BOB));
    assert.equal(record?.status, 'failed');
    assert.match(record?.response ?? '', /550 .*<address>/);
    assert.ok(!record?.response?.includes(BOB), 'no addresses in records');
    // A retry does not knock on the refused address again.
    sink.refuse.clear();
    await publisher().publish(req);
    assert.equal(sink.mails.length, 2);
    // When every recipient is refused, the lifecycle cannot run: not retryable.
    sink.refuse.add(CAROL);
    const err = await rejection(publisher().publish(request([CAROL])));
    assert.ok(err instanceof EmailRejectedError && !err.retryable, String(err));
    assert.ok(!String(err).includes(CAROL), String(err));
  });

  it('should mail a named rater list, and refuse an unknown one for good', async () => {
    await publisher().publish(request({ list: 'reviewers' }));
    assert.deepEqual(sink.mails.map((m) => m.envelope.to[0]).sort(), [ALICE, 'dave@example.com']);
    const err = await rejection(publisher().publish(request({ list: 'nobody' })));
    assert.ok(err instanceof PreflineError && !err.retryable && /rater list "@nobody"/.test(err.message), String(err));
  });

  it('should not mail raters who opted out', async () => {
    await state.optOut(rater(BOB));
    await publisher().publish(request([ALICE, BOB]));
    assert.deepEqual(sink.mails.map((m) => m.envelope.to[0]), [ALICE]);
  });

  it('should remind only invited raters who have not voted, once', async () => {
    sink.refuse.add(CAROL);
    const req = request([ALICE, BOB, CAROL, 'dan@example.com']);
    await publisher().publish(req);
    sink.mails.length = 0;
    const remind = { lifecycleId: req.lifecycleId, plan: req.plan, deadlineAt, ratersWhoVoted: [rater(ALICE)] };
    assert.deepEqual(await publisher().remind(remind), { reminded: 2 });
    assert.deepEqual(sink.mails.map((m) => m.envelope.to[0]).sort(), [BOB, 'dan@example.com']);
    const reminder = sink.to(BOB)[0]!;
    assert.equal(reminder.mail.subject, 'Reminder: rate: a red fox in the snow');
    assert.equal(reminder.mail.inReplyTo, messageIdFor('invite', req.lifecycleId, rater(BOB), 'prefline.test'));
    assert.equal(voteLinks(reminder).length, 4, '👍/👎 per candidate');
    assert.deepEqual(await publisher().remind(remind), { reminded: 2 });
    assert.equal(sink.mails.length, 2);
  });

  it('should mail the result when closing if configured, once, and nothing otherwise', async () => {
    const req = request([ALICE, BOB]);
    await publisher().publish(req);
    sink.mails.length = 0;
    const tally = [
      { candidateId: 'c1', label: 'A', up: 2, down: 0, score: 2, votes: 2 },
      { candidateId: 'c2', label: 'B', up: 0, down: 1, score: -1, votes: 1 },
    ];
    const close = { lifecycleId: req.lifecycleId, plan: req.plan, closeReason: 'quorum' as const, tally };
    await publisher({ closingNote: false }).close(close);
    assert.equal(sink.mails.length, 0);
    await publisher().close(close);
    await publisher().close(close);
    assert.equal(sink.mails.length, 2);
    assert.equal(sink.mails[0]!.mail.subject, 'Results: a red fox in the snow');
    assert.match(sink.mails[0]!.mail.text!, /Candidate A: 👍 2 · 👎 0 \(score \+2\)/);
  });
});
