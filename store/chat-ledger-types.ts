/**
 * What a chat ledger commit takes and returns: the store owns these types; activities/types.ts
 * re-exports them for the workflow.
 */
import type { ChatEvent } from '../workflows/types';

export interface ChatConversationRecord {
  conversationId: string;
  /** The first run id of the conversation's first run: stable across continue-as-new and reopening. */
  conversationRunId: string;
  owner: string;
  ownerAuth: string;
  model: string;
}

export interface ChatCommitRequest {
  conversation: ChatConversationRecord;
  /** In sequence order; a batch already (partly) committed is skipped where the ledger has it. */
  events: ChatEvent[];
}

export interface ChatCommitResult {
  eventsInserted: number;
  /** Events of the conversation in the ledger after the commit. */
  eventsForConversation: number;
}
