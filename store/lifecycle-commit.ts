/**
 * One lifecycle commit's rows, inside the transaction Ledger.commit opens: the lifecycle row (upserted),
 * new candidates, vote and judgement events, the standing flags later events cleared (`unstand`), and the
 * derived tables of a lifecycle the commit completed (store/ledger-derived.ts). Rows are appended in the
 * batch's order with plain INSERTs, so the ledger's row order is commit order (see Ledger.commit).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Quorum } from '../workflows/types';
import { DERIVED_TABLES, deriveStatements } from './ledger-derived';
import { candidateRows, insertRows, judgementRows, voteRows } from './ledger-rows';
import { startedFromOf } from './ledger-schema';
import type { CommitRequest, CommitResult } from './ledger-types';

/** Bound values per UPDATE of `unstand` (one statement per this many seqs). */
const UNSTAND_PER_STATEMENT = 500;

export interface CommitTiming {
  /** This commit's time, never earlier than the ledger's last commit. */
  committedAt: string;
  commitMs: number;
  /** A retry after a duplicate key: leave out the rows the ledger holds. */
  skipExisting: boolean;
}

export async function commitLifecycleRows(c: DuckDBConnection, request: CommitRequest, timing: CommitTiming): Promise<CommitResult> {
  const { lifecycle, candidates } = request;
  const { committedAt, commitMs, skipExisting } = timing;
  let { votes } = request;
  const { plan } = lifecycle;
  // allow_both_bad/reveal_models hold the effective choice (the plan leaves defaults out); NULL only on older rows.
  // Columns by name: later schema versions append columns, and a row need not know them all.
  await c.run(
    `INSERT INTO lifecycles (run_id, lifecycle_id, prompt, models, candidates_per_model, channel, campaign, model_version,
       quorum_kind, quorum_votes, params, started_at, deadline_at, closed_at, close_reason, votes_accepted, committed_at,
       started_by, started_from, task, question, allow_both_bad, reveal_models)
     VALUES ($1, $2, $3, $4::VARCHAR[], $5, $6, $7, $8, $9, $10, $11::JSON,
       $12::TIMESTAMPTZ, $13::TIMESTAMPTZ, $14::TIMESTAMPTZ, $15, $16, $17::TIMESTAMPTZ, $18, $19, $20, $21, $22, $23)
     ON CONFLICT (run_id) DO UPDATE SET closed_at = excluded.closed_at, close_reason = excluded.close_reason,
       votes_accepted = excluded.votes_accepted`,
    [
      lifecycle.runId, lifecycle.lifecycleId, plan.prompt, JSON.stringify(plan.models), plan.candidatesPerModel,
      plan.channelLabel, plan.campaign ?? null, plan.modelVersion ?? null, plan.quorum.kind, quorumCount(plan.quorum),
      JSON.stringify(plan.params), lifecycle.startedAt, lifecycle.deadlineAt, lifecycle.closedAt ?? null, lifecycle.closeReason ?? null,
      lifecycle.votesAccepted, committedAt, plan.startedBy ?? null, startedFromOf(plan),
      plan.task ?? 'thumbs', plan.question ?? null, plan.allowBothBad !== false, plan.revealModels === true,
    ],
  );
  // The lifecycle's first commit time bounds its rows from below. (A separate query: RETURNING on
  // this upsert measured slower than the upsert and the query together.)
  const stored = await c.runAndReadAll(`SELECT committed_at::VARCHAR, epoch_ms(committed_at)::DOUBLE FROM lifecycles WHERE run_id = $1`, [lifecycle.runId]);
  const [firstCommit, firstCommitMs] = (stored.getRows()[0] ?? []) as [string, number];
  let newCandidates = candidates;
  if (skipExisting && candidates.length > 0) {
    const held = await c.runAndReadAll(`SELECT candidate_id FROM candidates WHERE run_id = $1`, [lifecycle.runId]);
    const ids = new Set(held.getRows().map((r) => String(r[0])));
    newCandidates = candidates.filter((cand) => !ids.has(cand.id));
  }
  if (newCandidates.length > 0) {
    // One plain multi-row INSERT, like the votes below: rows stay in the request's order, and a
    // candidate the ledger already holds fails the statement (the retry skips it).
    await insertRows(c, 'candidates', candidateRows(lifecycle, newCandidates, committedAt));
  }
  let judgements = request.judgements ?? [];
  if (skipExisting) {
    votes = await withoutHeld(c, 'votes', lifecycle.runId, votes);
    judgements = await withoutHeld(c, 'judgements', lifecycle.runId, judgements);
  }
  const inserted = await insertRows(c, 'votes', voteRows(lifecycle, votes, committedAt));
  const judged = await insertRows(c, 'judgements', judgementRows(lifecycle, judgements, committedAt));
  if (request.unstand !== undefined && request.unstand.length > 0) await unstand(c, 'votes', lifecycle.runId, firstCommit, request.unstand);
  if (request.unstandJudgements !== undefined && request.unstandJudgements.length > 0) {
    await unstand(c, 'judgements', lifecycle.runId, firstCommit, request.unstandJudgements);
  }
  // Commit times only grow, so no row of this lifecycle precedes its first commit.
  const [voteCount, judgementCount] = await rowCounts(c, lifecycle.runId, firstCommit);
  // Still voting (an increment): never complete, whatever the count. Complete: every accepted event, vote or judgement, is here.
  const complete = lifecycle.closeReason !== undefined && voteCount + judgementCount === lifecycle.votesAccepted;
  await updateDerived(c, { runId: lifecycle.runId, firstCommit, later: firstCommitMs !== commitMs, committedAt, inserted: inserted + judged, complete });
  // Judgement counts only where there are judgements: a thumbs lifecycle's result is what it was before them.
  return {
    voteRowsInserted: inserted,
    voteRowsForLifecycle: voteCount,
    ...(judgementCount > 0 ? { judgementRowsInserted: judged, judgementRowsForLifecycle: judgementCount } : {}),
  };
}

