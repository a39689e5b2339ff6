/**
 * The catalogue of Prefline's error codes (the bolt-js pattern): every code, whether retrying can help,
 * and, for the codes an HTTP client or a rater sees, the HTTP status and the rater-facing answer.
 * Re-exported by core/errors.ts, the module every importer uses; separate from the error classes
 * because it is a table of its own (most of the lines). Pure: imports nothing, so workflow code may use
 * it (the sandbox bundles it).
 *
 * Codes are namespaced:
 * - `prefline_<area>_<what>`: a step of the pipeline failed. Activities keep the code as the Temporal
 *   failure type (shown in the UI) and `retryable` decides whether Temporal retries
 *   (activities/failures.ts); workflows fail with `prefline_*_input_invalid` types.
 * - bare snake_case (`voting_closed`, `invalid_json`): what an HTTP client or a rater is answered,
 *   the HTTP API's published `code`s. A vote rejection's code is the same string everywhere: the
 *   workflow validator's failure type (workflows/messages.ts `VoteRejection`), VoteRejectedError's
 *   code, the HTTP body's `code`, and what the CLI, Slack answers and email pages branch on.
 */
export const ErrorCode = {
  // configuration
  ConfigMissing: 'prefline_config_missing',
  ConfigInvalid: 'prefline_config_invalid',
  // the command line and Temporal (cli/, ops/)
  Usage: 'prefline_usage',
  TemporalUnreachable: 'prefline_temporal_unreachable',
  ClusterNotSetUp: 'prefline_cluster_not_set_up',
  // inference
  UnknownModel: 'prefline_unknown_model',
  InvalidParams: 'prefline_invalid_params',
  InferenceFailed: 'prefline_inference_failed',
  InferenceUnavailable: 'prefline_inference_unavailable',
  InferenceRateLimited: 'prefline_inference_rate_limited',
  InferenceCanceled: 'prefline_inference_canceled',
  EmptyOutput: 'prefline_inference_empty_output',
  OutputFetchFailed: 'prefline_inference_output_fetch_failed',
  // downloads of URLs someone else chose (connectors/http)
  DownloadRefused: 'prefline_download_refused',
  DownloadFailed: 'prefline_download_failed',
  // artifacts
  ArtifactIntegrity: 'prefline_artifact_integrity',
  ArtifactNotFound: 'prefline_artifact_not_found',
  // brought-in candidates and `prefline import`
  ImportRefused: 'prefline_import_refused',
  // channels
  ChannelUnavailable: 'prefline_channel_unavailable',
  ChannelRejected: 'prefline_channel_rejected',
  ChannelRateLimited: 'prefline_channel_rate_limited',
  ReplyDeferred: 'prefline_reply_deferred',
  ReplyUnreadable: 'prefline_reply_unreadable',
  SlackSignatureInvalid: 'prefline_slack_signature_invalid',
  // campaign webhooks (connectors/webhook.ts; core/webhook-signature.ts for receivers)
  WebhookRejected: 'prefline_webhook_rejected',
  WebhookUnavailable: 'prefline_webhook_unavailable',
  WebhookSignatureInvalid: 'prefline_webhook_signature_invalid',
  // ledger
  LedgerUnavailable: 'prefline_ledger_unavailable',
  LedgerLocked: 'prefline_ledger_locked',
  LedgerQueryRefused: 'prefline_ledger_query_refused',
  LedgerQueryTimeout: 'prefline_ledger_query_timeout',
  LedgerQueryTooLarge: 'prefline_ledger_query_too_large',
  LedgerQueryMemory: 'prefline_ledger_query_memory',
  LedgerBusy: 'prefline_ledger_busy',
  // releases
  ReleaseInvalid: 'prefline_release_invalid',
  ReleaseConflict: 'prefline_release_conflict',
  ReleaseCorrupt: 'prefline_release_corrupt',
  // workflow input (ApplicationFailure types the workflows fail with)
  LifecycleInputInvalid: 'prefline_lifecycle_input_invalid',
  ReleaseInputInvalid: 'prefline_release_input_invalid',
  CampaignInputInvalid: 'prefline_campaign_input_invalid',
  ChatInputInvalid: 'prefline_chat_input_invalid',
  // vote rejections
  VotingClosed: 'voting_closed',
  VotingNotOpen: 'voting_not_open',
  UnknownCandidate: 'unknown_candidate',
  UnknownLifecycle: 'unknown_lifecycle',
  MalformedVote: 'malformed_vote',
  WrongChannel: 'wrong_channel',
  LifecycleFull: 'lifecycle_full',
  RunContinuing: 'run_continuing',
  NotPairwise: 'not_pairwise',
  ChoiceNotOffered: 'choice_not_offered',
  AnswerFinal: 'answer_final',
  NotAssigned: 'not_assigned',
  WrongAnswerForm: 'wrong_answer_form',
  Busy: 'busy',
  // campaign answers (the `next` update, the gateway's /api/campaigns routes)
  UnknownCampaign: 'unknown_campaign',
  CampaignRefused: 'campaign_refused',
  // HTTP answers
  BadRequest: 'bad_request',
  InvalidJson: 'invalid_json',
  InvalidIdempotencyKey: 'invalid_idempotency_key',
  InvalidComment: 'invalid_comment',
  InvalidName: 'invalid_name',
  SessionInvalid: 'session_invalid',
  SessionExpired: 'session_expired',
  SessionRevoked: 'session_revoked',
  AccessDenied: 'access_denied',
  ForbiddenOrigin: 'forbidden_origin',
  UnknownHost: 'unknown_host',
  RateLimited: 'rate_limited',
  NotFound: 'not_found',
  MethodNotAllowed: 'method_not_allowed',
  BodyTooLarge: 'body_too_large',
  UnsupportedMediaType: 'unsupported_media_type',
  InternalError: 'internal_error',
  ArtifactUnavailable: 'artifact_unavailable',
  UpstreamError: 'upstream_error',
  // sign-in answers (gateway/sign-in.ts, gateway/oidc.ts)
  InvalidSignIn: 'invalid_sign_in',
  OpenPanelDisabled: 'open_panel_disabled',
  InviteInvalid: 'invite_invalid',
  InviteExpired: 'invite_expired',
  InviteRevoked: 'invite_revoked',
  InvitesUnavailable: 'invites_unavailable',
  OidcNotConfigured: 'oidc_not_configured',
  OidcStateMissing: 'oidc_state_missing',
  OidcDenied: 'oidc_denied',
  OidcFailed: 'oidc_failed',
  OidcUnavailable: 'oidc_unavailable',
  // chat answers (workflows/chat-messages.ts ChatRejection, channels/chat/)
  UnknownConversation: 'unknown_conversation',
  NotConversationOwner: 'not_conversation_owner',
  ConversationEnded: 'conversation_ended',
  ConversationNotReopenable: 'conversation_not_reopenable',
  ReplyInProgress: 'reply_in_progress',
  UnknownReply: 'unknown_reply',
  MalformedChatRequest: 'malformed_chat_request',
  InvalidChatText: 'invalid_chat_text',
  UnknownChatModel: 'unknown_chat_model',
  ChatBusy: 'chat_busy',
  TurnLimitReached: 'turn_limit_reached',
  ReplyFailed: 'reply_failed',
  StreamSignatureInvalid: 'stream_signature_invalid',
  UnknownStream: 'unknown_stream',
  // prompt-box answers (channels/web/start-routes.ts)
  StartNotAllowed: 'start_not_allowed',
  ModelNotAllowed: 'model_not_allowed',
  InvalidStart: 'invalid_start',
  BudgetExhausted: 'budget_exhausted',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface CodeSpec {
  /** Whether trying the same call again may succeed (with `perError`, unless the error says otherwise). */
  readonly retryable: boolean;
  /** The code covers failures a retry may or may not fix: each error decides (PreflineErrorOptions.retryable). */
  readonly perError?: true;
  /** The status an HTTP answer with this code carries; only codes an HTTP client can see have one. */
  readonly httpStatus?: number;
  /** What a rater is told (the HTTP body's `error`) when no more specific message applies. */
  readonly answer?: string;
}

const CATALOGUE = {
  [ErrorCode.ConfigMissing]: { retryable: false },
  [ErrorCode.ConfigInvalid]: { retryable: false },
  [ErrorCode.Usage]: { retryable: false },
  // The server may be starting, or the network back in a moment; wrong TLS settings stay wrong, but the message names them.
  [ErrorCode.TemporalUnreachable]: { retryable: true },
  // Fixed by running `prefline cluster setup`, not by waiting.
  [ErrorCode.ClusterNotSetUp]: { retryable: false },
  [ErrorCode.UnknownModel]: { retryable: false },
  [ErrorCode.InvalidParams]: { retryable: false },
  [ErrorCode.InferenceFailed]: { retryable: false },
  [ErrorCode.InferenceUnavailable]: { retryable: true },
  [ErrorCode.InferenceRateLimited]: { retryable: true },
  [ErrorCode.InferenceCanceled]: { retryable: false },
  [ErrorCode.EmptyOutput]: { retryable: false },
  // The prediction id was already reported: the retry resumes it instead of running the model again.
  [ErrorCode.OutputFetchFailed]: { retryable: true },
  // A rule refused the URL: the same URL meets the same rule again.
  [ErrorCode.DownloadRefused]: { retryable: false },
  // Transient (network, timeout, 408, 429, 5xx) or not (a 404, an unknown encoding): each error says.
  [ErrorCode.DownloadFailed]: { retryable: true, perError: true },
  [ErrorCode.ArtifactIntegrity]: { retryable: false },
  [ErrorCode.ArtifactNotFound]: { retryable: false },
  // A reference outside the import root, a file type that cannot be a candidate, a file over the cap: the same file meets the same rule.
  [ErrorCode.ImportRefused]: { retryable: false },
  [ErrorCode.ChannelUnavailable]: { retryable: true },
  [ErrorCode.ChannelRejected]: { retryable: false },
  [ErrorCode.ChannelRateLimited]: { retryable: true },
  // Nothing is lost: handling the same message again counts each vote once.
  [ErrorCode.ReplyDeferred]: { retryable: true },
  [ErrorCode.ReplyUnreadable]: { retryable: false },
  [ErrorCode.SlackSignatureInvalid]: { retryable: false, httpStatus: 401 },
  // A refused address or scheme, or a 4xx other than 408/429: the same delivery meets the same answer.
  [ErrorCode.WebhookRejected]: { retryable: false },
  // A 5xx, 408, 429, a timeout or a connection failure: the receiver may take it a moment later.
  [ErrorCode.WebhookUnavailable]: { retryable: true },
  // What a receiver answers a delivery whose signature does not verify.
  [ErrorCode.WebhookSignatureInvalid]: { retryable: false, httpStatus: 401 },
  [ErrorCode.LedgerUnavailable]: { retryable: true },
  // Held by another process (the ledger worker) until it stops.
  [ErrorCode.LedgerLocked]: { retryable: true },
  // The ledger's read endpoint (store/LedgerReadServer.ts) answers the read path's refusals 400, and busy 503 with Retry-After.
  [ErrorCode.LedgerQueryRefused]: { retryable: false, httpStatus: 400 },
  // The same query meets the same limit (time, rows, memory): it must be narrowed, not repeated.
  [ErrorCode.LedgerQueryTimeout]: { retryable: false, httpStatus: 400 },
  [ErrorCode.LedgerQueryTooLarge]: { retryable: false, httpStatus: 400 },
  [ErrorCode.LedgerQueryMemory]: { retryable: false, httpStatus: 400 },
  // Reads queued behind others: the same query is taken a moment later.
  [ErrorCode.LedgerBusy]: { retryable: true, httpStatus: 503 },
  [ErrorCode.ReleaseInvalid]: { retryable: false },
  [ErrorCode.ReleaseConflict]: { retryable: false },
  [ErrorCode.ReleaseCorrupt]: { retryable: false },
  [ErrorCode.LifecycleInputInvalid]: { retryable: false },
  [ErrorCode.ReleaseInputInvalid]: { retryable: false },
  [ErrorCode.CampaignInputInvalid]: { retryable: false },
  [ErrorCode.ChatInputInvalid]: { retryable: false },
  [ErrorCode.VotingClosed]: { retryable: false, httpStatus: 409, answer: 'voting closed' },
  // Voting opens once the lifecycle has published: a little later the same vote counts.
  [ErrorCode.VotingNotOpen]: { retryable: true, httpStatus: 409, answer: 'voting has not opened yet' },
  [ErrorCode.UnknownCandidate]: { retryable: false, httpStatus: 404, answer: 'no such candidate' },
  [ErrorCode.UnknownLifecycle]: { retryable: false, httpStatus: 404, answer: 'no such lifecycle' },
  [ErrorCode.MalformedVote]: { retryable: false, httpStatus: 400, answer: 'malformed vote' },
  [ErrorCode.WrongChannel]: { retryable: false, httpStatus: 403, answer: 'this lifecycle takes votes through another channel' },
  [ErrorCode.LifecycleFull]: { retryable: false, httpStatus: 409, answer: 'this lifecycle takes no more votes' },
  // The run is continuing as new: the gateway directory sends the vote again and the next run takes it
  // (a rater sees busy if that takes too long, never this code).
  [ErrorCode.RunContinuing]: { retryable: true, httpStatus: 503, answer: 'the lifecycle is moving to its next run, try again in a moment' },
  [ErrorCode.NotPairwise]: { retryable: false, httpStatus: 409, answer: 'this lifecycle does not compare two candidates' },
  [ErrorCode.ChoiceNotOffered]: { retryable: false, httpStatus: 400, answer: 'that answer is not offered on this lifecycle' },
  // A gold item scores a rater's first answer: a different one later would be the same refusal.
  [ErrorCode.AnswerFinal]: { retryable: false, httpStatus: 409, answer: 'your first answer to this item is final' },
  // An assigned lifecycle (a campaign's item) takes answers only from the raters its campaign handed it to.
  [ErrorCode.NotAssigned]: { retryable: false, httpStatus: 403, answer: 'this item was not handed to you; ask its campaign for your next item' },
  // A campaign item takes its campaign's form only (a vote on a compare item, a judgement on a thumbs one).
  [ErrorCode.WrongAnswerForm]: { retryable: false, httpStatus: 409, answer: 'this item takes another kind of answer' },
  [ErrorCode.Busy]: { retryable: true, httpStatus: 503, answer: 'the lifecycle is busy, try again in a moment' },
  [ErrorCode.UnknownCampaign]: { retryable: false, httpStatus: 404, answer: 'no such campaign' },
  // A malformed request for an item, or one to a campaign that is finishing: the same request meets the same answer.
  [ErrorCode.CampaignRefused]: { retryable: false, httpStatus: 409, answer: 'this campaign hands out no items now' },
  [ErrorCode.BadRequest]: { retryable: false, httpStatus: 400 },
  [ErrorCode.InvalidJson]: { retryable: false, httpStatus: 400 },
  [ErrorCode.InvalidIdempotencyKey]: { retryable: false, httpStatus: 400 },
  [ErrorCode.InvalidComment]: { retryable: false, httpStatus: 400 },
  [ErrorCode.InvalidName]: { retryable: false, httpStatus: 400 },
  [ErrorCode.SessionInvalid]: { retryable: false, httpStatus: 401 },
  [ErrorCode.SessionExpired]: { retryable: false, httpStatus: 401 },
  [ErrorCode.SessionRevoked]: { retryable: false, httpStatus: 401 },
  [ErrorCode.AccessDenied]: { retryable: false, httpStatus: 403 },
  [ErrorCode.ForbiddenOrigin]: { retryable: false, httpStatus: 403 },
  // 421 Misdirected Request: the Host is not this gateway's (DNS-rebinding defence).
  [ErrorCode.UnknownHost]: { retryable: false, httpStatus: 421 },
  // After the answer's Retry-After the same request is accepted.
  [ErrorCode.RateLimited]: { retryable: true, httpStatus: 429 },
  [ErrorCode.NotFound]: { retryable: false, httpStatus: 404 },
  [ErrorCode.MethodNotAllowed]: { retryable: false, httpStatus: 405 },
  [ErrorCode.BodyTooLarge]: { retryable: false, httpStatus: 413 },
  [ErrorCode.UnsupportedMediaType]: { retryable: false, httpStatus: 415 },
  [ErrorCode.InternalError]: { retryable: true, httpStatus: 500 },
  [ErrorCode.ArtifactUnavailable]: { retryable: true, httpStatus: 500 },
  [ErrorCode.UpstreamError]: { retryable: true, httpStatus: 502 },
  [ErrorCode.InvalidSignIn]: { retryable: false, httpStatus: 400 },
  [ErrorCode.OpenPanelDisabled]: { retryable: false, httpStatus: 403 },
  [ErrorCode.InviteInvalid]: { retryable: false, httpStatus: 403 },
  [ErrorCode.InviteExpired]: { retryable: false, httpStatus: 403 },
  [ErrorCode.InviteRevoked]: { retryable: false, httpStatus: 403 },
  // The gateway was started without an invite registry: a configuration matter, not a passing one.
  [ErrorCode.InvitesUnavailable]: { retryable: false, httpStatus: 503 },
  [ErrorCode.OidcNotConfigured]: { retryable: false, httpStatus: 404 },
  // The sign-in must be started again (a new state), not the same callback retried.
  [ErrorCode.OidcStateMissing]: { retryable: false, httpStatus: 400 },
  [ErrorCode.OidcDenied]: { retryable: false, httpStatus: 403 },
  [ErrorCode.OidcFailed]: { retryable: false, httpStatus: 403 },
  // The provider could not be reached: it may be back in a moment.
  [ErrorCode.OidcUnavailable]: { retryable: true, httpStatus: 502 },
  // Another rater's conversation is answered as if it did not exist: the same 404 as an unknown id.
  [ErrorCode.UnknownConversation]: { retryable: false, httpStatus: 404, answer: 'no such conversation' },
  // Only reached when a request bypassed the gateway's owner check: the workflow checks again.
  [ErrorCode.NotConversationOwner]: { retryable: false, httpStatus: 403, answer: 'this is not your conversation' },
  [ErrorCode.ConversationEnded]: { retryable: false, httpStatus: 409, answer: 'this conversation has ended' },
  [ErrorCode.ConversationNotReopenable]: { retryable: false, httpStatus: 409, answer: 'only a conversation that ended for inactivity can be reopened' },
  // One reply at a time: once it is done, the same message is taken.
  [ErrorCode.ReplyInProgress]: { retryable: true, httpStatus: 409, answer: 'a reply is still being written' },
  [ErrorCode.UnknownReply]: { retryable: false, httpStatus: 404, answer: 'no such reply in this conversation' },
  [ErrorCode.MalformedChatRequest]: { retryable: false, httpStatus: 400, answer: 'malformed request' },
  [ErrorCode.InvalidChatText]: { retryable: false, httpStatus: 400 },
  [ErrorCode.UnknownChatModel]: { retryable: false, httpStatus: 400, answer: 'that model is not offered here' },
  // The conversation is moving to a fresh run (continue-as-new): a moment later the same request is taken.
  [ErrorCode.ChatBusy]: { retryable: true, httpStatus: 503, answer: 'the conversation is busy, try again in a moment' },
  [ErrorCode.TurnLimitReached]: { retryable: false, httpStatus: 409, answer: 'this conversation has reached its length limit; start a new one' },
  // The model failed after its retries: regenerating asks it again.
  [ErrorCode.ReplyFailed]: { retryable: true, httpStatus: 502, answer: 'the model could not answer; try regenerating' },
  [ErrorCode.StreamSignatureInvalid]: { retryable: false, httpStatus: 401 },
  // The page stopped waiting (or the reply finished): the stream's tokens have nowhere to go.
  [ErrorCode.UnknownStream]: { retryable: false, httpStatus: 404 },
  [ErrorCode.StartNotAllowed]: { retryable: false, httpStatus: 403, answer: 'your sign-in may not generate' },
  [ErrorCode.ModelNotAllowed]: { retryable: false, httpStatus: 400, answer: 'this model is not offered here' },
  [ErrorCode.InvalidStart]: { retryable: false, httpStatus: 400 },
  // The budget renews at 00:00 UTC: the answer's Retry-After says when.
  [ErrorCode.BudgetExhausted]: { retryable: true, httpStatus: 429, answer: 'today\'s generation budget is used up' },
} as const satisfies { readonly [C in ErrorCode]: CodeSpec };

/** Each code's retryability, HTTP status and rater-facing answer. */
export const ERROR_CATALOGUE: { readonly [C in ErrorCode]: CodeSpec } = CATALOGUE;

/** The codes that have an HTTP status: the ones an HttpError may answer with. */
export type HttpAnswerCode = { [C in ErrorCode]: (typeof CATALOGUE)[C] extends { httpStatus: number } ? C : never }[ErrorCode];

export function httpStatusOf(code: HttpAnswerCode): number {
  return CATALOGUE[code].httpStatus;
}
