/** Keys: from the environment, or generated once under the data folder. */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from './read';
import type { PreflineConfig } from './types';

/**
 * A secret from the environment, or else one generated once and kept (mode 0600) under the data
 * folder, so pseudonyms and sessions stay stable across restarts of the embedded setup.
 */
export function loadSecret(
  config: PreflineConfig,
  name: 'rater' | 'session' | 'invite' | 'email-token' | 'stream',
  env: NodeJS.ProcessEnv = process.env,
  warn: (message: string) => void = (message) => process.emitWarning(message),
): Buffer {
  const envName = `PREFLINE_${name.replace('-', '_').toUpperCase()}_KEY`; // PREFLINE_RATER_KEY, …_SESSION_KEY, …_INVITE_KEY, …_EMAIL_TOKEN_KEY, …_STREAM_KEY
  const fromEnv = env[envName];
  if (fromEnv) {
    if (fromEnv.length < 16) throw new ConfigError(`${envName} must be at least 16 characters`);
    return Buffer.from(fromEnv, 'utf8');
  }
  const file = join(config.dataDir, 'secrets', `${name}.key`);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      // Another process created it first; use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  // Keys stay private however they got there (an operator's copy, an older version): folder 0700, file 0600.
  keepPrivate(dirname(file), 0o700, warn);
  keepPrivate(file, 0o600, warn);
  const key = readFileSync(file, 'utf8').trim();
  // Empty while another process is between creating and writing it, or after a crash there: never key hashes with it.
  if (key.length < 16) {
    throw new ConfigError(`${file} holds no usable key (under 16 characters); delete it to generate a new one, or set ${envName}`);
  }
  return Buffer.from(key, 'utf8');
}

/** Sets `path` to `mode` if other users (or the group) have any access to it, and says so. */
function keepPrivate(path: string, mode: number, warn: (message: string) => void): void {
  const current = statSync(path).mode & 0o777;
  if ((current & 0o077) === 0) return;
  chmodSync(path, mode);
  warn(`${path} could be read by other users (mode ${current.toString(8).padStart(4, '0')}); it is now ${mode.toString(8).padStart(4, '0')}`);
}
