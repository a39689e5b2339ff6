/**
 * Every setting Prefline reads, read once from the environment. Embedded defaults need no
 * credentials: a dev server on localhost, the demo backend, the web channel and files under
 * `PREFLINE_DATA_DIR`. The variables, their defaults and meanings are the table in config/settings.ts;
 * each area's reader is beside this file.
 */
import { readChat } from './chat';
import { readEmail } from './email';
import { readGateway } from './gateway';
import { readInference } from './inference';
import { readObservability } from './observability';
import { readDataDir, readStorage } from './paths';
import { type Env, ConfigError, text } from './read';
import { readReleaseCard } from './release';
import { readSlack } from './slack';
import { readTemporal } from './temporal';
import { readWebhooks } from './webhook';
import type { PreflineConfig } from './types';

const LOG_LEVELS: ReadonlyArray<PreflineConfig['logLevel']> = ['debug', 'info', 'warn', 'error'];

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): PreflineConfig {
  const dataDir = readDataDir(env, cwd);
  const logLevel = text(env, 'PREFLINE_LOG_LEVEL') as PreflineConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`PREFLINE_LOG_LEVEL must be debug, info, warn or error`);
  return {
    dataDir,
    ...readTemporal(env, cwd),
    ...readGateway(env, cwd, dataDir),
    ...readStorage(env, cwd, dataDir),
    ...readReleaseCard(env),
    ...readInference(env),
    ...readChat(env),
    ...readSlack(env, cwd, dataDir),
    logLevel,
    ...readObservability(env),
    ...readEmail(env, cwd, dataDir),
    ...readWebhooks(env),
  };
}
