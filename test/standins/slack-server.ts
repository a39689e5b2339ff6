/**
 * A local stand-in for Slack (test-only), faithful to what the clients see on the wire:
 * - the Web API methods Prefline uses, as POSTs to `/api/<method>` (form-encoded with JSON-encoded
 *   non-scalars, or JSON), Bearer tokens, `ok:false` errors, 429 with `Retry-After`, 5xx;
 * - the three-step upload (`files.getUploadURLExternal`, multipart POST of `body` to the upload URL,
 *   `files.completeUploadExternal`), with Slack's rule that an image block may only show a file shared
 *   in the channel ("invalid slack file");
 * - message metadata stored by `chat.postMessage` and returned by `conversations.history` only with
 *   `include_all_metadata`;
 * - `response_url` endpoints recording ephemeral answers;
 * - Socket Mode: `apps.connections.open` and a minimal WebSocket server (RFC 6455 framing, hello,
 *   ping/pong, envelopes and their acks);
 * - and the other direction: signed Events API and interactivity deliveries to a gateway, with retries
 *   (`X-Slack-Retry-Num`, `X-Slack-Retry-Reason`), and slash commands as Slack sends them (a signed
 *   form-encoded body with `command`, `text`, `response_url`, `trigger_id`, …; Slack does not retry them,
 *   a client re-sending one sends the same `trigger_id`).
 * Every API call is recorded for assertions.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { signSlackRequest } from '../../channels/slack/verify';

export interface SlackFault {
  /** HTTP status; default 200 with `ok:false`. */
  status?: number;
  /** `Retry-After` header, verbatim (429s). */
  retryAfter?: string;
  /** The `error` of an `ok:false` answer. */
  error?: string;
  /** Do the call, then answer with the fault anyway (Slack stored the message but the answer was lost). */
  afterEffect?: boolean;
}

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  token?: string;
  contentType: string;
  at: number;
}

export interface StoredMessage {
  ts: string;
  user: string;
  bot_id?: string;
  text?: string;
  blocks?: Array<Record<string, unknown>>;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  thread_ts?: string;
  files?: Array<{ id: string }>;
  edited?: { ts: string };
  /** How many times chat.update touched it. */
  updates: number;
}

export interface StoredFile {
  id: string;
  filename: string;
  length: number;
  title?: string;
  altText?: string;
  bytes?: Buffer;
  completed: boolean;
  sharedIn: Set<string>;
}

export interface SlackStandInOptions {
  botToken?: string;
  appToken?: string;
  botUserId?: string;
  teamId?: string;
  channels?: Array<{ id: string; name: string; isPrivate?: boolean; botIsMember?: boolean }>;
  usergroups?: Record<string, string[]>;
  signingSecret?: string;
}

export interface DeliveryOptions {
  retryNum?: number;
  retryReason?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Overrides the computed signature. */
  signature?: string | null;
  /** Default: exactly what Slack sends. */
  contentType?: string;
  /** Send these bytes instead of the serialised payload (e.g. a re-serialised body with the old signature). */
  rawBody?: string;
  signingSecret?: string;
  /** Extra/overriding headers; `null` removes one. */
  headers?: Record<string, string | null>;
}

export interface DeliveryResult {
  status: number;
  body: string;
  ms: number;
}

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const JSON_ARGS = new Set(['blocks', 'metadata', 'files', 'attachments']);

