/** The gateway: where it listens, the URL raters reach it at, and the rating page's sessions. */
import { type Env, duration, int, text } from './read';
import type { PreflineConfig } from './types';

export function readGateway(env: Env): Pick<PreflineConfig, 'gateway'> {
  const host = text(env, 'PREFLINE_GATEWAY_HOST');
  const port = int(env, 'PREFLINE_GATEWAY_PORT');
  // Links in posts must be reachable: a gateway bound to every interface is reached on loopback.
  const reachableHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    gateway: {
      host,
      port,
      publicUrl: text(env, 'PREFLINE_PUBLIC_URL', { placeholders: { host: reachableHost, port: String(port) } }).replace(/\/+$/, ''),
      ...(env.PREFLINE_WEB_ACCESS_CODE ? { accessCode: env.PREFLINE_WEB_ACCESS_CODE } : {}),
      sessionTtlMs: duration(env, 'PREFLINE_SESSION_TTL'),
    },
  };
}
