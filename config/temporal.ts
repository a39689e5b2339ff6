/**
 * Temporal: where the server is and how to reach it, the task queue, and which queues this worker
 * process polls.
 *
 * Connection settings are read the way the temporal CLI and the SDKs read them (@temporalio/envconfig):
 * a profile of the Temporal config file (TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml;
 * TEMPORAL_PROFILE, else `default`), overridden by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY
 * and TEMPORAL_TLS_*. PREFLINE_TEMPORAL_ADDRESS and PREFLINE_TEMPORAL_NAMESPACE win over both, so a host
 * whose TEMPORAL_* serve other tools can still point Prefline elsewhere. Precedence, highest first:
 * PREFLINE_TEMPORAL_* > TEMPORAL_* > the profile > Prefline's defaults (127.0.0.1:7233, `default`).
 */
import { existsSync } from 'node:fs';
import { platform } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import { BOOLEAN_WORDS, parseBoolean } from '../core/boolean';
import { type Env, ConfigError, flag, int, list, optionalText, text } from './read';
import type { PreflineConfig, TemporalSettings } from './types';

export const WORKER_QUEUES = ['workflows', 'inference', 'ledger'] as const;

/** The Prefline checkout (dist/config/ is two levels below it). */
const PROJECT_ROOT = resolve(__dirname, '..', '..');

/** TLS file variables of envconfig, each with the key a profile uses for it (for error messages). */
const TLS_PATH_VARIABLES: Record<string, string> = {
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'tls.server_ca_cert_path',
  TEMPORAL_TLS_CLIENT_CERT_PATH: 'tls.client_cert_path',
  TEMPORAL_TLS_CLIENT_KEY_PATH: 'tls.client_key_path',
};

