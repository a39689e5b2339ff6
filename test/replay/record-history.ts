/**
 * Records replay fixtures on a fresh dev server: `node dist/test/replay/record-history.js <scenario>`.
 * Scenarios and the files they write (names carry the workflow version they were recorded on: v1
 * before ratingLifecycle took thresholds, v2 after, v3 with bounded history and one channel per lifecycle,
 * v4 with castAt in RFC 3339 form):
 *   lifecycle         ratingLifecycle_v1: votes by update and signal, a change, a retraction, a duplicate, a close
 *   live-tally        ratingLifecycle_v2_liveTally: a Slack lifecycle's throttled live updates, then quorum
 *   continued-as-new  ratingLifecycle_v2_continuedAsNew (the first run, ending in continue-as-new) and
 *                     ratingLifecycle_v2_resumed (the last run, from the carried state to the commit),
 *                     an email lifecycle with a reminder
 *   increments        ratingLifecycle_v3_increments (the first run: votes with 2,000-character comments,
 *                     committed in an increment before it continued as new) and
 *                     ratingLifecycle_v3_incrementsResumed (the last run: a vote changed after its commit,
 *                     a duplicate of a committed one, the close and the final commit)
 *   iso-cast-at       ratingLifecycle_v4_isoCastAt: a signalled vote whose castAt DuckDB cannot store
 *                     ("March 1, 2026"), refused and not counted, valid votes by signal and update, the commit
 *   release           publishRelease_v1: a release of one committed lifecycle
 *   campaign          ratingCampaign_v1_continuedAsNew (the first run of a 4-item campaign, maxOpen 2, raters
 *                     asking next and answering, continue-as-new forced low), ratingCampaign_v1_resumed
 *                     (its last run, to the final commit) and ratingLifecycle_v5_campaignChild (one item's
 *                     lifecycle, assigned: handed to raters by next, reports to the campaign, the quota refusing
 *                     a third answer); re-recorded when next began telling items whom they were handed to
 *   chat              chatConversation_v1: a conversation with a rating and reason, feedback, a correction,
 *                     a regeneration and an A/B judgement, a second turn, Clear; and
 *                     chatConversation_v1_continuedAsNew, a first run that continued as new
 *   chat-cadence      chatConversation_v2_cadence: commits once per window (workflows/chat-commit-timing.ts):
 *                     two turns and a rating in the first window, a turn after its commit, a quiet spell
 *                     past the next cadence point, a last turn, Clear
 * Re-record only when a workflow change is deliberately incompatible (and guard it with patched()).
 */
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LifecycleStart } from '../../workflows/lifecycle-state';
import {
  CAMPAIGN_WORKFLOW_TYPE, WORKFLOW_TYPE, closeSignal, compareUpdate, itemHandedSignal, correctionUpdate, endUpdate, feedbackUpdate, rateReplyUpdate, regenerateUpdate, judgeUpdate, nextItemUpdate, sendMessageUpdate, voteSignal, voteUpdate,
} from '../../workflows/messages';
import { base, startConversation, updateLatest } from '../helpers/chat';
import { RELEASE_WORKFLOW_TYPE } from '../../workflows/publish-release';
import type { LifecycleInput, LifecycleSummary } from '../../workflows/types';
import { waitUntil } from '../helpers/processes';
import { recordingChannel } from '../helpers/stub-activities';
import { createLifecycleWorkers, sharedTemporal, stopSharedTemporal, waitForVoting, type LifecycleWorkers, type WorkerOverrides } from '../helpers/temporal';
import { judgement, raterId, vote } from '../helpers/votes';

const SLACK = { channel: 'slack' } as const;

const HISTORIES = resolve(__dirname, '..', '..', '..', 'test', 'replay', 'histories');

async function save(handle: WorkflowHandle, name: string): Promise<void> {
  const history = await handle.fetchHistory();
  const file = join(HISTORIES, `${name}.json`);
  writeFileSync(file, historyToJSON(history));
  process.stdout.write(`wrote ${file} (${history.events?.length} events)\n`);
}

async function startLifecycle(workers: LifecycleWorkers, name: string, input: LifecycleInput, second?: LifecycleStart) {
  const { client } = await sharedTemporal();
  return client.workflow.start(WORKFLOW_TYPE, {
    taskQueue: workers.taskQueue,
    workflowId: `replay-fixture-${name}`,
    args: second === undefined ? [input] : [input, second],
  });
}

