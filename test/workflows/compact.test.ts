/** workflows/compact: the sandbox's own SHA-256, base64 and UTF-8 sizes agree with Node's. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { digest64, fromBase64, packDigests, sha256, toBase64, unpackDigests, utf8Length } from '../../workflows/compact';

describe('workflows/compact', () => {
  it('should compute SHA-256 like node:crypto, across block boundaries', () => {
    for (const length of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const data = randomBytes(length);
      assert.equal(Buffer.from(sha256(data)).toString('hex'), createHash('sha256').update(data).digest('hex'), `${length} bytes`);
    }
    assert.equal(digest64('web:r_1:abc'), createHash('sha256').update('web:r_1:abc', 'utf8').digest('hex').slice(0, 16));
    assert.equal(digest64('ünï €'), createHash('sha256').update('ünï €', 'utf8').digest('hex').slice(0, 16));
  });

  it('should encode and decode base64 like Buffer, with padding', () => {
    for (const length of [0, 1, 2, 3, 4, 5, 100]) {
      const data = randomBytes(length);
      assert.equal(toBase64(data), data.toString('base64'));
      assert.deepEqual(Buffer.from(fromBase64(data.toString('base64'))), data);
    }
    assert.throws(() => fromBase64('abc'), /multiple of 4/);
    assert.throws(() => fromBase64('ab!='), /invalid character/);
  });

  it('should pack digests into 8 bytes each and unpack them in order', () => {
    const digests = ['a', 'b', 'c'].map(digest64);
    const packed = packDigests(digests);
    assert.equal(fromBase64(packed).length, 24);
    assert.deepEqual(unpackDigests(packed), digests);
    assert.deepEqual(unpackDigests(packDigests([])), []);
  });

  it('should count UTF-8 bytes like Buffer.byteLength, lone surrogates included', () => {
    for (const text of ['', 'abc', 'é', '€', '😀', 'a😀b€é', '\ud800', 'x\udc00y', '😀'.repeat(1000)]) {
      assert.equal(utf8Length(text), Buffer.byteLength(text, 'utf8'), JSON.stringify(text));
    }
  });
});
