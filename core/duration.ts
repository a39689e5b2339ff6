/**
 * The one duration grammar of Prefline: lifecycle input (deadlines, reminders) and configuration
 * (`PREFLINE_SESSION_TTL`, timeouts) read durations alike. Pure, with no imports: workflow code uses
 * it, so it is bundled into Temporal's sandbox.
 */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `90s`, `30m`, `24h`, `2d`, and compounds like `1h30m`. Returns undefined if not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(trimmed)) return undefined;
  let total = 0;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(match[1]) * (DURATION_UNITS[match[2] as string] as number);
  }
  return total;
}