export class SlackStandIn {
  readonly calls: RecordedCall[] = [];
  readonly responses: Array<{ id: string; body: Record<string, unknown>; at: number }> = [];
  readonly ephemerals: Array<{ channel: string; user: string; text: string }> = [];
  readonly files = new Map<string, StoredFile>();
  readonly botToken: string;
  readonly appToken: string;
  readonly botUserId: string;
  readonly teamId: string;
  readonly signingSecret: string;
  readonly usergroups: Record<string, string[]>;
  url = '';
  private readonly channels: Array<{ id: string; name: string; isPrivate: boolean; botIsMember: boolean }>;
  private readonly history = new Map<string, StoredMessage[]>();
  private readonly faults = new Map<string, SlackFault[]>();
  private readonly sockets = new Set<WebSocketPeer>();
  private readonly acks = new Map<string, (payload: unknown) => void>();
  private tsCounter = 0;
  private fileCounter = 0;
  private eventCounter = 0;
  private triggerCounter = 0;
  private server!: http.Server;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 128 });

  private constructor(options: SlackStandInOptions) {
    this.botToken = options.botToken ?? 'xoxb-standin-bot-token';
    this.appToken = options.appToken ?? 'xapp-standin-app-token';
    this.botUserId = options.botUserId ?? 'UBOT00001';
    this.teamId = options.teamId ?? 'T0STANDIN';
    this.signingSecret = options.signingSecret ?? 'standin-signing-secret-0123456789';
    this.usergroups = options.usergroups ?? {};
    this.channels = (options.channels ?? [{ id: 'C0FEEDBK01', name: 'ox-feedback' }]).map((c) => ({ isPrivate: false, botIsMember: true, ...c }));
    for (const c of this.channels) this.history.set(c.id, []);
  }

  static async start(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
    const standIn = new SlackStandIn(options);
    standIn.server = http.createServer((req, res) => {
      standIn.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      });
    });
    standIn.server.on('upgrade', (req, socket) => standIn.upgrade(req, socket));
    await new Promise<void>((resolve) => standIn.server.listen(0, '127.0.0.1', resolve));
    standIn.url = `http://127.0.0.1:${(standIn.server.address() as AddressInfo).port}`;
    return standIn;
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async close(): Promise<void> {
    this.agent.destroy();
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- state and assertions --------------------------------------------------------------------

  /** Queues faults answered (in order) to the next calls of `method` (`*` for any). */
  fail(method: string, ...faults: SlackFault[]): void {
    this.faults.set(method, [...(this.faults.get(method) ?? []), ...faults]);
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Top-level messages of a channel (not thread replies), oldest first. */
  messages(channelId: string, options: { includeReplies?: boolean } = {}): StoredMessage[] {
    return (this.history.get(channelId) ?? []).filter((m) => options.includeReplies || m.thread_ts === undefined || m.thread_ts === m.ts);
  }

  message(channelId: string, ts: string): StoredMessage | undefined {
    return this.history.get(channelId)?.find((m) => m.ts === ts);
  }

  channelId(name: string): string {
    const channel = this.channels.find((c) => c.name === name.replace(/^#/, ''));
    if (!channel) throw new Error(`no channel ${name}`);
    return channel.id;
  }

  addChannel(id: string, name: string): void {
    this.channels.push({ id, name, isPrivate: false, botIsMember: true });
    this.history.set(id, []);
  }

  /** A message posted by a person (not the bot), e.g. to react to. */
  postAsUser(channelId: string, user: string, text: string): StoredMessage {
    const message: StoredMessage = { ts: this.nextTs(), user, text, updates: 0 };
    this.history.get(channelId)!.push(message);
    return message;
  }

  /** A unique `response_url` on this stand-in; what is posted there lands in `responses`. */
  responseUrl(): string {
    return `${this.url}/respond/${randomUUID()}`;
  }

  // ---- deliveries to a gateway -----------------------------------------------------------------

  nextEventId(): string {
    return `Ev${String(++this.eventCounter).padStart(8, '0')}STANDIN`;
  }

  reactionEnvelope(e: { user: string; reaction: string; channel: string; ts: string; removed?: boolean; eventTs?: string; itemUser?: string | null; eventId?: string }): Record<string, unknown> {
    const eventTs = e.eventTs ?? this.nextTs();
    return {
      token: 'legacy-verification-token',
      team_id: this.teamId,
      api_app_id: 'A0STANDIN',
      type: 'event_callback',
      event_id: e.eventId ?? this.nextEventId(),
      event_time: Math.floor(Number(eventTs)),
      event: {
        type: e.removed ? 'reaction_removed' : 'reaction_added',
        user: e.user,
        reaction: e.reaction,
        ...(e.itemUser === null ? {} : { item_user: e.itemUser ?? this.message(e.channel, e.ts)?.user ?? this.botUserId }),
        item: { type: 'message', channel: e.channel, ts: e.ts },
        event_ts: eventTs,
      },
      authorizations: [{ team_id: this.teamId, user_id: this.botUserId, is_bot: true }],
    };
  }

  /** A `block_actions` payload for a click on `actionId` of the stored message, as Slack builds it. */
  blockActionsPayload(a: { user: string; channel: string; messageTs: string; actionId: string; value?: string; actionTs?: string; responseUrl?: string | null }): Record<string, unknown> {
    const message = this.message(a.channel, a.messageTs);
    const element = message?.blocks
      ?.flatMap((b) => (b.type === 'actions' ? (b.elements as Array<Record<string, unknown>>) : []))
      .find((el) => el.action_id === a.actionId);
    return {
      type: 'block_actions',
      user: { id: a.user, username: a.user.toLowerCase(), team_id: this.teamId },
      api_app_id: 'A0STANDIN',
      token: 'legacy-verification-token',
      container: { type: 'message', message_ts: a.messageTs, channel_id: a.channel, is_ephemeral: false },
      trigger_id: `${Date.now()}.trigger`,
      team: { id: this.teamId, domain: 'standin' },
      channel: { id: a.channel, name: this.channels.find((c) => c.id === a.channel)?.name ?? 'unknown' },
      message: message ? { type: 'message', ts: message.ts, user: message.user, text: message.text, blocks: message.blocks } : { ts: a.messageTs },
      ...(a.responseUrl === null ? {} : { response_url: a.responseUrl ?? this.responseUrl() }),
      actions: [{ type: 'button', action_id: a.actionId, block_id: 'prefline_actions', value: a.value ?? (element?.value as string | undefined), action_ts: a.actionTs ?? this.nextTs() }],
    };
  }

  /** A slash command's form fields, as Slack sends them for `user` typing `command text` in `channel`. */
  slashCommandFields(c: { user: string; channel: string; text: string; command?: string; triggerId?: string; responseUrl?: string | null; teamId?: string; enterpriseId?: string }): Record<string, string> {
    return {
      token: 'legacy-verification-token',
      team_id: c.teamId ?? this.teamId,
      team_domain: 'standin',
      ...(c.enterpriseId ? { enterprise_id: c.enterpriseId, enterprise_name: 'Stand-in Grid' } : {}),
      channel_id: c.channel,
      channel_name: this.channels.find((ch) => ch.id === c.channel)?.name ?? 'unknown',
      user_id: c.user,
      user_name: c.user.toLowerCase(),
      command: c.command ?? '/prefline',
      text: c.text,
      api_app_id: 'A0STANDIN',
      is_enterprise_install: 'false',
      ...(c.responseUrl === null ? {} : { response_url: c.responseUrl ?? this.responseUrl() }),
      trigger_id: c.triggerId ?? `${Date.now()}.${++this.triggerCounter}.${randomUUID().replace(/-/g, '').slice(0, 32)}`,
    };
  }

  /** POSTs a slash command to `<gatewayUrl>/slack/commands`, form-encoded and signed as Slack does. */
  deliverCommand(gatewayUrl: string, fields: Record<string, string>, options: DeliveryOptions = {}): Promise<DeliveryResult> {
    const body = options.rawBody ?? new URLSearchParams(fields).toString();
    return this.deliver(`${gatewayUrl}/slack/commands`, body, options.contentType ?? 'application/x-www-form-urlencoded', options);
  }

  /** What was posted to one `response_url` (its last path segment), in order. */
  responsesTo(responseUrl: string): Array<Record<string, unknown>> {
    const id = responseUrl.slice(responseUrl.lastIndexOf('/') + 1);
    return this.responses.filter((r) => r.id === id).map((r) => r.body);
  }

  /** POSTs an Events API payload to `<gatewayUrl>/slack/events`, signed unless told otherwise. */
  deliverEvent(gatewayUrl: string, envelope: unknown, options: DeliveryOptions = {}): Promise<DeliveryResult> {
    return this.deliver(`${gatewayUrl}/slack/events`, options.rawBody ?? JSON.stringify(envelope), options.contentType ?? 'application/json', options);
  }

  /** POSTs an interactivity payload, form-encoded as Slack does (`payload=<json>`). */
  deliverAction(gatewayUrl: string, payload: unknown, options: DeliveryOptions = {}): Promise<DeliveryResult> {
    const body = options.rawBody ?? new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.deliver(`${gatewayUrl}/slack/interactivity`, body, options.contentType ?? 'application/x-www-form-urlencoded', options);
  }

  async deliver(url: string, body: string, contentType: string, options: DeliveryOptions = {}): Promise<DeliveryResult> {
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'Content-Type': contentType,
      'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'X-Slack-Request-Timestamp': String(timestamp),
    };
    if (options.signature !== null) headers['X-Slack-Signature'] = options.signature ?? signSlackRequest(options.signingSecret ?? this.signingSecret, timestamp, body);
    if (options.retryNum !== undefined) {
      headers['X-Slack-Retry-Num'] = String(options.retryNum);
      headers['X-Slack-Retry-Reason'] = options.retryReason ?? 'http_timeout';
    }
    for (const [k, v] of Object.entries(options.headers ?? {})) {
      for (const existing of Object.keys(headers)) if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing];
      if (v !== null) headers[k] = v;
    }
    const started = performance.now();
    // node:http with a keep-alive agent: far less client-side CPU than fetch, so a burst measures the gateway.
    return new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  // ---- Socket Mode -----------------------------------------------------------------------------

  get socketCount(): number {
    return [...this.sockets].filter((s) => s.open).length;
  }

  /** Sends an envelope to every connected Socket Mode client; resolves with the first ack's payload. */
  sendEnvelope(type: 'events_api' | 'interactive' | 'slash_commands', payload: unknown, options: { retryAttempt?: number; retryReason?: string; timeoutMs?: number } = {}): Promise<unknown> {
    const envelopeId = randomUUID();
    const envelope = {
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: type === 'slash_commands',
      ...(type === 'events_api' ? { retry_attempt: options.retryAttempt ?? 0, retry_reason: options.retryReason ?? '' } : {}),
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(envelopeId);
        reject(new Error(`no ack for envelope ${envelopeId}`));
      }, options.timeoutMs ?? 5000);
      this.acks.set(envelopeId, (ack) => {
        clearTimeout(timer);
        resolve(ack);
      });
      const open = [...this.sockets].filter((s) => s.open);
      if (open.length === 0) {
        clearTimeout(timer);
        reject(new Error('no Socket Mode client connected'));
        return;
      }
      for (const s of open) s.sendText(JSON.stringify(envelope));
    });
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex): void {
    const key = req.headers['sec-websocket-key'];
    if (!req.url?.startsWith('/socket') || typeof key !== 'string') {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    const peer = new WebSocketPeer(socket, (text) => {
      const message = JSON.parse(text) as { envelope_id?: string; payload?: unknown };
      if (message.envelope_id) this.acks.get(message.envelope_id)?.(message.payload ?? {});
      if (message.envelope_id) this.acks.delete(message.envelope_id);
    });
    this.sockets.add(peer);
    socket.on('close', () => this.sockets.delete(peer));
    peer.sendText(JSON.stringify({ type: 'hello', num_connections: this.sockets.size, debug_info: { host: 'standin' }, connection_info: { app_id: 'A0STANDIN' } }));
  }

  // ---- the Web API -----------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://standin').pathname;
    const raw = await readAll(req);
    if (path.startsWith('/respond/')) {
      this.responses.push({ id: path.slice('/respond/'.length), body: JSON.parse(raw.toString('utf8')) as Record<string, unknown>, at: Date.now() });
      return sendJson(res, 200, { ok: true });
    }
    if (path.startsWith('/upload/')) return this.upload(path.slice('/upload/'.length), req, raw, res);
    if (!path.startsWith('/api/')) return sendJson(res, 404, { ok: false, error: 'not_found' });
    const method = path.slice('/api/'.length);
    const contentType = req.headers['content-type'] ?? '';
    const args = parseArgs(contentType, raw);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? (typeof args.token === 'string' ? args.token : undefined);
    this.calls.push({ method, args, ...(token ? { token } : {}), contentType, at: Date.now() });

    const fault = this.faults.get(method)?.shift() ?? this.faults.get('*')?.shift();
    if (fault?.afterEffect) this.call(method, args);
    if (fault) {
      const headers: Record<string, string> = fault.retryAfter !== undefined ? { 'Retry-After': fault.retryAfter } : {};
      return sendJson(res, fault.status ?? 200, { ok: false, error: fault.error ?? (fault.status === 429 ? 'ratelimited' : 'internal_error') }, headers);
    }
    const expected = method === 'apps.connections.open' ? this.appToken : this.botToken;
    if (!token) return sendJson(res, 200, { ok: false, error: 'not_authed' });
    if (token !== expected) return sendJson(res, 200, { ok: false, error: 'invalid_auth' });
    sendJson(res, 200, this.call(method, args));
  }

  private call(method: string, args: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://standin.slack.test/', team: 'Stand-in', user: 'prefline', team_id: this.teamId, user_id: this.botUserId, bot_id: 'B0STANDIN' };
      case 'conversations.list': {
        const limit = Math.min(Number(args.limit ?? 100), 1000);
        const offset = Number(args.cursor ?? 0);
        const page = this.channels.slice(offset, offset + limit);
        const next = offset + limit < this.channels.length ? String(offset + limit) : '';
        return { ok: true, channels: page.map((c) => ({ id: c.id, name: c.name, is_private: c.isPrivate, is_member: c.botIsMember })), response_metadata: { next_cursor: next } };
      }
      case 'conversations.history': {
        const channel = this.channels.find((c) => c.id === args.channel);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (!channel.botIsMember) return { ok: false, error: 'not_in_channel' };
        const oldest = Number(args.oldest ?? 0);
        const withMetadata = args.include_all_metadata === true || args.include_all_metadata === 'true';
        const all = this.messages(channel.id).filter((m) => Number(m.ts) >= oldest).reverse(); // newest first
        const limit = Math.min(Number(args.limit ?? 100), 999);
        const offset = Number(args.cursor ?? 0);
        const page = all.slice(offset, offset + limit);
        const hasMore = offset + limit < all.length;
        return {
          ok: true,
          messages: page.map(({ updates: _updates, metadata, ...m }) => ({ type: 'message', ...structuredClone(m), ...(withMetadata && metadata ? { metadata } : {}) })),
          has_more: hasMore,
          response_metadata: { next_cursor: hasMore ? String(offset + limit) : '' },
        };
      }
      case 'chat.postMessage': {
        const channel = this.resolveChannel(args.channel);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (!channel.botIsMember) return { ok: false, error: 'not_in_channel' };
        if (args.text === undefined && args.blocks === undefined) return { ok: false, error: 'no_text' };
        const invalid = this.checkBlocks(channel.id, args.blocks);
        if (invalid) return invalid;
        const message: StoredMessage = {
          ts: this.nextTs(),
          user: this.botUserId,
          bot_id: 'B0STANDIN',
          ...(typeof args.text === 'string' ? { text: args.text } : {}),
          ...(Array.isArray(args.blocks) ? { blocks: args.blocks as StoredMessage['blocks'] } : {}),
          ...(isMetadata(args.metadata) ? { metadata: args.metadata } : {}),
          ...(typeof args.thread_ts === 'string' ? { thread_ts: args.thread_ts } : {}),
          updates: 0,
        };
        this.history.get(channel.id)!.push(message);
        return { ok: true, channel: channel.id, ts: message.ts, message: { type: 'message', ...structuredClone({ ...message, updates: undefined }) } };
      }
      case 'chat.update': {
        const channel = this.resolveChannel(args.channel);
        const message = channel && this.message(channel.id, String(args.ts));
        if (!channel || !message) return { ok: false, error: 'message_not_found' };
        if (message.user !== this.botUserId) return { ok: false, error: 'cant_update_message' };
        const invalid = this.checkBlocks(channel.id, args.blocks);
        if (invalid) return invalid;
        if (typeof args.text === 'string') message.text = args.text;
        // chat.update with text but no blocks drops the blocks, as Slack does.
        if (Array.isArray(args.blocks)) message.blocks = args.blocks as StoredMessage['blocks'];
        else delete message.blocks;
        if (isMetadata(args.metadata)) message.metadata = args.metadata;
        message.edited = { ts: this.nextTs() };
        message.updates += 1;
        return { ok: true, channel: channel.id, ts: message.ts, text: message.text };
      }
      case 'chat.postEphemeral': {
        const channel = this.resolveChannel(args.channel);
        if (!channel) return { ok: false, error: 'channel_not_found' };
        this.ephemerals.push({ channel: channel.id, user: String(args.user), text: String(args.text ?? '') });
        return { ok: true, message_ts: this.nextTs() };
      }
      case 'chat.getPermalink': {
        const channel = this.resolveChannel(args.channel);
        if (!channel || !this.message(channel.id, String(args.message_ts))) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: channel.id, permalink: `https://standin.slack.test/archives/${channel.id}/p${String(args.message_ts).replace('.', '')}` };
      }
      case 'files.getUploadURLExternal': {
        const length = Number(args.length);
        if (typeof args.filename !== 'string' || !Number.isInteger(length) || length <= 0) return { ok: false, error: 'invalid_arguments' };
        const id = `F${String(++this.fileCounter).padStart(9, '0')}`;
        this.files.set(id, { id, filename: args.filename, length, ...(typeof args.alt_text === 'string' ? { altText: args.alt_text } : {}), completed: false, sharedIn: new Set() });
        return { ok: true, upload_url: `${this.url}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const entries = Array.isArray(args.files) ? (args.files as Array<{ id?: string; title?: string }>) : [];
        const done: Array<Record<string, unknown>> = [];
        for (const entry of entries) {
          const file = entry.id ? this.files.get(entry.id) : undefined;
          if (!file?.bytes) return { ok: false, error: 'file_not_found' };
          file.completed = true;
          if (entry.title) file.title = entry.title;
          done.push({ id: file.id, name: file.filename, title: file.title ?? file.filename, size: file.length });
        }
        if (typeof args.channel_id === 'string') {
          const channel = this.resolveChannel(args.channel_id);
          if (!channel) return { ok: false, error: 'channel_not_found' };
          for (const d of done) this.files.get(String(d.id))!.sharedIn.add(channel.id);
          // Sharing posts a message carrying the files (in the thread when thread_ts is given).
          this.history.get(channel.id)!.push({
            ts: this.nextTs(),
            user: this.botUserId,
            text: typeof args.initial_comment === 'string' ? args.initial_comment : '',
            files: done.map((d) => ({ id: String(d.id) })),
            ...(typeof args.thread_ts === 'string' ? { thread_ts: args.thread_ts } : {}),
            updates: 0,
          });
        }
        return { ok: true, files: done };
      }
      case 'usergroups.users.list': {
        const users = this.usergroups[String(args.usergroup)];
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'apps.connections.open':
        return { ok: true, url: `${this.url.replace(/^http/, 'ws')}/socket?ticket=${randomUUID()}` };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private async upload(id: string, req: http.IncomingMessage, raw: Buffer, res: http.ServerResponse): Promise<void> {
    const file = this.files.get(id);
    if (!file) return sendText(res, 404, 'no such upload');
    let bytes = raw;
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
      const part = form.get('body');
      if (!(part instanceof Blob)) return sendText(res, 400, 'no body part');
      bytes = Buffer.from(await part.arrayBuffer());
    }
    if (bytes.length !== file.length) return sendText(res, 400, `length mismatch: ${bytes.length} != ${file.length}`);
    file.bytes = bytes;
    sendText(res, 200, `OK - ${bytes.length}`);
  }

  private resolveChannel(value: unknown): { id: string; name: string; botIsMember: boolean } | undefined {
    if (typeof value !== 'string') return undefined;
    return this.channels.find((c) => c.id === value || `#${c.name}` === value || c.name === value);
  }

  /** Slack validates blocks; an image block may only show a file shared in this channel. */
  private checkBlocks(channelId: string, blocks: unknown): Record<string, unknown> | undefined {
    if (blocks === undefined) return undefined;
    if (!Array.isArray(blocks) || blocks.length > 50) return { ok: false, error: 'invalid_blocks' };
    for (const [i, block] of (blocks as Array<Record<string, unknown>>).entries()) {
      if (typeof block?.type !== 'string') return { ok: false, error: 'invalid_blocks', errors: [`missing type [json-pointer:/blocks/${i}]`] };
      if (block.type === 'image') {
        const fileId = (block.slack_file as { id?: string } | undefined)?.id;
        const file = fileId ? this.files.get(fileId) : undefined;
        if (!block.image_url && (!file?.completed || !file.sharedIn.has(channelId))) {
          return { ok: false, error: 'invalid_blocks', errors: [`invalid slack file [json-pointer:/blocks/${i}/slack_file]`] };
        }
      }
    }
    return undefined;
  }

  /** Strictly increasing message timestamps (`seconds.micro`). */
  nextTs(): string {
    const micros = Date.now() * 1000 + ++this.tsCounter;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }
}

