import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../config';

describe('config: replies by IMAP', () => {
  let dir: string;
  const base = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PREFLINE_DATA_DIR: dir, PREFLINE_EMAIL_INBOUND_DOMAIN: 'in.example.com', PREFLINE_IMAP_HOST: 'imap.example.com', PREFLINE_IMAP_USER: 'replies@example.com',
    PREFLINE_IMAP_PASSWORD: 's3cret', ...extra,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-config-imap-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should turn email on with PREFLINE_IMAP_HOST alone (no SMTP), with secure defaults', () => {
    const email = loadConfig(base(), dir).email;
    assert.deepEqual(email?.imap, {
      host: 'imap.example.com', port: 993, security: 'tls', user: 'replies@example.com', password: 's3cret', mailbox: 'INBOX', pollMs: 60_000, maxBytes: 2 * 1024 * 1024,
    });
    assert.equal(email?.inbound, undefined, 'no SMTP listener');
    assert.equal(email?.smtp, undefined);
  });

  it('should read every IMAP variable, the password from a file, and port 143 without implicit TLS', () => {
    writeFileSync(join(dir, 'imap.pass'), 'from-a-file\n');
    writeFileSync(join(dir, 'ca.pem'), 'PEM');
    const { imap } = loadConfig(base({
      PREFLINE_IMAP_PASSWORD: undefined, PREFLINE_IMAP_PASSWORD_FILE: 'imap.pass', PREFLINE_IMAP_SECURE: 'STARTTLS', PREFLINE_IMAP_TLS_CA: 'ca.pem',
      PREFLINE_IMAP_MAILBOX: 'Votes', PREFLINE_IMAP_PROCESSED_MAILBOX: 'Votes.Done', PREFLINE_IMAP_POLL_SECONDS: '15', PREFLINE_EMAIL_INBOUND_MAX_BYTES: '100000',
    }), dir).email!;
    assert.deepEqual(imap, {
      host: 'imap.example.com', port: 143, security: 'starttls', caFile: join(dir, 'ca.pem'), user: 'replies@example.com', password: 'from-a-file',
      mailbox: 'Votes', processedMailbox: 'Votes.Done', pollMs: 15_000, maxBytes: 100_000,
    });
    assert.equal(loadConfig(base({ PREFLINE_IMAP_SECURE: 'none', PREFLINE_IMAP_PORT: '1143' }), dir).email!.imap!.port, 1143);
  });

  it('should refuse bad or incomplete IMAP settings with an error naming the variable', () => {
    const bad: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ PREFLINE_EMAIL_INBOUND_DOMAIN: undefined }, /PREFLINE_IMAP_HOST needs PREFLINE_EMAIL_INBOUND_DOMAIN/],
      [{ PREFLINE_EMAIL_INBOUND_PORT: '2525' }, /PREFLINE_EMAIL_INBOUND_PORT and PREFLINE_IMAP_HOST are both set/],
      [{ PREFLINE_IMAP_HOST: 'imap example.com' }, /PREFLINE_IMAP_HOST/],
      [{ PREFLINE_IMAP_SECURE: 'ssl' }, /PREFLINE_IMAP_SECURE must be tls, starttls or none/],
      [{ PREFLINE_IMAP_PORT: '0' }, /PREFLINE_IMAP_PORT must be a port number/],
      [{ PREFLINE_IMAP_PORT: '70000' }, /PREFLINE_IMAP_PORT must be a port number/],
      [{ PREFLINE_IMAP_PORT: 'imaps' }, /PREFLINE_IMAP_PORT must be a non-negative integer/],
      [{ PREFLINE_IMAP_USER: undefined }, /PREFLINE_IMAP_USER is required/],
      [{ PREFLINE_IMAP_PASSWORD: undefined }, /set one of PREFLINE_IMAP_PASSWORD or PREFLINE_IMAP_PASSWORD_FILE/],
      [{ PREFLINE_IMAP_PASSWORD_FILE: 'pass.txt' }, /set one of PREFLINE_IMAP_PASSWORD or PREFLINE_IMAP_PASSWORD_FILE/],
      [{ PREFLINE_IMAP_PASSWORD: undefined, PREFLINE_IMAP_PASSWORD_FILE: 'missing.txt' }, /PREFLINE_IMAP_PASSWORD_FILE: cannot read .*missing\.txt \(ENOENT\)/],
      [{ PREFLINE_IMAP_MAILBOX: 'In\r\nbox' }, /PREFLINE_IMAP_MAILBOX must be a mailbox name/],
      [{ PREFLINE_IMAP_PROCESSED_MAILBOX: 'inbox' }, /PREFLINE_IMAP_PROCESSED_MAILBOX must differ from PREFLINE_IMAP_MAILBOX/],
      [{ PREFLINE_IMAP_POLL_SECONDS: '0' }, /PREFLINE_IMAP_POLL_SECONDS must be between 1 and 3600/],
      [{ PREFLINE_IMAP_POLL_SECONDS: '1.5' }, /PREFLINE_IMAP_POLL_SECONDS must be a non-negative integer/],
      [{ PREFLINE_IMAP_SECURE: 'none', PREFLINE_IMAP_TLS_CA: 'ca.pem' }, /PREFLINE_IMAP_TLS_CA is set but PREFLINE_IMAP_SECURE=none/],
    ];
    for (const [env, message] of bad) {
      assert.throws(() => loadConfig(base(env), dir), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    }
  });

  it('should never put the password in an error message', () => {
    for (const env of [{ PREFLINE_IMAP_SECURE: 'bogus' }, { PREFLINE_IMAP_PORT: 'x' }, { PREFLINE_IMAP_MAILBOX: '\u0000' }]) {
      assert.throws(() => loadConfig(base(env), dir), (err: Error) => !err.message.includes('s3cret'));
    }
  });
});
