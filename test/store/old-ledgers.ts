/**
 * Ledgers as older Prefline versions wrote them, for the upgrade tests: each schema version's DDL as
 * it was (copied, not derived from today's store/ledger-schema.ts, so a change there cannot change
 * what "schema 2" means here), and one committed lifecycle in rows of that schema.
 *
 * 1: lifecycles, candidates, votes and the feedback view; 2: + the derived tables;
 * 3: + votes.rater_auth (and in the view). All three have NOT NULL close columns;
 * 4: the close columns may be NULL (increments while voting). None has the provenance columns (schema 5).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type OldLedgerVersion = 1 | 2 | 3 | 4;

const lifecycles = (closeNotNull: boolean) => `CREATE TABLE lifecycles (
  run_id VARCHAR PRIMARY KEY, lifecycle_id VARCHAR NOT NULL, prompt VARCHAR NOT NULL, models VARCHAR[] NOT NULL,
  candidates_per_model INTEGER NOT NULL, channel VARCHAR NOT NULL, campaign VARCHAR, model_version VARCHAR,
  quorum_kind VARCHAR NOT NULL, quorum_votes INTEGER NOT NULL, params JSON, started_at TIMESTAMPTZ NOT NULL,
  deadline_at TIMESTAMPTZ NOT NULL, closed_at TIMESTAMPTZ${closeNotNull ? ' NOT NULL' : ''}, close_reason VARCHAR${closeNotNull ? ' NOT NULL' : ''},
  votes_accepted INTEGER NOT NULL, committed_at TIMESTAMPTZ NOT NULL)`;
const LIFECYCLES = lifecycles(true);

const CANDIDATES = `CREATE TABLE candidates (
  run_id VARCHAR NOT NULL, lifecycle_id VARCHAR NOT NULL, candidate_id VARCHAR NOT NULL, label VARCHAR NOT NULL,
  model VARCHAR NOT NULL, backend VARCHAR NOT NULL, model_version VARCHAR, kind VARCHAR NOT NULL,
  artifact_sha256 VARCHAR NOT NULL, mime VARCHAR NOT NULL, size_bytes BIGINT NOT NULL, path VARCHAR NOT NULL,
  text VARCHAR, placeholder BOOLEAN NOT NULL, seed BIGINT NOT NULL, provenance JSON NOT NULL,
  committed_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (run_id, candidate_id))`;

const VOTE_COLUMNS = `run_id VARCHAR NOT NULL, lifecycle_id VARCHAR NOT NULL, idempotency_key VARCHAR NOT NULL, seq INTEGER NOT NULL,
  candidate_id VARCHAR NOT NULL, rater VARCHAR NOT NULL, kind VARCHAR NOT NULL, value SMALLINT, comment VARCHAR,
  channel VARCHAR NOT NULL, cast_at TIMESTAMPTZ NOT NULL, accepted_at TIMESTAMPTZ NOT NULL,
  committed_at TIMESTAMPTZ NOT NULL, standing BOOLEAN NOT NULL`;

const feedback = (raterAuth: boolean) => `CREATE VIEW feedback AS
  SELECT l.prompt, 'artifacts/' || c.path AS path, v.value AS rating, v.rater,
         coalesce(l.model_version, c.model_version) AS model_version, c.model, v.comment, v.channel, v.cast_at,
         v.lifecycle_id, v.candidate_id${raterAuth ? ', v.rater_auth' : ''}
    FROM votes v
    JOIN candidates c ON c.run_id = v.run_id AND c.candidate_id = v.candidate_id
    JOIN lifecycles l ON l.run_id = v.run_id
   WHERE v.standing AND v.kind = 'vote'`;

const DERIVED = [
  `CREATE TABLE lifecycle_completions (run_id VARCHAR PRIMARY KEY, completed_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE candidate_scores (
     run_id VARCHAR NOT NULL, lifecycle_id VARCHAR NOT NULL, candidate_id VARCHAR NOT NULL, model VARCHAR NOT NULL,
     up INTEGER NOT NULL, down INTEGER NOT NULL, score INTEGER NOT NULL, first_of_model BOOLEAN NOT NULL,
     completed_at TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE preference_pairs (
     prompt VARCHAR NOT NULL, chosen_path VARCHAR NOT NULL, rejected_path VARCHAR NOT NULL, chosen_text VARCHAR,
     rejected_text VARCHAR, chosen_model VARCHAR NOT NULL, rejected_model VARCHAR NOT NULL, margin INTEGER NOT NULL,
     chosen_up INTEGER NOT NULL, chosen_down INTEGER NOT NULL, rejected_up INTEGER NOT NULL, rejected_down INTEGER NOT NULL,
     lifecycle_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, chosen_candidate_id VARCHAR NOT NULL,
     rejected_candidate_id VARCHAR NOT NULL, tie BOOLEAN NOT NULL, completed_at TIMESTAMPTZ NOT NULL)`,
];

const SCHEMAS: Record<OldLedgerVersion, string[]> = {
  1: [LIFECYCLES, CANDIDATES, `CREATE TABLE votes (${VOTE_COLUMNS}, PRIMARY KEY (run_id, idempotency_key))`, feedback(false)],
  2: [LIFECYCLES, CANDIDATES, `CREATE TABLE votes (${VOTE_COLUMNS}, PRIMARY KEY (run_id, idempotency_key))`, feedback(false), ...DERIVED],
  3: [LIFECYCLES, CANDIDATES, `CREATE TABLE votes (${VOTE_COLUMNS}, rater_auth VARCHAR NOT NULL, PRIMARY KEY (run_id, idempotency_key))`, feedback(true), ...DERIVED],
  4: [lifecycles(false), CANDIDATES, `CREATE TABLE votes (${VOTE_COLUMNS}, rater_auth VARCHAR NOT NULL, PRIMARY KEY (run_id, idempotency_key))`, feedback(true), ...DERIVED],
};

/** The artifact paths of the old ledger's candidates. */
export const OLD_PATHS = { c1: `sha256/aa/${'a'.repeat(64)}.txt`, c2: `sha256/bb/${'b'.repeat(64)}.txt` } as const;

