/**
 * The gateway: where it listens, the URL raters reach it at, and how raters of the rating page sign
 * in (invite links always; OIDC when PREFLINE_OIDC_ISSUER is set; typed names only with the open
 * panel), with the limits that protect sign-in and voting.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Env, ConfigError, duration, flag, int, optionalText, path, text } from './read';
import { readWebStarts } from './starts';
import type { PreflineConfig } from './types';

export function readGateway(env: Env, cwd: string, dataDir: string): Pick<PreflineConfig, 'gateway'> {
  const host = text(env, 'PREFLINE_GATEWAY_HOST');
  const port = int(env, 'PREFLINE_GATEWAY_PORT');
  // Links in posts must be reachable: a gateway bound to every interface is reached on loopback.
  const reachableHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const publicUrl = text(env, 'PREFLINE_PUBLIC_URL', { placeholders: { host: reachableHost, port: String(port) } }).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(publicUrl);
  } catch {
    throw new ConfigError(`PREFLINE_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`PREFLINE_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  const oidc = readOidc(env, cwd);
  const starts = readWebStarts(env, cwd, dataDir, oidc !== undefined);
  return {
    gateway: {
      host,
      port,
      publicUrl,
      ...(env.PREFLINE_WEB_ACCESS_CODE ? { accessCode: env.PREFLINE_WEB_ACCESS_CODE } : {}),
      sessionTtlMs: duration(env, 'PREFLINE_SESSION_TTL'),
      openPanel: flag(env, 'PREFLINE_WEB_OPEN_PANEL'),
      invitesDir: path(env, 'PREFLINE_INVITES_DIR', cwd, dataDir),
      inviteTtlMs: duration(env, 'PREFLINE_INVITE_TTL'),
      ...(oidc ? { oidc } : {}),
      trustProxyHops: int(env, 'PREFLINE_TRUST_PROXY_HOPS'),
      limits: {
        signInsPerHour: int(env, 'PREFLINE_WEB_SIGNINS_PER_HOUR'),
        votesPerMinute: int(env, 'PREFLINE_WEB_VOTES_PER_MINUTE'),
      },
      ...(starts ? { starts } : {}),
    },
  };
}

function readOidc(env: Env, cwd: string): PreflineConfig['gateway']['oidc'] {
  const issuer = optionalText(env, 'PREFLINE_OIDC_ISSUER')?.trim();
  if (issuer === undefined) {
    const stray = ['PREFLINE_OIDC_CLIENT_ID', 'PREFLINE_OIDC_CLIENT_SECRET', 'PREFLINE_OIDC_CLIENT_SECRET_FILE'].find((n) => env[n]);
    if (stray) throw new ConfigError(`${stray} is set but PREFLINE_OIDC_ISSUER is not`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new ConfigError(`PREFLINE_OIDC_ISSUER must be the issuer's URL, got "${issuer}"`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\./.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new ConfigError(`PREFLINE_OIDC_ISSUER must be https (http only on loopback), got "${issuer}"`);
  const clientId = env.PREFLINE_OIDC_CLIENT_ID?.trim();
  if (!clientId) throw new ConfigError('PREFLINE_OIDC_CLIENT_ID is required with PREFLINE_OIDC_ISSUER');
  const [inline, file] = [env.PREFLINE_OIDC_CLIENT_SECRET, env.PREFLINE_OIDC_CLIENT_SECRET_FILE];
  if (inline && file) throw new ConfigError('set PREFLINE_OIDC_CLIENT_SECRET or PREFLINE_OIDC_CLIENT_SECRET_FILE, not both');
  let clientSecret = inline || undefined;
  if (file) {
    try {
      clientSecret = readFileSync(resolve(cwd, file), 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new ConfigError(`PREFLINE_OIDC_CLIENT_SECRET_FILE: cannot read ${resolve(cwd, file)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (clientSecret === '') throw new ConfigError(`PREFLINE_OIDC_CLIENT_SECRET_FILE: ${resolve(cwd, file)} is empty`);
  }
  const scopes = text(env, 'PREFLINE_OIDC_SCOPES').split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes('openid')) scopes.unshift('openid');
  return { issuer, clientId, ...(clientSecret !== undefined ? { clientSecret } : {}), scopes: scopes.join(' ') };
}
