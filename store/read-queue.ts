/**
 * The order of the ledger's analyst reads: one at a time, so that reads never add up to more than
 * one read's memory and threads beside the commits; a few may wait, more are refused as busy rather
 * than queued without end.
 */
import { ErrorCode } from '../core/errors';
import { LedgerError } from './errors';

/** Reads waiting behind the running one. */
const MAX_WAITING = 8;

/** Said when a live-ledger result is too large: bulk exports come from releases, in the analyst's own process. */
export const LEDGER_ROW_LIMIT_HINT =
  '; add a LIMIT or aggregate, or query a release for bulk exports: prefline query --release latest --format csv "…" (up to 1,000,000 rows)';

export class ReadQueue {
  private tail: Promise<unknown> = Promise.resolve();
  /** Reads running or waiting. */
  private pending = 0;

  run<T>(read: () => Promise<T>): Promise<T> {
    if (this.pending > MAX_WAITING) {
      return Promise.reject(new LedgerError(ErrorCode.LedgerBusy, `${this.pending - 1} queries are already waiting for the ledger; try again shortly`));
    }
    this.pending += 1;
    const turn = this.tail.then(read).finally(() => {
      this.pending -= 1;
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }
}
