/**
 * `prefline campaign` tests: the plan the item and gold file readers take, and the command as a child
 * process against the shared dev server, with in-process lifecycle workers polling its task queue.
 * Shared by test/cli/campaign.test.ts, test/cli/campaign-gold.test.ts and test/cli/campaign-items.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { validateCampaignInput } from '../../workflows/campaign-input';
import type { CampaignPlan } from '../../workflows/types';
import { spawnCli } from './processes';
import { createLifecycleWorkers, sharedTemporal, type LifecycleWorkers } from './temporal';

/** A campaign of one item and three responses, `input` on top, as validated at `now`. */
export function campaignPlan(now: number, input: Record<string, unknown> = {}): CampaignPlan {
  const result = validateCampaignInput({ itemsRef: `sha256:${'0'.repeat(64)}`, itemCount: 1, responses: 3, ...input }, 'camp', now);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

export interface CampaignCli {
  workers: LifecycleWorkers;
  /** The CLI's data folder, a temp folder of the suite's own; close() removes it. */
  dir: string;
  /** Runs `prefline <args>` to its exit, while the in-process workers keep polling. */
  cli(args: string[]): Promise<{ code: number | null; output: string }>;
  close(): void;
}

/** For a suite's before hook: `label` names the task queue, `dirPrefix` the data folder. */
export async function startCampaignCli(label: string, dirPrefix: string): Promise<CampaignCli> {
  const { address } = await sharedTemporal();
  const workers = await createLifecycleWorkers(label);
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  // The CLI stores the items where the workers' activities read them.
  const env: NodeJS.ProcessEnv = { PREFLINE_DATA_DIR: dir, PREFLINE_ARTIFACT_DIR: join(workers.dir, 'artifacts'), PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_TASK_QUEUE: workers.taskQueue };
  return {
    workers,
    dir,
    cli: async (args) => {
      const child = spawnCli(args, env);
      const { code } = await child.exited;
      return { code, output: child.output() };
    },
    close: () => {
      workers.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The input the workflow was started with, read from its first history event. */
export async function workflowStartInput(handle: WorkflowHandle): Promise<Record<string, unknown>> {
  const [startInput] = (await handle.fetchHistory()).events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
  return JSON.parse(Buffer.from(startInput!.data!).toString('utf8')) as Record<string, unknown>;
}
