/**
 * Coded errors of the remote inference backends (Replicate, OpenAI-compatible). They reuse the
 * `ErrorCode` values of core/errors.ts, so activities map them by `code` and `retryable` like
 * every other connector error.
 */
import { ErrorCode, PreflineError } from '../../core/errors';

/** A remote HTTP API answered a non-2xx status; `status` keeps it for callers that branch on it (e.g. 404). */
export class RemoteHttpError extends PreflineError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    retryable: boolean,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(code, message, retryable, options);
    this.name = 'RemoteHttpError';
  }
}

/** The backend kept answering 429 after our bounded, real waits: retryable, after `retryAfterSeconds`. */
export class RateLimitedError extends RemoteHttpError {
  constructor(message: string, retryAfterSeconds?: number) {
    super(429, ErrorCode.InferenceRateLimited, message, true, retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined);
    this.name = 'RateLimitedError';
  }
}

/** The remote work was cancelled (by us on abort, by someone else, or aborted by a deadline): not retryable. */
export class InferenceCanceledError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InferenceCanceled, message, false, options);
    this.name = 'InferenceCanceledError';
  }
}

/** The model ran but returned nothing usable: not retryable (the same input gives the same nothing). */
export class EmptyOutputError extends PreflineError {
  constructor(message: string) {
    super(ErrorCode.EmptyOutput, message, false);
    this.name = 'EmptyOutputError';
  }
}

/**
 * The model succeeded but its output file could not be downloaded. Retryable: the prediction id was
 * already reported, so the retry resumes the same prediction instead of running the model again.
 */
export class OutputFetchFailedError extends PreflineError {
  constructor(
    message: string,
    readonly predictionId?: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.OutputFetchFailed, message, true, options);
    this.name = 'OutputFetchFailedError';
  }
}

/** We stopped waiting for the backend (request timeout or maxWaitMs): retryable. */
export class InferenceTimeoutError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InferenceUnavailable, message, true, options);
    this.name = 'InferenceTimeoutError';
  }
}

/** Maps a non-2xx HTTP status to a coded error; `detail` is the server's own explanation. */
export function errorForStatus(status: number, detail: string, options?: { retryAfterSeconds?: number; what?: string }): RemoteHttpError {
  const what = options?.what ?? 'inference backend';
  const msg = `${what} answered ${status}: ${detail}`;
  if (status === 429) return new RateLimitedError(msg, options?.retryAfterSeconds);
  if (status === 401 || status === 403) return new RemoteHttpError(status, ErrorCode.ConfigMissing, `${msg} (check the API token)`, false);
  if (status === 404) return new RemoteHttpError(status, ErrorCode.UnknownModel, msg, false);
  // 408 (server-side timeout) and 409 (Cog: all prediction slots busy) are transient.
  if (status === 408 || status === 409 || status >= 500) {
    return new RemoteHttpError(status, ErrorCode.InferenceUnavailable, msg, true, options?.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : undefined);
  }
  return new RemoteHttpError(status, ErrorCode.InvalidParams, msg, false);
}
