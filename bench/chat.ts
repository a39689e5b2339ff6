/**
 * bench/chat: concurrent chat conversations through the real stack (dev server, one worker process,
 * one gateway process), each turn a message posted to the gateway with the reply streamed back as
 * server-sent events, against `demo:text` and the OpenAI-compatible stand-in streaming at a fixed pace.
 * For every turn it measures time to first token (post → first `delta` event), turn latency as the user
 * sees it (post → the last `delta`: the whole reply is on the page) and the durable turn end (post → the
 * final `reply` event: the update answered, the reply recorded in the workflow, its id known to the
 * page), and, in the same run, the raw inference of the same requests (the same conversation so far and
 * seed, the backend called directly at the same concurrency; its turn ends when the call returns). It
 * reports p50 and p99, their ratio, and Prefline's overhead (Prefline minus raw) in ms — first for
 * conversations alone, one after another, after an uncounted warm-up (Prefline's own cost per turn, and
 * where it goes: bench/chat-breakdown.ts), then for all of them at once (that cost plus queueing for the
 * CPU: on a small machine the dev server, the worker, the gateway and the load share a few cores).
 *
 *   node dist/bench/chat.js [--conversations 100] [--turns 10] [--backends demo,openai] [--token-ms 10] [--alone 3]
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
import { printBreakdown, type TurnMarks } from './chat-breakdown';
import { fmt, formatCpu, percentile, postJson, startBenchStack, withCpu, type BenchStack } from './util';

interface Options {
  conversations: number;
  turns: number;
  backends: Array<'demo' | 'openai'>;
  tokenMs: number;
  /** Conversations run alone, one after another, before the concurrent run. */
  alone: number;
}

interface Timing {
  ttftMs: number;
  /** To the last piece of the reply: what the user waits for. */
  lastTokenMs: number;
  /** To the final answer (Prefline: the `reply` event; raw: the call returned). */
  turnMs: number;
}

/** Wall-clock now, in fractional ms: comparable with the server's history times. */
const wallNow = () => performance.timeOrigin + performance.now();

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

/** The gateway refuses cross-site posts: the chat page marks its calls with this header. */
const PAGE_HEADER = { 'x-prefline-request': '1' };

/** One turn as the chat page takes it: the reply streamed as server-sent events; times to the first and last piece and to the answer. */
function streamedTurn(url: string, token: string, body: { text: string; idempotencyKey: string }): Promise<Timing & { receipt: ChatReplyReceipt; marks: TurnMarks }> {
  const payload = JSON.stringify(body);
  const postedAt = wallNow();
  const marks: TurnMarks = { postedAt, endAt: postedAt };
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...PAGE_HEADER, accept: 'text/event-stream', authorization: `Bearer ${token}` },
    }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const at = wallNow();
        if (chunk.includes('event: delta')) {
          marks.firstDeltaAt ??= at;
          marks.lastDeltaAt = at;
        }
        if (chunk.includes('event: streamed')) marks.streamedAt ??= at;
        if (chunk.includes('event: reply')) marks.replyAt ??= at;
        buffer += chunk;
      });
      res.on('end', () => {
        marks.endAt = wallNow();
        const last = buffer.trim().split('\n\n').at(-1) ?? '';
        if (!last.startsWith('event: reply')) return reject(new Error(`no reply (HTTP ${res.statusCode}): ${last.slice(0, 200)}`));
        const receipt = JSON.parse(last.slice(last.indexOf('data: ') + 6)) as ChatReplyReceipt;
        if (receipt.reply.latencyMs !== undefined) marks.latencyMs = receipt.reply.latencyMs;
        const turnMs = (marks.replyAt ?? marks.endAt) - postedAt;
        resolve({ ttftMs: (marks.firstDeltaAt ?? marks.endAt) - postedAt, lastTokenMs: (marks.lastDeltaAt ?? marks.endAt) - postedAt, turnMs, receipt, marks });
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
  marks: TurnMarks[];
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
      const marks: TurnMarks[] = [];
      for (let turn = 1; turn <= options.turns; turn++) {
        const text = `turn ${turn} of conversation ${i}: tell me something new`;
        history.push({ role: 'user', content: text });
        requests.push({ messages: [...history].slice(-40), seed: seedFromId(conversationId) + turn - 1 });
        const timing = await streamedTurn(`${stack.gatewayUrl}/api/chat/conversations/${conversationId}/messages`, token, { text, idempotencyKey: `bench-${label}-${i}-${turn}` });
        timings.push({ ttftMs: timing.ttftMs, lastTokenMs: timing.lastTokenMs, turnMs: timing.turnMs });
        marks.push(timing.marks);
        history.push({ role: 'assistant', content: timing.receipt.reply.text ?? '' });
      }
      return { id: conversationId, requests, marks };
    } catch (err) {
      const key = (err instanceof Error ? err.message : String(err)).slice(0, 120);
      failures.set(key, (failures.get(key) ?? 0) + 1);
      return undefined;
    }
  }));
  return { timings, conversations: conversations.filter((c): c is Conversation => c !== undefined), failures };
}

