import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, describeTemporal, loadConfig, temporalConnectionOptions, temporalUiLink } from '../../config';

const CWD = '/srv/prefline';
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfakeCA\n-----END CERTIFICATE-----\n';
const CERT_PEM = '-----BEGIN CERTIFICATE-----\nMIIBfakeClient\n-----END CERTIFICATE-----\n';
const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIGHsecretKeyMaterial\n-----END PRIVATE KEY-----\n';

/** `fn` throws a ConfigError whose message matches `pattern`. */
function configError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('config: Temporal connection settings (envconfig, profiles, PREFLINE_TEMPORAL_* overrides)', () => {
  let dir: string;
  let caFile: string;
  let certFile: string;
  let keyFile: string;
  let configFile: string;
  // envconfig hands the SDK file contents as Uint8Array.
  const bytes = (text: string) => new Uint8Array(Buffer.from(text));
  const temporal = (env: NodeJS.ProcessEnv, cwd = CWD) => loadConfig(env, cwd).temporal;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-temporal-config-'));
    caFile = join(dir, 'ca.pem');
    certFile = join(dir, 'client.pem');
    keyFile = join(dir, 'client.key');
    writeFileSync(caFile, CA_PEM);
    writeFileSync(certFile, CERT_PEM);
    writeFileSync(keyFile, KEY_PEM);
    configFile = join(dir, 'temporal.toml');
    writeFileSync(
      configFile,
      [
        '[profile.default]',
        'address = "profile-default.example:7233"',
        'namespace = "from-default-profile"',
        '',
        '[profile.prod]',
        'address = "prod.tmprl.example:7233"',
        'namespace = "prefline-prod"',
        'api_key = "profile-api-key"',
        '[profile.prod.tls]',
        `server_ca_cert_path = "${caFile}"`,
        'server_name = "temporal.prod.example"',
        '[profile.prod.grpc_meta]',
        'x-tenant = "ratings"',
        '',
        '[profile.mtls]',
        'address = "10.0.0.7:7233"',
        '[profile.mtls.tls]',
        `client_cert_path = "${certFile}"`,
        `client_key_path = "${keyFile}"`,
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('environment variables', () => {
    it('should read TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE when PREFLINE_TEMPORAL_* are unset', () => {
      const t = temporal({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'ratings' });
      assert.equal(t.address, 'temporal.internal:7233');
      assert.equal(t.namespace, 'ratings');
      assert.equal('tls' in t, false, 'plain text without TLS settings');
    });

    it('should let PREFLINE_TEMPORAL_ADDRESS and PREFLINE_TEMPORAL_NAMESPACE win over TEMPORAL_*', () => {
      const t = temporal({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'ratings', PREFLINE_TEMPORAL_ADDRESS: '127.0.0.1:7300', PREFLINE_TEMPORAL_NAMESPACE: 'mine' });
      assert.equal(t.address, '127.0.0.1:7300');
      assert.equal(t.namespace, 'mine');
    });

    it('should build TLS from a CA file (relative to the working directory) and a server name', () => {
      const t = temporal({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_TLS_SERVER_CA_CERT_PATH: 'ca.pem', TEMPORAL_TLS_SERVER_NAME: 'localhost' }, dir);
      assert.deepEqual(t.tls, { serverNameOverride: 'localhost', serverRootCACertificate: bytes(CA_PEM) });
    });

    it('should build mutual TLS from a client certificate and key, as files or as PEM data', () => {
      const files = temporal({ TEMPORAL_TLS_CLIENT_CERT_PATH: certFile, TEMPORAL_TLS_CLIENT_KEY_PATH: keyFile });
      assert.deepEqual(files.tls, { clientCertPair: { crt: bytes(CERT_PEM), key: bytes(KEY_PEM) } });
      const data = temporal({ TEMPORAL_TLS_CLIENT_CERT_DATA: CERT_PEM, TEMPORAL_TLS_CLIENT_KEY_DATA: KEY_PEM, TEMPORAL_TLS_SERVER_CA_CERT_DATA: CA_PEM });
      assert.deepEqual(data.tls, { serverRootCACertificate: bytes(CA_PEM), clientCertPair: { crt: bytes(CERT_PEM), key: bytes(KEY_PEM) } });
    });

    it('should turn TLS on with an API key, and off with TEMPORAL_TLS=0 even then', () => {
      const cloud = temporal({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key-123' });
      assert.equal(cloud.tls, true);
      assert.equal(cloud.apiKey, 'key-123');
      assert.equal(temporal({ TEMPORAL_API_KEY: 'key-123', TEMPORAL_TLS: '0' }).tls, false);
    });

    it("should read TEMPORAL_TLS in Prefline's boolean words and refuse anything else", () => {
      assert.deepEqual(temporal({ TEMPORAL_TLS: 'yes' }).tls, {}, 'yes is TLS with the system CAs (envconfig alone would read it as off)');
      assert.equal(temporal({ TEMPORAL_TLS: 'off' }).tls, false);
      configError(() => loadConfig({ TEMPORAL_TLS: 'maybe' }, CWD), /TEMPORAL_TLS must be 1\/0, true\/false, yes\/no or on\/off, got "maybe"/);
    });

    it('should pass TEMPORAL_GRPC_META_* as headers', () => {
      assert.deepEqual(temporal({ TEMPORAL_GRPC_META_X_TENANT: 'ratings' }).metadata, { 'x-tenant': 'ratings' });
    });

    it('should refuse TEMPORAL_TLS_DISABLE_HOST_VERIFICATION=1, which the TypeScript SDK cannot do, and ignore 0', () => {
      configError(() => loadConfig({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: '1' }, CWD), /not supported by the TypeScript SDK: set TEMPORAL_TLS_SERVER_NAME/);
      assert.equal('tls' in temporal({ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: '0' }), false, '0 does not turn TLS on');
    });

    it('should refuse a TLS file that cannot be read, naming the settings to check', () => {
      configError(() => loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.pem') }, CWD), /a Temporal TLS file could not be read \(.*missing\.pem: ENOENT\); check TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    });

    it('should refuse a client certificate without its key (envconfig would drop it silently)', () => {
      configError(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: certFile }, CWD), /needs both its certificate and its key/);
      configError(() => loadConfig({ TEMPORAL_TLS_CLIENT_KEY_DATA: KEY_PEM }, CWD), /needs both its certificate and its key/);
    });

    it('should refuse PREFLINE_WORKER_QUEUES that names no queue, instead of a worker that polls nothing', () => {
      configError(() => loadConfig({ PREFLINE_WORKER_QUEUES: ' , ' }, CWD), /PREFLINE_WORKER_QUEUES names no queue \(expected some of workflows, inference, ledger\)/);
    });

    it('should treat empty TEMPORAL_* variables as unset', () => {
      const empty = { TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '', TEMPORAL_API_KEY: '', TEMPORAL_TLS: '', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '', TEMPORAL_PROFILE: '', TEMPORAL_CONFIG_FILE: '' };
      assert.deepEqual(temporal(empty), temporal({}));
    });
  });

  describe('the Temporal config file and its profiles', () => {
    it('should read the default profile of TEMPORAL_CONFIG_FILE, and name it', () => {
      const t = temporal({ TEMPORAL_CONFIG_FILE: configFile });
      assert.equal(t.address, 'profile-default.example:7233');
      assert.equal(t.namespace, 'from-default-profile');
      assert.deepEqual(t.profile, { name: 'default', file: configFile });
    });

    it('should read the profile TEMPORAL_PROFILE names: address, namespace, API key, TLS, headers', () => {
      const t = temporal({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'prod' });
      assert.equal(t.address, 'prod.tmprl.example:7233');
      assert.equal(t.namespace, 'prefline-prod');
      assert.equal(t.apiKey, 'profile-api-key');
      assert.deepEqual(t.tls, { serverNameOverride: 'temporal.prod.example', serverRootCACertificate: bytes(CA_PEM) });
      assert.deepEqual(t.metadata, { 'x-tenant': 'ratings' });
      const mtls = temporal({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'mtls' });
      assert.deepEqual(mtls.tls, { clientCertPair: { crt: bytes(CERT_PEM), key: bytes(KEY_PEM) } });
    });

    it('should let TEMPORAL_* override the profile, and PREFLINE_TEMPORAL_* override both', () => {
      const env = { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'prod', TEMPORAL_ADDRESS: 'env.example:7233', TEMPORAL_TLS_SERVER_NAME: 'env-name' };
      const t = temporal(env);
      assert.equal(t.address, 'env.example:7233');
      assert.equal(t.namespace, 'prefline-prod', 'what the environment does not set stays the profile\'s');
      assert.deepEqual(t.tls, { serverNameOverride: 'env-name', serverRootCACertificate: bytes(CA_PEM) });
      const overridden = temporal({ ...env, PREFLINE_TEMPORAL_ADDRESS: '127.0.0.1:7300', PREFLINE_TEMPORAL_NAMESPACE: 'mine' });
      assert.equal(overridden.address, '127.0.0.1:7300');
      assert.equal(overridden.namespace, 'mine');
      assert.equal(overridden.apiKey, 'profile-api-key', 'credentials still come from the profile');
    });

    it('should find the file where the temporal CLI does: $XDG_CONFIG_HOME, else $HOME/.config', () => {
      const xdg = join(dir, 'xdg');
      mkdirSync(join(xdg, 'temporalio'), { recursive: true });
      writeFileSync(join(xdg, 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "xdg.example:7233"\n');
      const home = join(dir, 'home');
      mkdirSync(join(home, '.config', 'temporalio'), { recursive: true });
      writeFileSync(join(home, '.config', 'temporalio', 'temporal.toml'), '[profile.default]\naddress = "home.example:7233"\n');
      assert.equal(temporal({ XDG_CONFIG_HOME: xdg, HOME: home }).address, 'xdg.example:7233');
      assert.equal(temporal({ HOME: home }).address, 'home.example:7233');
      assert.equal(temporal({ HOME: join(dir, 'nobody') }).address, '127.0.0.1:7233', 'no file there: the defaults');
    });

    it('should take a file without profiles as none', () => {
      const empty = join(dir, 'empty.toml');
      writeFileSync(empty, '# nothing yet\n');
      assert.equal(temporal({ TEMPORAL_CONFIG_FILE: empty }).address, '127.0.0.1:7233');
    });

    it('should refuse a profile the file lacks, a profile without a file, a missing named file and a broken file', () => {
      configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'staging' }, CWD), /TEMPORAL_PROFILE: no profile "staging" in .*temporal\.toml/);
      configError(() => loadConfig({ TEMPORAL_PROFILE: 'prod', HOME: join(dir, 'nobody') }, CWD), /TEMPORAL_PROFILE is "prod", but there is no Temporal config file \(looked for .*nobody\/\.config\/temporalio\/temporal\.toml/);
      configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: join(dir, 'nope.toml') }, CWD), /TEMPORAL_CONFIG_FILE: no file at .*nope\.toml/);
      const broken = join(dir, 'broken.toml');
      writeFileSync(broken, '[profile.default\naddress = 1\n');
      configError(() => loadConfig({ TEMPORAL_CONFIG_FILE: broken }, CWD), /the Temporal config file .*broken\.toml could not be read/);
    });
  });

  describe('what connects and what is shown', () => {
    it('should hand the SDK exactly the address, TLS, API key and headers', () => {
      const t = temporal({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'prod' });
      assert.deepEqual(temporalConnectionOptions(t), {
        address: 'prod.tmprl.example:7233',
        tls: { serverNameOverride: 'temporal.prod.example', serverRootCACertificate: bytes(CA_PEM) },
        apiKey: 'profile-api-key',
        metadata: { 'x-tenant': 'ratings' },
      });
      assert.deepEqual(temporalConnectionOptions(temporal({})), { address: '127.0.0.1:7233' });
    });

    it('should describe the connection without any key or certificate material', () => {
      const t = temporal({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_API_KEY: 'very-secret-key', TEMPORAL_TLS_SERVER_CA_CERT_DATA: CA_PEM, TEMPORAL_TLS_SERVER_NAME: 'localhost', TEMPORAL_TLS_CLIENT_CERT_DATA: CERT_PEM, TEMPORAL_TLS_CLIENT_KEY_DATA: KEY_PEM });
      const text = describeTemporal(t);
      assert.equal(text, '127.0.0.1:7233, namespace default, TLS (private CA, server name localhost, client certificate), API key');
      for (const secret of ['very-secret-key', 'MIGH', 'MIIB']) assert.ok(!text.includes(secret), secret);
      assert.equal(describeTemporal(temporal({})), '127.0.0.1:7233, namespace default, plain text');
      assert.equal(describeTemporal(temporal({ TEMPORAL_API_KEY: 'k' })), '127.0.0.1:7233, namespace default, TLS (system CAs), API key');
    });

    it('should link to the Temporal UI: the dev server by default, PREFLINE_TEMPORAL_UI_URL when set, nothing for an unknown external UI', () => {
      assert.equal(temporalUiLink(temporal({}), 'lc-2026-12-01-abc'), 'http://127.0.0.1:8233/namespaces/default/workflows/lc-2026-12-01-abc');
      assert.equal(temporalUiLink(temporal({ PREFLINE_TEMPORAL_ADDRESS: '0.0.0.0:7300', PREFLINE_TEMPORAL_UI_PORT: '9000' }), 'x'), 'http://127.0.0.1:9000/namespaces/default/workflows/x');
      assert.equal(temporalUiLink(temporal({ PREFLINE_EXTERNAL_TEMPORAL: '1' }), 'x'), undefined);
      const cloud = temporal({ PREFLINE_EXTERNAL_TEMPORAL: '1', PREFLINE_TEMPORAL_UI_URL: 'https://cloud.temporal.io/', TEMPORAL_NAMESPACE: 'prefs.acct' });
      assert.equal(temporalUiLink(cloud, 'release 2026/12/01'), 'https://cloud.temporal.io/namespaces/prefs.acct/workflows/release%202026%2F12%2F01');
      configError(() => loadConfig({ PREFLINE_TEMPORAL_UI_URL: 'cloud.temporal.io' }, CWD), /PREFLINE_TEMPORAL_UI_URL must be an http\(s\) URL/);
    });
  });
});
