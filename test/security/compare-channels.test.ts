/**
 * Bad input on every channel's comparison answers (issue 14): the web judgement route, email answer
 * links and Slack's comparison buttons. Every case asserts both halves of the promise: a clear refusal
 * (status and code, or the page or ephemeral answer), and nothing changed: no judgement reached the
 * lifecycle (or exactly the ones allowed), no standing answer moved.
 *
 * A judgement through another channel than the lifecycle's is refused by the lifecycle itself
 * (wrong_channel); that case runs against the real workflow in test/e2e/compare.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmailRoutes } from '../../channels/email/routes';
import { EmailState } from '../../channels/email/state';
import { signJudgementLink, signVoteLink, type JudgementLinkClaims } from '../../channels/email/tokens';
import { ACTION } from '../../channels/slack/messages';
import { presentationOrder } from '../../core/presentation';
import { pseudonymiseRater } from '../../core/pseudonym';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { issueSession } from '../../gateway/session';
import { FakeDirectory, MemoryArtifacts, votingLifecycle } from '../helpers/fake-directory';
import { SESSION_KEY, T0, TTL, expectError, pageClient, startTestGateway, stopTestGateway, type GatewayHarness, type TestGatewayOptions } from '../helpers/gateway';
import { CHANNEL, startSlackHarness, stopSlackHarness, type SlackHarness } from '../helpers/slack-gateway';

const TOKEN_KEY = Buffer.from('token-key-for-compare-security-01');
const RATER_KEY = Buffer.from('rater-key-for-compare-security-01');

describe('security: comparison answers on every channel', function () {
  this.timeout(30_000);

  describe('web: POST /api/lifecycles/<id>/judgements', () => {
    let h: GatewayHarness;
    const { judge, redeem } = pageClient(() => h);

    async function start(options: TestGatewayOptions = {}): Promise<void> {
      h = await startTestGateway({ openPanel: false, inviteCacheMs: 0, ...options });
      h.directory.add(votingLifecycle('lc-cmp', 'a fox', [{ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' }], { task: 'compare', quorum: { kind: 'responses', responses: 5 } }));
      h.directory.add(votingLifecycle('lc-strict', 'no both bad', [{ kind: 'text', text: 'x' }, { kind: 'text', text: 'y' }], { task: 'compare', allowBothBad: false }));
      h.directory.add(votingLifecycle('lc-three', 'three thumbs', [{ kind: 'text', text: '1' }, { kind: 'text', text: '2' }, { kind: 'text', text: '3' }]));
      h.directory.add(votingLifecycle('lc-spring', 'spring only', [{ kind: 'text', text: 's' }, { kind: 'text', text: 't' }], { task: 'compare', campaign: 'spring' }));
    }
    beforeEach(() => start());
    afterEach(() => stopTestGateway(h));

    const rater = async (label = 'alice@example.org', campaign?: string) => redeem((await h.invite(label, campaign ? { campaign } : {})).token);
    const shown = (r: string, lifecycleId = 'lc-cmp') => presentationOrder(lifecycleId, r, ['c1', 'c2'] as const);
    const answer = (r: string, choice: string, key: string, lifecycleId = 'lc-cmp') => {
      const [left, right] = shown(r, lifecycleId);
      return { left, right, choice, idempotencyKey: key };
    };
    const nothingJudged = async () => {
      assert.deepEqual(h.directory.judged, []);
      for (const id of ['lc-cmp', 'lc-strict', 'lc-three']) assert.equal((await h.directory.status(id))?.judgements?.standing ?? 0, 0, id);
    };

    it('refuses without a session, with a forged one, and with an invite session whose invite is gone', async () => {
      const r = 'r_0123456789abcdef01234567';
      await expectError(await fetch(`${h.url}/api/lifecycles/lc-cmp/judgements`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Prefline-Request': '1' }, body: JSON.stringify(answer(r, 'left', 'key-nosess-1')) }), 401, 'session_invalid');
      const forged = issueSession(Buffer.from('not-the-session-key-0123456789'), { rater: r, displayName: 'x', auth: 'invite', inviteId: 'inv_0123456789abcdef0123' }, TTL, T0);
      await expectError(await judge(forged, answer(r, 'left', 'key-forged-1'), 'lc-cmp'), 401, 'session_invalid');
      const orphan = issueSession(SESSION_KEY, { rater: r, displayName: 'x', auth: 'invite', inviteId: 'inv_0123456789abcdef0123' }, TTL, T0);
      await expectError(await judge(orphan, answer(r, 'left', 'key-orphan-1'), 'lc-cmp'), 401, 'session_invalid');
      await nothingJudged();
    });

    it('refuses a foreign session: a campaign\'s rater on another campaign\'s lifecycle is told it does not exist', async () => {
      const autumn = await rater('reviewer 7', 'autumn');
      await expectError(await judge(autumn.token, answer(autumn.rater, 'left', 'key-campaign-1', 'lc-spring'), 'lc-spring'), 404, 'unknown_lifecycle');
      await nothingJudged();
    });

    it('refuses a cross-site request: another Origin, or no X-Prefline-Request header', async () => {
      const alice = await rater();
      await expectError(await judge(alice.token, answer(alice.rater, 'left', 'key-origin-1'), 'lc-cmp', { Origin: 'https://evil.example' }), 403, 'forbidden_origin');
      await expectError(await judge(alice.token, answer(alice.rater, 'left', 'key-header-1'), 'lc-cmp', { 'X-Prefline-Request': '' }), 403, 'forbidden_origin');
      await expectError(await judge(alice.token, answer(alice.rater, 'left', 'key-form-01'), 'lc-cmp', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
      await nothingJudged();
    });

    it('refuses a forged order (the pair swapped, another candidate, the same twice) before forwarding it', async () => {
      const alice = await rater();
      const [left, right] = shown(alice.rater);
      for (const [l, r, key] of [[right, left, 'key-swap-01'], [left, 'c9', 'key-unknown-1'], [left, left, 'key-same-01']] as const) {
        const body = await expectError(await judge(alice.token, { left: l, right: r, choice: 'left', idempotencyKey: key }, 'lc-cmp'), 400, 'malformed_vote');
        assert.match(String(body.error), /order you are shown|left|right/);
      }
      await nothingJudged();
    });

    it('refuses a judgement on a thumbs lifecycle with three candidates (409 not_pairwise)', async () => {
      const alice = await rater();
      const body = await expectError(await judge(alice.token, { left: 'c1', right: 'c2', choice: 'left', idempotencyKey: 'key-three-1' }, 'lc-three'), 409, 'not_pairwise');
      assert.match(String(body.detail), /3 candidates/);
      await nothingJudged();
    });

    it('refuses both bad where the lifecycle does not offer it, changing nothing the rater had', async () => {
      const alice = await rater();
      assert.equal((await judge(alice.token, answer(alice.rater, 'tie', 'key-tie-0001', 'lc-strict'), 'lc-strict')).status, 200);
      const body = await expectError(await judge(alice.token, answer(alice.rater, 'both_bad', 'key-bothbad-1', 'lc-strict'), 'lc-strict'), 400, 'choice_not_offered');
      assert.match(String(body.detail), /allowBothBad: false/);
      assert.deepEqual((await h.directory.status('lc-strict'))?.judgements, { byCandidate: { c1: 0, c2: 0 }, tie: 1, bothBad: 0, standing: 1 }, 'the tie still stands');
    });

    it('records the session\'s rater and channel whatever the body claims, and shares the votes\' rate limit', async () => {
      await stopTestGateway(h);
      await start({ limits: { votesPerMinute: 3 } });
      const alice = await rater();
      const res = await judge(alice.token, { ...answer(alice.rater, 'left', 'key-claims-1'), rater: 'r_ffffffffffffffffffffffff', channel: 'slack', raterAuth: 'cli' }, 'lc-cmp');
      assert.equal(res.status, 200);
      const forwarded = h.directory.judged[0]!.judgement;
      assert.deepEqual([forwarded.rater, forwarded.channel, forwarded.raterAuth], [alice.rater, 'web', 'invite']);
      for (const key of ['key-flood-01', 'key-flood-02']) assert.equal((await judge(alice.token, answer(alice.rater, 'tie', key), 'lc-cmp')).status, 200);
      const limited = await judge(alice.token, answer(alice.rater, 'right', 'key-flood-03'), 'lc-cmp');
      await expectError(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.equal(h.directory.judged.length, 3, 'the limited answer never reached the lifecycle');
    });
  });

  describe('email: answer links', () => {
    let dir: string;
    let directory: FakeDirectory;
    let server: Server;
    let url: string;
    const alice = pseudonymiseRater(RATER_KEY, 'email', 'alice@example.com');
    const [left, right] = presentationOrder('lc-mail-cmp', alice, ['c1', 'c2'] as const);
    const claims = (extra: Partial<JudgementLinkClaims> = {}): JudgementLinkClaims => ({ lifecycleId: 'lc-mail-cmp', rater: alice, left, right, choice: 'left', expiresAt: Date.now() + 3_600_000, ...extra });
    const link = (token: string) => `${url}/email/j/${token}`;
    const post = (target: string) => fetch(target, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: '' });

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'prefline-compare-security-'));
      directory = new FakeDirectory();
      directory.add(votingLifecycle('lc-mail-cmp', 'a fox', [{ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' }], { channel: 'email', task: 'compare', allowBothBad: false }));
      server = createGatewayServer({
        directory, artifacts: new MemoryArtifacts(), raterKey: RATER_KEY, sessionKey: Buffer.from('session-key-for-compare-sec-0123'), sessionTtlMs: TTL,
        channelRoutes: createEmailRoutes({ directory, tokenKey: TOKEN_KEY, state: await EmailState.open(join(dir, 'email')) }), log: () => undefined,
      });
      ({ url } = await listen(server, '127.0.0.1', 0));
    });
    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    });

    it('refuses tampered, foreign-key, cross-purpose and expired tokens with the "link invalid" page, answering nothing', async () => {
      const good = signJudgementLink(TOKEN_KEY, claims());
      const [body, sig] = good.split('.') as [string, string];
      const flip = (s: string) => `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
      const reSigned = Buffer.from(JSON.stringify(['lc-mail-cmp', alice, right, left, 'l', claims().expiresAt])).toString('base64url');
      const cases: Array<[string, string, number]> = [
        ['a flipped body', `${flip(body)}.${sig}`, 400],
        ['a flipped signature', `${body}.${flip(sig)}`, 400],
        ['the order swapped under the old signature', `${reSigned}.${sig}`, 400],
        ['another key', signJudgementLink(Buffer.from('not-the-token-key-0123456789abcd'), claims()), 400],
        ['a vote link on the answer route', signVoteLink(TOKEN_KEY, { lifecycleId: 'lc-mail-cmp', rater: alice, candidateId: 'c1', value: 'up', expiresAt: claims().expiresAt }), 400],
        ['the pair naming one candidate twice', signJudgementLink(TOKEN_KEY, claims({ right: left })), 400],
        ['expired', signJudgementLink(TOKEN_KEY, claims({ expiresAt: Date.now() - 1 })), 410],
        ['garbage', 'not-a-token', 400],
      ];
      for (const [what, token, status] of cases) {
        for (const method of ['GET', 'POST'] as const) {
          const res = method === 'GET' ? await fetch(link(token)) : await post(link(token));
          assert.equal(res.status, status, `${what} (${method})`);
          assert.match(await res.text(), status === 410 ? /Link expired/ : /Link invalid/, what);
        }
      }
      // And an answer link on the vote route is no vote either.
      const res = await post(`${url}/email/v/${good}`);
      assert.equal(res.status, 400);
      assert.deepEqual([directory.received, directory.judged], [[], []]);
    });

    it('refuses both bad on a lifecycle that does not offer it, and any answer once closed, counting nothing', async () => {
      const bothBad = await post(link(signJudgementLink(TOKEN_KEY, claims({ choice: 'both_bad' }))));
      assert.equal(bothBad.status, 400);
      assert.match(await bothBad.text(), /"Both bad" is not an answer on this comparison; nothing was counted/);
      assert.equal((await directory.status('lc-mail-cmp'))?.judgements?.standing, 0);
      directory.close('lc-mail-cmp');
      const closed = await post(link(signJudgementLink(TOKEN_KEY, claims({ choice: 'tie' }))));
      assert.equal(closed.status, 409);
      assert.match(await closed.text(), /closed; your vote was not counted/);
      assert.equal((await directory.status('lc-mail-cmp'))?.judgements?.standing, 0);
    });
  });

  describe('slack: comparison buttons', () => {
    let h: SlackHarness;
    beforeEach(async () => {
      h = await startSlackHarness();
    });
    afterEach(() => stopSlackHarness(h));

    async function click(messageTs: string, actionId: string, value?: string, options: { user?: string; team?: string; unsigned?: boolean } = {}): Promise<{ status: number; answer: string }> {
      const payload = h.slack.blockActionsPayload({ user: options.user ?? 'U0ALICE01', channel: CHANNEL, messageTs, actionId, ...(value ? { value } : {}) });
      if (options.team) (payload.user as { team_id: string }).team_id = options.team;
      if (options.team) (payload.team as { id: string }).id = options.team;
      const res = await h.slack.deliverAction(h.url, payload, options.unsigned ? { signature: null } : {});
      await h.inbound.idle();
      const id = String(payload.response_url).split('/').pop();
      return { status: res.status, answer: String(h.slack.responses.find((r) => r.id === id)?.body.text ?? '') };
    }
    const nothingJudged = () => {
      assert.deepEqual(h.posts.judged, []);
      for (const id of ['lc-ab', 'lc-cmp', 'lc-cmp-nbb']) assert.equal(h.posts.judgements.get(id)!.counted().standing, 0, id);
      assert.deepEqual(h.posts.updates, []);
    };
    const [a, b] = presentationOrder('lc-cmp', undefined, ['c1', 'c2'] as const);

    it('refuses values naming another lifecycle, another candidate or another order than the message shows', async () => {
      const values = [
        { l: 'lc-ab', p: 'a', s: 'c1,c2' }, // another lifecycle's button on this message
        { l: 'lc-cmp', p: 'a', s: `${b},${a}` }, // the order swapped
        { l: 'lc-cmp', p: 'a', s: `${a},c9` }, // a candidate the lifecycle does not have
        { l: 'lc-cmp', p: 'a', s: `${a},${a}` },
        { l: 'lc-cmp', p: 'a' }, // no order at all
        { l: 'lc-cmp', p: 'b', s: `${a},${b}` }, // a choice the action does not say
        { l: 'lc-cmp', p: 'left', s: `${a},${b}` },
      ];
      for (const value of values) {
        const { status, answer } = await click(h.ts.compare, ACTION.preferA, JSON.stringify(value));
        assert.equal(status, 200, 'acknowledged');
        assert.match(answer, /does not belong to this message; nothing was counted/, JSON.stringify(value));
      }
      // A thumbs candidate's message is no comparison, whatever the value says.
      assert.match((await click(h.ts.abA, ACTION.preferA, JSON.stringify({ l: 'lc-ab', p: 'a', s: 'c1,c2' }))).answer, /does not belong/);
      nothingJudged();
    });

    it('refuses both bad where it is not offered, a click from another workspace, and an unsigned delivery', async () => {
      const [na, nb] = presentationOrder('lc-cmp-nbb', undefined, ['c1', 'c2'] as const);
      const bothBad = await click(h.ts.compareNoBothBad, ACTION.bothBad, JSON.stringify({ l: 'lc-cmp-nbb', p: 'both_bad', s: `${na},${nb}` }));
      assert.match(bothBad.answer, /could not be counted \(choice not offered\)/);
      h.posts.judged.length = 0; // it reached the lifecycle, which refused it
      assert.match((await click(h.ts.compare, ACTION.preferA, undefined, { team: 'T0OTHER01' })).answer, /other workspaces are not counted/);
      assert.equal((await click(h.ts.compare, ACTION.preferA, undefined, { unsigned: true })).status, 401);
      nothingJudged();
    });
  });
});
