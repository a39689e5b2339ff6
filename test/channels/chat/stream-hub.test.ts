/**
 * The gateway's stream hub against real HTTP posts: pieces relayed in order, a retried attempt resets
 * the page while a reconnect of the same attempt does not, lines of an older attempt dropped, a slot
 * closes cleanly, and slots are bounded.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChatStreamHub, type StreamEvent } from '../../../channels/chat/stream-hub';
import { STREAM_SIGNATURE_HEADER, streamSignature, verifyStreamSignature } from '../../../channels/chat/stream-auth';
import { COALESCE_MS, openReplyStream } from '../../../channels/chat/stream-writer';

const KEY = Buffer.from('stream-key-for-hub-tests-0123456');

describe('channels/chat: stream hub and writer', () => {
  let server: http.Server;
  let hub: ChatStreamHub;
  beforeEach(async () => {
    const holder: { hub?: ChatStreamHub } = {};
    server = http.createServer((req, res) => {
      const [route] = holder.hub!.routes();
      const match = route!.pattern.exec(new URL(req.url ?? '/', 'http://x').pathname);
      if (!match) return void res.writeHead(404).end();
      route!.methods.POST!(req, res, match).catch((err: { status?: number }) => res.writeHead(err.status ?? 500).end());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hub = new ChatStreamHub(KEY, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    holder.hub = hub;
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('should sign with the key and the slot, and verify nothing else', () => {
    const sig = streamSignature(KEY, 'slot-aaaaaaaaaaaaaaaa');
    assert.equal(verifyStreamSignature(KEY, 'slot-aaaaaaaaaaaaaaaa', sig), true);
    assert.equal(verifyStreamSignature(KEY, 'slot-bbbbbbbbbbbbbbbb', sig), false);
    assert.equal(verifyStreamSignature(Buffer.from('another-key-0123456789abcdef'), 'slot-aaaaaaaaaaaaaaaa', sig), false);
    assert.equal(verifyStreamSignature(KEY, 'slot-aaaaaaaaaaaaaaaa', undefined), false);
  });

  it('should relay a writer\'s pieces in order, and reset the page only when a later attempt begins', async () => {
    const events: StreamEvent[] = [];
    const slot = hub.open((e) => events.push(e));
    assert.match(slot.streamUrl, /^http:\/\/127\.0\.0\.1:\d+\/internal\/chat-streams\/[A-Za-z0-9_-]{24}$/);
    const first = openReplyStream(slot, KEY, 1);
    first.delta('Hel');
    first.delta('lo');
    await first.end();
    // The same attempt reconnecting (a long reply's next post) continues; a later attempt starts over.
    const again = openReplyStream(slot, KEY, 1);
    again.delta(' there');
    await again.end();
    const retry = openReplyStream(slot, KEY, 2);
    retry.delta('Hi');
    await retry.end();
    assert.deepEqual(events, [
      { type: 'delta', text: 'Hel' }, { type: 'delta', text: 'lo' }, { type: 'end' },
      { type: 'delta', text: ' there' }, { type: 'end' },
      { type: 'reset', attempt: 2 }, { type: 'delta', text: 'Hi' }, { type: 'end' },
    ]);
    // An older attempt still writing (a worker that had not died after all) is not shown.
    const zombie = openReplyStream(slot, KEY, 1);
    zombie.delta('stale');
    await zombie.end();
    assert.equal(events.filter((e) => e.type === 'delta' && e.text === 'stale').length, 0);
    slot.close();
    assert.equal(hub.openSlots, 0);
  });

  it('should send the first piece at once and join the pieces that follow within COALESCE_MS into one', async () => {
    const events: StreamEvent[] = [];
    const slot = hub.open((e) => events.push(e));
    const stream = openReplyStream(slot, KEY, 1);
    stream.delta('One');
    for (const piece of [' two', ' three']) stream.delta(piece);
    for (const deadline = Date.now() + 5000; events.length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, COALESCE_MS));
    assert.deepEqual(events, [{ type: 'delta', text: 'One' }, { type: 'delta', text: ' two three' }], 'the joined pieces go when the window closes, without waiting for more');
    stream.delta(' four');
    stream.delta(' five');
    await stream.end();
    assert.deepEqual(events.slice(2), [{ type: 'delta', text: ' four' }, { type: 'delta', text: ' five' }, { type: 'end' }], 'a piece after a pause goes at once, and the end sends what is left');
    slot.close();
  });

  it('should tell the writer a closed slot is gone, and the writer should carry on quietly', async () => {
    const slot = hub.open(() => undefined);
    slot.close();
    const errors: Error[] = [];
    const stream = openReplyStream(slot, KEY, 1, (err) => errors.push(err));
    stream.delta('nobody listens');
    await stream.end();
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /HTTP 404/);
  });

  it('should refuse an unsigned post before reading it', async () => {
    const slot = hub.open(() => assert.fail('nothing may be relayed'));
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(slot.streamUrl, { method: 'POST', headers: { [STREAM_SIGNATURE_HEADER]: 'x'.repeat(43) } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(`${JSON.stringify({ t: 'attempt', attempt: 1 })}\n${JSON.stringify({ t: 'delta', text: 'forged' })}\n`);
    });
    assert.equal(status, 401);
  });

  it('should keep at most its bound of slots, dropping the oldest', () => {
    const small = new ChatStreamHub(KEY, 'http://gw', 2);
    const a = small.open(() => undefined);
    small.open(() => undefined);
    small.open(() => undefined);
    assert.equal(small.openSlots, 2);
    a.close();
    assert.equal(small.openSlots, 2, 'the oldest was already gone');
  });
});