export function readTemporal(env: Env, cwd: string): Pick<PreflineConfig, 'temporal' | 'taskQueue' | 'workerQueues' | 'inferenceConcurrency'> {
  const queues = list(env, 'PREFLINE_WORKER_QUEUES');
  // Only a value of commas gets here empty (an empty variable is the default): a worker would poll nothing.
  if (queues.length === 0) throw new ConfigError(`PREFLINE_WORKER_QUEUES names no queue (expected some of ${WORKER_QUEUES.join(', ')})`);
  for (const q of queues) {
    if (!(WORKER_QUEUES as readonly string[]).includes(q)) {
      throw new ConfigError(`PREFLINE_WORKER_QUEUES: unknown queue "${q}" (expected ${WORKER_QUEUES.join(', ')})`);
    }
  }
  const { profile, profileSource } = readTemporalProfile(env, cwd);
  const connection = connectionFromProfile(profile, profileSource);
  const uiUrl = optionalText(env, 'PREFLINE_TEMPORAL_UI_URL');
  if (uiUrl !== undefined && !/^https?:\/\/[^/]/.test(uiUrl)) throw new ConfigError(`PREFLINE_TEMPORAL_UI_URL must be an http(s) URL, got "${uiUrl}"`);
  const temporal: TemporalSettings = {
    address: nonEmpty(env.PREFLINE_TEMPORAL_ADDRESS) ?? profile.address ?? text(env, 'PREFLINE_TEMPORAL_ADDRESS'),
    namespace: nonEmpty(env.PREFLINE_TEMPORAL_NAMESPACE) ?? profile.namespace ?? text(env, 'PREFLINE_TEMPORAL_NAMESPACE'),
    uiPort: int(env, 'PREFLINE_TEMPORAL_UI_PORT'),
    external: flag(env, 'PREFLINE_EXTERNAL_TEMPORAL'),
    // The default binary is inside the checkout (scripts/install-temporal.sh builds it there); a value given is relative to the working directory.
    binary: resolve(env.PREFLINE_TEMPORAL_BIN ? cwd : PROJECT_ROOT, text(env, 'PREFLINE_TEMPORAL_BIN')),
    // Present only when set, so that a plain local setup reads as the five fields above.
    ...(connection.tls !== undefined ? { tls: connection.tls } : {}),
    ...(connection.apiKey !== undefined ? { apiKey: connection.apiKey } : {}),
    ...(connection.metadata !== undefined ? { metadata: connection.metadata } : {}),
    ...(uiUrl !== undefined ? { uiUrl: uiUrl.replace(/\/+$/, '') } : {}),
    ...(profileSource !== undefined ? { profile: profileSource } : {}),
  };
  return {
    temporal,
    taskQueue: text(env, 'PREFLINE_TASK_QUEUE'),
    workerQueues: queues as PreflineConfig['workerQueues'],
    inferenceConcurrency: Math.max(1, int(env, 'PREFLINE_INFERENCE_CONCURRENCY')),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The environment as envconfig should see it: empty variables unset (as everywhere in Prefline),
 * TEMPORAL_TLS in Prefline's boolean words (envconfig would read `yes` as off), and file paths
 * relative to `cwd`.
 */
function envconfigEnvironment(env: Env, cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    // An empty TEMPORAL_GRPC_META_<name> removes that header from the profile: envconfig's own meaning.
    if (value !== undefined && (value !== '' || name.startsWith('TEMPORAL_GRPC_META_'))) out[name] = value;
  }
  if (out.TEMPORAL_TLS !== undefined) {
    const on = parseBoolean(out.TEMPORAL_TLS);
    if (on === undefined) throw new ConfigError(`TEMPORAL_TLS must be ${BOOLEAN_WORDS}, got "${out.TEMPORAL_TLS}"`);
    out.TEMPORAL_TLS = on ? 'true' : 'false';
  }
  if (out.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION !== undefined && parseBoolean(out.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION) !== false) {
    throw new ConfigError('TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported by the TypeScript SDK: set TEMPORAL_TLS_SERVER_NAME to a name the server certificate carries instead');
  }
  // Even a 0 there would make envconfig see a TLS setting and turn TLS on.
  delete out.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION;
  for (const name of Object.keys(TLS_PATH_VARIABLES)) {
    if (out[name] !== undefined) out[name] = resolve(cwd, out[name]);
  }
  return out;
}

/** Where envconfig looks for the config file when TEMPORAL_CONFIG_FILE is unset (its own rules). */
export function defaultTemporalConfigFile(env: Record<string, string | undefined>): string | undefined {
  if (platform() === 'win32') return env.APPDATA ? join(env.APPDATA, 'temporalio', 'temporal.toml') : undefined;
  if (platform() === 'darwin') return env.HOME ? join(env.HOME, 'Library', 'Application Support', 'temporalio', 'temporal.toml') : undefined;
  const xdg = nonEmpty(env.XDG_CONFIG_HOME);
  if (xdg !== undefined) return isAbsolute(xdg) ? join(xdg, 'temporalio', 'temporal.toml') : undefined;
  const home = nonEmpty(env.HOME);
  return home !== undefined ? join(home, '.config', 'temporalio', 'temporal.toml') : undefined;
}

function readTemporalProfile(env: Env, cwd: string): { profile: ClientConfigProfile; profileSource?: { name: string; file: string } } {
  const environment = envconfigEnvironment(env, cwd);
  const explicitFile = environment.TEMPORAL_CONFIG_FILE;
  // The same lookup envconfig makes, on the same variables it is given (HOME, XDG_CONFIG_HOME: the OS's, not Prefline's settings).
  const file = explicitFile !== undefined ? resolve(cwd, explicitFile) : defaultTemporalConfigFile(environment);
  if (explicitFile !== undefined && !existsSync(file as string)) throw new ConfigError(`TEMPORAL_CONFIG_FILE: no file at ${file}`);
  const name = environment.TEMPORAL_PROFILE;
  const fileExists = file !== undefined && existsSync(file);
  if (!fileExists) {
    if (name !== undefined) throw new ConfigError(`TEMPORAL_PROFILE is "${name}", but there is no Temporal config file${file ? ` (looked for ${file}; set TEMPORAL_CONFIG_FILE)` : ''}`);
    return { profile: loadClientConfigProfile({ disableFile: true, overrideEnvVars: environment }) };
  }
  try {
    const profile = loadClientConfigProfile({ configSource: { path: file }, overrideEnvVars: environment, ...(name !== undefined ? { profile: name } : {}) });
    return { profile, profileSource: { name: name ?? 'default', file } };
  } catch (err) {
    // A file without any [profile.…] table makes envconfig fail on the missing table: no profiles.
    if (err instanceof TypeError && name === undefined) return { profile: loadClientConfigProfile({ disableFile: true, overrideEnvVars: environment }) };
    const reason = err instanceof Error ? err.message : String(err);
    if (name !== undefined && /not found/.test(reason)) throw new ConfigError(`TEMPORAL_PROFILE: no profile "${name}" in ${file}`);
    throw new ConfigError(`the Temporal config file ${file} could not be read: ${reason.split('\n')[0]}`);
  }
}

/** Connection options of a profile (envconfig's own mapping: an API key alone turns TLS on). Reads the TLS files. */
function connectionFromProfile(
  profile: ClientConfigProfile,
  source: { name: string; file: string } | undefined,
): { tls?: TLSConfig | boolean; apiKey?: string; metadata?: Record<string, string> } {
  let options;
  try {
    options = toClientOptions(profile).connectionOptions;
  } catch (err) {
    const failed = err as NodeJS.ErrnoException & { path?: string };
    const where = Object.entries(TLS_PATH_VARIABLES)
      .map(([variable, key]) => `${variable}${source ? ` or ${key} of profile "${source.name}"` : ''}`)
      .join(', ');
    throw new ConfigError(`a Temporal TLS file could not be read (${failed.path ?? failed.message}${failed.code ? `: ${failed.code}` : ''}); check ${where}`);
  }
  const tls = options.tls ?? undefined;
  // envconfig drops a certificate without its key (or a key without its certificate) silently.
  const halfPair = (profile.tls?.clientCert === undefined) !== (profile.tls?.clientKey === undefined);
  if (halfPair && !profile.tls?.disabled) {
    throw new ConfigError('a Temporal client certificate needs both its certificate and its key (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or the profile\'s tls.client_cert_* and tls.client_key_*)');
  }
  // grpc_meta values are strings in TOML and in the environment.
  const metadata = profile.grpcMeta && Object.keys(profile.grpcMeta).length > 0 ? profile.grpcMeta : undefined;
  return {
    ...(tls !== undefined ? { tls: stripUndefined(tls) } : {}),
    ...(options.apiKey !== undefined && options.apiKey !== '' ? { apiKey: options.apiKey as string } : {}),
    ...(metadata !== undefined ? { metadata } : {}),
  };
}

function stripUndefined(tls: TLSConfig | boolean): TLSConfig | boolean {
  if (typeof tls === 'boolean') return tls;
  return Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) as TLSConfig;
}

