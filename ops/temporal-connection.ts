/**
 * Connections to Temporal for every Prefline process: the CLI's client Connection and the Rust-core
 * NativeConnection of workers and the gateway, both from the one set of options config/temporal.ts
 * builds (TLS, mTLS, API key, headers). A connection that cannot be made fails with a message that
 * names the server, how it was reached (never key material) and, where the cause is recognisable,
 * the setting to change.
 */
import { Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { describeTemporal, temporalConnectionOptions, usesTls, type TemporalSettings } from '../config';
import { ErrorCode, PreflineError, type PreflineErrorOptions } from '../core/errors';

/** No connection to Temporal could be made; the message names the server, the cause and the setting to change. */
export class TemporalUnreachableError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.TemporalUnreachable, message, options);
  }
}

/** A client connection (CLI verbs, cluster setup); the caller closes it. */
export async function connectClient(temporal: TemporalSettings, options: { connectTimeoutMs?: number } = {}): Promise<Connection> {
  // Probe first: Connection.connect reports any refusal only as "Failed to connect before the
  // deadline" after waiting for it, while one call without the retry interceptor fails at once with the cause.
  await probe(temporal, options.connectTimeoutMs ?? 10_000);
  try {
    return await Connection.connect({ ...temporalConnectionOptions(temporal), ...(options.connectTimeoutMs !== undefined ? { connectTimeout: options.connectTimeoutMs } : {}) });
  } catch (err) {
    throw await explain(temporal, err);
  }
}

/** A worker/gateway connection; the caller closes it. */
export async function connectNative(temporal: TemporalSettings): Promise<NativeConnection> {
  // The worker package loads the native core; CLI commands that only need a client skip it.
  const { NativeConnection } = await import('@temporalio/worker');
  try {
    return await NativeConnection.connect(temporalConnectionOptions(temporal));
  } catch (err) {
    throw await explain(temporal, err);
  }
}

/** One getSystemInfo on a fresh channel without retries; throws a TemporalUnreachableError with the cause. */
async function probe(temporal: TemporalSettings, timeoutMs: number): Promise<void> {
  const connection = Connection.lazy({ ...temporalConnectionOptions(temporal), connectTimeout: timeoutMs, interceptors: [] });
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
  } catch (err) {
    throw unreachable(temporal, err);
  } finally {
    await connection.close();
  }
}

/** The cause of a failed connect, found by a probe (which then fails), else the error as it was. */
async function explain(temporal: TemporalSettings, err: unknown): Promise<Error> {
  try {
    await probe(temporal, 5000);
  } catch (probed) {
    return probed as Error;
  }
  return unreachable(temporal, err);
}

function unreachable(temporal: TemporalSettings, err: unknown): TemporalUnreachableError {
  const reason = conciseReason(err instanceof Error ? err.message : String(err));
  const hint = hintFor(temporal, reason, (err as { code?: unknown }).code);
  return new TemporalUnreachableError(`cannot connect to Temporal (${describeTemporal(temporal)}): ${reason}${hint ? `\n  ${hint}` : ''}`, { cause: err });
}

/** gRPC's wording without its boilerplate: `14 UNAVAILABLE: No connection established. Last error: X. Resolution note:` → X. */
function conciseReason(message: string): string {
  return message
    .replace(/^\d+ [A-Z_]+: /, '')
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)/g, '')
    .replace(/\.?\s*Resolution note:\s*$/, '')
    .trim();
}

/** The setting to look at, for the causes people meet. */
export function hintFor(temporal: TemporalSettings, reason: string, code?: unknown): string | undefined {
  if (/unable to verify the first certificate|unable to get (local )?issuer certificate|self[- ]signed certificate|UnknownIssuer|invalid peer certificate/i.test(reason)) {
    return "the server's certificate is not signed by a CA this client trusts: set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA's PEM file (or tls.server_ca_cert_path in the profile)";
  }
  if (/ERR_TLS_CERT_ALTNAME_INVALID|altnames|NotValidForName|not valid for name/i.test(reason)) {
    return 'the server certificate does not carry the host name this client expects: set TEMPORAL_TLS_SERVER_NAME to a name in the certificate';
  }
  if (/certificate required|alert number 116|CertificateRequired/i.test(reason)) {
    return 'the server requires a client certificate (mutual TLS): set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH';
  }
  if (/unknown ca|bad certificate|BadCertificate|UnknownCA/i.test(reason)) {
    return "the server refused this client's certificate: it must be signed by a CA the server trusts for clients";
  }
  if (/wrong version number|WRONG_VERSION_NUMBER|packet length too long|InvalidContentType|CorruptMessage/i.test(reason)) {
    return 'the server does not speak TLS there: remove the TLS settings (or set TEMPORAL_TLS=0)';
  }
  if (code === 16 || code === 7 || /Unauthenticated|PermissionDenied|unauthorized/i.test(reason)) {
    return 'the server refused these credentials: check TEMPORAL_API_KEY or the client certificate, and the namespace';
  }
  if (/ECONNREFUSED|Connection refused/i.test(reason)) {
    return 'nothing accepts connections at that address: is the server up, and is the address right (PREFLINE_TEMPORAL_ADDRESS, TEMPORAL_ADDRESS, the profile)?';
  }
  if (!usesTls(temporal)) return 'if the server uses TLS, set TEMPORAL_TLS=1 (system CAs) or TEMPORAL_TLS_SERVER_CA_CERT_PATH';
  return undefined;
}
