import { ChannelRejectedError, ChannelUnavailableError, ErrorCode, PreflineError, type PreflineErrorOptions } from '../../core/errors';

/** The SMTP server could not be reached or failed on its side (`prefline_channel_unavailable`): retryable. */
export class EmailUnavailableError extends ChannelUnavailableError {}

/** The SMTP server refused Prefline's mail (`prefline_channel_rejected`): retrying cannot help. */
export class EmailRejectedError extends ChannelRejectedError {}

/** An inbound reply that cannot be read as a message (malformed MIME, past the reader's bounds, or too slow to read; `prefline_reply_unreadable`): reading it again cannot help. */
export class UnreadableReplyError extends PreflineError {
  constructor(message: string, options?: PreflineErrorOptions) {
    super(ErrorCode.ReplyUnreadable, message, options);
  }
}
