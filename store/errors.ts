/** Why the ledger could not do what was asked: it is held elsewhere, a query was refused or stopped, or the file is unusable. */

export type LedgerErrorCode =
  /** Another process holds the file read-write (the ledger worker): query through it. */
  | 'ledger_locked'
  /** The query is not a read (or reaches outside the ledger's tables): refused before or while it runs. */
  | 'ledger_query_refused'
  /** The query ran past its time limit and was interrupted. */
  | 'ledger_query_timeout'
  /** The result has more rows than the read path returns. */
  | 'ledger_query_too_large'
  /** The query needed more memory than a read may use. */
  | 'ledger_query_memory'
  /** Reads are queued behind others, or one was stopped so a commit could run: try again. */
  | 'ledger_busy'
  | 'ledger_unavailable';

export class LedgerError extends Error {
  constructor(readonly code: LedgerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LedgerError';
  }
}

/** A failure to open the ledger file: held by the writer (`ledger_locked`), or unusable. */
export function lockedOr(err: unknown, path: string): LedgerError {
  const message = err instanceof Error ? err.message : String(err);
  if (/lock/i.test(message)) {
    return new LedgerError('ledger_locked', `the ledger ${path} is held by another process (the ledger worker); query through it instead`, { cause: err });
  }
  return new LedgerError('ledger_unavailable', `cannot open the ledger ${path}: ${message}`, { cause: err });
}
