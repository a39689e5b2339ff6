/**
 * POST /api/campaigns/<id>/next on a gateway over the real dev server: a signed-in rater gets an item
 * of a running campaign with its lifecycle as the page shows it, never one they answered or said they
 * were done with, in the order of the pair that rater is shown; the vote routes' checks (session, origin
 * header, JSON) apply; unknown campaigns are 404.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { isSwapped, presentationOrder } from '../../core/presentation';
import { TemporalCampaignDirectory } from '../../core/temporal-campaigns';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { artifactSourceFor } from '../../gateway/main';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { CAMPAIGN_WORKFLOW_TYPE, campaignCancelSignal } from '../../workflows/messages';
import type { CampaignItem } from '../../workflows/types';
import { JSON_HEADERS, RATER_KEY, SESSION_KEY, TTL, expectError } from '../helpers/gateway';
import { createLifecycleWorkers, sharedTemporal, type LifecycleWorkers } from '../helpers/temporal';
import { judgement } from '../helpers/votes';

const items: CampaignItem[] = Array.from({ length: 3 }, (_, i) => ({
  prompt: `matchup ${i}`, candidates: [{ text: `left ${i}`, model: 'a' }, { text: `right ${i}`, model: 'b' }],
}));

describe('gateway: POST /api/campaigns/<id>/next (real dev server)', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;
  let server: http.Server;
  let url: string;

  before(async () => {
    const { client } = await sharedTemporal();
    workers = await createLifecycleWorkers('campaign-next');
    server = createGatewayServer({
      directory: new TemporalLifecycleDirectory(client), campaigns: new TemporalCampaignDirectory(client),
      artifacts: artifactSourceFor(workers.artifacts), raterKey: RATER_KEY, sessionKey: SESSION_KEY, openPanel: true, sessionTtlMs: TTL,
    });
    ({ url } = await listen(server, '127.0.0.1', 0));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    workers.close();
  });

  const signIn = async (name: string) => {
    const res = await fetch(`${url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name }) });
    assert.equal(res.status, 201);
    return (await res.json()) as { token: string; rater: string };
  };
  const next = (campaignId: string, token: string | undefined, body?: unknown, headers: Record<string, string> = JSON_HEADERS) => fetch(`${url}/api/campaigns/${encodeURIComponent(campaignId)}/next`, {
    method: 'POST', headers: { ...headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

  it('should hand a signed-in rater an item with its lifecycle, and after it is answered another', async () => {
    const { client } = await sharedTemporal();
    const campaignId = `cmp-gw-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, {
      taskQueue: workers.taskQueue, workflowId: campaignId, args: [{ items, responses: 2, question: 'Which reads better?' }],
    });
    const directory = new TemporalLifecycleDirectory(client);
    await workers.run(async () => {
      const alice = await signIn('Alice');
      let first: Record<string, unknown> = {};
      for (let tries = 0; tries < 100 && first['assigned'] !== true; tries++) {
        const res = await next(campaignId, alice.token);
        assert.equal(res.status, 200);
        first = (await res.json()) as Record<string, unknown>;
        if (first['assigned'] !== true) await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(first['assigned'], true, JSON.stringify(first));
      const lifecycle = first['lifecycle'] as { lifecycleId: string; phase: string; candidates: Array<{ id: string }> };
      assert.equal(lifecycle.lifecycleId, first['lifecycleId']);
      // The page's view of the lifecycle (channels/web/status-view.ts; what it shows of compare lifecycles is issue 14's).
      assert.equal(lifecycle.phase, 'voting');
      assert.equal(lifecycle.candidates.length, 2);
      // Asking again before answering: the same item, still reserved.
      const again = (await (await next(campaignId, alice.token)).json()) as Record<string, unknown>;
      assert.deepEqual([again['lifecycleId'], again['again']], [first['lifecycleId'], true]);

      await directory.judge(first['lifecycleId'] as string, judgement('left', alice.rater, ['c1', 'c2'], { raterAuth: 'open' }));
      const second = (await (await next(campaignId, alice.token, { done: first['lifecycleId'] })).json()) as Record<string, unknown>;
      assert.equal(second['assigned'], true, JSON.stringify(second));
      assert.notEqual(second['lifecycleId'], first['lifecycleId']);

      await expectError(await next(campaignId, undefined), 401, 'session_invalid');
      await expectError(await next(campaignId, alice.token, undefined, { 'Content-Type': 'application/json' }), 403, 'forbidden_origin');
      await expectError(await next(campaignId, alice.token, { done: 7 }), 400, 'bad_request');
      await expectError(await next('cmp-none-such', alice.token), 404, 'unknown_campaign');
      await handle.signal(campaignCancelSignal, {});
      await handle.result();
      const finished = (await (await next(campaignId, alice.token)).json()) as Record<string, unknown>;
      assert.deepEqual(finished, { assigned: false, reason: 'finished' });
    });
  });

  it("should hand each rater the item's pair in that rater's own order, the one the judgement route accepts", async () => {
    const { client } = await sharedTemporal();
    const campaignId = `cmp-gw-pair-${randomUUID().slice(0, 8)}`;
    // Workers of its own: a worker set runs once.
    const pairWorkers = await createLifecycleWorkers('campaign-next-pair');
    const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: pairWorkers.taskQueue, workflowId: campaignId, args: [{ items, responses: 10 }] });
    await pairWorkers.run(async () => {
      // Raters until one is shown an item swapped from the order of a post everyone sees: the order an answer without the rater would carry.
      let checked: { lifecycleId: string; pair: unknown; rater: string } | undefined;
      for (let n = 0; n < 20 && !checked; n++) {
        const rater = await signIn(`Pair rater ${n}`);
        let answer: Record<string, unknown> = {};
        for (let tries = 0; tries < 100 && answer['assigned'] !== true; tries++) {
          answer = (await (await next(campaignId, rater.token)).json()) as Record<string, unknown>;
          if (answer['assigned'] !== true) await new Promise((r) => setTimeout(r, 200));
        }
        assert.equal(answer['assigned'], true, JSON.stringify(answer));
        const lifecycleId = answer['lifecycleId'] as string;
        if (isSwapped(lifecycleId, rater.rater) !== isSwapped(lifecycleId)) checked = { lifecycleId, pair: (answer['lifecycle'] as { pair?: unknown }).pair, rater: rater.rater };
      }
      assert.ok(checked, 'no rater of 20 is shown a swapped pair');
      const [left, right] = presentationOrder(checked.lifecycleId, checked.rater, ['c1', 'c2'] as const);
      assert.deepEqual(checked.pair, { left, right });
      await handle.signal(campaignCancelSignal, {});
      await handle.result();
    }).finally(() => pairWorkers.close());
  });
});
