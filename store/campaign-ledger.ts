/**
 * A campaign's commits (tables in store/campaign-schema.ts): its row, as of the commit, the outcomes of
 * the items that ended, the raters whose record changed and the gold lifecycles started. Idempotent: an
 * outcome or gold row already held is skipped, the campaign row and a rater's row are replaced by the
 * newer values, all in one transaction, so a retried commit leaves the same rows.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CampaignCommitRequest, CampaignCommitResult } from './ledger-types';
import { withTransaction } from './transaction';

export async function commitCampaign(connection: DuckDBConnection, request: CampaignCommitRequest, now: Date = new Date()): Promise<CampaignCommitResult> {
  const { campaign, outcomes, raters = [], gold = [] } = request;
  const committedAt = now.toISOString();
  return withTransaction(connection, async (c) => {
    await c.run(
      `INSERT INTO campaigns VALUES ($1, $2, $3, $4, $5, $6, $7, $8::TIMESTAMPTZ, $9::TIMESTAMPTZ, $10, $11, $12, $13, $14::TIMESTAMPTZ, $15::TIMESTAMPTZ)
       ON CONFLICT (run_id) DO UPDATE SET phase = excluded.phase, items_done = excluded.items_done, items_failed = excluded.items_failed,
         answers = excluded.answers, closed_at = excluded.closed_at, committed_at = excluded.committed_at`,
      [
        campaign.runId, campaign.campaignId, campaign.label, campaign.task, campaign.responses, campaign.channel, campaign.itemCount,
        campaign.startedAt, campaign.deadlineAt, campaign.phase, campaign.counts.done, campaign.counts.failed, campaign.counts.answers,
        campaign.closedAt ?? null, committedAt,
      ],
    );
    for (const o of outcomes) {
      await c.run(
        `INSERT INTO campaign_items (run_id, campaign_id, item, lifecycle_id, end_reason, answers, raters, attempts, message, closed_at, committed_at, excluded_answers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::TIMESTAMPTZ, $11::TIMESTAMPTZ, $12) ON CONFLICT (run_id, item) DO NOTHING`,
        [campaign.runId, campaign.campaignId, o.item, o.lifecycleId, o.end, o.answers, o.raters, o.attempts, o.message ?? null, o.closedAt, committedAt, o.excludedAnswers ?? 0],
      );
    }
    for (const r of raters) {
      await c.run(
        `INSERT INTO campaign_raters VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::TIMESTAMPTZ, $11::TIMESTAMPTZ)
         ON CONFLICT (run_id, rater) DO UPDATE SET answers = excluded.answers, gold_answered = excluded.gold_answered,
           gold_correct = excluded.gold_correct, score = excluded.score, status = excluded.status, reason = excluded.reason,
           excluded_at = excluded.excluded_at, committed_at = excluded.committed_at`,
        [
          campaign.runId, campaign.campaignId, r.rater, r.answers, r.goldAnswered, r.goldCorrect, r.score, r.status,
          r.reason ?? null, r.excludedAt ?? null, committedAt,
        ],
      );
    }
    for (const g of gold) {
      await c.run(
        `INSERT INTO campaign_gold VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, gold) DO NOTHING`,
        [campaign.runId, campaign.campaignId, g.gold, g.lifecycleId, g.answer, g.explanation],
      );
    }
    const [row] = (await c.runAndReadAll(`SELECT count(*)::INTEGER FROM campaign_items WHERE run_id = $1`, [campaign.runId])).getRows();
    return { itemsInLedger: Number(row?.[0] ?? 0) };
  });
}
