/**
 * Bad input at the entry points that start lifecycles: the `/prefline` slash command (over real HTTP,
 * sent by the Slack stand-in) and the rating page's prompt box (over real HTTP with sessions issued by
 * the gateway). Every case asserts a clear refusal and that nothing was started: the fake directory
 * records every start it is asked for, and none was.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signSlackRequest } from '../../channels/slack/verify';
import { GenerationBudget } from '../../core/generation-budget';
import { issueSession } from '../../gateway/session';
import { votingLifecycle } from '../helpers/fake-directory';
import { JSON_HEADERS, SESSION_KEY, T0, TTL, expectError, pageClient, startTestGateway, stopTestGateway, type GatewayHarness } from '../helpers/gateway';
import { waitUntil } from '../helpers/processes';
import { CHANNEL, USERS, startCommandHarness, type CommandHarness } from '../helpers/slack-commands';

describe('security: starting lifecycles', function () {
  this.timeout(30_000);

  describe('the /prefline command', () => {
    let h: CommandHarness;
    beforeEach(async () => {
      h = await startCommandHarness();
    });
    afterEach(async () => {
      await h.stop();
    });

    /** Nothing was asked of the directory, after every background start had its chance. */
    async function nothingStarted(): Promise<void> {
      await h.inbound.idle();
      assert.deepEqual(h.directory.startRequests, []);
    }

    const body = (text: string, extra: Record<string, string> = {}) => new URLSearchParams({ ...h.slack.slashCommandFields({ user: USERS.starter, channel: CHANNEL, text }), ...extra }).toString();

    it('should refuse an unsigned, forged, stale or future command with 401', async () => {
      const now = Math.floor(Date.now() / 1000);
      const text = body('a fox');
      const cases = [
        { signature: null },
        { signature: signSlackRequest('not-the-secret', now, text) },
        { timestamp: now - 6 * 60 },
        { timestamp: now + 6 * 60 },
        { signature: 'v1=' + '0'.repeat(64) },
      ];
      for (const options of cases) {
        const res = await h.slack.deliver(`${h.url}/slack/commands`, text, 'application/x-www-form-urlencoded', options);
        assert.equal(res.status, 401, JSON.stringify(options));
        assert.deepEqual(JSON.parse(res.body), { error: 'invalid signature' });
      }
      await nothingStarted();
    });

    it('should refuse a body changed after signing: another prompt, another user, another channel', async () => {
      const now = Math.floor(Date.now() / 1000);
      const signed = body('a fox');
      const signature = signSlackRequest(h.slack.signingSecret, now, signed);
      for (const tampered of [signed.replace('a+fox', 'a+wolf'), signed.replace(USERS.starter, USERS.ops), signed.replace(CHANNEL, 'C0OTHER001'), `${signed}&user_id=${USERS.starter}`]) {
        const res = await h.slack.deliver(`${h.url}/slack/commands`, tampered, 'application/x-www-form-urlencoded', { timestamp: now, signature });
        assert.equal(res.status, 401);
      }
      await nothingStarted();
    });

    it('should refuse a command that is not form-encoded, and answer an ssl_check without doing anything', async () => {
      const res = await h.slack.deliver(`${h.url}/slack/commands`, JSON.stringify({ text: 'a fox' }), 'application/json');
      assert.equal(res.status, 415);
      const check = await h.slack.deliver(`${h.url}/slack/commands`, 'ssl_check=1', 'application/x-www-form-urlencoded', { signature: null });
      assert.deepEqual([check.status, check.body], [200, '']);
      await nothingStarted();
    });

    it('should refuse a command from another workspace (Slack Connect), with or without an enterprise id that is not ours', async () => {
      for (const extra of [{ teamId: 'T0OTHERORG' }, { teamId: 'T0OTHERORG', enterpriseId: 'E0NOTOURS1' }]) {
        const { body: answer } = await h.command(USERS.starter, 'a fox', extra);
        assert.equal(answer.text, ':no_entry: Commands from other workspaces are not accepted here.');
      }
      await nothingStarted();
    });

    it('should refuse a user who is not a starter, and a command without its user, channel or trigger', async () => {
      assert.match(String((await h.command(USERS.stranger, 'a fox')).body.text), /You may not start Prefline lifecycles/);
      for (const missing of ['user_id', 'channel_id', 'team_id']) {
        const fields = h.slack.slashCommandFields({ user: USERS.starter, channel: CHANNEL, text: 'a fox' });
        delete fields[missing];
        const res = await h.slack.deliverCommand(h.url, fields);
        assert.equal(JSON.parse(res.body).text, 'This command could not be read; nothing was started.', missing);
      }
      for (const trigger of ['', "x' OR PreflineChannel = 'web"]) {
        assert.equal((await h.command(USERS.starter, 'a fox', { triggerId: trigger })).body.text, 'This command could not be read; nothing was started.');
      }
      const bad = await h.command("U0ALICE01' OR 1=1", 'a fox');
      assert.equal(bad.body.text, 'This command could not be read; nothing was started.');
      await nothingStarted();
    });

    it('should refuse models that are not allowed, whatever the flag, and prompts the lifecycle would refuse', async () => {
      for (const text of ['a fox --model replicate:evil/miner', 'a fox --vs openai:gpt-4o', 'a fox --model=demo:nope', 'x'.repeat(4001)]) {
        assert.doesNotMatch(String((await h.command(USERS.starter, text)).body.text), /^generating/, text);
      }
      await nothingStarted();
    });

    it('should answer a prompt that tries to notify the channel without notifying anyone, and never echo it into the acknowledgement', async () => {
      const { body: answer } = await h.command(USERS.starter, '<!channel> <@U0OPS0001> look --nope');
      assert.ok(!String(answer.text).includes('<!channel>') && !String(answer.text).includes('<@U0OPS0001>'), String(answer.text));
      await nothingStarted();
    });

    it('should never close a lifecycle for someone who neither started it nor is ops, whatever id they give', async () => {
      h.directory.add({ ...votingLifecycle('lc-ops', 'p', [{ kind: 'text', text: 'x' }]), startedBy: 'r_0123456789abcdef01234567' });
      for (const id of ['lc-ops', "lc-ops' OR 1=1", '../lc-ops']) {
        const text = String((await h.command(USERS.stranger, `close ${id}`)).body.text);
        // (A quote splits the text into more words: then it is a start, which a stranger may not make.)
        assert.match(text, /Only whoever started this lifecycle|There is no lifecycle|Say which lifecycle|You may not start/, id);
      }
      assert.deepEqual(h.directory.closeRequests, []);
      await nothingStarted();
    });

    it('should not post the link to a response_url that is not Slack\'s, nor follow a redirect', async () => {
      const hits: string[] = [];
      const canary = http.createServer((req, res) => {
        hits.push(String(req.url));
        res.writeHead(302, { Location: `${h.slack.url}/respond/redirected` }).end();
      });
      await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
      try {
        const elsewhere = `http://127.0.0.1:${(canary.address() as AddressInfo).port}/respond/steal`;
        await h.command(USERS.starter, 'a fox', { responseUrl: elsewhere });
        const [id] = await waitUntil(async () => (h.directory.started().length === 1 ? h.directory.started() : undefined), 5000, 'the start');
        const header = h.slack.postAsUser(CHANNEL, h.slack.botUserId, 'header');
        h.directory.publish(id!, [], [{ ref: `slack:${CHANNEL}:${header.ts}` }]);
        await waitUntil(async () => (h.slack.ephemerals.length > 0 ? true : undefined), 5000, 'the answer by chat.postEphemeral');
        assert.deepEqual(hits, [], 'the foreign response_url was never called');
        assert.deepEqual(h.slack.responsesTo('redirected'), []);
      } finally {
        canary.close();
      }
    });
  });

  describe('the prompt box', () => {
    let h: GatewayHarness;
    let budgetDir: string;
    const { signIn, redeem } = pageClient(() => h);
    beforeEach(async () => {
      budgetDir = mkdtempSync(join(tmpdir(), 'prefline-security-budget-'));
      h = await startTestGateway({ starts: { models: ['demo:text'], startsPerHour: 0, budget: await GenerationBudget.open(budgetDir, 4) } });
    });
    afterEach(async () => {
      await stopTestGateway(h);
      rmSync(budgetDir, { recursive: true, force: true });
    });

    const start = (token: string | undefined, body: unknown = { prompt: 'a fox', model: 'demo:text', candidates: 1, idempotencyKey: 'click-00000001' }, headers: Record<string, string> = {}) =>
      fetch(`${h.url}/api/lifecycles`, { method: 'POST', headers: { ...JSON_HEADERS, ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

    async function generator(): Promise<string> {
      const { token } = await h.invite('alice@example.org', { canGenerate: true });
      return (await redeem(token)).token;
    }

    it('should refuse anyone without a session, with an expired, forged or tampered one', async () => {
      await expectError(await start(undefined), 401, 'session_invalid');
      await expectError(await start('nonsense'), 401, 'session_invalid');
      const expired = issueSession(SESSION_KEY, { rater: 'r_0123456789abcdef01234567', displayName: 'x', auth: 'oidc', canGenerate: true }, TTL, T0 - 2 * TTL);
      await expectError(await start(expired), 401, 'session_expired');
      const foreignKey = issueSession(Buffer.from('some-other-session-key-0123456789'), { rater: 'r_0123456789abcdef01234567', displayName: 'x', auth: 'oidc', canGenerate: true }, TTL, T0);
      await expectError(await start(foreignKey), 401, 'session_invalid');
      assert.deepEqual(h.directory.startRequests, []);
    });

    it('should refuse an OIDC session on a gateway without OIDC, and an open-panel name, even one that asks to generate', async () => {
      const oidc = issueSession(SESSION_KEY, { rater: 'r_0123456789abcdef01234567', displayName: 'x', auth: 'oidc', canGenerate: true }, TTL, T0);
      await expectError(await start(oidc), 401, 'session_invalid');
      const named = await signIn('Mallory');
      await expectError(await start(named.token), 403, 'start_not_allowed');
      assert.deepEqual(h.directory.startRequests, []);
    });

    it('should refuse cross-site requests: another origin, no X-Prefline-Request, a simple form post', async () => {
      const token = await generator();
      await expectError(await start(token, undefined, { Origin: 'https://evil.example' }), 403, 'forbidden_origin');
      await expectError(await start(token, undefined, { 'X-Prefline-Request': '0' }), 403, 'forbidden_origin');
      const form = await fetch(`${h.url}/api/lifecycles`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'prompt=a+fox&model=demo:text' });
      await expectError(form, 403, 'forbidden_origin');
      assert.deepEqual(h.directory.startRequests, []);
    });

    it('should refuse what a rater may not choose: channel, provenance, quorum, params, another model, an oversized body', async () => {
      const token = await generator();
      const base = { prompt: 'a fox', model: 'demo:text', candidates: 1, idempotencyKey: 'click-00000001' };
      for (const extra of [{ channel: 'email:everyone@example.org' }, { startedBy: 'r_ffffffffffffffffffffffff' }, { startedFrom: 'cli' }, { votesPerCandidate: 1 }, { params: { seed: 1 } }]) {
        await expectError(await start(token, { ...base, ...extra }), 400, 'invalid_start');
      }
      await expectError(await start(token, { ...base, model: 'replicate:evil/miner' }), 400, 'model_not_allowed');
      await expectError(await start(token, { ...base, candidates: 1e9 }), 400, 'invalid_start');
      await expectError(await start(token, JSON.stringify({ ...base, prompt: 'x'.repeat(20_000) })), 413, 'body_too_large');
      await expectError(await start(token, '{"prompt": '), 400, 'invalid_json');
      assert.deepEqual(h.directory.startRequests, []);
    });

    it('should hold a rater to the budget however many starts race, and name nothing of another rater', async () => {
      const token = await generator();
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => start(token, { prompt: 'a fox', model: 'demo:text', candidates: 2, idempotencyKey: `race-0000000${i}` })));
      const started = results.filter((r) => r.status === 201).length;
      assert.ok(started <= 2, `4 candidates fit twice at most, ${started} started`);
      for (const r of results.filter((x) => x.status !== 201)) await expectError(r, 429, 'budget_exhausted');
      assert.equal(h.directory.started().length, started);
      // Another rater's click key names a lifecycle of their own, never this one.
      const { token: bob } = await redeem((await h.invite('bob@example.org', { canGenerate: true })).token);
      const res = await start(bob, { prompt: 'a fox', model: 'demo:text', candidates: 1, idempotencyKey: 'race-00000000' });
      assert.equal(res.status, 201);
      assert.ok(!h.directory.started().slice(0, -1).includes(((await res.json()) as { lifecycleId: string }).lifecycleId));
    });
  });
});
