/**
 * `prefline chat show` as a real process: a conversation rebuilt from the ledger as of any moment, read
 * through the ledger worker's endpoint (values bound, not spliced) or from the file when no worker runs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { Ledger } from '../../store/Ledger';
import { LedgerReadServer } from '../../store/LedgerReadServer';
import { chatCommit, sampleChatEvents } from '../helpers/chat-events';
import { runCli, spawnCli } from '../helpers/processes';

/** A CLI run that leaves this process's event loop free (the read endpoint under test lives here). */
async function runCliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawnCli(args, env);
  const { code } = await child.exited;
  return { code, output: child.output() };
}

const T0 = Date.parse('2026-04-01T10:00:00.000Z');

describe('cli: prefline chat show', function () {
  this.timeout(60_000);
  let dataDir: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'prefline-chat-cli-'));
    env = { PREFLINE_DATA_DIR: dataDir, PREFLINE_LOG_LEVEL: 'error' };
    const ledger = await Ledger.openWriter(loadConfig(env).ledger.path);
    await ledger.commitChat(chatCommit(sampleChatEvents(T0)));
    ledger.closeSync();
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('should print the whole conversation, and the conversation as it stood at an earlier moment', () => {
    const whole = runCli(['chat', 'show', 'chat-sample'], env);
    assert.equal(whole.code, 0, whole.stderr);
    assert.match(whole.stdout, /conversation chat-sample {2}model demo:text/);
    assert.match(whole.stdout, /ended \(cleared\)/);
    assert.match(whole.stdout, /assistant \(m2, reply 1\) 👎 \[incorrect\]: There are two\./);
    assert.match(whole.stdout, /correction: There are three\./);
    assert.match(whole.stdout, /assistant \(m3, reply 2, active\): Three/);
    assert.match(whole.stdout, /compare: m3 \(left\) vs m2 \(right\): left/);

    // Four seconds in: the first reply, rated, nothing else yet.
    const early = runCli(['chat', 'show', 'chat-sample', '--at', new Date(T0 + 3000).toISOString(), '--format', 'json'], env);
    assert.equal(early.code, 0, early.stderr);
    const rebuilt = JSON.parse(early.stdout) as { events: number; ended?: unknown; turns: Array<{ replies: Array<{ id: string; rating?: { value: string } }> }> };
    assert.equal(rebuilt.events, 4);
    assert.equal(rebuilt.ended, undefined);
    assert.deepEqual(rebuilt.turns.map((t) => t.replies.map((r) => [r.id, r.rating?.value])), [[['m2', 'down']]]);
  });

  it('should read through the running ledger worker\'s endpoint, with the id bound as a value', async () => {
    const config = loadConfig(env);
    const ledger = await Ledger.openWriter(config.ledger.path);
    const server = await LedgerReadServer.start(ledger, { host: '127.0.0.1', port: 0, endpointFile: config.ledger.endpointFile });
    try {
      // The writer holds the file lock: only the endpoint can answer.
      const found = await runCliAsync(['chat', 'show', 'chat-sample'], env);
      assert.equal(found.code, 0, found.output);
      assert.match(found.output, /turn 2/);
      // A quote in the id is a value, not SQL.
      const odd = await runCliAsync(['chat', 'show', "x' OR '1'='1"], env);
      assert.equal(odd.code, 3, 'not found');
      assert.match(odd.output, /no conversation "x' OR '1'='1" in the ledger/);
    } finally {
      await server.close();
      ledger.closeSync();
    }
  });

  it('should refuse bad arguments with a clear message and exit code 2, and answer 3 for a conversation not there', () => {
    const missing = runCli(['chat', 'show'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing arguments: prefline chat show <conversation-id>/);
    const unknown = runCli(['chat', 'show', 'chat-sample', '--as', 'x'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option --as \(did you mean --at\?\)/);
    const badFormat = runCli(['chat', 'show', 'chat-sample', '--format', 'xml'], env);
    assert.equal(badFormat.code, 2);
    assert.match(badFormat.stderr, /--format: unknown value "xml" \(valid: text, json\)/);
    const badTime = runCli(['chat', 'show', 'chat-sample', '--at', 'yesterday'], env);
    assert.equal(badTime.code, 2);
    assert.match(badTime.stderr, /--at takes an ISO-8601 time with a zone/);
    const before = runCli(['chat', 'show', 'chat-sample', '--at', '2020-01-01T00:00:00Z'], env);
    assert.equal(before.code, 3, 'not found as of that moment');
    assert.match(before.stderr, /had not started/);
  });
});
