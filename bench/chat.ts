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
 * The load model: `--conversations N` is N simulated users, each in one conversation of its own, each
 * sending its next message only once the previous turn has ended (the final `reply` event) and it has
 * thought for a while. The concurrent part runs twice: closed loop with no think time (every user
 * types the next message the instant the reply is recorded: the most load N users can offer, i.e. the
 * stack's capacity), then with a think time per user before every message (`--think-ms`, mean; each
 * pause drawn evenly from half to one and a half times it, and the users' first messages spread over
 * one mean pause, so they do not move in step), as real users read and type between turns. The raw
 * inference of a run replays the same requests with the same pauses. Each run reports the offered load
 * (turns/s the users would send if Prefline added nothing: N / (mean pause + mean raw turn)), the
 * turns/s served, and the CPU per turn of the dev server, the worker and the gateway (their process CPU
 * over the run and a settle of one commit window and 3 s for the commits that follow it, divided by the turns), with
 * the turns/s those cost would cap the machine's cores at.
 *
 *   node dist/bench/chat.js [--conversations 100] [--turns 10] [--backends demo,openai] [--token-ms 10] [--alone 3] [--think-ms 3000]
 *
 * Target: under 50 ms of overhead at p50 and under 150 ms at p99.
 */
import http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { createDemoBackend } from '../connectors/inference/demo';
import { createOpenAICompatibleBackend } from '../connectors/inference/openai/OpenAICompatibleBackend';
import type { ChatMessage, InferenceBackend } from '../connectors/inference/types';
import { seedFromId } from '../workflows/chat-validation';
import type { ChatReplyReceipt } from '../workflows/types';
import { startOpenAIStandIn } from '../test/standins/openai-server';
import { printBreakdown, printHistoryCounts, type TurnMarks } from './chat-breakdown';
import { fmt, percentile, postJson, startBenchStack, withCpu, type BenchStack } from './util';

interface Options {
  conversations: number;
  turns: number;
  backends: Array<'demo' | 'openai'>;
  tokenMs: number;
  /** Conversations run alone, one after another, before the concurrent run. */
  alone: number;
  /** Mean pause before each message of the think-time run (0: only the closed-loop run). */
  thinkMs: number;
  /** Run the closed-loop (capacity) part too; `--closed-loop off` runs only the think-time part. */
  closedLoop: boolean;
}

/** Default mean think time: a user reading a short reply and typing the next message. */
export const DEFAULT_THINK_MS = 3000;
/** Kept inside the CPU window after a run: the commits its conversations' last turns leave (one commit window, PREFLINE_CHAT_LEDGER_LAG, and a margin). */
const settleMs = (stack: BenchStack): number => stack.config.chat.commitAfterMs + 3000;

