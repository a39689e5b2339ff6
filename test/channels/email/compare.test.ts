/**
 * Compare lifecycles by email: the publisher mails each rater both candidates in that rater's order
 * (presentationOrder per rater) with one signed answer link per answer, to a real SMTP server; the links
 * open a confirmation page (GET never answers) and POST records a judgement with the pair as that rater
 * was shown it, through the gateway's routes and a directory applying the judgement rules. No model
 * names in any mail while voting; no reply address on compare mails.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmailPublisher, type EmailPublisher } from '../../../channels/email/publisher';
import { createEmailRoutes } from '../../../channels/email/routes';
import { createSmtpTransport, type MailTransport } from '../../../channels/email/smtp';
import { EmailState } from '../../../channels/email/state';
import { signJudgementLink, verifyJudgementLink } from '../../../channels/email/tokens';
import { presentationOrder } from '../../../core/presentation';
import { pseudonymiseRater } from '../../../core/pseudonym';
import { createGatewayServer, listen } from '../../../gateway/http-server';
import { ArtifactStore } from '../../../store/ArtifactStore';
import type { Candidate, LifecyclePlan } from '../../../workflows/types';
import { RATER_KEY, TOKEN_KEY, emailCandidates, emailPlan } from '../../helpers/email';
import { FakeDirectory, MemoryArtifacts, votingLifecycle } from '../../helpers/fake-directory';
import { SmtpSink, type SunkMail } from '../../helpers/smtp-sink';

const RATERS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.com', 'frank@example.com'];
const rater = (address: string) => pseudonymiseRater(RATER_KEY, 'email', address);
const MODELS = /demo:shapes|demo:text|replicate|acme/;

function comparePlan(extra: Partial<LifecyclePlan> = {}): LifecyclePlan {
  return {
    ...emailPlan({ kind: 'email', recipients: RATERS }),
    models: ['replicate:acme/painter', 'replicate:acme/writer'], candidatesPerModel: 1,
    task: 'compare', question: 'Which fox is cosier?', quorum: { kind: 'responses', responses: 10 }, ...extra,
  };
}

/** The answer links of a mail, by their label in the text part. */
function answerLinks(mail: SunkMail): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of (mail.mail.text ?? '').matchAll(/^ {2}(A is better|B is better|Tie|Both bad|Withdraw my answer): (http:\/\/\S+)$/gm)) out[m[1]!] = m[2]!;
  return out;
}

/** The lifecycle a mail's answer links are bound to. */
function lifecycleOf(mail: SunkMail): string | undefined {
  const tie = answerLinks(mail)['Tie'];
  const check = tie ? verifyJudgementLink(TOKEN_KEY, tie.split('/email/j/')[1]!, Date.now()) : undefined;
  return check?.ok ? check.claims.lifecycleId : undefined;
}

