/**
 * A campaign on Slack, on the real dev server: its items are posted nowhere (delivery "assigned"); raters
 * ask `/prefline next` through the Slack stand-in and get their own item ephemerally, answer with its
 * buttons (the signed interactivity path: dedupe inbox, allow-list, the lifecycle's channel check), and
 * are offered the next. No rater is handed an item twice, a second rater gets another item, an item at
 * its quota refuses a further answer, and the ledger holds each answer once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { createSlackWebClient } from '../../channels/slack/client';
import { SlackCampaignItems } from '../../channels/slack/campaign-next';
import { CAMPAIGN_ANSWERS, NEXT_ACTION } from '../../channels/slack/campaign-messages';
import { shownPair } from '../../channels/rater-view';
import { ACTION } from '../../channels/slack/messages';
import { SlackCommands } from '../../channels/slack/commands';
import { SlackInbound } from '../../channels/slack/inbound';
import { createSlackRoutes } from '../../channels/slack/routes';
import { SlackUserList } from '../../channels/slack/allow-list';
import { SAFE_MESSAGE_REF } from '../../channels/slack/messages';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { pseudonymiseRater } from '../../core/pseudonym';
import { RateLimiter } from '../../core/rate-limit';
import { TemporalCampaignDirectory } from '../../core/temporal-campaigns';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { TemporalPostDirectory } from '../../core/temporal-posts';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { CAMPAIGN_WORKFLOW_TYPE, campaignCancelSignal, campaignStatusQuery, statusQuery } from '../../workflows/messages';
import { postRefsKey } from '../../workflows/search-attributes';
import type { CampaignInput, CampaignSummary } from '../../workflows/types';
import { MemoryArtifacts } from '../helpers/fake-directory';
import { waitUntil } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { SlackStandIn } from '../standins/slack-server';

const RATER_KEY = Buffer.from('rater-key-for-slack-campaign-tests-0123');
const CHANNEL = 'C0FEEDBK01';
const OTHER_CHANNEL = 'C0OTHER001';
const RATERS = { alice: 'U0ALICE01', bob: 'U0BOB0001', carol: 'U0CAROL01', dave: 'U0DAVE001' } as const;
const STRANGER = 'U0STRANGE';

type Block = Record<string, unknown>;
interface Answer { text: string; blocks?: Block[]; replace_original?: boolean }

const buttonsOf = (blocks: Block[] | undefined) => (blocks ?? []).flatMap((b) => (b.type === 'actions' ? (b.elements as Block[]) : []));
const valueOf = (blocks: Block[] | undefined, actionId: string) => buttonsOf(blocks).find((e) => e.action_id === actionId)?.value as string | undefined;
const itemOf = (blocks: Block[] | undefined) => JSON.parse(valueOf(blocks, ACTION.preferA) ?? '{}').l as string | undefined;

interface Stand {
  slack: SlackStandIn;
  url: string;
  server: http.Server;
  inbound: SlackInbound;
}

async function startStand(): Promise<Stand> {
  const { client } = await sharedTemporal();
  const slack = await SlackStandIn.start({ channels: [{ id: CHANNEL, name: 'ox-feedback' }, { id: OTHER_CHANNEL, name: 'elsewhere' }] });
  const web = createSlackWebClient({ token: slack.botToken, apiUrl: slack.apiUrl, retries: 0 });
  const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
  const campaignItems = new SlackCampaignItems({ campaigns: new TemporalCampaignDirectory(client), lifecycles: directory });
  const inbound = new SlackInbound({
    posts: new TemporalPostDirectory(client, directory, { channel: 'slack', refPattern: SAFE_MESSAGE_REF, searchAttribute: postRefsKey.name }),
    raterKey: RATER_KEY,
    web,
    allowedUsers: Object.values(RATERS),
    campaignItems,
    forwardBudgetMs: 20_000,
  });
  const noList = new SlackUserList(async () => [], new Set(), [], Date.now, () => undefined, 'ops');
  const commands = new SlackCommands({
    directory,
    allowedTeams: () => inbound.identity.allowedTeams(),
    raterKey: RATER_KEY,
    ops: noList,
    models: ['demo:shapes'],
    channelDefaults: {},
    startsPerUser: new RateLimiter(10, 3_600_000),
    accept: async () => 'failed',
    respond: async () => undefined,
    campaignItems,
    mayRate: (user) => inbound.mayRate(user),
  });
  const server = createGatewayServer({
    directory,
    artifacts: new MemoryArtifacts(),
    raterKey: RATER_KEY,
    sessionKey: Buffer.from('session-key-for-slack-campaign-0001'),
    sessionTtlMs: 3600_000,
    channelRoutes: createSlackRoutes({ signingSecret: slack.signingSecret, inbound, commands }),
  });
  const { url } = await listen(server, '127.0.0.1', 0);
  return { slack, url, server, inbound };
}

describe('campaigns on Slack: /prefline next and item buttons (real dev server, the Slack stand-in)', function () {
  this.timeout(300_000);
  let workers: LifecycleWorkers;
  let stand: Stand;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'slack-campaign');
    stand = await startStand();
  });

  afterEach(async () => {
    stand.inbound.close();
    stand.server.closeAllConnections();
    await new Promise<void>((resolve) => stand.server.close(() => resolve()));
    await stand.slack.close();
    workers.close();
  });

  /** `/prefline <text>` as `user`: the command's ephemeral answer. */
  async function command(user: string, text: string, channel = CHANNEL): Promise<Answer> {
    const fields = stand.slack.slashCommandFields({ user, channel, text });
    const res = await stand.slack.deliverCommand(stand.url, fields);
    assert.equal(res.status, 200, res.body);
    const body = JSON.parse(res.body) as Answer & { response_type: string };
    assert.equal(body.response_type, 'ephemeral');
    if (!String(body.text).startsWith(':hourglass: Working on it')) return body;
    // Slower than Slack's acknowledgement window (a loaded machine): the answer follows at the command's response_url.
    return waitUntil(async () => stand.slack.responsesTo(fields.response_url!)[0] as Answer | undefined, 30_000, `the deferred answer to ${user}`);
  }

  /** A click on a button of an ephemeral message `user` was shown; resolves with what reaches the message's response_url. */
  async function click(user: string, actionId: string, value: string): Promise<Answer> {
    const responseUrl = stand.slack.responseUrl();
    const payload = stand.slack.blockActionsPayload({ user, channel: CHANNEL, messageTs: stand.slack.nextTs(), actionId, value, responseUrl });
    (payload.container as Record<string, unknown>).is_ephemeral = true;
    delete payload.message;
    const res = await stand.slack.deliverAction(stand.url, payload);
    assert.equal(res.status, 200, res.body);
    return waitUntil(async () => stand.slack.responsesTo(responseUrl)[0] as Answer | undefined, 30_000, `the answer to ${user}'s click`);
  }

  it('should hand each rater their own item, take the answer from its buttons, offer the next, and refuse answers past the quota', async () => {
    const { client } = await sharedTemporal();
    const input: CampaignInput = {
      items: Array.from({ length: 3 }, (_, n) => ({ prompt: `matchup ${n}`, candidates: [{ text: `left ${n}`, model: 'model-a' }, { text: `right ${n}`, model: 'model-b' }] })),
      task: 'compare', responses: 2, channel: `slack:${CHANNEL}`, reservation: '10m', campaign: 'slack-matchups', question: 'Which answer is kinder?',
    };
    const campaignId = `cmp-slack-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: campaignId, args: [input] });

    await workers.run(async () => {
      // Every item opens without a post: nothing reaches the channel but what a rater asks for.
      await waitUntil(async () => {
        const s = await handle.query(campaignStatusQuery).catch(() => undefined);
        if (!s || s.counts.open < 3) return undefined;
        const open = await Promise.all([0, 1, 2].map((n) => client.workflow.getHandle(`${campaignId}-item-${n}`).query(statusQuery).catch(() => undefined)));
        return open.every((l) => l?.phase === 'voting') ? open : undefined;
      }, 90_000, 'three items voting');
      const child = await client.workflow.getHandle(`${campaignId}-item-0`).query(statusQuery);
      assert.equal(child.delivery, 'assigned');
      assert.equal(child.posts, undefined);
      assert.deepEqual(stand.slack.messages(CHANNEL), [], 'no item is posted to the channel');

      // Only raters on the allow-list are handed items; only in the campaign's channel.
      assert.equal((await command(STRANGER, 'next')).text, ':no_entry: You are not on the rater list for Prefline here; ask the operator to add you.');
      assert.equal((await command(RATERS.alice, 'next', OTHER_CHANNEL)).text, 'No Prefline campaign is running in this channel.');
      // A web session cannot hold the Slack campaign's items reserved either.
      await assert.rejects(
        new TemporalCampaignDirectory(client).next(campaignId, { rater: pseudonymiseRater(RATER_KEY, 'web', 'someone'), channel: 'web' }),
        (err: unknown) => err instanceof VoteRejectedError && err.code === 'wrong_channel',
      );

      // Alice asks (the visibility list may lag a new campaign a moment), and is shown her item with its buttons.
      const first = await waitUntil(async () => {
        const a = await command(RATERS.alice, `next ${campaignId}`);
        return itemOf(a.blocks) ? a : undefined;
      }, 30_000, 'an item for Alice');
      const aliceItem = itemOf(first.blocks)!;
      const header = first.blocks!.find((b) => b.type === 'header') as { text: { text: string } };
      assert.equal(header.text.text, 'Which answer is kinder?');
      assert.deepEqual(buttonsOf(first.blocks).map((b) => b.action_id), [ACTION.preferA, ACTION.preferB, ACTION.tie, ACTION.bothBad]);
      assert.ok(!JSON.stringify(first.blocks).includes('model-a'), 'no model names while voting');
      // Asking again before answering hands back the same item (her reservation), not a second one.
      assert.equal(itemOf((await command(RATERS.alice, 'next')).blocks), aliceItem);

      // Bob is handed a different item: Alice's holds her reservation, the others have more room.
      const bobFirst = await command(RATERS.bob, 'next');
      const bobItem = itemOf(bobFirst.blocks);
      assert.ok(bobItem && bobItem !== aliceItem, `Bob got ${bobItem}, Alice ${aliceItem}`);

      // Alice answers: the message is replaced with the receipt and a Next button.
      const receipt = await click(RATERS.alice, ACTION.preferA, valueOf(first.blocks, ACTION.preferA)!);
      assert.equal(receipt.replace_original, true);
      // No count: a campaign item's receipt does not say how many answered (gold would stand out; raters would herd).
      assert.equal(receipt.text, ':white_check_mark: Recorded your answer: A is better.');
      const next = valueOf(receipt.blocks, NEXT_ACTION);
      assert.deepEqual(JSON.parse(next!), { k: campaignId, d: aliceItem });

      // Next: another item, never the one she answered; asking on until none is left for her never repeats one.
      const seen = [aliceItem];
      let shown = await click(RATERS.alice, NEXT_ACTION, next!);
      while (itemOf(shown.blocks)) {
        const item = itemOf(shown.blocks)!;
        assert.ok(!seen.includes(item), `Alice was handed ${item} twice`);
        seen.push(item);
        const answered = await click(RATERS.alice, ACTION.tie, valueOf(shown.blocks, ACTION.tie)!);
        assert.match(answered.text, /^:white_check_mark: Recorded your answer: a tie\./);
        shown = await click(RATERS.alice, NEXT_ACTION, valueOf(answered.blocks, NEXT_ACTION)!);
      }
      assert.equal(seen.length, 3, 'Alice answered every item once');
      assert.match(shown.text, /^:hourglass: No item is waiting for you right now/);

      // Bob answers his: that item now has its quota of two (Alice's and his).
      const bobReceipt = await click(RATERS.bob, ACTION.preferB, valueOf(bobFirst.blocks, ACTION.preferB)!);
      assert.equal(bobReceipt.text, ':white_check_mark: Recorded your answer: B is better.');
      assert.equal((await client.workflow.getHandle(bobItem!).query(statusQuery)).judgements?.standing, 2, 'the ops view counts both');
      // Carol holds a button of that item (shown before it filled, in her own order of the pair): refused, not kept.
      const bobStatus = await client.workflow.getHandle(bobItem).query(statusQuery);
      const carolPair = shownPair(bobStatus, pseudonymiseRater(RATER_KEY, 'slack', RATERS.carol))!;
      const late = await click(RATERS.carol, ACTION.preferA, JSON.stringify({ l: bobItem, k: campaignId, p: 'a', s: `${carolPair[0].id},${carolPair[1].id}` }));
      assert.match(late.text, /got all its answers before yours|Voting on this lifecycle is closed/);
      // A button naming the pair in another order than the clicker is shown is not hers: refused.
      const daveStatus = await client.workflow.getHandle(aliceItem).query(statusQuery);
      const davePair = shownPair(daveStatus, pseudonymiseRater(RATER_KEY, 'slack', RATERS.dave))!;
      const tampered = await click(RATERS.dave, ACTION.preferA, JSON.stringify({ l: aliceItem, k: campaignId, p: 'a', s: `${davePair[1].id},${davePair[0].id}` }));
      assert.equal(tampered.text, CAMPAIGN_ANSWERS.tampered);

      await handle.signal(campaignCancelSignal, { reason: 'test over' });
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.phase, 'cancelled');
    });

    const rows = (await workers.ledger.query(
      `SELECT lifecycle_id, rater, channel, count(*)::INT AS n FROM judgements WHERE lifecycle_id LIKE $1 GROUP BY ALL ORDER BY lifecycle_id, rater`, [`${campaignId}-item-%`],
    )).rows as Array<{ lifecycle_id: string; rater: string; channel: string; n: number }>;
    const r = (user: string) => pseudonymiseRater(RATER_KEY, 'slack', user);
    assert.equal(rows.filter((row) => row.rater === r(RATERS.alice)).length, 3, 'one answer of Alice per item');
    assert.equal(rows.filter((row) => row.rater === r(RATERS.bob)).length, 1);
    assert.ok(rows.every((row) => row.n === 1 && row.channel === 'slack'), JSON.stringify(rows));
    assert.ok(!rows.some((row) => row.rater === r(RATERS.carol)), 'the answer past the quota is not in the ledger');
  });
});
