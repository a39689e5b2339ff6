/**
 * Which standing answers of an item a campaign counts: those of raters in good standing. An excluded
 * rater's answers stay in the ledger (campaign_raters flags them, results leave them out), so they fill
 * no item's quota and weigh nothing for early stopping, those given before the exclusion included.
 *
 * Pure functions over what the campaign holds of an item: the raters who answered it, in every attempt,
 * and each one's latest answer (`standing`, workflows/confidence-stop.ts).
 */
import type { StandingAnswer } from './confidence-stop';

export interface AnsweredItem {
  raters: readonly string[];
  standing?: readonly StandingAnswer[];
}

/**
 * How many of the item's standing answers are excluded raters': compare, the excluded raters whose latest
 * answer is not withdrawn; thumbs, the most of any one candidate (an item's progress is the fewest votes
 * of a candidate, so its counted answers are never overstated). A rater who answered with no answer on
 * record (a report or a carry from before answers were kept) is taken to stand.
 */
export function excludedAnswers(item: AnsweredItem, isExcluded: (rater: string) => boolean): number {
  const excluded = item.raters.filter(isExcluded);
  if (excluded.length === 0) return 0;
  const byCandidate = new Map<number | undefined, number>();
  let unrecorded = 0;
  for (const rater of excluded) {
    const answers = (item.standing ?? []).filter((a) => a.rater === rater);
    if (answers.length === 0) unrecorded += 1;
    for (const a of answers) if (a.answer !== 'withdrawn') byCandidate.set(a.candidate, (byCandidate.get(a.candidate) ?? 0) + 1);
  }
  return unrecorded + Math.max(0, ...byCandidate.values());
}

/** The standing answers that are evidence: none of an excluded rater's. */
export function goodStanding(standing: readonly StandingAnswer[], isExcluded: (rater: string) => boolean): StandingAnswer[] {
  return standing.filter((a) => !isExcluded(a.rater));
}