function isMetadata(value: unknown): value is StoredMessage['metadata'] {
  return typeof value === 'object' && value !== null && typeof (value as { event_type?: unknown }).event_type === 'string';
}

function parseArgs(contentType: string, raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8');
  if (contentType.startsWith('application/json')) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    // WebClient JSON-encodes non-scalar arguments inside the form.
    args[key] = JSON_ARGS.has(key) ? safeJson(value) : value === 'true' ? true : value === 'false' ? false : value;
  }
  return args;
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function readAll(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** The server side of one WebSocket connection: just enough RFC 6455 for Socket Mode. */
class WebSocketPeer {
  open = true;
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];

  constructor(private readonly socket: Duplex, private readonly onText: (text: string) => void) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.drain();
    });
    socket.on('close', () => {
      this.open = false;
    });
    socket.on('error', () => {
      this.open = false;
    });
  }

  sendText(text: string): void {
    this.send(0x1, Buffer.from(text, 'utf8'));
  }

  destroy(): void {
    this.open = false;
    this.socket.destroy();
  }

  private send(opcode: number, payload: Buffer): void {
    if (!this.open) return;
    const length = payload.length;
    const header = length < 126 ? Buffer.from([0x80 | opcode, length]) : length < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    if (length >= 126) {
      header[0] = 0x80 | opcode;
      if (length < 65536) {
        header[1] = 126;
        header.writeUInt16BE(length, 2);
      } else {
        header[1] = 127;
        header.writeBigUInt64BE(BigInt(length), 2);
      }
    }
    this.socket.write(Buffer.concat([header, payload]));
  }

  private drain(): void {
    for (;;) {
      if (this.buffer.length < 2) return;
      const fin = (this.buffer[0]! & 0x80) !== 0;
      const opcode = this.buffer[0]! & 0x0f;
      const masked = (this.buffer[1]! & 0x80) !== 0;
      let length = this.buffer[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskOffset = offset;
      if (masked) offset += 4;
      if (this.buffer.length < offset + length) return;
      const payload = Buffer.from(this.buffer.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= this.buffer[maskOffset + (i % 4)]!;
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 0x9) this.send(0xa, payload); // ping → pong with the same data
      else if (opcode === 0x8) {
        this.send(0x8, payload.subarray(0, 2));
        this.open = false;
        this.socket.end();
        return;
      } else if (opcode === 0x1 || opcode === 0x0) {
        this.fragments.push(payload);
        if (fin) {
          const text = Buffer.concat(this.fragments).toString('utf8');
          this.fragments = [];
          this.onText(text);
        }
      }
    }
  }
}
