/** The Slack channel: present when any PREFLINE_SLACK_* variable is set. */
import { type Env, ConfigError, list, path, text } from './read';
import type { PreflineConfig } from './types';

const SLACK_VARIABLES = ['BOT_TOKEN', 'SIGNING_SECRET', 'APP_TOKEN', 'API_URL', 'ALLOWED_USERS', 'ALLOWED_USERGROUP'].map((n) => `PREFLINE_SLACK_${n}`);

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
  return {
    slack: {
      ...(env.PREFLINE_SLACK_BOT_TOKEN ? { botToken: env.PREFLINE_SLACK_BOT_TOKEN } : {}),
      ...(secret ? { signingSecret: secret } : {}),
      ...(env.PREFLINE_SLACK_APP_TOKEN ? { appToken: env.PREFLINE_SLACK_APP_TOKEN } : {}),
      apiUrl: text(env, 'PREFLINE_SLACK_API_URL'),
      allowedUsers: users,
      ...(group ? { allowedUsergroup: group } : {}),
      journalDir: path(env, 'PREFLINE_SLACK_JOURNAL_DIR', cwd, dataDir),
    },
  };
}
