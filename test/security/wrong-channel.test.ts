/**
 * Issue 12, Found 2 at the gateway: a vote that arrives through one channel for a lifecycle of another
 * is refused by the gateway before it is forwarded, not only by the workflow's validator
 * (test/security/workflow-input.test.ts). Real parts end to end: the gateway host with the web, email
 * and Slack inbound halves over the Temporal directories and one Temporal client, the real
 * ratingLifecycle on the dev server with the real ledger, the Slack stand-in.
 *
 * Every case asserts both halves of the promise: a clear refusal with the catalogue's wrong_channel
 * (HTTP 403 and its answer, the email page, the Slack answer or log line), and nothing changed:
 * no update or signal reached Temporal for it (a client interceptor records every one), the lifecycle's
 * tally and accepted count are as before, and so are the ledger's rows. A vote through the right
 * channel on the same path is accepted, so each refusal is the check and not a broken path.
 */
import { Client, type WorkflowClientInterceptor, type WorkflowHandle } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChannelActivities } from '../../activities/types';
import { createMessageReader } from '../../channels/email/message-reader';
import { createReplyHandler } from '../../channels/email/replies';
import { createEmailRoutes } from '../../channels/email/routes';
import { EmailState } from '../../channels/email/state';
import { lifecycleHash, replyLocalPart, signVoteLink } from '../../channels/email/tokens';
import { createSlackWebClient } from '../../channels/slack/client';
import { SlackInbound } from '../../channels/slack/inbound';
import { ACTION, SAFE_MESSAGE_REF } from '../../channels/slack/messages';
import { createSlackRoutes } from '../../channels/slack/routes';
import type { GatewayLogLevel } from '../../core/http';
import { pseudonymiseRater } from '../../core/pseudonym';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { TemporalPostDirectory } from '../../core/temporal-posts';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { InviteRegistry } from '../../gateway/invite-registry';
import { signInvite } from '../../gateway/invites';
import { WORKFLOW_TYPE, statusQuery } from '../../workflows/messages';
import { postRefsKey } from '../../workflows/search-attributes';
import type { LifecycleStatus } from '../../workflows/types';
import { MemoryArtifacts } from '../helpers/fake-directory';
import { waitUntil } from '../helpers/processes';
import { recordingChannel, stubInference } from '../helpers/stub-activities';
import { createLifecycleWorkers, sharedTemporal, waitForVoting, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { SlackStandIn } from '../standins/slack-server';

const KEYS = {
  rater: Buffer.from('rater-key-for-wrong-channel-0123456789'),
  session: Buffer.from('session-key-for-wrong-channel-012345'),
  invite: Buffer.from('invite-key-for-wrong-channel-0123456'),
  emailToken: Buffer.from('token-key-for-wrong-channel-01234567'),
};
const DOMAIN = 'in.prefline.test';
const SLACK_CHANNEL = 'C0WRONGCH1';
const GOOD_INPUT = { prompt: 'a red fox', model: 'demo:text', candidates: 2, totalVotes: 1000, deadline: '1h' };
const JSON_HEADERS = { 'Content-Type': 'application/json', 'X-Prefline-Request': '1' };

/** A Slack message ts unique to this run, so visibility finds only this run's posts. */
const runTs = (n: number) => `${1_700_000_000 + Math.floor(Math.random() * 90_000_000)}.${String(100 + n).padStart(6, '0')}`;

describe('security: a vote through another channel is refused by the gateway, before it is forwarded (Found 2)', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;
  let stopWorkers: () => void = () => undefined;
  let workersDone: Promise<void> = Promise.resolve();
  let slack: SlackStandIn;
  let inbound: SlackInbound;
  let server: http.Server;
  let url: string;
  let dir: string;
  let state: EmailState;
  let invites: InviteRegistry;
  const handles: Record<'web' | 'slack' | 'email', WorkflowHandle> = {} as never;
  /** Slack message ts of each lifecycle's candidate messages: the email lifecycle's are forged posts. */
  const slackTs: Record<'slack' | 'email', string[]> = { slack: [runTs(1), runTs(2)], email: [runTs(3), runTs(4)] };
  /** Every update and signal the gateway's Temporal client sent, by workflow id. */
  const forwarded: Array<{ kind: 'update' | 'signal'; workflowId: string }> = [];
  /** Every query and describe the gateway's client sent, by workflow id (the channel lookups among them). */
  const queried: string[] = [];
  const described: string[] = [];
  const logs: Array<{ level: GatewayLogLevel; msg: string; fields?: Record<string, unknown> }> = [];

  const recorder: WorkflowClientInterceptor = {
    async startUpdate(input, next) {
      forwarded.push({ kind: 'update', workflowId: input.workflowExecution.workflowId });
      return next(input);
    },
    async query(input, next) {
      queried.push(input.workflowExecution.workflowId);
      return next(input);
    },
    async describe(input, next) {
      described.push(input.workflowExecution.workflowId);
      return next(input);
    },
    async signal(input, next) {
      forwarded.push({ kind: 'signal', workflowId: input.workflowExecution.workflowId });
      return next(input);
    },
  };

  /** Channel activities that post a Slack lifecycle's candidates, and forge the same kind of post for the email lifecycle. */
  function channelActivities(): ChannelActivities {
    const { activities } = recordingChannel();
    return {
      ...activities,
      async publishLifecycle(request) {
        const kind = request.plan.channel.kind;
        if (kind === 'web') return { channel: 'web', messages: [] };
        const ts = slackTs[kind];
        return { channel: kind, messages: request.candidates.map((c, i) => ({ ref: `slack:${SLACK_CHANNEL}:${ts[i]}`, candidateId: c.id })) };
      },
    };
  }

  async function ledgerRows(): Promise<number> {
    return Number((await workers.ledger.query('SELECT count(*)::INT AS n FROM votes')).rows[0]?.['n']);
  }

  const observable = (s: LifecycleStatus) => ({ votesAccepted: s.votesAccepted, tallies: s.candidates.map((c) => c.tally) });

  /** What must not change when a vote is refused: the lifecycles' tallies, the ledger's rows, what reached Temporal. */
  async function snapshot(): Promise<unknown> {
    const statuses = await Promise.all(Object.values(handles).map(async (h) => observable(await h.query(statusQuery))));
    return { statuses, rows: await ledgerRows(), forwarded: forwarded.length };
  }

  async function unchangedBy(attack: () => Promise<void>): Promise<void> {
    const before = await snapshot();
    await attack();
    assert.deepEqual(await snapshot(), before);
  }

  async function inviteSession(label: string): Promise<string> {
    const record = await invites.create({ label, expiresAt: new Date(Date.now() + 86_400_000), now: new Date() });
    const token = signInvite(KEYS.invite, { inviteId: record.id, expiresAt: Date.parse(record.expiresAt) });
    const res = await fetch(`${url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ invite: token }) });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { token: string }).token;
  }

  const webVote = (session: string, lifecycleId: string, key = randomUUID()) => fetch(`${url}/api/lifecycles/${encodeURIComponent(lifecycleId)}/votes`, {
    method: 'POST',
    headers: { ...JSON_HEADERS, Authorization: `Bearer ${session}` },
    body: JSON.stringify({ candidateId: 'c1', value: 'up', idempotencyKey: key }),
  });

  /** A judgement ("which is better?", an A/B answer) on a two-candidate thumbs lifecycle, in the order the page shows it: c1, c2. */
  const webJudgement = (session: string, lifecycleId: string) => fetch(`${url}/api/lifecycles/${encodeURIComponent(lifecycleId)}/judgements`, {
    method: 'POST',
    headers: { ...JSON_HEADERS, Authorization: `Bearer ${session}` },
    body: JSON.stringify({ left: 'c1', right: 'c2', choice: 'left', idempotencyKey: randomUUID() }),
  });

  const emailRater = pseudonymiseRater(KEYS.rater, 'email', 'alice@example.com');
  const linkFor = (lifecycleId: string) => signVoteLink(KEYS.emailToken, { lifecycleId, rater: emailRater, candidateId: 'c1', value: 'up', expiresAt: Date.now() + 3600_000 });
  const postLink = (token: string) => fetch(`${url}/email/v/${token}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });

  async function deliverReaction(ts: string, user: string): Promise<void> {
    const res = await slack.deliverEvent(url, slack.reactionEnvelope({ user, reaction: '+1', channel: SLACK_CHANNEL, ts }));
    assert.equal(res.status, 200);
    await inbound.idle();
  }

  /** Clicks 👍 on the message `ts` of `lifecycleId`; resolves to what the clicker was told. */
  async function click(ts: string, lifecycleId: string, user: string): Promise<string[]> {
    const payload = slack.blockActionsPayload({ user, channel: SLACK_CHANNEL, messageTs: ts, actionId: ACTION.up, value: JSON.stringify({ l: lifecycleId, c: 'c1', v: 'up' }) });
    const res = await slack.deliverAction(url, payload);
    assert.equal(res.status, 200);
    await inbound.idle();
    const id = String(payload.response_url).split('/').pop();
    return slack.responses.filter((r) => r.id === id).map((r) => String(r.body.text));
  }

  before(async function () {
    this.timeout(180_000);
    const { connection } = await sharedTemporal();
    await workflowBundle();
    workers = await createLifecycleWorkers('security-wrong-channel', { inference: stubInference, channel: channelActivities() });
    await new Promise<void>((resolve, reject) => {
      workersDone = workers.run(() => new Promise<void>((stop) => {
        stopWorkers = stop;
        resolve();
      })).catch(reject);
    });
    const { client: plain } = await sharedTemporal();
    const start = (input: Record<string, unknown>) => plain.workflow.start(WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: `lc-wrong-${randomUUID()}`, args: [input] });
    handles.web = await start(GOOD_INPUT);
    handles.slack = await start({ ...GOOD_INPUT, channel: `slack:${SLACK_CHANNEL}` });
    handles.email = await start({ ...GOOD_INPUT, channel: 'email:alice@example.com' });
    await Promise.all(Object.values(handles).map((h) => waitForVoting(h, 30_000)));

    // The gateway's wiring (gateway/main.ts, gateway/slack.ts, gateway/email.ts), over one recording client.
    const client = new Client({ connection, interceptors: { workflow: [recorder] } });
    const directory = new TemporalLifecycleDirectory(client);
    const log = (level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, ...(fields ? { fields } : {}) });
    dir = mkdtempSync(join(tmpdir(), 'prefline-wrong-channel-'));
    state = await EmailState.open(join(dir, 'email'));
    invites = await InviteRegistry.open(join(dir, 'invites'));
    slack = await SlackStandIn.start({ channels: [{ id: SLACK_CHANNEL, name: 'ratings' }] });
    inbound = new SlackInbound({
      posts: new TemporalPostDirectory(client, directory, { channel: 'slack', refPattern: SAFE_MESSAGE_REF, searchAttribute: postRefsKey.name }),
      raterKey: KEYS.rater,
      web: createSlackWebClient({ token: slack.botToken, apiUrl: slack.apiUrl, retries: 0 }),
      lookupRetryMs: [500, 1000, 2000, 4000, 8000],
      forwardBudgetMs: 10_000,
      log,
    });
    server = createGatewayServer({
      directory,
      artifacts: new MemoryArtifacts(),
      raterKey: KEYS.rater,
      sessionKey: KEYS.session,
      invites: { registry: invites, key: KEYS.invite },
      sessionTtlMs: 3600_000,
      channelRoutes: [...createSlackRoutes({ signingSecret: slack.signingSecret, inbound, log }), ...createEmailRoutes({ directory, tokenKey: KEYS.emailToken, state, log })],
      log,
    });
    url = (await listen(server, '127.0.0.1', 0)).url;
    // Visibility is eventually consistent: the posts must be findable before a reaction can be looked up.
    await waitUntil(async () => {
      const found = [];
      for await (const e of plain.workflow.list({ query: `${postRefsKey.name} = 'slack:${SLACK_CHANNEL}:${slackTs.email[0]}'` })) found.push(e);
      return found.length > 0 ? true : undefined;
    }, 30_000, 'the posts in visibility');
  });

  after(async function () {
    this.timeout(60_000);
    inbound?.close();
    await inbound?.idle();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await slack?.close();
    stopWorkers();
    await workersDone;
    workers?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('the web API', () => {
    it('should refuse an invited rater\'s vote on a Slack and on an email lifecycle with 403 wrong_channel, forwarding nothing', async () => {
      const session = await inviteSession('alice@example.org');
      for (const [kind, id] of [['slack', handles.slack.workflowId], ['email', handles.email.workflowId]] as const) {
        await unchangedBy(async () => {
          const res = await webVote(session, id);
          const body = (await res.json()) as Record<string, unknown>;
          assert.equal(res.status, 403, JSON.stringify(body));
          assert.equal(body.code, 'wrong_channel');
          assert.equal(body.error, 'this lifecycle takes votes through another channel');
          assert.match(String(body.detail), new RegExp(`this is a ${kind} lifecycle, which takes votes through "${kind}" only, not "web"`));
        });
      }
      assert.ok(!forwarded.some((f) => f.workflowId !== handles.web.workflowId), 'nothing reached the Slack or email lifecycle');
      // Their channels were read off their search attribute (describe: no worker needed), not by a status query.
      for (const id of [handles.slack.workflowId, handles.email.workflowId]) assert.ok(described.includes(id) && !queried.includes(id), `${id}: described, not queried`);
      // The same session's vote on the web lifecycle goes through: the check, not a broken path.
      const res = await webVote(session, handles.web.workflowId);
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(forwarded.at(-1), { kind: 'update', workflowId: handles.web.workflowId });
    });

    it('should keep refusing once the lifecycle\'s channel is known, without asking Temporal again', async () => {
      const session = await inviteSession('bob@example.org');
      const lookups = () => [...queried, ...described].filter((id) => id === handles.slack.workflowId).length;
      const before = lookups();
      for (let i = 0; i < 5; i++) {
        await unchangedBy(async () => assert.equal((await webVote(session, handles.slack.workflowId)).status, 403));
      }
      assert.equal(lookups(), before);
    });
  });

  describe('the web API\'s judgements', () => {
    it('should refuse an invited rater\'s judgement on a Slack and on an email lifecycle with 403 wrong_channel, forwarding nothing', async () => {
      const session = await inviteSession('carol@example.org');
      for (const [kind, id] of [['slack', handles.slack.workflowId], ['email', handles.email.workflowId]] as const) {
        await unchangedBy(async () => {
          const res = await webJudgement(session, id);
          const body = (await res.json()) as Record<string, unknown>;
          assert.equal(res.status, 403, JSON.stringify(body));
          assert.equal(body.code, 'wrong_channel');
          assert.match(String(body.detail), new RegExp(`this is a ${kind} lifecycle, which takes votes through "${kind}" only, not "web"`));
        });
      }
      assert.ok(!forwarded.some((f) => f.workflowId !== handles.web.workflowId), 'nothing reached the Slack or email lifecycle');
      // The same session's judgement on the web lifecycle goes through: the check, not a broken path.
      const res = await webJudgement(session, handles.web.workflowId);
      assert.equal(res.status, 200, await res.clone().text());
      assert.deepEqual(forwarded.at(-1), { kind: 'update', workflowId: handles.web.workflowId });
    });
  });

  describe('email', () => {
    it('should refuse a signed vote link for a web or Slack lifecycle with the "not an emailed prompt" page, forwarding nothing', async () => {
      for (const handle of [handles.web, handles.slack]) {
        await unchangedBy(async () => {
          const res = await postLink(linkFor(handle.workflowId));
          assert.equal(res.status, 403);
          assert.match(await res.text(), /Not an emailed prompt.*takes votes through another channel, not by email; your vote was not counted/s);
        });
      }
      assert.ok(logs.some((l) => l.msg === 'email link vote refused' && l.fields?.code === 'wrong_channel'));
      const res = await postLink(linkFor(handles.email.workflowId));
      assert.equal(res.status, 200);
      assert.match(await res.text(), /Vote recorded/);
    });

    it('should not count a reply to a verified reply address of a web lifecycle, forwarding nothing', async () => {
      const client = new Client({ connection: (await sharedTemporal()).connection, interceptors: { workflow: [recorder] } });
      const reader = createMessageReader();
      after(() => reader.close());
      const replies = createReplyHandler({ directory: new TemporalLifecycleDirectory(client), state, tokenKey: KEYS.emailToken, domain: DOMAIN, reader, log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }) });
      const lifecycleId = handles.web.workflowId;
      await state.saveLifecycle(lifecycleHash(lifecycleId), { lifecycleId, deadlineAt: new Date(Date.now() + 3600_000).toISOString(), prompt: 'a red fox', candidates: [{ id: 'c1', label: 'A' }, { id: 'c2', label: 'B' }] });
      const to = `${replyLocalPart(KEYS.emailToken, lifecycleId, emailRater)}@${DOMAIN}`;
      const raw = Buffer.from(`From: alice@example.com\r\nTo: ${to}\r\nSubject: Re: vote\r\nMessage-ID: <wrong-${randomUUID()}@example.com>\r\nContent-Type: text/plain\r\n\r\n+1 A\r\n`);
      await unchangedBy(async () => assert.deepEqual(await replies.handle(raw, [to], 'alice@example.com'), { counted: 0 }));
      assert.ok(logs.some((l) => l.msg === 'email reply vote refused' && l.fields?.code === 'wrong_channel' && l.fields?.lifecycleId === lifecycleId));
    });
  });

  describe('Slack', () => {
    it('should not count a reaction on a post recorded by an email lifecycle, signalling nothing', async () => {
      await unchangedBy(() => deliverReaction(slackTs.email[0]!, 'U0MALLORY1'));
      assert.ok(logs.some((l) => l.msg === 'Slack reaction on a lifecycle of another channel refused; not counted'
        && l.fields?.lifecycleId === handles.email.workflowId && /email lifecycle.*not "slack"/.test(String(l.fields?.reason))));
      // A reaction on the Slack lifecycle's own post is signalled and counted.
      const votes = (await handles.slack.query(statusQuery)).votesAccepted;
      await deliverReaction(slackTs.slack[0]!, 'U0ALICE001');
      assert.deepEqual(forwarded.at(-1), { kind: 'signal', workflowId: handles.slack.workflowId });
      await waitUntil(async () => ((await handles.slack.query(statusQuery)).votesAccepted === votes + 1 ? true : undefined), 10_000, 'the reaction counted');
    });

    it('should answer a click on a post recorded by an email lifecycle with wrong channel, sending no update', async () => {
      let answers: string[] = [];
      await unchangedBy(async () => {
        answers = await click(slackTs.email[0]!, handles.email.workflowId, 'U0MALLORY1');
      });
      assert.deepEqual(answers, [':no_entry: This lifecycle takes votes through another channel, not Slack; your vote was not counted.']);
      const ok = await click(slackTs.slack[0]!, handles.slack.workflowId, 'U0BOB00001');
      assert.match(ok[0] ?? '', /Recorded your :\+1: on candidate A/);
    });
  });
});
