/**
 * Coded errors of every connector (the bolt-js pattern). Connectors are plain TypeScript with no
 * Temporal imports; activities map these to retryable or non-retryable Temporal failures by
 * `retryable`, and keep `code` as the failure type so the UI shows what went wrong.
 */
export enum ErrorCode {
  ConfigMissing = 'prefline_config_missing',
  UnknownModel = 'prefline_unknown_model',
  InvalidParams = 'prefline_invalid_params',
  InferenceFailed = 'prefline_inference_failed',
  InferenceUnavailable = 'prefline_inference_unavailable',
  InferenceRateLimited = 'prefline_inference_rate_limited',
  InferenceCanceled = 'prefline_inference_canceled',
  EmptyOutput = 'prefline_inference_empty_output',
  OutputFetchFailed = 'prefline_inference_output_fetch_failed',
  ArtifactIntegrity = 'prefline_artifact_integrity',
  ChannelUnavailable = 'prefline_channel_unavailable',
  ChannelRejected = 'prefline_channel_rejected',
  ChannelRateLimited = 'prefline_channel_rate_limited',
  ReplyUnreadable = 'prefline_reply_unreadable',
  LedgerUnavailable = 'prefline_ledger_unavailable',
}

export interface CodedError extends Error {
  code: ErrorCode;
  /** Whether trying the same call again may succeed. */
  retryable: boolean;
  /** Seconds the remote side asked us to wait before retrying, if it said. */
  retryAfterSeconds?: number;
}

export class PreflineError extends Error implements CodedError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'PreflineError';
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
  retryAfterSeconds?: number;
}

/** Configuration is missing or wrong: retrying cannot help. */
export class ConfigMissingError extends PreflineError {
  constructor(message: string) {
    super(ErrorCode.ConfigMissing, message, false);
    this.name = 'ConfigMissingError';
  }
}

/** The model reference names no model this deployment can run. */
export class UnknownModelError extends PreflineError {
  constructor(message: string) {
    super(ErrorCode.UnknownModel, message, false);
    this.name = 'UnknownModelError';
  }
}

/** The model ran and failed (bad input, model error): not retryable. */
export class InferenceFailedError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InferenceFailed, message, false, options);
    this.name = 'InferenceFailedError';
  }
}

/** The backend is down or answered 5xx: retryable. */
export class InferenceUnavailableError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(ErrorCode.InferenceUnavailable, message, true, options);
    this.name = 'InferenceUnavailableError';
  }
}

export function isCodedError(err: unknown): err is CodedError {
  return err instanceof Error && typeof (err as Partial<CodedError>).code === 'string' && typeof (err as Partial<CodedError>).retryable === 'boolean';
}

/** Wraps anything thrown into a CodedError; unknown errors are treated as retryable. */
export function asCodedError(err: unknown, fallback: ErrorCode = ErrorCode.InferenceUnavailable): CodedError {
  if (isCodedError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PreflineError(fallback, message, true, { cause: err });
}
