/**
 * Reads inbound messages (mime.ts) in worker threads, so a crafted reply never holds up the gateway's
 * event loop: web requests, Slack acknowledgements and the IMAP poller's commands go on while it is
 * parsed. Each worker reads one message at a time; the rest wait in order.
 *
 * A read that takes longer than `timeoutMs`, or exhausts the worker's heap (`maxHeapMb`), ends that
 * worker (a fresh one takes the next message) and fails as an UnreadableReplyError: the same bytes
 * would do it again. Idle workers do not keep the process alive.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { UnreadableReplyError } from './errors';
import type { InboundMessage } from './mime';

export interface MessageReader {
  read(raw: Buffer): Promise<InboundMessage>;
  /** Ends the workers; reads still waiting fail. */
  close(): Promise<void>;
}

export interface MessageReaderOptions {
  /** Workers reading at once. Default 1. */
  threads?: number;
  /** Longest one read may take. Default 10 s (a reply within the bounds takes milliseconds). */
  timeoutMs?: number;
  /** Heap of each worker. Default 256 MB. */
  maxHeapMb?: number;
}

/** What a worker answers (read-worker.ts). */
export type ReadAnswer =
  | { id: number; ok: true; headers: Array<[string, string[]]>; messageId?: string; text: string }
  | { id: number; ok: false; unreadable: boolean; error: string };

interface Job {
  id: number;
  raw: Uint8Array;
  resolve(message: InboundMessage): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  timer?: NodeJS.Timeout;
}

const WORKER_FILE = join(__dirname, 'read-worker.js');

export function createMessageReader(options: MessageReaderOptions = {}): MessageReader {
  const threads = Math.max(1, options.threads ?? 1);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const slots: Slot[] = [];
  const queue: Job[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_FILE, { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 256 } }) };
    slot.worker.unref();
    slot.worker.on('message', (answer: ReadAnswer) => {
      const job = slot.job;
      if (!job || job.id !== answer.id) return;
      finish(slot);
      if (answer.ok) job.resolve({ headers: new Map(answer.headers), ...(answer.messageId ? { messageId: answer.messageId } : {}), text: answer.text });
      else job.reject(answer.unreadable ? new UnreadableReplyError(answer.error) : new Error(`email reader: ${answer.error}`));
      dispatch();
    });
    slot.worker.on('error', (err: Error) => fail(slot, new UnreadableReplyError(`the message could not be read: ${err.message}`, { cause: err })));
    slot.worker.on('exit', (code) => fail(slot, new UnreadableReplyError(`the reader stopped while reading the message (exit ${code})`)));
    slots.push(slot);
    return slot;
  }

  function finish(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.timer = undefined;
    slot.worker.unref(); // idle: the process may exit
  }

  /** The worker is gone or has to go: its job fails, a fresh worker takes the next one. */
  function fail(slot: Slot, err: Error): void {
    const index = slots.indexOf(slot);
    if (index === -1) return;
    slots.splice(index, 1);
    const job = slot.job;
    finish(slot);
    void slot.worker.terminate();
    job?.reject(err);
    dispatch();
  }

  function dispatch(): void {
    while (!closed && queue.length > 0) {
      const slot = slots.find((s) => !s.job) ?? (slots.length < threads ? spawn() : undefined);
      if (!slot) return;
      const job = queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // busy: keep the process alive until the answer
      slot.timer = setTimeout(() => fail(slot, new UnreadableReplyError(`reading the message took longer than ${timeoutMs} ms`)), timeoutMs);
      slot.worker.postMessage({ id: job.id, raw: job.raw }, [job.raw.buffer as ArrayBuffer]); // our own copy: moved, not copied again
    }
  }

  return {
    read(raw) {
      if (closed) return Promise.reject(new Error('email reader: closed'));
      return new Promise<InboundMessage>((resolve, reject) => {
        // A copy: the worker gets the bytes, the caller keeps its buffer (for the message key).
        queue.push({ id: nextId++, raw: new Uint8Array(raw), resolve, reject });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new Error('email reader: closed'));
      await Promise.all(slots.splice(0).map(async (slot) => {
        const job = slot.job;
        finish(slot);
        job?.reject(new Error('email reader: closed'));
        await slot.worker.terminate();
      }));
    },
  };
}

let shared: MessageReader | undefined;

/** One process-wide reader for callers that were given none (its idle workers never hold the process). */
export function sharedMessageReader(): MessageReader {
  shared ??= createMessageReader();
  return shared;
}
