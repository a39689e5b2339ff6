import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  MAX_SKEW_SECONDS, SlackVerificationError, assertSigningSecret, isValidSlackRequest, signSlackRequest, verifySlackRequest, type SlackVerificationFailure,
} from '../../../channels/slack/verify';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW_MS = Date.parse('2025-06-01T12:00:00.000Z');
const NOW_S = NOW_MS / 1000;
const BODY = JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: { type: 'reaction_added', reaction: '+1' } });

function headers(body: string | Buffer = BODY, ts: number = NOW_S, secret = SECRET): Record<string, string> {
  return { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signSlackRequest(secret, ts, body) };
}

function failure(request: Parameters<typeof verifySlackRequest>[0]): SlackVerificationFailure {
  try {
    verifySlackRequest(request);
  } catch (err) {
    assert.ok(err instanceof SlackVerificationError, String(err));
    return err.reason;
  }
  return assert.fail('the request was accepted');
}

describe('Slack request verification', () => {
  it('should accept a request signed by Slack within the window, as a string or the raw bytes', () => {
    verifySlackRequest({ signingSecret: SECRET, body: BODY, headers: headers(), nowMs: NOW_MS });
    verifySlackRequest({ signingSecret: SECRET, body: Buffer.from(BODY), headers: headers(), nowMs: NOW_MS });
    assert.equal(isValidSlackRequest({ signingSecret: SECRET, body: BODY, headers: headers(BODY, NOW_S - MAX_SKEW_SECONDS), nowMs: NOW_MS }), true);
    assert.equal(isValidSlackRequest({ signingSecret: SECRET, body: BODY, headers: headers(BODY, NOW_S + MAX_SKEW_SECONDS), nowMs: NOW_MS }), true);
  });

  it('should compute the documented v0 signature', () => {
    // Slack's documented construction: v0=hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
    const expected = `v0=${createHmac('sha256', SECRET).update(`v0:${NOW_S}:${BODY}`).digest('hex')}`;
    assert.equal(signSlackRequest(SECRET, NOW_S, BODY), expected);
  });

  it('should refuse a forged signature, another secret, and a v1 signature', () => {
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: headers(BODY, NOW_S, 'another-secret'), nowMs: NOW_MS }), 'signature_mismatch');
    const forged = { ...headers(), 'x-slack-signature': `v0=${'0'.repeat(64)}` };
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: forged, nowMs: NOW_MS }), 'signature_mismatch');
    const v1 = { ...headers(), 'x-slack-signature': headers()['x-slack-signature']!.replace('v0=', 'v1=') };
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: v1, nowMs: NOW_MS }), 'unsupported_signature_version');
    const short = { ...headers(), 'x-slack-signature': 'v0=abc' };
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: short, nowMs: NOW_MS }), 'unsupported_signature_version');
  });

  it('should refuse stale (301 s old) and future (301 s ahead) timestamps', () => {
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: headers(BODY, NOW_S - MAX_SKEW_SECONDS - 1), nowMs: NOW_MS }), 'stale_timestamp');
    // Bolt lets future timestamps through; a captured request replayed "from the future" must not pass.
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: headers(BODY, NOW_S + MAX_SKEW_SECONDS + 1), nowMs: NOW_MS }), 'future_timestamp');
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: { ...headers(), 'x-slack-request-timestamp': '1e9' }, nowMs: NOW_MS }), 'invalid_timestamp');
  });

  it('should refuse missing and repeated headers', () => {
    const { 'x-slack-signature': signature, 'x-slack-request-timestamp': ts } = headers();
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: { 'x-slack-signature': signature }, nowMs: NOW_MS }), 'missing_timestamp');
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: { 'x-slack-request-timestamp': ts }, nowMs: NOW_MS }), 'missing_signature');
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: {}, nowMs: NOW_MS }), 'missing_timestamp');
    assert.equal(failure({ signingSecret: SECRET, body: BODY, headers: { 'x-slack-request-timestamp': ts, 'x-slack-signature': [signature!, signature!] }, nowMs: NOW_MS }), 'missing_signature');
  });

  it('should refuse a re-serialised body (verification is over the exact bytes)', () => {
    const pretty = JSON.stringify(JSON.parse(BODY), null, 2);
    assert.equal(failure({ signingSecret: SECRET, body: pretty, headers: headers(), nowMs: NOW_MS }), 'signature_mismatch');
    const reordered = JSON.stringify({ event_id: 'Ev1', type: 'event_callback', event: { type: 'reaction_added', reaction: '+1' } });
    assert.equal(failure({ signingSecret: SECRET, body: reordered, headers: headers(), nowMs: NOW_MS }), 'signature_mismatch');
  });

  it('should not let ssl_check smuggle a payload past verification', () => {
    const smuggled = `ssl_check=1&payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions' }))}`;
    assert.equal(failure({ signingSecret: SECRET, body: smuggled, headers: {}, nowMs: NOW_MS }), 'missing_timestamp');
    assert.equal(failure({ signingSecret: SECRET, body: smuggled, headers: headers('ssl_check=1'), nowMs: NOW_MS }), 'signature_mismatch');
  });

  it('should refuse an empty or blank signing secret, even with a matching signature', () => {
    for (const secret of ['', '   ']) {
      assert.equal(failure({ signingSecret: secret, body: BODY, headers: headers(BODY, NOW_S, secret), nowMs: NOW_MS }), 'empty_signing_secret');
      assert.throws(() => assertSigningSecret(secret), SlackVerificationError);
    }
    assert.throws(() => assertSigningSecret(undefined), SlackVerificationError);
  });
});
