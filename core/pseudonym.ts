/**
 * Rater pseudonyms: a keyed hash of (source, raw identity), so the ledger can tell raters apart
 * without ever holding who they are. Pure; the raw id is neither stored nor logged.
 */
import { createHmac } from 'node:crypto';

/**
 * Canonical form of a raw identity. Typed web names and invite labels are free text written by people,
 * so "Alice" and " alice " must be one rater; email addresses are lowercased by whoever reads them.
 */
export function normaliseRawId(source: string, rawId: string): string {
  if (source === 'web' || source === 'invite') return rawId.normalize('NFKC').trim().toLowerCase();
  return rawId;
}

/** `r_` + the first 24 hex chars (96 bits) of HMAC-SHA256(key, source + NUL + normalised raw id). */
export function pseudonymiseRater(key: Buffer, source: string, rawId: string): string {
  if (key.length === 0) throw new Error('pseudonymiseRater: empty key');
  if (!/^[a-z]{2,16}$/.test(source)) throw new Error('pseudonymiseRater: source must be 2–16 lowercase letters');
  const id = normaliseRawId(source, rawId);
  if (id.length === 0) throw new Error('pseudonymiseRater: empty identity');
  // NUL cannot occur in `source`, so it separates the fields unambiguously: ("ab","c") ≠ ("a","bc").
  const mac = createHmac('sha256', key).update(`${source}\0${id}`, 'utf8').digest('hex');
  return `r_${mac.slice(0, 24)}`;
}
