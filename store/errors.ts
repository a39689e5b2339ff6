/** Why the ledger could not do what was asked: it is held elsewhere, a query was refused or stopped, or the file is unusable. */
import { ErrorCode, PreflineError } from '../core/errors';

export type LedgerErrorCode = (typeof ErrorCode)[
  | 'LedgerLocked'
  | 'LedgerQueryRefused'
  | 'LedgerQueryTimeout'
  | 'LedgerQueryTooLarge'
  | 'LedgerQueryMemory'
  | 'LedgerBusy'
  | 'LedgerUnavailable'
];

/**
 * The ledger cannot be opened or used as asked: locked by the writer, a query refused or stopped at
 * its limits, reads busy, an unavailable file. Here rather than in Ledger.ts so that the read path
 * (read-query.ts, read-process.ts, read-queue.ts), which Ledger.ts imports, can throw it.
 */
export class LedgerError extends PreflineError {
  declare readonly code: LedgerErrorCode;
  constructor(code: LedgerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** A failure to open the ledger file: held by the writer (`prefline_ledger_locked`), or unusable. */
export function lockedOr(err: unknown, path: string): LedgerError {
  const message = err instanceof Error ? err.message : String(err);
  if (/lock/i.test(message)) {
    return new LedgerError(ErrorCode.LedgerLocked, `the ledger ${path} is held by another process (the ledger worker); query through it instead`, { cause: err });
  }
  return new LedgerError(ErrorCode.LedgerUnavailable, `cannot open the ledger ${path}: ${message}`, { cause: err });
}
