/**
 * Bad input at the Slack channel's entry points, over real HTTP against the gateway's Slack routes and
 * the Slack stand-in: votes from other teams (Slack Connect), `response_url`s that point elsewhere,
 * a prompt that tries to notify the channel, and forged or stale signatures. Every case asserts a
 * clear refusal and that nothing changed: no vote forwarded (the fake post directory records every
 * call), no request reached the canary server.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ANSWERS } from '../../channels/slack/answers';
import { ACTION } from '../../channels/slack/messages';
import { signSlackRequest } from '../../channels/slack/verify';
import { CHANNEL, startSlackHarness, stopSlackHarness, type SlackHarness } from '../helpers/slack-gateway';

const OTHER_TEAM = 'T0OTHERORG';

/** A server that must never be called: it counts what reaches it. */
class Canary {
  readonly hits: string[] = [];
  url = '';
  private server!: http.Server;

  static async start(handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Canary> {
    const canary = new Canary();
    canary.server = http.createServer((req, res) => {
      canary.hits.push(`${req.method} ${req.url}`);
      if (handler) return handler(req, res);
      res.end('ok');
    });
    await new Promise<void>((resolve) => canary.server.listen(0, '127.0.0.1', resolve));
    canary.url = `http://127.0.0.1:${(canary.server.address() as AddressInfo).port}`;
    return canary;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

describe('security: Slack', function () {
  this.timeout(30_000);
  let h: SlackHarness;
  let canary: Canary;

  beforeEach(async () => {
    canary = await Canary.start();
  });
  afterEach(async () => {
    await stopSlackHarness(h);
    await canary.close();
  });

  const reaction = (user = 'U0ALICE01') => h.slack.reactionEnvelope({ user, reaction: '+1', channel: CHANNEL, ts: h.ts.a }) as Record<string, unknown> & { event: Record<string, unknown> };
  const clickPayload = (extra: Record<string, unknown> = {}) => ({ ...h.slack.blockActionsPayload({ user: 'U0EVE0001', channel: CHANNEL, messageTs: h.ts.a, actionId: ACTION.up }), ...extra });
  const answersTo = (payload: Record<string, unknown>) => h.slack.responses.filter((r) => r.id === String(payload.response_url).split('/').pop()).map((r) => String(r.body.text));

  async function deliverEvent(envelope: unknown): Promise<void> {
    const res = await h.slack.deliverEvent(h.url, envelope);
    assert.equal(res.status, 200, 'acknowledged (Slack must not retry it)');
    await h.inbound.idle();
  }

  async function deliverClick(payload: unknown): Promise<void> {
    const res = await h.slack.deliverAction(h.url, payload);
    assert.equal(res.status, 200);
    await h.inbound.idle();
  }

  describe('votes from other teams (Slack Connect)', () => {
    beforeEach(async () => {
      h = await startSlackHarness();
    });

    it('should not count a reaction delivered for another team', async () => {
      await deliverEvent({ ...reaction(), team_id: OTHER_TEAM });
      assert.deepEqual(h.posts.signals, []);
      assert.ok(h.logs.some((l) => l.msg === 'Slack reaction from another team refused; not counted' && l.fields?.team === OTHER_TEAM));
    });

    it('should not count a reaction whose user belongs to another team', async () => {
      const envelope = reaction('U0EVE0001');
      envelope.event.user_team = OTHER_TEAM;
      await deliverEvent(envelope);
      assert.deepEqual(h.posts.signals, []);
    });

    it('should not count a reaction in a shared channel that does not name the user\'s team, and count one that names ours', async () => {
      await deliverEvent({ ...reaction('U0EVE0001'), is_ext_shared_channel: true });
      assert.deepEqual(h.posts.signals, []);
      const ours = { ...reaction(), is_ext_shared_channel: true };
      ours.event.user_team = h.slack.teamId;
      await deliverEvent(ours);
      assert.equal(h.posts.signals.length, 1, 'the control: our own rater in the same channel counts');
    });

    it('should tell a clicker of another team that nothing was counted, and forward nothing', async () => {
      const payload = clickPayload({ user: { id: 'U0EVE0001', team_id: OTHER_TEAM } });
      await deliverClick(payload);
      assert.deepEqual(answersTo(payload), [ANSWERS.foreignTeam]);
      assert.deepEqual(h.posts.updates, []);
      assert.deepEqual(h.posts.standing('lc-1', 'c1'), { up: 0, down: 0 });
    });

    it('should refuse a click whose payload names another team, even with a user of ours', async () => {
      const payload = clickPayload({ team: { id: OTHER_TEAM, domain: 'other' } });
      await deliverClick(payload);
      assert.deepEqual(answersTo(payload), [ANSWERS.foreignTeam]);
      assert.deepEqual(h.posts.updates, []);
    });
  });

  describe('configured teams', () => {
    beforeEach(async () => {
      h = await startSlackHarness({ teamIds: [OTHER_TEAM] });
    });

    it('should count only the configured teams, not the bot token\'s own when they are set', async () => {
      await deliverEvent(reaction());
      const payload = clickPayload();
      await deliverClick(payload);
      assert.deepEqual(h.posts.signals, []);
      assert.deepEqual(h.posts.updates, []);
      assert.deepEqual(answersTo(payload), [ANSWERS.foreignTeam]);
    });
  });

  describe('response_url', () => {
    const fetched: string[] = [];
    const spyFetch = ((url: string | URL, init?: RequestInit) => {
      fetched.push(String(url));
      return fetch(url, init);
    }) as typeof fetch;

    beforeEach(() => {
      fetched.length = 0;
    });

    it('should never call a response_url on another host: the answer goes by chat.postEphemeral', async () => {
      h = await startSlackHarness({ fetch: spyFetch });
      for (const url of [`${canary.url}/hook`, 'http://169.254.169.254/latest/meta-data/iam/', `https://hooks.slack.com.${'evil'}.test/x`]) {
        await deliverClick(clickPayload({ response_url: url }));
      }
      assert.deepEqual(canary.hits, []);
      assert.deepEqual(fetched, [], 'no request to any of them');
      assert.equal(h.slack.ephemerals.length, 3, 'each clicker was still answered, by chat.postEphemeral');
      assert.ok(h.logs.some((l) => /response_url is not on an allowed origin/.test(l.msg)));
    });

    it('should not follow a redirect from an allowed origin to another host', async () => {
      const redirector = await Canary.start((_req, res) => {
        res.writeHead(307, { Location: `${canary.url}/stolen` });
        res.end();
      });
      try {
        h = await startSlackHarness({ fetch: spyFetch, responseUrlOrigins: [redirector.url] });
        await deliverClick(clickPayload({ response_url: `${redirector.url}/hook` }));
        assert.deepEqual(redirector.hits, ['POST /hook']);
        assert.deepEqual(canary.hits, [], 'the redirect was refused');
        assert.ok(h.logs.some((l) => l.msg === 'could not send the Slack ephemeral answer'));
      } finally {
        await redirector.close();
      }
    });
  });

  describe('text Prefline posts', () => {
    it('should post a prompt holding <!channel>, a mention and a link with every fallback text escaped', async () => {
      h = await startSlackHarness({}, { prompt: 'ping <!channel> and <@U0ALICE01>: see <http://evil.test/login|the docs>' });
      const posted = [...h.slack.callsOf('chat.postMessage'), ...h.slack.callsOf('chat.update')];
      assert.ok(posted.length >= 6, 'both lifecycles posted');
      for (const call of posted) assert.doesNotMatch(String(call.args.text), /<!channel>|<@U0ALICE01>|<http:/, String(call.args.text));
      const header = h.slack.message(CHANNEL, h.ts.header)!;
      assert.equal(header.text, 'Rate the candidates for: ping &lt;!channel&gt; and &lt;@U0ALICE01&gt;: see &lt;http://evil.test/login|the docs&gt;');
      assert.deepEqual(canary.hits, []);
    });
  });

  describe('signatures', () => {
    beforeEach(async () => {
      h = await startSlackHarness();
    });

    it('should refuse a vote signed with another secret, a stale one, and ssl_check smuggling, counting nothing', async () => {
      const envelope = reaction();
      const now = Math.floor(Date.now() / 1000);
      const payload = clickPayload();
      const smuggled = `ssl_check=1&payload=${encodeURIComponent(JSON.stringify(payload))}`;
      const results = [
        await h.slack.deliverEvent(h.url, envelope, { signingSecret: 'a-secret-someone-guessed' }),
        await h.slack.deliverEvent(h.url, envelope, { timestamp: now - 3600, signature: signSlackRequest(h.slack.signingSecret, now - 3600, JSON.stringify(envelope)) }),
        await h.slack.deliverAction(h.url, payload, { rawBody: smuggled, signature: null }),
        await h.slack.deliverAction(h.url, payload, { signingSecret: 'a-secret-someone-guessed' }),
      ];
      assert.deepEqual(results.map((r) => r.status), [401, 401, 401, 401]);
      await h.inbound.idle();
      assert.deepEqual(h.posts.signals, []);
      assert.deepEqual(h.posts.updates, []);
      assert.equal(h.inbound.stats.deliveries, 0, 'nothing reached the inbound');
    });

    it('should refuse a validly signed click whose button names another lifecycle, counting nothing', async () => {
      const payload = clickPayload();
      (payload.actions as Array<Record<string, unknown>>)[0]!.value = JSON.stringify({ l: 'lc-ab', c: 'c1', v: 'up' });
      await deliverClick(payload);
      assert.deepEqual(answersTo(payload), [ANSWERS.tampered]);
      assert.deepEqual(h.posts.updates, []);
    });
  });
});
