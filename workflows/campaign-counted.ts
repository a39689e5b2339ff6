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
  /** Thumbs: the item's candidates (from its reports). */
  candidates?: number;
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

/**
 * A thumbs item's shortfall on each candidate: `responses` less its standing votes of raters in good
 * standing, every attempt's (what a re-ask asks of each, campaign-state.ts startedReask). Undefined where
 * its answers are not all on record (reports from before choices were reported) or none lacks anything:
 * the item's count alone decides then.
 */
export function lackingByCandidate(item: AnsweredItem, responses: number, isExcluded: (rater: string) => boolean): number[] | undefined {
  const { standing, candidates } = item;
  if (standing === undefined || candidates === undefined) return undefined;
  if (!item.raters.every((rater) => standing.some((a) => a.rater === rater))) return undefined;
  const counted = Array.from({ length: candidates }, () => 0);
  for (const a of goodStanding(standing, isExcluded)) {
    if (a.answer !== 'withdrawn' && a.candidate !== undefined && a.candidate < candidates) counted[a.candidate]! += 1;
  }
  const lacking = counted.map((n) => Math.max(0, responses - n));
  return Math.max(...lacking) > 0 ? lacking : undefined;
}