/** Runs `fn` while fresh workers poll a new task queue, then removes their temp dirs. */
async function withWorkers(label: string, overrides: WorkerOverrides, fn: (workers: LifecycleWorkers) => Promise<void>): Promise<void> {
  const workers = await createLifecycleWorkers(label, overrides);
  try {
    await workers.run(() => fn(workers));
  } finally {
    workers.close();
  }
}

const scenarios: Record<string, () => Promise<void>> = {
  async lifecycle() {
    await withWorkers('record', {}, async (workers) => {
      const handle = await startLifecycle(workers, 'ratingLifecycle_v1', { prompt: 'replay fixture', models: ['demo:shapes', 'demo:text'], votesPerCandidate: 3, campaign: 'fixtures' });
      await waitForVoting(handle);
      const first = vote('c1', 'up', 1);
      await handle.executeUpdate(voteUpdate, { args: [first] });
      await handle.executeUpdate(voteUpdate, { args: [first], updateId: 'replay-duplicate' });
      await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'down', 1)] });
      await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'up', 1, { castAt: new Date(Date.now() + 1000).toISOString() })] });
      await handle.signal(voteSignal, vote('c1', 'down', 2));
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'retract', 2, { castAt: new Date(Date.now() + 2000).toISOString() })] });
      await handle.signal(closeSignal, { reason: 'fixture' });
      await handle.result();
      await save(handle, 'ratingLifecycle_v1');
    });
  },

  async 'live-tally'() {
    const channel = recordingChannel();
    await withWorkers('record-live', { channel: channel.activities }, async (workers) => {
      const handle = await startLifecycle(
        workers, 'ratingLifecycle_v2_liveTally',
        { prompt: 'replay fixture, live', model: 'demo:text', candidates: 2, channel: 'slack:#fixtures', totalVotes: 6 },
        { thresholds: { liveUpdateIntervalMs: 1000 } },
      );
      await waitForVoting(handle);
      for (let n = 1; n <= 3; n++) await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', n, SLACK)] });
      await waitUntil(() => channel.calls.updatePost.at(-1)?.votesAccepted === 3 || undefined, 30_000, 'the live post to show 3 votes');
      await handle.signal(voteSignal, vote('c2', 'down', 4, SLACK));
      for (let n = 5; n <= 6; n++) await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'up', n, SLACK)] });
      await handle.result();
      await save(handle, 'ratingLifecycle_v2_liveTally');
    });
  },

  async 'continued-as-new'() {
    const channel = recordingChannel();
    await withWorkers('record-can', { channel: channel.activities }, async (workers) => {
      const { client } = await sharedTemporal();
      const handle = await startLifecycle(
        workers, 'ratingLifecycle_v2_continuedAsNew',
        { prompt: 'replay fixture, long', model: 'demo:text', candidates: 2, channel: 'email:a@example.com', totalVotes: 10, deadline: '1h', remindBefore: '3599s' },
        // Past the reminder and a vote or two in the first run; later runs take three or four each.
        { thresholds: { continueAsNewAfterEvents: 30 } },
      );
      await waitForVoting(handle);
      await waitUntil(() => channel.calls.remindRaters.length > 0 || undefined, 30_000, 'the reminder');
      for (let n = 1; n <= 10; n++) {
        const v = vote(n % 2 ? 'c1' : 'c2', 'up', n, { channel: 'email' });
        if (n % 3 === 0) await handle.signal(voteSignal, v);
        else await handle.executeUpdate(voteUpdate, { args: [v] });
      }
      await handle.result();
      const first = client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      const last = client.workflow.getHandle(handle.workflowId, (await handle.describe()).runId);
      const firstHistory = await first.fetchHistory();
      if (!firstHistory.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes) throw new Error('the first run did not continue as new');
      await save(first, 'ratingLifecycle_v2_continuedAsNew');
      await save(last, 'ratingLifecycle_v2_resumed');
    });
  },

  async increments() {
    await withWorkers('record-increments', {}, async (workers) => {
      const { client } = await sharedTemporal();
      const handle = await startLifecycle(
        workers, 'ratingLifecycle_v3_increments',
        { prompt: 'replay fixture, increments', model: 'demo:text', candidates: 2, totalVotes: 100, deadline: '1h' },
        { thresholds: { continueAsNewAfterEvents: 60 } },
      );
      await waitForVoting(handle);
      const long = (n: number) => ({ comment: `comment ${n} `.padEnd(2000, 'x') });
      const first = [];
      for (let n = 1; n <= 24; n++) {
        const v = vote(n % 2 ? 'c1' : 'c2', 'up', n, long(n));
        first.push(v);
        await handle.signal(voteSignal, v);
      }
      await waitUntil(async () => ((await handle.describe()).runId !== handle.firstExecutionRunId || undefined), 30_000, 'a continue-as-new');
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'down', 1, { castAt: new Date(Date.now() + 1000).toISOString() })] });
      await handle.executeUpdate(voteUpdate, { args: [first[1]!], updateId: 'replay-duplicate-after-can' });
      await handle.signal(closeSignal, { reason: 'fixture' });
      await handle.result();
      const firstRun = client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
      const events = (await firstRun.fetchHistory()).events ?? [];
      if (!events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes) throw new Error('the first run did not continue as new');
      if (!events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'commitLifecycle')) throw new Error('the first run committed no increment');
      await save(firstRun, 'ratingLifecycle_v3_increments');
      await save(client.workflow.getHandle(handle.workflowId, (await handle.describe()).runId), 'ratingLifecycle_v3_incrementsResumed');
    });
  },

  async 'iso-cast-at'() {
    await withWorkers('record-iso-cast-at', {}, async (workers) => {
      const handle = await startLifecycle(workers, 'ratingLifecycle_v4_isoCastAt', { prompt: 'replay fixture, castAt', model: 'demo:text', candidates: 2, totalVotes: 10 });
      await waitForVoting(handle);
      await handle.signal(voteSignal, vote('c1', 'up', 1, { castAt: 'March 1, 2026' }));
      await handle.signal(voteSignal, vote('c1', 'up', 2));
      await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'down', 2)] });
      await handle.signal(closeSignal, { reason: 'fixture' });
      const summary = (await handle.result()) as LifecycleSummary;
      if (summary.lateVotesRefused !== 1 || summary.rowsCommitted !== 2) throw new Error(`unexpected summary ${JSON.stringify(summary)}`);
      await save(handle, 'ratingLifecycle_v4_isoCastAt');
    });
  },

  campaign: () => recordCampaign(),
  async release() {
    await withWorkers('record-release', {}, async (workers) => {
      const { client } = await sharedTemporal();
      const lifecycle = await startLifecycle(workers, 'release-input', { prompt: 'replay fixture, released', models: ['demo:shapes', 'demo:text'], votesPerCandidate: 1 });
      await waitForVoting(lifecycle);
      await lifecycle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 1)] });
      await lifecycle.executeUpdate(voteUpdate, { args: [vote('c2', 'down', 1)] });
      await lifecycle.result();
      const handle = await client.workflow.start(RELEASE_WORKFLOW_TYPE, {
        taskQueue: workers.taskQueue,
        workflowId: 'replay-fixture-publishRelease_v1',
        args: [{ cutoff: new Date().toISOString() }],
      });
      await handle.result();
      await save(handle, 'publishRelease_v1');
    });
  },
};

