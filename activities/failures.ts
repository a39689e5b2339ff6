/**
 * Maps connector errors to Temporal failures: the coded error's `code` becomes the failure type (shown
 * in the UI), `retryable` decides whether Temporal retries, and a server's Retry-After becomes the
 * next retry delay.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { asCodedError } from '../core/errors';

export function toActivityFailure(err: unknown): Error {
  if (err instanceof CancelledFailure || err instanceof ApplicationFailure) return err;
  const coded = asCodedError(err);
  return ApplicationFailure.create({
    type: coded.code,
    message: coded.message,
    nonRetryable: !coded.retryable,
    ...(coded.retryAfterSeconds !== undefined ? { nextRetryDelay: `${Math.max(1, Math.ceil(coded.retryAfterSeconds))}s` } : {}),
    cause: err instanceof Error ? err : undefined,
  });
}
