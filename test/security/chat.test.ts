/**
 * Chat conversations are their owner's alone. Against the gateway over real conversations: another
 * rater can neither read nor post to one (every route answers 404, as for an unknown id), nor find it
 * in their list; a request that bypasses the gateway (a direct update naming another rater) is refused
 * by the workflow too. Every case asserts both halves: a clear refusal, and nothing changed (the
 * owner's transcript and the ledger's events are as they were, the model was not asked). The stream
 * side channel takes only chunks signed with the stream key, for slots that are open, and a browser
 * cannot post to it; cross-site requests and foreign Host names are refused.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { STREAM_SIGNATURE_HEADER, streamSignature } from '../../channels/chat/stream-auth';
import { createOpenAICompatibleBackend } from '../../connectors/inference/openai/OpenAICompatibleBackend';
import { ChatRejection, rateReplyUpdate, sendMessageUpdate } from '../../workflows/messages';
import type { ChatReplyReceipt, Transcript } from '../../workflows/types';
import { CHAT_STREAM_KEY, chatClient, startChatGateway, type ChatGateway } from '../helpers/chat-gateway';
import { expectError } from '../helpers/gateway';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { waitUntil } from '../helpers/processes';
import { startOpenAIStandIn, type OpenAIStandIn } from '../standins/openai-server';

function rawPost(url: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, text: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('security: chat conversations', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;
  let gateway: ChatGateway;
  let openai: OpenAIStandIn;
  const page = chatClient(() => gateway);
  let alice: string;
  let mallory: string;
  let conversation: string;
  let reply: ChatReplyReceipt;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    openai = await startOpenAIStandIn();
    openai.setModel('llama3:8b');
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'chat-security', {
      backends: [createOpenAICompatibleBackend({ baseUrl: openai.baseUrl, timeoutMs: 10_000 })],
      streamKey: CHAT_STREAM_KEY,
    });
    gateway = await startChatGateway(workers);
  });

  afterEach(async () => {
    await gateway.close();
    workers.close();
    await openai.close();
  });

  /** Alice's conversation with one rated reply, committed to the ledger. */
  async function aliceConversation(): Promise<void> {
    alice = await page.signIn(`Alice ${randomUUID()}`);
    mallory = await page.signIn(`Mallory ${randomUUID()}`);
    conversation = await page.start(alice, 'openai:llama3:8b');
    reply = (await page.streamed(alice, conversation, 'messages', { text: 'my private question' })).events.at(-1)!.data as unknown as ChatReplyReceipt;
    const rated = await page.post(alice, `/api/chat/conversations/${conversation}/ratings`, { replyId: reply.reply.id, value: 'up' });
    assert.equal(rated.status, 200);
  }

  const transcript = async () => (await (await page.get(alice, `/api/chat/conversations/${conversation}`)).json()) as Transcript;
  const ledgerEvents = async () => (await workers.ledger.query(`SELECT seq, kind FROM chat_events WHERE conversation_id = $1 ORDER BY seq`, [conversation])).rows;
  /** What is in the workflow and what reached the ledger, once the conversation has committed all it accepted. */
  async function snapshot() {
    const settled = await waitUntil(async () => {
      const now = await transcript();
      return now.status.uncommitted === 0 ? now : undefined;
    }, 20_000, 'the conversation\'s events in the ledger');
    return { transcript: settled, events: await ledgerEvents(), modelCalls: openai.requestsTo('/v1/chat/completions').length };
  }

  it('should answer another rater\'s reads and posts 404, as for an unknown conversation, and change nothing', async () => {
    await workers.run(async () => {
      await aliceConversation();
      const before = await snapshot();
      const base = `/api/chat/conversations/${conversation}`;
      await expectError(await page.get(mallory, base), 404, 'unknown_conversation');
      const unknown = await expectError(await page.get(mallory, '/api/chat/conversations/chat-00000000000000000000'), 404, 'unknown_conversation');
      const refused = await expectError(await page.get(mallory, base), 404, 'unknown_conversation');
      assert.deepEqual(refused, unknown, 'indistinguishable from a conversation that does not exist');
      const posts: Array<[string, Record<string, unknown>]> = [
        ['messages', { text: 'let me in' }],
        ['regenerate', {}],
        ['ratings', { replyId: reply.reply.id, value: 'down' }],
        ['feedback', { replyId: reply.reply.id, text: 'bad' }],
        ['corrections', { replyId: reply.reply.id, text: 'wrong' }],
        ['comparisons', { left: reply.reply.id, right: 'm9', choice: 'tie' }],
        ['end', {}],
        ['reopen', {}],
      ];
      for (const [path, body] of posts) await expectError(await page.post(mallory, `${base}/${path}`, body), 404, 'unknown_conversation');
      // A streamed post is refused before any stream opens.
      const streamed = await page.streamed(mallory, conversation, 'messages', { text: 'stream it to me' });
      assert.equal(streamed.status, 404);
      assert.equal(gateway.streams.openSlots, 0);
      // Mallory's list does not show it.
      const list = (await (await page.get(mallory, '/api/chat/conversations')).json()) as { conversations: Array<{ conversationId: string }> };
      assert.ok(!list.conversations.some((c) => c.conversationId === conversation));

      assert.deepEqual(await snapshot(), before, 'nothing changed');
      assert.ok(gateway.logs.some((l) => l.msg.startsWith('chat request for another rater') && l.fields?.conversationId === conversation));
    });
  });

  it('should refuse in the workflow too a request that names another rater, and change nothing', async () => {
    await workers.run(async () => {
      await aliceConversation();
      const before = await snapshot();
      const { client } = await sharedTemporal();
      const handle = client.workflow.getHandle(conversation);
      const malloryRater = 'r_0000000000000000000bad00';
      for (const call of [
        () => handle.executeUpdate(sendMessageUpdate, { args: [{ idempotencyKey: `chat:${malloryRater}:k1`, rater: malloryRater, sentAt: new Date().toISOString(), text: 'direct' }] }),
        () => handle.executeUpdate(rateReplyUpdate, { args: [{ idempotencyKey: `chat:${malloryRater}:k2`, rater: malloryRater, sentAt: new Date().toISOString(), replyId: reply.reply.id, value: 'down' }] }),
      ]) {
        await assert.rejects(call(), (err: unknown) => err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === ChatRejection.NotOwner);
      }
      assert.deepEqual(await snapshot(), before, 'nothing changed');
    });
  });

  it('should take stream chunks only signed with the stream key, for an open slot, and not from a browser', async () => {
    await workers.run(async () => {
      const received: unknown[] = [];
      const slot = gateway.streams.open((e) => received.push(e));
      const path = new URL(slot.streamUrl).pathname;
      const line = `${JSON.stringify({ t: 'attempt', attempt: 1 })}\n${JSON.stringify({ t: 'delta', text: 'injected' })}\n`;
      const forged = await rawPost(gateway.url, path, { 'content-type': 'application/x-ndjson', [STREAM_SIGNATURE_HEADER]: streamSignature(Buffer.from('not-the-stream-key-0123456789'), slot.streamId) }, line);
      assert.equal(forged.status, 401);
      assert.equal(JSON.parse(forged.text).code, 'stream_signature_invalid');
      const unsigned = await rawPost(gateway.url, path, { 'content-type': 'application/x-ndjson' }, line);
      assert.equal(unsigned.status, 401);
      // Another slot's signature does not open this one.
      const other = gateway.streams.open(() => undefined);
      const crossed = await rawPost(gateway.url, path, { [STREAM_SIGNATURE_HEADER]: streamSignature(CHAT_STREAM_KEY, other.streamId) }, line);
      assert.equal(crossed.status, 401);
      assert.deepEqual(received, [], 'nothing relayed');
      // Signed, but the slot is closed: refused without being read.
      slot.close();
      const late = await rawPost(gateway.url, path, { [STREAM_SIGNATURE_HEADER]: streamSignature(CHAT_STREAM_KEY, slot.streamId) }, line);
      assert.equal(late.status, 404);
      assert.equal(JSON.parse(late.text).code, 'unknown_stream');
      // Under a host name that is neither the gateway's public nor its internal one (DNS rebinding).
      const rebound = await rawPost(gateway.url, path, { host: 'attacker.example', [STREAM_SIGNATURE_HEADER]: streamSignature(CHAT_STREAM_KEY, other.streamId) }, line);
      assert.equal(rebound.status, 421);
      other.close();
    });
  });

  it('should refuse cross-site posts and sessions it did not issue', async () => {
    await workers.run(async () => {
      await aliceConversation();
      const before = await snapshot();
      const base = `/api/chat/conversations/${conversation}`;
      await expectError(await page.post(alice, `${base}/messages`, { text: 'from evil.example' }, { Origin: 'https://evil.example' }), 403, 'forbidden_origin');
      const res = await fetch(`${gateway.url}${base}/messages`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${alice}` }, body: JSON.stringify({ text: 'no header', idempotencyKey: 'key-000001' }),
      });
      await expectError(res, 403, 'forbidden_origin');
      await expectError(await page.post('forged.token', `${base}/messages`, { text: 'who am I' }), 401, 'session_invalid');
      await expectError(await page.get('forged.token', '/api/chat/conversations'), 401, 'session_invalid');
      assert.deepEqual(await snapshot(), before, 'nothing changed');
    });
  });
});
