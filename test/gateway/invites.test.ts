import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { pseudonymiseRater } from '../../core/pseudonym';
import { displayNameOf, invitedRater, inviteLink, normaliseLabel, signInvite, verifyInvite } from '../../gateway/invites';
import { issueSession } from '../../gateway/session';
import { sealToken } from '../../gateway/signed-token';

const KEY = Buffer.from('invite-key-for-unit-tests-0123');
const RATER_KEY = Buffer.from('rater-key-for-unit-tests-0123');
const NOW = Date.parse('2026-01-10T09:00:00Z');
const ID = 'inv_0123456789abcdef0123';

describe('gateway/invites', () => {
  it('should round-trip an invite token carrying the id and expiry', () => {
    const token = signInvite(KEY, { inviteId: ID, expiresAt: NOW + 1000 });
    assert.deepEqual(verifyInvite(KEY, token, NOW), { ok: true, claim: { inviteId: ID, expiresAt: NOW + 1000 } });
    assert.equal(inviteLink('https://rate.example.org', token), `https://rate.example.org/#/invite/${token}`);
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/); // safe in a URL fragment as it is
  });

  it('should refuse a tampered, re-signed, foreign-key or other-purpose token', () => {
    const token = signInvite(KEY, { inviteId: ID, expiresAt: NOW + 1000 });
    const [body, sig] = token.split('.');
    const longer = Buffer.from(JSON.stringify({ v: 1, i: ID, exp: NOW + 10 ** 9 })).toString('base64url');
    assert.deepEqual(verifyInvite(KEY, `${longer}.${sig}`, NOW), { ok: false, reason: 'bad_signature' });
    const other = Buffer.from(JSON.stringify({ v: 1, i: 'inv_ffffffffffffffffffff', exp: NOW + 1000 })).toString('base64url');
    assert.deepEqual(verifyInvite(KEY, `${other}.${sig}`, NOW), { ok: false, reason: 'bad_signature' });
    assert.deepEqual(verifyInvite(Buffer.from('another-key-0123456789'), token, NOW), { ok: false, reason: 'bad_signature' });
    // Signed with the same key but without the invite purpose (as a session would be): not an invite.
    const plainMac = createHmac('sha256', KEY).update(body!).digest('base64url');
    assert.deepEqual(verifyInvite(KEY, `${body}.${plainMac}`, NOW), { ok: false, reason: 'bad_signature' });
    // A session token is no invite, even under the same key.
    assert.equal(verifyInvite(KEY, issueSession(KEY, { rater: 'r_0123456789abcdef01234567', displayName: 'x', auth: 'open' }, 1000, NOW), NOW).ok, false);
    for (const bad of ['', 'x', 'a.b.c', `${token}x`, undefined, 42]) assert.equal(verifyInvite(KEY, bad, NOW).ok, false, String(bad));
    // Correctly signed but not an invite: a bad id or expiry.
    for (const payload of [{ v: 1, i: '../../etc/passwd', exp: NOW + 1 }, { v: 2, i: ID, exp: NOW + 1 }, { v: 1, i: ID, exp: 'later' }]) {
      assert.deepEqual(verifyInvite(KEY, sealToken(KEY, payload, 'prefline-invite'), NOW), { ok: false, reason: 'malformed' }, JSON.stringify(payload));
    }
  });

  it('should refuse an expired token, at and after its expiry', () => {
    const token = signInvite(KEY, { inviteId: ID, expiresAt: NOW + 1000 });
    assert.equal(verifyInvite(KEY, token, NOW + 999).ok, true);
    assert.deepEqual(verifyInvite(KEY, token, NOW + 1000), { ok: false, reason: 'expired' });
    assert.throws(() => signInvite(KEY, { inviteId: 'not-an-id', expiresAt: NOW }), /invite id/);
  });

  it('should give an invited address the email channel\'s pseudonym, and any other label one of its own', () => {
    assert.equal(invitedRater(RATER_KEY, 'alice@example.org'), pseudonymiseRater(RATER_KEY, 'email', 'alice@example.org'));
    assert.equal(invitedRater(RATER_KEY, normaliseLabel('Alice@Example.ORG ')), pseudonymiseRater(RATER_KEY, 'email', 'alice@example.org'));
    assert.equal(invitedRater(RATER_KEY, 'Alice Smith'), pseudonymiseRater(RATER_KEY, 'invite', 'alice smith'));
    assert.equal(invitedRater(RATER_KEY, 'Alice Smith'), invitedRater(RATER_KEY, ' alice smith'));
    // An invited "alice" is not whoever types "alice" on the open panel.
    assert.notEqual(invitedRater(RATER_KEY, 'alice'), pseudonymiseRater(RATER_KEY, 'web', 'alice'));
  });

  it('should show a label, or an address\'s local part only', () => {
    assert.equal(displayNameOf('alice@example.org'), 'alice');
    assert.equal(displayNameOf('Reviewer 7'), 'Reviewer 7');
  });

  it('should refuse empty, over-long and control-character labels', () => {
    for (const label of ['', '   ', 'x'.repeat(201), 'a\u0000b', 'bob\u202e']) assert.throws(() => normaliseLabel(label), RangeError, JSON.stringify(label));
    assert.equal(normaliseLabel('x'.repeat(200)), 'x'.repeat(200));
  });
});
