/** Starting chat conversations and building their requests in tests, as the gateway would. */
import type { WorkflowHandle } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { CHAT_WORKFLOW_TYPE } from '../../workflows/messages';
import type { ChatRequestBase, ChatStart } from '../../workflows/types';
import { sharedTemporal } from './temporal';

export const ALICE = 'r_a11ce0000000000000000001';
export const MALLORY = 'r_ma11077000000000000000002';

export async function startConversation(taskQueue: string, start: Partial<ChatStart> = {}, id = `chat-test-${randomUUID()}`): Promise<WorkflowHandle> {
  const { client } = await sharedTemporal();
  const args: ChatStart = { owner: ALICE, ownerAuth: 'invite', model: 'demo:text', reasonTags: ['incorrect', 'unhelpful'], ...start };
  return client.workflow.start(CHAT_WORKFLOW_TYPE, { taskQueue, workflowId: id, args: [args] });
}

let keys = 0;
/** The fields every request carries, for `rater` (the owner by default). */
export function base(rater = ALICE): ChatRequestBase {
  return { idempotencyKey: `chat:${rater}:key-${process.pid}-${++keys}`, rater, sentAt: new Date().toISOString() };
}
