import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { MAX_FUTURE_IAT_MS, issueSession, verifySession } from '../../gateway/session';

const KEY = Buffer.from('test-session-key-0123456789abcdef');
const NOW = Date.parse('2025-06-01T12:00:00Z');
const TTL = 3600_000;
const WHO = { rater: 'r_0123456789abcdef01234567', displayName: 'Alice', auth: 'open' as const };

function forge(payload: unknown, key = KEY): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

describe('gateway/session', () => {
  it('round-trips a session', () => {
    const token = issueSession(KEY, WHO, TTL, NOW);
    assert.deepEqual(verifySession(KEY, token, NOW + 1000), {
      ok: true,
      session: { rater: WHO.rater, displayName: 'Alice', auth: 'open', issuedAt: NOW, expiresAt: NOW + TTL },
    });
    const payload = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
    assert.deepEqual(payload, { v: 2, r: WHO.rater, n: 'Alice', a: 'open', iat: NOW, exp: NOW + TTL });
  });

  it('binds an invite session to its invite (and campaign)', () => {
    const token = issueSession(KEY, { rater: WHO.rater, displayName: 'alice', auth: 'invite', inviteId: 'inv_0123456789abcdef0123', campaign: 'spring' }, TTL, NOW);
    assert.deepEqual(verifySession(KEY, token, NOW), {
      ok: true,
      session: { rater: WHO.rater, displayName: 'alice', auth: 'invite', inviteId: 'inv_0123456789abcdef0123', campaign: 'spring', issuedAt: NOW, expiresAt: NOW + TTL },
    });
    assert.throws(() => issueSession(KEY, { rater: WHO.rater, displayName: 'alice', auth: 'invite' }, TTL, NOW), /invite id/);
    // Signed, but an invite session without its invite (or another session claiming one) is not a session.
    assert.deepEqual(verifySession(KEY, forge({ v: 2, r: WHO.rater, n: 'x', a: 'invite', iat: NOW, exp: NOW + TTL }), NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifySession(KEY, forge({ v: 2, r: WHO.rater, n: 'x', a: 'oidc', i: 'inv_0123456789abcdef0123', iat: NOW, exp: NOW + TTL }), NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifySession(KEY, forge({ v: 2, r: WHO.rater, n: 'x', a: 'admin', iat: NOW, exp: NOW + TTL }), NOW), { ok: false, reason: 'malformed' });
  });

  it('carries whether the rater may generate, never for an open-panel name, and reads older tokens as not', () => {
    const who = { rater: WHO.rater, displayName: 'alice', auth: 'invite' as const, inviteId: 'inv_0123456789abcdef0123', canGenerate: true as const };
    const token = issueSession(KEY, who, TTL, NOW);
    assert.deepEqual(verifySession(KEY, token, NOW), { ok: true, session: { ...who, issuedAt: NOW, expiresAt: NOW + TTL } });
    assert.equal(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).g, 1);
    const oidc = verifySession(KEY, issueSession(KEY, { rater: WHO.rater, displayName: 'a', auth: 'oidc', canGenerate: true }, TTL, NOW), NOW);
    assert.ok(oidc.ok && oidc.session.canGenerate === true);
    const plain = verifySession(KEY, issueSession(KEY, { ...who, canGenerate: undefined }, TTL, NOW), NOW);
    assert.ok(plain.ok && !('canGenerate' in plain.session), 'an older token (no g) may not generate');
    assert.throws(() => issueSession(KEY, { ...WHO, canGenerate: true }, TTL, NOW), /open-panel session may not generate/);
    // Signed, but a typed name claiming to generate, or a g that is not 1, is not a session.
    assert.deepEqual(verifySession(KEY, forge({ v: 2, r: WHO.rater, n: 'x', a: 'open', g: 1, iat: NOW, exp: NOW + TTL }), NOW), { ok: false, reason: 'malformed' });
    assert.deepEqual(verifySession(KEY, forge({ v: 2, r: WHO.rater, n: 'x', a: 'oidc', g: true, iat: NOW, exp: NOW + TTL }), NOW), { ok: false, reason: 'malformed' });
  });

  it('reads a token from before sign-in kinds (v1) as a typed-name (open) session', () => {
    assert.deepEqual(verifySession(KEY, forge({ v: 1, r: WHO.rater, n: 'Alice', iat: NOW, exp: NOW + TTL }), NOW), {
      ok: true,
      session: { rater: WHO.rater, displayName: 'Alice', auth: 'open', issuedAt: NOW, expiresAt: NOW + TTL },
    });
  });

  it('refuses a forged signature', () => {
    const [body] = issueSession(KEY, WHO, TTL, NOW).split('.');
    const fake = Buffer.alloc(32, 7).toString('base64url');
    assert.deepEqual(verifySession(KEY, `${body}.${fake}`, NOW), { ok: false, reason: 'bad_signature' });
    // A signature of the wrong length is refused without reaching timingSafeEqual's length error.
    assert.deepEqual(verifySession(KEY, `${body}.AAAA`, NOW), { ok: false, reason: 'bad_signature' });
  });

  it('refuses a tampered payload', () => {
    const [, sig] = issueSession(KEY, WHO, TTL, NOW).split('.');
    const other = Buffer.from(JSON.stringify({ v: 1, r: 'r_ffffffffffffffffffffffff', n: 'Mallory', iat: NOW, exp: NOW + TTL })).toString('base64url');
    assert.deepEqual(verifySession(KEY, `${other}.${sig}`, NOW), { ok: false, reason: 'bad_signature' });
    const longer = Buffer.from(JSON.stringify({ v: 1, r: WHO.rater, n: 'Alice', iat: NOW, exp: NOW + 100 * TTL })).toString('base64url');
    assert.deepEqual(verifySession(KEY, `${longer}.${sig}`, NOW), { ok: false, reason: 'bad_signature' });
  });

  it('refuses a token signed with another key', () => {
    const token = issueSession(Buffer.from('some-other-key-0123456789'), WHO, TTL, NOW);
    assert.deepEqual(verifySession(KEY, token, NOW), { ok: false, reason: 'bad_signature' });
  });

  it('refuses an expired token, at and after exp', () => {
    const token = issueSession(KEY, WHO, TTL, NOW);
    assert.equal(verifySession(KEY, token, NOW + TTL - 1).ok, true);
    assert.deepEqual(verifySession(KEY, token, NOW + TTL), { ok: false, reason: 'expired' });
    assert.deepEqual(verifySession(KEY, token, NOW + 10 * TTL), { ok: false, reason: 'expired' });
  });

  it('refuses an iat more than 5 minutes in the future, tolerating smaller skew', () => {
    const token = issueSession(KEY, WHO, TTL, NOW + MAX_FUTURE_IAT_MS + 1);
    assert.deepEqual(verifySession(KEY, token, NOW), { ok: false, reason: 'not_yet_valid' });
    assert.equal(verifySession(KEY, issueSession(KEY, WHO, TTL, NOW + 60_000), NOW).ok, true);
  });

  it('refuses an empty key on both sides', () => {
    assert.throws(() => issueSession(Buffer.alloc(0), WHO, TTL, NOW), /empty/);
    assert.throws(() => verifySession(Buffer.alloc(0), issueSession(KEY, WHO, TTL, NOW), NOW), /empty/);
  });

  it('refuses malformed tokens', () => {
    const good = issueSession(KEY, WHO, TTL, NOW);
    for (const token of ['', '.', 'abc', 'a.b.c', `${good}.x`, `${good.split('.')[0]}.`, 'a b.c', 'x'.repeat(5000) + '.y']) {
      assert.deepEqual(verifySession(KEY, token, NOW), { ok: false, reason: 'malformed' }, JSON.stringify(token.slice(0, 40)));
    }
    assert.deepEqual(verifySession(KEY, undefined as unknown as string, NOW), { ok: false, reason: 'malformed' });
    // Correctly signed but not a session: still malformed.
    for (const payload of ['not json', { v: 2, r: 'r_1', n: 'x', iat: NOW, exp: NOW + 1 }, { v: 1, r: '', n: 'x', iat: NOW, exp: NOW + 1 }, { v: 1, r: 'r_1', n: 'x', iat: NOW, exp: NOW }, { v: 1, r: 'r_1', n: 'x', iat: 'now', exp: NOW + 1 }, null]) {
      const token =
        payload === 'not json'
          ? (() => {
              const body = Buffer.from('not json').toString('base64url');
              return `${body}.${createHmac('sha256', KEY).update(body).digest('base64url')}`;
            })()
          : forge(payload);
      assert.deepEqual(verifySession(KEY, token, NOW), { ok: false, reason: 'malformed' }, JSON.stringify(payload));
    }
  });

  it('refuses a non-canonical spelling of a valid signature', () => {
    const [body, sig] = issueSession(KEY, WHO, TTL, NOW).split('.');
    // 32 bytes → 43 base64url chars; the last char carries 2 unused bits that lenient decoders ignore.
    const last = sig!.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1]!;
    assert.deepEqual(verifySession(KEY, `${body}.${sig!.slice(0, -1)}${twin}`, NOW), { ok: false, reason: 'bad_signature' });
  });
});
