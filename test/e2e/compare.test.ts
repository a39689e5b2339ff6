/**
 * Compare lifecycles end to end on the real dev server, through every channel: the real workflow
 * (judgement rules, the responses quorum, the ledger commit), the real gateway routes, and the channels'
 * real publishers pointed at the Slack stand-in and an SMTP sink.
 *
 * - web: a rater in Chromium clicks "Left is better", changes to a tie, withdraws, then answers right;
 *   another answers over HTTP; a web judgement on the email lifecycle is refused (wrong_channel);
 * - Slack: one message with both candidates, answered with its buttons (A better, both bad, then tie);
 * - email: raters answer with their signed links (GET first, as a mail scanner would).
 * Each lifecycle closes on its responses quorum; the ledger's judgement rows carry left and right as
 * each rater was shown them (presentationOrder per rater; per message on Slack), so the order is
 * recorded and reproducible, and models_hidden; no rater-facing output named a model while voting.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createChannelActivities } from '../../activities/channel';
import type { ChannelActivities } from '../../activities/types';
import { createEmailPublisher } from '../../channels/email/publisher';
import { createEmailRoutes } from '../../channels/email/routes';
import { createSmtpTransport, type MailTransport } from '../../channels/email/smtp';
import { EmailState } from '../../channels/email/state';
import { createSlackWebClient } from '../../channels/slack/client';
import { SlackInbound } from '../../channels/slack/inbound';
import { ACTION, SAFE_MESSAGE_REF } from '../../channels/slack/messages';
import { createSlackPublisher } from '../../channels/slack/publisher';
import { createSlackRoutes } from '../../channels/slack/routes';
import { createWebPublisher } from '../../channels/web/publisher';
import { presentationOrder } from '../../core/presentation';
import { pseudonymiseRater } from '../../core/pseudonym';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { TemporalPostDirectory } from '../../core/temporal-posts';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { artifactSourceFor } from '../../gateway/main';
import { WORKFLOW_TYPE, statusQuery } from '../../workflows/messages';
import { postRefsKey } from '../../workflows/search-attributes';
import type { LifecycleSummary } from '../../workflows/types';
import { launchChromium } from '../helpers/browser';
import { SmtpSink, type SunkMail } from '../helpers/smtp-sink';
import { waitUntil } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { SlackStandIn } from '../standins/slack-server';

const RATER_KEY = Buffer.from('rater-key-for-compare-e2e-0123456789');
const TOKEN_KEY = Buffer.from('token-key-for-compare-e2e-0123456789');
const MODELS = /demo:shapes|demo:text|shapes/;
const [ALICE, BOB] = ['alice@example.com', 'bob@example.com'];
const JSON_HEADERS = { 'content-type': 'application/json', 'x-prefline-request': '1' };

describe('compare lifecycles end to end on the dev server: web (Chromium), Slack buttons, email links', function () {
  this.timeout(240_000);
  let slack: SlackStandIn;
  let sink: SmtpSink;
  let transport: MailTransport;
  let workers: LifecycleWorkers;
  let server: Server;
  let inbound: SlackInbound;
  let browser: Browser | undefined;
  let url = '';

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  after(async () => {
    await browser?.close();
    inbound?.close();
    await inbound?.idle();
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    transport?.close();
    await sink?.stop();
    await slack?.close();
    workers?.close();
  });

  it('takes answers on every channel to committed judgement rows, each with the order its rater saw', async () => {
    const { client } = await sharedTemporal();
    slack = await SlackStandIn.start();
    sink = await new SmtpSink().start();
    transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 2, rateLimit: 0 });
    const ref: { workers?: LifecycleWorkers; state?: EmailState } = {};
    // The gateway's URL and the workers' store are known only once both exist: the publishers are built lazily.
    const channels = async () => {
      ref.state ??= await EmailState.open(join(ref.workers!.dir, 'email'));
      return createChannelActivities({
        web: createWebPublisher(url),
        slack: createSlackPublisher({ token: slack.botToken, apiUrl: slack.apiUrl, readArtifact: async (sha) => (await ref.workers!.artifacts.read(sha)).bytes, paceMs: 0 }),
        email: createEmailPublisher({
          transport, from: { name: 'Prefline', address: 'ratings@prefline.test' }, publicUrl: url, raterKey: RATER_KEY, tokenKey: TOKEN_KEY, state: ref.state,
          artifacts: { read: (sha) => ref.workers!.artifacts.read(sha) }, closingNote: true,
        }),
      });
    };
    const lazy: ChannelActivities = {
      publishLifecycle: async (r) => (await channels()).publishLifecycle(r),
      updatePost: async (r) => (await channels()).updatePost(r),
      remindRaters: async (r) => (await channels()).remindRaters(r),
      closePost: async (r) => (await channels()).closePost(r),
    };
    workers = await createLifecycleWorkers('compare-e2e', { channel: lazy });
    ref.workers = workers;
    const directory = new TemporalLifecycleDirectory(client);
    inbound = new SlackInbound({
      posts: new TemporalPostDirectory(client, directory, { channel: 'slack', refPattern: SAFE_MESSAGE_REF, searchAttribute: postRefsKey.name }),
      raterKey: RATER_KEY,
      web: createSlackWebClient({ token: slack.botToken, apiUrl: slack.apiUrl, retries: 0 }),
      lookupRetryMs: [200, 500, 1000, 2000],
    });
    server = createGatewayServer({
      directory, artifacts: artifactSourceFor(workers.artifacts), raterKey: RATER_KEY, sessionKey: Buffer.from('session-key-for-compare-e2e-0123'),
      sessionTtlMs: 3_600_000, openPanel: true,
      channelRoutes: [
        ...createSlackRoutes({ signingSecret: slack.signingSecret, inbound }),
        ...createEmailRoutes({ directory, tokenKey: TOKEN_KEY, state: (ref.state = await EmailState.open(join(workers.dir, 'email'))) }),
      ],
      log: () => undefined,
    });
    ({ url } = await listen(server, '127.0.0.1', 0));

    await workers.run(async () => {
      const start = (channel: string, extra: Record<string, unknown> = {}) =>
        client.workflow.start(WORKFLOW_TYPE, {
          taskQueue: workers.taskQueue,
          workflowId: `lc-compare-e2e-${channel.split(':')[0]}-${randomUUID()}`,
          args: [{ prompt: 'a red fox in the snow', task: 'compare', models: ['demo:shapes', 'demo:text'], question: 'Which one shows the fox better?', responses: 2, channel, ...extra }],
        });
      const [web, viaSlack, viaEmail] = await Promise.all([start('web'), start('slack:#ox-feedback'), start(`email:${ALICE},${BOB}`, { allowBothBad: false })]);
      const judgementRows = async (lifecycleId: string) =>
        (await workers.ledger.query(`SELECT rater, channel, left_candidate, right_candidate, choice, winner_candidate, models_hidden, standing FROM judgements WHERE lifecycle_id = $1 ORDER BY seq`, [lifecycleId])).rows;
      for (const h of [web, viaSlack, viaEmail]) await waitUntil(async () => ((await h.query(statusQuery)).phase === 'voting' ? true : undefined), 90_000, `${h.workflowId} voting`);

      // ---- web ------------------------------------------------------------------------------
      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(url);
      await page.getByLabel('Your name').fill('Alice');
      await page.getByRole('button', { name: 'Start rating' }).click();
      const card = page.locator(`[data-lifecycle-id="${web.workflowId}"]`);
      await card.waitFor({ timeout: 30_000 });
      const alice = await page.evaluate(() => (JSON.parse(localStorage.getItem('prefline.session')!) as { rater: string }).rater);
      const [aliceLeft, aliceRight] = presentationOrder(web.workflowId, alice, ['c1', 'c2'] as const);
      assert.deepEqual(await card.locator('figure.side').evaluateAll((els) => els.map((e) => e.getAttribute('data-candidate-id'))), [aliceLeft, aliceRight]);
      assert.match(await card.innerText(), /Which one shows the fox better\?/);
      assert.doesNotMatch(await card.innerText(), MODELS, 'no model names on the page while voting');
      const outcome = (text: RegExp) => card.locator('[data-role="outcome"]', { hasText: text }).waitFor({ timeout: 30_000 });
      await card.getByRole('button', { name: 'Left is better', exact: true }).click();
      await outcome(/recorded: left is better/);
      await card.getByRole('button', { name: 'Tie', exact: true }).click();
      await outcome(/changed: tie/);
      await card.getByRole('button', { name: 'Withdraw my answer' }).click();
      await outcome(/retracted/);
      await card.getByRole('button', { name: 'Right is better', exact: true }).click();
      await outcome(/recorded: right is better/);

      // Bob over HTTP, naming his own order; his answer about the email lifecycle is refused by the lifecycle.
      const session = (await (await fetch(`${url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name: 'Bob' }) })).json()) as { token: string; rater: string };
      const bobOrder = presentationOrder(web.workflowId, session.rater, ['c1', 'c2'] as const);
      const judge = (lifecycleId: string, body: unknown) =>
        fetch(`${url}/api/lifecycles/${lifecycleId}/judgements`, { method: 'POST', headers: { ...JSON_HEADERS, authorization: `Bearer ${session.token}` }, body: JSON.stringify(body) });
      const [mailLeft, mailRight] = presentationOrder(viaEmail.workflowId, session.rater, ['c1', 'c2'] as const);
      const cross = await judge(viaEmail.workflowId, { left: mailLeft, right: mailRight, choice: 'left', idempotencyKey: 'bob-cross-0001' });
      assert.equal(cross.status, 403, await cross.clone().text());
      assert.equal(((await cross.json()) as { code: string }).code, 'wrong_channel');
      assert.equal((await viaEmail.query(statusQuery)).judgements?.standing, 0, 'nothing changed on the email lifecycle');
      const bob = await judge(web.workflowId, { left: bobOrder[0], right: bobOrder[1], choice: 'left', idempotencyKey: 'bob-left-00001' });
      assert.equal(bob.status, 200, await bob.clone().text());

      const webSummary = (await web.result()) as LifecycleSummary;
      assert.equal(webSummary.closeReason, 'quorum');
      assert.deepEqual(webSummary.judgements, { byCandidate: { [aliceRight]: 1 + (bobOrder[0] === aliceRight ? 1 : 0), [aliceLeft]: bobOrder[0] === aliceLeft ? 1 : 0 }, tie: 0, bothBad: 0, standing: 2 });
      const webRows = await judgementRows(web.workflowId);
      assert.deepEqual(webRows.map((r) => [r.rater, r.channel, r.left_candidate, r.right_candidate, r.choice, r.winner_candidate, r.models_hidden, r.standing]), [
        [alice, 'web', aliceLeft, aliceRight, 'left', aliceLeft, true, false],
        [alice, 'web', aliceLeft, aliceRight, 'tie', null, true, false],
        [alice, 'web', aliceLeft, aliceRight, 'retract', null, true, false],
        [alice, 'web', aliceLeft, aliceRight, 'right', aliceRight, true, true],
        [session.rater, 'web', bobOrder[0], bobOrder[1], 'left', bobOrder[0], true, true],
      ]);

      // ---- Slack ----------------------------------------------------------------------------
      const channel = slack.channelId('#ox-feedback');
      const [message, ...more] = slack.messages(channel);
      assert.ok(message && more.length === 0, 'one message for the compare lifecycle');
      const [a, b] = presentationOrder(viaSlack.workflowId, undefined, ['c1', 'c2'] as const);
      assert.equal(message.metadata?.event_payload.pair, `${a},${b}`);
      for (const m of slack.messages(channel, { includeReplies: true })) assert.doesNotMatch(`${JSON.stringify(m.blocks ?? [])} ${m.text ?? ''}`, MODELS);
      const click = async (user: string, actionId: string) => {
        const payload = slack.blockActionsPayload({ user, channel, messageTs: message.ts, actionId });
        assert.equal((await slack.deliverAction(url, payload)).status, 200);
        const id = String(payload.response_url).split('/').pop();
        return waitUntil(() => slack.responses.find((r) => r.id === id)?.body.text as string | undefined, 30_000, 'the ephemeral answer');
      };
      assert.match(await click('U0ALICE01', ACTION.preferA), /Recorded your answer: A is better/);
      assert.match(await click('U0ALICE01', ACTION.tie), /Changed your answer to: a tie/);
      assert.match(await click('U0BOB0001', ACTION.bothBad), /Recorded your answer: both bad/);
      const slackSummary = (await viaSlack.result()) as LifecycleSummary;
      assert.deepEqual(slackSummary.judgements, { byCandidate: { c1: 0, c2: 0 }, tie: 1, bothBad: 1, standing: 2 });
      const p = (user: string) => pseudonymiseRater(RATER_KEY, 'slack', user);
      assert.deepEqual((await judgementRows(viaSlack.workflowId)).map((r) => [r.rater, r.channel, r.left_candidate, r.right_candidate, r.choice, r.standing]), [
        [p('U0ALICE01'), 'slack', a, b, 'left', false],
        [p('U0ALICE01'), 'slack', a, b, 'tie', true],
        [p('U0BOB0001'), 'slack', a, b, 'both_bad', true],
      ]);
      await waitUntil(() => (JSON.stringify(slack.message(channel, message.ts)?.blocks ?? []).includes('Voting closed') ? true : undefined), 30_000, 'the message closed');
      assert.match(JSON.stringify(slack.message(channel, message.ts)!.blocks), /tie: 1 · both bad: 1 \(2 answers\)/);

      // ---- email ----------------------------------------------------------------------------
      await sink.waitFor(() => sink.mails.length >= 2, 60_000, 'two invitations');
      const linkOf = (mail: SunkMail, label: string) => new RegExp(`^ {2}${label}: (\\S+)$`, 'm').exec(mail.mail.text!)![1]!;
      const mailTo = (who: string) => sink.to(who).find((m) => m.mail.subject?.startsWith('Which is better'))!;
      for (const who of [ALICE, BOB]) {
        assert.doesNotMatch(`${mailTo(who).mail.text} ${String(mailTo(who).mail.html)}`, MODELS);
        assert.equal(new RegExp('^ {2}Both bad:', 'm').test(mailTo(who).mail.text!), false, 'both bad is not offered');
      }
      const aliceLink = linkOf(mailTo(ALICE), 'B is better');
      assert.equal((await fetch(aliceLink, { method: 'HEAD' })).status, 200);
      assert.match(await (await fetch(aliceLink)).text(), /Confirm your answer/);
      assert.equal((await viaEmail.query(statusQuery)).votesAccepted, 0, 'a prefetch answers nothing');
      assert.match(await (await fetch(aliceLink, { method: 'POST' })).text(), /Answer recorded/);
      assert.match(await (await fetch(linkOf(mailTo(BOB), 'Tie'), { method: 'POST' })).text(), /Answer recorded/);
      const emailSummary = (await viaEmail.result()) as LifecycleSummary;
      assert.equal(emailSummary.closeReason, 'quorum');
      const m = (who: string) => pseudonymiseRater(RATER_KEY, 'email', who);
      const [al, ar] = presentationOrder(viaEmail.workflowId, m(ALICE), ['c1', 'c2'] as const);
      const [bl, br] = presentationOrder(viaEmail.workflowId, m(BOB), ['c1', 'c2'] as const);
      assert.deepEqual((await judgementRows(viaEmail.workflowId)).map((r) => [r.rater, r.channel, r.left_candidate, r.right_candidate, r.choice, r.winner_candidate]), [
        [m(ALICE), 'email', al, ar, 'right', ar],
        [m(BOB), 'email', bl, br, 'tie', null],
      ]);
      await sink.waitFor(() => sink.mails.filter((x) => x.mail.subject?.startsWith('Results')).length === 2, 30_000, 'the results');
      assert.match(sink.to(ALICE).find((x) => x.mail.subject?.startsWith('Results'))!.mail.text!, /demo:shapes: preferred \d times/, 'the models are named once voting closed');
      assert.ok(!JSON.stringify(await judgementRows(viaEmail.workflowId)).includes('example.com'), 'no addresses in the ledger');
    });
  });
});
