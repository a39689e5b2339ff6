/**
 * A rater's choice between two candidates, as Prefline records it today: as thumbs on both.
 * Domain logic, kept out of the channels' transport code so every channel that offers a comparison
 * (`capabilities.compare`) records it the same way.
 *
 *   A is better → 👍 A, 👎 B
 *   B is better → 👎 A, 👍 B
 *   tie         → both withdrawn (a tie is no preference pair)
 */
import type { VoteValue } from '../workflows/types';

export type PairChoice = 'a' | 'b' | 'tie';

/** The votes on A and on B that record `choice`, in that order. */
export function pairChoiceVotes<C>(choice: PairChoice, a: C, b: C): [{ candidate: C; value: VoteValue }, { candidate: C; value: VoteValue }] {
  const [va, vb]: [VoteValue, VoteValue] = choice === 'a' ? ['up', 'down'] : choice === 'b' ? ['down', 'up'] : ['retract', 'retract'];
  return [{ candidate: a, value: va }, { candidate: b, value: vb }];
}
