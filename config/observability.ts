/** How a process can be watched: its log format, and the ops endpoints (metrics and health) of workers and the gateway. */
import { LOG_FORMATS, type LogFormat } from '../ops/log';
import { type Env, ConfigError, flag, optionalText, text } from './read';
import type { ListenAddress, PreflineConfig } from './types';

export const WORKER_METRICS_ADDRESS = 'PREFLINE_WORKER_METRICS_ADDRESS';
export const GATEWAY_METRICS_ADDRESS = 'PREFLINE_GATEWAY_METRICS_ADDRESS';

/** The value that turns an endpoint off where it would be on by default (under `prefline up`). */
const OFF = 'off';

export function readObservability(env: Env): Pick<PreflineConfig, 'logFormat' | 'metrics' | 'sourceMaps'> {
  const logFormat = text(env, 'PREFLINE_LOG_FORMAT') as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) throw new ConfigError(`PREFLINE_LOG_FORMAT must be ${LOG_FORMATS.join(' or ')}, got "${logFormat}"`);
  const worker = listenAddress(WORKER_METRICS_ADDRESS, optionalText(env, WORKER_METRICS_ADDRESS));
  const gateway = listenAddress(GATEWAY_METRICS_ADDRESS, optionalText(env, GATEWAY_METRICS_ADDRESS));
  return { logFormat, sourceMaps: flag(env, 'PREFLINE_SOURCE_MAPS'), metrics: { ...(worker ? { worker } : {}), ...(gateway ? { gateway } : {}) } };
}

/**
 * What `prefline up` adds to its children's environment: the ops endpoints on by default, on the
 * loopback addresses of the settings table, unless the variable is set (`off` keeps one off).
 */
export function metricsEnvUnderUp(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [WORKER_METRICS_ADDRESS, GATEWAY_METRICS_ADDRESS]) {
    const value = optionalText(env, name, { otherwise: true });
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** `host:port` (IPv6 hosts in brackets; port 0 for a free one), `off`, or unset. */
export function listenAddress(name: string, raw: string | undefined): ListenAddress | undefined {
  if (raw === undefined || raw.trim().toLowerCase() === OFF) return undefined;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(\d{1,5})$/.exec(raw.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new ConfigError(`${name} must be host:port (e.g. 127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464) or off, got "${raw}"`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}
