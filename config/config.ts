/**
 * Every setting Prefline reads, read once from the environment. Embedded defaults need no
 * credentials: a dev server on localhost, the demo backend, the web channel and files under
 * `PREFLINE_DATA_DIR`. The README's table of environment variables mirrors `ENVIRONMENT` below.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EMAIL_ADDRESS, MAX_EMAIL_RECIPIENTS } from '../workflows/input';

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
  { name: 'PREFLINE_SLACK_BOT_TOKEN', default: '(none)', description: 'Bot token (`xoxb-…`) of the Prefline Slack app. Workers post `slack:` lifecycles with it; the gateway learns its own identity and rater groups with it. See docs/slack.md.' },
  { name: 'PREFLINE_SLACK_SIGNING_SECRET', default: '(none)', description: 'Signing secret of the Slack app. Set on the gateway to serve POST /slack/events and /slack/interactivity (signatures checked over the raw body). A blank value is refused at startup.' },
  { name: 'PREFLINE_SLACK_APP_TOKEN', default: '(none)', description: 'App-level token (`xapp-…`, scope connections:write): the gateway receives Slack events over Socket Mode instead of a public URL.' },
  { name: 'PREFLINE_SLACK_API_URL', default: 'https://slack.com/api/', description: 'Slack Web API base URL (tests point it at a stand-in).' },
  { name: 'PREFLINE_SLACK_ALLOWED_USERS', default: '(everyone in the channel)', description: 'Comma-separated Slack user ids (U…) whose votes count. Others get "you are not on the rater list" (buttons) or are ignored (reactions).' },
  { name: 'PREFLINE_SLACK_JOURNAL_DIR', default: '<data>/slack-journal', description: 'Where the gateway journals Slack deliveries before acknowledging them, so none is lost if it stops before forwarding; the next gateway on the same host replays them. Local disk of the gateway host.' },
  { name: 'PREFLINE_SLACK_ALLOWED_USERGROUP', default: '(none)', description: 'A Slack user group id (S…) whose members may vote, in addition to PREFLINE_SLACK_ALLOWED_USERS (needs usergroups:read).' },
  { name: 'PREFLINE_SMTP_HOST', default: '(none)', description: 'SMTP server for the email channel (`email:` lifecycles). Without it, workers refuse email lifecycles.' },
  { name: 'PREFLINE_SMTP_PORT', default: '587 (465 with PREFLINE_SMTP_SECURE=1)', description: 'SMTP port.' },
  { name: 'PREFLINE_SMTP_SECURE', default: '0', description: '1 for implicit TLS (port 465); otherwise STARTTLS is used when the server offers it.' },
  { name: 'PREFLINE_SMTP_REQUIRE_TLS', default: '0', description: '1 to refuse sending unless STARTTLS succeeds.' },
  { name: 'PREFLINE_SMTP_TLS_CA', default: '(system CAs)', description: 'PEM file of the CA (or self-signed certificate) to trust for the SMTP server, e.g. a private relay.' },
  { name: 'PREFLINE_SMTP_USER', default: '(none)', description: 'SMTP AUTH user.' },
  { name: 'PREFLINE_SMTP_PASS', default: '(none)', description: 'SMTP AUTH password.' },
  { name: 'PREFLINE_SMTP_POOL', default: '5', description: 'Pooled SMTP connections per worker; 0 opens one connection per message.' },
  { name: 'PREFLINE_SMTP_RATE_LIMIT', default: '0 (no limit)', description: 'Messages per second across the pool.' },
  { name: 'PREFLINE_EMAIL_FROM', default: '(required with PREFLINE_SMTP_HOST)', description: 'Sender, e.g. `Prefline <ratings@example.com>`; its domain names Message-IDs.' },
  { name: 'PREFLINE_DKIM_DOMAIN', default: '(none)', description: 'DKIM signing domain (set all three PREFLINE_DKIM_* or none).' },
  { name: 'PREFLINE_DKIM_SELECTOR', default: '(none)', description: 'DKIM selector.' },
  { name: 'PREFLINE_DKIM_PRIVATE_KEY_FILE', default: '(none)', description: 'PEM file of the DKIM private key.' },
  { name: 'PREFLINE_EMAIL_INBOUND_DOMAIN', default: '(none)', description: 'Domain whose mail reaches the gateway\'s inbound SMTP listener; mails get a signed `vote+…@<domain>` Reply-To. Without it, mails offer links only.' },
  { name: 'PREFLINE_EMAIL_INBOUND_PORT', default: '(none: no listener)', description: 'Port of the gateway\'s inbound SMTP listener for replies (needs PREFLINE_EMAIL_INBOUND_DOMAIN).' },
  { name: 'PREFLINE_EMAIL_INBOUND_HOST', default: 'PREFLINE_GATEWAY_HOST', description: 'Interface the inbound SMTP listener binds.' },
  { name: 'PREFLINE_EMAIL_INBOUND_MAX_BYTES', default: '2097152', description: 'Largest reply accepted; bigger ones are refused with 552 (SMTP) or marked processed without being downloaded (IMAP).' },
  { name: 'PREFLINE_EMAIL_INBOUND_TLS_KEY', default: '(none)', description: 'PEM key file; with PREFLINE_EMAIL_INBOUND_TLS_CERT, the listener offers STARTTLS (disabled otherwise).' },
  { name: 'PREFLINE_EMAIL_INBOUND_TLS_CERT', default: '(none)', description: 'PEM certificate file for STARTTLS.' },
  { name: 'PREFLINE_IMAP_HOST', default: '(none: no poller)', description: 'IMAP server whose mailbox receives the replies: the gateway polls it instead of listening for SMTP (needs PREFLINE_EMAIL_INBOUND_DOMAIN; not together with PREFLINE_EMAIL_INBOUND_PORT). See docs/email.md.' },
  { name: 'PREFLINE_IMAP_PORT', default: '993 (143 unless PREFLINE_IMAP_SECURE=tls)', description: 'IMAP port.' },
  { name: 'PREFLINE_IMAP_SECURE', default: 'tls', description: '`tls` (implicit TLS), `starttls` (required) or `none` (cleartext: only for a server on the same host).' },
  { name: 'PREFLINE_IMAP_TLS_CA', default: '(system CAs)', description: 'PEM file of the CA (or self-signed certificate) the IMAP server\'s certificate must chain to.' },
  { name: 'PREFLINE_IMAP_USER', default: '(required with PREFLINE_IMAP_HOST)', description: 'IMAP login user.' },
  { name: 'PREFLINE_IMAP_PASSWORD', default: '(none)', description: 'IMAP password (or PREFLINE_IMAP_PASSWORD_FILE; exactly one of them). Never logged.' },
  { name: 'PREFLINE_IMAP_PASSWORD_FILE', default: '(none)', description: 'File holding the IMAP password (a trailing newline is ignored).' },
  { name: 'PREFLINE_IMAP_MAILBOX', default: 'INBOX', description: 'Mailbox the replies arrive in; unread (no \\Seen flag) messages are the ones to process.' },
  { name: 'PREFLINE_IMAP_PROCESSED_MAILBOX', default: '(none: processed replies stay, flagged \\Seen)', description: 'Mailbox processed replies are moved to (created if missing; a full path with the server\'s hierarchy separator).' },
  { name: 'PREFLINE_IMAP_POLL_SECONDS', default: '60', description: 'Seconds between passes over the mailbox; new mail is noticed at once where the server has IDLE, and deferred replies are retried at this pace.' },
  { name: 'PREFLINE_EMAIL_LISTS', default: '(none)', description: 'Named rater lists for `email:@name`: `reviewers=a@x,b@y;leads=c@z`, inline JSON `{"reviewers":["a@x"]}`, or a path to such a JSON file.' },
  { name: 'PREFLINE_EMAIL_TOKEN_KEY', default: '(generated into <data>/secrets/email-token.key)', description: 'Key that signs vote links, unsubscribe links and reply addresses. Workers and gateway must share it.' },
  { name: 'PREFLINE_EMAIL_CLOSING_NOTE', default: '0', description: '1 to mail raters the result when a lifecycle closes.' },
  { name: 'PREFLINE_EMAIL_STATE_DIR', default: '<data>/email', description: 'Send records, opt-outs and reply mappings; workers and gateway must share it.' },
  { name: 'PREFLINE_FAULT_INJECT', default: '(none)', description: 'Test-only fault injection, e.g. `crash-after-commit:<marker file>` kills the ledger worker once right after a commit is durable (crash tests).' },
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
  /** Present when any PREFLINE_SLACK_* variable is set. */
  slack?: {
    botToken?: string;
    signingSecret?: string;
    appToken?: string;
    apiUrl: string;
    allowedUsers: string[];
    allowedUsergroup?: string;
    /** The gateway's delivery journal (delivery-journal.ts). */
    journalDir: string;
  };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The email channel; present when PREFLINE_SMTP_HOST or PREFLINE_EMAIL_INBOUND_PORT is set. */
  email?: EmailConfig;
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

