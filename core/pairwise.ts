/**
 * A rater's choice between two candidates, as channels with fixed answer words offer it (Slack's
 * buttons, email's links and replies): "A is better", "B is better", "tie", "both bad", or withdraw the
 * answer. A is the candidate the rater was shown first (left, or on top), B the one shown second. Every
 * such choice is one judgement (workflows/types.ts JudgementRequest): ties and both-bad are kept as
 * answers of their own, never turned into thumbs. Pure, shared by every channel that offers a comparison
 * (`capabilities.compare`).
 */
import type { JudgementChoice } from '../workflows/types';

export type PairChoice = 'a' | 'b' | 'tie' | 'both_bad' | 'retract';

export const PAIR_CHOICE_VALUES: readonly PairChoice[] = ['a', 'b', 'tie', 'both_bad', 'retract'];

const JUDGEMENT: Readonly<Record<PairChoice, JudgementChoice>> = { a: 'left', b: 'right', tie: 'tie', both_bad: 'both_bad', retract: 'retract' };

export function isPairChoice(value: unknown): value is PairChoice {
  return typeof value === 'string' && (PAIR_CHOICE_VALUES as readonly string[]).includes(value);
}

/** The judgement choice for `choice`, with A the candidate shown first (left) and B the one shown second. */
export function pairChoiceJudgement(choice: PairChoice): JudgementChoice {
  return JUDGEMENT[choice];
}
