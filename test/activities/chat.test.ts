/**
 * The reply activity outside Temporal (MockActivityEnvironment): the context read back by digest and
 * the new message stored, a finished reply returned by a retry without asking the model again (a
 * worker that died after storing it), pieces streamed to a gateway slot with the attempt number,
 * heartbeats while it streams, cancellation, and coded failures.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChatInferenceActivities } from '../../activities/chat';
import type { GeneratedReply, GenerateReplyRequest } from '../../activities/types';
import { ChatStreamHub, type StreamEvent } from '../../channels/chat/stream-hub';
import { COALESCE_MS } from '../../channels/chat/stream-writer';
import { createDemoBackend } from '../../connectors/inference/demo';
import { InferenceRegistry } from '../../connectors/inference/registry';
import type { ChatRequest, InferenceBackend } from '../../connectors/inference/types';
import { ErrorCode } from '../../core/errors';
import { ArtifactStore } from '../../store/ArtifactStore';
import { ReplyRecords } from '../../store/reply-records';

const quiet = () => new DefaultLogger('ERROR');
const KEY = Buffer.from('stream-key-for-activity-tests-01');

/** A chat backend that records what it was asked and streams a fixed reply, optionally slowly. */
function fakeChat(pieceMs = 0): InferenceBackend & { asked: ChatRequest[] } {
  const asked: ChatRequest[] = [];
  return {
    name: 'fake',
    asked,
    async generate() {
      throw new Error('not used');
    },
    async chat(request) {
      asked.push(request);
      for (const piece of ['It ', 'is ', 'three.']) {
        if (pieceMs) await new Promise((r, reject) => {
          const t = setTimeout(r, pieceMs);
          request.signal?.addEventListener('abort', () => { clearTimeout(t); reject(request.signal!.reason); }, { once: true });
        });
        request.onDelta?.(piece);
      }
      return { text: 'It is three.', placeholder: false, provenance: { version: 'fake-1', ttftMs: 1, chunks: 3, finishReason: 'stop', usage: { completion_tokens: 3 } } };
    },
  };
}

