/**
 * Every setting Prefline reads, read once from the environment. Embedded defaults need no
 * credentials: a dev server on localhost, the demo backend, the web channel and files under
 * `PREFLINE_DATA_DIR`. The README's table of environment variables mirrors `ENVIRONMENT` below.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export interface EnvVarDoc {
  name: string;
  default: string;
  description: string;
}

export const ENVIRONMENT: EnvVarDoc[] = [
  { name: 'PREFLINE_DATA_DIR', default: './.prefline', description: 'Where all state lives: Temporal SQLite file, DuckDB ledger, artifacts, keys, logs.' },
  { name: 'PREFLINE_TEMPORAL_ADDRESS', default: '127.0.0.1:7233', description: 'Temporal frontend (host:port). `prefline up` starts a dev server here unless PREFLINE_EXTERNAL_TEMPORAL=1.' },
  { name: 'PREFLINE_TEMPORAL_NAMESPACE', default: 'default', description: 'Temporal namespace.' },
  { name: 'PREFLINE_TEMPORAL_UI_PORT', default: '8233', description: 'Port of the Temporal Web UI started by `prefline up`.' },
  { name: 'PREFLINE_EXTERNAL_TEMPORAL', default: '0', description: 'Set to 1 to use an existing Temporal server/cluster instead of starting a dev server.' },
  { name: 'PREFLINE_TASK_QUEUE', default: 'prefline', description: 'Task queue of lifecycles; inference and ledger activities use `<queue>-inference` and `<queue>-ledger`.' },
  { name: 'PREFLINE_WORKER_QUEUES', default: 'workflows,inference,ledger', description: 'Which queues this worker process polls. Exactly one process may serve `ledger`.' },
  { name: 'PREFLINE_INFERENCE_CONCURRENCY', default: '4', description: 'Max concurrent inference activities per worker.' },
  { name: 'PREFLINE_GATEWAY_HOST', default: '127.0.0.1', description: 'Interface the gateway (rating page and vote API) binds.' },
  { name: 'PREFLINE_GATEWAY_PORT', default: '8080', description: 'Port of the gateway.' },
  { name: 'PREFLINE_PUBLIC_URL', default: 'http://<host>:<port>', description: 'URL raters use to reach the gateway (for links in posts).' },
  { name: 'PREFLINE_RATER_KEY', default: '(generated into <data>/secrets/rater.key)', description: 'Secret key of the keyed hash that pseudonymises rater identities. Keep it stable.' },
  { name: 'PREFLINE_SESSION_KEY', default: '(generated into <data>/secrets/session.key)', description: 'Secret key that signs rater session tokens of the web page.' },
  { name: 'PREFLINE_WEB_ACCESS_CODE', default: '(none)', description: 'If set, raters must enter this code on the rating page before voting.' },
  { name: 'PREFLINE_SESSION_TTL', default: '30d', description: 'How long a rater session token of the web page stays valid.' },
  { name: 'PREFLINE_LEDGER_PATH', default: '<data>/ledger.duckdb', description: 'The DuckDB ledger file (opened read-write by the ledger worker only).' },
  { name: 'PREFLINE_LEDGER_READ_HOST', default: '127.0.0.1', description: 'Interface of the ledger worker\'s read-only query endpoint (used by `prefline query`).' },
  { name: 'PREFLINE_LEDGER_READ_PORT', default: '0 (random; advertised in <data>/ledger-endpoint.json)', description: 'Port of that endpoint.' },
  { name: 'PREFLINE_RELEASES_DIR', default: '<data>/releases', description: 'Dated, immutable parquet releases (`prefline release`); `latest` points at the newest.' },
  { name: 'PREFLINE_ARTIFACT_DIR', default: '<data>/artifacts', description: 'Content-addressed artifact store (must be shared by inference workers and the gateway).' },
  { name: 'PREFLINE_TEMPORAL_BIN', default: './.tools/bin/temporal', description: 'The Temporal CLI binary (built by scripts/install-temporal.sh).' },
  { name: 'REPLICATE_API_TOKEN', default: '(none)', description: 'Replicate API token for `replicate:` models. Read by inference workers only; never in workflow input or history.' },
  { name: 'PREFLINE_REPLICATE_BASE_URL', default: 'https://api.replicate.com/v1', description: 'Replicate API base URL.' },
  { name: 'PREFLINE_REPLICATE_MAX_WAIT', default: '10m', description: 'How long one prediction may run before the attempt is retried (the retry resumes the same prediction).' },
  { name: 'PREFLINE_OPENAI_BASE_URL', default: '(none)', description: 'Base URL of an OpenAI-compatible server for `openai:` models, e.g. http://gpu-host:8000/v1 (vLLM, TGI, Ollama, LocalAI).' },
  { name: 'PREFLINE_OPENAI_API_KEY', default: '(none)', description: 'Bearer key for that server, if it needs one.' },
  { name: 'PREFLINE_OPENAI_IMAGE_MODELS', default: '(none)', description: 'Comma-separated `openai:` models that produce images (images/generations); others are chat models.' },
  { name: 'PREFLINE_OPENAI_TIMEOUT', default: '120s', description: 'Timeout of one request to the OpenAI-compatible server.' },
  { name: 'PREFLINE_LOG_LEVEL', default: 'info', description: 'debug, info, warn or error.' },
];

export interface PreflineConfig {
  dataDir: string;
  temporal: { address: string; namespace: string; uiPort: number; external: boolean; binary: string };
  taskQueue: string;
  workerQueues: Array<'workflows' | 'inference' | 'ledger'>;
  inferenceConcurrency: number;
  gateway: { host: string; port: number; publicUrl: string; accessCode?: string; sessionTtlMs: number };
  ledger: { path: string; readHost: string; readPort: number; endpointFile: string };
  artifactDir: string;
  releasesDir: string;
  inference: {
    replicate: { apiToken?: string; baseUrl: string; maxWaitMs: number };
    openai?: { baseUrl: string; apiKey?: string; imageModels: string[]; timeoutMs: number };
  };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export class ConfigError extends Error {
  readonly code = 'prefline_config_invalid';
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new ConfigError(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function durationMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (!raw) return fallback;
  const match = /^(\d+)(s|m|h|d)$/.exec(raw.trim());
  if (!match) throw new ConfigError(`${name} must be a duration like "12h" or "30d", got "${raw}"`);
  const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): PreflineConfig {
  const dataDir = resolve(cwd, env.PREFLINE_DATA_DIR || '.prefline');
  const host = env.PREFLINE_GATEWAY_HOST || '127.0.0.1';
  const port = int(env, 'PREFLINE_GATEWAY_PORT', 8080);
  const queues = (env.PREFLINE_WORKER_QUEUES || 'workflows,inference,ledger').split(',').map((q) => q.trim()).filter(Boolean);
  for (const q of queues) {
    if (q !== 'workflows' && q !== 'inference' && q !== 'ledger') {
      throw new ConfigError(`PREFLINE_WORKER_QUEUES: unknown queue "${q}" (expected workflows, inference, ledger)`);
    }
  }
  const logLevel = (env.PREFLINE_LOG_LEVEL || 'info') as PreflineConfig['logLevel'];
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new ConfigError(`PREFLINE_LOG_LEVEL must be debug, info, warn or error`);
  const projectRoot = resolve(__dirname, '..', '..');
  return {
    dataDir,
    temporal: {
      address: env.PREFLINE_TEMPORAL_ADDRESS || '127.0.0.1:7233',
      namespace: env.PREFLINE_TEMPORAL_NAMESPACE || 'default',
      uiPort: int(env, 'PREFLINE_TEMPORAL_UI_PORT', 8233),
      external: env.PREFLINE_EXTERNAL_TEMPORAL === '1',
      binary: resolve(cwd, env.PREFLINE_TEMPORAL_BIN || join(projectRoot, '.tools', 'bin', 'temporal')),
    },
    taskQueue: env.PREFLINE_TASK_QUEUE || 'prefline',
    workerQueues: queues as PreflineConfig['workerQueues'],
    inferenceConcurrency: Math.max(1, int(env, 'PREFLINE_INFERENCE_CONCURRENCY', 4)),
    gateway: {
      host,
      port,
      publicUrl: (env.PREFLINE_PUBLIC_URL || `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`).replace(/\/+$/, ''),
      ...(env.PREFLINE_WEB_ACCESS_CODE ? { accessCode: env.PREFLINE_WEB_ACCESS_CODE } : {}),
      sessionTtlMs: durationMs(env, 'PREFLINE_SESSION_TTL', 30 * 8.64e7),
    },
    ledger: {
      path: resolve(cwd, env.PREFLINE_LEDGER_PATH || join(dataDir, 'ledger.duckdb')),
      readHost: env.PREFLINE_LEDGER_READ_HOST || '127.0.0.1',
      readPort: int(env, 'PREFLINE_LEDGER_READ_PORT', 0),
      endpointFile: join(dataDir, 'ledger-endpoint.json'),
    },
    artifactDir: resolve(cwd, env.PREFLINE_ARTIFACT_DIR || join(dataDir, 'artifacts')),
    releasesDir: resolve(cwd, env.PREFLINE_RELEASES_DIR || join(dataDir, 'releases')),
    inference: {
      replicate: {
        ...(env.REPLICATE_API_TOKEN ? { apiToken: env.REPLICATE_API_TOKEN } : {}),
        baseUrl: (env.PREFLINE_REPLICATE_BASE_URL || 'https://api.replicate.com/v1').replace(/\/+$/, ''),
        maxWaitMs: durationMs(env, 'PREFLINE_REPLICATE_MAX_WAIT', 10 * 6e4),
      },
      ...(env.PREFLINE_OPENAI_BASE_URL
        ? {
            openai: {
              baseUrl: env.PREFLINE_OPENAI_BASE_URL.replace(/\/+$/, ''),
              ...(env.PREFLINE_OPENAI_API_KEY ? { apiKey: env.PREFLINE_OPENAI_API_KEY } : {}),
              imageModels: (env.PREFLINE_OPENAI_IMAGE_MODELS || '').split(',').map((m) => m.trim()).filter(Boolean),
              timeoutMs: durationMs(env, 'PREFLINE_OPENAI_TIMEOUT', 120_000),
            },
          }
        : {}),
    },
    logLevel,
  };
}

/**
 * A secret from the environment, or else one generated once and kept (mode 0600) under the data
 * folder, so pseudonyms and sessions stay stable across restarts of the embedded setup.
 */
export function loadSecret(config: PreflineConfig, name: 'rater' | 'session', env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env[name === 'rater' ? 'PREFLINE_RATER_KEY' : 'PREFLINE_SESSION_KEY'];
  if (fromEnv) {
    if (fromEnv.length < 16) throw new ConfigError(`PREFLINE_${name.toUpperCase()}_KEY must be at least 16 characters`);
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
    chmodSync(file, 0o600);
  }
  const key = readFileSync(file, 'utf8').trim();
  // Empty while another process is between creating and writing it, or after a crash there: never key hashes with it.
  if (key.length < 16) {
    throw new ConfigError(`${file} holds no usable key (under 16 characters); delete it to generate a new one, or set PREFLINE_${name.toUpperCase()}_KEY`);
  }
  return Buffer.from(key, 'utf8');
}
