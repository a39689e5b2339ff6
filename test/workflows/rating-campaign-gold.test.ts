/**
 * A campaign with gold items on the real dev server: simulated raters ask `next` and answer through the
 * directory; a bad rater who answers gold wrong is excluded after minGold gold answers (no more items,
 * the reason recorded, their data answers kept in the ledger), good raters pass; a gold lifecycle keeps a
 * rater's first answer (answer_final) and its receipt explains a wrong one; gold answers are no data
 * (no campaign_items rows, not in the counts); a stored gold list (goldRef) is read and checked. Gold
 * looks like data: an item id, a data item's deadline, no counts for raters; `done` does not let a rater
 * skip being scored; a campaign item refuses the other answer form (wrong_answer_form), gold's first
 * answer is final across forms. An excluded rater's data answers fill no item: the items they answered
 * are offered again until raters in good standing gave each its answers (campaign_items.excluded_answers).
 */
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { childInput, validateCampaignInput } from '../../workflows/campaign-input';
import {
  CAMPAIGN_WORKFLOW_TYPE, INVALID_CAMPAIGN_INPUT_ERROR, WORKFLOW_TYPE, campaignCancelSignal, campaignItemReportSignal, campaignRatersQuery, campaignStatusQuery,
  itemHandedSignal, nextItemUpdate,
} from '../../workflows/messages';
import { isGoldTurn } from '../../workflows/rater-quality';
import type { CampaignGoldItem, CampaignInput, CampaignItem, CampaignSummary, LifecycleSummary, NextItemAnswer } from '../../workflows/types';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { raterView } from '../../channels/rater-view';
import { judgement, raterId, vote } from '../helpers/votes';

const item = (n: number): CampaignItem => ({ prompt: `matchup ${n}`, candidates: [{ text: `left answer ${n}`, model: 'model-a' }, { text: `right answer ${n}`, model: 'model-b' }] });
const gold = (n: number): CampaignGoldItem => ({
  prompt: `known matchup ${n}`, candidates: [{ text: `the right one ${n}`, model: 'model-a' }, { text: `the wrong one ${n}`, model: 'model-b' }],
  answer: 'first', explanation: `The first answer of known matchup ${n} is the one that fits.`,
});

const BAD = raterId(1);
const GOOD = [raterId(2), raterId(3), raterId(4)];

/** A campaign id whose first hand-out to the bad rater is a data item (mixing is a hash of it), so they answer data before gold. */
function campaignIdFor(rate: number): string {
  for (;;) {
    const id = `cmp-gold-${randomUUID().slice(0, 8)}`;
    if (!isGoldTurn(id, BAD, 0, rate)) return id;
  }
}

async function startCampaign(workers: LifecycleWorkers, input: CampaignInput, id = `cmp-gold-${randomUUID().slice(0, 8)}`): Promise<WorkflowHandle> {
  const { client } = await sharedTemporal();
  return client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: id, args: [input] });
}

async function nextRetrying(handle: WorkflowHandle, rater: string, done?: string): Promise<NextItemAnswer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await handle.executeUpdate(nextItemUpdate, { args: [{ rater, ...(done ? { done } : {}) }] });
    } catch (err) {
      if (/already completed/i.test(String(err)) && (await handle.describe()).status.name !== 'RUNNING') return { assigned: false, reason: 'finished' };
      if (attempt > 100) throw err;
      await sleep(100);
    }
  }
}

interface RaterLog {
  dataAnswers: number;
  gold: Array<{ lifecycleId: string; correct: boolean; explanation?: string }>;
  last?: NextItemAnswer;
}

/** A rater answering every item once: the first candidate where `right` (it is gold's answer), else the second. */
async function simulate(handle: WorkflowHandle, directory: TemporalLifecycleDirectory, rater: string, right: boolean): Promise<RaterLog> {
  const log: RaterLog = { dataAnswers: 0, gold: [] };
  let done: string | undefined;
  for (;;) {
    const answer = await nextRetrying(handle, rater, done);
    log.last = answer;
    if (!answer.assigned) {
      if (answer.reason === 'finished' || answer.reason === 'excluded') return log;
      await sleep(150);
      continue;
    }
    done = answer.lifecycleId;
    try {
      const receipt = await directory.judge(answer.lifecycleId, judgement(right ? 'left' : 'right', rater, ['c1', 'c2'], { idempotencyKey: `sim:${rater}:${answer.lifecycleId}`, raterAuth: 'invite' }));
      if (receipt.gold) log.gold.push({ lifecycleId: answer.lifecycleId, ...receipt.gold });
      else log.dataAnswers += 1;
    } catch (err) {
      if (!(err instanceof VoteRejectedError && (err.code === 'lifecycle_full' || err.code === 'voting_closed'))) throw err;
    }
  }
}

