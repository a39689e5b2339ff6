/**
 * The worker thread of message-reader.ts: reads each message it is sent (mime.ts) and answers with
 * its headers, Message-ID and text, or why it could not.
 */
import { parentPort } from 'node:worker_threads';
import { UnreadableReplyError } from './errors';
import { readMessage } from './mime';
import type { ReadAnswer } from './message-reader';

const port = parentPort;
if (!port) throw new Error('read-worker.ts runs as a worker thread (message-reader.ts)');

port.on('message', ({ id, raw }: { id: number; raw: Uint8Array }) => {
  readMessage(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)).then(
    (message) => {
      const answer: ReadAnswer = { id, ok: true, headers: [...message.headers], ...(message.messageId ? { messageId: message.messageId } : {}), text: message.text };
      port.postMessage(answer);
    },
    (err: unknown) => {
      const answer: ReadAnswer = { id, ok: false, unreadable: err instanceof UnreadableReplyError, error: err instanceof Error ? err.message : String(err) };
      port.postMessage(answer);
    },
  );
});
