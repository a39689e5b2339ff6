/** Campaign webhooks (connectors/webhook.ts): the signing secret and the address rules of the workers that call them. */
import { MIN_WEBHOOK_SECRET_LENGTH } from '../core/webhook-signature';
import { hostList } from './inference';
import { type Env, ConfigError, duration } from './read';
import type { PreflineConfig } from './types';

export function readWebhooks(env: Env): Pick<PreflineConfig, 'webhooks'> {
  const secret = env.PREFLINE_WEBHOOK_SECRET;
  // Empty means unset (webhooks refused); a short one is a deployment mistake: anyone could guess it.
  if (secret !== undefined && secret !== '' && secret.trim().length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new ConfigError(`PREFLINE_WEBHOOK_SECRET must be at least ${MIN_WEBHOOK_SECRET_LENGTH} characters (e.g. \`openssl rand -hex 32\`), or unset`);
  }
  const timeoutMs = duration(env, 'PREFLINE_WEBHOOK_TIMEOUT');
  if (timeoutMs < 1000) throw new ConfigError('PREFLINE_WEBHOOK_TIMEOUT must be at least 1s');
  return {
    webhooks: {
      ...(secret ? { secret } : {}),
      allowHttpHosts: hostList(env, 'PREFLINE_WEBHOOK_ALLOW_HTTP_HOSTS'),
      allowHosts: hostList(env, 'PREFLINE_WEBHOOK_ALLOW_HOSTS'),
      timeoutMs,
    },
  };
}
