/**
 * Inference backends: Replicate (always registered) and an OpenAI-compatible server (when configured);
 * and the rules under which the workers download URLs a model chose (its output files).
 */
import { invalidHostEntries } from '../connectors/http/addresses';
import { type Env, ConfigError, duration, int, list, text } from './read';
import type { PreflineConfig } from './types';

export function readInference(env: Env): Pick<PreflineConfig, 'inference' | 'downloads'> {
  return {
    downloads: readDownloads(env),
    inference: {
      replicate: {
        ...(env.REPLICATE_API_TOKEN ? { apiToken: env.REPLICATE_API_TOKEN } : {}),
        baseUrl: text(env, 'PREFLINE_REPLICATE_BASE_URL').replace(/\/+$/, ''),
        maxWaitMs: duration(env, 'PREFLINE_REPLICATE_MAX_WAIT'),
      },
      ...(env.PREFLINE_OPENAI_BASE_URL
        ? {
            openai: {
              baseUrl: env.PREFLINE_OPENAI_BASE_URL.replace(/\/+$/, ''),
              ...(env.PREFLINE_OPENAI_API_KEY ? { apiKey: env.PREFLINE_OPENAI_API_KEY } : {}),
              imageModels: list(env, 'PREFLINE_OPENAI_IMAGE_MODELS'),
              timeoutMs: duration(env, 'PREFLINE_OPENAI_TIMEOUT'),
            },
          }
        : {}),
    },
  };
}

function readDownloads(env: Env): PreflineConfig['downloads'] {
  const maxBytes = int(env, 'PREFLINE_DOWNLOAD_MAX_BYTES');
  if (maxBytes === 0) throw new ConfigError('PREFLINE_DOWNLOAD_MAX_BYTES must be at least 1 (bytes), got "0"');
  return {
    allowHttpHosts: hostList(env, 'PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS'),
    allowHosts: hostList(env, 'PREFLINE_DOWNLOAD_ALLOW_HOSTS'),
    maxBytes,
    timeoutMs: duration(env, 'PREFLINE_DOWNLOAD_TIMEOUT'),
  };
}

/** A comma-separated list of host names, IP addresses and CIDR ranges; a malformed entry is a ConfigError naming it. */
export function hostList(env: Env, name: string): string[] {
  const entries = list(env, name);
  const invalid = invalidHostEntries(entries);
  if (invalid.length > 0) throw new ConfigError(`${name} takes host names, IP addresses and CIDR ranges (e.g. gpu.lan,10.1.0.0/16), got ${invalid.map((e) => `"${e}"`).join(', ')}`);
  return entries;
}
