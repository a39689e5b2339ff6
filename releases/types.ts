/** What publishing a release reports: the steps it goes through (heartbeats, crash tests) and its result. */
import type { ReleaseTable } from './layout';

export const PUBLISH_STEPS = [
  'prepare', 'lifecycles', 'candidates', 'votes', 'vote_events', 'judgement_events', 'battles', 'matchups', 'preferences', 'preferences_chat', 'kto',
  'leaderboard', 'model_pairs', 'campaigns', 'raters', 'chat', 'readme', 'report', 'manifest', 'fsync', 'rename', 'latest',
] as const;
export type PublishStep = (typeof PUBLISH_STEPS)[number];

export interface PublishResult {
  releaseId: string;
  dir: string;
  cutoff: string;
  /** True when a whole release of this cutoff already existed and was verified instead of rewritten. */
  reused: boolean;
  /** Whether `latest` points at this release afterwards. */
  latest: boolean;
  previousReleaseId: string | null;
  rows: Record<ReleaseTable, number>;
}
