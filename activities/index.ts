/**
 * `createActivities(deps)`: every activity, built from injected dependencies so tests can pass fakes.
 * Workers register the subset for the queues they serve (see workers/main.ts).
 */
import { createChannelActivities, type ChannelPublisher } from './channel';
import { createInferenceActivities } from './generate';
import { createLedgerActivities, type LedgerActivityDeps } from './ledger';
import type { InferenceRegistry } from '../connectors/inference/registry';
import type { ArtifactStore } from '../store/ArtifactStore';
import type { ChannelSpec } from '../workflows/types';

export interface ActivityDeps {
  inference?: { registry: InferenceRegistry; artifacts: ArtifactStore };
  channels?: Partial<Record<ChannelSpec['kind'], ChannelPublisher>>;
  ledger?: LedgerActivityDeps;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...(deps.inference ? createInferenceActivities(deps.inference) : {}),
    ...(deps.channels ? createChannelActivities(deps.channels) : {}),
    ...(deps.ledger ? createLedgerActivities(deps.ledger) : {}),
  };
}

export { createChannelActivities } from './channel';
export type { ChannelPublisher } from './channel';
export { createInferenceActivities, planSlots } from './generate';
export { createLedgerActivities } from './ledger';
export type * from './types';
