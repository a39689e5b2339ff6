/**
 * The campaign's side of handing out an item: before a rater learns of an item (a `next` answer, an email
 * digest), its lifecycle is told whom it was handed to (the `handed` signal), and only they may answer it
 * (checkHanded, lifecycle-acceptance.ts). Awaited, so the signal is in the child's history before the rater can act.
 */
import { getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { itemHandedSignal } from './messages';

/** Tells the lifecycle `lifecycleId` that `rater` was handed it; a lifecycle that is gone is logged (nobody can answer it then). */
export function handItem(lifecycleId: string, rater: string): Promise<void> {
  return getExternalWorkflowHandle(lifecycleId).signal(itemHandedSignal, { rater })
    .catch((err: unknown) => log.warn('hand-out of a campaign item not delivered', { lifecycleId, error: String(err) }));
}
