/** Starting chat conversations and building their requests in tests, as the gateway would. */
import { WorkflowUpdateFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { CHAT_WORKFLOW_TYPE, ChatRejection } from '../../workflows/messages';
import type { ChatRequestBase, ChatStart } from '../../workflows/types';
import { sharedTemporal } from './temporal';

export const ALICE = 'r_a11ce0000000000000000001';
export const MALLORY = 'r_ma11077000000000000000002';

export async function startConversation(taskQueue: string, start: Partial<ChatStart> = {}, id = `chat-test-${randomUUID()}`): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const { client } = await sharedTemporal();
  const args: ChatStart = { owner: ALICE, ownerAuth: 'invite', model: 'demo:text', reasonTags: ['incorrect', 'unhelpful'], ...start };
  return client.workflow.start(CHAT_WORKFLOW_TYPE, { taskQueue, workflowId: id, args: [args] });
}

let keys = 0;
/** The fields every request carries, for `rater` (the owner by default). */
export function base(rater = ALICE): ChatRequestBase {
  return { idempotencyKey: `chat:${rater}:key-${process.pid}-${++keys}`, rater, sentAt: new Date().toISOString() };
}

/**
 * An update to the conversation's latest run, retried while it answers "busy" (it is moving to a fresh
 * run), as the gateway's directory does.
 */
export async function updateLatest<R, T>(workflowId: string, update: UpdateDefinition<R, [T]>, request: T): Promise<R> {
  const { client } = await sharedTemporal();
  for (let attempt = 0; ; attempt++) {
    try {
      return await client.workflow.getHandle(workflowId).executeUpdate(update, { args: [request] });
    } catch (err) {
      const busy = err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure && err.cause.type === ChatRejection.Busy;
      if (!busy || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
