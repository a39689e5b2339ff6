/**
 * The ledger's tables and view, and the upgrades of older ledgers that Ledger.openWriter runs before
 * creating what is missing. Rows go in by store/ledger-rows.ts (a multi-row INSERT of bound values),
 * which Ledger.commit (store/Ledger.ts) writes through; the derived tables are described in
 * store/ledger-derived.ts.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LifecyclePlan, VoteEvent } from '../workflows/types';
import { CAMPAIGN_SCHEMA } from './campaign-schema';
import { CHAT_SCHEMA } from './chat-schema';
import { DERIVED_SCHEMA } from './ledger-derived';

/**
 * 2: derived tables (store/ledger-derived.ts), filled for older ledgers when the writer opens them.
 * 3: `votes.rater_auth`, how the rater was authenticated (see `raterAuthOf`); older rows get it from
 *    their channel when the writer opens the ledger.
 * 4: `lifecycles.closed_at` and `close_reason` may be NULL: a lifecycle committing increments while
 *    voting (store/Ledger.ts).
 * 5: `lifecycles.started_by` and `started_from`, the lifecycle's provenance (see `startedFromOf`);
 *    older rows get `unknown` when the writer opens the ledger.
 * 6: chat conversations: `chat_events` and the views `chat_conversations`, `chat_messages`
 *    (store/chat-schema.ts), new tables an older ledger simply gains when the writer opens it.
 * 7: compare lifecycles: `lifecycles.task` (older rows: 'thumbs'), `question`, `allow_both_bad`,
 *    `reveal_models`, and the `judgements` table (created with the schema, like every table).
 * 8: campaigns: the `campaigns`, `campaign_items`, `campaign_raters` and `campaign_gold` tables
 *    (store/campaign-ledger.ts).
 * 9: `campaign_items.excluded_answers`, an item's standing answers by raters excluded for their gold
 *    score (its `answers` count them no more); older rows get 0 when the writer opens the ledger.
 */
export const LEDGER_SCHEMA_VERSION = 9;

/**
 * How a vote's rater was authenticated, as stored: the vote's own `raterAuth`, or for a vote without
 * one (cast before it existed) what its channel implies. Web votes then came from typed names: `open`.
 */
export function raterAuthOf(vote: Pick<VoteEvent, 'raterAuth' | 'channel'>): string {
  return vote.raterAuth ?? (vote.channel === 'web' ? 'open' : vote.channel);
}

/** Where a lifecycle was started from, as stored: what its input said, else `unknown` (the Temporal UI or code). */
export function startedFromOf(plan: Pick<LifecyclePlan, 'startedFrom'>): string {
  return plan.startedFrom ?? UNKNOWN_START;
}

const UNKNOWN_START = 'unknown';

/** `raterAuthOf` as SQL over a votes row, for the upgrade of older ledgers. */
const RATER_AUTH_FROM_CHANNEL = `CASE channel WHEN 'web' THEN 'open' ELSE channel END`;

