/**
 * Prefline's webhook signature (v1), for the sender (connectors/webhook.ts) and for receivers to check
 * deliveries with, over the raw body bytes:
 *   Prefline-Timestamp: <unix seconds>
 *   Prefline-Signature: v1=hex(HMAC-SHA256(secret, `${Prefline-Timestamp}.${raw body}`))
 * A delivery is accepted within `toleranceSeconds` (default five minutes) of the receiver's clock on
 * both sides, so a captured delivery cannot be replayed later; within the window, receivers dedupe on
 * Prefline-Event-Id. To rotate a secret, a receiver checks with the new one and then the old one.
 * Pure, with an injectable clock; constant-time comparison; mirrors channels/slack/verify.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, PreflineError } from './errors';

export const WEBHOOK_TIMESTAMP_HEADER = 'prefline-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'prefline-signature';
export const WEBHOOK_EVENT_ID_HEADER = 'prefline-event-id';
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 5 * 60;
/** Shorter secrets are refused by the sender's configuration (PREFLINE_WEBHOOK_SECRET). */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

export type WebhookVerificationFailure =
  | 'empty_secret'
  | 'missing_timestamp'
  | 'missing_signature'
  | 'invalid_timestamp'
  | 'stale_timestamp'
  | 'future_timestamp'
  | 'unsupported_signature_version'
  | 'signature_mismatch';

export class WebhookSignatureError extends PreflineError {
  constructor(readonly reason: WebhookVerificationFailure) {
    super(ErrorCode.WebhookSignatureInvalid, `webhook signature verification failed: ${reason}`);
  }
}

export interface WebhookDeliveryToVerify {
  secret: string;
  /** The body exactly as received; never a re-serialised parse. */
  body: Buffer | string;
  /** Header names in lower case (as node:http gives them). */
  headers: Record<string, string | string[] | undefined>;
  /** Epoch ms; injectable for tests. */
  nowMs?: number;
  toleranceSeconds?: number;
}

/** The signature header's value for a body sent at `timestampSeconds`. */
export function signWebhookBody(secret: string, timestampSeconds: number, body: Buffer | string): string {
  return `v1=${mac(secret, String(timestampSeconds), typeof body === 'string' ? Buffer.from(body, 'utf8') : body).toString('hex')}`;
}

function mac(secret: string, timestamp: string, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest();
}

function singleHeader(headers: WebhookDeliveryToVerify['headers'], name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined; // repeated headers arrive as arrays: refused
}

/** Throws WebhookSignatureError unless the delivery is signed with `secret` within the tolerance. */
export function verifyWebhookSignature(delivery: WebhookDeliveryToVerify): void {
  if (typeof delivery.secret !== 'string' || delivery.secret.trim() === '') throw new WebhookSignatureError('empty_secret');
  const timestamp = singleHeader(delivery.headers, WEBHOOK_TIMESTAMP_HEADER);
  const signature = singleHeader(delivery.headers, WEBHOOK_SIGNATURE_HEADER);
  if (timestamp === undefined) throw new WebhookSignatureError('missing_timestamp');
  if (signature === undefined) throw new WebhookSignatureError('missing_signature');
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookSignatureError('invalid_timestamp');
  const tolerance = delivery.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const skew = Math.floor((delivery.nowMs ?? Date.now()) / 1000) - Number(timestamp);
  if (skew > tolerance) throw new WebhookSignatureError('stale_timestamp');
  if (skew < -tolerance) throw new WebhookSignatureError('future_timestamp');
  const match = /^v1=([0-9a-f]{64})$/.exec(signature);
  if (!match) throw new WebhookSignatureError('unsupported_signature_version');
  const body = typeof delivery.body === 'string' ? Buffer.from(delivery.body, 'utf8') : delivery.body;
  const expected = mac(delivery.secret, timestamp, body);
  const given = Buffer.from(match[1]!, 'hex');
  const matched = given.length === expected.length && timingSafeEqual(given, expected);
  if (!matched) throw new WebhookSignatureError('signature_mismatch');
}

export function isValidWebhookSignature(delivery: WebhookDeliveryToVerify): boolean {
  try {
    verifyWebhookSignature(delivery);
    return true;
  } catch {
    return false;
  }
}
