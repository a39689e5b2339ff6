/**
 * A lifecycle input's provenance (`startedBy`, `startedFrom`): who started it, as a rater pseudonym and
 * never a raw id, and from where. Pure, like the rest of input validation (workflows/input.ts).
 */
import type { LifecycleInput, StartSource } from './types';

/** Where a lifecycle may say it was started from (`startedFrom`). */
export const START_SOURCES: ReadonlyArray<StartSource> = ['slack:/prefline', 'web:prompt-box', 'cli', 'temporal-ui'];
/** Sources that always know who started: their lifecycles must name the starter. */
const SOURCES_WITH_STARTER: ReadonlyArray<StartSource> = ['slack:/prefline', 'web:prompt-box'];
/** A rater pseudonym as core/pseudonym.ts makes them. */
export const PSEUDONYM = /^r_[0-9a-f]{24}$/;

/** Who started the lifecycle and from where: a pseudonym, never a raw id, and a known source. Problems go to `errors`. */
export function parseProvenance(input: Partial<LifecycleInput>, errors: string[]): { startedBy?: string; startedFrom?: StartSource } {
  let startedFrom: StartSource | undefined;
  if (input.startedFrom !== undefined) {
    if (START_SOURCES.includes(input.startedFrom)) startedFrom = input.startedFrom;
    else errors.push(`startedFrom: must be one of ${START_SOURCES.join(', ')}`);
  }
  let startedBy: string | undefined;
  if (input.startedBy !== undefined) {
    if (typeof input.startedBy !== 'string' || !PSEUDONYM.test(input.startedBy)) errors.push('startedBy: must be a rater pseudonym like "r_0123456789abcdef01234567" (never a name or a user id)');
    else if (input.startedFrom === undefined) errors.push('startedBy: needs startedFrom, where the lifecycle was started from');
    else startedBy = input.startedBy;
  } else if (startedFrom !== undefined && SOURCES_WITH_STARTER.includes(startedFrom)) {
    errors.push(`startedBy: required with startedFrom "${startedFrom}"`);
  }
  return { ...(startedBy !== undefined ? { startedBy } : {}), ...(startedFrom !== undefined ? { startedFrom } : {}) };
}
