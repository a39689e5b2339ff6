import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS, WebhookSignatureError, isValidWebhookSignature, signWebhookBody, verifyWebhookSignature, type WebhookVerificationFailure,
} from '../../core/webhook-signature';

const SECRET = 'whsec-0123456789abcdef0123';
const NOW_MS = Date.parse('2026-06-01T12:00:00.000Z');
const NOW_S = NOW_MS / 1000;
const BODY = JSON.stringify({ eventId: 'cmp-1/run/completed', event: 'completed', counts: { items: 3 } });

function headers(body: string | Buffer = BODY, ts: number = NOW_S, secret = SECRET): Record<string, string> {
  return { 'prefline-timestamp': String(ts), 'prefline-signature': signWebhookBody(secret, ts, body), 'prefline-event-id': 'cmp-1/run/completed' };
}

function failure(delivery: Parameters<typeof verifyWebhookSignature>[0]): WebhookVerificationFailure {
  try {
    verifyWebhookSignature(delivery);
  } catch (err) {
    assert.ok(err instanceof WebhookSignatureError, String(err));
    return err.reason;
  }
  return assert.fail('the delivery was accepted');
}

describe('core/webhook-signature', () => {
  it('should compute the documented v1 signature: hex HMAC-SHA256 of "<timestamp>.<body>"', () => {
    const expected = `v1=${createHmac('sha256', SECRET).update(`${NOW_S}.${BODY}`).digest('hex')}`;
    assert.equal(signWebhookBody(SECRET, NOW_S, BODY), expected);
    assert.equal(signWebhookBody(SECRET, NOW_S, Buffer.from(BODY)), expected);
  });

  it('should accept a delivery signed with the secret within the tolerance, as a string or the raw bytes', () => {
    verifyWebhookSignature({ secret: SECRET, body: BODY, headers: headers(), nowMs: NOW_MS });
    verifyWebhookSignature({ secret: SECRET, body: Buffer.from(BODY), headers: headers(), nowMs: NOW_MS });
    assert.equal(isValidWebhookSignature({ secret: SECRET, body: BODY, headers: headers(BODY, NOW_S - DEFAULT_WEBHOOK_TOLERANCE_SECONDS), nowMs: NOW_MS }), true);
    assert.equal(isValidWebhookSignature({ secret: SECRET, body: BODY, headers: headers(BODY, NOW_S + DEFAULT_WEBHOOK_TOLERANCE_SECONDS), nowMs: NOW_MS }), true);
  });

  it('should refuse a replay outside the tolerance on both sides, and honour a tighter tolerance', () => {
    assert.equal(failure({ secret: SECRET, body: BODY, headers: headers(BODY, NOW_S - DEFAULT_WEBHOOK_TOLERANCE_SECONDS - 1), nowMs: NOW_MS }), 'stale_timestamp');
    assert.equal(failure({ secret: SECRET, body: BODY, headers: headers(BODY, NOW_S + DEFAULT_WEBHOOK_TOLERANCE_SECONDS + 1), nowMs: NOW_MS }), 'future_timestamp');
    assert.equal(failure({ secret: SECRET, body: BODY, headers: headers(BODY, NOW_S - 31), nowMs: NOW_MS, toleranceSeconds: 30 }), 'stale_timestamp');
  });

  it('should refuse a changed body, another secret, a re-signed timestamp and a forged or other-version signature', () => {
    assert.equal(failure({ secret: SECRET, body: BODY.replace('3', '4'), headers: headers(), nowMs: NOW_MS }), 'signature_mismatch');
    assert.equal(failure({ secret: SECRET, body: BODY, headers: headers(BODY, NOW_S, 'another-secret-0123456789'), nowMs: NOW_MS }), 'signature_mismatch');
    // The timestamp is signed: moving it forward (to pass the window) breaks the signature.
    assert.equal(failure({ secret: SECRET, body: BODY, headers: { ...headers(BODY, NOW_S - 3600), 'prefline-timestamp': String(NOW_S) }, nowMs: NOW_MS }), 'signature_mismatch');
    assert.equal(failure({ secret: SECRET, body: BODY, headers: { ...headers(), 'prefline-signature': `v1=${'0'.repeat(64)}` }, nowMs: NOW_MS }), 'signature_mismatch');
    assert.equal(failure({ secret: SECRET, body: BODY, headers: { ...headers(), 'prefline-signature': headers()['prefline-signature']!.replace('v1=', 'v0=') }, nowMs: NOW_MS }), 'unsupported_signature_version');
  });

  it('should refuse missing, repeated or malformed headers and an empty secret', () => {
    const { 'prefline-timestamp': _t, ...noTimestamp } = headers();
    const { 'prefline-signature': _s, ...noSignature } = headers();
    assert.equal(failure({ secret: SECRET, body: BODY, headers: noTimestamp, nowMs: NOW_MS }), 'missing_timestamp');
    assert.equal(failure({ secret: SECRET, body: BODY, headers: noSignature, nowMs: NOW_MS }), 'missing_signature');
    assert.equal(failure({ secret: SECRET, body: BODY, headers: { ...headers(), 'prefline-signature': [headers()['prefline-signature']!, 'v1=x'] }, nowMs: NOW_MS }), 'missing_signature');
    assert.equal(failure({ secret: SECRET, body: BODY, headers: { ...headers(), 'prefline-timestamp': '12.5' }, nowMs: NOW_MS }), 'invalid_timestamp');
    assert.equal(failure({ secret: ' ', body: BODY, headers: headers(), nowMs: NOW_MS }), 'empty_secret');
    assert.equal(isValidWebhookSignature({ secret: '', body: BODY, headers: headers(), nowMs: NOW_MS }), false);
  });
});
