/**
 * Slack request signing (v0), checked over the raw body bytes:
 *   X-Slack-Signature: v0=hex(HMAC-SHA256(signing secret, `v0:{X-Slack-Request-Timestamp}:{raw body}`)).
 *
 * Stricter than Bolt where Bolt is lax: the timestamp must be within five minutes on BOTH sides (Bolt
 * lets any future timestamp through), headers must be present exactly once, an empty secret is
 * refused, and the comparison is constant-time. Pure, with an injectable clock.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, PreflineError } from '../../core/errors';

export const MAX_SKEW_SECONDS = 5 * 60;

export type SlackVerificationFailure =
  | 'empty_signing_secret'
  | 'missing_timestamp'
  | 'missing_signature'
  | 'invalid_timestamp'
  | 'stale_timestamp'
  | 'future_timestamp'
  | 'unsupported_signature_version'
  | 'signature_mismatch';

export class SlackVerificationError extends PreflineError {
  constructor(readonly reason: SlackVerificationFailure) {
    super(ErrorCode.SlackSignatureInvalid, `Slack request verification failed: ${reason}`);
  }
}

export interface SlackRequestToVerify {
  signingSecret: string;
  /** The body exactly as received; never a re-serialised parse. */
  body: Buffer | string;
  headers: Record<string, string | string[] | undefined>;
  /** Epoch ms; injectable for tests. */
  nowMs?: number;
}

/** Refuses an empty or blank secret: with it, anyone could sign. Call at startup. */
export function assertSigningSecret(signingSecret: string | undefined): asserts signingSecret is string {
  if (typeof signingSecret !== 'string' || signingSecret.trim() === '') throw new SlackVerificationError('empty_signing_secret');
}

function singleHeader(headers: SlackRequestToVerify['headers'], name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined; // repeated headers arrive as arrays: refused
}

/** Throws SlackVerificationError unless the request is signed by Slack with this secret, within 5 minutes. */
export function verifySlackRequest(request: SlackRequestToVerify): void {
  assertSigningSecret(request.signingSecret);
  const timestamp = singleHeader(request.headers, 'x-slack-request-timestamp');
  const signature = singleHeader(request.headers, 'x-slack-signature');
  if (timestamp === undefined) throw new SlackVerificationError('missing_timestamp');
  if (signature === undefined) throw new SlackVerificationError('missing_signature');
  if (!/^\d{1,12}$/.test(timestamp)) throw new SlackVerificationError('invalid_timestamp');
  const skew = Math.floor((request.nowMs ?? Date.now()) / 1000) - Number(timestamp);
  if (skew > MAX_SKEW_SECONDS) throw new SlackVerificationError('stale_timestamp');
  if (skew < -MAX_SKEW_SECONDS) throw new SlackVerificationError('future_timestamp');
  const match = /^v0=([0-9a-f]{64})$/.exec(signature);
  if (!match) throw new SlackVerificationError('unsupported_signature_version');
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
  const expected = createHmac('sha256', request.signingSecret).update(`v0:${timestamp}:`, 'utf8').update(body).digest();
  const given = Buffer.from(match[1]!, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new SlackVerificationError('signature_mismatch');
}

export function isValidSlackRequest(request: SlackRequestToVerify): boolean {
  try {
    verifySlackRequest(request);
    return true;
  } catch {
    return false;
  }
}

/** Signs a body as Slack does (stand-ins, tests and the benchmark). */
export function signSlackRequest(signingSecret: string, timestampSeconds: number, body: Buffer | string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:`, 'utf8').update(body).digest('hex')}`;
}
