/**
 * The child lifecycle's side of a campaign: a lifecycle started by a campaign (workflowInfo().parent)
 * reports to it by signal: when voting opens, every answer that changes what stands, and how it ended.
 * Reports go to the campaign's workflow id, so they reach its current run across continue-as-new. A
 * report that cannot be delivered (the campaign is gone) is logged; the lifecycle goes on regardless.
 */
import { getExternalWorkflowHandle, log, workflowInfo } from '@temporalio/workflow';
import { campaignItemReportSignal } from './messages';
import type { CampaignItemReport } from './types';

/** The campaign that started this lifecycle, if one did. */
export function campaignOf(): string | undefined {
  return workflowInfo().parent?.workflowId;
}

export function reportToCampaign(campaignId: string, report: CampaignItemReport): Promise<void> {
  return getExternalWorkflowHandle(campaignId).signal(campaignItemReportSignal, report)
    .catch((err: unknown) => log.warn('campaign report not delivered', { campaignId, kind: report.kind, error: String(err) }));
}
