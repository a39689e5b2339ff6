/**
 * The order in which a rater sees the two candidates of a comparison. Arena and Rapidata swap left and
 * right at random so position bias averages out; Prefline does the same, but deterministically per
 * (lifecycle, rater), so a rater sees the same order on every visit and every channel, the order can be
 * recomputed later, and every judgement records the order shown (`left`, `right`). Pure.
 *
 * Where one message is shown to many raters (a Slack post), the order is per message: the same function
 * keyed by the lifecycle id alone (`rater` omitted), and each judgement still records what was shown.
 */
import { createHash } from 'node:crypto';

/**
 * Whether the pair is shown swapped (second candidate on the left): the first bit of
 * sha256(lifecycleId NUL rater), or of sha256(lifecycleId) without a rater.
 */
export function isSwapped(lifecycleId: string, rater?: string): boolean {
  const hash = createHash('sha256').update(rater === undefined ? lifecycleId : `${lifecycleId}\u0000${rater}`).digest();
  return (hash[0]! & 0x80) !== 0;
}

/** The pair as `rater` sees it, [left, right]; without a rater, the order of a post everyone sees. */
export function presentationOrder<T>(lifecycleId: string, rater: string | undefined, pair: readonly [T, T]): [T, T] {
  const [first, second] = pair;
  return isSwapped(lifecycleId, rater) ? [second, first] : [first, second];
}
