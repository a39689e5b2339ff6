/**
 * A gateway host with the chat API over real conversations: the workers of a test task queue
 * (createLifecycleWorkers, streaming to this gateway with the shared stream key), the Temporal
 * conversation directory and a stream hub at the gateway's own URL; and the chat page's calls
 * (sign in by name, start, send with the reply streamed or whole, the other actions).
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { ChatStreamHub } from '../../channels/chat/stream-hub';
import type { ChatSettings } from '../../channels/chat/routes';
import type { GatewayLogLevel } from '../../core/http';
import { TemporalConversationDirectory } from '../../core/temporal-conversations';
import { createGatewayServer, listen, type GatewayDeps } from '../../gateway/http-server';
import { freePort } from '../../ops/dev-server';
import { FakeDirectory, MemoryArtifacts } from './fake-directory';
import { JSON_HEADERS, RATER_KEY, SESSION_KEY } from './gateway';
import { sharedTemporal, type LifecycleWorkers } from './temporal';

export const CHAT_STREAM_KEY = Buffer.from('stream-key-for-tests-0123456789');

export interface ChatGateway {
  url: string;
  server: http.Server;
  conversations: TemporalConversationDirectory;
  streams: ChatStreamHub;
  logs: Array<{ level: GatewayLogLevel; msg: string; fields?: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startChatGateway(workers: LifecycleWorkers, options: { settings?: Partial<ChatSettings>; limits?: GatewayDeps['limits']; messagesPerMinute?: number } = {}): Promise<ChatGateway> {
  const { client } = await sharedTemporal();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const conversations = new TemporalConversationDirectory(client, { taskQueue: workers.taskQueue });
  const streams = new ChatStreamHub(CHAT_STREAM_KEY, url);
  const logs: ChatGateway['logs'] = [];
  const server = createGatewayServer({
    directory: new FakeDirectory(),
    artifacts: new MemoryArtifacts(),
    raterKey: RATER_KEY,
    sessionKey: SESSION_KEY,
    openPanel: true,
    sessionTtlMs: 3_600_000,
    ...(options.limits ? { limits: options.limits } : {}),
    log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }),
    chat: {
      conversations,
      settings: { models: ['demo:text', 'openai:llama3:8b'], reasonTags: ['incorrect', 'unhelpful'], idleTimeout: '30m', commitAfterMs: 0, maxMessageChars: 8000, contextMessages: 40, ...options.settings },
      textOf: async (sha256) => (await workers.artifacts.read(sha256)).bytes.toString('utf8'),
      streams,
      internalUrl: url,
      messagesPerMinute: options.messagesPerMinute ?? 0,
    },
  });
  await listen(server, '127.0.0.1', port);
  return {
    url, server, conversations, streams, logs,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

export interface StreamedReply {
  status: number;
  contentType: string;
  /** Events in order: name and parsed data. */
  events: Array<{ event: string; data: Record<string, unknown> }>;
}

/** The chat page's calls, as one rater. */
export function chatClient(gateway: () => ChatGateway) {
  let keys = 0;
  const key = () => `page-key-${process.pid}-${++keys}`;

  async function signIn(name: string): Promise<string> {
    const res = await fetch(`${gateway().url}/api/session`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ name }) });
    assert.equal(res.status, 201);
    return ((await res.json()) as { token: string }).token;
  }

  function post(token: string, path: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${gateway().url}${path}`, { method: 'POST', headers: { ...JSON_HEADERS, Authorization: `Bearer ${token}`, ...headers }, body: JSON.stringify({ idempotencyKey: key(), ...body }) });
  }

  function get(token: string, path: string): Promise<Response> {
    return fetch(`${gateway().url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  }

  async function start(token: string, model = 'demo:text'): Promise<string> {
    const res = await post(token, '/api/chat/conversations', { model });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { conversationId: string }).conversationId;
  }

  /** A message (or a regeneration) with the reply streamed as server-sent events. */
  async function streamed(token: string, id: string, what: 'messages' | 'regenerate', body: Record<string, unknown> = {}): Promise<StreamedReply> {
    const res = await post(token, `/api/chat/conversations/${encodeURIComponent(id)}/${what}`, body, { Accept: 'text/event-stream' });
    const text = await res.text();
    const events = text.split('\n\n').filter((b) => b.trim() !== '').map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = JSON.parse(block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n') || '{}') as Record<string, unknown>;
      return { event, data };
    });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', events };
  }

  return { signIn, post, get, start, streamed, key };
}
