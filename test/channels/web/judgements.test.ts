/**
 * The web channel's judgement API (POST /api/lifecycles/<id>/judgements) and what its reads show of
 * compare lifecycles, through the gateway host over real HTTP against the fake directory (which applies
 * the lifecycle's judgement rules: workflows/judgement-tally.ts).
 */
import assert from 'node:assert/strict';
import { VoteRejectedError, type VoteRejectionCode } from '../../../core/lifecycle-directory';
import { presentationOrder } from '../../../core/presentation';
import { votingLifecycle } from '../../helpers/fake-directory';
import { T0, expectError, pageClient, startTestGateway as start, stopTestGateway, type GatewayHarness } from '../../helpers/gateway';

const MODEL_NAMES = /demo:shapes|demo:text|replicate:/;

describe('channels/web/routes (judgements)', () => {
  let h: GatewayHarness;
  const { signIn, judge, get } = pageClient(() => h);
  beforeEach(async () => {
    h = await start();
    h.directory.add(votingLifecycle('lc-cmp', 'a fox in snow', [{ kind: 'text', text: 'fox one' }, { kind: 'text', text: 'fox two' }], {
      task: 'compare', question: 'Which fox is sharper?', models: ['demo:text', 'replicate:acme/fox'], quorum: { kind: 'responses', responses: 10 },
    }));
    h.directory.add(votingLifecycle('lc-strict', 'no both bad', [{ kind: 'text', text: 'x' }, { kind: 'text', text: 'y' }], { task: 'compare', allowBothBad: false, quorum: { kind: 'responses', responses: 3 } }));
    h.directory.add(votingLifecycle('lc-three', 'three', [{ kind: 'text', text: '1' }, { kind: 'text', text: '2' }, { kind: 'text', text: '3' }]));
  });
  afterEach(() => stopTestGateway(h));

  /** The order `rater` is shown lc-cmp, as the API must name it. */
  const order = (rater: string, lifecycleId = 'lc-cmp') => presentationOrder(lifecycleId, rater, ['c1', 'c2'] as const);
  const answer = (rater: string, choice: string, key: string, lifecycleId = 'lc-cmp') => {
    const [left, right] = order(rater, lifecycleId);
    return { left, right, choice, idempotencyKey: key };
  };

  it('shows a compare lifecycle with its question and this rater\'s order, and no model names', async () => {
    const alice = await signIn('Alice');
    const status = (await (await get('/api/lifecycles/lc-cmp', alice.token)).json()) as Record<string, unknown>;
    const [left, right] = order(alice.rater);
    assert.equal(status.task, 'compare');
    assert.equal(status.question, 'Which fox is sharper?');
    assert.equal(status.allowBothBad, true);
    assert.deepEqual(status.pair, { left, right });
    assert.equal(status.modelsHidden, true);
    assert.doesNotMatch(JSON.stringify(status), MODEL_NAMES);
    // The list shows each rater their own order.
    const raters = await Promise.all(['Bob', 'Carol', 'Dan', 'Erin', 'Frank', 'Gina'].map((n) => signIn(n)));
    for (const r of raters) {
      const list = (await (await get('/api/lifecycles', r.token)).json()) as { lifecycles: Array<{ lifecycleId: string; pair?: unknown }> };
      const [l, rt] = order(r.rater);
      assert.deepEqual(list.lifecycles.find((x) => x.lifecycleId === 'lc-cmp')?.pair, { left: l, right: rt });
      assert.doesNotMatch(JSON.stringify(list), MODEL_NAMES);
    }
    assert.ok(new Set([alice, ...raters].map((r) => order(r.rater)[0])).size === 2, 'both orders among seven raters');
    // A thumbs lifecycle carries no pair and says it is thumbs.
    const thumbs = (await (await get('/api/lifecycles/lc-1', alice.token)).json()) as Record<string, unknown>;
    assert.equal(thumbs.task, 'thumbs');
    assert.equal('pair' in thumbs, false);
  });

  it('forwards a JudgementRequest in the rater\'s order, namespaced by rater, and answers the receipt: left, change to tie, withdraw', async () => {
    const { token, rater } = await signIn();
    const [left, right] = order(rater);
    h.clock.now = T0 + 5000;
    let res = await judge(token, { ...answer(rater, 'left', 'browser-key-1'), comment: '  crisper  ' }, 'lc-cmp');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { outcome: 'recorded', judgements: { byCandidate: { c1: left === 'c1' ? 1 : 0, c2: left === 'c2' ? 1 : 0 }, tie: 0, bothBad: 0, standing: 1 } });
    assert.deepEqual(h.directory.judged, [{
      lifecycleId: 'lc-cmp',
      judgement: { idempotencyKey: `web:${rater}:browser-key-1`, left, right, choice: 'left', rater, channel: 'web', castAt: new Date(T0 + 5000).toISOString(), raterAuth: 'open', comment: 'crisper' },
    }]);
    h.clock.now += 1000;
    res = await judge(token, answer(rater, 'tie', 'browser-key-2'), 'lc-cmp');
    assert.deepEqual(await res.json(), { outcome: 'changed', judgements: { byCandidate: { c1: 0, c2: 0 }, tie: 1, bothBad: 0, standing: 1 } });
    h.clock.now += 1000;
    res = await judge(token, answer(rater, 'retract', 'browser-key-3'), 'lc-cmp');
    assert.deepEqual(await res.json(), { outcome: 'retracted', judgements: { byCandidate: { c1: 0, c2: 0 }, tie: 0, bothBad: 0, standing: 0 } });
    res = await judge(token, answer(rater, 'retract', 'browser-key-3'), 'lc-cmp');
    assert.equal(((await res.json()) as { outcome: string }).outcome, 'duplicate');
    assert.equal(h.directory.judged.length, 4);
  });

  it('refuses an answer about another order than the rater is shown, before forwarding it (400)', async () => {
    const { token, rater } = await signIn();
    const [left, right] = order(rater);
    const body = await expectError(await judge(token, { left: right, right: left, choice: 'left', idempotencyKey: 'swapped-key' }, 'lc-cmp'), 400, 'malformed_vote');
    assert.match(String(body.error), new RegExp(`must be the order you are shown, left "${left}" and right "${right}"`));
    await expectError(await judge(token, { left, right: 'c9', choice: 'left', idempotencyKey: 'unknown-key' }, 'lc-cmp'), 400, 'malformed_vote');
    assert.deepEqual(h.directory.judged, []);
  });

  it('refuses a malformed body, a bad key and an unsafe comment before reading the lifecycle', async () => {
    const { token, rater } = await signIn();
    await expectError(await judge(token, { ...answer(rater, 'a', 'bad-choice-1') }, 'lc-cmp'), 400, 'malformed_vote');
    await expectError(await judge(token, { ...answer(rater, 'left', 'short') }, 'lc-cmp'), 400, 'invalid_idempotency_key');
    await expectError(await judge(token, { ...answer(rater, 'left', 'comment-key'), comment: 'x\u202ey' }, 'lc-cmp'), 400, 'invalid_comment');
    await expectError(await judge(token, '{"left":', 'lc-cmp'), 400, 'invalid_json');
    assert.deepEqual(h.directory.judged, []);
  });

  it('answers not_pairwise (409) for a lifecycle without exactly two candidates, voting_not_open while generating, 404 for none', async () => {
    const { token, rater } = await signIn();
    const body = await expectError(await judge(token, { left: 'c1', right: 'c2', choice: 'left', idempotencyKey: 'three-key-1' }, 'lc-three'), 409, 'not_pairwise');
    assert.equal(body.error, 'this lifecycle does not compare two candidates');
    assert.match(String(body.detail), /has 3 candidates/);
    await expectError(await judge(token, answer(rater, 'left', 'gen-key-01'), 'lc-gen'), 409, 'voting_not_open');
    await expectError(await judge(token, answer(rater, 'left', 'none-key-01'), 'no-such'), 404, 'unknown_lifecycle');
    assert.deepEqual(h.directory.judged, []);
  });

  it('passes on the lifecycle\'s refusals: both bad where it is not offered, voting closed', async () => {
    const { token, rater } = await signIn();
    const body = await expectError(await judge(token, answer(rater, 'both_bad', 'both-bad-key', 'lc-strict'), 'lc-strict'), 400, 'choice_not_offered');
    assert.equal(body.error, 'that answer is not offered on this lifecycle');
    assert.match(String(body.detail), /allowBothBad: false/);
    h.directory.close('lc-strict');
    await expectError(await judge(token, answer(rater, 'tie', 'closed-key-1', 'lc-strict'), 'lc-strict'), 409, 'voting_closed');
  });

  it('takes judgements on a two-candidate thumbs lifecycle in its shown order (A left, B right)', async () => {
    const { token } = await signIn();
    await expectError(await judge(token, { left: 'c2', right: 'c1', choice: 'left', idempotencyKey: 'thumbs-key-1' }, 'lc-1'), 400, 'malformed_vote');
    const res = await judge(token, { left: 'c1', right: 'c2', choice: 'right', idempotencyKey: 'thumbs-key-2' }, 'lc-1');
    assert.equal(res.status, 200);
    assert.deepEqual(h.directory.judged.map((j) => [j.lifecycleId, j.judgement.left, j.judgement.right, j.judgement.choice]), [['lc-1', 'c1', 'c2', 'right']]);
  });

  it('maps every rejection of the lifecycle to an HTTP answer, and other failures to 502', async () => {
    const { token, rater } = await signIn();
    assert.equal((await judge(token, answer(rater, 'left', 'first-key-1'), 'lc-cmp')).status, 200); // the pair is now remembered
    const cases: Array<[VoteRejectionCode, number]> = [
      ['voting_closed', 409], ['voting_not_open', 409], ['unknown_candidate', 404], ['malformed_vote', 400], ['wrong_channel', 403],
      ['not_pairwise', 409], ['choice_not_offered', 400], ['lifecycle_full', 409], ['run_continuing', 503], ['busy', 503],
    ];
    for (const [code, status] of cases) {
      h.directory.failNext = new VoteRejectedError(code, `refused: ${code}`);
      const res = await judge(token, answer(rater, 'tie', `key-${code}`.replace(/[^A-Za-z0-9_-]/g, '')), 'lc-cmp');
      await expectError(res, status, code);
      assert.equal(res.headers.get('retry-after'), code === 'busy' ? '1' : null);
    }
    h.directory.failNext = new Error('workflow task failed at /srv/prefline/internal.ts:42');
    const body = await expectError(await judge(token, answer(rater, 'tie', 'key-upstream-1'), 'lc-cmp'), 502, 'upstream_error');
    assert.doesNotMatch(JSON.stringify(body), /srv|internal/);
  });

  it('keeps a campaign\'s session to its campaign\'s lifecycles', async () => {
    h.directory.add(votingLifecycle('lc-spring', 'spring', [{ kind: 'text', text: 'a' }, { kind: 'text', text: 'b' }], { task: 'compare', campaign: 'spring' }));
    const { token: inviteToken } = await h.invite('dana@example.org', { campaign: 'autumn' });
    const res = await fetch(`${h.url}/api/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Prefline-Request': '1' }, body: JSON.stringify({ invite: inviteToken }) });
    const dana = (await res.json()) as { token: string; rater: string };
    await expectError(await judge(dana.token, answer(dana.rater, 'left', 'campaign-key-1', 'lc-spring'), 'lc-spring'), 404, 'unknown_lifecycle');
    assert.deepEqual(h.directory.judged, []);
  });
});
