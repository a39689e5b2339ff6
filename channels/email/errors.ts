import { ErrorCode, PreflineError } from '../../core/errors';

/** Coded errors of the email channel (`ChannelUnavailable` is retryable, `ChannelRejected` is not). */
export class EmailUnavailableError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ChannelUnavailable, message, true, options);
    this.name = 'EmailUnavailableError';
  }
}

export class EmailRejectedError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ChannelRejected, message, false, options);
    this.name = 'EmailRejectedError';
  }
}
