/**
 * A worker process SIGKILLed while it streams a chat reply: the next worker's attempt writes the
 * reply, the update that was waiting answers once with it, the conversation goes on, and the ledger
 * holds one reply for the turn.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryLedger } from '../../cli/query';
import { loadConfig } from '../../config';
import { endUpdate, sendMessageUpdate, transcriptQuery } from '../../workflows/messages';
import type { ChatReplyReceipt, ConversationSummary } from '../../workflows/types';
import { base, startConversation } from '../helpers/chat';
import { spawnCli, waitUntil, type CliProcess } from '../helpers/processes';
import { sharedTemporal, uniqueQueue } from '../helpers/temporal';
import { startOpenAIStandIn, type OpenAIStandIn } from '../standins/openai-server';

describe('chat: a worker killed mid-reply', function () {
  this.timeout(240_000);
  const processes: CliProcess[] = [];
  let dataDir: string;
  let openai: OpenAIStandIn;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'prefline-chat-crash-'));
    openai = await startOpenAIStandIn();
  });

  after(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    await openai.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('should produce the reply once, from the next worker, and let the conversation go on', async () => {
    const { address, client } = await sharedTemporal();
    const taskQueue = uniqueQueue('chat-crash');
    const env = {
      PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_DATA_DIR: dataDir, PREFLINE_TASK_QUEUE: taskQueue,
      PREFLINE_OPENAI_BASE_URL: openai.baseUrl,
    };
    const startWorker = async () => {
      const worker = spawnCli(['worker'], env);
      processes.push(worker);
      await worker.waitFor(/worker polling/, 90_000);
      return worker;
    };
    // Forty words at 100 ms each: four seconds of streaming to kill the worker in.
    openai.setModel('llama3:8b', { tokenMs: 100, reply: () => `attempt ${openai.requestsTo('/v1/chat/completions').length}: ${'slowly '.repeat(39).trim()}` });
    const first = await startWorker();
    const handle = await startConversation(taskQueue, { model: 'openai:llama3:8b', thresholds: { commitAfterMs: 0 } });
    const pending = handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'take your time' }] });
    await waitUntil(() => openai.streaming > 0 || undefined, 60_000, 'the reply to start streaming');
    await new Promise((r) => setTimeout(r, 800));
    const killed = await first.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(openai.requestsTo('/v1/chat/completions').length, 1);

    // The next worker's attempt (after the heartbeat timeout) starts the reply over and finishes it.
    openai.setModel('llama3:8b', { tokenMs: 5, reply: (body) => `attempt ${openai.requestsTo('/v1/chat/completions').length}: seed ${String(body['seed'])} done` });
    await startWorker();
    const receipt: ChatReplyReceipt = await pending;
    assert.equal(receipt.outcome, 'recorded');
    assert.match(String(receipt.reply.text), /^attempt 2: seed \d+ done$/);
    assert.equal(openai.requestsTo('/v1/chat/completions').length, 2, 'the dead attempt\'s reply was never recorded; the model was asked once more');

    const transcript = await handle.query(transcriptQuery);
    assert.deepEqual(transcript.turns[0]?.replyIds, [receipt.reply.id], 'one reply for the turn');
    const next = await handle.executeUpdate(sendMessageUpdate, { args: [{ ...base(), text: 'and again' }] });
    assert.equal(next.turn, 2);
    await handle.executeUpdate(endUpdate, { args: [{ ...base() }] });
    const summary = (await handle.result()) as ConversationSummary;
    assert.equal(summary.endReason, 'cleared');

    const config = loadConfig({ PREFLINE_DATA_DIR: dataDir });
    const { rows } = await queryLedger(config, `SELECT kind, turn, content FROM chat_events WHERE conversation_id = $1 ORDER BY seq`, [handle.workflowId]);
    assert.deepEqual(rows.map((r) => r.kind), ['start', 'user_message', 'reply', 'user_message', 'reply', 'end']);
    assert.equal(rows[2]?.content, receipt.reply.text);
    assert.equal(rows.length, summary.events);
    await client.workflow.getHandle(handle.workflowId).describe();
  });
});
