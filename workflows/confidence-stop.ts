/**
 * Confidence stopping (issue 15 item 4): an item of a campaign closes early once one answer is clear.
 * Pure and deterministic; the campaign (campaign-state.ts) holds each open item's standing answers and
 * asks `clearAnswer` after every answer report.
 *
 * Rater-weighted naive Bayes from a uniform prior over the K answers a rater can pick: an answer from a
 * rater of score s counts p = 1/K + (1 − 1/K)·s for the option chosen and (1 − p)/(K − 1) for each other,
 * so a rater of score 0 says nothing and one of score 1 settles it. This reproduces Rapidata's worked
 * example (docs/confidence_stopping.md; see ../shared/research/compare-campaigns-chat.md): scores 0.3,
 * 0.8486, 0.4469, 0.4911 agreeing on one of two options give 0.9943.
 */
import type { CampaignChoice, CampaignPlan } from './types';

/** The weight of a rater the campaign knows nothing of yet: the prior mean of rater scores. */
export const PRIOR_RATER_SCORE = 0.75;
/** Standing answers an item needs before it may stop, unless the campaign says otherwise. */
export const DEFAULT_MIN_RESPONSES = 3;
/** Scores are capped below 1: two perfect raters who disagree would otherwise leave no option possible. */
const MAX_SCORE = 1 - 1e-9;

export type CompareOption = Extract<CampaignChoice, { task: 'compare' }>['answer'];
export type ThumbsOption = Extract<CampaignChoice, { task: 'thumbs' }>['answer'];

export interface WeightedAnswer {
  option: string;
  /** The rater's score, in [0, 1]. */
  score: number;
}

/**
 * The posterior of each of `options` (in their order) given the answers, from a uniform prior. Summed in
 * log space, so thousands of answers neither underflow nor overflow. An answer naming no option is ignored.
 */
export function posterior(options: readonly string[], answers: readonly WeightedAnswer[]): number[] {
  const k = options.length;
  if (k < 2) throw new Error(`bug: a posterior needs at least two options, got ${k}`);
  const logs = options.map(() => 0);
  for (const { option, score } of answers) {
    const chosen = options.indexOf(option);
    if (chosen < 0) continue;
    const p = 1 / k + (1 - 1 / k) * Math.min(Math.max(score, 0), MAX_SCORE);
    const forChosen = Math.log(p);
    const forOther = Math.log((1 - p) / (k - 1));
    for (let o = 0; o < k; o++) logs[o]! += o === chosen ? forChosen : forOther;
  }
  const top = Math.max(...logs);
  const weights = logs.map((l) => Math.exp(l - top));
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** What a rater of a compare item can answer: the first candidate, the second, a tie, and both bad where offered. */
export function compareOptions(allowBothBad: boolean): CompareOption[] {
  return allowBothBad ? ['first', 'second', 'tie', 'both_bad'] : ['first', 'second', 'tie'];
}

export const THUMBS_OPTIONS: readonly ThumbsOption[] = ['up', 'down'];

/**
 * One rater's latest answer to an open item (on one candidate, for thumbs), as the campaign holds it.
 * A withdrawn answer stays as `withdrawn`, so an older report arriving late cannot bring it back; the
 * list is bounded by the item's raters (times its candidates, for thumbs).
 */
export interface StandingAnswer {
  rater: string;
  /** The lifecycle's event seq of the answer: reports may arrive out of order, the latest wins. */
  seq: number;
  answer: CompareOption | ThumbsOption | 'withdrawn';
  /** Thumbs: the candidate's index in the item. */
  candidate?: number;
}

/** Records an answer report's choice: it replaces the rater's earlier answer (on that candidate) unless it is older. */
export function recordChoice(standing: StandingAnswer[], rater: string, seq: number, choice: CampaignChoice): void {
  const candidate = choice.task === 'thumbs' ? choice.candidate : undefined;
  const at = standing.findIndex((a) => a.rater === rater && a.candidate === candidate);
  const current = at >= 0 ? standing[at]! : undefined;
  if (current && current.seq >= seq) return;
  const answer: StandingAnswer = { rater, seq, answer: choice.answer, ...(candidate !== undefined ? { candidate } : {}) };
  if (current) standing[at] = answer;
  else standing.push(answer);
}

export interface ConfidenceRules {
  task: CampaignPlan['task'];
  /** The posterior one answer must reach. */
  confidence: number;
  minResponses: number;
  /** Compare: whether "both bad" is offered (K = 4, else 3). */
  allowBothBad: boolean;
  /** Thumbs: the item's candidates; every one must be clear. */
  candidates?: number;
}

/** An item's clear answer: compare `first`…; thumbs one answer per candidate (`up`, `down`, …); the lowest posterior among them. */
export interface ClearAnswer {
  answers: string[];
  probability: number;
  /** Standing answers it rests on (thumbs: the fewest of a candidate). */
  responses: number;
}

function clearOf(options: readonly string[], answers: WeightedAnswer[], rules: ConfidenceRules): { answer: string; probability: number } | undefined {
  if (answers.length < rules.minResponses) return undefined;
  const probabilities = posterior(options, answers);
  const best = probabilities.indexOf(Math.max(...probabilities));
  const probability = probabilities[best]!;
  return probability >= rules.confidence ? { answer: options[best]!, probability } : undefined;
}

/**
 * The item's clear answer, if one is: compare, one option's posterior at `confidence` or above after at
 * least `minResponses` standing answers; thumbs, every one of its `candidates` clear so on its own votes.
 * `scoreOf` gives each rater's weight (the campaign's `scoreOf`).
 */
export function clearAnswer(standing: readonly StandingAnswer[], scoreOf: (rater: string) => number, rules: ConfidenceRules): ClearAnswer | undefined {
  const weighted = (candidate?: number): WeightedAnswer[] => standing
    .filter((a) => a.answer !== 'withdrawn' && a.candidate === candidate)
    .map((a) => ({ option: a.answer, score: scoreOf(a.rater) }));
  if (rules.task === 'compare') {
    const answers = weighted();
    const clear = clearOf(compareOptions(rules.allowBothBad), answers, rules);
    return clear && { answers: [clear.answer], probability: clear.probability, responses: answers.length };
  }
  if (rules.candidates === undefined || rules.candidates < 1) return undefined;
  const clear: ClearAnswer = { answers: [], probability: 1, responses: Number.POSITIVE_INFINITY };
  for (let candidate = 0; candidate < rules.candidates; candidate++) {
    const answers = weighted(candidate);
    const one = clearOf(THUMBS_OPTIONS, answers, rules);
    if (!one) return undefined;
    clear.answers.push(one.answer);
    clear.probability = Math.min(clear.probability, one.probability);
    clear.responses = Math.min(clear.responses, answers.length);
  }
  return clear;
}

/** The outcome message of a confident item, e.g. "first at 0.9943 after 4 answers (confidence 0.99)". */
export function describeClear(clear: ClearAnswer, confidence: number): string {
  return `${clear.answers.join(', ')} at ${clear.probability.toFixed(4)} after ${clear.responses} answers (confidence ${confidence})`;
}
