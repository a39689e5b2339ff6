/**
 * The chat API through the gateway host, over real conversations on the dev server: a reply streamed
 * as server-sent events through the stream side channel (pieces first, then the update's answer), the
 * same reply as JSON, the other actions, the owner's list, transcripts whose carried messages are read
 * back from the artifact store, reopening after inactivity, and the refusals the gateway answers itself.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createOpenAICompatibleBackend } from '../../connectors/inference/openai/OpenAICompatibleBackend';
import type { ChatReplyReceipt, Transcript } from '../../workflows/types';
import { CHAT_STREAM_KEY, chatClient, startChatGateway, type ChatGateway } from '../helpers/chat-gateway';
import { expectError } from '../helpers/gateway';
import { waitUntil } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { startOpenAIStandIn, type OpenAIStandIn } from '../standins/openai-server';

describe('gateway: chat API (real conversations)', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;
  let gateway: ChatGateway;
  let openai: OpenAIStandIn;
  const page = chatClient(() => gateway);

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    openai = await startOpenAIStandIn();
    openai.setModel('llama3:8b', { tokenMs: 3 });
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'chat-api', {
      backends: [createOpenAICompatibleBackend({ baseUrl: openai.baseUrl, timeoutMs: 10_000 })],
      streamKey: CHAT_STREAM_KEY,
    });
  });

  afterEach(async () => {
    await gateway?.close();
    workers.close();
    await openai.close();
  });

  const transcriptOf = async (token: string, id: string) => {
    const res = await page.get(token, `/api/chat/conversations/${id}`);
    assert.equal(res.status, 200);
    return (await res.json()) as Transcript;
  };

  it('should stream a reply\'s pieces through the side channel, then answer with the whole reply', async () => {
    gateway = await startChatGateway(workers);
    await workers.run(async () => {
      const token = await page.signIn(`Alice ${randomUUID()}`);
      const id = await page.start(token, 'openai:llama3:8b');
      const reply = await page.streamed(token, id, 'messages', { text: 'tell me about streams' });
      assert.equal(reply.status, 200);
      assert.match(reply.contentType, /^text\/event-stream/);
      const deltas = reply.events.filter((e) => e.event === 'delta');
      const final = reply.events.at(-1)!;
      assert.equal(final.event, 'reply');
      const receipt = final.data as unknown as ChatReplyReceipt;
      assert.ok(deltas.length > 1, 'in pieces');
      assert.equal(deltas.map((e) => e.data.text).join(''), receipt.reply.text);
      assert.ok(reply.events.findIndex((e) => e.event === 'delta') < reply.events.findIndex((e) => e.event === 'reply'));
      assert.equal(gateway.streams.openSlots, 0, 'the slot closed with the answer');

      // The same through JSON (no stream asked for).
      const res = await page.post(token, `/api/chat/conversations/${id}/regenerate`, {});
      assert.equal(res.status, 200);
      const again = (await res.json()) as ChatReplyReceipt;
      assert.equal(again.turn, 1);
      assert.equal(again.reply.replyIndex, 1);
    });
  });

  it('should take ratings with reasons, feedback, corrections and comparisons, list the owner\'s conversations, and end on Clear', async () => {
    gateway = await startChatGateway(workers);
    await workers.run(async () => {
      const token = await page.signIn(`Alice ${randomUUID()}`);
      const id = await page.start(token);
      const first = (await page.streamed(token, id, 'messages', { text: 'hello there' })).events.at(-1)!.data as unknown as ChatReplyReceipt;
      const second = (await page.streamed(token, id, 'regenerate')).events.at(-1)!.data as unknown as ChatReplyReceipt;
      const ok = async (path: string, body: Record<string, unknown>) => {
        const res = await page.post(token, `/api/chat/conversations/${id}/${path}`, body);
        assert.equal(res.status, 200, await res.clone().text());
        return (await res.json()) as { outcome: string };
      };
      assert.equal((await ok('ratings', { replyId: first.reply.id, value: 'down', reason: 'unhelpful' })).outcome, 'recorded');
      assert.equal((await ok('ratings', { replyId: first.reply.id, value: 'down', reason: 'incorrect' })).outcome, 'changed');
      assert.equal((await ok('feedback', { replyId: first.reply.id, text: 'too vague\r\nand wrong' })).outcome, 'recorded');
      assert.equal((await ok('corrections', { replyId: first.reply.id, text: 'Hello! How can I help?' })).outcome, 'recorded');
      assert.equal((await ok('comparisons', { left: second.reply.id, right: first.reply.id, choice: 'both_bad' })).outcome, 'recorded');
      await expectError(await page.post(token, `/api/chat/conversations/${id}/ratings`, { replyId: first.reply.id, value: 'up', reason: 'lovely' }), 400, 'malformed_chat_request');

      const transcript = await transcriptOf(token, id);
      assert.deepEqual(transcript.messages.find((m) => m.id === first.reply.id)?.rating, { value: 'down', reason: 'incorrect' });
      assert.deepEqual(transcript.turns[0]?.judgement, { left: second.reply.id, right: first.reply.id, choice: 'both_bad' });

      const other = await page.start(token);
      const list = await waitUntil(async () => {
        const res = await page.get(token, '/api/chat/conversations');
        const body = (await res.json()) as { conversations: Array<{ conversationId: string; title?: string; status: string }> };
        return body.conversations.length === 2 && body.conversations.some((c) => c.title === 'hello there') ? body.conversations : undefined;
      }, 15_000, 'both conversations listed');
      assert.deepEqual(list.map((c) => c.conversationId).sort(), [id, other].sort());

      assert.equal((await ok('end', {})).outcome, 'recorded');
      await expectError(await page.post(token, `/api/chat/conversations/${id}/messages`, { text: 'anyone?' }), 409, 'conversation_ended');
      await expectError(await page.post(token, `/api/chat/conversations/${id}/reopen`, {}), 409, 'conversation_not_reopenable');
      const ended = await transcriptOf(token, id);
      assert.equal(ended.status.phase, 'ended');
      assert.equal(ended.status.endReason, 'cleared');
    });
  });

  it('should show a continued conversation\'s earlier messages, read back by digest, and reopen one that ended for inactivity', async () => {
    gateway = await startChatGateway(workers, { settings: { idleTimeout: '2s' } });
    await workers.run(async () => {
      const token = await page.signIn(`Alice ${randomUUID()}`);
      const id = await page.start(token);
      const first = (await page.streamed(token, id, 'messages', { text: 'remember me' })).events.at(-1)!.data as unknown as ChatReplyReceipt;
      await waitUntil(async () => (await transcriptOf(token, id)).status.phase === 'ended' || undefined, 20_000, 'the idle end');
      await expectError(await page.post(token, `/api/chat/conversations/${id}/messages`, { text: 'hello?' }), 409, 'conversation_ended');
      const res = await page.post(token, `/api/chat/conversations/${id}/reopen`, {});
      assert.equal(res.status, 200, await res.clone().text());
      const transcript = await transcriptOf(token, id);
      assert.equal(transcript.status.phase, 'open');
      assert.deepEqual(transcript.messages.map((m) => m.text), ['remember me', first.reply.text], 'carried by digest, shown whole');
      const next = (await page.streamed(token, id, 'messages', { text: 'still there?' })).events.at(-1)!;
      assert.equal(next.event, 'reply');
      assert.equal((next.data as unknown as ChatReplyReceipt).turn, 2);
    });
  });

  it('should refuse what the gateway can judge itself: unknown models, bad texts and keys, oversized bodies, too many messages', async () => {
    gateway = await startChatGateway(workers, { messagesPerMinute: 6 });
    await workers.run(async () => {
      const token = await page.signIn(`Alice ${randomUUID()}`);
      await expectError(await page.post(token, '/api/chat/conversations', { model: 'openai:gpt-secret' }), 400, 'unknown_chat_model');
      const id = await page.start(token);
      await expectError(await page.post(token, `/api/chat/conversations/${id}/messages`, { text: 'bidi \u202e trick' }), 400, 'invalid_chat_text');
      await expectError(await page.post(token, `/api/chat/conversations/${id}/messages`, { text: 'x'.repeat(8001) }), 400, 'invalid_chat_text');
      await expectError(await page.post(token, `/api/chat/conversations/${id}/messages`, { text: 'hi', idempotencyKey: 'bad key!' }), 400, 'invalid_idempotency_key');
      await expectError(await page.post(token, `/api/chat/conversations/${id}/messages`, { text: 'y'.repeat(200_000) }), 413, 'body_too_large');
      const before = await transcriptOf(token, id);
      assert.equal(before.messages.length, 0, 'nothing reached the conversation');
      // Six per minute, refused ones included (an oversized body is refused before it counts): one more passes, the next is limited.
      assert.equal((await page.post(token, `/api/chat/conversations/${id}/messages`, { text: 'one' })).status, 200);
      const limited = await page.post(token, `/api/chat/conversations/${id}/messages`, { text: 'two' });
      await expectError(limited, 429, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    });
  });
});