export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS ledger_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS lifecycles (
     run_id VARCHAR PRIMARY KEY,
     lifecycle_id VARCHAR NOT NULL,
     prompt VARCHAR NOT NULL,
     models VARCHAR[] NOT NULL,
     candidates_per_model INTEGER NOT NULL,
     channel VARCHAR NOT NULL,
     campaign VARCHAR,
     model_version VARCHAR,
     quorum_kind VARCHAR NOT NULL,
     quorum_votes INTEGER NOT NULL,
     params JSON,
     started_at TIMESTAMPTZ NOT NULL,
     deadline_at TIMESTAMPTZ NOT NULL,
     -- NULL while the lifecycle still votes (it commits in increments): see store/Ledger.ts.
     closed_at TIMESTAMPTZ,
     close_reason VARCHAR,
     -- Events accepted: votes and judgements.
     votes_accepted INTEGER NOT NULL,
     committed_at TIMESTAMPTZ NOT NULL,
     -- Provenance (schema 5): the starter's pseudonym, if known, and where the lifecycle was started.
     started_by VARCHAR,
     started_from VARCHAR NOT NULL,
     -- Compare lifecycles (schema 7).
     task VARCHAR NOT NULL DEFAULT 'thumbs',
     question VARCHAR,
     allow_both_bad BOOLEAN,
     reveal_models BOOLEAN)`,
  `CREATE TABLE IF NOT EXISTS candidates (
     run_id VARCHAR NOT NULL,
     lifecycle_id VARCHAR NOT NULL,
     candidate_id VARCHAR NOT NULL,
     label VARCHAR NOT NULL,
     model VARCHAR NOT NULL,
     backend VARCHAR NOT NULL,
     model_version VARCHAR,
     kind VARCHAR NOT NULL,
     artifact_sha256 VARCHAR NOT NULL,
     mime VARCHAR NOT NULL,
     size_bytes BIGINT NOT NULL,
     path VARCHAR NOT NULL,
     text VARCHAR,
     placeholder BOOLEAN NOT NULL,
     seed BIGINT NOT NULL,
     provenance JSON NOT NULL,
     committed_at TIMESTAMPTZ NOT NULL,
     PRIMARY KEY (run_id, candidate_id))`,
  `CREATE TABLE IF NOT EXISTS votes (
     run_id VARCHAR NOT NULL,
     lifecycle_id VARCHAR NOT NULL,
     idempotency_key VARCHAR NOT NULL,
     seq INTEGER NOT NULL,
     candidate_id VARCHAR NOT NULL,
     rater VARCHAR NOT NULL,
     kind VARCHAR NOT NULL,
     value SMALLINT,
     comment VARCHAR,
     channel VARCHAR NOT NULL,
     cast_at TIMESTAMPTZ NOT NULL,
     accepted_at TIMESTAMPTZ NOT NULL,
     committed_at TIMESTAMPTZ NOT NULL,
     standing BOOLEAN NOT NULL,
     rater_auth VARCHAR NOT NULL,
     PRIMARY KEY (run_id, idempotency_key))`,
  // One row per judgement event (compare lifecycles, and A/B answers on two-candidate thumbs ones), appended
  // like votes and with the same keys; seq shares the votes' space, so a lifecycle's events have distinct seqs.
  `CREATE TABLE IF NOT EXISTS judgements (
     run_id VARCHAR NOT NULL,
     lifecycle_id VARCHAR NOT NULL,
     idempotency_key VARCHAR NOT NULL,
     seq INTEGER NOT NULL,
     rater VARCHAR NOT NULL,
     rater_auth VARCHAR NOT NULL,
     channel VARCHAR NOT NULL,
     left_candidate VARCHAR NOT NULL,
     right_candidate VARCHAR NOT NULL,
     choice VARCHAR NOT NULL,
     winner_candidate VARCHAR,
     models_hidden BOOLEAN NOT NULL,
     comment VARCHAR,
     cast_at TIMESTAMPTZ NOT NULL,
     accepted_at TIMESTAMPTZ NOT NULL,
     committed_at TIMESTAMPTZ NOT NULL,
     standing BOOLEAN NOT NULL,
     PRIMARY KEY (run_id, idempotency_key))`,
  // The shape analysts know from the Oxen tutorials, one row per counted vote.
  `CREATE OR REPLACE VIEW feedback AS
     SELECT l.prompt,
            'artifacts/' || c.path AS path,
            v.value AS rating,
            v.rater,
            coalesce(l.model_version, c.model_version) AS model_version,
            c.model,
            v.comment,
            v.channel,
            v.cast_at,
            v.lifecycle_id,
            v.candidate_id,
            v.rater_auth
       FROM votes v
       JOIN candidates c ON c.run_id = v.run_id AND c.candidate_id = v.candidate_id
       JOIN lifecycles l ON l.run_id = v.run_id
      WHERE v.standing AND v.kind = 'vote'`,
  ...DERIVED_SCHEMA,
  ...CAMPAIGN_SCHEMA,
];

/**
 * The steps that bring an older ledger to each schema version, by the version they reach; schema 2's
 * derivation needs the tables and runs after SCHEMA (Ledger.openWriter). Each step looks at the
 * ledger's columns rather than its recorded version and does only what is left, so a step is safe to
 * repeat and one cut short by a crash is finished by the next open (the version is written last).
 */
const UPGRADES: Readonly<Record<number, (c: DuckDBConnection) => Promise<void>>> = {
  3: addRaterAuth,
  4: allowOpenLifecycles,
  5: addProvenance,
  6: addChatTables,
  7: addCompareColumns,
  8: addCampaignTables,
  9: addExcludedAnswers,
};

/** Schema 8 on an older ledger: the campaign tables, which no older ledger has (each statement is safe to repeat). */
async function addCampaignTables(c: DuckDBConnection): Promise<void> {
  for (const statement of CAMPAIGN_SCHEMA) await c.run(statement);
}

/**
 * Schema 9 on an older ledger: `campaign_items.excluded_answers` appended (where a new ledger has it
 * too), 0 for the rows there are (their answers were counted whoever gave them). A ledger without the
 * table got it from schema 8's step, column and all. Each statement is safe to repeat.
 */
async function addExcludedAnswers(c: DuckDBConnection): Promise<void> {
  const [columns] = (await c.runAndReadAll(
    `SELECT count(*)::INTEGER, count(*) FILTER (WHERE column_name = 'excluded_answers' AND NOT is_nullable)::INTEGER
       FROM duckdb_columns() WHERE database_name = current_database() AND table_name = 'campaign_items'`,
  )).getRows();
  if (Number(columns?.[0]) === 0 || Number(columns?.[1]) > 0) return;
  await c.run(`ALTER TABLE campaign_items ADD COLUMN IF NOT EXISTS excluded_answers INTEGER DEFAULT 0`);
  await c.run(`UPDATE campaign_items SET excluded_answers = 0 WHERE excluded_answers IS NULL`);
  await c.run(`ALTER TABLE campaign_items ALTER COLUMN excluded_answers SET NOT NULL`);
}

/** Runs every step of UPGRADES in version order, before SCHEMA creates what is missing (its view needs `rater_auth`). */
export async function upgradeSchema(c: DuckDBConnection): Promise<void> {
  for (const version of Object.keys(UPGRADES).map(Number).sort((a, b) => a - b)) await UPGRADES[version]!(c);
}

/**
 * Schema 3 on an older ledger: `votes.rater_auth` appended (where a new ledger has it too) and filled
 * from each row's channel. Three statements, each its own transaction (DuckDB refuses the NOT NULL
 * constraint in the transaction that filled the column); each is safe to repeat.
 */
async function addRaterAuth(c: DuckDBConnection): Promise<void> {
  const [columns] = (await c.runAndReadAll(
    `SELECT count(*)::INTEGER, count(*) FILTER (WHERE column_name = 'rater_auth' AND NOT is_nullable)::INTEGER
       FROM duckdb_columns() WHERE database_name = current_database() AND table_name = 'votes'`,
  )).getRows();
  // Votes without a complete rater_auth column (a ledger before schema 3, or an upgrade cut short); none at all: a new ledger.
  if (Number(columns?.[0]) === 0 || Number(columns?.[1]) > 0) return;
  await c.run(`ALTER TABLE votes ADD COLUMN IF NOT EXISTS rater_auth VARCHAR`);
  await c.run(`UPDATE votes SET rater_auth = ${RATER_AUTH_FROM_CHANNEL} WHERE rater_auth IS NULL`);
  await c.run(`ALTER TABLE votes ALTER COLUMN rater_auth SET NOT NULL`);
}

/** The close columns schema 4 lets be NULL. */
const CLOSE_COLUMNS = ['closed_at', 'close_reason'] as const;

/** Schema 4 on an older ledger: the close columns lose NOT NULL, one statement (and transaction) each. */
async function allowOpenLifecycles(c: DuckDBConnection): Promise<void> {
  const notNull = new Set((await c.runAndReadAll(
    `SELECT column_name FROM duckdb_columns()
      WHERE database_name = current_database() AND table_name = 'lifecycles' AND NOT is_nullable AND column_name IN ($1, $2)`,
    [...CLOSE_COLUMNS],
  )).getRows().map(([name]) => String(name)));
  for (const column of CLOSE_COLUMNS) {
    if (notNull.has(column)) await c.run(`ALTER TABLE lifecycles ALTER COLUMN ${column} DROP NOT NULL`);
  }
}

/**
 * Schema 5 on an older ledger: `lifecycles.started_by` and `started_from` appended (where a new ledger
 * has them too), `started_from` filled with `unknown`. Like schema 3, each statement is its own
 * transaction and safe to repeat, so an upgrade cut short is finished by the next open.
 */
async function addProvenance(c: DuckDBConnection): Promise<void> {
  const [columns] = (await c.runAndReadAll(
    `SELECT count(*)::INTEGER, count(*) FILTER (WHERE column_name = 'started_from' AND NOT is_nullable)::INTEGER
       FROM duckdb_columns() WHERE database_name = current_database() AND table_name = 'lifecycles'`,
  )).getRows();
  // Lifecycles without a complete started_from column (a ledger before schema 5, or an upgrade cut short); none at all: a new ledger.
  if (Number(columns?.[0]) === 0 || Number(columns?.[1]) > 0) return;
  await c.run(`ALTER TABLE lifecycles ADD COLUMN IF NOT EXISTS started_by VARCHAR`);
  await c.run(`ALTER TABLE lifecycles ADD COLUMN IF NOT EXISTS started_from VARCHAR`);
  await c.run(`UPDATE lifecycles SET started_from = $1 WHERE started_from IS NULL`, [UNKNOWN_START]);
  await c.run(`ALTER TABLE lifecycles ALTER COLUMN started_from SET NOT NULL`);
}

/**
 * Schema 6: the chat tables and views (store/chat-schema.ts), on a new ledger and an older one alike.
 * New tables only, nothing of the lifecycles' changes; every statement is IF NOT EXISTS or OR REPLACE,
 * so the step is safe to repeat.
 */
async function addChatTables(c: DuckDBConnection): Promise<void> {
  for (const statement of CHAT_SCHEMA) await c.run(statement);
}

/**
 * Schema 7 on an older ledger: the lifecycles columns of compare lifecycles, appended where a new
 * ledger has them. `task` is added with its default (older rows are thumbs lifecycles) and made NOT NULL
 * in a statement of its own; each statement is safe to repeat, so an upgrade cut short is finished.
 */
async function addCompareColumns(c: DuckDBConnection): Promise<void> {
  const columns = new Map((await c.runAndReadAll(
    `SELECT column_name, is_nullable FROM duckdb_columns() WHERE database_name = current_database() AND table_name = 'lifecycles'`,
  )).getRows().map(([name, nullable]) => [String(name), Boolean(nullable)]));
  // No lifecycles table: a new ledger, which SCHEMA creates whole.
  if (columns.size === 0) return;
  if (!columns.has('task')) await c.run(`ALTER TABLE lifecycles ADD COLUMN task VARCHAR DEFAULT 'thumbs'`);
  if (columns.get('task') !== false) {
    await c.run(`UPDATE lifecycles SET task = 'thumbs' WHERE task IS NULL`);
    await c.run(`ALTER TABLE lifecycles ALTER COLUMN task SET NOT NULL`);
  }
  for (const [column, type] of [['question', 'VARCHAR'], ['allow_both_bad', 'BOOLEAN'], ['reveal_models', 'BOOLEAN']] as const) {
    if (!columns.has(column)) await c.run(`ALTER TABLE lifecycles ADD COLUMN ${column} ${type}`);
  }
}
