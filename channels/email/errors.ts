import { ChannelRejectedError, ChannelUnavailableError } from '../../core/errors';

/** The SMTP server could not be reached or failed on its side (`prefline_channel_unavailable`): retryable. */
export class EmailUnavailableError extends ChannelUnavailableError {}

/** The SMTP server refused Prefline's mail (`prefline_channel_rejected`): retrying cannot help. */
export class EmailRejectedError extends ChannelRejectedError {}
