/**
 * Signed artifact URLs: the rating page shows images with `<img src>`, which cannot send the session's
 * bearer header, so the status answers of a signed-in rater carry URLs that are themselves the
 * permission: `/artifacts/<sha256>?exp=<epoch s>&sig=<MAC>`. The MAC (HMAC-SHA256 of the session key,
 * its own purpose, truncated to 128 bits) covers the digest and the expiry. Expiries fall on whole
 * hours, one to two hours ahead, so a URL stays the same across the page's refreshes and the browser
 * keeps using its cached image. Chosen over a cookie session: no cookie means no cross-site request
 * can carry the rater's authority, and the API keeps one way of authenticating.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HOUR_MS = 3_600_000;
const MAC_BYTES = 16;
const SIG = /^[A-Za-z0-9_-]{22}$/;

function mac(key: Buffer, sha256: string, expSeconds: number): Buffer {
  return createHmac('sha256', key).update(`prefline-artifact\0${sha256}\0${expSeconds}`, 'utf8').digest().subarray(0, MAC_BYTES);
}

/** The expiry (epoch seconds) of URLs issued at `nowMs`: the end of the next whole hour. */
export function artifactUrlExpiry(nowMs: number): number {
  return ((Math.floor(nowMs / HOUR_MS) + 2) * HOUR_MS) / 1000;
}

export function signedArtifactUrl(key: Buffer, sha256: string, nowMs: number): string {
  const exp = artifactUrlExpiry(nowMs);
  return `/artifacts/${sha256}?exp=${exp}&sig=${mac(key, sha256, exp).toString('base64url')}`;
}

/** Whether `?exp=…&sig=…` grants `sha256` at `nowMs`. */
export function verifyArtifactUrl(key: Buffer, sha256: string, query: URLSearchParams, nowMs: number): boolean {
  const expText = query.get('exp') ?? '';
  const sig = query.get('sig') ?? '';
  if (!/^\d{1,12}$/.test(expText) || !SIG.test(sig)) return false;
  const exp = Number(expText);
  if (nowMs >= exp * 1000) return false;
  const given = Buffer.from(sig, 'base64url');
  return given.length === MAC_BYTES && given.toString('base64url') === sig && timingSafeEqual(given, mac(key, sha256, exp));
}
