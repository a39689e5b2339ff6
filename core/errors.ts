/**
 * The one catalogue of Prefline's errors: its codes (core/error-codes.ts, re-exported here: import
 * both from this module) and the base class of every error. Every error class extends `PreflineError`
 * with a code from the catalogue; classes that belong to a folder (LedgerError in store/, ReleaseError
 * in releases/, the channels' and connectors' errors) live there, their codes live in the catalogue.
 * Pure: imports nothing but core/error-codes.ts, so workflow code may use it (the sandbox bundles it).
 */
import { ERROR_CATALOGUE, ErrorCode } from './error-codes';

export * from './error-codes';

export interface CodedError extends Error {
  code: ErrorCode;
  /** Whether trying the same call again may succeed. */
  retryable: boolean;
  /** Seconds the remote side asked us to wait before retrying, if it said. */
  retryAfterSeconds?: number;
}

export interface PreflineErrorOptions {
  cause?: unknown;
  /** Seconds the remote side asked us to wait before retrying, if it said. */
  retryAfterSeconds?: number;
  /** The status a remote HTTP API answered, when the error stands for one (a caller may branch on a 404). */
  remoteStatus?: number;
  /** Whether retrying may help, for a code whose catalogue entry is `perError`; other codes decide by themselves. */
  retryable?: boolean;
}

/** The base of every Prefline error: a catalogued code, and whether retrying may help (the code's, or the error's where the code is `perError`). */
export class PreflineError extends Error implements CodedError {
  readonly retryable: boolean;
  readonly retryAfterSeconds?: number;
  readonly remoteStatus?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: PreflineErrorOptions = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    const spec = ERROR_CATALOGUE[code];
    this.retryable = spec.perError && options.retryable !== undefined ? options.retryable : spec.retryable;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options.remoteStatus !== undefined) this.remoteStatus = options.remoteStatus;
  }
}

/** Configuration is missing or wrong for the call: retrying cannot help. */
export class ConfigMissingError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.ConfigMissing, message, options);
  }
}

/** The model reference names no model this deployment can run. */
export class UnknownModelError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.UnknownModel, message, options);
  }
}

/** The call's parameters are not acceptable (a bad id, a refused request body): not retryable. */
export class InvalidParamsError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.InvalidParams, message, options);
  }
}

/** The model ran and failed (bad input, model error): not retryable. */
export class InferenceFailedError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.InferenceFailed, message, options);
  }
}

/** The backend is down or answered 5xx: retryable. */
export class InferenceUnavailableError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.InferenceUnavailable, message, options);
  }
}

/** The generation was cancelled (by us on abort, by someone else, or by a deadline): not retryable. */
export class InferenceCanceledError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.InferenceCanceled, message, options);
  }
}

/** A channel could not be reached or failed on its side: retryable. */
export class ChannelUnavailableError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.ChannelUnavailable, message, options);
  }
}

/** A channel refused the call for a reason retrying cannot fix. */
export class ChannelRejectedError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.ChannelRejected, message, options);
  }
}

/** A channel is rate-limiting us: retry after `retryAfterSeconds`. */
export class ChannelRateLimitedError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.ChannelRateLimited, message, options);
  }
}

export function isCodedError(err: unknown): err is CodedError {
  return err instanceof Error && typeof (err as Partial<CodedError>).code === 'string' && typeof (err as Partial<CodedError>).retryable === 'boolean';
}

/** Wraps anything thrown into a CodedError with the `fallback` code (by default retryable backend unavailability). */
export function asCodedError(err: unknown, fallback: ErrorCode = ErrorCode.InferenceUnavailable): CodedError {
  if (isCodedError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PreflineError(fallback, message, { cause: err });
}
