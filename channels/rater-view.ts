/**
 * What raters may see of a lifecycle, whatever channel shows it. Arena's battles are anonymous because a
 * model's name biases the judgement, so while voting Prefline shows raters no model names, versions or
 * provenance, on compare and thumbs lifecycles alike, unless the lifecycle's input asks to reveal them
 * (`revealModels`). Once voting has closed they may be shown. Placeholders stay labelled as such: that
 * says what a candidate is not, not who made it. Pure; ops views (CLI status, the Temporal UI) keep models.
 *
 * The web channel's status view starts from `raterView`; publishers, which build their posts from the
 * plan and the candidates rather than a status, use `modelsShown` and `raterCandidate` the same way.
 * `shownPair` is the order a rater sees a two-candidate lifecycle in, for every channel.
 */
import { presentationOrder } from '../core/presentation';
import type { LifecyclePhase, LifecycleStatus, LifecycleTask } from '../workflows/types';

type StatusCandidate = LifecycleStatus['candidates'][number];

/** A candidate as raters see it: its model only where models are shown. */
export type RaterCandidate = Omit<StatusCandidate, 'model'> & { model?: string };

/** A status as raters see it: models, the model version and channel posts only where allowed. */
export type RaterStatus = Omit<LifecycleStatus, 'models' | 'modelVersion' | 'candidates' | 'posts' | 'gold' | 'campaignItem'> & {
  models?: string[];
  modelVersion?: string;
  candidates: RaterCandidate[];
  /** Whether this view left the models out. */
  modelsHidden: boolean;
};

/** Whether raters may see which model made which candidate: once voting has closed, or when the lifecycle reveals them. */
export function modelsShown(lifecycle: { revealModels?: boolean | undefined; phase: LifecyclePhase }): boolean {
  return lifecycle.revealModels === true || lifecycle.phase === 'committing' || lifecycle.phase === 'completed';
}

/** A candidate without its model (and without any provenance it carries) unless models are shown. */
export function raterCandidate<C extends { model: string; provenance?: unknown }>(candidate: C, shown: boolean): Omit<C, 'model' | 'provenance'> & { model?: string } {
  const { model, provenance: _provenance, ...rest } = candidate;
  return shown ? { ...rest, model } : rest;
}

export function raterView(status: LifecycleStatus): RaterStatus {
  const shown = modelsShown(status);
  const { models, modelVersion, candidates, posts: _posts, gold, campaignItem, ...rest } = status;
  const view = {
    ...rest,
    ...(shown ? { models } : {}),
    ...(shown && modelVersion !== undefined ? { modelVersion } : {}),
    candidates: candidates.map((c) => raterCandidate(c, shown)),
    modelsHidden: !shown,
  };
  return gold === true || campaignItem === true ? withoutCounts(view) : view;
}

/**
 * A campaign's item, gold or data, as raters see it: without its counts. Every rater answers a gold item
 * (no quota), so its count would give it away, and its tallies its answer; a data item hides them the
 * same way, so the two look alike and raters do not follow how others answered.
 */
function withoutCounts(view: RaterStatus): RaterStatus {
  const judgements = view.judgements && { byCandidate: Object.fromEntries(Object.keys(view.judgements.byCandidate).map((id) => [id, 0])), tie: 0, bothBad: 0, standing: 0 };
  return {
    ...view,
    votesAccepted: 0,
    candidates: view.candidates.map((c) => ({ ...c, tally: { ...c.tally, up: 0, down: 0, score: 0, votes: 0 } })),
    ...(judgements ? { judgements } : {}),
  };
}

/**
 * The two candidates in the order a rater is shown them, [left, right], or undefined for a lifecycle
 * without exactly two. A compare lifecycle is shown in `presentationOrder` per rater (per message where
 * one message serves everyone: `rater` undefined); a thumbs lifecycle lists its candidates in order.
 */
export function shownPair<C>(lifecycle: { lifecycleId: string; task?: LifecycleTask | undefined; candidates: readonly C[] }, rater: string | undefined): [C, C] | undefined {
  const [first, second, ...more] = lifecycle.candidates;
  if (first === undefined || second === undefined || more.length > 0) return undefined;
  return lifecycle.task === 'compare' ? presentationOrder(lifecycle.lifecycleId, rater, [first, second]) : [first, second];
}
