/**
 * Slack end to end, as deployed: a `prefline worker` and a `prefline gateway` process configured only
 * through PREFLINE_SLACK_* variables, the real dev server, and the Slack stand-in in Slack's place.
 * A lifecycle posts to `slack:#ox-feedback`; people vote with buttons and reactions (with a retried
 * delivery, a removed reaction and the bot's own reaction thrown in); the rows land in the ledger and
 * the header ends up showing the result and "voting closed".
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import { queryLedger } from '../../cli/query';
import { loadConfig } from '../../config';
import { ACTION } from '../../channels/slack/messages';
import { pseudonymiseRater } from '../../core/pseudonym';
import { freePort } from '../../ops/dev-server';
import { statusQuery } from '../../workflows/messages';
import type { LifecycleSummary } from '../../workflows/types';
import { waitUntil } from '../helpers/processes';
import { SlackE2e } from '../helpers/slack-e2e';
import { sharedTemporal, uniqueQueue } from '../helpers/temporal';
import type { StoredMessage } from '../standins/slack-server';

const RATER_KEY = 'e2e-slack-rater-key-0123456789abcdef';

function actionIds(message: StoredMessage | undefined): string[] {
  return (message?.blocks ?? []).flatMap((b) => (b.type === 'actions' ? (b.elements as Array<{ action_id: string }>).map((e) => e.action_id) : []));
}

describe('Slack end to end: worker and gateway processes, the dev server, the Slack stand-in', function () {
  this.timeout(240_000);
  let e2e: SlackE2e;

  before(async () => {
    e2e = await SlackE2e.start('slack', RATER_KEY);
  });

  after(async () => {
    await e2e?.close();
  });

  it('should take a lifecycle from the Slack post to committed rows, with buttons and reactions mixed', async () => {
    const { slack, dataDir } = e2e;
    const { client, taskQueue, gatewayUrl, worker, gateway } = await e2e.startWorkerAndGateway({
      queue: 'slack-e2e',
      // At debug level the gateway says which reactions it did not count: the test waits on that, not on the clock.
      gatewayEnv: { PREFLINE_LOG_LEVEL: 'debug' },
      slackEnabled: /Slack votes enabled/,
    });

    const handle = await client.workflow.start('ratingLifecycle', {
      taskQueue,
      workflowId: `slack-e2e-${taskQueue}`,
      args: [{ prompt: 'an ox ploughing a field at dawn', model: 'demo:shapes', candidates: 2, channel: 'slack:#ox-feedback', votesPerCandidate: 2 }],
    });
    const status = await waitUntil(async () => {
      const s = await handle.query(statusQuery);
      return s.phase === 'voting' && s.posts ? s : undefined;
    }, 90_000, 'the lifecycle posted and voting');
    const channel = slack.channelId('#ox-feedback');
    const [header, a, b] = slack.messages(channel);
    assert.ok(header && a && b, 'header and one message per candidate');
    assert.deepEqual(status.posts, [
      { ref: `slack:${channel}:${header.ts}` },
      { ref: `slack:${channel}:${a.ts}`, candidateId: 'c1' },
      { ref: `slack:${channel}:${b.ts}`, candidateId: 'c2' },
    ]);
    assert.equal([...slack.files.values()].filter((f) => f.bytes && f.sharedIn.has(channel)).length, 2, 'both images uploaded and shown');

    const click = async (user: string, messageTs: string, actionId: string, value?: string) => {
      const payload = slack.blockActionsPayload({ user, channel, messageTs, actionId, ...(value ? { value } : {}) });
      const res = await slack.deliverAction(gatewayUrl, payload);
      assert.equal(res.status, 200);
      const id = String(payload.response_url).split('/').pop();
      return waitUntil(() => slack.responses.find((r) => r.id === id)?.body.text as string | undefined, 30_000, 'the ephemeral answer');
    };
    // Each reaction is handled before the next is sent, so they reach the lifecycle in the order sent: one that
    // counts shows in votesAccepted, one that does not in the gateway's "not counted" line.
    let counted = 1; // Alice's click below comes first
    const react = async (user: string, reaction: string, ts: string, extra: { removed?: boolean; retries?: number; notCounted?: RegExp } = {}) => {
      const envelope = slack.reactionEnvelope({ user, reaction, channel, ts, ...(extra.removed ? { removed: true } : {}) });
      for (let n = 0; n <= (extra.retries ?? 0); n++) {
        const res = await slack.deliverEvent(gatewayUrl, envelope, n > 0 ? { retryNum: n, retryReason: 'http_timeout' } : {});
        assert.equal(res.status, 200);
      }
      if (extra.notCounted) {
        await gateway.waitFor(extra.notCounted, 30_000);
      } else {
        const expected = ++counted;
        await waitUntil(async () => ((await handle.query(statusQuery)).votesAccepted >= expected ? true : undefined), 30_000, `the ${reaction} reaction to be counted`);
      }
    };

    // Alice clicks 👍 on A; Bob reacts 👍 on A (delivered three times); Carol reacts 👍 on B and takes it
    // back; Bob reacts 👎 (with a skin tone) on B; the bot's own reaction and a 🎉 do not count.
    assert.match(await click('U0ALICE01', a.ts, ACTION.up), /Recorded your :\+1: on candidate A/);
    await react('U0BOB0001', '+1', a.ts, { retries: 2 });
    await react('U0CAROL01', '+1', b.ts);
    await react('U0CAROL01', '+1', b.ts, { removed: true });
    await react('U0BOB0001', '-1::skin-tone-3', b.ts);
    await react(slack.botUserId, '+1', b.ts, { notCounted: /Slack event not counted reason="the bot's own reaction"/ });
    await react('U0CAROL01', 'tada', b.ts, { notCounted: /Slack event not counted reason="emoji is not a vote" detail=tada/ });
    await waitUntil(async () => ((await handle.query(statusQuery)).votesAccepted === 5 ? true : undefined), 30_000, 'five votes accepted');
    const live = slack.message(channel, header.ts)!;
    // The header says "Live tally: no votes yet" from the start; a tally with votes comes only with an update.
    await waitUntil(() => (/\*Live tally\* \(/.test(JSON.stringify(slack.message(channel, header.ts)!.blocks)) ? true : undefined), 30_000, 'the live tally on the header');
    assert.ok(live.updates >= 1);

    // Carol's button vote on B brings the quorum (2 on each): the lifecycle closes and commits.
    assert.match(await click('U0CAROL01', b.ts, ACTION.up), /Recorded your :\+1: on candidate B/);
    const summary = (await handle.result()) as LifecycleSummary;
    assert.equal(summary.closeReason, 'quorum');
    assert.equal(summary.votesAccepted, 6);
    assert.equal(summary.rowsCommitted, 6);
    assert.deepEqual(summary.tally.map((t) => [t.label, t.up, t.down]), [['A', 2, 0], ['B', 1, 1]]);

    const config = loadConfig({ PREFLINE_DATA_DIR: dataDir });
    const { rows } = await queryLedger(config, `SELECT candidate_id, rater, kind, value::INT AS value, channel, standing, idempotency_key FROM votes WHERE lifecycle_id = '${handle.workflowId}' ORDER BY seq`);
    const r = (user: string) => pseudonymiseRater(Buffer.from(RATER_KEY), 'slack', user);
    assert.deepEqual(rows.map((row) => [row.candidate_id, row.rater, row.kind, row.value, row.channel, row.standing]), [
      ['c1', r('U0ALICE01'), 'vote', 1, 'slack', true],
      ['c1', r('U0BOB0001'), 'vote', 1, 'slack', true],
      ['c2', r('U0CAROL01'), 'vote', 1, 'slack', false],
      ['c2', r('U0CAROL01'), 'retract', null, 'slack', false],
      ['c2', r('U0BOB0001'), 'vote', -1, 'slack', true],
      ['c2', r('U0CAROL01'), 'vote', 1, 'slack', true],
    ]);
    assert.ok(rows.every((row) => String(row.idempotency_key).startsWith('slack:')));
    assert.ok(!JSON.stringify(rows).includes('U0'), 'no Slack user id in the ledger');

    // The header shows the final result and "voting closed"; no buttons remain anywhere.
    const closed = slack.message(channel, header.ts)!;
    assert.match(JSON.stringify(closed.blocks), /Final result/);
    assert.match(JSON.stringify(closed.blocks), /Voting closed/);
    assert.match(JSON.stringify(closed.blocks), /Preferred: \*A\*/);
    for (const m of [a, b]) assert.deepEqual(actionIds(slack.message(channel, m.ts)), []);
    assert.equal(slack.messages(channel).length, 3, 'nothing was posted twice');

    // A late click (from a client that still showed the buttons) is answered "voting closed".
    assert.match(await click('U0DAVE001', a.ts, ACTION.down, JSON.stringify({ l: handle.workflowId, c: 'c1', v: 'down' })), /closed/);
    await Promise.all([worker.kill('SIGTERM'), gateway.kill('SIGTERM')]);
  });

  it('should count a reaction acknowledged by a gateway SIGKILLed while Temporal was unreachable, once', async () => {
    const { slack, dataDir } = e2e;
    const { client, address } = await sharedTemporal();
    const taskQueue = uniqueQueue('slack-journal-e2e');
    const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
    // The doomed gateway reaches Temporal through a TCP proxy the test can cut.
    const links = new Set<net.Socket>();
    const proxy = net.createServer((inbound) => {
      const upstream = net.connect(port, host);
      for (const s of [inbound, upstream]) {
        links.add(s);
        s.on('error', () => undefined).on('close', () => links.delete(s));
      }
      inbound.pipe(upstream).pipe(inbound);
      const drop = () => (inbound.destroy(), upstream.destroy());
      inbound.on('close', drop);
      upstream.on('close', drop);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyAddress = `127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const journalDir = join(dataDir, 'journal-e2e');
    const gatewayPort = await freePort();
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const env: NodeJS.ProcessEnv = { ...e2e.env(address, taskQueue, gatewayPort), PREFLINE_SLACK_JOURNAL_DIR: journalDir };
    try {
      const worker = e2e.spawn(['worker'], env);
      const doomed = e2e.spawn(['gateway'], { ...env, PREFLINE_TEMPORAL_ADDRESS: proxyAddress });
      await Promise.all([worker.waitFor(/worker polling/, 90_000), doomed.waitFor(/Slack votes enabled/, 60_000)]);
      const handle = await client.workflow.start('ratingLifecycle', {
        taskQueue,
        workflowId: `slack-journal-e2e-${taskQueue}`,
        args: [{ prompt: 'an ox in the rain', model: 'demo:text', candidates: 1, channel: 'slack:#ox-feedback', votesPerCandidate: 1 }],
      });
      const status = await waitUntil(async () => {
        const st = await handle.query(statusQuery);
        return st.phase === 'voting' && st.posts ? st : undefined;
      }, 90_000, 'the lifecycle posted and voting');
      const ref = status.posts!.find((post) => post.candidateId === 'c1')!.ref;
      const [, channel, ts] = ref.split(':');

      proxy.close();
      for (const s of links) s.destroy(); // Temporal unreachable from the doomed gateway from now on
      const envelope = slack.reactionEnvelope({ user: 'U0ERIN001', reaction: '+1', channel: channel!, ts: ts! });
      assert.equal((await slack.deliverEvent(gatewayUrl, envelope)).status, 200, 'acknowledged: it is in the journal');
      await doomed.waitFor(/retrying in the background/, 30_000);
      await doomed.kill('SIGKILL');
      assert.equal((await handle.query(statusQuery)).votesAccepted, 0, 'nothing reached the lifecycle yet');

      // The next gateway on this host replays the journal; the lifecycle reaches quorum on that vote.
      const next = e2e.spawn(['gateway'], env);
      await next.waitFor(/recovered deliveries/, 60_000);
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'quorum');
      assert.equal(summary.votesAccepted, 1);
      assert.equal(summary.rowsCommitted, 1);
      const config = loadConfig({ PREFLINE_DATA_DIR: dataDir });
      const { rows } = await queryLedger(config, `SELECT rater, value::INT AS value, idempotency_key FROM votes WHERE lifecycle_id = '${handle.workflowId}'`);
      assert.deepEqual(rows, [{ rater: pseudonymiseRater(Buffer.from(RATER_KEY), 'slack', 'U0ERIN001'), value: 1, idempotency_key: `slack:${envelope.event_id as string}` }]);
      await Promise.all([worker.kill('SIGTERM'), next.kill('SIGTERM')]);
    } finally {
      proxy.close();
      for (const s of links) s.destroy();
    }
  });
});