/** Slack settings, present when any PREFLINE_SLACK_* variable is set. */
function slackConfig(env: NodeJS.ProcessEnv, cwd: string, dataDir: string): Pick<PreflineConfig, 'slack'> {
  const names = ['BOT_TOKEN', 'SIGNING_SECRET', 'APP_TOKEN', 'API_URL', 'ALLOWED_USERS', 'ALLOWED_USERGROUP'].map((n) => `PREFLINE_SLACK_${n}`);
  const secret = env.PREFLINE_SLACK_SIGNING_SECRET;
  // Empty means unset here as everywhere (no Slack routes at all); a blank one is a deployment mistake:
  // fail at startup rather than verify against a secret anyone could guess.
  if (secret !== undefined && secret !== '' && secret.trim() === '') throw new ConfigError('PREFLINE_SLACK_SIGNING_SECRET is blank; set the app\'s signing secret or unset the variable');
  if (!names.some((n) => env[n] !== undefined && env[n] !== '')) return {};
  const users = (env.PREFLINE_SLACK_ALLOWED_USERS || '').split(',').map((u) => u.trim()).filter(Boolean);
  const badUser = users.find((u) => !/^[UW][A-Z0-9]{2,30}$/.test(u));
  if (badUser) throw new ConfigError(`PREFLINE_SLACK_ALLOWED_USERS: "${badUser}" is not a Slack user id (U…)`);
  const group = env.PREFLINE_SLACK_ALLOWED_USERGROUP?.trim();
  if (group && !/^S[A-Z0-9]{2,30}$/.test(group)) throw new ConfigError(`PREFLINE_SLACK_ALLOWED_USERGROUP: "${group}" is not a Slack user group id (S…)`);
  return {
    slack: {
      ...(env.PREFLINE_SLACK_BOT_TOKEN ? { botToken: env.PREFLINE_SLACK_BOT_TOKEN } : {}),
      ...(secret ? { signingSecret: secret } : {}),
      ...(env.PREFLINE_SLACK_APP_TOKEN ? { appToken: env.PREFLINE_SLACK_APP_TOKEN } : {}),
      apiUrl: env.PREFLINE_SLACK_API_URL || 'https://slack.com/api/',
      allowedUsers: users,
      ...(group ? { allowedUsergroup: group } : {}),
      journalDir: resolve(cwd, env.PREFLINE_SLACK_JOURNAL_DIR || join(dataDir, 'slack-journal')),
    },
  };
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
    ...slackConfig(env, cwd, dataDir),
    logLevel,
    ...emailConfig(env, cwd, dataDir, host),
  };
}

