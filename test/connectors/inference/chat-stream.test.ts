/**
 * Streamed chat replies: the OpenAI-compatible backend against the stand-in speaking the real SSE
 * wire format (pieces in order, usage, time to first token, the conversation sent as messages, every
 * failure coded), the SSE reader on awkward chunking, and the demo backend's paced, deterministic replies.
 */
import assert from 'node:assert/strict';
import { ErrorCode, isCodedError, type CodedError } from '../../../core/errors';
import { createDemoBackend, demoChatPieces } from '../../../connectors/inference/demo';
import { createOpenAICompatibleBackend } from '../../../connectors/inference/openai/OpenAICompatibleBackend';
import { sseData } from '../../../connectors/inference/openai/chat-stream';
import type { ChatRequest } from '../../../connectors/inference/types';
import { startOpenAIStandIn, type OpenAIStandIn } from '../../standins/openai-server';

async function rejection(promise: Promise<unknown>): Promise<CodedError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isCodedError(err), `expected a coded error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

async function* bytes(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

const conversation: ChatRequest['messages'] = [
  { role: 'user', content: 'how many r in strawberry' },
  { role: 'assistant', content: 'two' },
  { role: 'user', content: 'count again please' },
];

describe('streamed chat replies', () => {
  describe('SSE reader', () => {
    it('splits events at blank lines whatever the chunking, CRLF and CR included, and skips comments', async () => {
      const events = await collect(sseData(bytes('data: a\r', '\n\r\n: keep-alive\n\ndata: b', '\ndata: c\n\n', 'data: [DONE]\r\rdata: tail')));
      assert.deepEqual(events, ['a', 'b\nc', '[DONE]', 'tail']);
    });

    it('decodes multi-byte characters split across chunks', async () => {
      const whole = new TextEncoder().encode('data: 🍓\n\n');
      async function* split() {
        yield whole.slice(0, 8);
        yield whole.slice(8);
      }
      assert.deepEqual(await collect(sseData(split())), ['🍓']);
    });
  });

  describe('OpenAI-compatible backend', () => {
    let server: OpenAIStandIn;
    const backend = (timeoutMs = 5000) => createOpenAICompatibleBackend({ baseUrl: server.baseUrl, apiKey: 'sk-test', imageModels: ['sdxl'], timeoutMs, sleep: async () => undefined });
    const request = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'llama3:8b', messages: conversation, params: { temperature: 0.2 }, seed: 7, ...extra });

    beforeEach(async () => {
      server = await startOpenAIStandIn({ apiKey: 'sk-test' });
      server.setModel('llama3:8b', { tokenMs: 5 });
      server.setModel('sdxl', { kind: 'image' });
    });
    afterEach(() => server.close());

    it('sends the whole conversation with stream, usage and the seed, and streams the pieces in order', async () => {
      const pieces: string[] = [];
      const reply = await backend().chat!(request({ onDelta: (p) => pieces.push(p) }));
      const [sent] = server.requestsTo('/v1/chat/completions');
      assert.deepEqual(sent?.body, {
        temperature: 0.2, model: 'llama3:8b', messages: conversation, seed: 7, stream: true, stream_options: { include_usage: true },
      });
      assert.equal(sent.headers['accept'], 'text/event-stream');
      assert.equal(reply.text, '[llama3:8b seed=7] esaelp niaga tnuoc');
      assert.deepEqual(pieces, ['[llama3:8b ', 'seed=7] ', 'esaelp ', 'niaga ', 'tnuoc']);
      assert.equal(reply.provenance.chunks, 5);
      assert.equal(reply.provenance.finishReason, 'stop');
      assert.match(String(reply.provenance.predictionId), /^chatcmpl-/);
      assert.deepEqual(reply.provenance.usage, { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 });
      assert.ok(reply.provenance.ttftMs !== undefined && reply.provenance.ttftMs >= 5, `ttft ${reply.provenance.ttftMs}`);
      assert.equal(reply.placeholder, false);
    });

    it('fails retryably when the stream is cut off before it finished', async () => {
      server.setModel('llama3:8b', { cutAfterChunks: 2 });
      const pieces: string[] = [];
      const err = await rejection(backend().chat!(request({ onDelta: (p) => pieces.push(p) })));
      assert.equal(err.code, ErrorCode.InferenceUnavailable);
      assert.equal(err.retryable, true);
      assert.equal(pieces.length, 2);
    });

    it('maps a refused request to a non-retryable error with the server\'s reason', async () => {
      server.setModel('llama3:8b', { validate: () => 'temperature must be at most 2' });
      const err = await rejection(backend().chat!(request()));
      assert.equal(err.code, ErrorCode.InvalidParams);
      assert.equal(err.retryable, false);
      assert.match(err.message, /temperature must be at most 2/);
    });

    it('waits out a 429, then streams', async () => {
      server.setModel('llama3:8b', { faults: [{ status: 429, retryAfter: '0' }] });
      const reply = await backend().chat!(request());
      assert.equal(server.requestsTo('/v1/chat/completions').length, 2);
      assert.match(reply.text, /tnuoc$/);
    });

    it('gives up on a server that stops sending, retryably', async () => {
      server.setModel('llama3:8b', { tokenMs: 400 });
      const err = await rejection(backend(150).chat!(request()));
      assert.equal(err.code, ErrorCode.InferenceUnavailable);
      assert.match(err.message, /sent nothing for 150 ms/);
    });

    it('stops when cancelled, as a cancellation', async () => {
      server.setModel('llama3:8b', { tokenMs: 200 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const err = await rejection(backend().chat!(request({ signal: controller.signal })));
      assert.equal(err.code, ErrorCode.InferenceCanceled);
    });

    it('refuses to chat with an image model', async () => {
      const err = await rejection(backend().chat!(request({ model: 'sdxl' })));
      assert.equal(err.code, ErrorCode.InferenceFailed);
      assert.equal(server.requests.length, 0);
    });
  });

  describe('demo backend', () => {
    it('streams the same words for the same conversation and seed, at the configured pace, marked as a placeholder', async () => {
      const demo = createDemoBackend({ chatTokenMs: 2 });
      const pieces: string[] = [];
      const started = Date.now();
      const first = await demo.chat!({ model: 'text', messages: conversation, params: {}, seed: 3, onDelta: (p) => pieces.push(p) });
      const second = await demo.chat!({ model: 'text', messages: conversation, params: {}, seed: 3 });
      assert.equal(first.text, second.text);
      assert.deepEqual(pieces, demoChatPieces({ messages: conversation, seed: 3 }));
      assert.equal(pieces.join(''), first.text);
      assert.ok(Date.now() - started >= 2 * pieces.length, 'paced');
      assert.match(first.text, /^\[demo placeholder\] .*"count again please"/);
      assert.equal(first.placeholder, true);
      assert.equal(first.provenance.chunks, pieces.length);
      const other = await demo.chat!({ model: 'text', messages: conversation, params: {}, seed: 4 });
      assert.notEqual(other.text, first.text);
    });

    it('cannot chat with an image model, and stops when cancelled', async () => {
      const demo = createDemoBackend({ chatTokenMs: 50 });
      assert.equal((await rejection(demo.chat!({ model: 'shapes', messages: conversation, params: {}, seed: 1 }))).code, ErrorCode.UnknownModel);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      assert.equal((await rejection(demo.chat!({ model: 'text', messages: conversation, params: {}, seed: 1, signal: controller.signal }))).code, ErrorCode.InferenceCanceled);
    });
  });
});
