/**
 * `createActivities(deps)`: every activity, built from injected dependencies so tests can pass fakes.
 * A worker passes the dependencies of the queues it serves and registers what comes back (see
 * workers/main.ts): channels on the lifecycle queue, inference on `-inference`, ledger and releases
 * on `-ledger`.
 */
import type { EmailDigests } from '../channels/email/digest';
import { createCampaignItemActivities, createCampaignLedgerActivities } from './campaign';
import { createCampaignDigestActivities } from './campaign-digest';
import { createChannelActivities, type ChannelPublisher } from './channel';
import { createChatInferenceActivities, createChatLedgerActivities, type ChatInferenceDeps } from './chat';
import { createInferenceActivities, type InferenceDeps } from './generate';
import { createLedgerActivities, type LedgerActivityDeps } from './ledger';
import { createCampaignNotifyActivities, type NotifyActivityDeps } from './notify';
import { createReleaseActivities, type ReleaseActivityDeps } from './release';
import type {
  CampaignDigestActivities, CampaignItemActivities, CampaignLedgerActivities, CampaignNotifyActivities, ChannelActivities, ChatInferenceActivities, ChatLedgerActivities, InferenceActivities, LedgerActivities,
  ReleaseActivities,
} from './types';
import type { ChannelSpec } from '../workflows/types';

export interface ActivityDeps {
  inference?: InferenceDeps;
  /** Chat replies (inference queue): the inference deps plus the reply records and the stream key. */
  chat?: ChatInferenceDeps;
  channels?: Partial<Record<ChannelSpec['kind'], ChannelPublisher>>;
  /** Campaign notifications (lifecycle queue, beside the channels): whichever senders this worker has. */
  notify?: NotifyActivityDeps;
  /** Email campaigns' digests (with the channels, where the email publisher is). */
  digests?: Pick<EmailDigests, 'raters' | 'send'>;
  ledger?: LedgerActivityDeps;
  releases?: ReleaseActivityDeps;
}

/** The activities of every group whose dependencies are given. */
export function createActivities(
  deps: ActivityDeps,
): Partial<
  InferenceActivities & ChatInferenceActivities & ChannelActivities & LedgerActivities & ChatLedgerActivities & ReleaseActivities & CampaignItemActivities
  & CampaignLedgerActivities & CampaignNotifyActivities & CampaignDigestActivities
> {
  return {
    // Campaigns read their stored item lists where inference workers share the artifact store.
    ...(deps.inference ? { ...createInferenceActivities(deps.inference), ...createCampaignItemActivities({ artifacts: deps.inference.artifacts }) } : {}),
    ...(deps.chat ? createChatInferenceActivities(deps.chat) : {}),
    ...(deps.channels ? { ...createChannelActivities(deps.channels), ...createCampaignDigestActivities(deps.digests ? { digests: deps.digests } : {}) } : {}),
    ...(deps.notify ? createCampaignNotifyActivities(deps.notify) : {}),
    ...(deps.ledger ? { ...createLedgerActivities(deps.ledger), ...createChatLedgerActivities(deps.ledger), ...createCampaignLedgerActivities({ ledger: deps.ledger.ledger }) } : {}),
    ...(deps.releases ? createReleaseActivities(deps.releases) : {}),
  };
}

export { createCampaignItemActivities, createCampaignLedgerActivities } from './campaign';
export { createCampaignDigestActivities } from './campaign-digest';
export { createChannelActivities } from './channel';
export { createCampaignNotifyActivities, type NotifyActivityDeps } from './notify';
export { createChatInferenceActivities, createChatLedgerActivities } from './chat';
export type { ChatInferenceDeps } from './chat';
export type { ChannelPublisher } from './channel';
export { createInferenceActivities, planSlots, type InferenceDeps } from './generate';
export { createIngestActivities } from './ingest';
export { createLedgerActivities } from './ledger';
export { createReleaseActivities } from './release';
export type * from './types';