/** The lifecycle's vote and judgement rows, counted from its first commit on. */
async function rowCounts(c: DuckDBConnection, runId: string, firstCommit: string): Promise<[number, number]> {
  const reader = await c.runAndReadAll(
    `SELECT (SELECT count(*) FROM votes WHERE run_id = $1 AND committed_at >= $2::TIMESTAMPTZ)::INTEGER,
            (SELECT count(*) FROM judgements WHERE run_id = $1 AND committed_at >= $2::TIMESTAMPTZ)::INTEGER`,
    [runId, firstCommit],
  );
  const [votes, judgements] = reader.getRows()[0] ?? [0, 0];
  return [Number(votes), Number(judgements)];
}


/**
 * Clears the standing flags of committed votes (or judgements) the rater has since changed or retracted. An
 * in-place UPDATE of a column outside the key: rows keep their place, so ledger order stays commit order.
 */
async function unstand(c: DuckDBConnection, table: 'votes' | 'judgements', runId: string, firstCommit: string, seqs: readonly number[]): Promise<void> {
  const bad = seqs.find((seq) => !Number.isSafeInteger(seq) || seq < 1);
  if (bad !== undefined) throw new Error(`invalid commit request: unstand holds ${bad}, which is not a ${table === 'votes' ? 'vote' : 'judgement'}'s seq`);
  for (let i = 0; i < seqs.length; i += UNSTAND_PER_STATEMENT) {
    const chunk = seqs.slice(i, i + UNSTAND_PER_STATEMENT);
    await c.run(
      `UPDATE ${table} SET standing = false
        WHERE run_id = $1 AND committed_at >= $2::TIMESTAMPTZ AND standing AND seq IN (${chunk.map((_, k) => `$${k + 3}`).join(', ')})`,
      [runId, firstCommit, ...chunk],
    );
  }
}

/**
 * Keeps the derived tables (store/ledger-derived.ts) in step with one commit, inside its transaction:
 * derives a lifecycle the commit completed, once; redoes or drops the rows of one that was complete
 * already and now has new votes or a new total (its workflow was reset and commits again).
 */
async function updateDerived(c: DuckDBConnection, commit: {
  runId: string;
  /** The lifecycle's first commit time, as DuckDB text. */
  firstCommit: string;
  /** This is not the lifecycle's first commit. */
  later: boolean;
  committedAt: string;
  inserted: number;
  /** The ledger now holds all the lifecycle's accepted votes. */
  complete: boolean;
}): Promise<void> {
  const { runId, firstCommit, committedAt, complete } = commit;
  let derive = false;
  if (commit.later && (commit.inserted > 0 || !complete)) {
    // The lifecycle's next batch, or, if it was complete already, a reset workflow committing again.
    const earlier = await c.runAndReadAll(`SELECT run_id FROM lifecycle_completions WHERE run_id = $1`, [runId]);
    if (earlier.currentRowCount > 0) {
      for (const table of DERIVED_TABLES) {
        await c.run(`DELETE FROM ${table} WHERE run_id = $1 AND completed_at >= $2::TIMESTAMPTZ`, [runId, firstCommit]);
      }
      // An UPDATE, not a delete and insert: DuckDB may refuse a key deleted and re-inserted in one transaction.
      if (complete) await c.run(`UPDATE lifecycle_completions SET completed_at = $2::TIMESTAMPTZ WHERE run_id = $1`, [runId, committedAt]);
      else await c.run(`DELETE FROM lifecycle_completions WHERE run_id = $1`, [runId]);
      derive = complete;
    }
  }
  if (complete && !derive) {
    // Complete with this batch: derive once, however often the commit is retried (the key guards it).
    const marked = await c.run(`INSERT INTO lifecycle_completions VALUES ($1, $2::TIMESTAMPTZ) ON CONFLICT DO NOTHING`, [runId, committedAt]);
    derive = Number(marked.rowsChanged) === 1;
  }
  if (!derive) return;
  for (const statement of deriveStatements(`(SELECT $2::VARCHAR AS run_id, $3::TIMESTAMPTZ AS completed_at)`)) {
    await c.run(statement, [firstCommit, runId, committedAt]);
  }
}

/** `events` without the ones `table` holds for the run already (and without repeats within the batch). */
async function withoutHeld<E extends { idempotencyKey: string }>(c: DuckDBConnection, table: 'votes' | 'judgements', runId: string, events: E[]): Promise<E[]> {
  if (events.length === 0) return events;
  const held = await c.runAndReadAll(`SELECT idempotency_key FROM ${table} WHERE run_id = $1`, [runId]);
  const seen = new Set(held.getRows().map((r) => String(r[0])));
  return events.filter((e) => {
    if (seen.has(e.idempotencyKey)) return false;
    seen.add(e.idempotencyKey);
    return true;
  });
}

/** `quorum_votes`: the votes a thumbs quorum counts, or a compare quorum's responses. */
function quorumCount(quorum: Quorum): number {
  return quorum.kind === 'responses' ? quorum.responses : quorum.votes;
}
