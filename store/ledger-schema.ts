/**
 * The ledger's tables and view, and the upgrades of older ledgers that Ledger.openWriter runs before
 * creating what is missing. Rows are written by Ledger.commit (store/Ledger.ts); the derived tables
 * are described in store/ledger-derived.ts.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LifecyclePlan, VoteEvent } from '../workflows/types';
import { DERIVED_SCHEMA } from './ledger-derived';

/**
 * 2: derived tables (store/ledger-derived.ts), filled for older ledgers when the writer opens them.
 * 3: `votes.rater_auth`, how the rater was authenticated (see `raterAuthOf`); older rows get it from
 *    their channel when the writer opens the ledger.
 * 4: `lifecycles.started_by` and `started_from`, the lifecycle's provenance (see `startedFromOf`);
 *    older rows get `unknown` when the writer opens the ledger.
 */
export const LEDGER_SCHEMA_VERSION = 4;

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
     closed_at TIMESTAMPTZ NOT NULL,
     close_reason VARCHAR NOT NULL,
     votes_accepted INTEGER NOT NULL,
     committed_at TIMESTAMPTZ NOT NULL,
     -- Provenance (schema 4): the starter's pseudonym, if known, and where the lifecycle was started.
     started_by VARCHAR,
     started_from VARCHAR NOT NULL)`,
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
];

/** Brings the votes table of an older ledger to schema 3 (`rater_auth`), if it needs it. */
export async function upgradeVotes(c: DuckDBConnection): Promise<void> {
  const [columns] = (await c.runAndReadAll(
    `SELECT count(*)::INTEGER, count(*) FILTER (WHERE column_name = 'rater_auth' AND NOT is_nullable)::INTEGER
       FROM duckdb_columns() WHERE database_name = current_database() AND table_name = 'votes'`,
  )).getRows();
  // Votes without a complete rater_auth column (a ledger before schema 3, or an upgrade cut short).
  if (Number(columns?.[0]) > 0 && Number(columns?.[1]) === 0) await addRaterAuth(c);
}

/** Brings the lifecycles table of an older ledger to schema 4 (provenance), if it needs it. */
export async function upgradeLifecycles(c: DuckDBConnection): Promise<void> {
  const [columns] = (await c.runAndReadAll(
    `SELECT count(*)::INTEGER, count(*) FILTER (WHERE column_name = 'started_from' AND NOT is_nullable)::INTEGER
       FROM duckdb_columns() WHERE database_name = current_database() AND table_name = 'lifecycles'`,
  )).getRows();
  if (Number(columns?.[0]) > 0 && Number(columns?.[1]) === 0) await addProvenance(c);
}

/**
 * Schema 4 on an older ledger: `lifecycles.started_by` and `started_from` appended (where a new ledger
 * has them too), `started_from` filled with `unknown`. Like schema 3, each statement is its own
 * transaction and safe to repeat, so an upgrade cut short is finished by the next open.
 */
async function addProvenance(c: DuckDBConnection): Promise<void> {
  await c.run(`ALTER TABLE lifecycles ADD COLUMN IF NOT EXISTS started_by VARCHAR`);
  await c.run(`ALTER TABLE lifecycles ADD COLUMN IF NOT EXISTS started_from VARCHAR`);
  await c.run(`UPDATE lifecycles SET started_from = $1 WHERE started_from IS NULL`, [UNKNOWN_START]);
  await c.run(`ALTER TABLE lifecycles ALTER COLUMN started_from SET NOT NULL`);
}

/**
 * Schema 3 on an older ledger: `votes.rater_auth` appended (where a new ledger has it too) and filled
 * from each row's channel. Three statements, each its own transaction (DuckDB refuses the NOT NULL
 * constraint in the transaction that filled the column); each step is safe to repeat, so a crash
 * between them is finished by the next open (the schema version is written last).
 */
async function addRaterAuth(c: DuckDBConnection): Promise<void> {
  await c.run(`ALTER TABLE votes ADD COLUMN IF NOT EXISTS rater_auth VARCHAR`);
  await c.run(`UPDATE votes SET rater_auth = ${RATER_AUTH_FROM_CHANNEL} WHERE rater_auth IS NULL`);
  await c.run(`ALTER TABLE votes ALTER COLUMN rater_auth SET NOT NULL`);
}
