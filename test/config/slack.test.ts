import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../config';

const CWD = '/srv/prefline';

describe('config: Slack', () => {
  it('should leave Slack out when no PREFLINE_SLACK_* variable is set (or all are empty)', () => {
    assert.equal(loadConfig({}, CWD).slack, undefined);
    assert.equal(loadConfig({ PREFLINE_SLACK_BOT_TOKEN: '', PREFLINE_SLACK_SIGNING_SECRET: '' }, CWD).slack, undefined);
  });

  it('should read every Slack variable', () => {
    const c = loadConfig({
      PREFLINE_SLACK_BOT_TOKEN: 'xoxb-1',
      PREFLINE_SLACK_SIGNING_SECRET: 'secret',
      PREFLINE_SLACK_APP_TOKEN: 'xapp-1',
      PREFLINE_SLACK_API_URL: 'http://127.0.0.1:9/api/',
      PREFLINE_SLACK_ALLOWED_USERS: ' U0ALICE01 , W0BOB0001,',
      PREFLINE_SLACK_ALLOWED_USERGROUP: 'S0RATERS1',
      PREFLINE_SLACK_JOURNAL_DIR: 'spool/slack',
    }, CWD);
    assert.deepEqual(c.slack, {
      botToken: 'xoxb-1',
      signingSecret: 'secret',
      appToken: 'xapp-1',
      apiUrl: 'http://127.0.0.1:9/api/',
      allowedUsers: ['U0ALICE01', 'W0BOB0001'],
      allowedUsergroup: 'S0RATERS1',
      journalDir: join(CWD, 'spool/slack'),
    });
    assert.deepEqual(loadConfig({ PREFLINE_SLACK_BOT_TOKEN: 'xoxb-1', PREFLINE_DATA_DIR: '/var/lib/prefline' }, CWD).slack, {
      botToken: 'xoxb-1', apiUrl: 'https://slack.com/api/', allowedUsers: [], journalDir: '/var/lib/prefline/slack-journal',
    });
  });

  it('should refuse a blank signing secret and ids that are not Slack ids', () => {
    assert.throws(() => loadConfig({ PREFLINE_SLACK_SIGNING_SECRET: '   ' }, CWD), (err: unknown) => err instanceof ConfigError && /SIGNING_SECRET is blank/.test(err.message));
    assert.throws(() => loadConfig({ PREFLINE_SLACK_ALLOWED_USERS: 'alice' }, CWD), /not a Slack user id/);
    assert.throws(() => loadConfig({ PREFLINE_SLACK_ALLOWED_USERGROUP: '@raters' }, CWD), /not a Slack user group id/);
  });

  it('should read the teams whose votes count and the allowed response_url origins, and refuse what they are not', () => {
    const c = loadConfig({ PREFLINE_SLACK_TEAM_IDS: 'T0OURS001, E0GRID001', PREFLINE_SLACK_RESPONSE_URL_ORIGINS: 'https://hooks.slack-gov.com/, http://127.0.0.1:9' }, CWD);
    assert.deepEqual(c.slack?.teamIds, ['T0OURS001', 'E0GRID001']);
    assert.deepEqual(c.slack?.responseUrlOrigins, ['https://hooks.slack-gov.com', 'http://127.0.0.1:9']);
    assert.equal(loadConfig({ PREFLINE_SLACK_BOT_TOKEN: 'xoxb-1' }, CWD).slack?.teamIds, undefined, 'unset: the bot token\'s team, learned at startup');
    assert.throws(() => loadConfig({ PREFLINE_SLACK_TEAM_IDS: 'acme' }, CWD), /PREFLINE_SLACK_TEAM_IDS: "acme" is not a Slack team id/);
    for (const bad of ['http://hooks.slack.com', 'https://hooks.slack.com/actions', 'hooks.slack.com', 'https://user@hooks.slack.com', 'ftp://x.test']) {
      assert.throws(() => loadConfig({ PREFLINE_SLACK_RESPONSE_URL_ORIGINS: bad }, CWD), (err: unknown) => err instanceof ConfigError && /RESPONSE_URL_ORIGINS: .* is not an https origin/.test(err.message), bad);
    }
  });
});
