import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ENVIRONMENT, loadConfig, loadSecret } from '../../config';
import { configError } from '../helpers/config-error';

const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
const CWD = '/srv/prefline';

describe('config: loadConfig', () => {
  it('should default to an embedded, credential-free setup', () => {
    const c = loadConfig({}, CWD);
    assert.equal(c.dataDir, '/srv/prefline/.prefline');
    assert.deepEqual(c.temporal, {
      address: '127.0.0.1:7233',
      namespace: 'default',
      uiPort: 8233,
      external: false,
      binary: path.join(REPO_ROOT, '.tools', 'bin', 'temporal'),
    });
    assert.equal(c.taskQueue, 'prefline');
    assert.deepEqual(c.workerQueues, ['workflows', 'inference', 'ledger']);
    assert.equal(c.inferenceConcurrency, 4);
    assert.deepEqual(c.gateway, {
      host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080', sessionTtlMs: 30 * 24 * 3_600_000,
      // Invite-only: no open panel, no OIDC; invites under the data folder.
      openPanel: false, invitesDir: '/srv/prefline/.prefline/invites', inviteTtlMs: 30 * 86_400_000, trustProxyHops: 0,
      limits: { signInsPerHour: 30, votesPerMinute: 60 },
    });
    assert.deepEqual(c.ledger, {
      path: '/srv/prefline/.prefline/ledger.duckdb',
      readHost: '127.0.0.1',
      readPort: 0,
      endpointFile: '/srv/prefline/.prefline/ledger-endpoint.json',
    });
    assert.equal(c.artifactDir, '/srv/prefline/.prefline/artifacts');
    assert.equal(c.logLevel, 'info');
    assert.equal('accessCode' in c.gateway, false);
  });

  it('should treat empty variables as unset', () => {
    const env = Object.fromEntries(ENVIRONMENT.map((v) => [v.name, '']));
    assert.deepEqual(loadConfig(env, CWD), loadConfig({}, CWD));
  });

  it('should parse every variable', () => {
    const c = loadConfig(
      {
        PREFLINE_DATA_DIR: 'state',
        PREFLINE_TEMPORAL_ADDRESS: 'temporal.internal:7233',
        PREFLINE_TEMPORAL_NAMESPACE: 'ratings',
        PREFLINE_TEMPORAL_UI_PORT: '9233',
        PREFLINE_EXTERNAL_TEMPORAL: '1',
        PREFLINE_TASK_QUEUE: 'prefs',
        PREFLINE_WORKER_QUEUES: ' inference , ledger ',
        PREFLINE_INFERENCE_CONCURRENCY: '16',
        PREFLINE_GATEWAY_HOST: '10.0.0.5',
        PREFLINE_GATEWAY_PORT: '9000',
        PREFLINE_PUBLIC_URL: 'https://rate.example.com//',
        PREFLINE_WEB_ACCESS_CODE: 'letmein',
        PREFLINE_SESSION_TTL: '12h',
        PREFLINE_WEB_OPEN_PANEL: 'yes',
        PREFLINE_INVITES_DIR: 'invites-here',
        PREFLINE_INVITE_TTL: '7d',
        PREFLINE_OIDC_ISSUER: 'https://id.example.com/realms/team',
        PREFLINE_OIDC_CLIENT_ID: 'prefline',
        PREFLINE_OIDC_CLIENT_SECRET: 's3cret',
        PREFLINE_OIDC_SCOPES: 'email, profile',
        PREFLINE_TRUST_PROXY_HOPS: '1',
        PREFLINE_WEB_SIGNINS_PER_HOUR: '5',
        PREFLINE_WEB_VOTES_PER_MINUTE: '0',
        PREFLINE_LEDGER_PATH: 'db/ledger.duckdb',
        PREFLINE_LEDGER_READ_HOST: '0.0.0.0',
        PREFLINE_LEDGER_READ_PORT: '7000',
        PREFLINE_ARTIFACT_DIR: '/mnt/artifacts',
        PREFLINE_TEMPORAL_BIN: 'bin/temporal',
        PREFLINE_LOG_LEVEL: 'debug',
      },
      CWD,
    );
    assert.equal(c.dataDir, '/srv/prefline/state');
    assert.deepEqual(c.temporal, { address: 'temporal.internal:7233', namespace: 'ratings', uiPort: 9233, external: true, binary: '/srv/prefline/bin/temporal' });
    assert.equal(c.taskQueue, 'prefs');
    assert.deepEqual(c.workerQueues, ['inference', 'ledger']);
    assert.equal(c.inferenceConcurrency, 16);
    assert.deepEqual(c.gateway, {
      host: '10.0.0.5', port: 9000, publicUrl: 'https://rate.example.com', accessCode: 'letmein', sessionTtlMs: 12 * 3_600_000,
      openPanel: true, invitesDir: '/srv/prefline/invites-here', inviteTtlMs: 7 * 86_400_000, trustProxyHops: 1,
      oidc: { issuer: 'https://id.example.com/realms/team', clientId: 'prefline', clientSecret: 's3cret', scopes: 'openid email profile' },
      limits: { signInsPerHour: 5, votesPerMinute: 0 },
    });
    assert.deepEqual(c.ledger, { path: '/srv/prefline/db/ledger.duckdb', readHost: '0.0.0.0', readPort: 7000, endpointFile: '/srv/prefline/state/ledger-endpoint.json' });
    assert.equal(c.artifactDir, '/mnt/artifacts');
    assert.equal(c.logLevel, 'debug');
  });

  it('should default the releases folder and inference backends (Replicate without a token, no OpenAI server)', () => {
    const c = loadConfig({}, CWD);
    assert.equal(c.releasesDir, '/srv/prefline/.prefline/releases');
    assert.deepEqual(c.inference, { replicate: { baseUrl: 'https://api.replicate.com/v1', maxWaitMs: 10 * 60_000 } });
  });

  it('should parse the releases folder and inference variables', () => {
    const c = loadConfig(
      {
        PREFLINE_RELEASES_DIR: 'out/releases',
        REPLICATE_API_TOKEN: 'r8_secret',
        PREFLINE_REPLICATE_BASE_URL: 'http://127.0.0.1:9999/v1/',
        PREFLINE_REPLICATE_MAX_WAIT: '30m',
        PREFLINE_OPENAI_BASE_URL: 'http://gpu.lan:8000/v1/',
        PREFLINE_OPENAI_API_KEY: 'sk-local',
        PREFLINE_OPENAI_IMAGE_MODELS: ' sdxl , ,flux ',
        PREFLINE_OPENAI_TIMEOUT: '5m',
      },
      CWD,
    );
    assert.equal(c.releasesDir, '/srv/prefline/out/releases');
    assert.deepEqual(c.inference, {
      replicate: { apiToken: 'r8_secret', baseUrl: 'http://127.0.0.1:9999/v1', maxWaitMs: 30 * 60_000 },
      openai: { baseUrl: 'http://gpu.lan:8000/v1', apiKey: 'sk-local', imageModels: ['sdxl', 'flux'], timeoutMs: 5 * 60_000 },
    });
  });

  it('should refuse bad inference durations, naming the variable', () => {
    configError(() => loadConfig({ PREFLINE_REPLICATE_MAX_WAIT: 'ten minutes' }, CWD), 'PREFLINE_REPLICATE_MAX_WAIT');
    configError(() => loadConfig({ PREFLINE_OPENAI_BASE_URL: 'http://x/v1', PREFLINE_OPENAI_TIMEOUT: '120' }, CWD), 'PREFLINE_OPENAI_TIMEOUT');
  });

  it('should default output downloads to https only, no private addresses, 64 MiB and 120 s', () => {
    assert.deepEqual(loadConfig({}, CWD).downloads, { allowHttpHosts: [], allowHosts: [], maxBytes: 64 * 1024 * 1024, timeoutMs: 120_000 });
  });

  it('should read the download rules: hosts, addresses and CIDR ranges, a byte cap and a timeout', () => {
    const c = loadConfig(
      {
        PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS: ' gpu.lan , 10.1.2.3,',
        PREFLINE_DOWNLOAD_ALLOW_HOSTS: 'gpu.lan,10.1.0.0/16,fd12::/16',
        PREFLINE_DOWNLOAD_MAX_BYTES: '1048576',
        PREFLINE_DOWNLOAD_TIMEOUT: '30s',
      },
      CWD,
    );
    assert.deepEqual(c.downloads, { allowHttpHosts: ['gpu.lan', '10.1.2.3'], allowHosts: ['gpu.lan', '10.1.0.0/16', 'fd12::/16'], maxBytes: 1_048_576, timeoutMs: 30_000 });
  });

  it('should refuse bad download rules, naming the variable and the value', () => {
    for (const [name, bad] of [
      ['PREFLINE_DOWNLOAD_ALLOW_HOSTS', 'http://gpu.lan'],
      ['PREFLINE_DOWNLOAD_ALLOW_HOSTS', '10.0.0.0/40'],
      ['PREFLINE_DOWNLOAD_ALLOW_HOSTS', 'gpu.lan:8000'],
      ['PREFLINE_DOWNLOAD_ALLOW_HTTP_HOSTS', '*'],
      ['PREFLINE_DOWNLOAD_MAX_BYTES', '64MiB'],
      ['PREFLINE_DOWNLOAD_MAX_BYTES', '-1'],
      ['PREFLINE_DOWNLOAD_MAX_BYTES', '0'],
      ['PREFLINE_DOWNLOAD_TIMEOUT', '120'],
    ] as const) {
      // Host lists name the bad entry among good ones.
      const value = name.endsWith('_HOSTS') ? `gpu.lan,${bad}` : bad;
      const err = configError(() => loadConfig({ [name]: value }, CWD), name);
      assert.ok(err.message.includes(`"${bad}"`), err.message);
    }
  });

  it('should default campaign webhooks to no secret (none sent), https only, no private addresses and 10 s', () => {
    assert.deepEqual(loadConfig({}, CWD).webhooks, { receivers: {}, allowHttpHosts: [], allowHosts: [], timeoutMs: 10_000 });
    const c = loadConfig({ PREFLINE_WEBHOOK_SECRET: 'a-secret-of-32-characters-000000', PREFLINE_WEBHOOK_ALLOW_HOSTS: 'hooks.lan,10.2.0.0/16', PREFLINE_WEBHOOK_ALLOW_HTTP_HOSTS: 'hooks.lan', PREFLINE_WEBHOOK_TIMEOUT: '3s' }, CWD);
    assert.deepEqual(c.webhooks, { secret: 'a-secret-of-32-characters-000000', receivers: {}, allowHttpHosts: ['hooks.lan'], allowHosts: ['hooks.lan', '10.2.0.0/16'], timeoutMs: 3000 });
  });

  it('should read the webhook receivers by name from PREFLINE_WEBHOOKS and refuse a bad entry, naming the variable', () => {
    const c = loadConfig({ PREFLINE_WEBHOOKS: ' results=https://hooks.example.com/p?token=s3cret%2Cx , ops-2=http://hooks.lan/ops' }, CWD);
    assert.deepEqual(c.webhooks.receivers, { results: 'https://hooks.example.com/p?token=s3cret%2Cx', 'ops-2': 'http://hooks.lan/ops' });
    for (const bad of ['https://hooks.example.com/p', 'results=', 'res ults=https://x.example.com/', 'a=https://x.example.com/,a=https://y.example.com/', 'a=ftp://x.example.com/', 'a=https://u:p@x.example.com/']) {
      configError(() => loadConfig({ PREFLINE_WEBHOOKS: bad }, CWD), 'PREFLINE_WEBHOOKS');
    }
  });

  it('should refuse a short webhook secret and bad webhook rules, naming the variable', () => {
    configError(() => loadConfig({ PREFLINE_WEBHOOK_SECRET: 'short' }, CWD), 'PREFLINE_WEBHOOK_SECRET');
    configError(() => loadConfig({ PREFLINE_WEBHOOK_ALLOW_HOSTS: 'hooks.lan,http://x' }, CWD), 'PREFLINE_WEBHOOK_ALLOW_HOSTS');
    configError(() => loadConfig({ PREFLINE_WEBHOOK_TIMEOUT: '10' }, CWD), 'PREFLINE_WEBHOOK_TIMEOUT');
    configError(() => loadConfig({ PREFLINE_WEBHOOK_TIMEOUT: '500ms' }, CWD), 'PREFLINE_WEBHOOK_TIMEOUT');
  });

  it('should keep absolute paths as given', () => {
    const c = loadConfig({ PREFLINE_DATA_DIR: '/var/lib/prefline', PREFLINE_TEMPORAL_BIN: '/usr/local/bin/temporal' }, CWD);
    assert.equal(c.dataDir, '/var/lib/prefline');
    assert.equal(c.temporal.binary, '/usr/local/bin/temporal');
    assert.equal(c.ledger.path, '/var/lib/prefline/ledger.duckdb');
  });

  it('should have no import root unless PREFLINE_IMPORT_ROOT names one, resolved against the working folder', () => {
    assert.equal('importRoot' in loadConfig({}, CWD), false);
    assert.equal('importRoot' in loadConfig({ PREFLINE_IMPORT_ROOT: '' }, CWD), false);
    assert.equal(loadConfig({ PREFLINE_IMPORT_ROOT: 'seed/images' }, CWD).importRoot, '/srv/prefline/seed/images');
    assert.equal(loadConfig({ PREFLINE_IMPORT_ROOT: '/data/seed' }, CWD).importRoot, '/data/seed');
  });

  it('should derive the public URL from host and port, using loopback for 0.0.0.0', () => {
    assert.equal(loadConfig({ PREFLINE_GATEWAY_HOST: '0.0.0.0', PREFLINE_GATEWAY_PORT: '8181' }, CWD).gateway.publicUrl, 'http://127.0.0.1:8181');
    assert.equal(loadConfig({ PREFLINE_GATEWAY_HOST: 'rate.lan' }, CWD).gateway.publicUrl, 'http://rate.lan:8080');
  });

  it('should read PREFLINE_EXTERNAL_TEMPORAL as on/off: 1, true, yes or on mean an existing server', () => {
    for (const v of ['1', 'true', 'yes', 'on', 'TRUE', ' Yes ']) assert.equal(loadConfig({ PREFLINE_EXTERNAL_TEMPORAL: v }, CWD).temporal.external, true, v);
    for (const v of ['0', 'false', 'no', 'off', 'OFF', '']) assert.equal(loadConfig({ PREFLINE_EXTERNAL_TEMPORAL: v }, CWD).temporal.external, false, v);
  });

  it('should refuse any other word in an on/off variable instead of reading it as off, naming it and the value', () => {
    const smtp = { PREFLINE_SMTP_HOST: 'smtp.example.com', PREFLINE_EMAIL_FROM: 'ratings@example.com' };
    for (const name of ['PREFLINE_EXTERNAL_TEMPORAL', 'PREFLINE_SMTP_SECURE', 'PREFLINE_SMTP_REQUIRE_TLS', 'PREFLINE_EMAIL_CLOSING_NOTE']) {
      for (const bad of ['maybe', '2', 'enabled', 'y']) {
        const err = configError(() => loadConfig({ ...smtp, [name]: bad }, CWD), name);
        assert.ok(err.message.includes(`"${bad}"`), err.message);
      }
    }
  });

  it('should read every on/off setting of the email channel with the same words', () => {
    const email = (extra: NodeJS.ProcessEnv) => loadConfig({ PREFLINE_SMTP_HOST: 'smtp.example.com', PREFLINE_EMAIL_FROM: 'ratings@example.com', ...extra }, CWD).email!;
    const on = email({ PREFLINE_SMTP_SECURE: 'yes', PREFLINE_SMTP_REQUIRE_TLS: 'On', PREFLINE_EMAIL_CLOSING_NOTE: 'true' });
    assert.deepEqual([on.smtp?.secure, on.smtp?.requireTLS, on.closingNote, on.smtp?.port], [true, true, true, 465]);
    const off = email({ PREFLINE_SMTP_SECURE: 'no', PREFLINE_SMTP_REQUIRE_TLS: 'false', PREFLINE_EMAIL_CLOSING_NOTE: 'off' });
    assert.deepEqual([off.smtp?.secure, off.smtp?.requireTLS, off.closingNote, off.smtp?.port], [false, false, false, 587]);
  });

  it('should raise an inference concurrency of 0 to 1', () => {
    assert.equal(loadConfig({ PREFLINE_INFERENCE_CONCURRENCY: '0' }, CWD).inferenceConcurrency, 1);
  });

  it('should accept durations in s, m, h and d for PREFLINE_SESSION_TTL', () => {
    const ttl = (v: string) => loadConfig({ PREFLINE_SESSION_TTL: v }, CWD).gateway.sessionTtlMs;
    assert.equal(ttl('90s'), 90_000);
    assert.equal(ttl('45m'), 45 * 60_000);
    assert.equal(ttl('7d'), 7 * 86_400_000);
    assert.equal(ttl(' 2h '), 2 * 3_600_000);
  });

  it('should read durations with the grammar of lifecycle input: compounds, fractions and milliseconds', () => {
    const ttl = (v: string) => loadConfig({ PREFLINE_SESSION_TTL: v }, CWD).gateway.sessionTtlMs;
    assert.equal(ttl('1h30m'), 90 * 60_000);
    assert.equal(ttl('1.5h'), 90 * 60_000);
    assert.equal(ttl('1d12h'), 36 * 3_600_000);
    assert.equal(ttl('500ms'), 500);
    const c = loadConfig({ PREFLINE_REPLICATE_MAX_WAIT: '1m30s', PREFLINE_OPENAI_BASE_URL: 'http://x/v1', PREFLINE_OPENAI_TIMEOUT: '2m30s' }, CWD);
    assert.equal(c.inference.replicate.maxWaitMs, 90_000);
    assert.equal(c.inference.openai?.timeoutMs, 150_000);
  });

  for (const name of ['PREFLINE_GATEWAY_PORT', 'PREFLINE_TEMPORAL_UI_PORT', 'PREFLINE_INFERENCE_CONCURRENCY', 'PREFLINE_LEDGER_READ_PORT']) {
    it(`should refuse a bad integer in ${name}, naming it and the value`, () => {
      for (const bad of ['abc', '-1', '80.5', '8080x', 'NaN', 'Infinity']) {
        const err = configError(() => loadConfig({ [name]: bad }, CWD), name);
        assert.ok(err.message.includes(`"${bad}"`), err.message);
      }
    });
  }

  it('should refuse unknown worker queues, naming the variable and the queue', () => {
    const err = configError(() => loadConfig({ PREFLINE_WORKER_QUEUES: 'workflows,gpu' }, CWD), 'PREFLINE_WORKER_QUEUES');
    assert.ok(err.message.includes('"gpu"'), err.message);
    configError(() => loadConfig({ PREFLINE_WORKER_QUEUES: 'Workflows' }, CWD), 'PREFLINE_WORKER_QUEUES');
  });

  it('should refuse a bad log level, naming the variable', () => {
    for (const bad of ['verbose', 'INFO', 'trace']) configError(() => loadConfig({ PREFLINE_LOG_LEVEL: bad }, CWD), 'PREFLINE_LOG_LEVEL');
  });

  it('should refuse a bad PREFLINE_SESSION_TTL, naming it and the value', () => {
    for (const bad of ['30', 'd', '30 days', '-1d', '1w', 'PT1H', '1h 30m', '1H']) {
      const err = configError(() => loadConfig({ PREFLINE_SESSION_TTL: bad }, CWD), 'PREFLINE_SESSION_TTL');
      assert.ok(err.message.includes(`"${bad}"`), err.message);
    }
  });

  it('should refuse an OIDC setup that cannot work, naming the variable', () => {
    configError(() => loadConfig({ PREFLINE_OIDC_ISSUER: 'https://id.example.com' }, CWD), 'PREFLINE_OIDC_CLIENT_ID');
    configError(() => loadConfig({ PREFLINE_OIDC_ISSUER: 'http://id.example.com', PREFLINE_OIDC_CLIENT_ID: 'p' }, CWD), 'PREFLINE_OIDC_ISSUER');
    configError(() => loadConfig({ PREFLINE_OIDC_ISSUER: 'not a url', PREFLINE_OIDC_CLIENT_ID: 'p' }, CWD), 'PREFLINE_OIDC_ISSUER');
    configError(() => loadConfig({ PREFLINE_OIDC_CLIENT_ID: 'p' }, CWD), 'PREFLINE_OIDC_CLIENT_ID');
    configError(() => loadConfig({ PREFLINE_OIDC_ISSUER: 'https://id.example.com', PREFLINE_OIDC_CLIENT_ID: 'p', PREFLINE_OIDC_CLIENT_SECRET: 'a', PREFLINE_OIDC_CLIENT_SECRET_FILE: 'b' }, CWD), 'PREFLINE_OIDC_CLIENT_SECRET');
    configError(() => loadConfig({ PREFLINE_OIDC_ISSUER: 'https://id.example.com', PREFLINE_OIDC_CLIENT_ID: 'p', PREFLINE_OIDC_CLIENT_SECRET_FILE: '/nonexistent/secret' }, CWD), 'PREFLINE_OIDC_CLIENT_SECRET_FILE');
    // http on loopback (a provider on the same host, as the tests start one); a public client without a secret.
    const local = loadConfig({ PREFLINE_OIDC_ISSUER: 'http://127.0.0.1:9999', PREFLINE_OIDC_CLIENT_ID: 'p' }, CWD).gateway.oidc;
    assert.deepEqual(local, { issuer: 'http://127.0.0.1:9999', clientId: 'p', scopes: 'openid email profile' });
  });

  it('should read the OIDC client secret from a file, without its trailing newline', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-oidc-'));
    try {
      fs.writeFileSync(path.join(dir, 'secret'), 'from-a-file\n');
      const c = loadConfig({ PREFLINE_OIDC_ISSUER: 'https://id.example.com', PREFLINE_OIDC_CLIENT_ID: 'p', PREFLINE_OIDC_CLIENT_SECRET_FILE: path.join(dir, 'secret') }, CWD);
      assert.equal(c.gateway.oidc?.clientSecret, 'from-a-file');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should refuse a public URL that is not http(s), and an open panel switch that is not a boolean', () => {
    configError(() => loadConfig({ PREFLINE_PUBLIC_URL: 'ftp://rate.example.com' }, CWD), 'PREFLINE_PUBLIC_URL');
    configError(() => loadConfig({ PREFLINE_PUBLIC_URL: 'rate.example.com' }, CWD), 'PREFLINE_PUBLIC_URL');
    configError(() => loadConfig({ PREFLINE_WEB_OPEN_PANEL: 'sometimes' }, CWD), 'PREFLINE_WEB_OPEN_PANEL');
  });

  it('should offer the prompt box only with PREFLINE_WEB_START_MODELS, with its limits, budget folder and OIDC generators', () => {
    assert.equal(loadConfig({}, CWD).gateway.starts, undefined, 'no prompt box by default');
    const oidc = { PREFLINE_OIDC_ISSUER: 'https://id.example.com', PREFLINE_OIDC_CLIENT_ID: 'p' };
    assert.deepEqual(loadConfig({ PREFLINE_WEB_START_MODELS: 'demo:shapes, demo:text' }, CWD).gateway.starts, {
      models: ['demo:shapes', 'demo:text'], startsPerHour: 10, dailyCandidates: 32, budgetDir: '/srv/prefline/.prefline/generation-budget', oidcGenerators: [],
    });
    const c = loadConfig({
      ...oidc, PREFLINE_WEB_START_MODELS: 'demo:text', PREFLINE_WEB_STARTS_PER_HOUR: '2', PREFLINE_WEB_DAILY_CANDIDATES: '0',
      PREFLINE_WEB_BUDGET_DIR: 'shared/budget', PREFLINE_OIDC_GENERATORS: 'Alice@Example.org, @lab.example.org',
    }, CWD);
    assert.deepEqual(c.gateway.starts, { models: ['demo:text'], startsPerHour: 2, dailyCandidates: 0, budgetDir: '/srv/prefline/shared/budget', oidcGenerators: ['alice@example.org', '@lab.example.org'] });
    configError(() => loadConfig({ PREFLINE_WEB_START_MODELS: 'demo:nope' }, CWD), 'PREFLINE_WEB_START_MODELS');
    configError(() => loadConfig({ ...oidc, PREFLINE_WEB_START_MODELS: 'demo:text', PREFLINE_OIDC_GENERATORS: 'alice' }, CWD), 'PREFLINE_OIDC_GENERATORS');
    configError(() => loadConfig({ PREFLINE_WEB_START_MODELS: 'demo:text', PREFLINE_OIDC_GENERATORS: 'alice@example.org' }, CWD), 'PREFLINE_OIDC_GENERATORS');
    configError(() => loadConfig({ ...oidc, PREFLINE_OIDC_GENERATORS: 'alice@example.org' }, CWD), 'PREFLINE_WEB_START_MODELS');
    configError(() => loadConfig({ PREFLINE_WEB_START_MODELS: 'demo:text', PREFLINE_WEB_DAILY_CANDIDATES: '-1' }, CWD), 'PREFLINE_WEB_DAILY_CANDIDATES');
  });

  it('should read only variables documented in ENVIRONMENT', () => {
    const read = new Set<string>();
    const documented = new Set(ENVIRONMENT.map((v) => v.name));
    const values: Record<string, string> = { PREFLINE_OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' };
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get(_target, key) {
        if (typeof key === 'string') read.add(key);
        return typeof key === 'string' ? values[key] : undefined;
      },
    });
    const c = loadConfig(env, CWD);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-env-'));
    try {
      loadSecret({ ...c, dataDir: dir }, 'rater', env);
      loadSecret({ ...c, dataDir: dir }, 'session', env);
      loadSecret({ ...c, dataDir: dir }, 'invite', env);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const undocumented = [...read].filter((name) => !documented.has(name));
    assert.deepEqual(undocumented, [], 'every variable read must be in ENVIRONMENT (and the README)');
    assert.ok(read.has('PREFLINE_DATA_DIR') && read.has('PREFLINE_RATER_KEY') && read.has('PREFLINE_SESSION_KEY') && read.has('PREFLINE_INVITE_KEY'));
  });
});
