/** The Slack channel: present when any PREFLINE_SLACK_* variable is set. */
import { type Env, ConfigError, list, path, text } from './read';
import { readSlackCommands } from './starts';
import type { PreflineConfig } from './types';

const SLACK_VARIABLES = [
  'BOT_TOKEN', 'SIGNING_SECRET', 'APP_TOKEN', 'API_URL', 'ALLOWED_USERS', 'ALLOWED_USERGROUP', 'TEAM_IDS', 'RESPONSE_URL_ORIGINS',
  'STARTERS', 'OPS', 'START_MODELS', 'CHANNEL_DEFAULTS',
].map((n) => `PREFLINE_SLACK_${n}`);

/** `https://host[:port]` exactly (what `new URL(x).origin` gives); `http://` only for loopback stand-ins. */
function origin(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const loopback = url !== undefined && /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/.test(url.hostname);
  if (!url || url.origin !== value.replace(/\/$/, '') || !(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) {
    throw new ConfigError(`PREFLINE_SLACK_RESPONSE_URL_ORIGINS: "${value}" is not an https origin like https://hooks.slack.com (no path; http only on loopback)`);
  }
  return url.origin;
}

export function readSlack(env: Env, cwd: string, dataDir: string): Pick<PreflineConfig, 'slack'> {
  const secret = env.PREFLINE_SLACK_SIGNING_SECRET;
  // Empty means unset here as everywhere (no Slack routes at all); a blank one is a deployment mistake:
  // fail at startup rather than verify against a secret anyone could guess.
  if (secret !== undefined && secret !== '' && secret.trim() === '') throw new ConfigError('PREFLINE_SLACK_SIGNING_SECRET is blank; set the app\'s signing secret or unset the variable');
  if (!SLACK_VARIABLES.some((n) => env[n] !== undefined && env[n] !== '')) return {};
  const users = list(env, 'PREFLINE_SLACK_ALLOWED_USERS');
  const badUser = users.find((u) => !/^[UW][A-Z0-9]{2,30}$/.test(u));
  if (badUser) throw new ConfigError(`PREFLINE_SLACK_ALLOWED_USERS: "${badUser}" is not a Slack user id (U…)`);
  const group = env.PREFLINE_SLACK_ALLOWED_USERGROUP?.trim();
  if (group && !/^S[A-Z0-9]{2,30}$/.test(group)) throw new ConfigError(`PREFLINE_SLACK_ALLOWED_USERGROUP: "${group}" is not a Slack user group id (S…)`);
  const teams = list(env, 'PREFLINE_SLACK_TEAM_IDS');
  const badTeam = teams.find((t) => !/^[TE][A-Z0-9]{2,30}$/.test(t));
  if (badTeam) throw new ConfigError(`PREFLINE_SLACK_TEAM_IDS: "${badTeam}" is not a Slack team id (T…) or Enterprise Grid org id (E…)`);
  const origins = list(env, 'PREFLINE_SLACK_RESPONSE_URL_ORIGINS').map(origin);
  return {
    slack: {
      ...(env.PREFLINE_SLACK_BOT_TOKEN ? { botToken: env.PREFLINE_SLACK_BOT_TOKEN } : {}),
      ...(secret ? { signingSecret: secret } : {}),
      ...(env.PREFLINE_SLACK_APP_TOKEN ? { appToken: env.PREFLINE_SLACK_APP_TOKEN } : {}),
      apiUrl: text(env, 'PREFLINE_SLACK_API_URL'),
      allowedUsers: users,
      ...(group ? { allowedUsergroup: group } : {}),
      ...(teams.length > 0 ? { teamIds: teams } : {}),
      ...(origins.length > 0 ? { responseUrlOrigins: origins } : {}),
      journalDir: path(env, 'PREFLINE_SLACK_JOURNAL_DIR', cwd, dataDir),
      commands: readSlackCommands(env, cwd),
    },
  };
}
