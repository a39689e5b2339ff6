/**
 * A campaign notification in words, the same for Slack and email (the webhook gets the notice as JSON):
 * a title, then one line per fact. Pure; imports only the workflows' contract.
 */
import type { CampaignItemEnd, CampaignNotice } from '../workflows/types';

const OUTCOME_WORDS: Record<NonNullable<CampaignNotice['outcome']>, string> = {
  finished: 'finished: every item ended',
  cancelled: 'was cancelled',
  deadline: 'reached its deadline before every item ended',
};

/** Why items ended, in the order a reader wants them: answered first, then short, then failed. */
const END_ORDER: readonly CampaignItemEnd[] = ['quorum', 'confident', 'closed', 'deadline', 'insufficient', 'failed', 'invalid', 'unreported'];

export function noticeTitle(notice: CampaignNotice): string {
  const name = notice.label === notice.campaignId ? notice.campaignId : `${notice.label} (${notice.campaignId})`;
  if (notice.event === 'quota') return `Campaign ${name} reached its quota: every item has its ${notice.responses} answers`;
  return `Campaign ${name} ${OUTCOME_WORDS[notice.outcome ?? 'finished']}`;
}

export function noticeLines(notice: CampaignNotice): string[] {
  const { counts } = notice;
  const ended = END_ORDER.filter((why) => (counts.ended[why] ?? 0) > 0).map((why) => `${why} ${counts.ended[why]}`);
  return [
    `Items: ${counts.done} done, ${counts.failed} failed${counts.open > 0 ? `, ${counts.open} open` : ''}${counts.pending > 0 ? `, ${counts.pending} never started` : ''} of ${counts.items}`,
    ...(ended.length > 0 ? [`Why they ended: ${ended.join(', ')}`] : []),
    `Answers: ${counts.answers} (${notice.task}, ${notice.responses} per item)`,
    ...(notice.ratersExcluded !== undefined ? [`Raters excluded by gold answers: ${notice.ratersExcluded}`] : []),
    ...(notice.cancelReason !== undefined ? [`Cancelled: ${notice.cancelReason}`] : []),
    `Started ${notice.startedAt}, deadline ${notice.deadlineAt}`,
    `Results: ${notice.resultsCommand}`,
  ];
}