describe('activities: generateReply', function () {
  this.timeout(30_000);
  let dir: string;
  let artifacts: ArtifactStore;
  let replies: ReplyRecords;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-chat-activity-'));
    artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    replies = await ReplyRecords.open(join(dir, 'artifacts'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function request(extra: Partial<GenerateReplyRequest> = {}): Promise<GenerateReplyRequest> {
    const first = await artifacts.put(Buffer.from('how many r in strawberry?'), 'text/plain; charset=utf-8');
    const second = await artifacts.put(Buffer.from('two'), 'text/plain; charset=utf-8');
    return {
      conversationId: 'chat-1', conversationRunId: 'run-1', turn: 2, replyId: 'm4', model: 'fake:m', params: { temperature: 0 }, seed: 9,
      context: [{ id: 'm1', role: 'user', sha256: first.sha256 }, { id: 'm2', role: 'assistant', sha256: second.sha256 }, { id: 'm3', role: 'user', text: 'count again' }],
      ...extra,
    };
  }

  const run = (backend: InferenceBackend, req: GenerateReplyRequest, env = new MockActivityEnvironment({}, { logger: quiet() }), streamKey?: Buffer) => {
    const activities = createChatInferenceActivities({ registry: new InferenceRegistry([backend, createDemoBackend({ chatTokenMs: 0 })]), artifacts, replies, ...(streamKey ? { streamKey } : {}) });
    return env.run(activities.generateReply, req) as Promise<GeneratedReply>;
  };

  it('should give the model the conversation read back by digest, store the new message and the reply, and record provenance', async () => {
    const backend = fakeChat();
    const result = await run(backend, await request());
    assert.deepEqual(backend.asked[0]?.messages, [
      { role: 'user', content: 'how many r in strawberry?' }, { role: 'assistant', content: 'two' }, { role: 'user', content: 'count again' },
    ]);
    assert.equal(backend.asked[0]?.seed, 9);
    assert.equal((await artifacts.read(result.stored.m3!)).bytes.toString(), 'count again');
    assert.equal((await artifacts.read(result.sha256)).bytes.toString(), 'It is three.');
    assert.equal(result.text, 'It is three.');
    assert.equal(result.reused, false);
    assert.deepEqual({ ...result.provenance, latencyMs: 0 }, {
      backend: 'fake', model: 'm', version: 'fake-1', params: { temperature: 0 }, seed: 9, latencyMs: 0, ttftMs: 1, usage: { completion_tokens: 3 }, chunks: 3,
      finishReason: 'stop', attempt: 1, placeholder: false,
    });
  });

  it('should return a reply an earlier attempt finished, without asking the model again', async () => {
    const backend = fakeChat();
    const req = await request();
    const first = await run(backend, req);
    // The worker died after storing the reply, before Temporal heard: the next attempt runs.
    const retried = await run(backend, req, new MockActivityEnvironment({ attempt: 2 }, { logger: quiet() }));
    assert.equal(backend.asked.length, 1, 'the model was asked once');
    assert.equal(retried.reused, true);
    assert.deepEqual([retried.text, retried.sha256, retried.provenance], [first.text, first.sha256, first.provenance]);
    // Another reply of the same conversation is not mistaken for it.
    await run(backend, { ...req, replyId: 'm6' });
    assert.equal(backend.asked.length, 2);
  });

  it('should stream the pieces to the gateway slot, announced with the attempt number', async () => {
    const gateway: { hub?: ChatStreamHub } = {};
    const server = http.createServer((req, res) => {
      const [route] = gateway.hub!.routes();
      const match = route!.pattern.exec(new URL(req.url ?? '/', 'http://x').pathname);
      route!.methods.POST!(req, res, match!).catch((err: { status?: number }) => res.writeHead(err.status ?? 500).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const hub = new ChatStreamHub(KEY, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      gateway.hub = hub;
      const events: StreamEvent[] = [];
      const slot = hub.open((e) => events.push(e));
      // Pieces further apart than the writer joins (channels/chat/stream-writer.ts COALESCE_MS) arrive one by one.
      await run(fakeChat(COALESCE_MS + 20), await request({ stream: { streamId: slot.streamId, streamUrl: slot.streamUrl } }), new MockActivityEnvironment({ attempt: 3 }, { logger: quiet() }), KEY);
      assert.deepEqual(events, [{ type: 'delta', text: 'It ' }, { type: 'delta', text: 'is ' }, { type: 'delta', text: 'three.' }, { type: 'end' }]);
      // A later attempt of the same reply tells the page to start over.
      await run(fakeChat(), await request({ replyId: 'm8', stream: { streamId: slot.streamId, streamUrl: slot.streamUrl } }), new MockActivityEnvironment({ attempt: 4 }, { logger: quiet() }), KEY);
      assert.deepEqual(events.slice(4, 6), [{ type: 'reset', attempt: 4 }, { type: 'delta', text: 'It ' }]);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('should finish the reply when the gateway slot is gone: streaming is best-effort', async () => {
    const result = await run(fakeChat(), await request({ stream: { streamId: 'a'.repeat(24), streamUrl: 'http://127.0.0.1:9/internal/chat-streams/aaaaaaaaaaaaaaaaaaaaaaaa' } }), undefined, KEY);
    assert.equal(result.text, 'It is three.');
  });

  it('should heartbeat while streaming and stop, as a cancellation, when cancelled', async () => {
    const env = new MockActivityEnvironment({}, { logger: quiet() });
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const backend = fakeChat(700);
    const running = run(backend, await request(), env);
    await new Promise((r) => setTimeout(r, 1300));
    env.cancel();
    await assert.rejects(running, (err: unknown) => err instanceof CancelledFailure);
    assert.ok(beats.length >= 1, 'heartbeats while the model writes');
    assert.equal(backend.asked[0]?.signal?.aborted, true);
    assert.equal(await replies.get('run-1', 'm4'), undefined, 'nothing recorded');
  });

  it('should fail non-retryably for a model no backend can chat with', async () => {
    await assert.rejects(run(fakeChat(), await request({ model: 'replicate:owner/model' })), (err: unknown) => err instanceof ApplicationFailure && err.type === ErrorCode.UnknownModel && err.nonRetryable === true);
  });
});
