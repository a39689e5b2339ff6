/**
 * chatConversation on the real dev server with real activities (demo:text and the OpenAI-compatible
 * stand-in streaming, temp artifact store, temp DuckDB ledger): a multi-turn conversation with
 * ratings, a reason tag, feedback, a correction, regenerate + A/B, ending in ledger rows; the stream
 * side channel; duplicates, one reply at a time, Clear while a reply is written; invalid starts.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatStreamHub, type StreamEvent } from '../../channels/chat/stream-hub';
import { createOpenAICompatibleBackend } from '../../connectors/inference/openai/OpenAICompatibleBackend';
import {
  ChatRejection, INVALID_CHAT_INPUT_ERROR, compareUpdate, correctionUpdate, endUpdate, feedbackUpdate, rateReplyUpdate, regenerateUpdate,
  sendMessageUpdate, transcriptQuery,
} from '../../workflows/messages';
import { RELEASE_WORKFLOW_TYPE } from '../../workflows/publish-release';
import type { ConversationSummary } from '../../workflows/types';
import type { ReleaseSummary } from '../../activities/types';
import { join } from 'node:path';
import { readParquetIndependently } from '../releases/fixtures';
import { ALICE, base, startConversation } from '../helpers/chat';
import { waitUntil } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { startOpenAIStandIn, type OpenAIStandIn } from '../standins/openai-server';

async function rejectedWith(promise: Promise<unknown>, type: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, type, err.cause.message);
    return true;
  });
}

async function chatEvents(workers: LifecycleWorkers, conversationId: string) {
  const { rows } = await workers.ledger.query(
    `SELECT seq, kind, turn, message_id, reply_id, rating, reason, choice, winner_reply, content, context_ids, provenance->>'backend' AS backend
       FROM chat_events WHERE conversation_id = $1 ORDER BY seq`,
    [conversationId],
  );
  return rows;
}

const STREAM_KEY = Buffer.from('stream-key-for-tests-0123456789');

describe('chatConversation workflow (real dev server)', function () {
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
    openai.setModel('llama3:8b', { tokenMs: 2 });
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'chat', {
      backends: [createOpenAICompatibleBackend({ baseUrl: openai.baseUrl, timeoutMs: 10_000 })],
      streamKey: STREAM_KEY,
    });
  });

  afterEach(async () => {
    workers.close();
    await openai.close();
  });

  for (const model of ['demo:text', 'openai:llama3:8b']) {
    it(`should hold a rated, corrected, regenerated and compared conversation with ${model}, each event once in the ledger`, async () => {
      await workers.run(async () => {
        const handle = await startConversation(workers.taskQueue, { model, thresholds: { commitAfterMs: 0 } });
        const first = await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'how many r in strawberry?' }] });
        assert.equal(first.outcome, 'recorded');
        assert.equal(first.turn, 1);
        assert.equal(first.userMessageId, 'm1');
        assert.equal(first.reply.id, 'm2');
        assert.equal(first.reply.role, 'assistant');
        assert.ok(first.reply.text && first.reply.text.length > 0);
        assert.equal(first.reply.placeholder, model.startsWith('demo:'));

        assert.deepEqual(await handle.executeUpdate(rateReplyUpdate, { args: [{ ...base(), replyId: 'm2', value: 'down', reason: 'incorrect' }] }), { outcome: 'recorded' });
        assert.deepEqual(await handle.executeUpdate(feedbackUpdate, { args: [{ ...base(), replyId: 'm2', text: "there are three r's in strawberry" }] }), { outcome: 'recorded' });
        assert.deepEqual(await handle.executeUpdate(correctionUpdate, { args: [{ ...base(), replyId: 'm2', text: 'There are three.' }] }), { outcome: 'recorded' });
        const again = await handle.executeUpdate(regenerateUpdate, { args: [{ ...base() }] });
        assert.equal(again.turn, 1);
        assert.equal(again.reply.id, 'm3');
        assert.equal(again.reply.replyIndex, 1);
        assert.notEqual(again.reply.text, first.reply.text, 'another seed, another reply');
        // Shown as [new, old]; the user prefers the left one.
        assert.deepEqual(await handle.executeUpdate(compareUpdate, { args: [{ ...base(), left: 'm3', right: 'm2', choice: 'left' }] }), { outcome: 'recorded' });
        const second = await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'and in raspberry?' }] });
        assert.equal(second.turn, 2);
        assert.deepEqual(await handle.executeUpdate(rateReplyUpdate, { args: [{ ...base(), replyId: second.reply.id, value: 'up' }] }), { outcome: 'recorded' });

        const transcript = await handle.query(transcriptQuery);
        assert.deepEqual(transcript.messages.map((m) => [m.id, m.role, m.turn]), [['m1', 'user', 1], ['m2', 'assistant', 1], ['m3', 'assistant', 1], ['m4', 'user', 2], ['m5', 'assistant', 2]]);
        assert.deepEqual(transcript.messages[1]?.rating, { value: 'down', reason: 'incorrect' });
        assert.equal(transcript.messages[1]?.corrected, true);
        assert.equal(transcript.messages[1]?.feedbackCount, 1);
        assert.deepEqual(transcript.turns[0], { turn: 1, userMessageId: 'm1', replyIds: ['m2', 'm3'], activeReplyId: 'm3', judgement: { left: 'm3', right: 'm2', choice: 'left' } });
        assert.ok(transcript.messages.every((m) => typeof m.sha256 === 'string' && /^[0-9a-f]{64}$/.test(m.sha256)), 'every message is in the artifact store');

        assert.deepEqual(await handle.executeUpdate(endUpdate, { args: [{ ...base() }] }), { outcome: 'recorded' });
        const summary = (await handle.result()) as ConversationSummary;
        assert.equal(summary.endReason, 'cleared');
        assert.equal(summary.turns, 2);

        const events = await chatEvents(workers, handle.workflowId);
        assert.deepEqual(events.map((e) => e.seq), Array.from({ length: summary.events }, (_, i) => i + 1), 'every event once, in order');
        assert.deepEqual(events.map((e) => e.kind), ['start', 'user_message', 'reply', 'rating', 'feedback', 'correction', 'regenerate', 'reply', 'compare', 'user_message', 'reply', 'rating', 'end']);
        assert.deepEqual([events[3]?.reply_id, events[3]?.rating, events[3]?.reason], ['m2', 'down', 'incorrect']);
        assert.deepEqual([events[8]?.choice, events[8]?.winner_reply], ['left', 'm3']);
        // The second reply saw the first turn through the reply the user preferred.
        assert.deepEqual(events[10]?.context_ids, ['m1', 'm3', 'm4']);
        assert.equal(events[2]?.backend, model.split(':')[0]);
        assert.equal(events[2]?.content, first.reply.text);

        // After a release: the correction and the A/B judgement as TRL conversational pairs, the thumbs as KTO rows.
        const { client } = await sharedTemporal();
        const release = (await client.workflow.execute(RELEASE_WORKFLOW_TYPE, {
          taskQueue: workers.taskQueue, workflowId: `release-chat-${handle.workflowId}`, args: [{ cutoff: new Date().toISOString() }],
        })) as ReleaseSummary;
        const question = [{ role: 'user', content: 'how many r in strawberry?' }];
        const pairs = await readParquetIndependently(join(release.dir, 'chat_preferences.parquet'));
        assert.deepEqual(pairs.map((p) => [p.source, p.prompt, p.chosen, p.rejected]), [
          ['correction', question, [{ role: 'assistant', content: 'There are three.' }], [{ role: 'assistant', content: first.reply.text }]],
          ['compare', question, [{ role: 'assistant', content: again.reply.text }], [{ role: 'assistant', content: first.reply.text }]],
        ]);
        const kto = await readParquetIndependently(join(release.dir, 'chat_kto.parquet'));
        assert.deepEqual(kto.map((k) => [k.prompt, k.completion, k.label, k.reason]), [
          [question, [{ role: 'assistant', content: first.reply.text }], false, 'incorrect'],
          [[...question, { role: 'assistant', content: again.reply.text }, { role: 'user', content: 'and in raspberry?' }], [{ role: 'assistant', content: second.reply.text }], true, null],
        ]);
        const messages = await readParquetIndependently(join(release.dir, 'messages.parquet'));
        assert.deepEqual(messages.map((m) => [m.role, m.content]), [
          ['user', 'how many r in strawberry?'], ['assistant', first.reply.text], ['assistant', again.reply.text], ['user', 'and in raspberry?'], ['assistant', second.reply.text],
        ]);

        if (model.startsWith('openai:')) {
          const sent = openai.requestsTo('/v1/chat/completions').map((r) => (r.body as { messages: Array<{ role: string; content: string }> }).messages);
          assert.equal(sent.length, 3);
          assert.deepEqual(sent[2], [
            { role: 'user', content: 'how many r in strawberry?' },
            { role: 'assistant', content: again.reply.text },
            { role: 'user', content: 'and in raspberry?' },
          ]);
        }
      });
    });
  }

  it('should never show the model another conversation\'s messages', async () => {
    await workers.run(async () => {
      const [a, b] = await Promise.all([startConversation(workers.taskQueue, { model: 'openai:llama3:8b' }), startConversation(workers.taskQueue, { model: 'openai:llama3:8b', owner: 'r_b0b0000000000000000000b0' })]);
      await Promise.all([
        (async () => {
          await a.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'alice secret one' }] });
          await a.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'alice two' }] });
        })(),
        (async () => {
          await b.executeUpdate(sendMessageUpdate, { args: [{ ...base('r_b0b0000000000000000000b0'), text: 'bob secret one' }] });
          await b.executeUpdate(sendMessageUpdate, { args: [{ ...base('r_b0b0000000000000000000b0'), text: 'bob two' }] });
        })(),
      ]);
      const texts = openai.requestsTo('/v1/chat/completions').map((r) => JSON.stringify((r.body as { messages: unknown }).messages));
      assert.equal(texts.length, 4);
      for (const t of texts) assert.ok(!(t.includes('alice') && t.includes('bob')), t);
      await Promise.all([a, b].map((h) => h.terminate('done')));
    });
  });

  it('should stream the reply\'s pieces to the gateway slot while the update waits for the whole reply', async () => {
    // The gateway's end of the side channel, on a bare server: the hub's route only.
    const gateway: { hub?: ChatStreamHub } = {};
    const server = http.createServer((req, res) => {
      const [route] = gateway.hub!.routes();
      const match = route!.pattern.exec(new URL(req.url ?? '/', 'http://x').pathname);
      if (!match) return void res.writeHead(404).end();
      route!.methods.POST!(req, res, match).catch((err: { status?: number }) => res.writeHead(err.status ?? 500).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hub = new ChatStreamHub(STREAM_KEY, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    gateway.hub = hub;
    try {
      await workers.run(async () => {
        const handle = await startConversation(workers.taskQueue, { model: 'openai:llama3:8b' });
        const events: StreamEvent[] = [];
        let firstDeltaBeforeReply = false;
        let replied = false;
        const slot = hub.open((e) => {
          if (e.type === 'delta' && !replied && events.length === 0) firstDeltaBeforeReply = true;
          events.push(e);
        });
        const receipt = await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'stream this please', stream: { streamId: slot.streamId, streamUrl: slot.streamUrl } }] });
        replied = true;
        await waitUntil(() => events.some((e) => e.type === 'end') || undefined, 5000, 'the stream to end');
        slot.close();
        assert.ok(firstDeltaBeforeReply);
        assert.equal(events.filter((e): e is Extract<StreamEvent, { type: 'delta' }> => e.type === 'delta').map((e) => e.text).join(''), receipt.reply.text);
        assert.ok(events.filter((e) => e.type === 'delta').length > 1, 'in pieces');
        assert.equal(hub.openSlots, 0);
        await handle.terminate('done');
      });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('should answer a repeated message once, take one message at a time, and stop a reply on Clear', async () => {
    // Slow enough that the reply is still streaming when "too soon" arrives on a loaded machine.
    openai.setModel('llama3:8b', { tokenMs: 400 });
    await workers.run(async () => {
      const handle = await startConversation(workers.taskQueue, { model: 'openai:llama3:8b' });
      const request = { ...base(), text: 'once, please' };
      const receipt = await handle.executeUpdate(sendMessageUpdate, { args: [request] });
      // Another delivery of the same request (a new update id: the gateway retried after a restart).
      const repeated = await handle.executeUpdate(sendMessageUpdate, { args: [request], updateId: 'repeat-1' });
      assert.equal(repeated.outcome, 'duplicate');
      assert.equal(repeated.reply.id, receipt.reply.id);
      assert.equal(openai.requestsTo('/v1/chat/completions').length, 1);

      const slow = handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'a slow one' }] });
      // Handled now, asserted below: if a step in between fails, its rejection must not surface as unhandled.
      slow.catch(() => undefined);
      await waitUntil(() => openai.streaming > 0 || undefined, 10_000, 'the reply to stream');
      await rejectedWith(handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'too soon' }] }), ChatRejection.ReplyInProgress);
      assert.deepEqual(await handle.executeUpdate(endUpdate, { args: [{ ...base() }] }), { outcome: 'recorded' });
      await rejectedWith(slow, ChatRejection.Ended);
      const summary = (await handle.result()) as ConversationSummary;
      assert.equal(summary.endReason, 'cleared');
      const kinds = (await chatEvents(workers, handle.workflowId)).map((e) => e.kind);
      assert.deepEqual(kinds, ['start', 'user_message', 'reply', 'user_message', 'end'], 'the stopped reply left no reply event');
      await rejectedWith(
        (await sharedTemporal()).client.workflow.getHandle(handle.workflowId).executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'after the end' }] }),
        ChatRejection.Ended,
      ).catch((err: unknown) => assert.match(String(err), /completed|not found/i));
    });
  });

  it('should fail the update (not the conversation) when the model fails, and let the user regenerate', async () => {
    openai.setModel('llama3:8b', { validate: () => 'context length exceeded' });
    await workers.run(async () => {
      const handle = await startConversation(workers.taskQueue, { model: 'openai:llama3:8b' });
      await rejectedWith(handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'hello' }] }), ChatRejection.ReplyFailed);
      let transcript = await handle.query(transcriptQuery);
      assert.match(String(transcript.turns[0]?.failed), /context length exceeded/);
      openai.setModel('llama3:8b');
      const retried = await handle.executeUpdate(regenerateUpdate, { args: [{ ...base() }] });
      assert.equal(retried.turn, 1);
      transcript = await handle.query(transcriptQuery);
      assert.equal(transcript.turns[0]?.failed, undefined);
      assert.deepEqual(transcript.turns[0]?.replyIds, [retried.reply.id]);
      await handle.terminate('done');
    });
  });

  it('should refuse malformed requests and unknown replies before anything is recorded', async () => {
    await workers.run(async () => {
      const handle: WorkflowHandle = await startConversation(workers.taskQueue, { reasonTags: ['incorrect'], thresholds: { commitAfterMs: 0 } });
      await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'hi' }] });
      // With no commit window the turn goes to the ledger at once: the snapshot is taken once it is there.
      const before = await waitUntil(async () => {
        const transcript = await handle.query(transcriptQuery);
        return transcript.status.uncommitted === 0 ? transcript : undefined;
      }, 30_000, 'the first turn to be committed');
      await rejectedWith(handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: '   ' }] }), ChatRejection.Malformed);
      await rejectedWith(handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'bidi \u202e override' }] }), ChatRejection.Malformed);
      await rejectedWith(handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'x'.repeat(8001) }] }), ChatRejection.Malformed);
      await rejectedWith(handle.executeUpdate(rateReplyUpdate, { args: [{ ...base(), replyId: 'm2', value: 'down', reason: 'rude' }] }), ChatRejection.Malformed);
      await rejectedWith(handle.executeUpdate(rateReplyUpdate, { args: [{ ...base(), replyId: 'm1', value: 'up' }] }), ChatRejection.UnknownReply);
      await rejectedWith(handle.executeUpdate(compareUpdate, { args: [{ ...base(), left: 'm2', right: 'm9', choice: 'tie' }] }), ChatRejection.UnknownReply);
      await rejectedWith(handle.executeUpdate(feedbackUpdate, { args: [{ ...base(), replyId: 'm2', text: '' }] }), ChatRejection.Malformed);
      assert.deepEqual(await handle.query(transcriptQuery), before);
      await handle.terminate('done');
    });
  });

  it('should fail at once, naming every problem, when started with a bad argument', async () => {
    await workers.run(async () => {
      const handle = await startConversation(workers.taskQueue, { owner: 'Alice Smith', model: 'replicate:owner/model', idleTimeout: '0s', reasonTags: ['ok', 'ok'] } as never);
      await assert.rejects(handle.result(), (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.ok(err.cause instanceof ApplicationFailure);
        assert.equal(err.cause.type, INVALID_CHAT_INPUT_ERROR);
        assert.equal(err.cause.nonRetryable, true);
        for (const field of ['owner', 'model', 'idleTimeout', 'reasonTags']) assert.match(err.cause.message, new RegExp(`${field}:`));
        return true;
      });
    });
    assert.equal(ALICE.startsWith('r_'), true);
  });
});
