/**
 * Coded errors of the remote inference backends (Replicate, OpenAI-compatible), and how a remote
 * HTTP status maps to a catalogue code (core/errors.ts). A mapped error keeps the status it stands
 * for as `remoteStatus`, for callers that branch on it (e.g. a 404 resume).
 */
import {
  ConfigMissingError, ErrorCode, InferenceUnavailableError, InvalidParamsError, PreflineError, UnknownModelError, type PreflineErrorOptions,
} from '../../core/errors';

/** The backend kept answering 429 after our bounded, real waits: retryable, after `retryAfterSeconds`. */
export class RateLimitedError extends PreflineError {
  constructor(message: string, retryAfterSeconds?: number) {
    super(ErrorCode.InferenceRateLimited, message, { remoteStatus: 429, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
  }
}

/** The model ran but returned nothing usable: not retryable (the same input gives the same nothing). */
export class EmptyOutputError extends PreflineError {
  constructor(message: string) {
    super(ErrorCode.EmptyOutput, message);
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
    super(ErrorCode.OutputFetchFailed, message, options);
  }
}

/** We stopped waiting for the backend (request timeout or maxWaitMs): retryable, like any unavailability. */
export class InferenceTimeoutError extends InferenceUnavailableError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Maps a non-2xx HTTP status to a coded error; `detail` is the server's own explanation. */
export function errorForStatus(status: number, detail: string, options?: { retryAfterSeconds?: number; what?: string }): PreflineError {
  const what = options?.what ?? 'inference backend';
  const msg = `${what} answered ${status}: ${detail}`;
  const remote: PreflineErrorOptions = { remoteStatus: status };
  if (status === 429) return new RateLimitedError(msg, options?.retryAfterSeconds);
  if (status === 401 || status === 403) return new ConfigMissingError(`${msg} (check the API token)`, remote);
  if (status === 404) return new UnknownModelError(msg, remote);
  // 408 (server-side timeout) and 409 (Cog: all prediction slots busy) are transient.
  if (status === 408 || status === 409 || status >= 500) {
    return new InferenceUnavailableError(msg, { ...remote, ...(options?.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : {}) });
  }
  return new InvalidParamsError(msg, remote);
}
