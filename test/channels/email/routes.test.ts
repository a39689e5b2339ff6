import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmailPublisher } from '../../../channels/email/publisher';
import { createSmtpTransport, type MailTransport } from '../../../channels/email/smtp';
import { EmailState } from '../../../channels/email/state';
import { signUnsubscribe, signVoteLink, type VoteLinkClaims } from '../../../channels/email/tokens';
import { createEmailRoutes } from '../../../channels/email/routes';
import { SECURITY_HEADERS } from '../../../core/http';
import { createGatewayServer, listen } from '../../../gateway/http-server';
import { pseudonymiseRater } from '../../../core/pseudonym';
import { ArtifactStore } from '../../../store/ArtifactStore';
import { FakeDirectory, MemoryArtifacts, discPng, votingLifecycle } from '../../helpers/fake-directory';
import { SmtpSink } from '../../helpers/smtp-sink';
import { RATER_KEY, TOKEN_KEY, emailCandidates, emailPlan } from '../../helpers/email';

const LC = 'lc-email-links';
const ALICE = pseudonymiseRater(RATER_KEY, 'email', 'alice@example.com');
const BOB = pseudonymiseRater(RATER_KEY, 'email', 'bob@example.com');

describe('channels/email/routes (vote and unsubscribe links over HTTP)', function () {
  this.timeout(30_000);
  let dir: string;
  let state: EmailState;
  let directory: FakeDirectory;
  let server: Server;
  let url: string;
  let clock = Date.now();
  const expiresAt = Date.now() + 3_600_000;

  const link = (claims: Partial<VoteLinkClaims> = {}, key = TOKEN_KEY) =>
    `${url}/email/v/${signVoteLink(key, { lifecycleId: LC, rater: ALICE, candidateId: 'c1', value: 'up', expiresAt, ...claims })}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-email-routes-'));
    state = await EmailState.open(join(dir, 'email'));
    directory = new FakeDirectory();
    const artifacts = new MemoryArtifacts();
    const image = artifacts.put(discPng([10, 120, 200]), 'image/png');
    directory.add(votingLifecycle(LC, 'a red fox', [{ kind: 'image', artifact: image }, { kind: 'text', text: 'A fox in <b>snow</b>' }], { channel: 'email:alice@example.com' }));
    server = createGatewayServer({
      directory,
      artifacts,
      raterKey: RATER_KEY,
      sessionKey: Buffer.from('session-key-for-email-tests-0123'),
      sessionTtlMs: 3_600_000,
      channelRoutes: createEmailRoutes({ directory, tokenKey: TOKEN_KEY, state, now: () => clock }),
      log: () => undefined,
    });
    ({ url } = await listen(server, '127.0.0.1', 0));
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    clock = Date.now();
    directory.received.length = 0;
  });

  it('should show a confirmation page on GET and HEAD, with the gateway security headers, and never vote', async () => {
    const get = await fetch(link());
    assert.equal(get.status, 200);
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(get.headers.get(name), value, name);
    assert.equal(get.headers.get('cache-control'), 'no-store');
    const html = await get.text();
    assert.match(html, /<form method="post"><button type="submit">Record 👍 thumbs up for candidate A<\/button><\/form>/);
    assert.match(html, /<img src="\/artifacts\/[0-9a-f]{64}"/);
    assert.ok(!/<script|\son\w+=|style="/i.test(html), 'no inline script or style (CSP)');
    const head = await fetch(link({ value: 'down' }), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
    // Scanners that prefetch, repeatedly.
    for (let i = 0; i < 3; i++) await (await fetch(link({ candidateId: 'c2', value: 'retract' }))).text();
    assert.equal(directory.received.length, 0, 'GET and HEAD cast no vote');
    const text = await (await fetch(link({ candidateId: 'c2' }))).text();
    assert.match(text, /<pre>A fox in &lt;b&gt;snow&lt;\/b&gt;<\/pre>/);
    assert.equal((await fetch(`${url}/email/page.css`)).headers.get('content-type'), 'text/css; charset=utf-8');
  });

  it('should record the vote on POST, and count a reused link once ("already recorded")', async () => {
    const first = await fetch(link({ candidateId: 'c2', value: 'down' }), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(first.status, 200);
    assert.match(await first.text(), /Vote recorded.*Your 👎 thumbs down for candidate B is recorded/s);
    assert.equal(directory.received.length, 1);
    const { vote } = directory.received[0]!;
    assert.equal(vote.rater, ALICE);
    assert.equal(vote.channel, 'email');
    assert.match(vote.idempotencyKey, /^email:link:[0-9a-f]{40}$/);
    const again = await fetch(link({ candidateId: 'c2', value: 'down' }), { method: 'POST' });
    assert.match(await again.text(), /Already recorded/);
    assert.equal(directory.received[1]!.vote.idempotencyKey, vote.idempotencyKey);
    const status = await directory.status(LC);
    assert.equal(status!.candidates[1]!.tally.down, 1, 'counted once');
    // Another link of the same rater changes the vote.
    assert.match(await (await fetch(link({ candidateId: 'c2', value: 'up' }), { method: 'POST' })).text(), /Vote changed/);
  });

  it('should refuse tampered, foreign-key, cross-rater and cross-purpose tokens as "link invalid", without voting', async () => {
    const good = link().split('/email/v/')[1]!;
    const [body, sig] = good.split('.') as [string, string];
    const fields = JSON.parse(Buffer.from(body, 'base64url').toString()) as unknown[];
    const swapped = Buffer.from(JSON.stringify([fields[0], BOB, ...fields.slice(2)])).toString('base64url');
    const flipped = `${body.slice(0, -2)}${body.at(-2) === 'A' ? 'B' : 'A'}${body.at(-1)}`;
    const bad = [
      `${url}/email/v/${swapped}.${sig}`, // Alice's signature on Bob's identity
      `${url}/email/v/${flipped}.${sig}`,
      `${url}/email/v/${body}.${sig.slice(0, -1)}`,
      link({}, Buffer.from('some-other-key-entirely-0123456789')),
      `${url}/email/v/${signUnsubscribe(TOKEN_KEY, ALICE)}`, // an unsubscribe token is no vote
      `${url}/email/v/not-a-token`,
      `${url}/email/v/${link({ candidateId: 'c9' }).split('/email/v/')[1]}`, // well signed, no such candidate
    ];
    for (const target of bad) {
      for (const method of ['GET', 'POST']) {
        const res = await fetch(target, { method });
        assert.equal(res.status, 400, `${method} ${target}`);
        const html = await res.text();
        assert.match(html, /Link invalid/);
        assert.ok(!/signature|expired|rater/i.test(html), 'no detail on which check failed');
      }
    }
    assert.equal(directory.received.filter((r) => r.vote.candidateId !== 'c9').length, 0);
  });

  it('should answer "link expired" after the deadline and "voting closed" once closed', async () => {
    clock = expiresAt + 1;
    for (const method of ['GET', 'HEAD', 'POST']) assert.equal((await fetch(link(), { method })).status, 410);
    assert.match(await (await fetch(link(), { method: 'POST' })).text(), /Link expired/);
    clock = Date.now();
    const closing = new FakeDirectory();
    closing.add(votingLifecycle('lc-closed', 'late', [{ kind: 'text', text: 'x' }]));
    closing.close('lc-closed');
    const closedServer = createGatewayServer({
      directory: closing,
      artifacts: new MemoryArtifacts(),
      raterKey: RATER_KEY,
      sessionKey: Buffer.from('session-key-for-email-tests-0123'),
      sessionTtlMs: 3_600_000,
      channelRoutes: createEmailRoutes({ directory: closing, tokenKey: TOKEN_KEY, state }),
      log: () => undefined,
    });
    const { url: closedUrl } = await listen(closedServer, '127.0.0.1', 0);
    try {
      const target = `${closedUrl}/email/v/${signVoteLink(TOKEN_KEY, { lifecycleId: 'lc-closed', rater: ALICE, candidateId: 'c1', value: 'up', expiresAt })}`;
      const get = await fetch(target);
      assert.equal(get.status, 409);
      assert.match(await get.text(), /Voting closed/);
      const post = await fetch(target, { method: 'POST' });
      assert.equal(post.status, 409);
      assert.match(await post.text(), /Voting closed/);
    } finally {
      await new Promise<void>((resolve) => closedServer.close(() => resolve()));
    }
  });

  describe('List-Unsubscribe', () => {
    let sink: SmtpSink;
    let transport: MailTransport;

    before(async () => {
      sink = await new SmtpSink().start();
      transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 1, rateLimit: 0 });
    });
    after(async () => {
      transport.close();
      await sink.stop();
    });

    it('should honour a one-click unsubscribe (RFC 8058): GET asks, POST opts out, and no more mail goes out', async () => {
      const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
      const publisher = createEmailPublisher({
        transport, from: { address: 'ratings@prefline.test' }, publicUrl: url, raterKey: RATER_KEY, tokenKey: TOKEN_KEY, state, artifacts,
      });
      const candidates = await emailCandidates(artifacts);
      const plan = emailPlan({ kind: 'email', recipients: ['alice@example.com', 'bob@example.com'] });
      const deadlineAt = new Date(expiresAt).toISOString();
      await publisher.publish({ lifecycleId: 'lc-unsub-1', plan, candidates, deadlineAt });
      const bobsMail = sink.to('bob@example.com')[0]!;
      const header = bobsMail.mail.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
      const target = /<(http[^>]+)>/.exec(header)![1]!;

      const get = await fetch(target);
      assert.match(await get.text(), /<form method="post"><button type="submit">Stop these emails<\/button>/);
      assert.equal(await state.isOptedOut(BOB), false, 'GET does not unsubscribe');
      await fetch(target, { method: 'HEAD' });
      assert.equal(await state.isOptedOut(BOB), false, 'HEAD does not unsubscribe');
      // What a mail provider sends for one-click.
      const post = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
      assert.equal(post.status, 200);
      assert.equal(await state.isOptedOut(BOB), true);
      assert.equal((await fetch(target, { method: 'POST', body: 'List-Unsubscribe=One-Click' })).status, 200, 'idempotent');

      sink.mails.length = 0;
      await publisher.publish({ lifecycleId: 'lc-unsub-2', plan, candidates, deadlineAt });
      await publisher.remind({ lifecycleId: 'lc-unsub-1', plan, deadlineAt, ratersWhoVoted: [] });
      assert.deepEqual(sink.mails.map((m) => m.envelope.to[0]), ['alice@example.com', 'alice@example.com']);
      assert.equal((await fetch(`${url}/email/unsubscribe/${signVoteLink(TOKEN_KEY, { lifecycleId: LC, rater: BOB, candidateId: 'c1', value: 'up', expiresAt })}`, { method: 'POST' })).status, 400, 'a vote token unsubscribes no one');
    });
  });
});
