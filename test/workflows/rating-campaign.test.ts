/**
 * ratingCampaign on the real dev server: child lifecycles with bounded concurrency, simulated raters
 * asking `next` and answering through the directory, continue-as-new forced low, pause/resume/cancel,
 * answers at the quota refused (lifecycle_full) rather than kept, reservations that expire, a stored
 * item list read in pages, and outcomes in the ledger.
 */
import { WorkflowFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { TemporalLifecycleDirectory, isUpdateLostWithTask } from '../../core/temporal-directory';
import {
  CAMPAIGN_WORKFLOW_TYPE, INVALID_CAMPAIGN_INPUT_ERROR, campaignCancelSignal, campaignPauseSignal, campaignResumeSignal, campaignStatusQuery, nextItemUpdate,
  campaignItemReportSignal, closeSignal, itemHandedSignal, judgeSignal, statusQuery,
} from '../../workflows/messages';
import type { CampaignInput, CampaignItem, CampaignStatus, CampaignSummary, LifecycleSummary, NextItemAnswer } from '../../workflows/types';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { waitUntil } from '../helpers/processes';
import { judgement, raterId } from '../helpers/votes';

const item = (n: number): CampaignItem => ({ prompt: `matchup ${n}`, candidates: [{ text: `left answer ${n}`, model: 'model-a' }, { text: `right answer ${n}`, model: 'model-b' }] });
const items = (n: number) => Array.from({ length: n }, (_, i) => item(i));

async function startCampaign(workers: LifecycleWorkers, input: CampaignInput, thresholds?: Record<string, number>): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const { client } = await sharedTemporal();
  return client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, {
    taskQueue: workers.taskQueue, workflowId: `cmp-test-${randomUUID().slice(0, 8)}`, args: thresholds ? [input, { thresholds }] : [input],
  });
}

const status = (handle: WorkflowHandle) => handle.query(campaignStatusQuery);
/** Hands an item's lifecycle to rater `n` as the campaign's `next` would (tests that answer one item on purpose). */
const handTo = async (lifecycleId: string, ...raters: number[]) => {
  const { client } = await sharedTemporal();
  for (const n of raters) await client.workflow.getHandle(lifecycleId).signal(itemHandedSignal, { rater: raterId(n) });
};
const next = (handle: WorkflowHandle, rater: string, done?: string) => handle.executeUpdate(nextItemUpdate, { args: [{ rater, ...(done ? { done } : {}) }] });

/**
 * `next` on the campaign's current run, retried while a run hands over to the next (run_continuing, or an
 * update aborted by the closing run); once the campaign has completed, `finished`.
 */
async function nextRetrying(started: WorkflowHandle, rater: string, done?: string): Promise<NextItemAnswer> {
  const { client } = await sharedTemporal();
  const handle = client.workflow.getHandle(started.workflowId);
  for (let attempt = 0; ; attempt++) {
    try {
      return await next(handle, rater, done);
    } catch (err) {
      const type = (err as { cause?: unknown }).cause instanceof ApplicationFailure ? ((err as { cause: ApplicationFailure }).cause.type) : undefined;
      const closing = /already completed/i.test(String(err));
      if (closing && (await handle.describe()).status.name !== 'RUNNING') return { assigned: false, reason: 'finished' };
      const busy = closing || type === 'run_continuing' || isUpdateLostWithTask(err) || /RESOURCE_EXHAUSTED|workflow is closing|aborted by closing workflow/i.test(String(err));
      if (!busy || attempt > 100) throw err;
      await sleep(100);
    }
  }
}

/**
 * A simulated rater: asks for an item, answers it (left, right or tie by item and rater), until the
 * campaign is finished. Records every assignment.
 */
async function rater(handle: WorkflowHandle, directory: TemporalLifecycleDirectory, n: number, seen: Map<string, string[]>, stop: () => boolean): Promise<number> {
  const who = raterId(n);
  let answered = 0;
  let done: string | undefined;
  while (!stop()) {
    const answer = await nextRetrying(handle, who, done);
    if (!answer.assigned) {
      if (answer.reason === 'finished') return answered;
      await sleep(150);
      continue;
    }
    const holders = seen.get(answer.lifecycleId) ?? [];
    if (!answer.again) holders.push(who);
    seen.set(answer.lifecycleId, holders);
    const choice = (['left', 'right', 'tie'] as const)[(answer.item + n) % 3]!;
    done = answer.lifecycleId;
    try {
      const receipt = await directory.judge(answer.lifecycleId, judgement(choice, who, ['c1', 'c2'], { idempotencyKey: `sim:${who}:${answer.lifecycleId}`, raterAuth: 'invite' }));
      assert.equal(receipt.outcome, 'recorded', `${who} answered ${answer.lifecycleId} twice`);
      answered += 1;
    } catch (err) {
      // Another rater filled the item first, or it closed: both are answers, not failures.
      if (!(err instanceof VoteRejectedError && (err.code === 'lifecycle_full' || err.code === 'voting_closed'))) throw err;
    }
  }
  return answered;
}

