/**
 * A local stand-in for an OpenAI-compatible inference server (vLLM, TGI, Ollama, LocalAI; test-only):
 * `POST /v1/chat/completions` and `POST /v1/images/generations` with their real response shapes,
 * the error-body dialects of each server family, Bearer auth, scripted latency, 429 bursts with
 * `Retry-After` and 5xx. Every request is recorded for assertions. With `"stream": true`, chat
 * completions answer in the real SSE wire format, one word per `data:` chunk at a fixed pace, a usage
 * chunk when `stream_options.include_usage` asks for it, and `data: [DONE]`.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { makePng, readBody, type HttpFault, type RecordedRequest } from './replicate-server';

export interface OpenAIModelScript {
  kind?: 'chat' | 'image';
  /** Latency before answering (for timeout tests). */
  delayMs?: number;
  /** Answered, in order, before requests succeed; `body` overrides the dialect's error body. */
  faults?: Array<HttpFault & { message?: string }>;
  /** The assistant message; default echoes model, seed and prompt so candidates differ by seed. `null` → content null. */
  reply?: (body: Record<string, unknown>) => string | null;
  /** Answer `choices: []`. */
  emptyChoices?: boolean;
  /** Image bytes to return base64-encoded; default a PNG. */
  image?: Uint8Array;
  /** Reject a request with 400 and this message. */
  validate?: (body: Record<string, unknown>) => string | undefined;
  /** Streamed replies (`"stream": true`): the pause before each chunk (one word each); default 0. */
  tokenMs?: number;
  /** Streamed replies: end the stream after this many chunks, without [DONE] (a server that died mid-reply). */
  cutAfterChunks?: number;
}

/** How the server family words errors: OpenAI/LocalAI `{error:{message}}`, vLLM `{object:"error",message}`, TGI/Ollama `{error:"…"}`. */
export type ErrorDialect = 'openai' | 'vllm' | 'tgi';

export interface OpenAIStandIn {
  baseUrl: string;
  requests: RecordedRequest[];
  setModel(model: string, script?: OpenAIModelScript): void;
  /** Streams currently being written (for tests that act mid-reply). */
  readonly streaming: number;
  requestsTo(path: string): RecordedRequest[];
  close(): Promise<void>;
}

export async function startOpenAIStandIn(options: { apiKey?: string; dialect?: ErrorDialect } = {}): Promise<OpenAIStandIn> {
  const dialect = options.dialect ?? 'openai';
  const models = new Map<string, OpenAIModelScript>();
  const requests: RecordedRequest[] = [];
  let streaming = 0;

  function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    const text = typeof body === 'string';
    res.writeHead(status, { 'Content-Type': text ? 'text/plain' : 'application/json', ...headers });
    res.end(text ? body : JSON.stringify(body));
  }

  function error(res: http.ServerResponse, status: number, message: string, type: string, headers?: Record<string, string>): void {
    const body =
      dialect === 'vllm'
        ? { object: 'error', message, type, param: null, code: status }
        : dialect === 'tgi'
          ? { error: message, error_type: type }
          : { error: { message, type, param: null, code: null } };
    send(res, status, body, headers);
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const raw = await readBody(req);
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // recorded raw; rejected below
    }
    requests.push({ method: req.method ?? '', path, headers: req.headers, body: body ?? raw, at: Date.now() });

    if (options.apiKey && req.headers['authorization'] !== `Bearer ${options.apiKey}`) {
      return error(res, 401, 'Incorrect API key provided.', 'invalid_request_error');
    }
    const kind = path === '/v1/chat/completions' ? 'chat' : path === '/v1/images/generations' ? 'image' : undefined;
    if (req.method !== 'POST' || !kind) return error(res, 404, `Not Found: ${req.method} ${path}`, 'NotFoundError');
    if (!body || typeof body !== 'object') return error(res, 400, 'Request body is not valid JSON.', 'BadRequestError');

    const model = String(body['model'] ?? '');
    const script = models.get(model);
    if (!script || (script.kind ?? 'chat') !== kind) return error(res, 404, `The model \`${model}\` does not exist.`, 'NotFoundError');

    if (script.delayMs) {
      await new Promise((r) => setTimeout(r, script.delayMs));
      if (req.socket.destroyed) return; // the client gave up (timeout or cancel)
    }
    const fault = script.faults?.shift();
    if (fault) {
      const headers = fault.retryAfter !== undefined ? { 'Retry-After': fault.retryAfter } : undefined;
      if (fault.body !== undefined) return send(res, fault.status, fault.body, headers);
      return error(res, fault.status, fault.message ?? (http.STATUS_CODES[fault.status] ?? 'Error'), fault.status === 429 ? 'rate_limit_exceeded' : 'server_error', headers);
    }
    const invalid = script.validate?.(body);
    if (invalid) return error(res, 400, invalid, 'BadRequestError');
    const created = Math.floor(Date.now() / 1000);

    if (kind === 'image') {
      const n = Number(body['n'] ?? 1);
      const b64 = Buffer.from(script.image ?? makePng(8, 8, [200, 40, 90])).toString('base64');
      return send(res, 200, { created, data: Array.from({ length: n }, () => ({ b64_json: b64, revised_prompt: null })) });
    }

    const messages = body['messages'];
    if (!Array.isArray(messages) || messages.length === 0) return error(res, 400, 'messages: field required', 'BadRequestError');
    const prompt = String((messages[messages.length - 1] as { content?: unknown }).content ?? '');
    const content = script.reply ? script.reply(body) : `[${model} seed=${String(body['seed'])}] ${prompt.split('').reverse().join('')}`;
    const promptTokens = prompt.split(/\s+/).filter(Boolean).length;
    const completionTokens = (content ?? '').split(/\s+/).filter(Boolean).length;
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    if (body['stream'] === true) {
      const usage = (body['stream_options'] as { include_usage?: boolean } | undefined)?.include_usage
        ? { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }
        : undefined;
      return streamReply(req, res, { id, created, model, pieces: script.emptyChoices ? [] : (content ?? '').match(/\S+\s*/g) ?? [], usage, script });
    }
    send(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: script.emptyChoices ? [] : [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    });
  }

  /** The SSE answer of a streamed completion, as vLLM and OpenAI write it. */
  async function streamReply(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    reply: { id: string; created: number; model: string; pieces: string[]; usage?: Record<string, number>; script: OpenAIModelScript },
  ): Promise<void> {
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id: reply.id, object: 'chat.completion.chunk', created: reply.created, model: reply.model, choices, ...extra })}\n\n`;
    streaming++;
    try {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
      res.flushHeaders();
      res.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]));
      for (const [i, piece] of reply.pieces.entries()) {
        if (reply.script.tokenMs) await new Promise((r) => setTimeout(r, reply.script.tokenMs));
        if (req.socket.destroyed) return; // the client went away (cancelled, or its worker was killed)
        if (reply.script.cutAfterChunks !== undefined && i >= reply.script.cutAfterChunks) {
          // Let what was written reach the client, then drop the connection (a server that died mid-reply).
          await new Promise((r) => setTimeout(r, 20));
          return void res.destroy();
        }
        res.write(chunk([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]));
      }
      res.write(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]));
      if (reply.usage) res.write(chunk([], { usage: reply.usage }));
      res.end('data: [DONE]\n\n');
    } finally {
      streaming--;
    }
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => error(res, 500, String(err), 'InternalServerError'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl: `${origin}/v1`,
    requests,
    setModel: (model, script = {}) => void models.set(model, { ...script, faults: [...(script.faults ?? [])] }),
    get streaming() {
      return streaming;
    },
    requestsTo: (path) => requests.filter((r) => r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
