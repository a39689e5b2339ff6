/**
 * Whom an assigned lifecycle's campaign has handed it to (the `handed` signal) and who has not answered
 * yet: the raters it takes answers from besides those who answered (the tallies know them by slot,
 * across continue-as-new). A rater leaves the set once an answer of theirs is in, so a gold lifecycle,
 * handed to every rater of its campaign, carries its pending hand-outs only; their bytes count in the
 * carry's budget (RatingLifecycle.votingStateBytes, MAX_VOTING_STATE_BYTES), and a hand-out that finds the
 * budget spent is not taken (no new answer could be: checkRoom refuses it; lifecycle-acceptance.ts takeHandOut).
 */
import type { RatingLifecycle } from './lifecycle-state';

export class HandedRaters {
  private readonly raters: Set<string>;
  /** The set's bytes as carried: each pseudonym in JSON quotes, and a comma. */
  private carriedBytes = 0;

  constructor(raters: readonly string[] = []) {
    this.raters = new Set();
    for (const rater of raters) this.add(rater);
  }

  get size(): number {
    return this.raters.size;
  }

  get bytes(): number {
    return this.carriedBytes;
  }

  has(rater: string): boolean {
    return this.raters.has(rater);
  }

  add(rater: string): void {
    if (this.raters.has(rater)) return;
    this.raters.add(rater);
    this.carriedBytes += rater.length + 3;
  }

  /** The rater's answer is in: the tallies know them from now on. */
  answered(rater: string): void {
    if (this.raters.delete(rater)) this.carriedBytes -= rater.length + 3;
  }

  toCarry(): string[] {
    return [...this.raters];
  }
}

/** Whether the rater has an answer in the lifecycle, standing or withdrawn, vote or judgement. */
export function hasAnswered(lifecycle: RatingLifecycle, rater: string): boolean {
  return lifecycle.tally.hasAnyVote(rater) || lifecycle.judgements.hasJudged(rater);
}
