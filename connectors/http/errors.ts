/** Coded errors of the safe downloader (connectors/http/safe-download.ts). */
import { ErrorCode, PreflineError } from '../../core/errors';

/** Which rule refused a download: what the operator would have to change for it to pass. */
export type DownloadRule = 'url' | 'scheme' | 'address' | 'redirect' | 'size' | 'data-url';

/**
 * A rule refused the download. Not retryable: the same URL meets the same rule again (a blocked
 * address does not become allowed by retrying). The message names the rule and what to configure.
 */
export class DownloadRefusedError extends PreflineError {
  constructor(
    readonly rule: DownloadRule,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.DownloadRefused, message, options);
  }
}

/**
 * The download was allowed but did not complete: network failure, timeout, or a non-2xx answer
 * (`status`). Retryable when the failure is transient (network, timeout, 408, 429, 5xx).
 */
export class DownloadFailedError extends PreflineError {
  constructor(
    message: string,
    retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.DownloadFailed, message, { ...options, retryable });
  }
}
