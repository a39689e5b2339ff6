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

/** An inbound reply that cannot be read as a message (malformed MIME, past the reader's bounds, or too slow to read): reading it again cannot help. */
export class UnreadableReplyError extends PreflineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ReplyUnreadable, message, false, options);
    this.name = 'UnreadableReplyError';
  }
}
