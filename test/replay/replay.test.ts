/**
 * Replays saved histories against today's workflow code: a change that would break running
 * lifecycles fails here (DeterminismViolationError) instead of in production.
 */
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { workflowBundle } from '../helpers/temporal';

const HISTORIES = resolve(__dirname, '..', '..', '..', 'test', 'replay', 'histories');

function loadHistory(file: string) {
  return JSON.parse(readFileSync(join(HISTORIES, file), 'utf8'));
}

describe('replay of saved histories', function () {
  this.timeout(120_000);
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort();

  it('should have at least one saved history', () => {
    assert.ok(files.length > 0);
  });

  it('should hold every workflow, and a lifecycle that continued-as-new and the run that resumed it', () => {
    const types = new Set(files.map((f) => loadHistory(f).events[0].workflowExecutionStartedEventAttributes.workflowType.name));
    assert.deepEqual([...types].sort(), ['chatConversation', 'publishRelease', 'ratingCampaign', 'ratingLifecycle']);
    const chat = loadHistory('chatConversation_v1_continuedAsNew.json').events;
    assert.ok(chat.at(-1).workflowExecutionContinuedAsNewEventAttributes, 'a conversation that continued as new');
    const updates = loadHistory('chatConversation_v1.json').events.filter((e: Record<string, unknown>) => e.workflowExecutionUpdateAcceptedEventAttributes);
    assert.equal(updates.length, 8, 'every kind of request a conversation takes');
    const continued = loadHistory('ratingLifecycle_v2_continuedAsNew.json').events;
    assert.ok(continued.at(-1).workflowExecutionContinuedAsNewEventAttributes, 'ends in continue-as-new');
    const resumed = loadHistory('ratingLifecycle_v2_resumed.json').events;
    const [, carry] = resumed[0].workflowExecutionStartedEventAttributes.input.payloads;
    assert.ok('plan' in JSON.parse(Buffer.from(carry.data, 'base64').toString('utf8')), 'starts from a carried state');
    assert.ok(resumed.at(-1).workflowExecutionCompletedEventAttributes, 'and completes');
  });

  const inputOf = (e: Record<string, any>) => JSON.parse(Buffer.from(e.activityTaskScheduledEventAttributes.input.payloads[0].data, 'base64').toString('utf8'));
  const commits = (events: Array<Record<string, any>>) => events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'commitLifecycle').map(inputOf);

  it('should hold a lifecycle that committed an increment while voting and continued-as-new, and the run that finished it', () => {
    const first = loadHistory('ratingLifecycle_v3_increments.json').events;
    assert.ok(first.some((e: Record<string, any>) => e.markerRecordedEventAttributes?.markerName === 'core_patch'), 'records its patch markers');
    const increments = commits(first);
    assert.ok(increments.length > 0 && increments.every((r) => r.lifecycle.closeReason === undefined && r.votes.length > 0), 'commits increments, not closed');
    assert.ok(first.at(-1).workflowExecutionContinuedAsNewEventAttributes, 'then continues as new');
    const [, carry] = first.at(-1).workflowExecutionContinuedAsNewEventAttributes.input.payloads;
    const carried = JSON.parse(Buffer.from(carry.data, 'base64').toString('utf8'));
    assert.ok(carried.voting.committed > 0 && typeof carried.voting.keys === 'string', 'carrying the compact voting state');
    const last = loadHistory('ratingLifecycle_v3_incrementsResumed.json').events;
    const final = commits(last).at(-1);
    assert.ok(final.lifecycle.closeReason && final.unstand?.length === 1, 'the final commit closes it and clears a changed vote');
    assert.ok(last.at(-1).workflowExecutionCompletedEventAttributes);
  });

  it('should hold a lifecycle that refused a signalled castAt the ledger cannot store, and committed its other votes', () => {
    const events = loadHistory('ratingLifecycle_v4_isoCastAt.json').events as Array<Record<string, any>>;
    const decode = (payload: { data: string }) => JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
    const signalled = events.filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'vote-signal')
      .map((e) => decode(e.workflowExecutionSignaledEventAttributes.input.payloads[0]));
    assert.deepEqual(signalled.map((v) => v.castAt === 'March 1, 2026'), [true, false], 'the odd castAt is in history, by signal');
    const [commit, ...more] = commits(events);
    assert.equal(more.length, 0);
    assert.equal(commit.votes.length, 2);
    assert.ok(commit.votes.every((v: { castAt: string }) => v.castAt !== 'March 1, 2026'), 'and not in the commit');
    const summary = decode(events.at(-1)!.workflowExecutionCompletedEventAttributes.result.payloads[0]);
    assert.deepEqual([summary.lateVotesRefused, summary.rowsCommitted], [1, 2]);
  });

  it('should hold a campaign run that started children and continued-as-new, its last run, and a child that reported to it', () => {
    const first = loadHistory('ratingCampaign_v1_continuedAsNew.json').events as Array<Record<string, any>>;
    assert.ok(first.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.parentClosePolicy === 'PARENT_CLOSE_POLICY_ABANDON'), 'starts abandoned children');
    assert.ok(first.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'campaign-item-report'), 'takes their reports');
    assert.ok(first.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes), 'hands out items by update');
    assert.ok(first.at(-1)!.workflowExecutionContinuedAsNewEventAttributes, 'then continues as new');
    const last = loadHistory('ratingCampaign_v1_resumed.json').events as Array<Record<string, any>>;
    assert.ok(last.at(-1)!.workflowExecutionCompletedEventAttributes, 'the last run completes');
    const child = loadHistory('ratingLifecycle_v5_campaignChild.json').events as Array<Record<string, any>>;
    assert.ok(child[0]!.workflowExecutionStartedEventAttributes.parentWorkflowExecution, 'a child of the campaign');
    assert.ok(child.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes).length >= 3, 'reports opened, its answers and its close');
  });

  for (const file of files) {
    it(`should replay ${file} without non-determinism`, async () => {
      // A campaign's commands name its children by its own id: replay it under the id it ran with.
      const workflowId = file.startsWith('ratingCampaign') ? 'replay-fixture-campaign' : undefined;
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, loadHistory(file), workflowId);
    });
  }

  it('should detect non-determinism when the workflow changes its commands', async () => {
    const history = loadHistory('ratingLifecycle_v1.json');
    // Pretend the first activity was a different one: replay must refuse it.
    const scheduled = history.events.find((e: Record<string, unknown>) => e.activityTaskScheduledEventAttributes) as {
      activityTaskScheduledEventAttributes: { activityType: { name: string } };
    };
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'somethingElse';
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history), DeterminismViolationError);
  });
});
