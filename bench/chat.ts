/**
 * bench/chat: concurrent chat conversations through the real stack (dev server, one worker process,
 * one gateway process), each turn a message posted to the gateway with the reply streamed back as
 * server-sent events, against `demo:text` and the OpenAI-compatible stand-in streaming at a fixed pace.
 * For every turn it measures time to first token (post → first `delta` event) and turn latency (post →
 * the final `reply` event), and, in the same run, the raw inference of the same requests (the same
 * conversation so far and seed, the backend called directly at the same concurrency). It reports p50 and
 * p99 of both, their ratio, and Prefline's overhead (Prefline minus raw) in ms — first for one conversation
 * alone (Prefline's own cost per turn), then for all of them at once (that cost plus queueing for the CPU:
 * on a small machine the dev server, the worker, the gateway and the load share a few cores).
 *
 *   node dist/bench/chat.js [--conversations 100] [--turns 10] [--backends demo,openai] [--token-ms 10]
 *
 * Target: under 50 ms of overhead at p50 and under 150 ms at p99.
 */
import http from 'node:http';
import { createDemoBackend } from '../connectors/inference/demo';
import { createOpenAICompatibleBackend } from '../connectors/inference/openai/OpenAICompatibleBackend';
import type { ChatMessage, InferenceBackend } from '../connectors/inference/types';
import { seedFromId } from '../workflows/chat-validation';
import type { ChatReplyReceipt } from '../workflows/types';
import { startOpenAIStandIn } from '../test/standins/openai-server';
import { fmt, formatCpu, percentile, postJson, startBenchStack, withCpu, type BenchStack } from './util';

interface Options {
  conversations: number;
  turns: number;
  backends: Array<'demo' | 'openai'>;
  tokenMs: number;
}

