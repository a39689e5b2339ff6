import assert from 'node:assert/strict';
import { ErrorCode, isCodedError, type CodedError } from '../../../core/errors';
import { createOpenAICompatibleBackend, type OpenAICompatibleBackendOptions } from '../../../connectors/inference/openai/OpenAICompatibleBackend';
import type { GenerateRequest } from '../../../connectors/inference/types';
import { startOpenAIStandIn, type ErrorDialect, type OpenAIStandIn } from '../../standins/openai-server';
import { makePng } from '../../standins/replicate-server';

async function rejection(promise: Promise<unknown>): Promise<CodedError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(isCodedError(err), `expected a coded error, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

describe('OpenAI-compatible backend (against a local server stand-in)', () => {
  let server: OpenAIStandIn;
  const apiKey = 'sk-local-test';
  const backend = (options: Partial<OpenAICompatibleBackendOptions> = {}) =>
    createOpenAICompatibleBackend({ baseUrl: server.baseUrl, apiKey, imageModels: ['sdxl-turbo'], ...options });
  const request = (model: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({ prompt: 'name a colour', model, params: { temperature: 0.7 }, seed: 11, ...extra });

  async function restart(dialect: ErrorDialect = 'openai'): Promise<void> {
    await server.close();
    server = await startOpenAIStandIn({ apiKey, dialect });
  }

  beforeEach(async () => {
    server = await startOpenAIStandIn({ apiKey });
    server.setModel('qwen2.5-7b');
    server.setModel('sdxl-turbo', { kind: 'image' });
  });
  afterEach(async () => {
    await server.close();
  });

  describe('text', () => {
    it('posts a chat completion with the prompt, seed, params and key, and returns the message', async () => {
      const out = await backend().generate(request('qwen2.5-7b'));
      const [sent] = server.requestsTo('/v1/chat/completions');
      assert.equal(sent?.method, 'POST');
      assert.equal(sent.headers['authorization'], `Bearer ${apiKey}`);
      assert.deepEqual(sent.body, { temperature: 0.7, model: 'qwen2.5-7b', messages: [{ role: 'user', content: 'name a colour' }], seed: 11 });
      assert.equal(out.kind, 'text');
      assert.equal(out.text, '[qwen2.5-7b seed=11] ruoloc a eman');
      assert.equal(Buffer.from(out.bytes).toString('utf8'), out.text);
      assert.equal(out.mime, 'text/plain; charset=utf-8');
      assert.equal(out.placeholder, false);
      assert.equal(out.provenance.version, 'qwen2.5-7b');
      assert.match(String(out.provenance.predictionId), /^chatcmpl-/);
      assert.equal(typeof out.provenance.predictTimeMs, 'number');
      assert.deepEqual(Object.keys(out.provenance['usage'] as object).sort(), ['completion_tokens', 'prompt_tokens', 'total_tokens']);
    });

    it('sends one request per candidate with its own seed, so candidates differ', async () => {
      const b = backend();
      const texts = [];
      for (const seed of [100, 101, 102]) texts.push((await b.generate(request('qwen2.5-7b', { seed, params: { seed: 5 } }))).text);
      const seeds = server.requestsTo('/v1/chat/completions').map((r) => (r.body as { seed: number }).seed);
      assert.deepEqual(seeds, [100, 101, 102]);
      assert.equal(new Set(texts).size, 3);
    });

    it('empty choices or empty content is a non-retryable empty-output error', async () => {
      server.setModel('blank', { emptyChoices: true });
      server.setModel('null', { reply: () => null });
      for (const model of ['blank', 'null']) {
        const err = await rejection(backend().generate(request(model)));
        assert.equal(err.code, ErrorCode.EmptyOutput, model);
        assert.equal(err.retryable, false);
      }
    });
  });

  describe('images', () => {
    it('posts images/generations for image models and decodes b64_json', async () => {
      const png = makePng(5, 5, [9, 9, 9]);
      server.setModel('sdxl-turbo', { kind: 'image', image: png });
      const out = await backend().generate(request('sdxl-turbo', { params: { size: '512x512' } }));
      const [sent] = server.requestsTo('/v1/images/generations');
      assert.deepEqual(sent?.body, { size: '512x512', model: 'sdxl-turbo', prompt: 'name a colour', n: 1, response_format: 'b64_json' });
      assert.equal(sent.headers['authorization'], `Bearer ${apiKey}`);
      assert.equal(out.kind, 'image');
      assert.equal(out.mime, 'image/png');
      assert.deepEqual(Buffer.from(out.bytes), Buffer.from(png));
      assert.equal(server.requestsTo('/v1/chat/completions').length, 0);
    });

    it('sniffs the image type from the bytes', async () => {
      server.setModel('sdxl-turbo', { kind: 'image', image: new Uint8Array([0xff, 0xd8, 0xff, 0xdb, 1, 2, 3]) });
      assert.equal((await backend().generate(request('sdxl-turbo'))).mime, 'image/jpeg');
    });

    it('a response without an image is an empty-output error', async () => {
      server.setModel('sdxl-turbo', { kind: 'image', faults: [{ status: 200, body: { created: 1, data: [] } }] });
      assert.equal((await rejection(backend().generate(request('sdxl-turbo')))).code, ErrorCode.EmptyOutput);
    });
  });

  describe('faults', () => {
    it('429 with Retry-After is waited out for real, then succeeds', async () => {
      server.setModel('qwen2.5-7b', { faults: [{ status: 429, retryAfter: '1' }] });
      const out = await backend().generate(request('qwen2.5-7b'));
      const sent = server.requestsTo('/v1/chat/completions');
      assert.equal(sent.length, 2);
      assert.ok(sent[1]!.at - sent[0]!.at >= 1000, `retried after ${sent[1]!.at - sent[0]!.at} ms`);
      assert.equal(out.kind, 'text');
    });

    it('429s beyond the retries, or asking for too long a wait, fail retryably with retryAfterSeconds', async () => {
      server.setModel('qwen2.5-7b', { faults: Array.from({ length: 5 }, () => ({ status: 429, retryAfter: '1' })) });
      const err = await rejection(backend({ maxRateLimitRetries: 1 }).generate(request('qwen2.5-7b')));
      assert.equal(err.code, ErrorCode.InferenceRateLimited);
      assert.equal(err.retryable, true);
      assert.equal(err.retryAfterSeconds, 1);
      assert.equal(server.requestsTo('/v1/chat/completions').length, 2);

      server.setModel('qwen2.5-7b', { faults: [{ status: 429, retryAfter: '3600' }] });
      const started = Date.now();
      const long = await rejection(backend().generate(request('qwen2.5-7b')));
      assert.equal(long.retryAfterSeconds, 3600);
      assert.ok(Date.now() - started < 1000, 'must not hold the worker for an hour');
    });

    it('5xx is retryable and not retried in place', async () => {
      server.setModel('qwen2.5-7b', { faults: [{ status: 503, message: 'model is loading' }] });
      const err = await rejection(backend().generate(request('qwen2.5-7b')));
      assert.equal(err.code, ErrorCode.InferenceUnavailable);
      assert.equal(err.retryable, true);
      assert.match(err.message, /model is loading/);
      assert.equal(server.requests.length, 1);
    });

    for (const dialect of ['openai', 'vllm', 'tgi'] as const) {
      it(`400 is non-retryable with the server's message (${dialect} error body)`, async () => {
        await restart(dialect);
        server.setModel('qwen2.5-7b', { validate: (b) => (Number(b['temperature']) > 0.5 ? `temperature ${String(b['temperature'])} is above the maximum 0.5` : undefined) });
        const err = await rejection(backend().generate(request('qwen2.5-7b')));
        assert.equal(err.code, ErrorCode.InvalidParams);
        assert.equal(err.retryable, false);
        assert.match(err.message, /temperature 0\.7 is above the maximum 0\.5/);
      });
    }

    it('401 is a non-retryable config error; an unknown model is non-retryable', async () => {
      const err = await rejection(backend({ apiKey: 'sk-wrong' }).generate(request('qwen2.5-7b')));
      assert.equal(err.code, ErrorCode.ConfigMissing);
      assert.equal(err.retryable, false);
      assert.match(err.message, /Incorrect API key/);
      const unknown = await rejection(backend().generate(request('llama-9000')));
      assert.equal(unknown.code, ErrorCode.UnknownModel);
      assert.equal(unknown.retryable, false);
    });

    it('a slow server times out retryably', async () => {
      server.setModel('qwen2.5-7b', { delayMs: 1500 });
      const started = Date.now();
      const err = await rejection(backend({ timeoutMs: 200 }).generate(request('qwen2.5-7b')));
      assert.equal(err.code, ErrorCode.InferenceUnavailable);
      assert.equal(err.retryable, true);
      assert.match(err.message, /200 ms/);
      assert.ok(Date.now() - started < 1000);
    });

    it('an abort cancels the request with a non-retryable canceled error', async () => {
      server.setModel('sdxl-turbo', { kind: 'image', delayMs: 1500 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      const err = await rejection(backend().generate(request('sdxl-turbo', { signal: controller.signal })));
      assert.equal(err.code, ErrorCode.InferenceCanceled);
      assert.equal(err.retryable, false);
      assert.ok(Date.now() - started < 1000);
    });

    it('an abort during a 429 wait stops waiting', async () => {
      server.setModel('qwen2.5-7b', { faults: [{ status: 429, retryAfter: '20' }] });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      const err = await rejection(backend().generate(request('qwen2.5-7b', { signal: controller.signal })));
      assert.equal(err.code, ErrorCode.InferenceCanceled);
      assert.ok(Date.now() - started < 2000);
      assert.equal(server.requests.length, 1);
    });

    it('an unreachable server is retryable', async () => {
      const baseUrl = server.baseUrl;
      await server.close();
      const err = await rejection(createOpenAICompatibleBackend({ baseUrl }).generate(request('qwen2.5-7b')));
      assert.equal(err.code, ErrorCode.InferenceUnavailable);
      assert.equal(err.retryable, true);
      server = await startOpenAIStandIn({ apiKey });
    });
  });
});
