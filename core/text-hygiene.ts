/**
 * Text hygiene of what raters write (comments), shared by every channel's mapping: characters that
 * let a comment rewrite a terminal or reorder what a reader sees are refused where the rater can be
 * told (the web vote API answers 400 `invalid_comment`), and stripped where nobody can be told
 * (a line read from an email reply). Pure.
 *
 * Unsafe:
 * - C0 controls except tab and line feed (comments are short multi-line text: a textarea), DEL, and
 *   C1 controls: escape sequences (ESC, CSI) and carriage return rewrite terminal output;
 * - the bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, which
 *   reorder the text displayed after them ("Trojan Source");
 * - U+2028 and U+2029 (line and paragraph separators that some readers treat as line ends);
 * - lone surrogates (not text at all).
 *
 * Allowed: the implicit direction marks U+200E, U+200F and U+061C (right-to-left writers need them and
 * they cannot reverse a run), zero-width characters, emoji sequences. A CR LF pair is a line feed
 * (`normaliseLineEnds`) before the check, so text pasted from Windows is not refused for it.
 */

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\u202A-\u202E\u2066-\u2069\uD800-\uDFFF]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

/** The first unsafe character of `text` and where it is, or undefined if there is none. */
export function unsafeCharacter(text: string): { index: number; codePoint: string } | undefined {
  const found = UNSAFE.exec(text);
  if (!found) return undefined;
  return { index: found.index, codePoint: `U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` };
}

/** CR LF as LF. */
export function normaliseLineEnds(text: string): string {
  return text.replace(/\r\n/g, '\n');
}

/** Why `text` may not be a comment (naming the first unsafe character), or undefined if it may. */
export function unsafeTextReason(text: string): string | undefined {
  const found = unsafeCharacter(text);
  return found && `comment: control and bidirectional-override characters are not allowed (${found.codePoint} at position ${found.index})`;
}

/** `text` without its unsafe characters. */
export function stripUnsafeText(text: string): string {
  return text.replace(UNSAFE_ALL, '');
}
