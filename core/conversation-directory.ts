/**
 * The port through which the gateway (and the CLI) reach chat conversations. The chat routes depend
 * only on this interface, so they are testable without Temporal; `temporal-conversations.ts`
 * implements it with the client.
 */
import type {
  ChatReceipt, ChatReplyReceipt, ChatStart, CompareRequest, ConversationStatus, CorrectionRequest, EndRequest, FeedbackRequest, RateReplyRequest,
  RegenerateRequest, SendMessageRequest, Transcript,
} from '../workflows/types';
import { PreflineError, type ErrorCode } from './errors';

/** One conversation in its owner's list. */
export interface ConversationListing {
  conversationId: string;
  model: string;
  status: 'chatting' | 'ended';
  startedAt: string;
  title?: string;
}

export interface ConversationDirectory {
  /** Starts a conversation under a new id. */
  start(conversationId: string, start: ChatStart): Promise<void>;
  /** The owner's pseudonym, or undefined if there is no such conversation. */
  owner(conversationId: string): Promise<string | undefined>;
  status(conversationId: string): Promise<ConversationStatus | undefined>;
  transcript(conversationId: string): Promise<Transcript | undefined>;
  /** The owner's conversations, newest first. */
  listOwned(owner: string, limit: number): Promise<ConversationListing[]>;
  send(conversationId: string, request: SendMessageRequest): Promise<ChatReplyReceipt>;
  regenerate(conversationId: string, request: RegenerateRequest): Promise<ChatReplyReceipt>;
  rate(conversationId: string, request: RateReplyRequest): Promise<ChatReceipt>;
  feedback(conversationId: string, request: FeedbackRequest): Promise<ChatReceipt>;
  correct(conversationId: string, request: CorrectionRequest): Promise<ChatReceipt>;
  compare(conversationId: string, request: CompareRequest): Promise<ChatReceipt>;
  end(conversationId: string, request: EndRequest): Promise<ChatReceipt>;
  /** Continues a conversation that ended for inactivity in a new run. */
  reopen(conversationId: string): Promise<void>;
}

/**
 * Why a chat request was refused: the workflow's (workflows/chat-messages.ts `ChatRejection`) and the
 * directory's own (no such conversation, not reopenable). Statuses and answers are in the catalogue.
 */
export type ChatRejectionCode = (typeof ErrorCode)[
  | 'NotConversationOwner' | 'ConversationEnded' | 'ReplyInProgress' | 'UnknownReply' | 'MalformedChatRequest' | 'ChatBusy' | 'TurnLimitReached'
  | 'ReplyFailed' | 'UnknownConversation' | 'ConversationNotReopenable'
];

/** A chat request the conversation (or Temporal) refused for a reason the user can be told. */
export class ChatRejectedError extends PreflineError {
  declare readonly code: ChatRejectionCode;
  constructor(code: ChatRejectionCode, message: string) {
    super(code, message);
  }
}
