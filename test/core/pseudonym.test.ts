import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { normaliseRawId, pseudonymiseRater } from '../../core/pseudonym';

const KEY = Buffer.from('test-rater-key-0123456789abcdef');
const RATER_PATTERN = /^[a-z]+_[0-9a-f]{8,64}$/; // workflows/vote-tally.ts

describe('core/pseudonym', () => {
  it('is r_ + the first 24 hex chars of HMAC-SHA256(key, source NUL normalised id)', () => {
    const expected = 'r_' + createHmac('sha256', KEY).update('web\0alice').digest('hex').slice(0, 24);
    assert.equal(pseudonymiseRater(KEY, 'web', 'Alice'), expected);
    assert.match(expected, RATER_PATTERN);
  });

  it('treats web names that differ in case, surrounding space or Unicode form as one rater', () => {
    const a = pseudonymiseRater(KEY, 'web', 'Alice');
    assert.equal(pseudonymiseRater(KEY, 'web', ' alice '), a);
    assert.equal(pseudonymiseRater(KEY, 'web', '\u00a0ALICE\t'), a);
    assert.equal(pseudonymiseRater(KEY, 'web', 'Ａｌｉｃｅ'), a); // full-width letters, NFKC-folded
    assert.equal(normaliseRawId('web', ' Ｚoë '), 'zoë');
    assert.notEqual(pseudonymiseRater(KEY, 'web', 'Alicia'), a);
  });

  it('separates sources and keys, and leaves non-web ids as they are', () => {
    assert.notEqual(pseudonymiseRater(KEY, 'slack', 'alice'), pseudonymiseRater(KEY, 'web', 'alice'));
    assert.notEqual(pseudonymiseRater(KEY, 'slack', 'U123'), pseudonymiseRater(KEY, 'slack', 'u123'));
    assert.notEqual(pseudonymiseRater(Buffer.from('another-key-0123456789'), 'web', 'alice'), pseudonymiseRater(KEY, 'web', 'alice'));
  });

  it('is deterministic and never contains the raw id', () => {
    const p = pseudonymiseRater(KEY, 'web', 'alice');
    assert.equal(pseudonymiseRater(KEY, 'web', 'alice'), p);
    assert.doesNotMatch(p, /alice/i);
  });

  it('refuses an empty key, a bad source and an empty identity', () => {
    assert.throws(() => pseudonymiseRater(Buffer.alloc(0), 'web', 'alice'), /empty key/);
    assert.throws(() => pseudonymiseRater(KEY, 'we\0b', 'alice'), /source/);
    assert.throws(() => pseudonymiseRater(KEY, 'web', '   '), /empty identity/);
  });
});
