import assert from 'node:assert/strict';
import { artifactUrlExpiry, signedArtifactUrl, verifyArtifactUrl } from '../../gateway/artifact-urls';

const KEY = Buffer.from('session-key-for-unit-tests-0123');
const SHA = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);
const T = Date.parse('2026-01-10T09:20:00Z');
const query = (url: string) => new URL(url, 'http://gw').searchParams;

describe('gateway/artifact-urls', () => {
  it('should sign a URL valid until the end of the next whole hour, the same all hour long', () => {
    const url = signedArtifactUrl(KEY, SHA, T);
    assert.equal(artifactUrlExpiry(T), Date.parse('2026-01-10T11:00:00Z') / 1000);
    assert.equal(signedArtifactUrl(KEY, SHA, T + 30 * 60_000), url);
    assert.ok(verifyArtifactUrl(KEY, SHA, query(url), T));
    assert.ok(verifyArtifactUrl(KEY, SHA, query(url), Date.parse('2026-01-10T10:59:59Z')));
    assert.equal(verifyArtifactUrl(KEY, SHA, query(url), Date.parse('2026-01-10T11:00:00Z')), false);
  });

  it('should refuse another digest, a changed expiry, another key and malformed parameters', () => {
    const q = query(signedArtifactUrl(KEY, SHA, T));
    assert.equal(verifyArtifactUrl(KEY, OTHER, q, T), false);
    const later = new URLSearchParams(q);
    later.set('exp', String(Number(q.get('exp')) + 3600));
    assert.equal(verifyArtifactUrl(KEY, SHA, later, T), false);
    assert.equal(verifyArtifactUrl(Buffer.from('another-key-0123456789'), SHA, q, T), false);
    for (const bad of ['', 'exp=1', 'sig=AAAAAAAAAAAAAAAAAAAAAA', `exp=-1&sig=${q.get('sig')}`, `exp=${q.get('exp')}&sig=short`]) {
      assert.equal(verifyArtifactUrl(KEY, SHA, new URLSearchParams(bad), T), false, bad);
    }
  });
});
