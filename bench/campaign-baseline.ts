/**
 * The raw baselines of bench/campaign, as workflows that do nothing but what Temporal itself costs
 * (bundled by bench/campaign-baseline-worker.ts, never by the product's worker):
 *   - benchTrivialParent starts `count` benchTrivialChild workflows with at most `maxOpen` open, in
 *     batches like the campaign's (START_BATCH), and ends when all have completed: the raw child-start rate;
 *   - benchTrivialTarget answers benchPingUpdate at once until benchFinishSignal: raw updates.
 * Deterministic and sandbox-safe: only @temporalio/workflow.
 */
import { ParentClosePolicy, condition, defineSignal, defineUpdate, setHandler, startChild, workflowInfo } from '@temporalio/workflow';

export const benchPingUpdate = defineUpdate<number, [number]>('benchPing');
export const benchFinishSignal = defineSignal('benchFinish');

/** Children started per batch, as ratingCampaign's START_BATCH. */
const BATCH = 25;

export async function benchTrivialChild(): Promise<void> {
  // Nothing: a child's whole cost is its start, its first workflow task and its completion.
}

export async function benchTrivialParent(count: number, maxOpen: number): Promise<number> {
  let next = 0;
  let open = 0;
  let done = 0;
  const { workflowId } = workflowInfo();
  while (done < count) {
    const batch: Array<Promise<void>> = [];
    while (batch.length < BATCH && next < count && open < maxOpen) {
      open++;
      batch.push(
        startChild(benchTrivialChild, { workflowId: `${workflowId}-child-${next++}`, parentClosePolicy: ParentClosePolicy.ABANDON }).then((child) => {
          void child.result().then(() => {
            open--;
            done++;
          });
        }),
      );
    }
    await Promise.all(batch);
    await condition(() => done === count || (next < count && open < maxOpen));
  }
  return done;
}

export async function benchTrivialTarget(): Promise<number> {
  let answered = 0;
  let finished = false;
  setHandler(benchPingUpdate, (n) => {
    answered++;
    return n;
  });
  setHandler(benchFinishSignal, () => {
    finished = true;
  });
  await condition(() => finished);
  return answered;
}
