import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ENVIRONMENT, documentedDefault, loadConfig, type Setting } from '../../config';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** A default spelled out as a value of the variable (placeholders filled as loadConfig fills them). */
function spelledOut(value: string): string {
  return value.replace('<data>', path.join(REPO_ROOT, '.prefline')).replace('<host>', '127.0.0.1').replace('<port>', '8080');
}

describe('config: the settings table', () => {
  // Each base turns on every reader (Slack, OpenAI, email); replies come by the inbound listener or by IMAP, never both.
  const everything = { PREFLINE_SLACK_BOT_TOKEN: 'xoxb-1', PREFLINE_OPENAI_BASE_URL: 'http://gpu.lan/v1', PREFLINE_SMTP_HOST: 'smtp.example.com', PREFLINE_EMAIL_FROM: 'ratings@example.com', PREFLINE_EMAIL_INBOUND_DOMAIN: 'in.example.com' };
  const bases: NodeJS.ProcessEnv[] = [
    { ...everything, PREFLINE_EMAIL_INBOUND_PORT: '2525' },
    { ...everything, PREFLINE_IMAP_HOST: 'imap.example.com', PREFLINE_IMAP_USER: 'u', PREFLINE_IMAP_PASSWORD: 'p' },
  ];

  it('should be where loadConfig takes its defaults from: setting a variable to its default changes nothing', () => {
    const withDefault = ENVIRONMENT.filter((s) => s.default !== undefined || s.sameAs !== undefined);
    assert.ok(withDefault.length >= 30, 'most settings have a default');
    for (const base of bases) {
      const unset = loadConfig(base, REPO_ROOT);
      for (const s of withDefault) {
        const value = s.sameAs !== undefined ? (ENVIRONMENT.find((o) => o.name === s.sameAs) as Setting).default! : s.default!;
        assert.deepEqual(loadConfig({ ...base, [s.name]: spelledOut(value) }, REPO_ROOT), unset, s.name);
      }
    }
  });

  it('should hold the default of the other mode where a mode changes the default', () => {
    const smtp = { PREFLINE_SMTP_HOST: 'smtp.example.com', PREFLINE_EMAIL_FROM: 'ratings@example.com', PREFLINE_SMTP_SECURE: '1' };
    assert.deepEqual(loadConfig(smtp, REPO_ROOT), loadConfig({ ...smtp, PREFLINE_SMTP_PORT: '465' }, REPO_ROOT));
    const imap = { ...bases[1], PREFLINE_IMAP_SECURE: 'starttls' };
    assert.deepEqual(loadConfig(imap, REPO_ROOT), loadConfig({ ...imap, PREFLINE_IMAP_PORT: '143' }, REPO_ROOT));
  });

  it('should name each variable once', () => {
    const names = ENVIRONMENT.map((s) => s.name);
    assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), []);
  });

  it('should document a default as its value, its note, or the setting it copies', () => {
    const doc = (name: string) => documentedDefault(ENVIRONMENT.find((s) => s.name === name) as Setting);
    assert.equal(doc('PREFLINE_SESSION_TTL'), '30d');
    assert.equal(doc('PREFLINE_LEDGER_READ_PORT'), '0 (random; advertised in <data>/ledger-endpoint.json)');
    assert.equal(doc('PREFLINE_SMTP_PORT'), '587 (465 with PREFLINE_SMTP_SECURE=1)');
    assert.equal(doc('PREFLINE_EMAIL_INBOUND_HOST'), 'PREFLINE_GATEWAY_HOST');
    assert.equal(doc('PREFLINE_RATER_KEY'), '(generated into <data>/secrets/rater.key)');
    assert.equal(doc('PREFLINE_SMTP_HOST'), '(none)');
  });
});
