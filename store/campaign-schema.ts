/**
 * The ledger's campaign tables (schema 8; schema 9 adds `campaign_items.excluded_answers`): one row per campaign, updated by each of its commits; one
 * row per item that ended, written once; one row per rater of a campaign, updated by each commit that
 * changes the rater's record; one row per gold (validation) lifecycle, written once. Rows come from
 * `commitCampaign` (store/campaign-ledger.ts).
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
     end_reason VARCHAR NOT NULL,         -- quorum | confident | closed | insufficient | deadline | failed | invalid | unreported
     answers INTEGER NOT NULL,            -- standing answers when it ended, of raters in good standing (every attempt's)
     raters INTEGER NOT NULL,             -- raters who answered, excluded ones included
     attempts INTEGER NOT NULL,           -- lifecycles it took (re-asks of a starved item, or for excluded raters' answers, add one each)
     message VARCHAR,
     closed_at TIMESTAMPTZ NOT NULL,
     committed_at TIMESTAMPTZ NOT NULL,
     -- Schema 9: standing answers of raters excluded for their gold score, counted nowhere (appended, as the upgrade adds it).
     excluded_answers INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (run_id, item))`,
  `CREATE TABLE IF NOT EXISTS campaign_raters (
     run_id VARCHAR NOT NULL,             -- the campaign's first run
     campaign_id VARCHAR NOT NULL,
     rater VARCHAR NOT NULL,              -- keyed-hash pseudonym, as on judgements and votes
     answers INTEGER NOT NULL,            -- answers to data items (not gold)
     gold_answered INTEGER NOT NULL,
     gold_correct INTEGER NOT NULL,
     score DOUBLE NOT NULL,               -- gold accuracy with the campaign's prior, in (0, 1)
     status VARCHAR NOT NULL,             -- active | excluded
     reason VARCHAR,                      -- why the rater was excluded, in words
     excluded_at TIMESTAMPTZ,
     committed_at TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (run_id, rater))`,
  // A gold lifecycle's answers are checks of its raters, never data: releases and results leave them out.
  `CREATE TABLE IF NOT EXISTS campaign_gold (
     run_id VARCHAR NOT NULL,
     campaign_id VARCHAR NOT NULL,
     gold INTEGER NOT NULL,               -- the index in the campaign's gold list, from 0
     lifecycle_id VARCHAR NOT NULL,
     answer VARCHAR NOT NULL,             -- first | second | tie | both_bad (compare), up | down (thumbs)
     explanation VARCHAR NOT NULL,
     PRIMARY KEY (run_id, gold))`,
];
