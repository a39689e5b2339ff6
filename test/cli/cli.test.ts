import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { defaultLifecycleId, formatStatus } from '../../cli/lifecycle-commands';
import { parseArgs } from '../../cli/main';
import { formatResult } from '../../cli/query';
import { ConfigError, ENVIRONMENT, loadConfig, loadSecret, type PreflineConfig } from '../../config/config';
import type { QueryResult } from '../../store/Ledger';
import type { LifecycleStatus } from '../../workflows/types';

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

describe('cli', () => {
  describe('parseArgs', () => {
    it('should split positionals and flags', () => {
      assert.deepEqual(parseArgs(['lc-1', 'c2', 'up', '--rater', 'alice', '--comment', 'nice one']), {
        positional: ['lc-1', 'c2', 'up'],
        flags: { rater: 'alice', comment: 'nice one' },
      });
    });

    it('should take --name=value inline, keeping later = signs and empty values', () => {
      assert.deepEqual(parseArgs(['--format=csv', '--filter=a=b=c', '--comment=']), {
        positional: [],
        flags: { format: 'csv', filter: 'a=b=c', comment: '' },
      });
    });

    it('should treat a flag followed by another flag or by nothing as boolean', () => {
      assert.deepEqual(parseArgs(['@input.json', '--no-validate', '--wait']), {
        positional: ['@input.json'],
        flags: { 'no-validate': true, wait: true },
      });
    });

    it('should take values that start with a single dash or contain spaces and newlines', () => {
      assert.deepEqual(parseArgs(['--offset', '-5', '--comment', 'line 1\nline 2', 'pos']), {
        positional: ['pos'],
        flags: { offset: '-5', comment: 'line 1\nline 2' },
      });
    });

    it('should keep an inline value with a newline whole', () => {
      assert.deepEqual(parseArgs(['--comment=a\nb=c']).flags, { comment: 'a\nb=c' });
    });

    it('should let the last occurrence of a flag win', () => {
      assert.deepEqual(parseArgs(['--format', 'csv', '--format=json']).flags, { format: 'json' });
    });

    it('should keep positionals in order around flags', () => {
      assert.deepEqual(parseArgs(['a', '--x', '1', 'b', '--y=2', 'c']), { positional: ['a', 'b', 'c'], flags: { x: '1', y: '2' } });
    });

    it('should return nothing for no arguments', () => {
      assert.deepEqual(parseArgs([]), { positional: [], flags: {} });
    });

    it('should keep a single dash (stdin) as a positional', () => {
      assert.deepEqual(parseArgs(['-', '--wait']), { positional: ['-'], flags: { wait: true } });
    });
  });

  describe('formatResult', () => {
    const result: QueryResult = {
      columns: ['rater', 'rating', 'comment'],
      rows: [
        { rater: 'r_01', rating: 1, comment: 'plain' },
        { rater: 'r_02', rating: -1, comment: 'has, comma' },
        { rater: 'r_03', rating: null, comment: 'says "hi"' },
        { rater: 'r_04', rating: 1, comment: 'two\nlines' },
        { rater: 'r_05', rating: 1, comment: null },
      ],
    };

    describe('csv', () => {
      it('should write a header and one line per row, quoting only where needed', () => {
        assert.equal(
          formatResult(result, 'csv'),
          ['rater,rating,comment', 'r_01,1,plain', 'r_02,-1,"has, comma"', 'r_03,,"says ""hi"""', 'r_04,1,"two\nlines"', 'r_05,1,'].join('\n'),
        );
      });

      it('should quote a bare carriage return, which CSV readers take as a line end', () => {
        const out = formatResult({ columns: ['c'], rows: [{ c: 'a\rb' }, { c: 'x\r\ny' }] }, 'csv');
        assert.equal(out, 'c\n"a\rb"\n"x\r\ny"');
      });

      it('should escape header names too', () => {
        assert.equal(formatResult({ columns: ['a,b', 'say "x"'], rows: [] }, 'csv'), '"a,b","say ""x"""');
      });

      it('should write nulls and missing values as empty fields', () => {
        assert.equal(formatResult({ columns: ['a', 'b', 'c'], rows: [{ a: null, c: undefined }] }, 'csv'), 'a,b,c\n,,');
      });

      it('should write arrays and objects as quoted JSON', () => {
        const out = formatResult({ columns: ['models', 'params'], rows: [{ models: ['demo:shapes', 'demo:text'], params: { seed: 1 } }] }, 'csv');
        assert.equal(out, 'models,params\n"[""demo:shapes"",""demo:text""]","{""seed"":1}"');
      });

      it('should write booleans and numbers as text', () => {
        assert.equal(formatResult({ columns: ['b', 'n'], rows: [{ b: false, n: 0 }] }, 'csv'), 'b,n\nfalse,0');
      });
    });

    describe('json', () => {
      it('should print the rows as pretty JSON, keeping nulls', () => {
        const out = formatResult(result, 'json');
        assert.deepEqual(JSON.parse(out), result.rows);
        assert.ok(out.includes('\n  {'), 'indented');
        assert.equal(formatResult({ columns: ['a'], rows: [] }, 'json'), '[]');
      });
    });

    describe('table', () => {
      it('should align columns under a header and count rows', () => {
        const out = formatResult({ columns: ['id', 'n'], rows: [{ id: 'c1', n: 10 }, { id: 'c22', n: null }] }, 'table');
        assert.equal(out, ['id  │ n ', '────┼───', 'c1  │ 10', 'c22 │   ', '(2 rows)'].join('\n'));
      });

      it('should say "1 row" and "0 rows"', () => {
        assert.match(formatResult({ columns: ['a'], rows: [{ a: 1 }] }, 'table'), /\(1 row\)$/);
        assert.match(formatResult({ columns: ['a'], rows: [] }, 'table'), /\(0 rows\)$/);
      });

      it('should cut long values at 60 characters with an ellipsis', () => {
        const long = 'x'.repeat(100);
        const lines = formatResult({ columns: ['v'], rows: [{ v: long }, { v: 'short' }] }, 'table').split('\n');
        assert.equal(lines[2], 'x'.repeat(59) + '…');
        assert.equal(lines[2]!.length, 60);
        assert.equal(lines[3], 'short'.padEnd(60));
        assert.equal(lines[1], '─'.repeat(60));
      });

      it('should show nulls as blanks and objects as JSON', () => {
        const lines = formatResult({ columns: ['o', 'z'], rows: [{ o: { a: 1 }, z: null }] }, 'table').split('\n');
        assert.equal(lines[2], '{"a":1} │  ');
      });
    });
  });

  describe('defaultLifecycleId', () => {
    const input = { prompt: 'a red fox', model: 'demo:shapes' };
    const day = new Date('2026-03-01T08:00:00Z');

    it('should be lc-<UTC day>-<10 hex digits>', () => {
      assert.match(defaultLifecycleId(input, day), /^lc-2026-03-01-[0-9a-f]{10}$/);
    });

    it('should be stable for the same input on the same day', () => {
      const a = defaultLifecycleId(input, day);
      assert.equal(defaultLifecycleId({ ...input }, new Date('2026-03-01T23:59:59.999Z')), a);
      assert.equal(defaultLifecycleId(JSON.parse(JSON.stringify(input)), new Date('2026-03-01T00:00:00Z')), a);
    });

    it('should differ by input', () => {
      const a = defaultLifecycleId(input, day);
      assert.notEqual(defaultLifecycleId({ ...input, prompt: 'a red fox!' }, day), a);
      assert.notEqual(defaultLifecycleId({ ...input, candidates: 2 }, day), a);
      assert.notEqual(defaultLifecycleId('a red fox', day), defaultLifecycleId('a red fax', day));
    });

    it('should differ by day but keep the digest', () => {
      const a = defaultLifecycleId(input, new Date('2026-03-01T23:59:59Z'));
      const b = defaultLifecycleId(input, new Date('2026-03-02T00:00:01Z'));
      assert.notEqual(a, b);
      assert.match(b, /^lc-2026-03-02-/);
      assert.equal(a.slice(-10), b.slice(-10));
    });
  });

  describe('formatStatus', () => {
    function status(overrides: Partial<LifecycleStatus> = {}): LifecycleStatus {
      return {
        lifecycleId: 'lc-2026-03-01-abc',
        prompt: 'a red fox',
        phase: 'voting',
        channel: 'web',
        models: ['demo:shapes', 'demo:text'],
        quorum: { kind: 'perCandidate', votes: 3 },
        candidates: [
          {
            id: 'c1', label: 'A', model: 'demo:shapes', kind: 'image', placeholder: true,
            artifact: { sha256: 'a'.repeat(64), mime: 'image/png', size: 10 },
            tally: { candidateId: 'c1', label: 'A', up: 2, down: 1, score: 1, votes: 3 },
          },
          {
            id: 'c2', label: 'B', model: 'replicate:acme/painter', kind: 'image', placeholder: false,
            artifact: { sha256: 'b'.repeat(64), mime: 'image/png', size: 10 },
            tally: { candidateId: 'c2', label: 'B', up: 0, down: 4, score: -4, votes: 4 },
          },
        ],
        votesAccepted: 9,
        ...overrides,
      };
    }

    it('should show the lifecycle, its phase, settings, votes and one line per candidate', () => {
      assert.equal(
        formatStatus(status()),
        [
          'lc-2026-03-01-abc  [voting]',
          '  prompt:   a red fox',
          '  models:   demo:shapes, demo:text   channel: web',
          '  quorum:   3 votes per candidate',
          '  votes:    9 accepted',
          '  A (c1) demo:shapes [demo placeholder]: 👍 2  👎 1  score 1',
          '  B (c2) replicate:acme/painter: 👍 0  👎 4  score -4',
        ].join('\n'),
      );
    });

    it('should show the close reason, campaign, total quorum and deadline when present', () => {
      const out = formatStatus(status({ phase: 'completed', closeReason: 'deadline', campaign: 'spring', quorum: { kind: 'total', votes: 20 }, deadlineAt: '2026-03-02T08:00:00.000Z' }));
      const lines = out.split('\n');
      assert.equal(lines[0], 'lc-2026-03-01-abc  [completed, closed: deadline]');
      assert.equal(lines[2], '  models:   demo:shapes, demo:text   channel: web   campaign: spring');
      assert.equal(lines[3], '  quorum:   20 votes in total   deadline: 2026-03-02T08:00:00.000Z');
    });

    it('should print only the header lines while generating', () => {
      const out = formatStatus(status({ phase: 'generating', candidates: [], votesAccepted: 0 }));
      assert.equal(out.split('\n').length, 5);
      assert.match(out, /\[generating\]/);
      assert.match(out, /votes: {4}0 accepted$/);
    });
  });
});

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