/** What the SDK's Connection.connect and NativeConnection.connect take: the one place these options are built. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export function temporalConnectionOptions(temporal: TemporalSettings): TemporalConnectionOptions {
  return {
    address: temporal.address,
    ...(temporal.tls !== undefined ? { tls: temporal.tls } : {}),
    ...(temporal.apiKey !== undefined ? { apiKey: temporal.apiKey } : {}),
    ...(temporal.metadata !== undefined ? { metadata: temporal.metadata } : {}),
  };
}

/** True when the settings ask for TLS (an API key alone implies it). */
export function usesTls(temporal: TemporalSettings): boolean {
  return temporal.tls === undefined ? temporal.apiKey !== undefined : temporal.tls !== false;
}

/**
 * The settings in words for logs and messages, e.g. `127.0.0.1:7233, namespace default, TLS (private
 * CA, server name localhost, client certificate), API key`. Never any key or certificate material.
 */
export function describeTemporal(temporal: TemporalSettings): string {
  const parts = [temporal.address, `namespace ${temporal.namespace}`];
  if (usesTls(temporal)) {
    const tls = typeof temporal.tls === 'object' ? temporal.tls : {};
    const details = [
      tls.serverRootCACertificate ? 'private CA' : 'system CAs',
      ...(tls.serverNameOverride ? [`server name ${tls.serverNameOverride}`] : []),
      ...(tls.clientCertPair ? ['client certificate'] : []),
    ];
    parts.push(`TLS (${details.join(', ')})`);
  } else parts.push('plain text');
  if (temporal.apiKey !== undefined) parts.push('API key');
  if (temporal.profile) parts.push(`profile "${temporal.profile.name}" of ${temporal.profile.file}`);
  return parts.join(', ');
}

/**
 * Base URL of the Temporal Web UI for links: PREFLINE_TEMPORAL_UI_URL, else the embedded dev server's
 * UI (`prefline up`); unknown for an external server without PREFLINE_TEMPORAL_UI_URL.
 */
export function temporalUiBase(temporal: TemporalSettings): string | undefined {
  if (temporal.uiUrl !== undefined) return temporal.uiUrl;
  if (temporal.external) return undefined;
  const host = temporal.address.slice(0, Math.max(0, temporal.address.lastIndexOf(':')));
  const reachable = host === '' || host === '0.0.0.0' || host === '[::]' || host === '::' ? '127.0.0.1' : host;
  return `http://${reachable}:${temporal.uiPort}`;
}

/** `<ui>/namespaces/<ns>/workflows/<id>`: the workflow's page in the Temporal UI, when the UI is known. */
export function temporalUiLink(temporal: TemporalSettings, workflowId: string): string | undefined {
  const base = temporalUiBase(temporal);
  return base === undefined ? undefined : `${base}/namespaces/${encodeURIComponent(temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
