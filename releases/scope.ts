/**
 * The cutoff rule as SQL: which ledger rows a release holds. A release holds every lifecycle whose
 * commit finished at or before the cutoff; a lifecycle still committing batches then is pending
 * and left for the next release.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { rows } from './query';
import { quotedString } from './sql';

/** Which ledger rows a release holds, as SQL conditions (quoted literals: COPY cannot bind). */
export interface ReleaseScope {
  /** Rows of lifecycles, candidates and votes: committed ≤ cutoff and not of a pending lifecycle. */
  inRelease: string;
  /** Rows of the derived tables: lifecycles complete by the cutoff. */
  completeByCutoff: string;
  pendingLifecycles: number;
}

export async function releaseScope(c: DuckDBConnection, cutoff: string): Promise<ReleaseScope> {
  // Scores and pairs of the lifecycles complete by the cutoff, as the ledger derived them when each
  // one completed (store/ledger-derived.ts).
  const completeByCutoff = `completed_at <= ${quotedString(cutoff)}::TIMESTAMPTZ`;
  // Pending: lifecycles whose first commit batch is ≤ cutoff but whose last is not (or is still to
  // come). Usually none, and always few. Every completed lifecycle was committed first, so when the
  // counts agree none is pending and the anti-join can be skipped.
  const [totals] = await rows<{ committed: number; complete: number }>(
    c,
    `SELECT (SELECT count(*) FROM lifecycles WHERE committed_at <= $1::TIMESTAMPTZ)::INTEGER AS committed,
            (SELECT count(*) FROM lifecycle_completions WHERE completed_at <= $1::TIMESTAMPTZ)::INTEGER AS complete`,
    [cutoff],
  );
  const pendingRuns = totals?.committed === totals?.complete ? [] : (await rows<{ run_id: string }>(
    c,
    `SELECT l.run_id FROM lifecycles l
      WHERE l.committed_at <= $1::TIMESTAMPTZ
        AND NOT EXISTS (SELECT 1 FROM lifecycle_completions d WHERE d.run_id = l.run_id AND d.completed_at <= $1::TIMESTAMPTZ)
      ORDER BY l.run_id`,
    [cutoff],
  )).map((r) => quotedString(r.run_id));
  // Every row of a released lifecycle was committed ≤ cutoff (vote batches never precede their
  // lifecycle row), so "committed ≤ cutoff, not pending" selects exactly the released lifecycles'
  // rows — a cheap column filter.
  const inRelease = `committed_at <= ${quotedString(cutoff)}::TIMESTAMPTZ${pendingRuns.length ? ` AND run_id NOT IN (${pendingRuns.join(', ')})` : ''}`;
  return { inRelease, completeByCutoff, pendingLifecycles: pendingRuns.length };
}
