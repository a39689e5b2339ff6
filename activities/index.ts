/**
 * `createActivities(deps)`: every activity, built from injected dependencies so tests can pass fakes.
 * A worker passes the dependencies of the queues it serves and registers what comes back (see
 * workers/main.ts): channels on the lifecycle queue, inference on `-inference`, ledger and releases
 * on `-ledger`.
 */
import { createChannelActivities, type ChannelPublisher } from './channel';
import { createInferenceActivities, type InferenceDeps } from './generate';
import { createLedgerActivities, type LedgerActivityDeps } from './ledger';
import { createReleaseActivities, type ReleaseActivityDeps } from './release';
import type { ChannelActivities, InferenceActivities, LedgerActivities, ReleaseActivities } from './types';
import type { ChannelSpec } from '../workflows/types';

export interface ActivityDeps {
  inference?: InferenceDeps;
  channels?: Partial<Record<ChannelSpec['kind'], ChannelPublisher>>;
  ledger?: LedgerActivityDeps;
  releases?: ReleaseActivityDeps;
}

/** The activities of every group whose dependencies are given. */
export function createActivities(deps: ActivityDeps): Partial<InferenceActivities & ChannelActivities & LedgerActivities & ReleaseActivities> {
  return {
    ...(deps.inference ? createInferenceActivities(deps.inference) : {}),
    ...(deps.channels ? createChannelActivities(deps.channels) : {}),
    ...(deps.ledger ? createLedgerActivities(deps.ledger) : {}),
    ...(deps.releases ? createReleaseActivities(deps.releases) : {}),
  };
}

export { createChannelActivities } from './channel';
export type { ChannelPublisher } from './channel';
export { createInferenceActivities, planSlots, type InferenceDeps } from './generate';
export { createIngestActivities } from './ingest';
export { createLedgerActivities } from './ledger';
export { createReleaseActivities } from './release';
export type * from './types';
