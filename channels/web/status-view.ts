/**
 * What the web vote API shows of a lifecycle: the rater view (channels/rater-view.ts: no model names
 * while voting unless the lifecycle reveals them) of the fields the rating page uses, with every
 * artifact's signed URL, and never an email address. An email lifecycle's channel label lists its
 * recipients (`email:a@x.org,b@y.org`), so it is shown as `email`; a named list (`email:@reviewers`)
 * names no one and stays. Channel posts (message references) are left out: the page has no use for them.
 * A compare lifecycle carries the order this rater is shown its two candidates in (`pair`), which a
 * judgement must name. Pure; the route authenticates and reads.
 */
import { raterView, shownPair, type RaterCandidate } from '../rater-view';
import type { JudgementCounts, LifecycleStatus, LifecycleTask } from '../../workflows/types';

export type PublicCandidate = Omit<RaterCandidate, 'artifact'> & {
  artifact: RaterCandidate['artifact'] & { url: string };
};

export interface PublicStatus {
  lifecycleId: string;
  prompt: string;
  phase: LifecycleStatus['phase'];
  task: LifecycleTask;
  question?: string;
  allowBothBad?: boolean;
  channel: string;
  /** Only where models are shown (after voting, or a lifecycle that reveals them). */
  models?: string[];
  modelsHidden: boolean;
  campaign?: string;
  modelVersion?: string;
  quorum: LifecycleStatus['quorum'];
  deadlineAt?: string;
  candidates: PublicCandidate[];
  /** Compare lifecycles: the candidate ids in the order this rater is shown them. */
  pair?: { left: string; right: string };
  votesAccepted: number;
  judgements?: JudgementCounts;
  closeReason?: LifecycleStatus['closeReason'];
}

/** The channel label without recipients. */
export function publicChannel(label: string): string {
  if (!label.startsWith('email:')) return label;
  return /^email:@[a-z0-9][a-z0-9_-]{0,63}$/.test(label) ? label : 'email';
}

/** The status for `rater` (the session's pseudonym), whose order of a compare lifecycle's pair it carries. */
export function publicStatus(status: LifecycleStatus, artifactUrl: (sha256: string) => string, rater?: string): PublicStatus {
  const view = raterView(status);
  const task = status.task ?? 'thumbs';
  const pair = task === 'compare' ? shownPair(status, rater) : undefined;
  return {
    lifecycleId: view.lifecycleId,
    prompt: view.prompt,
    phase: view.phase,
    task,
    ...(view.question !== undefined ? { question: view.question } : {}),
    ...(task === 'compare' ? { allowBothBad: view.allowBothBad ?? true } : {}),
    channel: publicChannel(view.channel),
    ...(view.models !== undefined ? { models: view.models } : {}),
    modelsHidden: view.modelsHidden,
    ...(view.campaign !== undefined ? { campaign: view.campaign } : {}),
    ...(view.modelVersion !== undefined ? { modelVersion: view.modelVersion } : {}),
    quorum: view.quorum,
    ...(view.deadlineAt !== undefined ? { deadlineAt: view.deadlineAt } : {}),
    candidates: view.candidates.map((c) => ({
      id: c.id,
      label: c.label,
      ...(c.model !== undefined ? { model: c.model } : {}),
      kind: c.kind,
      ...(c.text !== undefined ? { text: c.text } : {}),
      placeholder: c.placeholder,
      artifact: { sha256: c.artifact.sha256, mime: c.artifact.mime, size: c.artifact.size, url: artifactUrl(c.artifact.sha256) },
      tally: c.tally,
    })),
    ...(pair ? { pair: { left: pair[0].id, right: pair[1].id } } : {}),
    votesAccepted: view.votesAccepted,
    ...(view.judgements !== undefined ? { judgements: view.judgements } : {}),
    ...(view.closeReason !== undefined ? { closeReason: view.closeReason } : {}),
  };
}
