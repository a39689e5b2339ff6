/**
 * What a lifecycle shows of itself: the status query's ops view of its plan, candidates, tallies and
 * close, models included (rater-facing views strip them unless revealModels), and the counts a vote's or
 * judgement's receipt carries. Separate from RatingLifecycle's bookkeeping because they only read it;
 * RatingLifecycle.status and its record methods call them.
 */
import type { RatingLifecycle } from './lifecycle-state';
import type { CandidateTally, JudgementReceipt, LifecycleStatus } from './types';

/** The ops view: models included (rater-facing views strip them unless revealModels). */
export function lifecycleStatus(lifecycle: RatingLifecycle): LifecycleStatus {
  const { plan } = lifecycle;
  const judgements = lifecycle.judgementCounts();
  return {
    lifecycleId: lifecycle.lifecycleId,
    prompt: plan.prompt,
    phase: lifecycle.phase,
    ...(plan.task !== undefined ? { task: plan.task } : {}),
    ...(plan.question !== undefined ? { question: plan.question } : {}),
    ...(plan.allowBothBad !== undefined ? { allowBothBad: plan.allowBothBad } : {}),
    ...(plan.revealModels !== undefined ? { revealModels: plan.revealModels } : {}),
    channel: plan.channelLabel,
    models: plan.models,
    ...(plan.campaign !== undefined ? { campaign: plan.campaign } : {}),
    ...(plan.modelVersion !== undefined ? { modelVersion: plan.modelVersion } : {}),
    ...(plan.startedBy !== undefined ? { startedBy: plan.startedBy } : {}),
    ...(plan.startedFrom !== undefined ? { startedFrom: plan.startedFrom } : {}),
    ...(plan.delivery !== undefined ? { delivery: plan.delivery } : {}),
    quorum: plan.quorum,
    deadlineAt: lifecycle.deadlineAt,
    candidates: lifecycle.candidates.map((c) => ({
      id: c.id, label: c.label, model: c.model, kind: c.kind, placeholder: c.placeholder,
      ...(c.text !== undefined ? { text: c.text } : {}),
      artifact: { sha256: c.artifact.sha256, mime: c.artifact.mime, size: c.artifact.size },
      tally: lifecycle.tally.tallyOf(c.id),
    })),
    votesAccepted: lifecycle.eventsAccepted,
    ...(judgements !== undefined ? { judgements } : {}),
    ...(lifecycle.closeReason !== undefined ? { closeReason: lifecycle.closeReason } : {}),
    ...(lifecycle.posts.length > 0 ? { posts: lifecycle.posts } : {}),
    ...(plan.gold !== undefined ? { gold: true as const } : {}),
    ...(lifecycle.isCampaignItem() ? { campaignItem: true as const } : {}),
  };
}

/**
 * A receipt's counts: none (zeros) on a campaign's items, gold or data, so receipts neither tell gold
 * (every rater answers it) from data nor show raters how others answered (herding).
 */
export function receiptTally(lifecycle: RatingLifecycle, candidateId: string): CandidateTally {
  const tally = lifecycle.tally.tallyOf(candidateId);
  return lifecycle.isCampaignItem() ? { ...tally, up: 0, down: 0, score: 0, votes: 0 } : tally;
}

/** A judgement receipt's counts: zeros on a campaign's items, as receiptTally. */
export function receiptJudgements(lifecycle: RatingLifecycle): JudgementReceipt['judgements'] {
  const counts = lifecycle.judgements.counted();
  if (!lifecycle.isCampaignItem()) return counts;
  return { ...counts, byCandidate: Object.fromEntries(Object.keys(counts.byCandidate).map((id) => [id, 0])), tie: 0, bothBad: 0, standing: 0 };
}
