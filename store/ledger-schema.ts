/**
 * The ledger's tables and views, and the one way rows go into them (a multi-row INSERT of bound
 * values). Store/Ledger.ts creates them when the writer opens the file and commits through insertRows.
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { DERIVED_SCHEMA } from './ledger-derived';

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
     committed_at TIMESTAMPTZ NOT NULL)`,
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
            v.candidate_id
       FROM votes v
       JOIN candidates c ON c.run_id = v.run_id AND c.candidate_id = v.candidate_id
       JOIN lifecycles l ON l.run_id = v.run_id
      WHERE v.standing AND v.kind = 'vote'`,
  ...DERIVED_SCHEMA,
];

/** Casts of each column's bound value, in table order ('' = none). */
export const CANDIDATE_CASTS = ['', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '::JSON', '::TIMESTAMPTZ'];
export const VOTE_CASTS = ['', '', '', '', '', '', '', '::SMALLINT', '', '', '::TIMESTAMPTZ', '::TIMESTAMPTZ', '::TIMESTAMPTZ', ''];

/**
 * One plain multi-row INSERT with bound values, rows in the given order (see Ledger.commit for why
 * not ON CONFLICT); returns the rows inserted.
 */
export async function insertRows(c: DuckDBConnection, table: 'candidates' | 'votes', casts: readonly string[], rows: DuckDBValue[][]): Promise<number> {
  const values = rows.flat();
  const tuples = rows.map((_, r) => `(${casts.map((cast, k) => `$${r * casts.length + k + 1}${cast}`).join(', ')})`);
  const result = await c.run(`INSERT INTO ${table} VALUES ${tuples.join(', ')}`, values);
  return Number(result.rowsChanged);
}
