/**
 * The gateway's end of the stream side channel. The chat route that takes a message opens a slot
 * (a random stream id) and passes `{streamId, streamUrl}` in the update; the inference activity posts
 * the reply's pieces to `streamUrl` signed with the stream key (stream-auth.ts); the hub hands each
 * piece to the slot's listener, which relays it to the browser. A new attempt (a retried activity)
 * announces itself first, and the listener is told to start over; lines from an older attempt that
 * is still writing are dropped. Slots live only while the page waits: the route closes its slot when
 * the update answers, and a post to a closed or unknown slot is answered 404 without being read.
 *
 * Multi-host: each gateway process has its own hub and its own internal URL (PREFLINE_GATEWAY_INTERNAL_URL);
 * the slot's URL names the process that holds the browser's connection, so no shared state is needed.
 */
import type http from 'node:http';
import { ErrorCode } from '../../core/errors';
import { HttpError, decodeParam, type HttpRoute } from '../../core/http';
import { STREAM_PATH, STREAM_SIGNATURE_HEADER, isStreamId, newStreamId, verifyStreamSignature } from './stream-auth';

export type StreamEvent = { type: 'reset'; attempt: number } | { type: 'delta'; text: string } | { type: 'end' };

export interface StreamSlot {
  readonly streamId: string;
  readonly streamUrl: string;
  close(): void;
}

/** Bytes one slot relays at most (a reply of MAX_MESSAGE_CHARS, JSON-escaped, fits many times). */
const MAX_SLOT_BYTES = 4 * 1024 * 1024;
const MAX_LINE_BYTES = 256 * 1024;

interface Slot {
  listener: (event: StreamEvent) => void;
  attempt: number;
  bytes: number;
  /** Relayed so far in the current attempt: a reconnect of the same attempt is not told to reset. */
  started: boolean;
}

export class ChatStreamHub {
  private readonly slots = new Map<string, Slot>();
  private readonly base: string;

  constructor(private readonly key: Buffer, internalUrl: string, private readonly maxSlots = 10_000) {
    if (key.length === 0) throw new Error('chat stream hub: the stream key is empty');
    this.base = internalUrl.replace(/\/+$/, '');
  }

  /** A slot for one reply; `listener` gets its pieces until `close`. */
  open(listener: (event: StreamEvent) => void): StreamSlot {
    // Bounded: a flood of waiting requests cannot grow the map without limit (the oldest slot goes).
    if (this.slots.size >= this.maxSlots) this.slots.delete(this.slots.keys().next().value as string);
    const streamId = newStreamId();
    this.slots.set(streamId, { listener, attempt: 0, bytes: 0, started: false });
    return { streamId, streamUrl: `${this.base}${STREAM_PATH}${streamId}`, close: () => void this.slots.delete(streamId) };
  }

  get openSlots(): number {
    return this.slots.size;
  }

  /** `POST /internal/chat-streams/<stream id>`: the inference worker's pieces of a reply. */
  routes(): HttpRoute[] {
    const receive = async (req: http.IncomingMessage, res: http.ServerResponse, match: RegExpExecArray): Promise<void> => {
      const streamId = decodeParam(match[1]!);
      // Signature first: nothing of an unsigned body is read.
      if (!isStreamId(streamId) || !verifyStreamSignature(this.key, streamId, req.headers[STREAM_SIGNATURE_HEADER])) {
        throw new HttpError(ErrorCode.StreamSignatureInvalid, 'stream signature invalid', { Connection: 'close' });
      }
      if (!this.slots.has(streamId)) throw new HttpError(ErrorCode.UnknownStream, 'no such stream (the page stopped waiting)', { Connection: 'close' });
      await this.relay(streamId, req);
      res.writeHead(204).end();
    };
    return [{ pattern: new RegExp(`^${STREAM_PATH.replace(/\//g, '\\/')}([^/]+)$`), methods: { POST: receive } }];
  }

  private relay(streamId: string, req: http.IncomingMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      let buffer = '';
      let attempt: number | undefined;
      const handle = (line: string) => {
        const slot = this.slots.get(streamId);
        if (!slot || line.trim() === '') return;
        let message: { t?: unknown; attempt?: unknown; text?: unknown };
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          return;
        }
        if (message.t === 'attempt' && Number.isSafeInteger(message.attempt)) {
          attempt = message.attempt as number;
          if (attempt > slot.attempt) {
            // A retry starts over: what the page shows so far is from an attempt that died.
            if (slot.started) slot.listener({ type: 'reset', attempt });
            slot.attempt = attempt;
            slot.started = false;
          }
          return;
        }
        if (attempt === undefined || attempt < slot.attempt) return; // an older attempt, still writing
        if (message.t === 'delta' && typeof message.text === 'string') {
          slot.bytes += message.text.length;
          if (slot.bytes > MAX_SLOT_BYTES) return;
          slot.started = true;
          slot.listener({ type: 'delta', text: message.text });
        } else if (message.t === 'end') {
          slot.listener({ type: 'end' });
        }
      };
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) !== -1) {
          handle(buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
        }
        if (buffer.length > MAX_LINE_BYTES) buffer = ''; // not a line we would relay
      });
      req.on('end', () => {
        handle(buffer);
        resolve();
      });
      req.on('error', reject);
      req.on('aborted', () => resolve());
    });
  }
}
