/**
 * What kind of candidate a file is, judged by its bytes, never by a name or a Content-Type someone
 * else chose: PNG, JPEG, GIF and WebP images by their signatures, texts as valid UTF-8 without NUL or
 * other binary controls. Anything else cannot be rated. Pure.
 */
import type { CandidateKind } from '../workflows/types';

export interface MediaType {
  kind: CandidateKind;
  mime: string;
}

export const TEXT_MIME = 'text/plain; charset=utf-8';

/** Image signatures (magic numbers) and their mime types. */
const IMAGE_SIGNATURES: ReadonlyArray<{ mime: string; test: (b: Uint8Array) => boolean }> = [
  { mime: 'image/png', test: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { mime: 'image/jpeg', test: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { mime: 'image/gif', test: (b) => startsWith(b, [0x47, 0x49, 0x46, 0x38]) && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61 },
  { mime: 'image/webp', test: (b) => startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b.subarray(8), [0x57, 0x45, 0x42, 0x50]) },
];

/** File name extensions `prefline import` takes, and the kind each must turn out to be. */
export const IMPORT_EXTENSIONS: Readonly<Record<string, string>> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', txt: TEXT_MIME,
};

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
// C0 controls but tab, line feed, carriage return and form feed: a text with them is binary.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BINARY_CONTROLS = /[\u0000-\u0008\u000B\u000E-\u001F\u007F]/;

/** The text of `bytes` if they are UTF-8 text (a BOM dropped), else undefined. */
export function decodeText(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  if (BINARY_CONTROLS.test(text)) return undefined;
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** The kind and mime type of `bytes`, or undefined if they are neither a known image nor UTF-8 text. */
export function sniffMedia(bytes: Uint8Array): MediaType | undefined {
  const image = IMAGE_SIGNATURES.find((s) => s.test(bytes));
  if (image) return { kind: 'image', mime: image.mime };
  if (bytes.length > 0 && decodeText(bytes) !== undefined && decodeText(bytes)!.trim() !== '') return { kind: 'text', mime: TEXT_MIME };
  return undefined;
}
