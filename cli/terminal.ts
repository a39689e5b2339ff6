/**
 * Text from the ledger, releases or errors, made safe to print: what raters typed must not drive the
 * analyst's terminal (ANSI escapes set titles, links and colours, rewrite the screen) nor reorder what
 * is shown (bidi overrides), and must not run as a formula in a spreadsheet opened from a CSV.
 *
 * Controls are shown, not dropped, so an analyst sees that a comment carried them: C0 controls and
 * DEL as their Unicode control pictures (ESC → ␛), the others (C1, bidi overrides and isolates, line
 * and paragraph separators) as `\u202e`-style escapes.
 */

/** C0 controls, DEL, C1 controls, bidi marks, overrides and isolates, line and paragraph separators. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same less tab, newline and carriage return, which a multi-line message or a quoted CSV field keeps. */
// eslint-disable-next-line no-control-regex -- as above
const UNSAFE_IN_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw in strings (it escapes C0 itself; the newlines outside strings are its layout). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code); // ␀ … ␟
  if (code === 0x7f) return '\u2421'; // ␡
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One table cell or header: every control visible, newlines and tabs included (they would break the layout). */
export function visibleControls(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** A message of several lines (an error, a list of problems): tabs and newlines kept, other controls visible. */
export function safeForTerminal(text: string): string {
  return text.replace(UNSAFE_IN_LINES, visible);
}

/**
 * JSON for a terminal: JSON.stringify already escapes C0 controls; this escapes DEL, C1 and the bidi
 * and separator characters too, as `\uXXXX`, so the document parses to exactly the same values.
 */
export function jsonForTerminal(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Cells a spreadsheet would read as a formula start with one of these (OWASP, "CSV Injection"). */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell's text with a leading `'` if a spreadsheet would take it for a formula. Only text
 * cells: a number (or a numeric column's value, which DuckDB hands over as a string for BIGINT and
 * DECIMAL) stays a number, negative ones included.
 */
export function csvText(text: string, isText: boolean): string {
  return isText && FORMULA_START.test(text) ? `'${text}` : text;
}
