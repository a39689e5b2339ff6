/** Builders for vote requests in tests. */
import { randomUUID } from 'node:crypto';
import type { VoteRequest, VoteValue } from '../../workflows/types';

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