/**
 * Writes a ledger of schema `version` at `path`: one lifecycle (run-old, closed by quorum) with two
 * candidates and three votes (a changed web vote, the web vote that replaced it, a Slack vote). Its
 * derived rows (schemas 2 to 4) are what the commit that completed it derived: scores of 1 and 1, a tie.
 */
export async function writeOldLedger(path: string, version: OldLedgerVersion): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const instance = await DuckDBInstance.create(path);
  const c = await instance.connect();
  try {
    await c.run(`CREATE TABLE ledger_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`);
    for (const statement of SCHEMAS[version]) await c.run(statement);
    await c.run(`INSERT INTO ledger_meta VALUES ('schema_version', '${version}')`);
    const at = `'2026-02-01T10:30:00Z'::TIMESTAMPTZ`;
    await c.run(`INSERT INTO lifecycles VALUES ('run-old', 'lc-old', 'an old prompt', ['demo:shapes', 'demo:text'], 1, 'web', NULL, NULL,
      'total', 3, '{}', '2026-02-01T10:00:00Z', '2026-02-01T11:00:00Z', '2026-02-01T10:30:00Z', 'quorum', 3, ${at})`);
    for (const [id, model, sha] of [['c1', 'demo:shapes', 'a'], ['c2', 'demo:text', 'b']] as const) {
      await c.run(`INSERT INTO candidates VALUES ('run-old', 'lc-old', '${id}', '${id.toUpperCase()}', '${model}', 'demo', 'demo-1', 'text',
        '${sha.repeat(64)}', 'text/plain', 10, '${OLD_PATHS[id]}', 'text', true, 7, '{}', ${at})`);
    }
    const votes: Array<[string, number, string, string, number, string, boolean]> = [
      ['web:1', 1, 'c1', 'r_00000000000000a1', -1, 'web', false],
      ['web:2', 2, 'c1', 'r_00000000000000a1', 1, 'web', true],
      ['slack:3', 3, 'c2', 'r_00000000000000a2', 1, 'slack', true],
    ];
    for (const [key, seq, candidateId, rater, value, channel, standing] of votes) {
      const raterAuth = version >= 3 ? `, '${channel === 'web' ? 'open' : channel}'` : '';
      await c.run(`INSERT INTO votes VALUES ('run-old', 'lc-old', '${key}', ${seq}, '${candidateId}', '${rater}', 'vote', ${value}, NULL, '${channel}',
        '2026-02-01T10:1${seq}:00Z', '2026-02-01T10:1${seq}:01Z', ${at}, ${standing}${raterAuth})`);
    }
    if (version >= 2) {
      await c.run(`INSERT INTO lifecycle_completions VALUES ('run-old', ${at})`);
      await c.run(`INSERT INTO candidate_scores VALUES ('run-old', 'lc-old', 'c1', 'demo:shapes', 1, 0, 1, true, ${at}),
                                                     ('run-old', 'lc-old', 'c2', 'demo:text', 1, 0, 1, true, ${at})`);
      await c.run(`INSERT INTO preference_pairs VALUES ('an old prompt', 'artifacts/${OLD_PATHS.c1}', 'artifacts/${OLD_PATHS.c2}', 'text', 'text',
        'demo:shapes', 'demo:text', 0, 1, 0, 1, 0, 'lc-old', 'run-old', 'c1', 'c2', true, ${at})`);
    }
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}