async function itemRows(workers: LifecycleWorkers, campaignId: string) {
  return (await workers.ledger.query(`SELECT item, lifecycle_id, end_reason, answers, raters FROM campaign_items WHERE campaign_id = $1 ORDER BY item`, [campaignId])).rows;
}

describe('ratingCampaign workflow (real dev server)', function () {
  this.timeout(300_000);
  let workers: LifecycleWorkers;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'campaign');
  });

  afterEach(() => workers.close());

  it('should run 100 compare items with at most maxOpen open, each answered by its quota of distinct raters, across forced continue-as-new', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
    const handle = await startCampaign(workers, { items: items(100), responses: 3, maxOpen: 12, reservation: '2m', campaign: 'hundred' }, { continueAsNewAfterEvents: 400 });
    await workers.run(async () => {
      const seen = new Map<string, string[]>();
      let done = false;
      let peakOpen = 0;
      const watch = (async () => {
        while (!done) {
          const s = await status(handle).catch(() => undefined);
          if (s) peakOpen = Math.max(peakOpen, s.counts.open);
          await sleep(300);
        }
      })();
      const answered = await Promise.all(Array.from({ length: 8 }, (_, n) => rater(handle, directory, n + 1, seen, () => done)));
      const summary = (await handle.result()) as CampaignSummary;
      done = true;
      await watch;
      assert.equal(summary.phase, 'completed');
      assert.deepEqual([summary.counts.done, summary.counts.failed, summary.counts.open, summary.counts.pending], [100, 0, 0, 0]);
      assert.equal(summary.counts.answers, 300);
      assert.deepEqual(summary.counts.ended, { quorum: 100 });
      assert.equal(answered.reduce((a, b) => a + b, 0), 300, 'every accepted answer counted once');
      assert.ok(peakOpen <= 12, `peak open ${peakOpen}`);
      for (const [id, holders] of seen) assert.equal(new Set(holders).size, holders.length, `${id} handed to a rater twice: ${holders.join(', ')}`);

      const rows = await itemRows(workers, handle.workflowId);
      assert.equal(rows.length, 100);
      assert.ok(rows.every((r) => r['end_reason'] === 'quorum' && r['answers'] === 3 && r['raters'] === 3), JSON.stringify(rows.slice(0, 3)));
      const judged = (await workers.ledger.query(
        `SELECT lifecycle_id, count(*)::INTEGER AS n, count(DISTINCT rater)::INTEGER AS raters FROM judgements WHERE standing AND lifecycle_id LIKE $1 GROUP BY lifecycle_id`,
        [`${handle.workflowId}-item-%`],
      )).rows;
      assert.equal(judged.length, 100);
      assert.ok(judged.every((r) => r['n'] === 3 && r['raters'] === 3));
      const [campaignRow] = (await workers.ledger.query(`SELECT phase, items_done, answers, closed_at IS NOT NULL AS closed FROM campaigns WHERE campaign_id = $1`, [handle.workflowId])).rows;
      assert.deepEqual(campaignRow, { phase: 'completed', items_done: 100, answers: 300, closed: true });
      // Continue-as-new was forced: the run that completed is not the first.
      const description = await client.workflow.getHandle(handle.workflowId).describe();
      assert.notEqual(description.runId, handle.firstExecutionRunId, 'the campaign continued as new');
      // Ops filter the campaign's lifecycles by its label.
      const children = await client.workflow.count(`PreflineCampaign = 'hundred' AND WorkflowType = 'ratingLifecycle'`);
      assert.equal(children.count, 100);
    });
  });

  it('should continue as new however children close while its `next` handlers finish: every outcome reaches the ledger once', async () => {
    // One answer closes an item, and each rater asks `next` the moment their answer is in: close reports
    // keep landing while the run waits for its in-flight `next` handlers before continuing as new. Such an
    // outcome once stopped the campaign there (every workflow task failed); now it is carried to the next run.
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
    const handle = await startCampaign(workers, { items: items(60), responses: 1, maxOpen: 16, reservation: '2m', campaign: 'close-in-wait' }, { continueAsNewAfterEvents: 100 });
    await workers.run(async () => {
      const seen = new Map<string, string[]>();
      let done = false;
      const answered = await Promise.all(Array.from({ length: 8 }, (_, n) => rater(handle, directory, n + 1, seen, () => done)));
      const summary = (await handle.result()) as CampaignSummary;
      done = true;
      assert.equal(summary.phase, 'completed');
      assert.deepEqual([summary.counts.done, summary.counts.failed, summary.counts.open, summary.counts.pending, summary.counts.answers], [60, 0, 0, 0, 60]);
      assert.equal(answered.reduce((a, b) => a + b, 0), 60);
      const rows = await itemRows(workers, handle.workflowId);
      assert.deepEqual(rows.map((r) => r['item']), Array.from({ length: 60 }, (_, i) => i), 'one ledger row per item');
      assert.ok(rows.every((r) => r['end_reason'] === 'quorum' && r['answers'] === 1), JSON.stringify(rows.filter((r) => r['end_reason'] !== 'quorum').slice(0, 3)));
      const runs = await client.workflow.count(`WorkflowId = '${handle.workflowId}'`);
      assert.ok(runs.count >= 3, `continued as new at least twice (${runs.count} runs)`);
    });
  });

  it('should pause (no new items, next answers paused), resume, and cancel: open items close with what they have, the rest never start', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client);
    const handle = await startCampaign(workers, { items: items(10), responses: 3, maxOpen: 2 });
    await workers.run(async () => {
      await waitUntil(async () => ((await status(handle)).counts.open === 2 ? true : undefined), 60_000, 'two items open');
      await handle.signal(campaignPauseSignal);
      await waitUntil(async () => ((await status(handle)).phase === 'paused' ? true : undefined), 30_000, 'paused');
      assert.deepEqual(await next(handle, raterId(1)), { assigned: false, reason: 'paused' });
      // An item closing while paused is not replaced.
      const firstOpen = `${handle.workflowId}-item-0`;
      await waitUntil(async () => ((await client.workflow.getHandle(firstOpen).query(statusQuery)).phase === 'voting' ? true : undefined), 60_000, 'item 0 voting');
      await handTo(firstOpen, 1, 2, 3);
      for (const n of [1, 2, 3]) await directory.judge(firstOpen, judgement('left', n));
      await waitUntil(async () => ((await status(handle)).counts.done === 1 ? true : undefined), 60_000, 'item 0 done');
      await sleep(1500);
      const paused = await status(handle);
      assert.deepEqual([paused.counts.open, paused.counts.pending], [1, 8], 'nothing started while paused');

      await handle.signal(campaignResumeSignal);
      await waitUntil(async () => ((await status(handle)).counts.open === 2 ? true : undefined), 60_000, 'resumed: two open again');
      // One answer on an open item, then cancel: it closes and commits that answer.
      const assigned = await nextRetrying(handle, raterId(4));
      assert.ok(assigned.assigned);
      await directory.judge(assigned.lifecycleId, judgement('tie', 4));
      await handle.signal(campaignCancelSignal, { reason: 'enough data' });
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.phase, 'cancelled');
      assert.deepEqual([summary.counts.done, summary.counts.open, summary.counts.pending], [3, 0, 7]);
      assert.deepEqual(summary.counts.ended, { quorum: 1, closed: 2 });
      assert.equal(summary.counts.answers, 4);
      const rows = await itemRows(workers, handle.workflowId);
      assert.deepEqual(rows.map((r) => r['end_reason']).sort(), ['closed', 'closed', 'quorum']);
      const committed = (await workers.ledger.query(`SELECT count(*)::INTEGER AS n FROM judgements WHERE lifecycle_id = $1`, [assigned.lifecycleId])).rows[0];
      assert.deepEqual(committed, { n: 1 }, 'the cancelled item committed the answer it had');
      await assert.rejects(client.workflow.getHandle(`${handle.workflowId}-item-9`).describe(), /not found/i);
    });
  });

  it('should hear of an item whose lifecycle ops cancelled: it ends failed at once, not at the deadline', async () => {
    const { client } = await sharedTemporal();
    const handle = await startCampaign(workers, { items: items(2), responses: 2, maxOpen: 2, deadline: '1d' });
    await workers.run(async () => {
      const lifecycleId = `${handle.workflowId}-item-0`;
      await waitUntil(async () => ((await client.workflow.getHandle(lifecycleId).query(statusQuery).catch(() => undefined))?.phase === 'voting' ? true : undefined), 60_000, 'voting');
      await client.workflow.getHandle(lifecycleId).cancel();
      const s = await waitUntil(async () => {
        const now = await status(handle);
        return now.counts.failed === 1 ? now : undefined;
      }, 30_000, 'the cancelled item reported failed');
      assert.deepEqual([s.counts.failed, s.counts.open, s.counts.ended['failed']], [1, 1, 1]);
      await handle.signal(campaignCancelSignal, { reason: 'test over' });
      await handle.result();
    });
  });

  it('should refuse answers beyond the quota (lifecycle_full), however many arrive together', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
    const handle = await startCampaign(workers, { items: items(1), responses: 2 });
    await workers.run(async () => {
      const lifecycleId = `${handle.workflowId}-item-0`;
      await waitUntil(async () => ((await client.workflow.getHandle(lifecycleId).query(statusQuery).catch(() => undefined))?.phase === 'voting' ? true : undefined), 60_000, 'voting');
      await handTo(lifecycleId, 1, 2, 3, 4, 5, 6);
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, n) => directory.judge(lifecycleId, judgement('right', n + 1))));
      const accepted = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => (r.reason as VoteRejectedError).code);
      assert.equal(accepted.length, 2, JSON.stringify(refused));
      assert.ok(refused.every((code) => code === 'lifecycle_full' || code === 'voting_closed'), refused.join(','));
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.counts.answers, 2);
      const standing = (await workers.ledger.query(`SELECT count(*)::INTEGER AS n FROM judgements WHERE lifecycle_id = $1 AND standing`, [lifecycleId])).rows[0];
      assert.deepEqual(standing, { n: 2 });
    });
  });

  it('should not count signalled answers beyond the quota, however many arrive in one batch', async () => {
    const { client } = await sharedTemporal();
    const handle = await startCampaign(workers, { items: items(1), responses: 2 });
    await workers.run(async () => {
      const lifecycleId = `${handle.workflowId}-item-0`;
      const child = client.workflow.getHandle(lifecycleId);
      await waitUntil(async () => ((await child.query(statusQuery).catch(() => undefined))?.phase === 'voting' ? true : undefined), 60_000, 'voting');
      // Handed to all eight first (as `next` would), then fire-and-forget answers, sent together: the server
      // hands the workflow as many as arrived in one task.
      await handTo(lifecycleId, 1, 2, 3, 4, 5, 6, 7, 8);
      await Promise.all(Array.from({ length: 8 }, (_, n) => child.signal(judgeSignal, judgement('left', n + 1))));
      const lifecycle = (await child.result()) as LifecycleSummary;
      assert.equal(lifecycle.judgements?.standing, 2);
      assert.equal(lifecycle.votesAccepted + lifecycle.lateVotesRefused, 8, JSON.stringify(lifecycle));
      assert.equal(((await handle.result()) as CampaignSummary).counts.answers, 2);
      const rows = (await workers.ledger.query(`SELECT count(*) FILTER (WHERE standing)::INTEGER AS standing FROM judgements WHERE lifecycle_id = $1`, [lifecycleId])).rows[0];
      assert.deepEqual(rows, { standing: 2 });
    });
  });

  it('should hand an item to at most `responses` raters at once and give it out again when a reservation expires', async () => {
    const handle = await startCampaign(workers, { items: items(1), responses: 2, reservation: '2s' });
    await workers.run(async () => {
      await waitUntil(async () => ((await next(handle, raterId(9))).assigned ? true : undefined), 60_000, 'the item open');
      assert.ok((await next(handle, raterId(1))).assigned);
      assert.deepEqual(await next(handle, raterId(2)), { assigned: false, reason: 'waiting' });
      const s: CampaignStatus = await status(handle);
      assert.equal(s.counts.reserved, 2);
      await sleep(2200);
      const again = await next(handle, raterId(2));
      assert.ok(again.assigned && !again.again, 'expired reservations went back to the pool');
      await handle.signal(campaignCancelSignal, {});
      assert.equal(((await handle.result()) as CampaignSummary).phase, 'cancelled');
    });
  });

  it('should offer a starved item again in a new lifecycle to raters who have not answered it, and end one that stays starved insufficient', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client);
    const handle = await startCampaign(workers, { items: items(2), responses: 2, itemDeadline: '6s', reask: 1, deadline: '10m' });
    await workers.run(async () => {
      const item = (i: number, attempt = 0) => `${handle.workflowId}-item-${i}${attempt > 0 ? `-r${attempt}` : ''}`;
      await waitUntil(async () => ((await client.workflow.getHandle(item(0)).query(statusQuery).catch(() => undefined))?.phase === 'voting' ? true : undefined), 60_000, 'item 0 voting');
      await handTo(item(0), 1);
      await directory.judge(item(0), judgement('left', 1));
      // Both lifecycles close at their deadline: item 0 with one answer of two, item 1 with none. Both are offered again.
      await waitUntil(async () => ((await client.workflow.getHandle(item(0, 1)).query(statusQuery).catch(() => undefined))?.phase === 'voting' ? true : undefined), 60_000, 'item 0 offered again');
      const offered = await client.workflow.getHandle(item(0, 1)).query(statusQuery);
      assert.deepEqual(offered.quorum, { kind: 'responses', responses: 1 }, 'asking only for what it still lacks');
      await waitUntil(async () => {
        const answer = await next(handle, raterId(1));
        return !answer.assigned || answer.lifecycleId !== item(0, 1) ? true : undefined;
      }, 10_000, 'rater 1 not handed item 0 again');
      // Nor can rater 1 answer the re-ask directly: it was never handed to them (their answer stands on the first attempt).
      await assert.rejects(directory.judge(item(0, 1), judgement('right', 1)), (err: VoteRejectedError) => err.code === 'not_assigned');
      await handTo(item(0, 1), 2);
      await directory.judge(item(0, 1), judgement('right', 2));
      const summary = (await handle.result()) as CampaignSummary;
      assert.deepEqual(summary.counts.ended, { quorum: 1, insufficient: 1 });
      assert.equal(summary.counts.answers, 2);
      const rows = await workers.ledger.query(`SELECT item, lifecycle_id, end_reason, answers, raters, attempts FROM campaign_items WHERE campaign_id = $1 ORDER BY item`, [handle.workflowId]);
      assert.deepEqual(rows.rows, [
        { item: 0, lifecycle_id: item(0, 1), end_reason: 'quorum', answers: 2, raters: 2, attempts: 2 },
        { item: 1, lifecycle_id: item(1, 1), end_reason: 'insufficient', answers: 0, raters: 0, attempts: 2 },
      ]);
    });
  });

  it('should hold a close report that came ahead of answer reports, and end the item on what came once heldCloseWaitMs is over', async () => {
    const { client } = await sharedTemporal();
    const handle = await startCampaign(workers, { items: items(1), responses: 2, maxOpen: 1, reservation: '2m', campaign: 'held-close' }, { heldCloseWaitMs: 10_000 });
    const lifecycle = `${handle.workflowId}-item-0`;
    await workers.run(async () => {
      await waitUntil(async () => ((await client.workflow.getHandle(lifecycle).query(statusQuery).catch(() => undefined))?.phase === 'voting' ? true : undefined), 60_000, 'item 0 voting');
      // A close report that says two answer reports went out before it, neither of which ever comes.
      await handle.signal(campaignItemReportSignal, { lifecycleId: lifecycle, kind: 'closed', closeReason: 'deadline', progress: 0, votesAccepted: 0, answersReported: 2 });
      const held = await status(handle);
      assert.deepEqual([held.counts.open, held.counts.ended], [1, {}], 'held, not ended');
      // The campaign's own timer ends it (nothing else wakes a quiet campaign): on what came, no answers, no re-asks.
      const summary = (await handle.result()) as CampaignSummary;
      assert.deepEqual(summary.counts.ended, { insufficient: 1 });
      await client.workflow.getHandle(lifecycle).signal(closeSignal, { reason: 'test over' });
    });
  });

  it('should read a stored item list in pages and fail at once on bad input, naming the fields', async () => {
    const list = items(60);
    const ref = await workers.artifacts.put(new TextEncoder().encode(JSON.stringify(list)), 'application/json');
    const handle = await startCampaign(workers, { itemsRef: `sha256:${ref.sha256}`, itemCount: 60, responses: 1, maxOpen: 60 });
    const bad = await startCampaign(workers, { items: [{ prompt: '' } as CampaignItem], responses: 0 });
    await workers.run(async () => {
      await waitUntil(async () => ((await status(handle)).counts.open === 60 ? true : undefined), 120_000, 'all 60 open');
      await handle.signal(campaignCancelSignal, {});
      const summary = (await handle.result()) as CampaignSummary;
      assert.deepEqual([summary.counts.done, summary.counts.pending], [60, 0]);
      const err = await bad.result().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, INVALID_CAMPAIGN_INPUT_ERROR);
      assert.match(err.cause.message, /responses: must be an integer/);
      assert.match(err.cause.message, /items\[0\]\.prompt: required/);
    });
  });
});
