import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, ENVIRONMENT, loadConfig, loadSecret, type PreflineConfig } from '../../config/config';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

function configError(fn: () => unknown, variable: string): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.equal(caught.code, 'prefline_config_invalid');
  assert.ok(caught.message.includes(variable), `the message should name ${variable}: ${caught.message}`);
  return caught;
}

describe('config', () => {
  const CWD = '/srv/prefline';

  describe('loadConfig', () => {
    it('should default to an embedded, credential-free setup', () => {
      const c = loadConfig({}, CWD);
      assert.equal(c.dataDir, '/srv/prefline/.prefline');
      assert.deepEqual(c.temporal, {
        address: '127.0.0.1:7233',
        namespace: 'default',
        uiPort: 8233,
        external: false,
        binary: path.join(REPO_ROOT, '.tools', 'bin', 'temporal'),
      });
      assert.equal(c.taskQueue, 'prefline');
      assert.deepEqual(c.workerQueues, ['workflows', 'inference', 'ledger']);
      assert.equal(c.inferenceConcurrency, 4);
      assert.deepEqual(c.gateway, { host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080', sessionTtlMs: 30 * 24 * 3_600_000 });
      assert.deepEqual(c.ledger, {
        path: '/srv/prefline/.prefline/ledger.duckdb',
        readHost: '127.0.0.1',
        readPort: 0,
        endpointFile: '/srv/prefline/.prefline/ledger-endpoint.json',
      });
      assert.equal(c.artifactDir, '/srv/prefline/.prefline/artifacts');
      assert.equal(c.logLevel, 'info');
      assert.equal('accessCode' in c.gateway, false);
    });

    it('should treat empty variables as unset', () => {
      const env = Object.fromEntries(ENVIRONMENT.map((v) => [v.name, '']));
      assert.deepEqual(loadConfig(env, CWD), loadConfig({}, CWD));
    });

    it('should parse every variable', () => {
      const c = loadConfig(
        {
          PREFLINE_DATA_DIR: 'state',
          PREFLINE_TEMPORAL_ADDRESS: 'temporal.internal:7233',
          PREFLINE_TEMPORAL_NAMESPACE: 'ratings',
          PREFLINE_TEMPORAL_UI_PORT: '9233',
          PREFLINE_EXTERNAL_TEMPORAL: '1',
          PREFLINE_TASK_QUEUE: 'prefs',
          PREFLINE_WORKER_QUEUES: ' inference , ledger ',
          PREFLINE_INFERENCE_CONCURRENCY: '16',
          PREFLINE_GATEWAY_HOST: '10.0.0.5',
          PREFLINE_GATEWAY_PORT: '9000',
          PREFLINE_PUBLIC_URL: 'https://rate.example.com//',
          PREFLINE_WEB_ACCESS_CODE: 'letmein',
          PREFLINE_SESSION_TTL: '12h',
          PREFLINE_LEDGER_PATH: 'db/ledger.duckdb',
          PREFLINE_LEDGER_READ_HOST: '0.0.0.0',
          PREFLINE_LEDGER_READ_PORT: '7000',
          PREFLINE_ARTIFACT_DIR: '/mnt/artifacts',
          PREFLINE_TEMPORAL_BIN: 'bin/temporal',
          PREFLINE_LOG_LEVEL: 'debug',
        },
        CWD,
      );
      assert.equal(c.dataDir, '/srv/prefline/state');
      assert.deepEqual(c.temporal, { address: 'temporal.internal:7233', namespace: 'ratings', uiPort: 9233, external: true, binary: '/srv/prefline/bin/temporal' });
      assert.equal(c.taskQueue, 'prefs');
      assert.deepEqual(c.workerQueues, ['inference', 'ledger']);
      assert.equal(c.inferenceConcurrency, 16);
      assert.deepEqual(c.gateway, { host: '10.0.0.5', port: 9000, publicUrl: 'https://rate.example.com', accessCode: 'letmein', sessionTtlMs: 12 * 3_600_000 });
      assert.deepEqual(c.ledger, { path: '/srv/prefline/db/ledger.duckdb', readHost: '0.0.0.0', readPort: 7000, endpointFile: '/srv/prefline/state/ledger-endpoint.json' });
      assert.equal(c.artifactDir, '/mnt/artifacts');
      assert.equal(c.logLevel, 'debug');
    });

    it('should default the releases folder and inference backends (Replicate without a token, no OpenAI server)', () => {
      const c = loadConfig({}, CWD);
      assert.equal(c.releasesDir, '/srv/prefline/.prefline/releases');
      assert.deepEqual(c.inference, { replicate: { baseUrl: 'https://api.replicate.com/v1', maxWaitMs: 10 * 60_000 } });
    });

    it('should parse the releases folder and inference variables', () => {
      const c = loadConfig(
        {
          PREFLINE_RELEASES_DIR: 'out/releases',
          REPLICATE_API_TOKEN: 'r8_secret',
          PREFLINE_REPLICATE_BASE_URL: 'http://127.0.0.1:9999/v1/',
          PREFLINE_REPLICATE_MAX_WAIT: '30m',
          PREFLINE_OPENAI_BASE_URL: 'http://gpu.lan:8000/v1/',
          PREFLINE_OPENAI_API_KEY: 'sk-local',
          PREFLINE_OPENAI_IMAGE_MODELS: ' sdxl , ,flux ',
          PREFLINE_OPENAI_TIMEOUT: '5m',
        },
        CWD,
      );
      assert.equal(c.releasesDir, '/srv/prefline/out/releases');
      assert.deepEqual(c.inference, {
        replicate: { apiToken: 'r8_secret', baseUrl: 'http://127.0.0.1:9999/v1', maxWaitMs: 30 * 60_000 },
        openai: { baseUrl: 'http://gpu.lan:8000/v1', apiKey: 'sk-local', imageModels: ['sdxl', 'flux'], timeoutMs: 5 * 60_000 },
      });
    });

    it('should refuse bad inference durations, naming the variable', () => {
      configError(() => loadConfig({ PREFLINE_REPLICATE_MAX_WAIT: 'ten minutes' }, CWD), 'PREFLINE_REPLICATE_MAX_WAIT');
      configError(() => loadConfig({ PREFLINE_OPENAI_BASE_URL: 'http://x/v1', PREFLINE_OPENAI_TIMEOUT: '120' }, CWD), 'PREFLINE_OPENAI_TIMEOUT');
    });

    it('should keep absolute paths as given', () => {
      const c = loadConfig({ PREFLINE_DATA_DIR: '/var/lib/prefline', PREFLINE_TEMPORAL_BIN: '/usr/local/bin/temporal' }, CWD);
      assert.equal(c.dataDir, '/var/lib/prefline');
      assert.equal(c.temporal.binary, '/usr/local/bin/temporal');
      assert.equal(c.ledger.path, '/var/lib/prefline/ledger.duckdb');
    });

    it('should derive the public URL from host and port, using loopback for 0.0.0.0', () => {
      assert.equal(loadConfig({ PREFLINE_GATEWAY_HOST: '0.0.0.0', PREFLINE_GATEWAY_PORT: '8181' }, CWD).gateway.publicUrl, 'http://127.0.0.1:8181');
      assert.equal(loadConfig({ PREFLINE_GATEWAY_HOST: 'rate.lan' }, CWD).gateway.publicUrl, 'http://rate.lan:8080');
    });

    it('should only treat PREFLINE_EXTERNAL_TEMPORAL=1 as external', () => {
      for (const v of ['0', 'true', 'yes', '']) assert.equal(loadConfig({ PREFLINE_EXTERNAL_TEMPORAL: v }, CWD).temporal.external, false, v);
    });

    it('should raise an inference concurrency of 0 to 1', () => {
      assert.equal(loadConfig({ PREFLINE_INFERENCE_CONCURRENCY: '0' }, CWD).inferenceConcurrency, 1);
    });

    it('should accept durations in s, m, h and d for PREFLINE_SESSION_TTL', () => {
      const ttl = (v: string) => loadConfig({ PREFLINE_SESSION_TTL: v }, CWD).gateway.sessionTtlMs;
      assert.equal(ttl('90s'), 90_000);
      assert.equal(ttl('45m'), 45 * 60_000);
      assert.equal(ttl('7d'), 7 * 86_400_000);
      assert.equal(ttl(' 2h '), 2 * 3_600_000);
    });

    for (const name of ['PREFLINE_GATEWAY_PORT', 'PREFLINE_TEMPORAL_UI_PORT', 'PREFLINE_INFERENCE_CONCURRENCY', 'PREFLINE_LEDGER_READ_PORT']) {
      it(`should refuse a bad integer in ${name}, naming it and the value`, () => {
        for (const bad of ['abc', '-1', '80.5', '8080x', 'NaN', 'Infinity']) {
          const err = configError(() => loadConfig({ [name]: bad }, CWD), name);
          assert.ok(err.message.includes(`"${bad}"`), err.message);
        }
      });
    }

    it('should refuse unknown worker queues, naming the variable and the queue', () => {
      const err = configError(() => loadConfig({ PREFLINE_WORKER_QUEUES: 'workflows,gpu' }, CWD), 'PREFLINE_WORKER_QUEUES');
      assert.ok(err.message.includes('"gpu"'), err.message);
      configError(() => loadConfig({ PREFLINE_WORKER_QUEUES: 'Workflows' }, CWD), 'PREFLINE_WORKER_QUEUES');
    });

    it('should refuse a bad log level, naming the variable', () => {
      for (const bad of ['verbose', 'INFO', 'trace']) configError(() => loadConfig({ PREFLINE_LOG_LEVEL: bad }, CWD), 'PREFLINE_LOG_LEVEL');
    });

    it('should refuse a bad PREFLINE_SESSION_TTL, naming it and the value', () => {
      for (const bad of ['30', 'd', '1.5h', '30 days', '-1d', '1w', 'PT1H', '1h30m']) {
        const err = configError(() => loadConfig({ PREFLINE_SESSION_TTL: bad }, CWD), 'PREFLINE_SESSION_TTL');
        assert.ok(err.message.includes(`"${bad}"`), err.message);
      }
    });

    it('should read only variables documented in ENVIRONMENT', () => {
      const read = new Set<string>();
      const documented = new Set(ENVIRONMENT.map((v) => v.name));
      const values: Record<string, string> = { PREFLINE_OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' };
      const env = new Proxy({} as NodeJS.ProcessEnv, {
        get(_target, key) {
          if (typeof key === 'string') read.add(key);
          return typeof key === 'string' ? values[key] : undefined;
        },
      });
      const c = loadConfig(env, CWD);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-env-'));
      try {
        loadSecret({ ...c, dataDir: dir }, 'rater', env);
        loadSecret({ ...c, dataDir: dir }, 'session', env);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      const undocumented = [...read].filter((name) => !documented.has(name));
      assert.deepEqual(undocumented, [], 'every variable read must be in ENVIRONMENT (and the README)');
      assert.ok(read.has('PREFLINE_DATA_DIR') && read.has('PREFLINE_RATER_KEY') && read.has('PREFLINE_SESSION_KEY'));
    });
  });

  describe('loadSecret', () => {
    let dir: string;
    let config: PreflineConfig;

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-secret-'));
      config = loadConfig({ PREFLINE_DATA_DIR: path.join(dir, 'data') }, dir);
    });

    afterEach(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('should generate a key once, in a 0600 file of a 0700 folder', () => {
      const key = loadSecret(config, 'rater', {});
      const file = path.join(dir, 'data', 'secrets', 'rater.key');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
      assert.match(key.toString('utf8'), /^[0-9a-f]{64}$/);
      assert.deepEqual(fs.readFileSync(file), key);
    });

    it('should return the same key on every later call', () => {
      const first = loadSecret(config, 'session', {});
      const second = loadSecret(config, 'session', {});
      assert.deepEqual(second, first);
      assert.deepEqual(loadSecret(loadConfig({ PREFLINE_DATA_DIR: path.join(dir, 'data') }, dir), 'session', {}), first, 'a restarted process reads the same key');
    });

    it('should keep rater and session keys apart', () => {
      const rater = loadSecret(config, 'rater', {});
      const session = loadSecret(config, 'session', {});
      assert.notDeepEqual(rater, session);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'data', 'secrets')).sort(), ['rater.key', 'session.key']);
    });

    it('should generate different keys for different data folders', () => {
      const other = loadConfig({ PREFLINE_DATA_DIR: path.join(dir, 'other') }, dir);
      assert.notDeepEqual(loadSecret(config, 'rater', {}), loadSecret(other, 'rater', {}));
    });

    it('should use an existing key file, trimmed', () => {
      fs.mkdirSync(path.join(dir, 'data', 'secrets'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'data', 'secrets', 'rater.key'), 'an-operator-provided-key-0123456789\n');
      assert.equal(loadSecret(config, 'rater', {}).toString('utf8'), 'an-operator-provided-key-0123456789');
    });

    it('should use the environment value when given, without writing a file', () => {
      assert.equal(loadSecret(config, 'rater', { PREFLINE_RATER_KEY: 'r'.repeat(16) }).toString('utf8'), 'r'.repeat(16));
      assert.equal(loadSecret(config, 'session', { PREFLINE_SESSION_KEY: 'a much longer session key value' }).toString('utf8'), 'a much longer session key value');
      assert.equal(fs.existsSync(path.join(dir, 'data', 'secrets')), false);
    });

    it('should prefer the environment over an existing key file', () => {
      const generated = loadSecret(config, 'rater', {});
      const fromEnv = loadSecret(config, 'rater', { PREFLINE_RATER_KEY: 'k'.repeat(20) });
      assert.notDeepEqual(fromEnv, generated);
      assert.equal(fromEnv.toString('utf8'), 'k'.repeat(20));
    });

    it('should refuse a too short environment key, naming the variable', () => {
      configError(() => loadSecret(config, 'rater', { PREFLINE_RATER_KEY: 'x'.repeat(15) }), 'PREFLINE_RATER_KEY');
      configError(() => loadSecret(config, 'session', { PREFLINE_SESSION_KEY: 'short' }), 'PREFLINE_SESSION_KEY');
    });

    it('should refuse an empty or too short key file instead of keying hashes with it', () => {
      // What a reader sees between another process creating the file and writing it, or after a crash there.
      const secrets = path.join(dir, 'data', 'secrets');
      fs.mkdirSync(secrets, { recursive: true });
      fs.writeFileSync(path.join(secrets, 'session.key'), '', { mode: 0o600 });
      const err = configError(() => loadSecret(config, 'session', {}), 'session.key');
      assert.match(err.message, /PREFLINE_SESSION_KEY/);
      fs.writeFileSync(path.join(secrets, 'rater.key'), 'short\n', { mode: 0o600 });
      configError(() => loadSecret(config, 'rater', {}), 'rater.key');
    });
  });
});
