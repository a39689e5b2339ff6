/**
 * The gateway's Slack endpoints, over real HTTP, with messages really posted to the Slack stand-in by
 * the publisher, and lifecycles behind a fake directory that applies the real tally rules.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSlackWebClient } from '../../../channels/slack/client';
import { ACTION } from '../../../channels/slack/messages';
import { signSlackRequest } from '../../../channels/slack/verify';
import { DeliveryJournal } from '../../../channels/slack/delivery-journal';
import { presentationOrder } from '../../../core/presentation';
import { pseudonymiseRater } from '../../../core/pseudonym';
import { SlackInbound } from '../../../channels/slack/inbound';
import { createSlackRoutes } from '../../../channels/slack/routes';
import { startSlackSocketMode, type RunningSocketMode } from '../../../channels/slack/socket-mode';
import { waitUntil } from '../../helpers/processes';
import { type DeliveryOptions } from '../../standins/slack-server';
import { CHANNEL, RATER_KEY, startSlackHarness as start, stopSlackHarness, type SlackHarness as Harness } from '../../helpers/slack-gateway';


describe('gateway: Slack events and interactivity', function () {
  this.timeout(30_000);
  let h: Harness;
  const rater = (user: string) => pseudonymiseRater(RATER_KEY, 'slack', user);

  afterEach(async () => {
    await stopSlackHarness(h);
  });

  describe('verification and acknowledgement', () => {
    beforeEach(async () => {
      h = await start();
    });

    it('should answer url_verification with the challenge, only when signed', async () => {
      const challenge = { token: 't', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' };
      const ok = await h.slack.deliverEvent(h.url, challenge);
      assert.equal(ok.status, 200);
      assert.equal(ok.body, challenge.challenge);
      const unsigned = await h.slack.deliverEvent(h.url, challenge, { signature: null });
      assert.equal(unsigned.status, 401);
    });

    it('should refuse forged, stale, future, unsigned and re-serialised requests, and count nothing', async () => {
      const envelope = h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a });
      // Each case's timestamps taken as it is sent: a `now` from before the loop drifts on a busy machine,
      // and "301 s ahead" becomes 300 (accepted) a second later.
      const cases: Array<(now: number) => DeliveryOptions> = [
        () => ({ signingSecret: 'not-the-secret' }),
        (now) => ({ timestamp: now - 301 }),
        (now) => ({ timestamp: now + 301 }),
        () => ({ signature: null }),
        () => ({ headers: { 'X-Slack-Request-Timestamp': null } }),
        // A re-serialised body sent with the signature of the original bytes.
        (now) => ({ rawBody: JSON.stringify(envelope, null, 1), timestamp: now, signature: signSlackRequest(h.slack.signingSecret, now, JSON.stringify(envelope)) }),
      ];
      for (const makeOptions of cases) {
        const options = makeOptions(Math.floor(Date.now() / 1000));
        const res = await h.slack.deliverEvent(h.url, envelope, options);
        assert.equal(res.status, 401, JSON.stringify(options));
        assert.equal(res.body.includes('invalid signature'), true);
      }
      await h.inbound.idle();
      assert.equal(h.posts.signals.length, 0);
      assert.equal(h.inbound.stats.deliveries, 0);
      assert.ok(h.logs.some((l) => l.msg === 'Slack request refused: bad signature' && l.fields?.reason === 'future_timestamp'));
    });

    it('should refuse a Content-Type other than the one Slack sends', async () => {
      const envelope = h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a });
      const res = await h.slack.deliverEvent(h.url, envelope, { contentType: 'text/plain' });
      assert.equal(res.status, 415);
      const action = h.slack.blockActionsPayload({ user: 'U0ALICE01', channel: CHANNEL, messageTs: h.ts.a, actionId: ACTION.up });
      const json = await h.slack.deliver(`${h.url}/slack/interactivity`, new URLSearchParams({ payload: JSON.stringify(action) }).toString(), 'application/json');
      assert.equal(json.status, 415);
      assert.equal(h.inbound.stats.deliveries, 0);
    });

    it('should answer an exact ssl_check=1 with nothing done, and never let ssl_check bypass verification', async () => {
      const check = await h.slack.deliver(`${h.url}/slack/interactivity`, 'ssl_check=1', 'application/x-www-form-urlencoded', { signature: null, headers: { 'X-Slack-Request-Timestamp': null } });
      assert.equal(check.status, 200);
      assert.equal(check.body, '');
      const action = h.slack.blockActionsPayload({ user: 'U0ALICE01', channel: CHANNEL, messageTs: h.ts.a, actionId: ACTION.up });
      const smuggled = `ssl_check=1&payload=${encodeURIComponent(JSON.stringify(action))}`;
      const res = await h.slack.deliver(`${h.url}/slack/interactivity`, smuggled, 'application/x-www-form-urlencoded', { signature: null });
      assert.equal(res.status, 401);
      await h.inbound.idle();
      assert.equal(h.posts.updates.length, 0);
    });

    it('should refuse to start with an empty signing secret', () => {
      for (const secret of ['', '  ']) assert.throws(() => createSlackRoutes({ signingSecret: secret, inbound: h.inbound }), /empty_signing_secret/);
    });
  });

  describe('reactions', () => {
    beforeEach(async () => {
      h = await start();
    });

    it('should count a thumbs-up on a candidate message as a signalled vote, acknowledged at once', async () => {
      const envelope = h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a });
      const res = await h.slack.deliverEvent(h.url, envelope);
      assert.equal(res.status, 200);
      assert.ok(res.ms < 500, `acknowledged in ${res.ms} ms`);
      await h.inbound.idle();
      assert.equal(h.posts.signals.length, 1);
      const { lifecycleId, vote } = h.posts.signals[0]!;
      assert.equal(lifecycleId, 'lc-1');
      assert.deepEqual(vote, {
        idempotencyKey: `slack:${envelope.event_id as string}`,
        candidateId: 'c1',
        value: 'up',
        rater: rater('U0ALICE01'),
        channel: 'slack',
        castAt: new Date(Math.floor(Number((envelope.event as { event_ts: string }).event_ts) * 1000)).toISOString(),
      });
      assert.match(vote.rater, /^r_[0-9a-f]{24}$/);
      assert.ok(!JSON.stringify(h.logs).includes('U0ALICE01'), 'the Slack user id is never logged');
    });

    it('should count retries of one event once: immediate retries, one 5 minutes later, and one arriving while the first is still handled', async () => {
      h.posts.lookupDelayMs = 1500; // a slow first delivery: Slack's http_timeout retry arrives meanwhile
      const envelope = h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a });
      const first = await h.slack.deliverEvent(h.url, envelope);
      const retries = await Promise.all([1, 2, 3].map((n) => h.slack.deliverEvent(h.url, envelope, { retryNum: n, retryReason: 'http_timeout' })));
      for (const r of [first, ...retries]) {
        assert.equal(r.status, 200);
        assert.ok(r.ms < 500, `acknowledged in ${r.ms} ms even while the first is in flight`);
      }
      assert.equal(h.posts.signals.length, 0, 'still in flight');
      await h.inbound.idle();
      h.clock.offsetMs = 5 * 60_000;
      await h.slack.deliverEvent(h.url, envelope, { retryNum: 3, retryReason: 'http_error' });
      await h.inbound.idle();
      assert.equal(h.posts.signals.length, 1);
      assert.equal(h.inbound.stats.duplicates, 4);
      assert.equal(h.posts.lookups.length, 1, 'the duplicates did no work');
    });

    it('should never discard a retry that is the only delivery', async () => {
      const envelope = h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '-1', channel: CHANNEL, ts: h.ts.b });
      await h.slack.deliverEvent(h.url, envelope, { retryNum: 2, retryReason: 'http_error' });
      await h.inbound.idle();
      assert.equal(h.posts.signals.length, 1);
      assert.equal(h.posts.signals[0]!.vote.value, 'down');
    });

    it('should normalise thumbs with skin tones and aliases, and ignore every other emoji', async () => {
      const cases: Array<[string, string, string]> = [
        ['U0USER001', '+1::skin-tone-4', 'up'], ['U0USER002', 'thumbsup', 'up'], ['U0USER003', '-1::skin-tone-2', 'down'],
        ['U0USER004', 'thumbsdown', 'down'], ['U0USER005', '-1', 'down'],
      ];
      for (const [user, reaction] of cases) await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user, reaction, channel: CHANNEL, ts: h.ts.a }));
      for (const reaction of ['tada', 'heart', 'thumbsup_all', '+1_', 'ok_hand::skin-tone-3']) {
        await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0USER009', reaction, channel: CHANNEL, ts: h.ts.a }));
      }
      await h.inbound.idle();
      assert.deepEqual(h.posts.signals.map((s) => [s.vote.rater, s.vote.value]), cases.map(([user, , value]) => [rater(user), value]));
    });

    it("should ignore reactions on other people's messages, on the header, on unknown bot messages, and the bot's own", async () => {
      const other = h.slack.postAsUser(CHANNEL, 'U0BOB0001', 'lunch?');
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: other.ts }));
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.header }));
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: '1700000000.000001', itemUser: h.slack.botUserId }));
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: h.slack.botUserId, reaction: '+1', channel: CHANNEL, ts: h.ts.a }));
      await h.inbound.idle();
      assert.equal(h.posts.signals.length, 0);
      assert.ok(!h.posts.lookups.includes(`slack:${CHANNEL}:${other.ts}`), "someone else's message is not even looked up");
      assert.equal(h.posts.lookups.filter((r) => r === `slack:${CHANNEL}:1700000000.000001`).length, 3, 'a fresh bot message is looked up again (visibility lag)');
    });

    it('should let a removal that arrives before its add win (ordered by event_ts)', async () => {
      const added = h.slack.nextTs();
      const removed = (Number(added) + 0.25).toFixed(6); // a quarter second later (castAt has ms resolution)
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a, removed: true, eventTs: removed }));
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a, eventTs: added }));
      await h.inbound.idle();
      assert.deepEqual(h.posts.signals.map((s) => s.vote.value), ['retract', 'up']);
      assert.deepEqual(h.posts.standing('lc-1', 'c1'), { up: 0, down: 0 }, 'the later removal stands');
    });

    it('should keep retrying when forwarding fails (Temporal briefly down), logging loudly, and count the vote once', async () => {
      h.posts.failForwards = 2;
      const res = await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a }));
      assert.equal(res.status, 200, 'acknowledged before forwarding');
      await h.inbound.idle();
      assert.equal(h.posts.signals.length, 1);
      assert.ok(h.logs.some((l) => l.level === 'error' && /retrying in the background/.test(l.msg)));
    });

    it('should not count a reaction on a closed lifecycle, and not retry it', async () => {
      h.posts.closed.add('lc-1');
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a }));
      await h.inbound.idle();
      assert.equal(h.posts.signals.length, 0);
      assert.ok(!h.logs.some((l) => /retrying/.test(l.msg)));
    });
  });

  describe('buttons', () => {
    beforeEach(async () => {
      h = await start();
    });

    const click = async (user: string, messageTs: string, actionId: string, value?: string) => {
      const payload = h.slack.blockActionsPayload({ user, channel: CHANNEL, messageTs, actionId, ...(value ? { value } : {}) });
      const res = await h.slack.deliverAction(h.url, payload);
      assert.equal(res.status, 200);
      assert.equal(res.body, '', 'acknowledged with an empty 200');
      await h.inbound.idle();
      const id = String(payload.response_url).split('/').pop();
      return h.slack.responses.filter((r) => r.id === id).map((r) => r.body);
    };

    it('should record, keep, change and withdraw a vote, answering the clicker ephemerally each time', async () => {
      const [recorded] = await click('U0ALICE01', h.ts.a, ACTION.up);
      assert.deepEqual({ ...recorded, text: undefined }, { response_type: 'ephemeral', replace_original: false, text: undefined });
      assert.match(String(recorded!.text), /Recorded your :\+1: on candidate A/);
      assert.match(String((await click('U0ALICE01', h.ts.a, ACTION.up))[0]!.text), /already stood/);
      assert.match(String((await click('U0ALICE01', h.ts.a, ACTION.down))[0]!.text), /Changed your vote on candidate A to :-1:/);
      assert.match(String((await click('U0ALICE01', h.ts.a, ACTION.retract))[0]!.text), /Withdrew your vote on candidate A/);
      assert.deepEqual(h.posts.updates.map((u) => u.vote.value), ['up', 'up', 'down', 'retract']);
      const keys = h.posts.updates.map((u) => u.vote.idempotencyKey);
      assert.ok(keys.every((k) => k.startsWith(`slack:${h.slack.teamId}:`) && k.endsWith(`:${rater('U0ALICE01')}`) && /:\d+\.\d+:/.test(k)), keys.join(','));
      assert.equal(new Set(keys).size, 4);
    });

    it('should count a button vote and a reaction by one person on one candidate once', async () => {
      await click('U0ALICE01', h.ts.a, ACTION.up);
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a }));
      await h.inbound.idle();
      assert.deepEqual(h.posts.standing('lc-1', 'c1'), { up: 1, down: 0 });
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '-1', channel: CHANNEL, ts: h.ts.a }));
      await h.inbound.idle();
      assert.deepEqual(h.posts.standing('lc-1', 'c1'), { up: 0, down: 1 }, 'the latest of the two channels stands');
    });

    it('should record "A is better", "B is better", "Tie" and withdraw on a two-model header as judgements, ties kept, thumbs untouched', async () => {
      assert.match(String((await click('U0ALICE01', h.ts.abHeader, ACTION.preferA))[0]!.text), /Recorded your answer: A is better\. \(1 answer so far\)/);
      assert.match(String((await click('U0ALICE01', h.ts.abHeader, ACTION.preferB))[0]!.text), /Changed your answer to: B is better/);
      assert.match(String((await click('U0ALICE01', h.ts.abHeader, ACTION.tie))[0]!.text), /Changed your answer to: a tie\. \(1 answer so far\)/);
      assert.deepEqual(h.posts.judgements.get('lc-ab')!.counted(), { byCandidate: { c1: 0, c2: 0 }, tie: 1, bothBad: 0, standing: 1 }, 'the tie stands as an answer');
      assert.match(String((await click('U0ALICE01', h.ts.abHeader, ACTION.retractPair))[0]!.text), /Withdrew your answer\. \(0 answers so far\)/);
      assert.deepEqual(h.posts.judged.map((j) => [j.lifecycleId, j.judgement.left, j.judgement.right, j.judgement.choice, j.judgement.channel]), [
        ['lc-ab', 'c1', 'c2', 'left', 'slack'], ['lc-ab', 'c1', 'c2', 'right', 'slack'], ['lc-ab', 'c1', 'c2', 'tie', 'slack'], ['lc-ab', 'c1', 'c2', 'retract', 'slack'],
      ]);
      assert.ok(h.posts.judged.every((j) => j.judgement.rater === rater('U0ALICE01') && j.judgement.idempotencyKey.endsWith(`:${rater('U0ALICE01')}`)));
      assert.equal(new Set(h.posts.judged.map((j) => j.judgement.idempotencyKey)).size, 4, 'one key per click');
      assert.deepEqual(h.posts.updates, [], 'no thumbs cast by a comparison');
      assert.deepEqual([h.posts.standing('lc-ab', 'c1'), h.posts.standing('lc-ab', 'c2')], [{ up: 0, down: 0 }, { up: 0, down: 0 }]);
    });

    it('should take a compare message\'s answers as judgements in the order the message shows, and count no reaction on it', async () => {
      const [a, b] = presentationOrder('lc-cmp', undefined, ['c1', 'c2'] as const);
      assert.match(String((await click('U0ALICE01', h.ts.compare, ACTION.preferA))[0]!.text), /Recorded your answer: A is better/);
      assert.match(String((await click('U0BOB0001', h.ts.compare, ACTION.bothBad))[0]!.text), /Recorded your answer: both bad\. \(2 answers so far\)/);
      assert.match(String((await click('U0ALICE01', h.ts.compare, ACTION.preferB))[0]!.text), /Changed your answer to: B is better/);
      assert.deepEqual(h.posts.judged.map((j) => [j.judgement.rater, j.judgement.left, j.judgement.right, j.judgement.choice]), [
        [rater('U0ALICE01'), a, b, 'left'], [rater('U0BOB0001'), a, b, 'both_bad'], [rater('U0ALICE01'), a, b, 'right'],
      ]);
      assert.deepEqual(h.posts.judgements.get('lc-cmp')!.counted(), { byCandidate: { [a]: 0, [b]: 1 }, tie: 0, bothBad: 1, standing: 2 });
      await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user: 'U0CAROL01', reaction: '+1', channel: CHANNEL, ts: h.ts.compare }));
      await h.inbound.idle();
      assert.deepEqual([h.posts.signals, h.posts.updates], [[], []], 'a reaction on a compare message is no vote');
      assert.ok(h.logs.some((l) => l.msg === 'Slack event not counted' && /not a candidate message/.test(String(l.fields?.reason))));
    });

    it('should refuse both bad where the lifecycle does not offer it, and a comparison button on a thumbs candidate or another lifecycle, counting nothing', async () => {
      const [a, b] = presentationOrder('lc-cmp-nbb', undefined, ['c1', 'c2'] as const);
      const value = JSON.stringify({ l: 'lc-cmp-nbb', p: 'both_bad', s: `${a},${b}` });
      assert.match(String((await click('U0ALICE01', h.ts.compareNoBothBad, ACTION.bothBad, value))[0]!.text), /could not be counted \(choice not offered\)/);
      assert.equal(h.posts.judgements.get('lc-cmp-nbb')!.counted().standing, 0);
      const [shownA, shownB] = presentationOrder('lc-cmp', undefined, ['c1', 'c2'] as const);
      const forgedOrder = JSON.stringify({ l: 'lc-cmp', p: 'a', s: `${shownB},${shownA}` });
      assert.match(String((await click('U0ALICE01', h.ts.compare, ACTION.preferA, forgedOrder))[0]!.text), /does not belong/);
      assert.match(String((await click('U0ALICE01', h.ts.compare, ACTION.preferA, JSON.stringify({ l: 'lc-ab', p: 'a', s: 'c1,c2' })))[0]!.text), /does not belong/);
      assert.match(String((await click('U0ALICE01', h.ts.a, ACTION.preferA, JSON.stringify({ l: 'lc-1', p: 'a', s: 'c1,c2' })))[0]!.text), /does not belong/);
      assert.deepEqual([h.posts.judged.length, h.posts.updates.length], [1, 0], 'only the refused both-bad reached the lifecycle');
    });

    it('should refuse tampered values and unknown messages without counting anything', async () => {
      const other = JSON.stringify({ l: 'lc-ab', c: 'c1', v: 'up' });
      assert.match(String((await click('U0ALICE01', h.ts.a, ACTION.up, other))[0]!.text), /does not belong/);
      const wrongCandidate = JSON.stringify({ l: 'lc-1', c: 'c2', v: 'up' });
      assert.match(String((await click('U0ALICE01', h.ts.a, ACTION.up, wrongCandidate))[0]!.text), /does not belong/);
      const wrongVote = JSON.stringify({ l: 'lc-1', c: 'c1', v: 'down' });
      assert.match(String((await click('U0ALICE01', h.ts.a, ACTION.up, wrongVote))[0]!.text), /does not belong/);
      assert.match(String((await click('U0ALICE01', h.ts.abA, ACTION.preferA, JSON.stringify({ l: 'lc-ab', p: 'a' })))[0]!.text), /does not belong/);
      const stray = h.slack.postAsUser(CHANNEL, h.slack.botUserId, 'something else');
      assert.match(String((await click('U0ALICE01', stray.ts, ACTION.up, JSON.stringify({ l: 'lc-1', c: 'c1', v: 'up' })))[0]!.text), /not a Prefline vote/);
      assert.equal(h.posts.updates.length, 0);
    });

    it('should tell the clicker when voting is closed', async () => {
      h.posts.closed.add('lc-1');
      assert.match(String((await click('U0ALICE01', h.ts.b, ACTION.down))[0]!.text), /closed/);
    });

    it('should count a redelivered click once', async () => {
      const payload = h.slack.blockActionsPayload({ user: 'U0ALICE01', channel: CHANNEL, messageTs: h.ts.a, actionId: ACTION.up });
      await Promise.all([h.slack.deliverAction(h.url, payload), h.slack.deliverAction(h.url, payload)]);
      await h.inbound.idle();
      assert.equal(h.posts.updates.length, 1);
    });
  });

  describe('allow-list', () => {
    beforeEach(async () => {
      h = await start({ allowedUsers: ['U0ALICE01'], allowedUsergroup: 'S0RATERS1' });
    });

    it('should count listed users and group members, tell others they are not raters, and ignore their reactions', async () => {
      for (const user of ['U0ALICE01', 'U0GROUP01', 'U0STRANGE']) {
        await h.slack.deliverEvent(h.url, h.slack.reactionEnvelope({ user, reaction: '+1', channel: CHANNEL, ts: h.ts.a }));
      }
      await h.inbound.idle();
      assert.deepEqual(h.posts.signals.map((s) => s.vote.rater), [rater('U0ALICE01'), rater('U0GROUP01')]);

      const payload = h.slack.blockActionsPayload({ user: 'U0STRANGE', channel: CHANNEL, messageTs: h.ts.a, actionId: ACTION.up });
      await h.slack.deliverAction(h.url, payload);
      await h.inbound.idle();
      const answer = h.slack.responses.find((r) => r.id === String(payload.response_url).split('/').pop());
      assert.match(String(answer?.body.text), /not on the rater list/);
      assert.equal(h.posts.updates.length, 0);
      assert.equal(h.slack.callsOf('usergroups.users.list').length, 1, 'the group is cached');
    });

    it('should fall back to chat.postEphemeral when the payload has no response_url', async () => {
      const payload = h.slack.blockActionsPayload({ user: 'U0STRANGE', channel: CHANNEL, messageTs: h.ts.a, actionId: ACTION.up, responseUrl: null });
      await h.slack.deliverAction(h.url, payload);
      await h.inbound.idle();
      assert.equal(h.slack.ephemerals.length, 1);
      assert.equal(h.slack.ephemerals[0]!.user, 'U0STRANGE');
      assert.match(h.slack.ephemerals[0]!.text, /not on the rater list/);
    });
  });

  describe('delivery journal', () => {
    let dir: string;
    const journals: DeliveryJournal[] = [];
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'prefline-slack-journal-'));
    });
    afterEach(async () => {
      for (const j of journals.splice(0)) await j.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const openJournal = async () => {
      const opened = await DeliveryJournal.open(dir);
      journals.push(opened.journal);
      return opened;
    };

    it('should keep what it could not forward, and have the next gateway deliver it once (reaction and click)', async () => {
      const first = await openJournal();
      h = await start({ journal: first.journal, forwardBudgetMs: 200, redeliverAfterMs: 60_000 });
      h.posts.failForwards = 1_000_000; // Temporal down for as long as this gateway runs
      const envelope = h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a });
      assert.equal((await h.slack.deliverEvent(h.url, envelope)).status, 200);
      const click = h.slack.blockActionsPayload({ user: 'U0BOB0001', channel: CHANNEL, messageTs: h.ts.b, actionId: ACTION.down });
      assert.equal((await h.slack.deliverAction(h.url, click)).status, 200);
      await waitUntil(() => h.logs.filter((l) => /kept in the delivery journal and tried again/.test(l.msg)).length >= 2 || undefined, 10_000, 'both given up for now');
      assert.equal(first.journal.pending, 2);
      assert.ok(!h.logs.some((l) => /LOST/.test(l.msg)), 'nothing is lost');
      // Slack's retry while the delivery waits in the journal is not a second delivery.
      assert.equal((await h.slack.deliverEvent(h.url, envelope, { retryNum: 1, retryReason: 'http_timeout' })).status, 200);
      assert.equal(h.inbound.stats.duplicates, 1);
      // This gateway stops; the next one starts with Temporal back.
      h.inbound.close();
      await first.journal.close();
      const second = await openJournal();
      assert.deepEqual(second.recovered.map((e) => e.kind).sort(), ['action', 'event']);
      h.posts.failForwards = 0;
      const next = new SlackInbound({
        posts: h.posts, raterKey: RATER_KEY, web: createSlackWebClient({ token: h.slack.botToken, apiUrl: h.slack.apiUrl, retries: 0 }),
        lookupRetryMs: [20], journal: second.journal,
      });
      next.resume(second.recovered);
      await next.idle();
      assert.deepEqual(h.posts.signals.map((s) => [s.lifecycleId, s.vote.candidateId, s.vote.value, s.vote.idempotencyKey]), [
        ['lc-1', 'c1', 'up', `slack:${envelope.event_id as string}`],
      ]);
      assert.deepEqual(h.posts.updates.map((u) => [u.lifecycleId, u.vote.candidateId, u.vote.value, u.vote.rater]), [['lc-1', 'c2', 'down', rater('U0BOB0001')]]);
      assert.deepEqual(h.posts.standing('lc-1', 'c1'), { up: 1, down: 0 });
      assert.equal(second.journal.pending, 0);
      // The clicker is told both times: not yet, then recorded.
      const answers = h.slack.responses.filter((r) => r.id === String(click.response_url).split('/').pop()).map((r) => String(r.body.text));
      assert.equal(answers.length, 2);
      assert.match(answers[0]!, /keeps trying/);
      assert.match(answers[1]!, /Recorded your :-1: on candidate B/);
      next.close();
    });

    it('should answer 503 when the delivery cannot be journaled, so Slack delivers it again, and count nothing', async () => {
      const { journal } = await openJournal();
      h = await start({ journal });
      await journal.close(); // stands in for a full or failed disk: appends are refused
      const envelope = h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: '+1', channel: CHANNEL, ts: h.ts.a });
      assert.equal((await h.slack.deliverEvent(h.url, envelope)).status, 503);
      const click = h.slack.blockActionsPayload({ user: 'U0BOB0001', channel: CHANNEL, messageTs: h.ts.b, actionId: ACTION.down });
      assert.equal((await h.slack.deliverAction(h.url, click)).status, 503);
      await h.inbound.idle();
      assert.equal(h.posts.signals.length + h.posts.updates.length, 0);
      assert.ok(h.logs.some((l) => l.level === 'error' && /journal cannot be written/.test(l.msg)));
      // The refusal is not remembered as handled: the redelivery, once the journal works, is accepted.
      const retry = await openJournal();
      const inbound = new SlackInbound({
        posts: h.posts, raterKey: RATER_KEY, web: createSlackWebClient({ token: h.slack.botToken, apiUrl: h.slack.apiUrl, retries: 0 }),
        lookupRetryMs: [20], journal: retry.journal,
      });
      assert.equal(await inbound.acceptEvent(envelope, { retryNum: 1 }), 'accepted');
      await inbound.idle();
      assert.equal(h.posts.signals.length, 1);
      inbound.close();
    });
  });

  describe('Socket Mode', () => {
    let socket: RunningSocketMode | undefined;
    beforeEach(async () => {
      h = await start();
    });
    afterEach(async () => {
      await socket?.close();
      socket = undefined;
    });

    it('should connect with the app token, ack every envelope, and feed the same handlers (deduplicated)', async () => {
      socket = await startSlackSocketMode({ appToken: h.slack.appToken, apiUrl: h.slack.apiUrl, inbound: h.inbound });
      await waitUntil(() => h.slack.socketCount === 1 || undefined, 5000, 'a Socket Mode connection');
      assert.equal(h.slack.callsOf('apps.connections.open')[0]!.token, h.slack.appToken);

      const envelope = h.slack.reactionEnvelope({ user: 'U0ALICE01', reaction: 'thumbsup', channel: CHANNEL, ts: h.ts.b });
      assert.deepEqual(await h.slack.sendEnvelope('events_api', envelope), {});
      assert.deepEqual(await h.slack.sendEnvelope('events_api', envelope, { retryAttempt: 1, retryReason: 'timeout' }), {});
      const click = h.slack.blockActionsPayload({ user: 'U0BOB0001', channel: CHANNEL, messageTs: h.ts.a, actionId: ACTION.down });
      assert.deepEqual(await h.slack.sendEnvelope('interactive', click), {});
      await waitUntil(async () => {
        await h.inbound.idle();
        return h.posts.signals.length + h.posts.updates.length >= 2 || undefined;
      }, 5000, 'votes forwarded');
      await h.inbound.idle();
      assert.deepEqual(h.posts.signals.map((s) => [s.vote.candidateId, s.vote.value]), [['c2', 'up']]);
      assert.deepEqual(h.posts.updates.map((u) => [u.vote.candidateId, u.vote.value]), [['c1', 'down']]);
      assert.equal(h.inbound.stats.duplicates, 1);
    });
  });
});
