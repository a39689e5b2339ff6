/** Builders for vote requests in tests. */
import { randomUUID } from 'node:crypto';
import type { JudgementChoice, JudgementRequest, VoteRequest, VoteValue } from '../../workflows/types';

export function raterId(n: number): string {
  return `r_${n.toString(16).padStart(24, '0')}`;
}

export function vote(candidateId: string, value: VoteValue, rater: number | string, extra: Partial<VoteRequest> = {}): VoteRequest {
  return {
    idempotencyKey: `test:${randomUUID()}`,
    candidateId,
    value,
    rater: typeof rater === 'number' ? raterId(rater) : rater,
    channel: 'web',
    castAt: new Date().toISOString(),
    ...extra,
  };
}

/** A judgement by `rater` on the pair shown as [left, right]. */
export function judgement(
  choice: JudgementChoice,
  rater: number | string,
  shown: readonly [string, string] = ['c1', 'c2'],
  extra: Partial<JudgementRequest> = {},
): JudgementRequest {
  return {
    idempotencyKey: `test:${randomUUID()}`,
    rater: typeof rater === 'number' ? raterId(rater) : rater,
    channel: 'web',
    castAt: new Date().toISOString(),
    left: shown[0],
    right: shown[1],
    choice,
    ...extra,
  };
}
