/**
 * Every update, signal and query of a `chatConversation`, defined once (re-exported by
 * workflows/messages.ts). The gateway, the CLI, the benchmark and the tests import these constants.
 *
 * Why updates: the page needs an answer for each action — the reply for a message, "recorded" or
 * "not your conversation" for a rating — and only an Update with a validator gives one; a rejected
 * update leaves no trace in history. Sending a message is an update whose handler waits for the
 * inference activity, so its result is the finished reply (the tokens reach the page on the side, see
 * channels/chat/stream-hub.ts). Ratings also have a signal form for fire-and-forget sources (an
 * import), which cannot be refused and so is counted and logged when it does not apply.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { ErrorCode } from '../core/errors';
import type {
  ChatReceipt, ChatReplyReceipt, CompareRequest, ConversationStatus, CorrectionRequest, EndRequest, FeedbackRequest, RateReplyRequest,
  RegenerateRequest, SendMessageRequest, Transcript,
} from './chat-types';

export const CHAT_WORKFLOW_TYPE = 'chatConversation';

export const sendMessageUpdate = defineUpdate<ChatReplyReceipt, [SendMessageRequest]>('send-message');
export const regenerateUpdate = defineUpdate<ChatReplyReceipt, [RegenerateRequest]>('regenerate');
export const rateReplyUpdate = defineUpdate<ChatReceipt, [RateReplyRequest]>('rate-reply');
export const rateReplySignal = defineSignal<[RateReplyRequest]>('rate-reply-signal');
export const feedbackUpdate = defineUpdate<ChatReceipt, [FeedbackRequest]>('feedback');
export const correctionUpdate = defineUpdate<ChatReceipt, [CorrectionRequest]>('correction');
export const compareUpdate = defineUpdate<ChatReceipt, [CompareRequest]>('compare');
export const endUpdate = defineUpdate<ChatReceipt, [EndRequest]>('end');
export const conversationStatusQuery = defineQuery<ConversationStatus>('status');
export const transcriptQuery = defineQuery<Transcript>('transcript');

/**
 * ApplicationFailure types the validators reject with (and the handlers fail with): catalogue codes
 * (core/errors.ts), which ChatRejectedError and the HTTP answer carry unchanged.
 */
export const ChatRejection = {
  NotOwner: ErrorCode.NotConversationOwner,
  Ended: ErrorCode.ConversationEnded,
  ReplyInProgress: ErrorCode.ReplyInProgress,
  UnknownReply: ErrorCode.UnknownReply,
  Malformed: ErrorCode.MalformedChatRequest,
  Busy: ErrorCode.ChatBusy,
  TurnLimit: ErrorCode.TurnLimitReached,
  ReplyFailed: ErrorCode.ReplyFailed,
} as const;
export type ChatRejectionType = (typeof ChatRejection)[keyof typeof ChatRejection];

/** The failure type of a conversation started with a start argument it cannot run. */
export const INVALID_CHAT_INPUT_ERROR = ErrorCode.ChatInputInvalid;
