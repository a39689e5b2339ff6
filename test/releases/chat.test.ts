/**
 * The chat files of a release, from a conversation committed through Ledger.commitChat: conversations,
 * messages in conversational form, TRL conversational preference pairs from a correction and an A/B
 * judgement, KTO rows from thumbs; standing rules (retractions, ties), the cutoff rule over commit
 * batches, byte-identical files for one cutoff, and what the card says about free text.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifest } from '../../releases/layout';
import { publishRelease } from '../../releases/publisher';
import { Ledger } from '../../store/Ledger';
import type { ChatEvent } from '../../workflows/types';
import { chatCommit, OWNER, sampleChatEvents } from '../helpers/chat-events';
import { readParquetIndependently } from './fixtures';

const T0 = Date.parse('2026-04-01T10:00:00.000Z');
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('release: chat files', () => {
  let dir: string;
  let ledger: Ledger;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-chat-release-'));
    ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
  });
  afterEach(() => {
    ledger.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  const publish = (cutoff: string, releaseId?: string) =>
    publishRelease({ ledger, releasesDir: join(dir, 'releases'), cutoff, now: () => new Date(T0 + 3_600_000), ...(releaseId ? { releaseId } : {}) });
  const read = (releaseDir: string, table: string) => readParquetIndependently(join(releaseDir, `${table}.parquet`));
  const at = (s: number) => new Date(T0 + s * 1000);

  it('should write conversations, messages, preference pairs and KTO rows in the formats TRL expects', async () => {
    await ledger.commitChat(chatCommit(sampleChatEvents(T0)), at(20));
    const result = await publish(at(30).toISOString());
    assert.deepEqual([result.rows.conversations, result.rows.messages, result.rows.chat_preferences, result.rows.chat_kto], [1, 5, 2, 2]);

    const [conversation] = await read(result.dir, 'conversations');
    assert.deepEqual(
      ['conversation_id', 'owner', 'owner_auth', 'owner_verified', 'model', 'end_reason', 'turns', 'messages', 'replies', 'ratings', 'feedback', 'corrections', 'comparisons'].map((k) => conversation?.[k]),
      ['chat-sample', OWNER, 'invite', true, 'demo:text', 'cleared', 2, 5, 3, 2, 1, 1, 1],
    );

    const messages = await read(result.dir, 'messages');
    assert.deepEqual(messages.map((m) => [m.message_id, m.role, m.content, m.rating, m.reason]), [
      ['m1', 'user', 'how many r in strawberry?', null, null],
      ['m2', 'assistant', 'There are two.', 'down', 'incorrect'],
      ['m3', 'assistant', 'Three: s-t-r-a-w-b-e-r-r-y.', null, null],
      ['m4', 'user', 'and in raspberry?', null, null],
      ['m5', 'assistant', 'Three as well.', 'up', null],
    ]);
    assert.deepEqual(messages[1]?.feedback, ["there are three r's in strawberry"]);
    assert.equal(messages[1]?.correction, 'There are three.');
    assert.deepEqual(messages[4]?.context_ids, ['m1', 'm3', 'm4']);

    const pairs = await read(result.dir, 'chat_preferences');
    const question = [{ role: 'user', content: 'how many r in strawberry?' }];
    assert.deepEqual(pairs.map((p) => [p.source, p.prompt, p.chosen, p.rejected, p.chosen_message_id, p.rejected_message_id, p.chosen_model, p.rater, p.rater_verified]), [
      ['correction', question, [{ role: 'assistant', content: 'There are three.' }], [{ role: 'assistant', content: 'There are two.' }], null, 'm2', 'human', OWNER, true],
      ['compare', question, [{ role: 'assistant', content: 'Three: s-t-r-a-w-b-e-r-r-y.' }], [{ role: 'assistant', content: 'There are two.' }], 'm3', 'm2', 'demo:text', OWNER, true],
    ]);

    const kto = await read(result.dir, 'chat_kto');
    assert.deepEqual(kto.map((k) => [k.message_id, k.label, k.reason, k.source]), [['m2', false, 'incorrect', 'chat'], ['m5', true, null, 'chat']]);
    // The conversation so far, as the model saw it: through the reply the user preferred.
    assert.deepEqual(kto[1]?.prompt, [
      { role: 'user', content: 'how many r in strawberry?' },
      { role: 'assistant', content: 'Three: s-t-r-a-w-b-e-r-r-y.' },
      { role: 'user', content: 'and in raspberry?' },
    ]);
    assert.deepEqual(kto[1]?.completion, [{ role: 'assistant', content: 'Three as well.' }]);

    const manifest = await readManifest(result.dir);
    assert.deepEqual(manifest?.chat, { conversations: 1, correctionPairs: 1, comparePairs: 1, tiedJudgements: 0, ktoRows: 2 });
    const card = readFileSync(join(result.dir, 'README.md'), 'utf8');
    assert.match(card, /## Free text/);
    for (const file of ['messages.parquet', 'chat_preferences.parquet', 'chat_kto.parquet', 'votes.parquet']) assert.match(card, new RegExp(`## Free text\\n\\n[^\\n]*${file.replace('.', '\\.')}`));
    assert.match(card, /config_name: chat_preferences/);
  });

  it('should count only what stands: a withdrawn thumb and a withdrawn or tied judgement make no row', async () => {
    const events = sampleChatEvents(T0);
    const more: Array<Omit<ChatEvent, 'seq'>> = [
      { kind: 'rating', at: at(13).toISOString(), idempotencyKey: 'chat:r1', turn: 2, replyId: 'm5', value: 'retract' },
      { kind: 'compare', at: at(14).toISOString(), idempotencyKey: 'chat:r2', turn: 1, left: 'm2', right: 'm3', choice: 'retract' },
      { kind: 'compare', at: at(15).toISOString(), idempotencyKey: 'chat:r3', turn: 1, left: 'm2', right: 'm3', choice: 'tie' },
      { kind: 'correction', at: at(16).toISOString(), idempotencyKey: 'chat:r4', turn: 1, replyId: 'm2', content: 'Three r.' },
    ];
    // The end moved last: these arrived before Clear.
    const end = events.pop()!;
    const all = [...events, ...more.map((e, i) => ({ ...e, seq: events.length + i + 1 })), { ...end, seq: events.length + more.length + 1 }];
    await ledger.commitChat(chatCommit(all), at(20));
    const result = await publish(at(30).toISOString());
    const pairs = await read(result.dir, 'chat_preferences');
    assert.deepEqual(pairs.map((p) => [p.source, (p.chosen as Array<{ content: string }>)[0]?.content]), [['correction', 'Three r.']], 'the latest correction stands; the tie makes no pair');
    assert.deepEqual((await read(result.dir, 'chat_kto')).map((k) => k.message_id), ['m2']);
    assert.deepEqual((await readManifest(result.dir))?.chat, { conversations: 1, correctionPairs: 1, comparePairs: 0, tiedJudgements: 1, ktoRows: 1 });
  });

  it('should hold the events committed by the cutoff, and give the same bytes for the same cutoff', async () => {
    const events = sampleChatEvents(T0);
    await ledger.commitChat(chatCommit(events.slice(0, 5)), at(20));
    await ledger.commitChat(chatCommit(events.slice(5)), at(40));
    const early = await publish(at(30).toISOString());
    assert.deepEqual([early.rows.conversations, early.rows.messages, early.rows.chat_preferences, early.rows.chat_kto], [1, 2, 0, 1]);
    const [open] = await read(early.dir, 'conversations');
    assert.equal(open?.end_reason, null, 'still open at that cutoff');
    const late = await publish(at(50).toISOString());
    assert.deepEqual([late.rows.messages, late.rows.chat_preferences, late.rows.chat_kto], [5, 2, 2]);
    const again = await publish(at(30).toISOString(), 'early-again');
    for (const table of ['conversations', 'messages', 'chat_preferences', 'chat_kto']) {
      assert.equal(sha(join(again.dir, `${table}.parquet`)), sha(join(early.dir, `${table}.parquet`)), table);
    }
  });
});
