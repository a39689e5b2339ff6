import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ConfigError, loadConfig } from '../../config';
import { configError } from '../helpers/config-error';

const CWD = '/srv/prefline';
/** The command's settings when none of its variables is set: status and close only, nobody starts. */
const NO_STARTS = { ops: { users: [], usergroups: [] }, models: [], channelDefaults: {}, startsPerHour: 10 };

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
      commands: NO_STARTS,
    });
    assert.deepEqual(loadConfig({ PREFLINE_SLACK_BOT_TOKEN: 'xoxb-1', PREFLINE_DATA_DIR: '/var/lib/prefline' }, CWD).slack, {
      botToken: 'xoxb-1', apiUrl: 'https://slack.com/api/', allowedUsers: [], journalDir: '/var/lib/prefline/slack-journal', commands: NO_STARTS,
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

  describe('the /prefline command', () => {
    const starts = { PREFLINE_SLACK_STARTERS: 'U0ALICE01, S0STARTRS', PREFLINE_SLACK_START_MODELS: 'demo:shapes,demo:text, demo:shapes' };

    it('should read who may start, who are ops, the models (first the default), the rate and each channel\'s defaults', () => {
      const c = loadConfig({
        ...starts,
        PREFLINE_SLACK_OPS: 'U0OPS0001,S0OPSTEAM',
        PREFLINE_SLACK_STARTS_PER_HOUR: '3',
        PREFLINE_SLACK_CHANNEL_DEFAULTS: '{"C0FEEDBK01": {"model": "demo:text", "candidates": 2, "votesPerCandidate": 1, "deadline": "2h"}, "*": {"candidates": 3}}',
      }, CWD);
      assert.deepEqual(c.slack?.commands, {
        starters: { users: ['U0ALICE01'], usergroups: ['S0STARTRS'] },
        ops: { users: ['U0OPS0001'], usergroups: ['S0OPSTEAM'] },
        models: ['demo:shapes', 'demo:text'],
        channelDefaults: { C0FEEDBK01: { model: 'demo:text', candidates: 2, votesPerCandidate: 1, deadline: '2h' }, '*': { candidates: 3 } },
        startsPerHour: 3,
      });
    });

    it('should read the channel defaults from a JSON file', () => {
      const dir = mkdtempSync(join(tmpdir(), 'prefline-slack-defaults-'));
      writeFileSync(join(dir, 'defaults.json'), JSON.stringify({ C0FEEDBK01: { deadline: '30m' } }));
      assert.deepEqual(loadConfig({ ...starts, PREFLINE_SLACK_CHANNEL_DEFAULTS: 'defaults.json' }, dir).slack?.commands.channelDefaults, { C0FEEDBK01: { deadline: '30m' } });
    });

    it('should refuse at startup what a start could not use, naming the variable and the problem', () => {
      const refused = (env: Record<string, string>, pattern: RegExp, variable: string) => assert.match(configError(() => loadConfig(env, CWD), variable).message, pattern);
      refused({ PREFLINE_SLACK_STARTERS: 'alice' }, /"alice" is neither a Slack user id \(U…\) nor a user group id/, 'PREFLINE_SLACK_STARTERS');
      refused({ PREFLINE_SLACK_OPS: '#ops' }, /"#ops" is neither a Slack user id/, 'PREFLINE_SLACK_OPS');
      refused({ PREFLINE_SLACK_STARTERS: 'U0ALICE01' }, /required with PREFLINE_SLACK_STARTERS/, 'PREFLINE_SLACK_START_MODELS');
      refused({ PREFLINE_SLACK_START_MODELS: 'demo:shapes' }, /PREFLINE_SLACK_STARTERS is not: nobody may start/, 'PREFLINE_SLACK_START_MODELS');
      refused({ ...starts, PREFLINE_SLACK_START_MODELS: 'demo:nope' }, /unknown demo model "nope"/, 'PREFLINE_SLACK_START_MODELS');
      refused({ ...starts, PREFLINE_SLACK_START_MODELS: 'dall-e' }, /is not of the form "backend:model"/, 'PREFLINE_SLACK_START_MODELS');
      const defaults = (json: string) => ({ ...starts, PREFLINE_SLACK_CHANNEL_DEFAULTS: json });
      const variable = 'PREFLINE_SLACK_CHANNEL_DEFAULTS';
      refused(defaults('{"C0FEEDBK01": {"model": "demo:gradient"}}'), /model must be one of PREFLINE_SLACK_START_MODELS/, variable);
      refused(defaults('{"#ox-feedback": {}}'), /"#ox-feedback" is not a Slack channel id/, variable);
      refused(defaults('{"C0FEEDBK01": {"candidates": 9}}'), /candidates must be an integer from 1 to 8/, variable);
      refused(defaults('{"C0FEEDBK01": {"votesPerCandidate": 0}}'), /votesPerCandidate must be an integer from 1 to 10000/, variable);
      refused(defaults('{"C0FEEDBK01": {"deadline": "tomorrow"}}'), /deadline must be a duration like "2h"/, variable);
      refused(defaults('{"C0FEEDBK01": {"quorum": 3}}'), /unknown field "quorum"/, variable);
      refused(defaults('{"C0FEEDBK01": 3}'), /must be an object/, variable);
      refused(defaults('{not json'), /not valid JSON/, variable);
      refused(defaults('missing.json'), /neither JSON nor an existing file/, variable);
      refused({ PREFLINE_SLACK_CHANNEL_DEFAULTS: '{}' }, /PREFLINE_SLACK_STARTERS is not/, variable);
      refused({ ...starts, PREFLINE_SLACK_STARTS_PER_HOUR: 'lots' }, /must be a non-negative integer/, 'PREFLINE_SLACK_STARTS_PER_HOUR');
    });
  });
});