interface Timing {
  ttftMs: number;
  turnMs: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

/** The gateway refuses cross-site posts: the chat page marks its calls with this header. */
const PAGE_HEADER = { 'x-prefline-request': '1' };

/** One turn as the chat page takes it: the reply streamed as server-sent events; times to the first piece and to the answer. */
function streamedTurn(url: string, token: string, body: unknown): Promise<Timing & { receipt: ChatReplyReceipt }> {
  const payload = JSON.stringify(body);
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...PAGE_HEADER, accept: 'text/event-stream', authorization: `Bearer ${token}` },
    }, (res) => {
      let buffer = '';
      let ttftMs: number | undefined;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (ttftMs === undefined && chunk.includes('event: delta')) ttftMs = performance.now() - t0;
        buffer += chunk;
      });
      res.on('end', () => {
        const turnMs = performance.now() - t0;
        const last = buffer.trim().split('\n\n').at(-1) ?? '';
        if (!last.startsWith('event: reply')) return reject(new Error(`no reply (HTTP ${res.statusCode}): ${last.slice(0, 200)}`));
        const receipt = JSON.parse(last.slice(last.indexOf('data: ') + 6)) as ChatReplyReceipt;
        resolve({ ttftMs: ttftMs ?? turnMs, turnMs, receipt });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

interface Conversation {
  id: string;
  /** Each turn's request as the model saw it: the conversation so far and the seed. */
  requests: Array<{ messages: ChatMessage[]; seed: number }>;
}

/** `count` conversations of `turns` turns each, all at once; returns every turn's timing and what to replay raw. */
async function runConversations(stack: BenchStack, model: string, options: Options, label: string): Promise<{ timings: Timing[]; conversations: Conversation[]; failures: Map<string, number> }> {
  const timings: Timing[] = [];
  const failures = new Map<string, number>();
  const conversations = await Promise.all(Array.from({ length: options.conversations }, async (_, i): Promise<Conversation | undefined> => {
    try {
      const session = await postJson(`${stack.gatewayUrl}/api/session`, { name: `bench ${label} ${i}` }, PAGE_HEADER);
      const { token } = JSON.parse(session.text) as { token: string };
      const created = await postJson(`${stack.gatewayUrl}/api/chat/conversations`, { model, idempotencyKey: `bench-${label}-${i}-start` }, { ...PAGE_HEADER, authorization: `Bearer ${token}` });
      if (created.status !== 201) throw new Error(`start: HTTP ${created.status} ${created.text.slice(0, 120)}`);
      const { conversationId } = JSON.parse(created.text) as { conversationId: string };
      const history: ChatMessage[] = [];
      const requests: Conversation['requests'] = [];
      for (let turn = 1; turn <= options.turns; turn++) {
        const text = `turn ${turn} of conversation ${i}: tell me something new`;
        history.push({ role: 'user', content: text });
        requests.push({ messages: [...history].slice(-40), seed: seedFromId(conversationId) + turn - 1 });
        const timing = await streamedTurn(`${stack.gatewayUrl}/api/chat/conversations/${conversationId}/messages`, token, { text, idempotencyKey: `bench-${label}-${i}-${turn}` });
        timings.push({ ttftMs: timing.ttftMs, turnMs: timing.turnMs });
        history.push({ role: 'assistant', content: timing.receipt.reply.text ?? '' });
      }
      return { id: conversationId, requests };
    } catch (err) {
      const key = (err instanceof Error ? err.message : String(err)).slice(0, 120);
      failures.set(key, (failures.get(key) ?? 0) + 1);
      return undefined;
    }
  }));
  return { timings, conversations: conversations.filter((c): c is Conversation => c !== undefined), failures };
}

/** The same requests straight to the backend, at the same concurrency: the raw inference time. */
async function runRaw(backend: InferenceBackend, model: string, conversations: Conversation[]): Promise<Timing[]> {
  const timings: Timing[] = [];
  await Promise.all(conversations.map(async (c) => {
    for (const request of c.requests) {
      const t0 = performance.now();
      let ttftMs: number | undefined;
      await backend.chat!({ model, messages: request.messages, params: {}, seed: request.seed, onDelta: () => { ttftMs ??= performance.now() - t0; } });
      const turnMs = performance.now() - t0;
      timings.push({ ttftMs: ttftMs ?? turnMs, turnMs });
    }
  }));
  return timings;
}

function summarise(label: string, prefline: Timing[], raw: Timing[]): Record<string, number> {
  const row = (what: keyof Timing) => {
    const p = (q: number) => [percentile(prefline.map((t) => t[what]), q), percentile(raw.map((t) => t[what]), q)] as const;
    const [p50, raw50] = p(50);
    const [p99, raw99] = p(99);
    return { p50, raw50, p99, raw99, over50: p50 - raw50, over99: p99 - raw99 };
  };
  const ttft = row('ttftMs');
  const turn = row('turnMs');
  const line = (name: string, r: ReturnType<typeof row>) =>
    `  ${name.padEnd(20)} p50 ${fmt(r.p50)} ms (raw ${fmt(r.raw50)}, ${fmt(r.p50 / r.raw50, 2)}×, overhead ${fmt(r.over50)} ms)   ` +
    `p99 ${fmt(r.p99)} ms (raw ${fmt(r.raw99)}, ${fmt(r.p99 / r.raw99, 2)}×, overhead ${fmt(r.over99)} ms)`;
  process.stdout.write([`${label}: ${prefline.length} turns through Prefline, ${raw.length} raw`, line('time to first token', ttft), line('turn latency', turn)].join('\n') + '\n');
  return { ttftP50: ttft.p50, ttftOverheadP50: ttft.over50, ttftOverheadP99: ttft.over99, turnP50: turn.p50, turnOverheadP50: turn.over50, turnOverheadP99: turn.over99 };
}

export async function benchChat(options: Options): Promise<Record<string, Record<string, number>>> {
  const openai = await startOpenAIStandIn();
  openai.setModel('bench-chat', { tokenMs: options.tokenMs });
  const stack = await startBenchStack('chat', {
    PREFLINE_OPENAI_BASE_URL: openai.baseUrl,
    PREFLINE_CHAT_MODELS: 'demo:text,openai:bench-chat',
    PREFLINE_CHAT_DEMO_TOKEN_MS: String(options.tokenMs),
    PREFLINE_WEB_OPEN_PANEL: '1',
    PREFLINE_WEB_SIGNINS_PER_HOUR: '0',
    PREFLINE_WEB_VOTES_PER_MINUTE: '0',
    PREFLINE_CHAT_MESSAGES_PER_MINUTE: '0',
    // Every conversation has a reply in flight at once.
    PREFLINE_INFERENCE_CONCURRENCY: String(options.conversations),
  });
  const results: Record<string, Record<string, number>> = {};
  try {
    process.stdout.write(`bench/chat: ${options.conversations} concurrent conversations × ${options.turns} turns, ${options.tokenMs} ms per streamed piece\n`);
    for (const name of options.backends) {
      const model = name === 'demo' ? 'demo:text' : 'openai:bench-chat';
      const backend = name === 'demo' ? createDemoBackend({ chatTokenMs: options.tokenMs }) : createOpenAICompatibleBackend({ baseUrl: openai.baseUrl, timeoutMs: 60_000 });
      // One conversation alone first: Prefline's own cost per turn, without 100 conversations queueing for the CPU.
      const solo = await runConversations(stack, model, { ...options, conversations: 1 }, `${name}-solo`);
      for (const [message, n] of solo.failures) process.stdout.write(`  the lone conversation failed (${n}): ${message}\n`);
      const soloRaw = await runRaw(backend, model.slice(model.indexOf(':') + 1), solo.conversations);
      const alone = summarise(`${model}, one conversation alone`, solo.timings, soloRaw);
      results[`${name}-solo`] = alone;

      const t0 = performance.now();
      const { result: run, cpu } = await withCpu(stack, () => runConversations(stack, model, options, name));
      const wallS = (performance.now() - t0) / 1000;
      for (const [message, n] of run.failures) process.stdout.write(`  ${n} conversation(s) failed: ${message}\n`);
      const raw = await runRaw(backend, model.slice(model.indexOf(':') + 1), run.conversations);
      results[name] = { ...summarise(`${model}, ${options.conversations} conversations at once`, run.timings, raw), wallS, turnsPerSecond: run.timings.length / wallS, failedConversations: options.conversations - run.conversations.length };
      process.stdout.write(`  ${fmt(run.timings.length / wallS)} turns/s over ${fmt(wallS)} s; cpu: ${formatCpu(cpu)}\n`);
    }
  } finally {
    await stack.stop();
    await openai.close();
  }
  return results;
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  benchChat({
    conversations: Number(arg('conversations') ?? 100),
    turns: Number(arg('turns') ?? 10),
    backends: (arg('backends') ?? 'demo,openai').split(',') as Options['backends'],
    tokenMs: Number(arg('token-ms') ?? 10),
  }).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
