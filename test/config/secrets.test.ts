import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, loadSecret, type PreflineConfig } from '../../config';
import { configError } from '../helpers/config-error';

describe('config: loadSecret', () => {
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
