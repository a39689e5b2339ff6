/**
 * The child lifecycle's side of a campaign: a lifecycle started by a campaign (workflowInfo().parent)
 * reports to it by signal: when voting opens, every answer that changes what stands, and how it ended.
 * Reports go to the campaign's workflow id, so they reach its current run across continue-as-new. A
 * report that cannot be delivered (the campaign is gone) is logged; the lifecycle goes on regardless.
 */
import { getExternalWorkflowHandle, log, workflowInfo } from '@temporalio/workflow';
import { campaignItemReportSignal } from './messages';
import { winnerOf, type JudgementTally } from './judgement-tally';
import type { CampaignChoice, CampaignItemReport, Candidate, JudgementRequest, Quorum, VoteRequest } from './types';
import type { VoteTally } from './vote-tally';

/** The campaign that started this lifecycle, if one did. */
export function campaignOf(): string | undefined {
  return workflowInfo().parent?.workflowId;
}

export function reportToCampaign(campaignId: string, report: CampaignItemReport): Promise<void> {
  return getExternalWorkflowHandle(campaignId).signal(campaignItemReportSignal, report)
    .catch((err: unknown) => log.warn('campaign report not delivered', { campaignId, kind: report.kind, error: String(err) }));
}

/**
 * Whether an answer that would add a standing one (a new rater's, or a withdrawn one given again) finds the
 * item at its quota: `responses` standing judgements (compare), or the candidate's votes (thumbs).
 * Changing a standing answer never adds one, so it is never refused.
 */
export function quotaFull(quorum: Quorum, tally: VoteTally, judgements: JudgementTally, candidateId?: string): boolean {
  if (quorum.kind === 'responses') return judgements.counted().standing >= quorum.responses;
  if (quorum.kind !== 'perCandidate' || candidateId === undefined) return false;
  const index = tally.tallies().findIndex((t) => t.candidateId === candidateId);
  return tally.tallyOf(candidateId).votes >= (quorum.each?.[index] ?? quorum.votes);
}

/**
 * What a campaign counts of an item: standing judgements (compare), or the fewest standing votes of a
 * candidate (thumbs). With quotas by candidate (a re-ask): its quota less what the most lacking candidate
 * still lacks, so the campaign adds it to what the item had (campaign-state.ts startedReask).
 */
export function campaignProgress(quorum: Quorum, tally: VoteTally, judgements: JudgementTally): number {
  if (quorum.kind === 'responses') return judgements.counted().standing;
  const votes = tally.tallies().map((t) => t.votes);
  if (votes.length === 0) return 0;
  if (quorum.kind !== 'perCandidate' || quorum.each === undefined) return Math.min(...votes);
  const each = quorum.each;
  return quorum.votes - Math.max(0, ...votes.map((v, i) => (each[i] ?? quorum.votes) - v));
}

/**
 * A standing judgement as the campaign reads it, by candidate: `first` is the item's first candidate
 * whichever side it was shown on.
 */
export function judgementChoice(candidates: ReadonlyArray<Pick<Candidate, 'id'>>, request: Pick<JudgementRequest, 'left' | 'right' | 'choice'>): CampaignChoice {
  if (request.choice === 'retract') return { task: 'compare', answer: 'withdrawn' };
  if (request.choice === 'tie' || request.choice === 'both_bad') return { task: 'compare', answer: request.choice };
  return { task: 'compare', answer: candidates.findIndex((c) => c.id === winnerOf(request)) === 0 ? 'first' : 'second' };
}

/** A standing thumbs vote as the campaign reads it: on which of the item's candidates, and what. */
export function voteChoice(candidates: ReadonlyArray<Pick<Candidate, 'id'>>, request: Pick<VoteRequest, 'candidateId' | 'value'>): CampaignChoice {
  return {
    task: 'thumbs', candidate: candidates.findIndex((c) => c.id === request.candidateId), candidates: candidates.length,
    answer: request.value === 'retract' ? 'withdrawn' : request.value,
  };
}
