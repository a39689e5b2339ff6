/**
 * `commitLifecycle`: writes a lifecycle's rows into the DuckDB ledger. Idempotent (see Ledger.commit),
 * so Temporal's at-least-once execution yields exactly-once rows. Registered only on the ledger
 * worker, the single DuckDB writer.
 */
import { heartbeat, log } from '@temporalio/activity';
import type { Ledger } from '../store/Ledger';
import { countCommit } from './metrics';
import type { CommitRequest, CommitResult, LedgerActivities } from './types';

export interface LedgerActivityDeps {
  ledger: Ledger;
  /** Fault-injection point for crash tests: runs after the rows are durable, before Temporal hears back. */
  afterCommit?: (request: CommitRequest, result: CommitResult) => void;
}

export function createLedgerActivities(deps: LedgerActivityDeps): LedgerActivities {
  return {
    async commitLifecycle(request) {
      heartbeat(); // tells the server this attempt is alive (see heartbeatTimeout in the workflow)
      const batch = request.candidates.length > 0 ? 'first' : 'next';
      let result: CommitResult;
      try {
        result = await deps.ledger.commit(request);
      } catch (err) {
        countCommit(batch, 'failed');
        throw err;
      }
      countCommit(batch, 'ok', { inserted: result.voteRowsInserted, alreadyHeld: request.votes.length - result.voteRowsInserted });
      log.info('ledger commit', {
        lifecycleId: request.lifecycle.lifecycleId,
        votesInBatch: request.votes.length,
        inserted: result.voteRowsInserted,
        total: result.voteRowsForLifecycle,
      });
      deps.afterCommit?.(request, result);
      return result;
    },
  };
}
