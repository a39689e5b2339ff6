/** Shared by generated and brought candidates. */

/** Text shown to raters is capped; the full output is the artifact. */
export const MAX_CANDIDATE_TEXT = 8000;

/** A candidate's label, what raters see: `A` for the first (c1), `B` for the second, … */
export function candidateLabel(slot: number): string {
  return String.fromCharCode(65 + slot);
}
