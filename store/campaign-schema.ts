/**
 * The ledger's campaign tables (schema 8): one row per campaign, updated by each of its commits, and one
 * row per item that ended, written once. Rows come from `commitCampaign` (store/campaign-ledger.ts).
 */
export const CAMPAIGN_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS campaigns (
     run_id VARCHAR PRIMARY KEY,          -- the campaign's first run: one row across continue-as-new
     campaign_id VARCHAR NOT NULL,
     label VARCHAR NOT NULL,
     task VARCHAR NOT NULL,
     responses INTEGER NOT NULL,
     channel VARCHAR NOT NULL,
     item_count INTEGER NOT NULL,
     started_at TIMESTAMPTZ NOT NULL,
     deadline_at TIMESTAMPTZ NOT NULL,
     phase VARCHAR NOT NULL,
     items_done INTEGER NOT NULL,
     items_failed INTEGER NOT NULL,
     answers INTEGER NOT NULL,
     closed_at TIMESTAMPTZ,               -- NULL while the campaign runs
     committed_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS campaign_items (
     run_id VARCHAR NOT NULL,
     campaign_id VARCHAR NOT NULL,
     item INTEGER NOT NULL,               -- the item's index in the campaign's list, from 0
     lifecycle_id VARCHAR NOT NULL,
     end_reason VARCHAR NOT NULL,         -- quorum | closed | insufficient | deadline | failed | invalid | unreported
     answers INTEGER NOT NULL,            -- standing answers when it ended
     raters INTEGER NOT NULL,
     attempts INTEGER NOT NULL,           -- lifecycles it took (re-asks of a starved item add one each)
     message VARCHAR,
     closed_at TIMESTAMPTZ NOT NULL,
     committed_at TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (run_id, item))`,
];
