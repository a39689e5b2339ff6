/**
 * The inference worker's end of the stream side channel: chunked POSTs to the gateway slot named in
 * the request, one NDJSON line per piece of text (`{"t":"delta","text":…}`; pieces close together
 * share one), each POST opened with the attempt number so the gateway can tell the page to start over
 * when a retry begins. A long reply is sent over several POSTs (one per ROTATE_AFTER_MS), each well
 * inside the gateway's request timeout.
 * Best-effort by design: the workflow gets the finished reply from the activity's result, so a slot
 * that is gone or a gateway that cannot be reached only costs the live view, never the reply.
 */
import http from 'node:http';
import https from 'node:https';
import type { StreamTarget } from '../../workflows/types';
import { STREAM_SIGNATURE_HEADER, streamSignature } from './stream-auth';

export interface ReplyStream {
  delta(text: string): void;
  /** Ends the stream and waits (briefly) for the gateway to take the rest. */
  end(): Promise<void>;
  /** Drops the stream (the attempt failed); the page learns the outcome from the update's result. */
  abort(): void;
}

/** How long `end` waits for the gateway's answer before giving up on it. */
const END_WAIT_MS = 2000;
/** A POST is closed and the next one opened after this long (the gateway cuts requests at 30 s). */
export const ROTATE_AFTER_MS = 20_000;
/**
 * Pieces that come within this long of the last one sent go out together, in one line: a model
 * streaming a token every few ms would otherwise cost the worker, the gateway and the page a write and
 * an event per token, for a difference no reader sees. The first piece and the last (at `end`) go at once.
 */
export const COALESCE_MS = 40;

/** Connections to the gateways are kept and reused: a reply's stream then costs no handshake. */
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 256 }), https: new https.Agent({ keepAlive: true, maxSockets: 256 }) };

interface Post {
  request: http.ClientRequest;
  openedAt: number;
  answered: Promise<void>;
}

export function openReplyStream(target: StreamTarget, key: Buffer, attempt: number, onError: (err: Error) => void = () => undefined): ReplyStream {
  let broken = false;
  const fail = (err: Error) => {
    if (!broken) onError(err);
    broken = true;
  };
  let url: URL;
  try {
    url = new URL(target.streamUrl);
  } catch (err) {
    fail(err as Error);
    return { delta: () => undefined, end: async () => undefined, abort: () => undefined };
  }
  const signature = streamSignature(key, target.streamId);
  const open = (): Post => {
    const secure = url.protocol === 'https:';
    const request = (secure ? https : http).request(url, {
      method: 'POST',
      agent: secure ? agents.https : agents.http,
      headers: { 'Content-Type': 'application/x-ndjson', [STREAM_SIGNATURE_HEADER]: signature },
    });
    const answered = new Promise<void>((resolve) => {
      request.on('response', (res) => {
        res.resume();
        if (res.statusCode !== 204) fail(new Error(`the gateway refused the stream: HTTP ${res.statusCode}`));
        resolve();
      });
      request.on('error', (err) => {
        fail(err);
        resolve();
      });
    });
    request.on('socket', (socket) => socket.setNoDelay(true));
    request.write(`${JSON.stringify({ t: 'attempt', attempt })}\n`);
    return { request, openedAt: Date.now(), answered };
  };
  let post = open();
  const line = (value: unknown) => {
    if (broken) return;
    if (Date.now() - post.openedAt > ROTATE_AFTER_MS) {
      post.request.end();
      post = open();
    }
    post.request.write(`${JSON.stringify(value)}\n`);
  };
  let pending = '';
  let sentAt = -Infinity;
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(flushTimer);
    flushTimer = undefined;
    if (pending === '') return;
    line({ t: 'delta', text: pending });
    pending = '';
    sentAt = Date.now();
  };
  return {
    delta(text) {
      if (broken) return;
      pending += text;
      if (flushTimer !== undefined) return;
      const wait = sentAt + COALESCE_MS - Date.now();
      if (wait <= 0) flush();
      else flushTimer = setTimeout(flush, wait);
    },
    async end() {
      flush();
      line({ t: 'end' });
      if (broken) return;
      post.request.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([post.answered, new Promise<void>((resolve) => (timer = setTimeout(resolve, END_WAIT_MS)))]);
      clearTimeout(timer);
    },
    abort() {
      clearTimeout(flushTimer);
      broken = true;
      post.request.destroy();
    },
  };
}
