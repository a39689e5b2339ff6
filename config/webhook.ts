/** Campaign webhooks (connectors/webhook.ts): the receivers by name, the signing secret and the address rules of the workers that call them. */
import { MIN_WEBHOOK_SECRET_LENGTH } from '../core/webhook-signature';
import { WEBHOOK_NAME, webhookUrlProblem } from '../workflows/campaign-notify-input';
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
      receivers: readReceivers(env.PREFLINE_WEBHOOKS),
      allowHttpHosts: hostList(env, 'PREFLINE_WEBHOOK_ALLOW_HTTP_HOSTS'),
      allowHosts: hostList(env, 'PREFLINE_WEBHOOK_ALLOW_HOSTS'),
      timeoutMs,
    },
  };
}

/**
 * PREFLINE_WEBHOOKS="results=https://hooks.example.com/a?token=…,ops=https://…": the receivers a campaign's
 * `notify.webhook` may name. The URLs stay here, on the workers (receivers put tokens in them); a comma
 * inside a URL is written %2C.
 */
function readReceivers(raw: string | undefined): Record<string, string> {
  const receivers: Record<string, string> = {};
  for (const entry of (raw ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!WEBHOOK_NAME.test(name)) throw new ConfigError(`PREFLINE_WEBHOOKS: "${entry.slice(0, 40)}…" must be name=URL, the name letters, digits, "-" and "_" (e.g. results=https://hooks.example.com/prefline)`);
    if (Object.hasOwn(receivers, name)) throw new ConfigError(`PREFLINE_WEBHOOKS: the receiver "${name}" is named twice`);
    const problem = webhookUrlProblem(entry.slice(eq + 1));
    if (problem) throw new ConfigError(`PREFLINE_WEBHOOKS: the URL of "${name}" ${problem}`);
    receivers[name] = entry.slice(eq + 1).trim();
  }
  return receivers;
}
