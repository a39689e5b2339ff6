/** The one way Prefline runs a DuckDB transaction (the ledger's commits, a release's snapshot and statistics). */
import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Runs `fn` in a transaction on `connection`: committed when `fn` resolves, rolled back when `fn` or
 * the COMMIT fails. The first error is rethrown, never one of the rollback's.
 */
export async function withTransaction<T>(connection: DuckDBConnection, fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  await connection.run('BEGIN TRANSACTION');
  try {
    const result = await fn(connection);
    await connection.run('COMMIT');
    return result;
  } catch (err) {
    // Not COMMIT: after a failed statement it fails too, and hides the error that matters.
    await connection.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
