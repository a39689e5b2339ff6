/**
 * Early stopping on the real dev server (workflows/confidence-stop.ts through ratingCampaign): items whose
 * raters agree close as soon as the answer is clear, with fewer answers than `responses`, and end
 * `confident` in the ledger; split items run to their quota.
 */
import { type WorkflowHandle } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { CAMPAIGN_WORKFLOW_TYPE, campaignStatusQuery, itemHandedSignal, nextItemUpdate, statusQuery } from '../../workflows/messages';
import type { CampaignInput, CampaignItem, CampaignSummary, JudgementChoice } from '../../workflows/types';
import { waitUntil } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { judgement, raterId } from '../helpers/votes';

const item = (n: number): CampaignItem => ({ prompt: `matchup ${n}`, candidates: [{ text: `first answer ${n}`, model: 'model-a' }, { text: `second answer ${n}`, model: 'model-b' }] });

describe('ratingCampaign early stopping (real dev server)', function () {
  this.timeout(300_000);
  let workers: LifecycleWorkers;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
    workers = await createLifecycleWorkers('campaign-confidence');
  });

  after(() => workers?.close());

  it('should close clear items early as confident with fewer than `responses` answers, and run split items to their quota', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
    const input: CampaignInput = { items: [0, 1, 2, 3].map(item), responses: 6, confidence: 0.99, maxOpen: 4 };
    const handle: WorkflowHandle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, {
      taskQueue: workers.taskQueue, workflowId: `cmp-confident-${randomUUID().slice(0, 8)}`, args: [input],
    });
    const lifecycle = (i: number) => `${handle.workflowId}-item-${i}`;
    const ended = async () => (await handle.query(campaignStatusQuery)).counts.ended;
    /** Shown in either order: the answer is by candidate (c1 is the item's first), whichever side it was on. */
    const answerFirst = (i: number, n: number) => directory.judge(lifecycle(i), n % 2 === 0
      ? judgement('left', n, ['c1', 'c2'])
      : judgement('right', n, ['c2', 'c1']));

    await workers.run(async () => {
      for (const i of [0, 1, 2, 3]) {
        await waitUntil(async () => ((await client.workflow.getHandle(lifecycle(i)).query(statusQuery).catch(() => undefined))?.phase === 'voting' ? true : undefined), 60_000, `item ${i} voting`);
        // Each item handed to raters 1–6 as `next` would: an assigned item takes answers from them only.
        for (const n of [1, 2, 3, 4, 5, 6]) await client.workflow.getHandle(lifecycle(i)).signal(itemHandedSignal, { rater: raterId(n) });
      }
      // Clear items: three raters agree (at the prior score 0.75 with four answers offered, 3 agreeing give 0.9986).
      for (const i of [0, 1]) {
        for (const n of [1, 2]) await answerFirst(i, n);
        assert.equal((await ended()).confident, undefined, `item ${i}: two answers are below minResponses`);
        await answerFirst(i, 3);
      }
      await waitUntil(async () => ((await ended()).confident === 2 ? true : undefined), 60_000, 'both clear items ended confident');
      // A confident item is closed: a further answer is refused, and no rater is handed it.
      const late = await answerFirst(0, 4).then(() => undefined, (err: unknown) => err);
      assert.ok(late instanceof VoteRejectedError && late.code === 'voting_closed', String(late));
      const offered = await handle.executeUpdate(nextItemUpdate, { args: [{ rater: raterId(20) }] });
      assert.ok(offered.assigned && [2, 3].includes(offered.item), JSON.stringify(offered));

      // Split items: first and second alternate, so no answer is ever clear; they take all six answers.
      for (const i of [2, 3]) {
        for (const n of [1, 2, 3, 4, 5, 6]) {
          const choice: JudgementChoice = n % 2 === 1 ? 'left' : 'right';
          await directory.judge(lifecycle(i), judgement(choice, n, ['c1', 'c2']));
        }
      }
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.phase, 'completed');
      assert.deepEqual(summary.counts.ended, { confident: 2, quorum: 2 });
      assert.equal(summary.counts.answers, 3 + 3 + 6 + 6);
    });

    const rows = (await workers.ledger.query(`SELECT item, end_reason, answers, message FROM campaign_items WHERE campaign_id = $1 ORDER BY item`, [handle.workflowId])).rows;
    assert.deepEqual(rows.map((r) => [r['item'], r['end_reason'], r['answers']]), [[0, 'confident', 3], [1, 'confident', 3], [2, 'quorum', 6], [3, 'quorum', 6]]);
    assert.match(String(rows[0]!['message']), /^answer clear: first at 0\.99\d\d after 3 answers \(confidence 0\.99\)$/);
    // The confident items committed what they had: three standing judgements each.
    const committed = (await workers.ledger.query(
      `SELECT lifecycle_id, count(*) FILTER (WHERE standing)::INTEGER AS standing FROM judgements WHERE lifecycle_id IN ($1, $2) GROUP BY lifecycle_id ORDER BY lifecycle_id`,
      [lifecycle(0), lifecycle(1)],
    )).rows;
    assert.deepEqual(committed.map((r) => r['standing']), [3, 3]);
  });
});
