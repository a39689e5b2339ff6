/**
 * A campaign survives a SIGKILLed worker: simulated raters keep asking for items and answering while
 * the only worker process is killed mid-campaign and another starts; every item ends with its quota,
 * and the ledger holds each answer and each item's outcome exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { queryLedger } from '../../cli/query';
import { loadConfig } from '../../config';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { TemporalCampaignDirectory } from '../../core/temporal-campaigns';
import { CAMPAIGN_WORKFLOW_TYPE, campaignStatusQuery } from '../../workflows/messages';
import type { CampaignSummary } from '../../workflows/types';
import { spawnCli, waitUntil, type CliProcess } from '../helpers/processes';
import { sharedTemporal, uniqueQueue } from '../helpers/temporal';
import { judgement, raterId } from '../helpers/votes';

describe('campaign crash recovery', function () {
  this.timeout(300_000);
  const processes: CliProcess[] = [];
  let dataDir: string;

  after(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('should finish every item with its quota, each answer and outcome once, across a SIGKILLed worker', async () => {
    const { client, address } = await sharedTemporal();
    dataDir = mkdtempSync(join(tmpdir(), 'prefline-campaign-crash-'));
    const taskQueue = uniqueQueue('campaign-crash');
    const env = { PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_DATA_DIR: dataDir, PREFLINE_TASK_QUEUE: taskQueue };
    const startWorker = async () => {
      const worker = spawnCli(['worker'], env);
      processes.push(worker);
      await worker.waitFor(/worker polling/, 90_000);
      return worker;
    };
    const first = await startWorker();
    const id = `cmp-crash-${taskQueue}`;
    const items = Array.from({ length: 20 }, (_, i) => ({ prompt: `crash item ${i}`, candidates: [{ text: `l${i}`, model: 'a' }, { text: `r${i}`, model: 'b' }] }));
    const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue, workflowId: id, args: [{ items, responses: 2, maxOpen: 5 }] });

    const campaigns = new TemporalCampaignDirectory(client, { retryBudgetMs: 30_000 });
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 30_000 });
    let finished = false;
    const rater = async (n: number) => {
      const who = raterId(n);
      let done: string | undefined;
      while (!finished) {
        try {
          const answer = await campaigns.next(id, { rater: who, ...(done ? { done } : {}) });
          if (!answer.assigned) {
            if (answer.reason === 'finished') return;
            await sleep(200);
            continue;
          }
          // The same key on every attempt: an answer whose receipt the crash lost counts once.
          await directory.judge(answer.lifecycleId, judgement('left', who, ['c1', 'c2'], { idempotencyKey: `crash:${who}:${answer.lifecycleId}` }));
          done = answer.lifecycleId;
        } catch {
          await sleep(300); // the worker is down: Temporal holds the campaign until the next one polls
        }
      }
    };
    const raters = [1, 2, 3].map(rater);

    await waitUntil(async () => ((await handle.query(campaignStatusQuery).catch(() => undefined))?.counts.done ?? 0) >= 6 ? true : undefined, 120_000, 'six items done');
    const killed = await first.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    await sleep(2000);
    const second = await startWorker();
    const summary = (await handle.result()) as CampaignSummary;
    finished = true;
    await Promise.all(raters);
    assert.equal(summary.phase, 'completed');
    assert.deepEqual([summary.counts.done, summary.counts.failed, summary.counts.answers], [20, 0, 40]);
    assert.deepEqual(summary.counts.ended, { quorum: 20 });

    const config = loadConfig({ PREFLINE_DATA_DIR: dataDir });
    const outcomes = await queryLedger(config, `SELECT count(*)::INT AS n, count(DISTINCT item)::INT AS items, min(answers)::INT AS least FROM campaign_items WHERE campaign_id = '${id}'`);
    assert.deepEqual(outcomes.rows, [{ n: 20, items: 20, least: 2 }]);
    const answers = await queryLedger(config, `SELECT count(*)::INT AS n, count(DISTINCT lifecycle_id || rater)::INT AS pairs FROM judgements WHERE lifecycle_id LIKE '${id}-item-%'`);
    assert.deepEqual(answers.rows, [{ n: 40, pairs: 40 }], 'each answer once, no rater twice on an item');
    await second.kill('SIGTERM');
  });
});