/**
 * A secret from the environment, or else one generated once and kept (mode 0600) under the data
 * folder, so pseudonyms and sessions stay stable across restarts of the embedded setup.
 */
export function loadSecret(config: PreflineConfig, name: 'rater' | 'session' | 'email-token', env: NodeJS.ProcessEnv = process.env): Buffer {
  const envName = `PREFLINE_${name.replace('-', '_').toUpperCase()}_KEY`; // PREFLINE_RATER_KEY, …_SESSION_KEY, …_EMAIL_TOKEN_KEY
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
    chmodSync(file, 0o600);
  }
  const key = readFileSync(file, 'utf8').trim();
  // Empty while another process is between creating and writing it, or after a crash there: never key hashes with it.
  if (key.length < 16) {
    throw new ConfigError(`${file} holds no usable key (under 16 characters); delete it to generate a new one, or set ${envName}`);
  }
  return Buffer.from(key, 'utf8');
}

// ---- the email channel ----------------------------------------------------------------------------

export interface EmailConfig {
  /** Outbound mail (workers send invitations; the gateway sends auto-answers). Absent without PREFLINE_SMTP_HOST. */
  smtp?: {
    host: string;
    port: number;
    secure: boolean;
    requireTLS: boolean;
    user?: string;
    pass?: string;
    maxConnections: number;
    rateLimit: number;
    dkim?: { domainName: string; keySelector: string; privateKeyFile: string };
    tlsCaFile?: string;
  };
  from?: { name?: string; address: string };
  /** Domain of signed reply addresses; without it mails offer links only. */
  inboundDomain?: string;
  /** The gateway's inbound SMTP listener. */
  inbound?: { host: string; port: number; maxBytes: number; tls?: { keyFile: string; certFile: string } };
  /** The gateway's IMAP poller for replies (instead of the SMTP listener). */
  imap?: ImapConfig;
  lists: Record<string, string[]>;
  closingNote: boolean;
  stateDir: string;
}