/** The campaign scenario: its runs and one child, each saved. */
async function recordCampaign(): Promise<void> {
  await withWorkers('record-campaign', {}, async (workers) => {
    const { client } = await sharedTemporal();
    const id = 'replay-fixture-campaign';
    const items = Array.from({ length: 4 }, (_, i) => ({ prompt: `replay fixture item ${i}`, candidates: [{ text: `left ${i}`, model: 'a' }, { text: `right ${i}`, model: 'b' }] }));
    const started = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, {
      taskQueue: workers.taskQueue, workflowId: id,
      args: [{ items, responses: 2, maxOpen: 2, reservation: '1m' }, { thresholds: { continueAsNewAfterEvents: 60 } }],
    });
    const handle = client.workflow.getHandle(id);
    for (let n = 1, answered = 0; answered < 8; n = (n % 3) + 1) {
      let assigned;
      try {
        assigned = await handle.executeUpdate(nextItemUpdate, { args: [{ rater: raterId(n) }] });
      } catch {
        await new Promise((r) => setTimeout(r, 200)); // the run is handing over
        continue;
      }
      if (!assigned.assigned) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      try {
        await client.workflow.getHandle(assigned.lifecycleId).executeUpdate(judgeUpdate, { args: [judgement('left', n, ['c1', 'c2'], { idempotencyKey: `replay:${n}:${assigned.lifecycleId}` })] });
        answered += 1;
      } catch {
        // full or closed: another rater's answer came first
      }
    }
    // A third answer on a full item is refused by the child's validator (no trace in history), from a rater
    // it was handed to (the handed signal, as next sends it), so the quota is what refuses it.
    await client.workflow.getHandle(`${id}-item-0`).signal(itemHandedSignal, { rater: raterId(9) }).catch(() => undefined);
    await client.workflow.getHandle(`${id}-item-0`).executeUpdate(judgeUpdate, { args: [judgement('tie', 9)] }).catch(() => undefined);
    await handle.result();
    await save(client.workflow.getHandle(id, started.firstExecutionRunId), 'ratingCampaign_v1_continuedAsNew');
    await save(handle, 'ratingCampaign_v1_resumed');
    await save(client.workflow.getHandle(`${id}-item-0`), 'ratingLifecycle_v5_campaignChild');
  });
}
scenarios.chat = async () => {
  await withWorkers('record-chat', {}, async (workers) => {
    const { client } = await sharedTemporal();
    const handle = await startConversation(workers.taskQueue, { thresholds: { commitAfterMs: 0 } }, 'replay-fixture-chatConversation_v1');
    const first = await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'how many r in strawberry?' }] });
    await handle.executeUpdate(rateReplyUpdate, { args: [{ ...base(), replyId: first.reply.id, value: 'down', reason: 'incorrect' }] });
    await handle.executeUpdate(feedbackUpdate, { args: [{ ...base(), replyId: first.reply.id, text: "there are three r's" }] });
    await handle.executeUpdate(correctionUpdate, { args: [{ ...base(), replyId: first.reply.id, text: 'There are three.' }] });
    const again = await handle.executeUpdate(regenerateUpdate, { args: [{ ...base() }] });
    await handle.executeUpdate(compareUpdate, { args: [{ ...base(), left: again.reply.id, right: first.reply.id, choice: 'left' }] });
    await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'and in raspberry?' }] });
    await handle.executeUpdate(endUpdate, { args: [{ ...base() }] });
    await handle.result();
    await save(handle, 'chatConversation_v1');

    const long = await startConversation(workers.taskQueue, { thresholds: { continueAsNewAfterEvents: 20, commitAfterMs: 0 } }, 'replay-fixture-chatConversation_v1_continuedAsNew');
    for (let n = 1; n <= 4; n++) await updateLatest(long.workflowId, sendMessageUpdate, { ...base(), text: `message ${n}` });
    await updateLatest(long.workflowId, endUpdate, { ...base() });
    await client.workflow.getHandle(long.workflowId).result();
    const firstRun = client.workflow.getHandle(long.workflowId, long.firstExecutionRunId);
    if (!(await firstRun.fetchHistory()).events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes) throw new Error('the first run did not continue as new');
    await save(firstRun, 'chatConversation_v1_continuedAsNew');
  });
};

