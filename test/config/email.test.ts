/** Email settings from the environment: off unless SMTP or the inbound listener is configured; SMTP, DKIM, inbound and rater lists. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseEmailLists } from '../../config';

describe('config: email', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-email-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should leave email off unless SMTP or the inbound listener is configured', () => {
    assert.equal(loadConfig({ PREFLINE_DATA_DIR: dir }).email, undefined);
  });

  it('should read SMTP, DKIM, inbound and list settings, and refuse incomplete or unsafe ones', () => {
    const lists = join(dir, 'lists.json');
    writeFileSync(lists, JSON.stringify({ reviewers: ['Alice@Example.com', 'bob@example.com'] }));
    const config = loadConfig({
      PREFLINE_DATA_DIR: dir, PREFLINE_SMTP_HOST: 'smtp.example.com', PREFLINE_SMTP_SECURE: '1', PREFLINE_SMTP_USER: 'u', PREFLINE_SMTP_PASS: 'p',
      PREFLINE_SMTP_POOL: '3', PREFLINE_SMTP_RATE_LIMIT: '10', PREFLINE_EMAIL_FROM: '"Prefline Ratings" <ratings@example.com>',
      PREFLINE_DKIM_DOMAIN: 'example.com', PREFLINE_DKIM_SELECTOR: 's1', PREFLINE_DKIM_PRIVATE_KEY_FILE: 'dkim.pem',
      PREFLINE_EMAIL_INBOUND_DOMAIN: 'Votes.Example.com', PREFLINE_EMAIL_INBOUND_PORT: '2525', PREFLINE_EMAIL_LISTS: lists, PREFLINE_EMAIL_CLOSING_NOTE: '1',
    }, dir);
    assert.deepEqual(config.email, {
      smtp: { host: 'smtp.example.com', port: 465, secure: true, requireTLS: false, user: 'u', pass: 'p', maxConnections: 3, rateLimit: 10, dkim: { domainName: 'example.com', keySelector: 's1', privateKeyFile: join(dir, 'dkim.pem') } },
      from: { name: 'Prefline Ratings', address: 'ratings@example.com' },
      inboundDomain: 'votes.example.com',
      inbound: { host: '127.0.0.1', port: 2525, maxBytes: 2 * 1024 * 1024 },
      lists: { reviewers: ['alice@example.com', 'bob@example.com'] },
      closingNote: true,
      stateDir: join(dir, 'email'),
    });
    assert.deepEqual(parseEmailLists('reviewers=a@x.test, b@x.test; leads=c@x.test', dir), { reviewers: ['a@x.test', 'b@x.test'], leads: ['c@x.test'] });
    assert.deepEqual(parseEmailLists('{"qa":["d@x.test"]}', dir), { qa: ['d@x.test'] });
    const bad: NodeJS.ProcessEnv[] = [
      { PREFLINE_SMTP_HOST: 'smtp.example.com' }, // no From
      { PREFLINE_SMTP_HOST: 'h', PREFLINE_EMAIL_FROM: 'Prefline\r\nBcc: x@y.test <a@example.com>' },
      { PREFLINE_SMTP_HOST: 'h', PREFLINE_EMAIL_FROM: 'a@example.com', PREFLINE_DKIM_DOMAIN: 'example.com' },
      { PREFLINE_EMAIL_INBOUND_PORT: '25' }, // no domain
      { PREFLINE_SMTP_HOST: 'h', PREFLINE_EMAIL_FROM: 'a@example.com', PREFLINE_EMAIL_LISTS: 'Bad Name=a@x.test' },
      { PREFLINE_SMTP_HOST: 'h', PREFLINE_EMAIL_FROM: 'a@example.com', PREFLINE_EMAIL_LISTS: 'qa=not-an-address' },
    ];
    for (const env of bad) assert.throws(() => loadConfig({ PREFLINE_DATA_DIR: dir, ...env }, dir), ConfigError, JSON.stringify(env));
  });
});