/** The same requests straight to the backend, at the same concurrency (all at once, or one conversation after another): the raw inference time. */
async function runRaw(backend: InferenceBackend, model: string, conversations: Conversation[], oneAfterAnother = false): Promise<Timing[]> {
  const timings: Timing[] = [];
  const replay = async (c: Conversation) => {
    for (const request of c.requests) {
      const t0 = performance.now();
      let ttftMs: number | undefined;
      let lastTokenMs: number | undefined;
      await backend.chat!({ model, messages: request.messages, params: {}, seed: request.seed, onDelta: () => { lastTokenMs = performance.now() - t0; ttftMs ??= lastTokenMs; } });
      const turnMs = performance.now() - t0;
      timings.push({ ttftMs: ttftMs ?? turnMs, lastTokenMs: lastTokenMs ?? turnMs, turnMs });
    }
  };
  if (oneAfterAnother) for (const c of conversations) await replay(c);
  else await Promise.all(conversations.map(replay));
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
  const seen = row('lastTokenMs');
  const turn = row('turnMs');
  const line = (name: string, r: ReturnType<typeof row>) =>
    `  ${name.padEnd(20)} p50 ${fmt(r.p50)} ms (raw ${fmt(r.raw50)}, ${fmt(r.p50 / r.raw50, 2)}×, overhead ${fmt(r.over50)} ms)   ` +
    `p99 ${fmt(r.p99)} ms (raw ${fmt(r.raw99)}, ${fmt(r.p99 / r.raw99, 2)}×, overhead ${fmt(r.over99)} ms)`;
  process.stdout.write([`${label}: ${prefline.length} turns through Prefline, ${raw.length} raw`, line('time to first token', ttft), line('turn, last token', seen), line('turn, reply recorded', turn)].join('\n') + '\n');
  return {
    ttftP50: ttft.p50, ttftOverheadP50: ttft.over50, ttftOverheadP99: ttft.over99, lastTokenP50: seen.p50, lastTokenOverheadP50: seen.over50, lastTokenOverheadP99: seen.over99,
    turnP50: turn.p50, turnOverheadP50: turn.over50, turnOverheadP99: turn.over99,
  };
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
      // A warm-up conversation, not counted: the processes' first turn compiles their code paths (a one-off cost per process, not per turn).
      await runConversations(stack, model, { ...options, conversations: 1, turns: 2 }, `${name}-warm-up`);
      await runRaw(backend, model.slice(model.indexOf(':') + 1), [{ id: 'warm-up', requests: [{ messages: [{ role: 'user', content: 'warm up' }], seed: 1 }], marks: [] }]);
      // Conversations alone next, one after another: Prefline's own cost per turn, without 100 conversations queueing for the CPU.
      const solo = { timings: [] as Timing[], conversations: [] as Conversation[] };
      for (let i = 0; i < options.alone; i++) {
        const one = await runConversations(stack, model, { ...options, conversations: 1 }, `${name}-solo-${i}`);
        for (const [message, n] of one.failures) process.stdout.write(`  a lone conversation failed (${n}): ${message}\n`);
        solo.timings.push(...one.timings);
        solo.conversations.push(...one.conversations);
      }
      const soloRaw = await runRaw(backend, model.slice(model.indexOf(':') + 1), solo.conversations, true);
      const alone = summarise(`${model}, ${options.alone} conversation(s) alone, one after another`, solo.timings, soloRaw);
      results[`${name}-solo`] = alone;
      await printBreakdown(stack.server.address, stack.config.temporal.namespace, new Map(solo.conversations.map((c) => [c.id, c.marks])));

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
    alone: Number(arg('alone') ?? 3),
  }).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
