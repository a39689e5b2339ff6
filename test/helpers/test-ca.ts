/**
 * A private certificate authority made with openssl, for servers the tests start with TLS: a CA, a
 * server certificate for 127.0.0.1/localhost and a client certificate (for mutual TLS), all P-256,
 * valid for a week. The files stay in `dir` for the servers to read; the PEM contents are returned
 * for the clients.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface TestCa {
  caFile: string;
  ca: Buffer;
  /** serverAuth, SAN IP:127.0.0.1 and DNS:localhost. */
  server: CertificateFiles;
  /** clientAuth, CN=prefline-test-client. */
  client: CertificateFiles;
}

export const SERVER_NAME = 'localhost';

// The whole config is ours (not the system's openssl.cnf), so the extensions are exactly these.
const OPENSSL_CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:${SERVER_NAME}
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
`;

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });
  if (result.error) throw new Error(`openssl could not run (${result.error.message}): run scripts/install-temporal-server.sh`);
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
}

/** Creates the CA and both certificates under `dir` (created if missing). */
export function createTestCa(dir: string): TestCa {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, OPENSSL_CONFIG);
  const caFile = join(dir, 'ca.pem');
  const caKey = join(dir, 'ca.key');
  openssl(['req', '-x509', '-config', config, '-extensions', 'ca', ...NEW_KEY, '-days', '7', '-subj', '/CN=Prefline test CA', '-keyout', caKey, '-out', caFile]);

  const issue = (name: 'server' | 'client', subject: string): CertificateFiles => {
    const keyFile = join(dir, `${name}.key`);
    const certFile = join(dir, `${name}.pem`);
    const csr = join(dir, `${name}.csr`);
    openssl(['req', '-new', '-config', config, ...NEW_KEY, '-subj', subject, '-keyout', keyFile, '-out', csr]);
    openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', `0x${randomBytes(12).toString('hex')}`, '-days', '7', '-extfile', config, '-extensions', name, '-out', certFile]);
    rmSync(csr);
    return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
  };
  const server = issue('server', `/CN=${SERVER_NAME}`);
  const client = issue('client', '/CN=prefline-test-client');
  return { caFile, ca: readFileSync(caFile), server, client };
}
