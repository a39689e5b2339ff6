/**
 * A web campaign's items are reached through its `next` only (real dev server and gateway): the page's open
 * list leaves them out, the item's lifecycle refuses an answer from a rater it was not handed to (not_assigned,
 * nothing recorded) and counts the handed rater's; a session scoped to another campaign reserves nothing
 * there; and `next` takes from the vote routes' per-rater limit.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { presentationOrder } from '../../core/presentation';
import { TemporalCampaignDirectory } from '../../core/temporal-campaigns';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { InviteRegistry } from '../../gateway/invite-registry';
import { signInvite } from '../../gateway/invites';
import { artifactSourceFor } from '../../gateway/main';
import { CAMPAIGN_WORKFLOW_TYPE, campaignCancelSignal, campaignStatusQuery, statusQuery } from '../../workflows/messages';
import type { CampaignItem, CampaignStatus, NextItemAnswer } from '../../workflows/types';
import { INVITE_KEY, JSON_HEADERS, RATER_KEY, SESSION_KEY, TTL, expectError } from '../helpers/gateway';
import { waitUntil } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, type LifecycleWorkers } from '../helpers/temporal';

const items: CampaignItem[] = Array.from({ length: 2 }, (_, i) => ({
  prompt: `assigned matchup ${i}`, candidates: [{ text: `left ${i}`, model: 'a' }, { text: `right ${i}`, model: 'b' }],
}));

describe('gateway: web campaign items are handed out, never taken (real dev server)', function () {
  this.timeout(180_000);
  let workers: LifecycleWorkers;
  let server: http.Server;
  let url: string;
  let invites: InviteRegistry;
  let dir: string;
  const VOTES_PER_MINUTE = 12;

  before(async () => {
    const { client } = await sharedTemporal();
    workers = await createLifecycleWorkers('campaign-assignment');
    dir = mkdtempSync(join(tmpdir(), 'prefline-assign-invites-'));
    invites = await InviteRegistry.open(dir);
    server = createGatewayServer({
      directory: new TemporalLifecycleDirectory(client), campaigns: new TemporalCampaignDirectory(client),
      artifacts: artifactSourceFor(workers.artifacts), raterKey: RATER_KEY, sessionKey: SESSION_KEY, openPanel: true, sessionTtlMs: TTL,
      invites: { registry: invites, key: INVITE_KEY },
      limits: { signInsPerHour: 1000, accessCodeFailuresPerHour: 10, votesPerMinute: VOTES_PER_MINUTE },
    });
    ({ url } = await listen(server, '127.0.0.1', 0));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    workers.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const session = async (body: Record<string, unknown>) => {
    const res = await fetch(`${url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as { token: string; rater: string };
  };
  const auth = (token: string) => ({ ...JSON_HEADERS, Authorization: `Bearer ${token}` });
  const next = (campaignId: string, token: string) => fetch(`${url}/api/campaigns/${encodeURIComponent(campaignId)}/next`, { method: 'POST', headers: auth(token) });
  const judge = (lifecycleId: string, rater: { token: string; rater: string }, key: string) => {
    const [left, right] = presentationOrder(lifecycleId, rater.rater, ['c1', 'c2'] as const);
    return fetch(`${url}/api/lifecycles/${encodeURIComponent(lifecycleId)}/judgements`, {
      method: 'POST', headers: auth(rater.token), body: JSON.stringify({ left, right, choice: 'left', idempotencyKey: key }),
    });
  };
  const assignedItem = async (campaignId: string, token: string): Promise<Extract<NextItemAnswer, { assigned: true }>> => {
    let answer: NextItemAnswer = { assigned: false, reason: 'waiting' };
    for (let tries = 0; tries < 100 && !answer.assigned; tries++) {
      const res = await next(campaignId, token);
      assert.equal(res.status, 200);
      answer = (await res.json()) as NextItemAnswer;
      if (!answer.assigned) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(answer.assigned, JSON.stringify(answer));
    return answer;
  };

  it('should leave its items out of the open list, refuse a rater not handed an item, and count the handed one', async () => {
    const { client } = await sharedTemporal();
    const campaignId = `cmp-assign-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: campaignId, args: [{ items, responses: 2 }] });
    await workers.run(async () => {
      const alice = await session({ name: 'Assigned Alice' });
      const mallory = await session({ name: 'Mallory' });
      const handed = await assignedItem(campaignId, alice.token);
      const item = client.workflow.getHandle(handed.lifecycleId);
      await waitUntil(async () => ((await item.query(statusQuery)).phase === 'voting' ? true : undefined), 60_000, 'voting');
      // Listed nowhere on the page: not the handed item, nor the other one.
      const listed = (await (await fetch(`${url}/api/lifecycles`, { headers: auth(mallory.token) })).json()) as { lifecycles: Array<{ lifecycleId: string }> };
      assert.deepEqual(listed.lifecycles.filter((l) => l.lifecycleId.startsWith(campaignId)), []);
      // Mallory goes around next, straight to the item's id: refused by the lifecycle, nothing recorded.
      await expectError(await judge(handed.lifecycleId, mallory, `mallory-${randomUUID()}`), 403, 'not_assigned');
      assert.equal((await item.query(statusQuery)).votesAccepted, 0);
      // Alice, who was handed it, is counted.
      const res = await judge(handed.lifecycleId, alice, `alice-${randomUUID()}`);
      assert.equal(res.status, 200, await res.clone().text());
      const status = await item.query(statusQuery);
      assert.equal(status.votesAccepted, 1);
      await handle.signal(campaignCancelSignal, {});
      await handle.result();
      const rows = (await workers.ledger.query('SELECT rater FROM judgements WHERE lifecycle_id = $1', [handed.lifecycleId])).rows;
      assert.deepEqual(rows, [{ rater: alice.rater }]);
    });
  });

  it('should reserve nothing for a session scoped to another campaign, and limit next like votes', async () => {
    const { client } = await sharedTemporal();
    const campaignId = `cmp-scope-${randomUUID().slice(0, 8)}`;
    // Workers of its own: a worker set runs once.
    const scopeWorkers = await createLifecycleWorkers('campaign-assignment-scope');
    const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: scopeWorkers.taskQueue, workflowId: campaignId, args: [{ items, responses: 2 }] });
    await scopeWorkers.run(async () => {
      const record = await invites.create({ label: 'elsewhere', campaign: 'some-other-campaign', canGenerate: false, expiresAt: new Date(Date.now() + 86_400_000) });
      const scoped = await session({ invite: signInvite(INVITE_KEY, { inviteId: record.id, expiresAt: Date.parse(record.expiresAt) }) });
      await waitUntil(async () => ((await handle.query(campaignStatusQuery)).counts.open === items.length ? true : undefined), 60_000, 'items open');
      await expectError(await next(campaignId, scoped.token), 404, 'unknown_campaign');
      const status: CampaignStatus = await handle.query(campaignStatusQuery);
      assert.equal(status.counts.reserved, 0, JSON.stringify(status.counts));

      // The limiter: a rater gets VOTES_PER_MINUTE calls a minute, votes and next alike, then 429 with Retry-After.
      const bob = await session({ name: 'Busy Bob' });
      const codes: number[] = [];
      for (let n = 0; n < VOTES_PER_MINUTE + 1; n++) codes.push((await next(campaignId, bob.token)).status);
      assert.deepEqual(codes.slice(0, VOTES_PER_MINUTE), Array(VOTES_PER_MINUTE).fill(200));
      const limited = await next(campaignId, bob.token);
      assert.ok(limited.headers.get('retry-after'), 'Retry-After');
      await expectError(limited, 429, 'rate_limited');
      await handle.signal(campaignCancelSignal, {});
      await handle.result();
    }).finally(() => scopeWorkers.close());
  });
});