/** The pauses of one user: deterministic (the same for Prefline and the raw replay), even from ½ to 1½ × mean. */
function pausesFor(user: number, turns: number, thinkMs: number): number[] {
  let state = (user + 1) * 0x9e3779b1;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  if (thinkMs <= 0) return Array.from({ length: turns }, () => 0);
  // The first pause spreads the users' arrivals over one mean pause.
  return Array.from({ length: turns }, (_, i) => (i === 0 ? next() * thinkMs : thinkMs * (0.5 + next())));
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
  /** The pause before each turn. */
  pauses: number[];
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
      const pauses = pausesFor(i, options.turns, options.thinkMs);
      for (let turn = 1; turn <= options.turns; turn++) {
        if (pauses[turn - 1]! > 0) await delay(pauses[turn - 1]!);
        const text = `turn ${turn} of conversation ${i}: tell me something new`;
        history.push({ role: 'user', content: text });
        requests.push({ messages: [...history].slice(-40), seed: seedFromId(conversationId) + turn - 1 });
        const timing = await streamedTurn(`${stack.gatewayUrl}/api/chat/conversations/${conversationId}/messages`, token, { text, idempotencyKey: `bench-${label}-${i}-${turn}` });
        timings.push({ ttftMs: timing.ttftMs, lastTokenMs: timing.lastTokenMs, turnMs: timing.turnMs });
        marks.push(timing.marks);
        history.push({ role: 'assistant', content: timing.receipt.reply.text ?? '' });
      }
      return { id: conversationId, pauses, requests, marks };
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
    for (const [turn, request] of c.requests.entries()) {
      if (c.pauses[turn]! > 0) await delay(c.pauses[turn]!);
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

/** The load a run offered and served, and what each turn cost the stack's processes in CPU. */
function printLoad(run: { timings: Timing[]; wallS: number }, raw: Timing[], cpu: Record<string, number>, users: number, thinkMs: number, settledMs: number): Record<string, number> {
  const turns = run.timings.length;
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const offered = users / ((thinkMs + mean(raw.map((t) => t.turnMs))) / 1000);
  const served = turns / run.wallS;
  const perTurn = (k: string) => ((cpu[k] ?? NaN) * 1000) / turns;
  const stackMs = perTurn('server') + perTurn('worker') + perTurn('gateway');
  const cores = cpus().length;
  const capacity = (cores * 1000) / stackMs;
  process.stdout.write(
    `  load: offered ${fmt(offered)} turns/s (users / (mean pause + mean raw turn)), served ${fmt(served)} turns/s over ${fmt(run.wallS)} s; ` +
      `machine load average ${loadavg().map((l) => fmt(l, 1)).join(' / ')} (1/5/15 min, other work included)\n` +
      `  cpu per turn: server ${fmt(perTurn('server'))} ms, worker ${fmt(perTurn('worker'))} ms, gateway ${fmt(perTurn('gateway'))} ms = ${fmt(stackMs)} ms ` +
      `(bench ${fmt(perTurn('bench'))} ms; run + ${settledMs / 1000} s settle); ${cores} cores cap the stack near ${fmt(capacity)} turns/s` +
      `${offered > capacity * 0.8 ? ' — the offered load is at or past that: these figures are saturated' : ''}\n`,
  );
  return {
    wallS: run.wallS, offeredTurnsPerSecond: offered, turnsPerSecond: served, thinkMs,
    cpuMsPerTurnServer: perTurn('server'), cpuMsPerTurnWorker: perTurn('worker'), cpuMsPerTurnGateway: perTurn('gateway'), cpuMsPerTurn: stackMs, capacityTurnsPerSecond: capacity,
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
    process.stdout.write(
      `bench/chat: ${options.conversations} users, each in its own conversation of ${options.turns} turns, sending the next message once the reply is recorded ` +
        `(closed loop; then after a think time of ${fmt(options.thinkMs / 1000)} s mean); ${options.tokenMs} ms per streamed piece\n`,
    );
    for (const name of options.backends) {
      const model = name === 'demo' ? 'demo:text' : 'openai:bench-chat';
      const backend = name === 'demo' ? createDemoBackend({ chatTokenMs: options.tokenMs }) : createOpenAICompatibleBackend({ baseUrl: openai.baseUrl, timeoutMs: 60_000 });
      // A warm-up conversation, not counted: the processes' first turn compiles their code paths (a one-off cost per process, not per turn).
      await runConversations(stack, model, { ...options, conversations: 1, turns: 2, thinkMs: 0 }, `${name}-warm-up`);
      await runRaw(backend, model.slice(model.indexOf(':') + 1), [{ id: 'warm-up', pauses: [0], requests: [{ messages: [{ role: 'user', content: 'warm up' }], seed: 1 }], marks: [] }]);
      // Conversations alone next, one after another: Prefline's own cost per turn, without 100 conversations queueing for the CPU.
      const solo = { timings: [] as Timing[], conversations: [] as Conversation[] };
      for (let i = 0; i < options.alone; i++) {
        const one = await runConversations(stack, model, { ...options, conversations: 1, thinkMs: 0 }, `${name}-solo-${i}`);
        for (const [message, n] of one.failures) process.stdout.write(`  a lone conversation failed (${n}): ${message}\n`);
        solo.timings.push(...one.timings);
        solo.conversations.push(...one.conversations);
      }
      const soloRaw = await runRaw(backend, model.slice(model.indexOf(':') + 1), solo.conversations, true);
      const alone = summarise(`${model}, ${options.alone} conversation(s) alone, one after another`, solo.timings, soloRaw);
      results[`${name}-solo`] = alone;
      await printBreakdown(stack.server.address, stack.config.temporal.namespace, new Map(solo.conversations.map((c) => [c.id, c.marks])));

      const thinkTimes = options.thinkMs > 0 ? (options.closedLoop ? [0, options.thinkMs] : [options.thinkMs]) : [0];
      for (const thinkMs of thinkTimes) {
        const label = thinkMs === 0 ? `${name}` : `${name}-think`;
        const run = { ...options, thinkMs };
        const t0 = performance.now();
        const { result, cpu } = await withCpu(stack, async () => {
          const served = await runConversations(stack, model, run, label);
          const wallS = (performance.now() - t0) / 1000;
          await delay(settleMs(stack));
          return { ...served, wallS };
        });
        for (const [message, n] of result.failures) process.stdout.write(`  ${n} conversation(s) failed: ${message}\n`);
        const raw = await runRaw(backend, model.slice(model.indexOf(':') + 1), result.conversations);
        const how = thinkMs === 0 ? 'closed loop, no think time' : `think time ${fmt(thinkMs / 1000)} s mean (${fmt(thinkMs / 2000)}–${fmt((thinkMs * 1.5) / 1000)} s)`;
        const summary = summarise(`${model}, ${options.conversations} users at once, ${how}`, result.timings, raw);
        const load = printLoad(result, raw, cpu, options.conversations, thinkMs, settleMs(stack));
        const history = await printHistoryCounts(stack.server.address, stack.config.temporal.namespace, new Map(result.conversations.map((c) => [c.id, c.requests.length])));
        if (thinkMs > 0) await printBreakdown(stack.server.address, stack.config.temporal.namespace, new Map(result.conversations.map((c) => [c.id, c.marks])), true);
        results[label] = { ...summary, ...load, ...history, failedConversations: options.conversations - result.conversations.length };
      }
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
    thinkMs: Number(arg('think-ms') ?? DEFAULT_THINK_MS),
    closedLoop: arg('closed-loop') !== 'off',
  }).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