scenarios['chat-cadence'] = async () => {
  await withWorkers('record-chat-cadence', {}, async (workers) => {
    const windowMs = 1500;
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const handle = await startConversation(workers.taskQueue, { thresholds: { commitAfterMs: windowMs } }, 'replay-fixture-chatConversation_v2_cadence');
    const first = await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'how many r in strawberry?' }] });
    await handle.executeUpdate(rateReplyUpdate, { args: [{ ...base(), replyId: first.reply.id, value: 'down', reason: 'incorrect' }] });
    await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'and in raspberry?' }] });
    await pause(windowMs + 500);
    await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'and in blueberry?' }] });
    await pause(3 * windowMs);
    await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'thanks' }] });
    await handle.executeUpdate(endUpdate, { args: [{ ...base() }] });
    await handle.result();
    const commits = ((await handle.fetchHistory()).events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'commitChatEvents').length;
    if (commits < 3) throw new Error(`expected a commit per window, got ${commits}`);
    await save(handle, 'chatConversation_v2_cadence');
  });
};

async function main(scenario: string): Promise<void> {
  const record = scenarios[scenario];
  if (!record) throw new Error(`unknown scenario "${scenario}"; one of: ${Object.keys(scenarios).join(', ')}`);
  try {
    await record();
  } finally {
    await stopSharedTemporal();
  }
}

main(process.argv[2] ?? '').catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
