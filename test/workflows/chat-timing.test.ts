/**
 * chatConversation over time: the idle timeout ends a conversation and a new run reopens it from its
 * final carry; continue-as-new, forced with a low threshold, carries the transcript by reference (ids
 * and digests) while the model still sees the whole conversation and the ledger gets every event once;
 * an active conversation's events reach the ledger once per commit window, never later than it.
 */
import assert from 'node:assert/strict';
import { createOpenAICompatibleBackend } from '../../connectors/inference/openai/OpenAICompatibleBackend';
import { CHAT_WORKFLOW_TYPE, endUpdate, rateReplyUpdate, sendMessageUpdate, transcriptQuery } from '../../workflows/messages';
import type { ChatStart, ConversationSummary } from '../../workflows/types';
import { WorkflowFailedError } from '@temporalio/client';
import { ALICE, base, startConversation, updateLatest } from '../helpers/chat';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { startOpenAIStandIn, type OpenAIStandIn } from '../standins/openai-server';

describe('chatConversation over time (real dev server)', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;
  let openai: OpenAIStandIn;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    openai = await startOpenAIStandIn();
    openai.setModel('llama3:8b');
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'chat-timing', { backends: [createOpenAICompatibleBackend({ baseUrl: openai.baseUrl, timeoutMs: 10_000 })] });
  });

  afterEach(async () => {
    workers.close();
    await openai.close();
  });

  const events = async (conversationId: string) =>
    (await workers.ledger.query(`SELECT conversation_run_id, seq, kind, detail->>'reason' AS reason FROM chat_events WHERE conversation_id = $1 ORDER BY seq`, [conversationId])).rows;

  it('should end after the idle timeout, commit the end, and continue when reopened from its final carry', async () => {
    await workers.run(async () => {
      const start: Partial<ChatStart> = { idleTimeout: '2s' };
      const handle = await startConversation(workers.taskQueue, start);
      const startedAt = Date.now();
      await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'hello' }] });
      const summary = (await handle.result()) as ConversationSummary;
      assert.equal(summary.endReason, 'idle');
      assert.ok(Date.now() - startedAt >= 2000, 'not before the timeout');
      assert.deepEqual((await events(handle.workflowId)).map((e) => [e.kind, e.reason]), [['start', null], ['user_message', null], ['reply', null], ['end', 'idle']]);

      // Reopening: a new run of the same conversation id starts from the idle run's final carry.
      const { client } = await sharedTemporal();
      const reopened = await client.workflow.start(CHAT_WORKFLOW_TYPE, {
        taskQueue: workers.taskQueue,
        workflowId: handle.workflowId,
        args: [{ owner: ALICE, ownerAuth: 'invite', model: 'demo:text', ...start }, { ...summary.carry, reopened: true }],
      });
      const next = await reopened.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'I am back' }] });
      assert.equal(next.turn, 2);
      assert.equal(next.userMessageId, 'm3');
      const transcript = await reopened.query(transcriptQuery);
      assert.equal(transcript.messages[0]?.text, undefined, 'earlier messages by reference');
      assert.match(String(transcript.messages[0]?.sha256), /^[0-9a-f]{64}$/);
      assert.equal((await reopened.result() as ConversationSummary).endReason, 'idle');
      const all = await events(handle.workflowId);
      assert.deepEqual(all.map((e) => e.kind), ['start', 'user_message', 'reply', 'end', 'reopen', 'user_message', 'reply', 'end']);
      assert.deepEqual(all.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(new Set(all.map((e) => e.conversation_run_id)).size, 1, 'one ledger key across runs');
    });
  });

  it('should commit the turns of an active conversation together, once per window, and no event later than the window', async () => {
    await workers.run(async () => {
      const windowMs = 10_000;
      const handle = await startConversation(workers.taskQueue, { model: 'openai:llama3:8b', thresholds: { commitAfterMs: windowMs } });
      const startedAt = Date.now();
      const { client } = await sharedTemporal();
      const commits = async () => ((await client.workflow.getHandle(handle.workflowId).fetchHistory()).events ?? [])
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'commitChatEvents').length;
      const committedBy = async (deadlineMs: number, what: string) => {
        for (;;) {
          if ((await handle.query(transcriptQuery)).status.uncommitted === 0) return Date.now();
          assert.ok(Date.now() < deadlineMs, `${what}: still uncommitted after the window`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      // Three turns and a rating within the first window: one commit for all of them, at its end.
      for (const text of ['one', 'two', 'three']) {
        const receipt = await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text }] });
        if (text === 'two') await handle.executeUpdate(rateReplyUpdate, { args: [{ ...base(), replyId: receipt.reply.id, value: 'down' }] });
      }
      assert.ok(Date.now() - startedAt < windowMs - 1000, 'the turns fit in the window (a machine this slow cannot tell)');
      assert.equal(await commits(), 0, 'no commit on a turn\'s path');
      const first = await committedBy(startedAt + windowMs + 5000, 'the first window');
      assert.ok(first - startedAt >= windowMs - 200, 'the window is used to gather events, not cut short');
      assert.equal(await commits(), 1, 'one commit for the whole window');
      assert.deepEqual((await events(handle.workflowId)).map((e) => e.kind), ['start', 'user_message', 'reply', 'user_message', 'reply', 'rating', 'user_message', 'reply']);

      // A turn after the commit: at the next cadence point at the latest.
      const sentAt = Date.now();
      await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'four' }] });
      await committedBy(sentAt + windowMs + 5000, 'the turn after the first commit');
      assert.equal(await commits(), 2);
      assert.equal((await events(handle.workflowId)).length, 10, 'each event once');
      const timers = ((await client.workflow.getHandle(handle.workflowId).fetchHistory()).events ?? []).filter((e) => e.timerStartedEventAttributes).length;
      assert.ok(timers <= 4, `one timer per window and the idle timer, not one per turn: ${timers}`);
      await handle.terminate('done');
    });
  });

  it('should refuse to reopen a conversation that was cleared', async () => {
    await workers.run(async () => {
      const handle = await startConversation(workers.taskQueue);
      await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'hello' }] });
      await handle.executeUpdate(endUpdate, { args: [{ ...base() }] });
      const summary = (await handle.result()) as ConversationSummary;
      const { client } = await sharedTemporal();
      const again = await client.workflow.start(CHAT_WORKFLOW_TYPE, {
        taskQueue: workers.taskQueue, workflowId: handle.workflowId, args: [{ owner: ALICE, ownerAuth: 'invite', model: 'demo:text' }, { ...summary.carry, reopened: true }],
      });
      await assert.rejects(again.result(), (err: unknown) => err instanceof WorkflowFailedError && /only a conversation that ended for inactivity can be reopened/.test(String(err.cause?.message)));
    });
  });

  it('should continue as new with the transcript by reference, the model seeing it whole and the ledger every event once', async () => {
    await workers.run(async () => {
      const handle = await startConversation(workers.taskQueue, { model: 'openai:llama3:8b', thresholds: { continueAsNewAfterEvents: 20, commitAfterMs: 0 } });
      const texts = ['one fish', 'two fish', 'red fish', 'blue fish', 'old fish', 'new fish'];
      const replies: string[] = [];
      for (const text of texts) {
        const receipt = await updateLatest(handle.workflowId, sendMessageUpdate, { ...base(), text });
        replies.push(receipt.reply.text!);
        await updateLatest(handle.workflowId, rateReplyUpdate, { ...base(), replyId: receipt.reply.id, value: 'up' });
      }
      const { client } = await sharedTemporal();
      const latest = await client.workflow.getHandle(handle.workflowId).describe();
      assert.notEqual(latest.runId, handle.firstExecutionRunId, 'it continued as new');

      const transcript = await client.workflow.getHandle(handle.workflowId).query(transcriptQuery);
      assert.equal(transcript.messages.length, 12);
      const carried = transcript.messages.filter((m) => m.text === undefined);
      assert.ok(carried.length > 0, 'earlier runs\' messages carried without their text');
      assert.ok(carried.every((m) => /^[0-9a-f]{64}$/.test(m.sha256 ?? '')), 'but with their digests');
      assert.ok(transcript.messages.every((m) => m.role === 'user' || m.rating?.value === 'up'), 'ratings carried');

      // The last reply's context was read back from the artifact store: every earlier message, whole.
      const last = openai.requestsTo('/v1/chat/completions').at(-1)!.body as { messages: Array<{ role: string; content: string }> };
      assert.deepEqual(last.messages, texts.flatMap((t, i) => (i < texts.length - 1 ? [{ role: 'user', content: t }, { role: 'assistant', content: replies[i]! }] : [{ role: 'user', content: t }])));

      await updateLatest(handle.workflowId, endUpdate, { ...base() });
      const summary = (await client.workflow.getHandle(handle.workflowId).result()) as ConversationSummary;
      const all = await events(handle.workflowId);
      assert.equal(all.length, summary.events);
      assert.deepEqual(all.map((e) => e.seq), Array.from({ length: summary.events }, (_, i) => i + 1));
      assert.equal(new Set(all.map((e) => e.conversation_run_id)).size, 1);
      assert.equal(all[0]?.conversation_run_id, handle.firstExecutionRunId);
    });
  });
});
