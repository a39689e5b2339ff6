/**
 * Gold (validation) answers: which answers a gold item may have, how a file's spelling of one is read,
 * and whether a rater's judgement or vote on a gold lifecycle matches it. Pure; shared by the lifecycle
 * (its receipts and its report to the campaign), the campaign's input checks and the CLI's gold file.
 */
import type { Candidate, GoldAnswer, GoldCheck, GoldVerdict, JudgementRequest, LifecycleTask, VoteRequest } from './types';

export const MAX_EXPLANATION_LENGTH = 2000;

/** The answers a gold item of `task` may have ("both bad" only where it is offered). */
export function goldAnswersOf(task: LifecycleTask, allowBothBad = true): GoldAnswer[] {
  if (task === 'thumbs') return ['up', 'down'];
  return allowBothBad ? ['first', 'second', 'tie', 'both_bad'] : ['first', 'second', 'tie'];
}

/** The spellings a gold file may use for an answer: the first/second candidate also by its column (image1, text1, a). */
const SPELLINGS: Record<string, GoldAnswer> = {
  first: 'first', image1: 'first', text1: 'first', a: 'first',
  second: 'second', image2: 'second', text2: 'second', b: 'second',
  tie: 'tie', both_bad: 'both_bad', 'both bad': 'both_bad', bothbad: 'both_bad',
  up: 'up', down: 'down',
};

/** A file's spelling of an answer, read for `task`; undefined when it is not one of the task's answers. */
export function parseGoldAnswer(text: string, task: LifecycleTask, allowBothBad = true): GoldAnswer | undefined {
  const answer = SPELLINGS[text.trim().toLowerCase()];
  return answer !== undefined && goldAnswersOf(task, allowBothBad).includes(answer) ? answer : undefined;
}

/** Problems of a gold check (answer and explanation) for a lifecycle of `task`, each naming its field. */
export function goldCheckErrors(gold: unknown, task: LifecycleTask, allowBothBad = true, field = 'gold'): string[] {
  if (typeof gold !== 'object' || gold === null || Array.isArray(gold)) return [`${field}: must be an object like {"answer": "first", "explanation": "…"}`];
  const { answer, explanation, ...rest } = gold as Partial<GoldCheck>;
  const errors = Object.keys(rest).map((k) => `${field}.${k}: unknown field; known: answer, explanation`);
  const answers = goldAnswersOf(task, allowBothBad);
  if (typeof answer !== 'string' || !answers.includes(answer as GoldAnswer)) errors.push(`answer: must be one of ${answers.join(', ')} for a ${task} item`);
  if (typeof explanation !== 'string' || explanation.trim() === '' || explanation.length > MAX_EXPLANATION_LENGTH) {
    errors.push(`explanation: must be a non-empty text of at most ${MAX_EXPLANATION_LENGTH} characters, shown to a rater who answers wrong`);
  }
  return errors;
}

/** The answer a judgement gives, by candidate: the candidate shown left or right becomes first or second. */
export function judgementAnswer(request: Pick<JudgementRequest, 'left' | 'right' | 'choice'>, candidates: ReadonlyArray<Pick<Candidate, 'id'>>): GoldAnswer | undefined {
  if (request.choice === 'tie' || request.choice === 'both_bad') return request.choice;
  if (request.choice === 'retract') return undefined;
  const winner = request.choice === 'left' ? request.left : request.right;
  if (winner === candidates[0]?.id) return 'first';
  if (winner === candidates[1]?.id) return 'second';
  return undefined;
}

/** The verdict a receipt carries: the explanation only for a wrong answer. */
export function verdict(gold: GoldCheck, given: GoldAnswer | undefined): GoldVerdict {
  return given === gold.answer ? { correct: true } : { correct: false, explanation: gold.explanation };
}

export function judgementVerdict(gold: GoldCheck, request: JudgementRequest, candidates: ReadonlyArray<Pick<Candidate, 'id'>>): GoldVerdict {
  return verdict(gold, judgementAnswer(request, candidates));
}

export function voteVerdict(gold: GoldCheck, request: Pick<VoteRequest, 'value'>): GoldVerdict {
  return verdict(gold, request.value === 'retract' ? undefined : request.value);
}
