/**
 * The ledger's chat tables: events committed exactly once however often a batch is retried (whole or
 * in part), in sequence order, commit times that never go backwards across chat and lifecycle commits,
 * the views, an older ledger gaining the tables, the rebuild as of a moment, and reply records.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rebuildConversation, CHAT_REBUILD_COLUMNS, formatConversation, type ChatEventRow } from '../../store/chat-rebuild';
import { LEDGER_SCHEMA_VERSION, Ledger } from '../../store/Ledger';
import { ReplyRecords } from '../../store/reply-records';
import { chatCommit, provenance, sampleChatEvents } from '../helpers/chat-events';

describe('ledger: chat events', () => {
  let dir: string;
  let ledger: Ledger;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-chat-ledger-'));
    ledger = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
  });
  afterEach(() => {
    ledger.closeSync();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const seqs = async () => (await ledger.query(`SELECT seq FROM chat_events WHERE conversation_run_id = 'run-chat-1'`)).rows.map((r) => r.seq);

  it('commits each event once, whether a batch is retried whole or overlapping', async () => {
    const events = sampleChatEvents();
    const first = await ledger.commitChat(chatCommit(events.slice(0, 5)));
    assert.deepEqual(first, { eventsInserted: 5, eventsForConversation: 5 });
    assert.deepEqual(await ledger.commitChat(chatCommit(events.slice(0, 5))), { eventsInserted: 0, eventsForConversation: 5 });
    assert.deepEqual(await ledger.commitChat(chatCommit(events.slice(3))), { eventsInserted: events.length - 5, eventsForConversation: events.length });
    assert.deepEqual(await seqs(), events.map((e) => e.seq), 'ledger order is sequence order');
  });

  it('stores what each kind of event carries', async () => {
    await ledger.commitChat(chatCommit(sampleChatEvents()));
    const { rows } = await ledger.query(
      `SELECT kind, turn, message_id, role, content, reply_id, rating, reason, choice, winner_reply, context_ids, provenance->>'seed' AS seed, owner, owner_auth
         FROM chat_events ORDER BY seq`,
    );
    assert.deepEqual(rows.map((r) => r.kind), ['start', 'user_message', 'reply', 'rating', 'feedback', 'correction', 'regenerate', 'reply', 'compare', 'user_message', 'reply', 'rating', 'end']);
    assert.deepEqual(rows[3], { kind: 'rating', turn: 1, message_id: null, role: null, content: null, reply_id: 'm2', rating: 'down', reason: 'incorrect', choice: null, winner_reply: null, context_ids: null, seed: null, owner: rows[0]!.owner, owner_auth: 'invite' });
    assert.deepEqual(rows[10]?.context_ids, ['m1', 'm3', 'm4']);
    assert.equal(rows[7]?.seed, '2');
    assert.deepEqual([rows[8]?.choice, rows[8]?.winner_reply], ['left', 'm3']);
  });

  it('offers conversations and messages as views', async () => {
    await ledger.commitChat(chatCommit(sampleChatEvents()));
    const { rows: conversations } = await ledger.query(`SELECT conversation_id, model, turns, messages, ratings, end_reason, params->>'temperature' AS t FROM chat_conversations`);
    assert.deepEqual(conversations, [{ conversation_id: 'chat-sample', model: 'demo:text', turns: 2, messages: 5, ratings: 2, end_reason: 'cleared', t: '0.5' }]);
    const { rows: messages } = await ledger.query(`SELECT message_id, role, content FROM chat_messages ORDER BY seq`);
    assert.deepEqual(messages.map((m) => [m.message_id, m.role]), [['m1', 'user'], ['m2', 'assistant'], ['m3', 'assistant'], ['m4', 'user'], ['m5', 'assistant']]);
  });

  it('keeps commit times in ledger order across chat and lifecycle commits, even when the clock goes back', async () => {
    const events = sampleChatEvents();
    await ledger.commitChat(chatCommit(events.slice(0, 2)), new Date('2026-04-01T12:00:00Z'));
    await ledger.commitChat(chatCommit(events.slice(2, 4)), new Date('2026-04-01T11:00:00Z'));
    const { rows } = await ledger.query(`SELECT DISTINCT committed_at::VARCHAR AS t FROM chat_events ORDER BY t`);
    assert.equal(rows.length, 1, 'the later commit was clamped to the earlier time');
    ledger.closeSync();
    ledger = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
    await ledger.commitChat(chatCommit(events.slice(4, 6)), new Date('2026-04-01T10:00:00Z'));
    const { rows: after } = await ledger.query(`SELECT min(committed_at) = max(committed_at) AS same FROM chat_events`);
    assert.equal(after[0]?.same, true, 'a reopened ledger remembers its latest chat commit');
  });

  it('gives an older ledger the chat tables when the writer opens it', async () => {
    await ledger.commitChat(chatCommit(sampleChatEvents().slice(0, 1)));
    ledger.closeSync();
    // As a schema-3 ledger was: no chat tables.
    const old = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
    await old.withConnection(async (c) => {
      await c.run('DROP VIEW chat_conversations');
      await c.run('DROP VIEW chat_messages');
      await c.run('DROP TABLE chat_events');
      await c.run(`UPDATE ledger_meta SET value = '3' WHERE key = 'schema_version'`);
    });
    old.closeSync();
    ledger = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
    const { rows } = await ledger.query(`SELECT value FROM ledger_meta WHERE key = 'schema_version'`);
    assert.equal(rows[0]?.value, String(LEDGER_SCHEMA_VERSION));
    assert.deepEqual(await ledger.commitChat(chatCommit(sampleChatEvents())), { eventsInserted: 13, eventsForConversation: 13 });
  });

  it('rebuilds a conversation as of any moment from its events', async () => {
    const events = sampleChatEvents();
    await ledger.commitChat(chatCommit(events));
    const { rows } = await ledger.query(`SELECT ${CHAT_REBUILD_COLUMNS.join(', ')} FROM chat_events WHERE conversation_id = $1`, ['chat-sample']);
    const whole = rebuildConversation(rows as unknown as ChatEventRow[])!;
    assert.deepEqual(whole.ended?.reason, 'cleared');
    const [t1, t2] = whole.turns;
    assert.deepEqual(t1?.replies.map((r) => [r.id, r.active, r.rating?.value, r.correction]), [['m2', false, 'down', 'There are three.'], ['m3', true, undefined, undefined]]);
    assert.deepEqual(t1?.replies[0]?.feedback, ["there are three r's in strawberry"]);
    assert.equal(t1?.judgement?.winner, 'm3');
    assert.equal(t2?.replies[0]?.rating?.value, 'up');

    // Right after the first reply was rated: one reply, 👎, no feedback yet, still open.
    const early = rebuildConversation(rows as unknown as ChatEventRow[], events[3]!.at)!;
    assert.equal(early.events, 4);
    assert.equal(early.ended, undefined);
    assert.deepEqual(early.turns.map((t) => t.replies.map((r) => [r.id, r.rating?.value, r.feedback.length])), [[['m2', 'down', 0]]]);
    assert.equal(rebuildConversation(rows as unknown as ChatEventRow[], '2000-01-01T00:00:00Z'), undefined);
    const text = formatConversation(early);
    assert.match(text, /user \(m1\): how many r in strawberry\?/);
    assert.match(text, /assistant \(m2, reply 1, active\) 👎 \[incorrect\]: There are two\./);
  });
});

describe('reply records', () => {
  it('keeps the first record of a reply and finds it again by its attempt-independent key', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-replies-'));
    try {
      const records = await ReplyRecords.open(dir);
      assert.equal(await records.get('run-1', 'm2'), undefined);
      const first = { conversationRunId: 'run-1', replyId: 'm2', text: 'There are three.', provenance: provenance(), storedAt: '2026-04-01T10:00:00.000Z' };
      assert.deepEqual(await records.put(first), first);
      assert.deepEqual(await records.put({ ...first, text: 'There are two.' }), first, 'the first record stands');
      assert.deepEqual(await (await ReplyRecords.open(dir)).get('run-1', 'm2'), first);
      assert.equal(await records.get('run-2', 'm2'), undefined);
      assert.notEqual(ReplyRecords.keyOf('run-1', 'm2'), ReplyRecords.keyOf('run-1m', '2'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
