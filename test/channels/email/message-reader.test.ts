import assert from 'node:assert/strict';
import { UnreadableReplyError } from '../../../channels/email/errors';
import { createMessageReader } from '../../../channels/email/message-reader';
import { readMessage } from '../../../channels/email/mime';

const reply = (n: number) => Buffer.from(`From: a@x.test\r\nMessage-ID: <m${n}@x.test>\r\nContent-Type: text/html\r\n\r\n<div>+1 A</div><blockquote>${n}</blockquote>`);

describe('channels/email/message-reader (worker threads)', function () {
  this.timeout(30_000);

  it('should read in a worker exactly what readMessage reads in process', async () => {
    const reader = createMessageReader();
    try {
      assert.deepEqual(await reader.read(reply(1)), await readMessage(reply(1)));
    } finally {
      await reader.close();
    }
  });

  it('should answer each read with its own message, several threads at once', async () => {
    const reader = createMessageReader({ threads: 2 });
    try {
      const read = await Promise.all(Array.from({ length: 20 }, (_, n) => reader.read(reply(n))));
      assert.deepEqual(read.map((m) => m.messageId), Array.from({ length: 20 }, (_, n) => `<m${n}@x.test>`));
    } finally {
      await reader.close();
    }
  });

  it('should refuse what the reader refuses as UnreadableReplyError, and go on reading', async () => {
    const reader = createMessageReader();
    try {
      const tooManyParts = Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${'--b\r\n\r\nx\r\n'.repeat(2000)}--b--`);
      await assert.rejects(reader.read(tooManyParts), (err: unknown) => err instanceof UnreadableReplyError && /delimiter lines/.test(err.message));
      assert.equal((await reader.read(reply(2))).messageId, '<m2@x.test>');
    } finally {
      await reader.close();
    }
  });

  it('should end a read that takes longer than its limit as unreadable', async () => {
    const reader = createMessageReader({ timeoutMs: 1 });
    try {
      await assert.rejects(reader.read(Buffer.from(`Content-Type: text/html\r\n\r\n${'<head'.repeat(400_000)}`)), (err: unknown) => err instanceof UnreadableReplyError && /longer than 1 ms/.test(err.message));
    } finally {
      await reader.close();
    }
  });

  it('should fail reads still waiting when closed, and every read after', async () => {
    const reader = createMessageReader();
    const waiting = assert.rejects(reader.read(Buffer.from(`Content-Type: text/html\r\n\r\n${'<head'.repeat(400_000)}`)), /closed/);
    await reader.close();
    await waiting;
    await assert.rejects(reader.read(reply(3)), /closed/);
  });
});
