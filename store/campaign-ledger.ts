/**
 * A campaign's commits (tables in store/campaign-schema.ts): its row, as of the commit, and the outcomes
 * of the items that ended. Idempotent: an outcome already held is skipped, the row is replaced by the
 * newer counts, all in one transaction, so a retried commit leaves the same rows.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CampaignCommitRequest, CampaignCommitResult } from './ledger-types';
import { withTransaction } from './transaction';

export async function commitCampaign(connection: DuckDBConnection, request: CampaignCommitRequest, now: Date = new Date()): Promise<CampaignCommitResult> {
  const { campaign, outcomes } = request;
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
        `INSERT INTO campaign_items VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::TIMESTAMPTZ, $11::TIMESTAMPTZ) ON CONFLICT (run_id, item) DO NOTHING`,
        [campaign.runId, campaign.campaignId, o.item, o.lifecycleId, o.end, o.answers, o.raters, o.attempts, o.message ?? null, o.closedAt, committedAt],
      );
    }
    const [row] = (await c.runAndReadAll(`SELECT count(*)::INTEGER FROM campaign_items WHERE run_id = $1`, [campaign.runId])).getRows();
    return { itemsInLedger: Number(row?.[0] ?? 0) };
  });
}
