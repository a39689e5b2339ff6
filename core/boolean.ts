/**
 * The one boolean grammar of Prefline's settings. An on/off variable accepts exactly these words
 * (any case); anything else is a mistake to report, never a silent "off". Pure: the caller names
 * the variable in its error (config/read.ts).
 */

const TRUE_WORDS = new Set(['1', 'true', 'yes', 'on']);
const FALSE_WORDS = new Set(['0', 'false', 'no', 'off']);

/** The words `parseBoolean` accepts, for error messages. */
export const BOOLEAN_WORDS = '1/0, true/false, yes/no or on/off';

/** `1`, `true`, `yes`, `on` → true; `0`, `false`, `no`, `off` → false (case-insensitive, trimmed); otherwise undefined. */
export function parseBoolean(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}
