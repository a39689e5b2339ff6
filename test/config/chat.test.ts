/** The chat settings: defaults, every variable parsed, refusals naming the variable, and the stream key. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, loadSecret } from '../../config';
import { configError } from '../helpers/config-error';

const CWD = '/srv/prefline';

describe('config: chat', () => {
  it('should default to the demo model, the default tags and limits, and the gateway\'s own address', () => {
    assert.deepEqual(loadConfig({}, CWD).chat, {
      internalUrl: 'http://127.0.0.1:8080', models: ['demo:text'], reasonTags: ['incorrect', 'unhelpful', 'unsafe', 'too long', 'off topic'],
      idleTimeout: '30m', commitAfterMs: 30_000, messagesPerMinute: 20, maxMessageChars: 8000, contextMessages: 40, demoTokenMs: 15,
    });
    assert.equal(loadConfig({ PREFLINE_GATEWAY_HOST: '0.0.0.0', PREFLINE_GATEWAY_PORT: '9000' }, CWD).chat.internalUrl, 'http://127.0.0.1:9000');
  });

  it('should parse every variable', () => {
    const c = loadConfig({
      PREFLINE_GATEWAY_INTERNAL_URL: 'http://gateway-2.internal:8080/',
      PREFLINE_CHAT_MODELS: 'openai:llama3:8b, demo:text',
      PREFLINE_CHAT_REASON_TAGS: 'wrong,rude,too_long',
      PREFLINE_CHAT_IDLE_TIMEOUT: '2h',
      PREFLINE_CHAT_LEDGER_LAG: '1500ms',
      PREFLINE_CHAT_MESSAGES_PER_MINUTE: '0',
      PREFLINE_CHAT_MAX_MESSAGE_CHARS: '2000',
      PREFLINE_CHAT_CONTEXT_MESSAGES: '10',
      PREFLINE_CHAT_DEMO_TOKEN_MS: '0',
    }, CWD);
    assert.deepEqual(c.chat, {
      internalUrl: 'http://gateway-2.internal:8080', models: ['openai:llama3:8b', 'demo:text'], reasonTags: ['wrong', 'rude', 'too_long'],
      idleTimeout: '2h', commitAfterMs: 1500, messagesPerMinute: 0, maxMessageChars: 2000, contextMessages: 10, demoTokenMs: 0,
    });
  });

  it('should refuse settings that cannot work, naming the variable', () => {
    configError(() => loadConfig({ PREFLINE_CHAT_MODELS: 'demo:shapes' }, CWD), 'PREFLINE_CHAT_MODELS');
    configError(() => loadConfig({ PREFLINE_CHAT_MODELS: 'replicate:owner/model' }, CWD), 'PREFLINE_CHAT_MODELS');
    configError(() => loadConfig({ PREFLINE_CHAT_REASON_TAGS: 'ok,ok' }, CWD), 'PREFLINE_CHAT_REASON_TAGS');
    configError(() => loadConfig({ PREFLINE_CHAT_REASON_TAGS: '<script>' }, CWD), 'PREFLINE_CHAT_REASON_TAGS');
    configError(() => loadConfig({ PREFLINE_CHAT_IDLE_TIMEOUT: '0s' }, CWD), 'PREFLINE_CHAT_IDLE_TIMEOUT');
    configError(() => loadConfig({ PREFLINE_CHAT_IDLE_TIMEOUT: 'soon' }, CWD), 'PREFLINE_CHAT_IDLE_TIMEOUT');
    configError(() => loadConfig({ PREFLINE_CHAT_LEDGER_LAG: '61s' }, CWD), 'PREFLINE_CHAT_LEDGER_LAG');
    configError(() => loadConfig({ PREFLINE_CHAT_LEDGER_LAG: '0.5ms' }, CWD), 'PREFLINE_CHAT_LEDGER_LAG');
    configError(() => loadConfig({ PREFLINE_CHAT_LEDGER_LAG: 'later' }, CWD), 'PREFLINE_CHAT_LEDGER_LAG');
    assert.equal(loadConfig({ PREFLINE_CHAT_LEDGER_LAG: '0s' }, CWD).chat.commitAfterMs, 0, '0s: every event at once');
    configError(() => loadConfig({ PREFLINE_CHAT_MAX_MESSAGE_CHARS: '99999' }, CWD), 'PREFLINE_CHAT_MAX_MESSAGE_CHARS');
    configError(() => loadConfig({ PREFLINE_CHAT_CONTEXT_MESSAGES: '0' }, CWD), 'PREFLINE_CHAT_CONTEXT_MESSAGES');
    configError(() => loadConfig({ PREFLINE_GATEWAY_INTERNAL_URL: 'gateway:8080' }, CWD), 'PREFLINE_GATEWAY_INTERNAL_URL');
    configError(() => loadConfig({ PREFLINE_GATEWAY_INTERNAL_URL: 'http://user@gateway:8080' }, CWD), 'PREFLINE_GATEWAY_INTERNAL_URL');
  });

  it('should generate the stream key once, or take it from the environment', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-stream-key-'));
    try {
      const config = loadConfig({ PREFLINE_DATA_DIR: dataDir }, CWD);
      const generated = loadSecret(config, 'stream', {});
      assert.deepEqual(loadSecret(config, 'stream', {}), generated);
      assert.equal(fs.statSync(path.join(dataDir, 'secrets', 'stream.key')).mode & 0o777, 0o600);
      assert.deepEqual(loadSecret(config, 'stream', { PREFLINE_STREAM_KEY: 'a-stream-key-of-enough-length' }), Buffer.from('a-stream-key-of-enough-length'));
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