describe('ratingCampaign with gold items (real dev server)', function () {
  this.timeout(300_000);
  let workers: LifecycleWorkers;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'campaign-gold');
  });

  afterEach(() => workers.close());

  it('should exclude a rater who fails gold (no more items, reason recorded, data answers kept) while good raters pass, gold never counting as data', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
    const handle = await startCampaign(workers, {
      items: Array.from({ length: 12 }, (_, i) => item(i)), gold: Array.from({ length: 4 }, (_, i) => gold(i)), responses: 3, reservation: '2m', campaign: 'gold-check',
      goldRateNew: 0.5, goldWarmup: 4, minGold: 4, minScore: 0.7,
    }, campaignIdFor(0.5));
    await workers.run(async () => {
      const [bad, ...good] = await Promise.all([simulate(handle, directory, BAD, false), ...GOOD.map((r) => simulate(handle, directory, r, true))]);
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.phase, 'completed');
      assert.deepEqual([summary.counts.done, summary.counts.failed, summary.counts.answers], [12, 0, 36], 'gold answers are not in the counts');
      assert.deepEqual(summary.counts.ended, { quorum: 12 });

      // The bad rater: every gold answer wrong with the explanation, excluded after the fourth, told so.
      assert.equal(bad.gold.length, 4, JSON.stringify(bad));
      assert.ok(bad.gold.every((g) => !g.correct && /is the one that fits/.test(g.explanation ?? '')), JSON.stringify(bad.gold));
      assert.ok(bad.last && !bad.last.assigned && bad.last.reason === 'excluded', JSON.stringify(bad.last));
      assert.ok(bad.dataAnswers >= 1, 'answered a data item before gold');
      // Good raters: right, no explanation, never excluded.
      for (const g of good) {
        assert.ok(g.gold.every((x) => x.correct && x.explanation === undefined), JSON.stringify(g.gold));
        assert.ok(g.last && !g.last.assigned && g.last.reason === 'finished');
      }

      const records = await client.workflow.getHandle(handle.workflowId).query(campaignRatersQuery);
      const badRecord = records.find((r) => r.rater === BAD);
      assert.deepEqual({ ...badRecord, excludedAt: typeof badRecord?.excludedAt }, {
        rater: BAD, answers: bad.dataAnswers, goldAnswered: 4, goldCorrect: 0, score: 1.5 / 6, status: 'excluded',
        reason: 'gold accuracy 0 of 4 (score 0.25 with the prior) below 0.70 after 4 gold answers', excludedAt: 'string',
      });
      // A gold answer in the campaign's last moments may reach it after it completed (its report is a signal): at most that many.
      for (const [i, r] of GOOD.entries()) {
        const record = records.find((x) => x.rater === r);
        assert.equal(record?.status, 'active');
        assert.equal(record?.goldCorrect, record?.goldAnswered);
        assert.ok((record?.goldAnswered ?? 0) <= good[i]!.gold.length);
        assert.equal(record?.answers, good[i]!.dataAnswers);
      }
      const s = await client.workflow.getHandle(handle.workflowId).query(campaignStatusQuery);
      assert.deepEqual(s.raters, { total: 4, excluded: 1 });
      assert.equal(s.gold?.items, 4);
      assert.equal(s.gold?.answers, records.reduce((n, r) => n + r.goldAnswered, 0));
      assert.ok((s.gold?.answers ?? 0) >= 4);

      // The bad rater's data answers stay in the ledger; gold lifecycles are not campaign items.
      // Gold lifecycles are items 12 to 15 by id; campaign_gold knows which.
      const goldIds = (await workers.ledger.query(`SELECT lifecycle_id FROM campaign_gold WHERE campaign_id = $1 ORDER BY gold`, [handle.workflowId])).rows.map((r) => String(r.lifecycle_id));
      assert.deepEqual(goldIds, [12, 13, 14, 15].map((n) => `${handle.workflowId}-item-${n}`));
      const kept = (await workers.ledger.query(
        `SELECT count(*)::INTEGER AS n FROM judgements WHERE rater = $1 AND lifecycle_id LIKE $2 AND standing AND lifecycle_id NOT IN (SELECT lifecycle_id FROM campaign_gold WHERE campaign_id = $3)`,
        [BAD, `${handle.workflowId}-item-%`, handle.workflowId],
      )).rows[0];
      assert.deepEqual(kept, { n: bad.dataAnswers });
      const items = (await workers.ledger.query(
        `SELECT count(*)::INTEGER AS n, count(*) FILTER (WHERE lifecycle_id IN (SELECT lifecycle_id FROM campaign_gold WHERE campaign_id = $1))::INTEGER AS gold FROM campaign_items WHERE campaign_id = $1`,
        [handle.workflowId],
      )).rows[0];
      assert.deepEqual(items, { n: 12, gold: 0 });
      // The campaign closed its gold lifecycles when it finished: each committed its answers.
      const first = (await client.workflow.getHandle(goldIds[0]!).result()) as LifecycleSummary;
      assert.equal(first.closeReason, 'closed');
      const goldRows = (await workers.ledger.query(`SELECT count(*)::INTEGER AS n FROM judgements WHERE lifecycle_id = $1`, [goldIds[0]!])).rows[0];
      assert.deepEqual(goldRows, { n: first.votesAccepted });
    });
  });

  it('should count no answer of a rater excluded after answering data items: each item they answered collects its answers from good raters', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
    const responses = 2;
    const handle = await startCampaign(workers, {
      items: Array.from({ length: 4 }, (_, i) => item(i)), gold: Array.from({ length: 4 }, (_, i) => gold(i)), responses, reservation: '2m', campaign: 'gold-excluded',
      deadline: '30m', goldRateNew: 0.99, goldWarmup: 4, minGold: 4, minScore: 0.7,
    }, campaignIdFor(0.99));
    await workers.run(async () => {
      // The bad rater first, alone: a data item (or more) answered, then gold answered wrong until excluded.
      const bad = await simulate(handle, directory, BAD, false);
      assert.ok(bad.last && !bad.last.assigned && bad.last.reason === 'excluded', JSON.stringify(bad.last));
      assert.ok(bad.dataAnswers >= 1, 'answered a data item before gold');
      // Then the good raters: the items the bad rater answered fill their lifecycles' quotas and are offered again.
      await Promise.all(GOOD.map((r) => simulate(handle, directory, r, true)));
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.phase, 'completed');
      assert.deepEqual([summary.counts.done, summary.counts.failed, summary.counts.answers], [4, 0, 4 * responses], 'counted answers only');
      assert.deepEqual(summary.counts.ended, { quorum: 4 });

      // Every item: its answers from good raters in full, over its lifecycles; the excluded rater's kept in the ledger and said apart.
      const items = (await workers.ledger.query(
        `SELECT i.item, i.answers, i.excluded_answers, i.attempts,
                (SELECT count(*) FROM judgements j WHERE j.standing AND j.rater <> $2
                   AND (j.lifecycle_id = $3 || CAST(i.item AS VARCHAR) OR j.lifecycle_id LIKE $3 || CAST(i.item AS VARCHAR) || '-r%'))::INTEGER AS good,
                (SELECT count(*) FROM judgements j WHERE j.standing AND j.rater = $2 AND j.lifecycle_id = $3 || CAST(i.item AS VARCHAR))::INTEGER AS bad
           FROM campaign_items i WHERE i.campaign_id = $1 ORDER BY i.item`,
        [handle.workflowId, BAD, `${handle.workflowId}-item-`],
      )).rows;
      assert.equal(items.length, 4);
      for (const row of items) {
        assert.deepEqual([row.answers, row.good], [responses, responses], JSON.stringify(row));
        assert.deepEqual([row.excluded_answers, row.attempts], [row.bad, 1 + Number(row.bad)], JSON.stringify(row));
      }
      assert.equal(items.reduce((n, r) => n + Number(r.excluded_answers), 0), bad.dataAnswers);
    });
  });

  it('should keep a rater\'s first answer to a gold item: a changed one is refused (answer_final) and the receipt explains a wrong one', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client);
    const stored = await workers.artifacts.put(new TextEncoder().encode(JSON.stringify([gold(0)])), 'application/json');
    const handle = await startCampaign(workers, { items: [item(0)], goldRef: `sha256:${stored.sha256}`, goldCount: 1, responses: 1, goldRateNew: 1 });
    const badGold = await workers.artifacts.put(new TextEncoder().encode(JSON.stringify([{ ...gold(0), answer: 'sideways' }])), 'application/json');
    const refused = await startCampaign(workers, { items: [item(0)], goldRef: `sha256:${badGold.sha256}`, goldCount: 1 });
    await workers.run(async () => {
      // Every hand-out of a new rater is gold at rate 1, while one is open they have not seen.
      let answer = await nextRetrying(handle, raterId(7));
      while (!answer.assigned) {
        await sleep(150);
        answer = await nextRetrying(handle, raterId(7));
      }
      const goldId = `${handle.workflowId}-item-1`; // after the one data item
      assert.equal(answer.lifecycleId, goldId);
      const wrong = await directory.judge(goldId, judgement('right', 7));
      assert.deepEqual(wrong.gold, { correct: false, explanation: 'The first answer of known matchup 0 is the one that fits.' });
      await assert.rejects(directory.judge(goldId, judgement('left', 7)), (err: unknown) => err instanceof VoteRejectedError && err.code === 'answer_final');
      await assert.rejects(directory.judge(goldId, judgement('retract', 7)), (err: unknown) => err instanceof VoteRejectedError && err.code === 'answer_final');
      // Rater 8 answers as if handed the gold item (the campaign's handed signal): only a handed rater may.
      await client.workflow.getHandle(goldId).signal(itemHandedSignal, { rater: raterId(8) });
      const right = await directory.judge(goldId, judgement('left', 8));
      assert.deepEqual(right.gold, { correct: true });
      // The rater view of the gold lifecycle carries no answer and no counts; the next hand-out is the data item.
      const next = await nextRetrying(handle, raterId(7), goldId);
      assert.ok(next.assigned && next.lifecycleId === `${handle.workflowId}-item-0`, JSON.stringify(next));
      await directory.judge(next.lifecycleId, judgement('left', 7));
      const summary = (await handle.result()) as CampaignSummary;
      assert.deepEqual([summary.counts.done, summary.counts.answers], [1, 1]);
      const records = await client.workflow.getHandle(handle.workflowId).query(campaignRatersQuery);
      assert.deepEqual(records.map((r) => [r.rater, r.goldAnswered, r.goldCorrect, r.answers]).sort(), [[raterId(7), 1, 0, 1], [raterId(8), 1, 1, 0]]);

      const err = await refused.result().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, INVALID_CAMPAIGN_INPUT_ERROR);
      assert.match(err.cause.message, /gold\[0\]\.answer: must be one of first, second, tie, both_bad/);
    });
  });

  it('should make gold look like data (id, deadline, no counts), keep it pending after done, and refuse the other answer form', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client);
    const handle = await startCampaign(workers, { items: [item(0)], gold: [gold(0)], responses: 2, goldRateNew: 1, itemDeadline: '1h', deadline: '2d' });
    await workers.run(async () => {
      const rater = raterId(5);
      let answer = await nextRetrying(handle, rater);
      while (!answer.assigned) {
        await sleep(150);
        answer = await nextRetrying(handle, rater);
      }
      const goldId = `${handle.workflowId}-item-1`;
      assert.deepEqual([answer.lifecycleId, answer.item], [goldId, 1], 'gold: an item id, numbered after the data items');
      // done on gold without answering: the rater moves on to the data item, and gold stays pending for them.
      // (The data item's lifecycle may still be opening: `waiting` until its first report is in.)
      let data = await nextRetrying(handle, rater, goldId);
      for (let tries = 0; !data.assigned && data.reason === 'waiting' && tries < 200; tries++) {
        await sleep(150);
        data = await nextRetrying(handle, rater, goldId);
      }
      assert.ok(data.assigned && data.lifecycleId === `${handle.workflowId}-item-0`, JSON.stringify(data));
      const back = await nextRetrying(handle, rater, data.lifecycleId);
      assert.ok(back.assigned && back.lifecycleId === goldId, `gold comes back after done: ${JSON.stringify(back)}`);

      // The same deadline rule: both close an hour after they started, well before the campaign.
      const [goldStatus, dataStatus] = await Promise.all([directory.status(goldId), directory.status(data.lifecycleId)]);
      const hour = Date.now() + 3_600_000;
      for (const s of [goldStatus!, dataStatus!]) assert.ok(Math.abs(Date.parse(s.deadlineAt as string) - hour) < 120_000, `${s.lifecycleId} closes at ${s.deadlineAt}`);

      // A vote on a compare item is refused, gold or data.
      for (const id of [goldId, data.lifecycleId]) {
        await assert.rejects(directory.vote(id, vote('c1', 'up', rater)), (err: unknown) => err instanceof VoteRejectedError && err.code === 'wrong_answer_form', id);
      }
      // Gold's first answer is final in either form. Receipts and rater views carry no counts, data and
      // gold alike; ops views keep them. (The data item's second answer ends the campaign.)
      const graded = await directory.judge(goldId, judgement('left', rater));
      assert.deepEqual([graded.gold, graded.judgements.standing], [{ correct: true }, 0]);
      await assert.rejects(directory.vote(goldId, vote('c2', 'down', rater)), (err: unknown) => err instanceof VoteRejectedError && err.code === 'answer_final');
      // Another rater, handed the data item as `next` would (answers from raters it was not handed to are refused).
      await client.workflow.getHandle(data.lifecycleId).signal(itemHandedSignal, { rater: raterId(6) });
      const other = await directory.judge(data.lifecycleId, judgement('left', 6));
      assert.equal(other.judgements.standing, 0);
      const mine = await directory.judge(data.lifecycleId, judgement('right', rater));
      assert.deepEqual(mine.judgements, { byCandidate: { c1: 0, c2: 0 }, tie: 0, bothBad: 0, standing: 0 });
      assert.equal(((await handle.result()) as CampaignSummary).phase, 'completed');
      for (const id of [goldId, data.lifecycleId]) {
        const status = (await directory.status(id))!;
        assert.ok((status.judgements?.standing ?? 0) >= 1, 'ops view: counts');
        assert.deepEqual(raterView(status).judgements, { byCandidate: { c1: 0, c2: 0 }, tie: 0, bothBad: 0, standing: 0 }, id);
      }
      const records = await client.workflow.getHandle(handle.workflowId).query(campaignRatersQuery);
      assert.deepEqual(records.find((r) => r.rater === rater)?.goldAnswered, 1, 'scored once it was answered');
    });
  });

  it('should wait for its gold lifecycles\' close reports when it ends, so a gold score still in flight reaches the ledger', async () => {
    const { client } = await sharedTemporal();
    const campaignId = `cmp-gold-late-${randomUUID().slice(0, 8)}`;
    const goldId = `${campaignId}-item-1`; // gold numbered after the one data item
    const input: CampaignInput = { items: [item(0)], gold: [gold(0)], responses: 1 };
    const planned = validateCampaignInput(input, campaignId, Date.now());
    assert.ok(planned.ok);
    // The gold lifecycle exists already (the campaign adopts it) and is no child of it: it reports nothing
    // itself, so this test delivers its late score and its close report when it chooses.
    const goldLifecycle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: workers.taskQueue, workflowId: goldId, args: [childInput(planned.plan, item(9), Date.now() + 3_600_000)],
    });
    const handle = await startCampaign(workers, input, campaignId);
    await workers.run(async () => {
      await handle.signal(campaignCancelSignal, { reason: 'ending with a gold answer in flight' });
      // The campaign told the gold lifecycle to close: it is in its last step.
      await goldLifecycle.result();
      await handle.signal(campaignItemReportSignal, { lifecycleId: goldId, kind: 'gold', rater: raterId(5), correct: false });
      await handle.signal(campaignItemReportSignal, { lifecycleId: goldId, kind: 'closed', closeReason: 'closed', progress: 0, votesAccepted: 1 });
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.phase, 'cancelled');
    });
    const { rows } = await workers.ledger.query(`SELECT rater, gold_answered, gold_correct FROM campaign_raters WHERE campaign_id = $1`, [campaignId]);
    assert.deepEqual(rows.map((r) => [r.rater, r.gold_answered, r.gold_correct]), [[raterId(5), 1, 0]]);
  });
});
