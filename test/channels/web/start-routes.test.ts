/**
 * The prompt box's API through the gateway host (sessions issued by the host), over real HTTP against
 * the fake directory and a real budget folder: who may generate, what a start becomes, retried clicks,
 * the rate per rater, the daily budget (kept across gateways), progress for the starter only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerationBudget } from '../../../core/generation-budget';
import { invitedRater } from '../../../gateway/invites';
import { issueSession } from '../../../gateway/session';
import { votingLifecycle } from '../../helpers/fake-directory';
import {
  JSON_HEADERS, RATER_KEY, SESSION_KEY, T0, TTL, expectError, pageClient, startTestGateway, stopTestGateway, type GatewayHarness, type TestGatewayOptions,
} from '../../helpers/gateway';

const MODELS = ['demo:shapes', 'demo:text'];

describe('channels/web/start-routes (the prompt box)', () => {
  let h: GatewayHarness;
  let budgetDir: string;
  const { signIn, redeem, get } = pageClient(() => h);

  async function start(options: { limit?: number; perHour?: number; gateway?: TestGatewayOptions } = {}): Promise<void> {
    budgetDir = mkdtempSync(join(tmpdir(), 'prefline-web-budget-'));
    h = await startTestGateway({
      starts: { models: MODELS, startsPerHour: options.perHour ?? 0, budget: await GenerationBudget.open(budgetDir, options.limit ?? 8) },
      ...options.gateway,
    });
  }

  afterEach(async () => {
    await stopTestGateway(h);
    rmSync(budgetDir, { recursive: true, force: true });
  });

  /** A session of an invite that may generate (or not). */
  async function generator(label = 'alice@example.org', options: { canGenerate?: boolean; campaign?: string } = {}): Promise<{ token: string; rater: string }> {
    const { token } = await h.invite(label, { canGenerate: options.canGenerate ?? true, ...(options.campaign ? { campaign: options.campaign } : {}) });
    return redeem(token);
  }

  function post(token: string | undefined, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${h.url}/api/lifecycles`, { method: 'POST', headers: { ...JSON_HEADERS, ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers }, body: JSON.stringify(body) });
  }

  const click = (key = 'click-00000001', extra: Record<string, unknown> = {}) => ({ prompt: 'a red fox in the snow', model: 'demo:shapes', candidates: 2, idempotencyKey: key, ...extra });

  it('should start a web lifecycle named after the rater\'s click, recording who started it from the prompt box', async () => {
    await start();
    const { token, rater } = await generator();
    const res = await post(token, click());
    assert.equal(res.status, 201, await res.clone().text());
    const { lifecycleId, started } = (await res.json()) as { lifecycleId: string; started: boolean };
    assert.match(lifecycleId, /^lc-web-[0-9a-f]{20}$/);
    assert.equal(started, true);
    assert.deepEqual(h.directory.startRequests, [{
      lifecycleId,
      input: { prompt: 'a red fox in the snow', model: 'demo:shapes', candidates: 2, channel: 'web', startedBy: rater, startedFrom: 'web:prompt-box' },
      // Listed in the Temporal UI as a `prefline start` is.
      staticSummary: '"a red fox in the snow" · demo:shapes ×2 · web',
      staticDetails: '**Prompt:** a red fox in the snow\n**Models:** demo:shapes ×2\n**Channel:** web\n**Quorum:** 3 votes per candidate\n**Deadline:** 86400 s after the start',
    }]);
    assert.equal(rater, invitedRater(RATER_KEY, 'alice@example.org'));
  });

  it('should start nothing twice for a retried click, and count it against the budget once', async () => {
    await start({ limit: 3 });
    const { token } = await generator();
    const [first, again] = [await post(token, click()), await post(token, click())];
    assert.deepEqual([first.status, again.status], [201, 200]);
    assert.equal(((await again.json()) as { started: boolean }).started, false);
    assert.equal(h.directory.started().length, 1);
    const options = (await (await get('/api/generate', token)).json()) as { budget: { used: number; remaining: number } };
    assert.deepEqual([options.budget.used, options.budget.remaining], [2, 1]);
  });

  it('should offer its models, count and budget to raters who may generate, and nothing to others', async () => {
    await start();
    const { token } = await generator();
    assert.equal(((await (await get('/api/auth')).json()) as { promptBox: boolean }).promptBox, true);
    assert.deepEqual(await (await get('/api/generate', token)).json(), {
      canGenerate: true, models: MODELS, maxCandidates: 8, defaultCandidates: 4, budget: { limit: 8, used: 0, remaining: 8 },
    });
    const plain = await generator('bob@example.org', { canGenerate: false });
    assert.deepEqual(await (await get('/api/generate', plain.token)).json(), { canGenerate: false });
    const named = await signIn('Carol');
    assert.deepEqual(await (await get('/api/generate', named.token)).json(), { canGenerate: false });
    await expectError(await get('/api/generate'), 401, 'session_invalid');
  });

  it('should refuse raters who may not generate: an invite without --can-generate, an open-panel name', async () => {
    await start();
    const plain = await generator('bob@example.org', { canGenerate: false });
    assert.match(String((await expectError(await post(plain.token, click()), 403, 'start_not_allowed')).error), /prefline raters invite --can-generate/);
    const named = await signIn('Carol');
    assert.match(String((await expectError(await post(named.token, click()), 403, 'start_not_allowed')).error), /open panel may rate but not generate/);
    // A signed session claiming to generate counts only while the invite it names stands.
    const forged = issueSession(SESSION_KEY, { rater: named.rater, displayName: 'Carol', auth: 'invite', inviteId: 'inv_0123456789abcdef0123', canGenerate: true }, TTL, T0);
    await expectError(await post(forged, click()), 401, 'session_invalid');
    assert.deepEqual(h.directory.startRequests, []);
  });

  it('should refuse a gateway without a prompt box: no route', async () => {
    budgetDir = mkdtempSync(join(tmpdir(), 'prefline-web-budget-'));
    h = await startTestGateway();
    const { token } = await generator();
    await expectError(await post(token, click()), 405, 'method_not_allowed');
    await expectError(await get('/api/generate', token), 404, 'not_found');
    // The page learns it before asking: no prompt box, no request for one.
    assert.equal(((await (await get('/api/auth')).json()) as { promptBox: boolean }).promptBox, false);
  });

  it('should answer what is wrong with a start in plain words, starting nothing', async () => {
    await start();
    const { token } = await generator();
    assert.match(String((await expectError(await post(token, click('k', {})), 400, 'invalid_idempotency_key')).error), /idempotencyKey/);
    assert.match(String((await expectError(await post(token, click(undefined, { model: 'replicate:owner/big' })), 400, 'model_not_allowed')).error), /choose one of demo:shapes, demo:text/);
    assert.match(String((await expectError(await post(token, click(undefined, { candidates: 9 })), 400, 'invalid_start')).error), /candidates: a whole number from 1 to 8/);
    assert.match(String((await expectError(await post(token, click(undefined, { prompt: '   ' })), 400, 'invalid_start')).error), /prompt: say what the model should make/);
    assert.match(String((await expectError(await post(token, click(undefined, { prompt: 'x'.repeat(4001) })), 400, 'invalid_start')).error), /at most 4000 characters/);
    assert.match(String((await expectError(await post(token, click(undefined, { prompt: 'a fox \u202E' })), 400, 'invalid_start')).error), /U\+202E/);
    assert.match(String((await expectError(await post(token, click(undefined, { channel: 'slack:#all' })), 400, 'invalid_start')).error), /channel: not a field of a start/);
    assert.deepEqual(h.directory.startRequests, []);
  });

  it('should keep a campaign invite\'s lifecycles in its campaign', async () => {
    await start();
    const { token } = await generator('reviewer', { campaign: 'spring' });
    assert.equal((await post(token, click())).status, 201);
    assert.equal(h.directory.startRequests[0]?.input.campaign, 'spring');
  });

  it('should limit starts per rater, saying when to try again', async () => {
    await start({ perHour: 2 });
    const { token } = await generator();
    for (const key of ['click-00000001', 'click-00000002']) assert.equal((await post(token, click(key, { candidates: 1 }))).status, 201);
    const refused = await post(token, click('click-00000003', { candidates: 1 }));
    await expectError(refused.clone(), 429, 'rate_limited');
    assert.equal(refused.headers.get('retry-after'), '1800');
    const other = await generator('bob@example.org');
    assert.equal((await post(other.token, click('click-00000004', { candidates: 1 }))).status, 201, 'another rater has a rate of their own');
  });

  it('should refuse a start over the daily budget until 00:00 UTC, keeping the count across gateways and giving failed starts back', async () => {
    await start({ limit: 5 });
    const { token } = await generator();
    assert.equal((await post(token, click('click-00000001', { candidates: 4 }))).status, 201);
    const over = await post(token, click('click-00000002', { candidates: 2 }));
    const body = await expectError(over.clone(), 429, 'budget_exhausted');
    assert.match(String(body.error), /today's generation budget is used: 4 of 5 candidates; 2 more do not fit\. It renews at 00:00 UTC\./);
    assert.equal(over.headers.get('retry-after'), String((Date.parse('2025-06-02T00:00:00Z') - T0) / 1000));
    // Temporal unreachable: the start fails, and its reservation goes back.
    h.directory.failStarts = 1;
    await expectError(await post(token, click('click-00000003', { candidates: 1 })), 502, 'upstream_error');
    assert.equal((await post(token, click('click-00000004', { candidates: 1 }))).status, 201);
    // A second gateway sharing the folder sees the same count.
    const second = await GenerationBudget.open(budgetDir, 5);
    assert.equal(await second.used(invitedRater(RATER_KEY, 'alice@example.org'), new Date(T0)), 5);
    // The next UTC day it renews (a new session: the old one has expired by then).
    h.clock.now = Date.parse('2025-06-02T00:00:01Z');
    const tomorrow = await generator();
    assert.equal((await post(tomorrow.token, click('click-00000005', { candidates: 2 }))).status, 201);
    assert.equal(h.directory.started().length, 3);
  });

  it('should check the origin and X-Prefline-Request as votes do', async () => {
    await start();
    const { token } = await generator();
    await expectError(await post(token, click(), { 'X-Prefline-Request': '' }), 403, 'forbidden_origin');
    await expectError(await post(token, click(), { Origin: 'https://evil.example' }), 403, 'forbidden_origin');
    const text = await fetch(`${h.url}/api/lifecycles`, { method: 'POST', headers: { 'X-Prefline-Request': '1', 'Content-Type': 'text/plain', Authorization: `Bearer ${token}` }, body: JSON.stringify(click()) });
    await expectError(text, 415, 'unsupported_media_type');
    await expectError(await post(undefined, click()), 401, 'session_invalid');
    assert.deepEqual(h.directory.startRequests, []);
  });

  it('should tell the starter how far the lifecycle got, and nobody else', async () => {
    await start();
    const { token } = await generator();
    const { lifecycleId } = (await (await post(token, click())).json()) as { lifecycleId: string };
    const progress = async (t: string) => (await get(`/api/lifecycles/${lifecycleId}/progress`, t)).json() as Promise<Record<string, unknown>>;
    assert.deepEqual(await progress(token), { lifecycleId, state: 'running', phase: 'generating' });
    const voting = votingLifecycle(lifecycleId, 'a red fox in the snow', [{ kind: 'text', text: 'one' }, { kind: 'text', text: 'two' }]);
    h.directory.publish(lifecycleId, voting.candidates);
    const up = await progress(token);
    assert.equal(up.phase, 'voting');
    const lifecycle = up.lifecycle as { candidates: Array<{ id: string; artifact: { url: string } }>; prompt: string };
    assert.deepEqual(lifecycle.candidates.map((c) => c.id), ['c1', 'c2']);
    assert.match(lifecycle.candidates[0]!.artifact.url, /^\/artifacts\/[0-9a-f]{64}\?exp=/);
    const other = await generator('bob@example.org');
    await expectError(await get(`/api/lifecycles/${lifecycleId}/progress`, other.token), 404, 'unknown_lifecycle');
    await expectError(await get('/api/lifecycles/lc-1/progress', token), 404, 'unknown_lifecycle');
    // A failed one says why.
    const failing = (await (await post(token, click('click-00000009'))).json()) as { lifecycleId: string };
    h.directory.fail(failing.lifecycleId, 'inference failed: out of memory');
    assert.deepEqual(await (await get(`/api/lifecycles/${failing.lifecycleId}/progress`, token)).json(), { lifecycleId: failing.lifecycleId, state: 'failed', failure: 'inference failed: out of memory' });
  });
});