export interface ImapConfig {
  host: string;
  port: number;
  /** tls: implicit TLS; starttls: STARTTLS required; none: cleartext. */
  security: 'tls' | 'starttls' | 'none';
  /** PEM file of the CA to trust instead of the system's. */
  caFile?: string;
  user: string;
  password: string;
  mailbox: string;
  processedMailbox?: string;
  pollMs: number;
  /** Larger replies are marked processed without being downloaded. */
  maxBytes: number;
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new ConfigError(`${name} must be 1 or 0, got "${env[name]}"`);
}

function checkAddress(name: string, address: string): string {
  if (address.length > 254 || !EMAIL_ADDRESS.test(address)) throw new ConfigError(`${name}: not a valid email address: ${JSON.stringify(address)}`);
  return address.toLowerCase();
}

/** `reviewers=a@x,b@y;leads=c@z`, inline JSON, or a JSON file: `{"reviewers": ["a@x", "b@y"]}`. */
export function parseEmailLists(raw: string | undefined, cwd: string): Record<string, string[]> {
  const text = (raw ?? '').trim();
  if (text === '') return {};
  let entries: Array<[string, unknown]>;
  if (text.startsWith('{') || (!text.includes('=') && existsSync(resolve(cwd, text)))) {
    let value: unknown;
    try {
      value = JSON.parse(text.startsWith('{') ? text : readFileSync(resolve(cwd, text), 'utf8'));
    } catch (err) {
      throw new ConfigError(`PREFLINE_EMAIL_LISTS: not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError('PREFLINE_EMAIL_LISTS: JSON must be an object of name → [addresses]');
    entries = Object.entries(value);
  } else {
    entries = text.split(';').filter((p) => p.trim() !== '').map((part) => {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new ConfigError(`PREFLINE_EMAIL_LISTS: "${part.trim()}" is not name=addr,addr`);
      return [part.slice(0, eq).trim(), part.slice(eq + 1).split(',').map((a) => a.trim()).filter(Boolean)];
    });
  }
  const lists: Record<string, string[]> = {};
  for (const [name, addresses] of entries) {
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name)) throw new ConfigError(`PREFLINE_EMAIL_LISTS: list name "${name}" must be lowercase letters, digits, "-" or "_"`);
    if (!Array.isArray(addresses) || addresses.length === 0 || !addresses.every((a) => typeof a === 'string')) {
      throw new ConfigError(`PREFLINE_EMAIL_LISTS: list "${name}" must hold at least one address`);
    }
    if (addresses.length > MAX_EMAIL_RECIPIENTS) throw new ConfigError(`PREFLINE_EMAIL_LISTS: list "${name}" has more than ${MAX_EMAIL_RECIPIENTS} addresses`);
    lists[name] = [...new Set(addresses.map((a) => checkAddress(`PREFLINE_EMAIL_LISTS (${name})`, a.trim())))];
  }
  return lists;
}

function emailConfig(env: NodeJS.ProcessEnv, cwd: string, dataDir: string, gatewayHost: string): { email?: EmailConfig } {
  if (!env.PREFLINE_SMTP_HOST && !env.PREFLINE_EMAIL_INBOUND_PORT && !env.PREFLINE_IMAP_HOST) return {};
  let from: EmailConfig['from'];
  if (env.PREFLINE_EMAIL_FROM) {
    const match = /^\s*(.*?)\s*<([^<>]+)>\s*$/.exec(env.PREFLINE_EMAIL_FROM);
    const name = match?.[1]?.replace(/^"(.*)"$/, '$1');
    // Control characters would let a display name start a new header line.
    if (name && /\p{Cc}/u.test(name)) throw new ConfigError('PREFLINE_EMAIL_FROM: the display name must not contain control characters');
    from = { ...(name ? { name } : {}), address: checkAddress('PREFLINE_EMAIL_FROM', (match?.[2] ?? env.PREFLINE_EMAIL_FROM).trim()) };
  }
  let smtp: EmailConfig['smtp'];
  if (env.PREFLINE_SMTP_HOST) {
    if (!from) throw new ConfigError('PREFLINE_EMAIL_FROM is required with PREFLINE_SMTP_HOST, e.g. "Prefline <ratings@example.com>"');
    const secure = flag(env, 'PREFLINE_SMTP_SECURE');
    const dkimVars = ['PREFLINE_DKIM_DOMAIN', 'PREFLINE_DKIM_SELECTOR', 'PREFLINE_DKIM_PRIVATE_KEY_FILE'].filter((n) => env[n]);
    if (dkimVars.length !== 0 && dkimVars.length !== 3) throw new ConfigError('set all of PREFLINE_DKIM_DOMAIN, PREFLINE_DKIM_SELECTOR and PREFLINE_DKIM_PRIVATE_KEY_FILE, or none');
    smtp = {
      host: env.PREFLINE_SMTP_HOST,
      port: int(env, 'PREFLINE_SMTP_PORT', secure ? 465 : 587),
      secure,
      requireTLS: flag(env, 'PREFLINE_SMTP_REQUIRE_TLS'),
      ...(env.PREFLINE_SMTP_USER ? { user: env.PREFLINE_SMTP_USER, pass: env.PREFLINE_SMTP_PASS ?? '' } : {}),
      maxConnections: int(env, 'PREFLINE_SMTP_POOL', 5),
      rateLimit: int(env, 'PREFLINE_SMTP_RATE_LIMIT', 0),
      ...(env.PREFLINE_SMTP_TLS_CA ? { tlsCaFile: resolve(cwd, env.PREFLINE_SMTP_TLS_CA) } : {}),
      ...(dkimVars.length === 3
        ? { dkim: { domainName: env.PREFLINE_DKIM_DOMAIN!, keySelector: env.PREFLINE_DKIM_SELECTOR!, privateKeyFile: resolve(cwd, env.PREFLINE_DKIM_PRIVATE_KEY_FILE!) } }
        : {}),
    };
  }
  const inboundDomain = env.PREFLINE_EMAIL_INBOUND_DOMAIN?.trim().toLowerCase() || undefined;
  if (inboundDomain && !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/.test(inboundDomain)) {
    throw new ConfigError(`PREFLINE_EMAIL_INBOUND_DOMAIN: "${inboundDomain}" is not a domain name`);
  }
  const maxBytes = Math.max(1024, int(env, 'PREFLINE_EMAIL_INBOUND_MAX_BYTES', 2 * 1024 * 1024));
  if (env.PREFLINE_EMAIL_INBOUND_PORT && env.PREFLINE_IMAP_HOST) {
    throw new ConfigError('PREFLINE_EMAIL_INBOUND_PORT and PREFLINE_IMAP_HOST are both set: replies arrive either by SMTP (the listener) or by IMAP (the poller); unset one');
  }
  let inbound: EmailConfig['inbound'];
  if (env.PREFLINE_EMAIL_INBOUND_PORT) {
    if (!inboundDomain) throw new ConfigError('PREFLINE_EMAIL_INBOUND_PORT needs PREFLINE_EMAIL_INBOUND_DOMAIN (the domain of the reply addresses)');
    const [keyFile, certFile] = [env.PREFLINE_EMAIL_INBOUND_TLS_KEY, env.PREFLINE_EMAIL_INBOUND_TLS_CERT];
    if (!keyFile !== !certFile) throw new ConfigError('set both PREFLINE_EMAIL_INBOUND_TLS_KEY and PREFLINE_EMAIL_INBOUND_TLS_CERT, or neither');
    inbound = {
      host: env.PREFLINE_EMAIL_INBOUND_HOST || gatewayHost,
      port: int(env, 'PREFLINE_EMAIL_INBOUND_PORT', 0),
      maxBytes,
      ...(keyFile && certFile ? { tls: { keyFile: resolve(cwd, keyFile), certFile: resolve(cwd, certFile) } } : {}),
    };
  }
  const imap = env.PREFLINE_IMAP_HOST ? imapConfig(env, cwd, inboundDomain, maxBytes) : undefined;
  return {
    email: {
      ...(smtp ? { smtp } : {}),
      ...(from ? { from } : {}),
      ...(inboundDomain ? { inboundDomain } : {}),
      ...(inbound ? { inbound } : {}),
      ...(imap ? { imap } : {}),
      lists: parseEmailLists(env.PREFLINE_EMAIL_LISTS, cwd),
      closingNote: flag(env, 'PREFLINE_EMAIL_CLOSING_NOTE'),
      stateDir: resolve(cwd, env.PREFLINE_EMAIL_STATE_DIR || join(dataDir, 'email')),
    },
  };
}

/** A mailbox name: printable, no control characters (they would break the IMAP command line). */
function mailboxName(env: NodeJS.ProcessEnv, name: string, fallback?: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim();
  if (value === '' || value.length > 200 || /\p{Cc}/u.test(value)) throw new ConfigError(`${name} must be a mailbox name without control characters, got ${JSON.stringify(raw)}`);
  return value;
}

function imapConfig(env: NodeJS.ProcessEnv, cwd: string, inboundDomain: string | undefined, maxBytes: number): ImapConfig {
  if (!inboundDomain) throw new ConfigError('PREFLINE_IMAP_HOST needs PREFLINE_EMAIL_INBOUND_DOMAIN (the domain of the reply addresses)');
  const host = env.PREFLINE_IMAP_HOST!.trim();
  if (!/^[A-Za-z0-9.:[\]_-]{1,253}$/.test(host)) throw new ConfigError(`PREFLINE_IMAP_HOST: "${host}" is not a host name or address`);
  const security = (env.PREFLINE_IMAP_SECURE || 'tls').trim().toLowerCase();
  if (security !== 'tls' && security !== 'starttls' && security !== 'none') throw new ConfigError(`PREFLINE_IMAP_SECURE must be tls, starttls or none, got "${env.PREFLINE_IMAP_SECURE}"`);
  const port = int(env, 'PREFLINE_IMAP_PORT', security === 'tls' ? 993 : 143);
  if (port < 1 || port > 65535) throw new ConfigError(`PREFLINE_IMAP_PORT must be a port number (1-65535), got "${env.PREFLINE_IMAP_PORT}"`);
  const user = env.PREFLINE_IMAP_USER?.trim();
  if (!user) throw new ConfigError('PREFLINE_IMAP_USER is required with PREFLINE_IMAP_HOST');
  const [inline, file] = [env.PREFLINE_IMAP_PASSWORD, env.PREFLINE_IMAP_PASSWORD_FILE];
  if (!inline === !file) throw new ConfigError('set one of PREFLINE_IMAP_PASSWORD or PREFLINE_IMAP_PASSWORD_FILE with PREFLINE_IMAP_HOST');
  let password = inline;
  if (file) {
    try {
      password = readFileSync(resolve(cwd, file), 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`PREFLINE_IMAP_PASSWORD_FILE: cannot read ${resolve(cwd, file)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (password === '') throw new ConfigError(`PREFLINE_IMAP_PASSWORD_FILE: ${resolve(cwd, file)} is empty`);
  }
  const mailbox = mailboxName(env, 'PREFLINE_IMAP_MAILBOX', 'INBOX')!;
  const processedMailbox = mailboxName(env, 'PREFLINE_IMAP_PROCESSED_MAILBOX');
  if (processedMailbox !== undefined && processedMailbox.toUpperCase() === mailbox.toUpperCase()) {
    throw new ConfigError('PREFLINE_IMAP_PROCESSED_MAILBOX must differ from PREFLINE_IMAP_MAILBOX');
  }
  const pollSeconds = int(env, 'PREFLINE_IMAP_POLL_SECONDS', 60);
  if (pollSeconds < 1 || pollSeconds > 3600) throw new ConfigError(`PREFLINE_IMAP_POLL_SECONDS must be between 1 and 3600, got "${env.PREFLINE_IMAP_POLL_SECONDS}"`);
  const ca = env.PREFLINE_IMAP_TLS_CA;
  if (ca && security === 'none') throw new ConfigError('PREFLINE_IMAP_TLS_CA is set but PREFLINE_IMAP_SECURE=none uses no TLS');
  return {
    host,
    port,
    security,
    ...(ca ? { caFile: resolve(cwd, ca) } : {}),
    user,
    password: password!,
    mailbox,
    ...(processedMailbox !== undefined ? { processedMailbox } : {}),
    pollMs: pollSeconds * 1000,
    maxBytes,
  };
}
