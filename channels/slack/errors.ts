/**
 * Slack failures as Prefline coded errors. The WebClient throws four kinds of errors; each maps to
 * one coded error so the channel activities know whether Temporal should retry, and when.
 */
import { ErrorCode as SlackErrorCode, type WebAPICallError } from '@slack/web-api';
import {
  ChannelRateLimitedError, ChannelRejectedError, ChannelUnavailableError, isCodedError, type CodedError,
} from '../../core/errors';

/** Slack answered 429 (or `ok:false, error:ratelimited`): retry after `retryAfterSeconds`. */
export class SlackRateLimitedError extends ChannelRateLimitedError {
  constructor(readonly method: string, retryAfterSeconds: number) {
    super(`Slack rate-limited ${method}; retry after ${retryAfterSeconds}s`, { retryAfterSeconds });
  }
}

/** Slack refused the call for a reason retrying cannot fix (bad token, missing scope, unknown channel…). */
export class SlackRejectedError extends ChannelRejectedError {
  constructor(readonly method: string, readonly slackError: string, hint?: string) {
    super(`Slack refused ${method}: ${slackError}${hint ? ` (${hint})` : ''}`);
  }
}

/** Slack could not be reached or failed on its side (network, 5xx, `internal_error`): retryable. */
export class SlackUnavailableError extends ChannelUnavailableError {
  constructor(readonly method: string, detail: string, options?: { cause?: unknown }) {
    super(`Slack ${method} failed: ${detail}`, options);
  }
}

/** `ok:false` errors that are Slack-side hiccups rather than a problem with our request. */
const TRANSIENT_PLATFORM_ERRORS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited', 'team_added_to_org']);

/** What to tell ops for the refusals a misconfigured app produces. */
const HINTS: Record<string, string> = {
  not_in_channel: 'invite the Prefline app to the channel: /invite @Prefline',
  channel_not_found: 'check the channel name or id, and that the app is in it',
  missing_scope: 'add the scope to the app (see docs/slack.md) and reinstall it',
  invalid_auth: 'check PREFLINE_SLACK_BOT_TOKEN',
  not_authed: 'set PREFLINE_SLACK_BOT_TOKEN',
  token_revoked: 'reinstall the app and update PREFLINE_SLACK_BOT_TOKEN',
  is_archived: 'the channel is archived',
};

/** Maps anything a WebClient call threw to a coded error. */
export function toSlackError(method: string, err: unknown): CodedError {
  if (isCodedError(err)) return err;
  const slack = err as Partial<WebAPICallError> | undefined;
  switch (slack?.code) {
    case SlackErrorCode.RateLimitedError:
      return new SlackRateLimitedError(method, (slack as { retryAfter: number }).retryAfter);
    case SlackErrorCode.PlatformError: {
      const code = String((slack as { data?: { error?: string } }).data?.error ?? 'unknown_error');
      if (code === 'ratelimited') return new SlackRateLimitedError(method, 30);
      if (TRANSIENT_PLATFORM_ERRORS.has(code)) return new SlackUnavailableError(method, code, { cause: err });
      return new SlackRejectedError(method, code, HINTS[code]);
    }
    case SlackErrorCode.HTTPError:
      return new SlackUnavailableError(method, `HTTP ${(slack as { statusCode: number }).statusCode}`, { cause: err });
    case SlackErrorCode.RequestError:
      return new SlackUnavailableError(method, (slack as { original?: Error }).original?.message ?? String(err), { cause: err });
    default: {
      const message = err instanceof Error ? err.message : String(err);
      // WebClient aborts a 429 that carries no usable Retry-After with a plain Error: still a rate limit.
      if (/Retry header did not contain a valid timeout|rate limit/i.test(message)) return new SlackRateLimitedError(method, 30);
      return new SlackUnavailableError(method, message, { cause: err });
    }
  }
}

/** The `ok:false` error string of a Slack platform error, if it is one. */
export function slackErrorCode(err: unknown): string | undefined {
  if (err instanceof SlackRejectedError) return err.slackError;
  const data = (err as { data?: { error?: unknown } } | undefined)?.data;
  return typeof data?.error === 'string' ? data.error : undefined;
}