describe('channels/email: compare lifecycles (mails to a real SMTP server, links through the gateway)', function () {
  this.timeout(60_000);
  let dir: string;
  let sink: SmtpSink;
  let transport: MailTransport;
  let state: EmailState;
  let artifacts: ArtifactStore;
  let candidates: Candidate[];
  let directory: FakeDirectory;
  let server: Server;
  let gateway: string;
  let seq = 0;
  const deadlineAt = new Date(Date.now() + 3_600_000).toISOString();

  const publisher = (): EmailPublisher => createEmailPublisher({
    transport, from: { name: 'Prefline', address: 'ratings@prefline.test' }, publicUrl: gateway, inboundDomain: 'in.prefline.test',
    raterKey: RATER_KEY, tokenKey: TOKEN_KEY, state, artifacts, closingNote: true, concurrency: 4,
  });

  /** Publishes a compare lifecycle by email and registers it, voting, with the directory. */
  async function publish(extra: Partial<LifecyclePlan> = {}, lifecycleId = `lc-email-compare-${process.pid}-${++seq}`): Promise<string> {
    const plan = comparePlan(extra);
    const withModels = candidates.map((c, i) => ({ ...c, model: plan.models[i]! }));
    await publisher().publish({ lifecycleId, plan, candidates: withModels, deadlineAt });
    directory.add(votingLifecycle(lifecycleId, plan.prompt, [{ kind: 'image', artifact: candidates[0]!.artifact }, { kind: 'text', text: candidates[1]!.text! }], {
      channel: 'email', task: 'compare', question: plan.question!, models: plan.models, quorum: { kind: 'responses', responses: 10 }, ...(extra.allowBothBad === false ? { allowBothBad: false } : {}),
    }));
    return lifecycleId;
  }

  const mailOf = (address: string, lifecycleId: string) => sink.to(address).find((m) => lifecycleOf(m) === lifecycleId)!;
  const post = (link: string) => fetch(link, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-email-compare-'));
    sink = await new SmtpSink().start();
    transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 2, rateLimit: 0 });
    state = await EmailState.open(join(dir, 'email'));
    artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    candidates = await emailCandidates(artifacts);
    directory = new FakeDirectory();
    server = createGatewayServer({
      directory, artifacts: new MemoryArtifacts(), raterKey: RATER_KEY, sessionKey: Buffer.from('session-key-for-email-compare-01'), sessionTtlMs: 3_600_000,
      channelRoutes: createEmailRoutes({ directory, tokenKey: TOKEN_KEY, state }), log: () => undefined,
    });
    ({ url: gateway } = await listen(server, '127.0.0.1', 0));
  });

  after(async () => {
    transport.close();
    await sink.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('mails each rater A and B in their own order with one signed link per answer, no model names and no reply address', async () => {
    // An id under which these raters' orders are known to differ (a random id gives all six alike about
    // once in 32), so a publisher ordering per message rather than per rater cannot pass by chance.
    let probe = 0;
    const mixed = (id: string) => new Set(RATERS.map((a) => presentationOrder(id, rater(a), ['c1', 'c2'] as const)[0])).size === 2;
    while (!mixed(`lc-email-compare-order-${probe}`)) probe += 1;
    const lifecycleId = await publish({}, `lc-email-compare-order-${probe}`);
    let swapped = 0;
    for (const address of RATERS) {
      const mail = mailOf(address, lifecycleId);
      assert.ok(mail, address);
      assert.equal(mail.mail.subject, 'Which is better: a red fox in the snow');
      const text = mail.mail.text!;
      assert.match(text, /Which fox is cosier\?/);
      const [left, right] = presentationOrder(lifecycleId, rater(address), ['c1', 'c2'] as const);
      if (left === 'c2') swapped += 1;
      // The text candidate (c2) is A when this rater sees it first, else B.
      assert.match(text, left === 'c2' ? /^A \(placeholder for a model\)\n {2}A fox curls up/m : /^B \(placeholder for a model\)\n {2}A fox curls up/m);
      const links = answerLinks(mail);
      assert.deepEqual(Object.keys(links), ['A is better', 'B is better', 'Tie', 'Both bad', 'Withdraw my answer']);
      const claims = Object.values(links).map((l) => verifyJudgementLink(TOKEN_KEY, l.split('/email/j/')[1]!, Date.now()));
      assert.deepEqual(claims.map((c) => (c.ok ? [c.claims.lifecycleId, c.claims.rater, c.claims.left, c.claims.right, c.claims.choice] : c)), ['left', 'right', 'tie', 'both_bad', 'retract'].map((choice) => [lifecycleId, rater(address), left, right, choice]));
      for (const part of [text, String(mail.mail.html), mail.mail.subject ?? '', ...mail.mail.attachments.map((a) => a.filename ?? '')]) assert.doesNotMatch(part, MODELS);
      assert.equal(mail.mail.replyTo, undefined, 'a reply "A" would read as a thumbs vote: compare mails take links only');
    }
    assert.ok(swapped > 0 && swapped < RATERS.length, `the order differs between raters (${swapped} of ${RATERS.length} swapped)`);
  });

  it('offers no "Both bad" link where the lifecycle does not allow it', async () => {
    await publish({ allowBothBad: false });
    assert.deepEqual(Object.keys(answerLinks(sink.mails.at(-1)!)), ['A is better', 'B is better', 'Tie', 'Withdraw my answer']);
  });

  it('a link shows a confirmation page on GET (never answers); POST records the judgement in the order the rater saw, once; change and withdraw', async () => {
    const lifecycleId = await publish();
    const address = RATERS[0]!;
    const mail = mailOf(address, lifecycleId);
    const links = answerLinks(mail);
    const [left, right] = presentationOrder(lifecycleId, rater(address), ['c1', 'c2'] as const);
    const before = directory.judged.length;
    for (let i = 0; i < 3; i++) {
      const page = await fetch(links['A is better']!);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /<button type="submit">Record: A is better<\/button>/);
      assert.match(html, /Which fox is cosier\?/);
      assert.doesNotMatch(html, MODELS);
      assert.ok(html.indexOf('<h2>A</h2>') < html.indexOf('<h2>B</h2>'));
    }
    assert.equal((await fetch(links['Tie']!, { method: 'HEAD' })).status, 200);
    assert.equal(directory.judged.length, before, 'GET and HEAD record nothing (mail scanners prefetch)');

    const recorded = await post(links['A is better']!);
    assert.equal(recorded.status, 200);
    assert.match(await recorded.text(), /Your answer \(A is better\) is recorded/);
    const j = directory.judged.at(-1)!;
    assert.deepEqual([j.lifecycleId, j.judgement.rater, j.judgement.channel, j.judgement.left, j.judgement.right, j.judgement.choice], [lifecycleId, rater(address), 'email', left, right, 'left']);
    assert.match(await (await post(links['A is better']!)).text(), /already used; your answer was recorded then and counts once/);
    assert.match(await (await post(links['Tie']!)).text(), /Your answer is now: a tie/);
    assert.match(await (await post(links['Withdraw my answer']!)).text(), /withdrawn/);
    const status = await directory.status(lifecycleId);
    assert.deepEqual(status?.judgements, { byCandidate: { c1: 0, c2: 0 }, tie: 0, bothBad: 0, standing: 0 });
    assert.deepEqual(directory.judged.slice(before).map((x) => x.judgement.choice), ['left', 'left', 'tie', 'retract']);
  });

  it('refuses both bad where not offered and any link once voting closed, with a clear page and nothing counted', async () => {
    const noBothBad = await publish({ allowBothBad: false });
    const mail = mailOf(RATERS[1]!, noBothBad);
    const [left, right] = presentationOrder(noBothBad, rater(mail.envelope.to[0]!), ['c1', 'c2'] as const);
    // A link the mail did not offer, as a forger with the key could sign it: the lifecycle still refuses it.
    const forged = `${gateway}/email/j/${signJudgementLink(TOKEN_KEY, { lifecycleId: noBothBad, rater: rater(mail.envelope.to[0]!), left, right, choice: 'both_bad', expiresAt: Date.now() + 60_000 })}`;
    const refused = await post(forged);
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /"Both bad" is not an answer on this comparison; nothing was counted/);
    assert.equal((await directory.status(noBothBad))?.judgements?.standing, 0);

    directory.close(noBothBad);
    const tie = answerLinks(mail)['Tie']!;
    assert.equal((await fetch(tie)).status, 409);
    const closed = await post(tie);
    assert.equal(closed.status, 409);
    assert.match(await closed.text(), /Voting on this prompt has closed/);
  });
});
