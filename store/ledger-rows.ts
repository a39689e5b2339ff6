/**
 * The rows one commit appends: candidates, votes and judgements as bound values in table order, and the
 * plain multi-row INSERT that appends them (see Ledger.commit for why not ON CONFLICT).
 */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { winnerOf } from '../workflows/judgement-tally';
import type { Candidate } from '../workflows/types';
import type { CommittedJudgement, CommittedVote, LifecycleRecord } from './ledger-types';
import { raterAuthOf } from './ledger-schema';

/** Rows of one table, with the cast of each column's bound value in table order ('' = none). */
export interface TableRows {
  casts: readonly string[];
  rows: DuckDBValue[][];
}

const CANDIDATE_CASTS = ['', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '::JSON', '::TIMESTAMPTZ'];
const VOTE_CASTS = ['', '', '', '', '', '', '', '::SMALLINT', '', '', '::TIMESTAMPTZ', '::TIMESTAMPTZ', '::TIMESTAMPTZ', '', ''];
const JUDGEMENT_CASTS = ['', '', '', '', '', '', '', '', '', '', '', '', '', '::TIMESTAMPTZ', '::TIMESTAMPTZ', '::TIMESTAMPTZ', ''];

/** Multi-row inserts with bound values: far fewer round trips than one statement per row. */
const ROWS_PER_STATEMENT = 100;

export function candidateRows(lifecycle: LifecycleRecord, candidates: readonly Candidate[], committedAt: string): TableRows {
  return {
    casts: CANDIDATE_CASTS,
    rows: candidates.map((cand) => [
      lifecycle.runId, lifecycle.lifecycleId, cand.id, cand.label, cand.model, cand.provenance.backend,
      cand.provenance.version ?? null, cand.kind, cand.artifact.sha256, cand.artifact.mime, cand.artifact.size,
      cand.artifact.path, cand.text ?? null, cand.placeholder, cand.provenance.seed, JSON.stringify(cand.provenance), committedAt,
    ]),
  };
}

export function voteRows(lifecycle: LifecycleRecord, votes: readonly CommittedVote[], committedAt: string): TableRows {
  return {
    casts: VOTE_CASTS,
    rows: votes.map((v) => [
      lifecycle.runId, lifecycle.lifecycleId, v.idempotencyKey, v.seq, v.candidateId, v.rater,
      v.value === 'retract' ? 'retract' : 'vote', v.value === 'up' ? 1 : v.value === 'down' ? -1 : null,
      v.comment ?? null, v.channel, v.castAt, v.acceptedAt, committedAt, v.standing, raterAuthOf(v),
    ]),
  };
}

/** Judgement rows in the `judgements` table's order; the winner is derived from the choice and the sides shown. */
export function judgementRows(lifecycle: LifecycleRecord, judgements: readonly CommittedJudgement[], committedAt: string): TableRows {
  return {
    casts: JUDGEMENT_CASTS,
    rows: judgements.map((j) => [
      lifecycle.runId, lifecycle.lifecycleId, j.idempotencyKey, j.seq, j.rater, raterAuthOf(j), j.channel,
      j.left, j.right, j.choice, winnerOf(j) ?? null, j.modelsHidden, j.comment ?? null,
      j.castAt, j.acceptedAt, committedAt, j.standing,
    ]),
  };
}

/** Appends `rows` to `table` in their order, ROWS_PER_STATEMENT at a time; returns the rows inserted. */
export async function insertRows(c: DuckDBConnection, table: 'candidates' | 'votes' | 'judgements', { casts, rows }: TableRows): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    const chunk = rows.slice(i, i + ROWS_PER_STATEMENT);
    const tuples = chunk.map((_, r) => `(${casts.map((cast, k) => `$${r * casts.length + k + 1}${cast}`).join(', ')})`);
    const result = await c.run(`INSERT INTO ${table} VALUES ${tuples.join(', ')}`, chunk.flat());
    inserted += Number(result.rowsChanged);
  }
  return inserted;
}
