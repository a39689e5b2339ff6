/**
 * One analyst query that must not change anything: the ledger's read path (Ledger.query, hence
 * `prefline query` and the ledger worker's read endpoint) and `prefline query --release`.
 *
 * Three layers, each DuckDB's own, none a keyword filter (docs/security.md, "The ledger"):
 * - the kind of statement, from DuckDB's parser: exactly one statement, and SELECT-kind only
 *   (SELECT, WITH … SELECT, FROM …, VALUES, DESCRIBE, SUMMARIZE, SHOW, PRAGMA table_info). EXPLAIN is
 *   allowed only over a SELECT, because EXPLAIN ANALYZE executes the statement it explains;
 * - a READ ONLY transaction, in which DuckDB refuses any write to the database (nextval included);
 * - the instance itself is locked down (store/duckdb-lockdown.ts): no files outside its data, no
 *   network, no extensions, no SET.
 * Bounds here: rows returned, and time (the connection is interrupted). DuckDB cannot bound every
 * query from inside its process (see store/read-process.ts), so analysts' reads of the live ledger
 * run in a process of their own, which is killed past its time and memory.
 */
import { type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBValue, StatementType } from '@duckdb/node-api';
import { ErrorCode } from '../core/errors';
import { LedgerError } from './errors';

export interface QueryResult {
  columns: string[];
  /** DuckDB's type of each column (`VARCHAR`, `BIGINT`, …): BIGINT and DECIMAL values arrive as strings. */
  columnTypes?: string[];
  rows: Array<Record<string, unknown>>;
}

export interface ReadLimits {
  /** Rows a result may have: one more is read to tell, and the query is refused (`prefline_ledger_query_too_large`). */
  maxRows: number;
  /** Said after "the result has more than N rows": what to do instead. */
  rowLimitHint?: string;
  /** Milliseconds the query may run before it is interrupted (`prefline_ledger_query_timeout`); unset: no limit. */
  timeoutMs?: number;
  /** Bytes of memory the query's process may use (store/read-process.ts): DuckDB's limit, and the kill line above it. */
  memoryBytes?: number;
}

/** What the ledger's read path allows by default: a terminal's worth of rows, 30 s, 1 GiB. */
export const READ_LIMITS = { maxRows: 10_000, timeoutMs: 30_000, memoryBytes: 1024 ** 3 } as const satisfies ReadLimits;

const READ_KINDS = 'SELECT, WITH … SELECT, FROM …, VALUES, DESCRIBE, SUMMARIZE, SHOW, EXPLAIN [ANALYZE] SELECT';

function statementName(type: StatementType): string {
  return Object.entries(StatementType).find(([, value]) => value === type)?.[0] ?? `type ${String(type)}`;
}

function refused(message: string, cause?: unknown): LedgerError {
  return new LedgerError(ErrorCode.LedgerQueryRefused, message, cause !== undefined ? { cause } : undefined);
}

export function timeoutError(subject: string, timeoutMs: number, cause?: unknown): LedgerError {
  return new LedgerError(
    ErrorCode.LedgerQueryTimeout,
    `the query ran longer than ${timeoutMs / 1000} s, the limit of queries on ${subject}, and was stopped; narrow it or add a LIMIT`,
    cause !== undefined ? { cause } : undefined,
  );
}

export function memoryError(subject: string, memoryBytes: number | undefined, cause?: unknown): LedgerError {
  const limit = memoryBytes !== undefined ? `more than ${Math.round(memoryBytes / 1024 ** 2)} MiB of memory, the limit of queries on ${subject}` : 'more memory than there is';
  return new LedgerError(ErrorCode.LedgerQueryMemory, `the query needed ${limit}, and was stopped; aggregate or filter more, or add a LIMIT`, cause !== undefined ? { cause } : undefined);
}

/**
 * DuckDB refused a file, the network or an extension: while binding (COPY … TO, read_text, ATTACH are
 * refused before their kind is known) or while running.
 */
function refusedAccess(subject: string, cause: unknown): LedgerError {
  const duckdb = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
  return refused(`only SELECT queries over the tables of ${subject} may run: no files, network or extensions (${duckdb})`, cause);
}

/**
 * Where the statement an EXPLAIN explains may start: right after EXPLAIN, after EXPLAIN ANALYZE, or
 * after EXPLAIN (options). Only whitespace may separate these words: with a comment among them no
 * prefix matches, and the EXPLAIN is refused rather than guessed at.
 */
const EXPLAIN_PREFIXES = [/^\s*EXPLAIN\b/i, /^\s*EXPLAIN\s+ANALY[SZ]E\b/i, /^\s*EXPLAIN\s*\([\w\s,]*\)/i];

/**
 * The kind of each statement an EXPLAIN may be explaining, by DuckDB's parser; undefined where the
 * rest of the text is no single statement (that prefix is not where DuckDB split it).
 */
async function explainedKinds(connection: DuckDBConnection, sql: string): Promise<Array<StatementType | undefined>> {
  const kinds: Array<StatementType | undefined> = [];
  for (const prefix of EXPLAIN_PREFIXES) {
    const match = prefix.exec(sql);
    if (!match) continue;
    const rest = sql.slice(match[0].length);
    if (rest.trim() === '') continue;
    let extracted;
    try {
      extracted = await connection.extractStatements(rest);
    } catch {
      continue; // not a statement from here: DuckDB split elsewhere
    }
    if (extracted.count !== 1) continue;
    try {
      const prepared = await extracted.prepare(0);
      kinds.push(prepared.statementType);
      prepared.destroySync();
    } catch {
      kinds.push(undefined); // a statement whose kind cannot be told: not known to be a SELECT
    }
  }
  return kinds;
}

/**
 * Prepares `sql` if it is one read statement; otherwise refuses it (`prefline_ledger_query_refused`) with the
 * reason. `subject` names what is read, for the message ("the ledger", "a release").
 */
export async function prepareRead(connection: DuckDBConnection, sql: string, subject: string): Promise<DuckDBPreparedStatement> {
  if (sql.trim() === '') throw refused('the query is empty');
  const extracted = await connection.extractStatements(sql);
  if (extracted.count !== 1) throw refused(`exactly one statement per query, please: this has ${extracted.count}`);
  const prepared = await extracted.prepare(0).catch((err: unknown) => {
    throw err instanceof Error && /^Permission Error/.test(err.message) ? refusedAccess(subject, err) : err;
  });
  try {
    const type = prepared.statementType;
    if (type === StatementType.EXPLAIN) {
      // Every place the explained statement may start must give a SELECT: then so does the one DuckDB used.
      const kinds = await explainedKinds(connection, sql);
      if (kinds.length === 0) {
        throw refused('EXPLAIN is accepted as EXPLAIN [ANALYZE] SELECT … or EXPLAIN (ANALYZE, FORMAT json) SELECT …, with nothing but spaces between those words');
      }
      const other = kinds.find((kind) => kind !== StatementType.SELECT);
      if (other !== undefined || kinds.includes(undefined)) {
        const what = other !== undefined ? `a ${statementName(other)} statement` : 'a statement whose kind cannot be told';
        throw refused(`only SELECT queries may be explained here (EXPLAIN ANALYZE executes its statement); this explains ${what}`);
      }
    } else if (type !== StatementType.SELECT) {
      const hint = type === StatementType.CALL ? ' (for a table function write SELECT * FROM f())' : '';
      throw refused(`only SELECT queries (${READ_KINDS}) may run against ${subject}; this is a ${statementName(type)} statement${hint}`);
    }
    return prepared;
  } catch (err) {
    prepared.destroySync();
    throw err;
  }
}

/** One read on a connection of its own, interrupted at its time limit. */
export class ReadQuery {
  private timedOut = false;

  constructor(
    private readonly connection: DuckDBConnection,
    private readonly subject: string,
    private readonly limits: ReadLimits,
  ) {}

  async run(sql: string, values?: DuckDBValue[]): Promise<QueryResult> {
    const { limits } = this;
    await this.connection.run('BEGIN TRANSACTION READ ONLY');
    const timer = limits.timeoutMs !== undefined
      ? setTimeout(() => {
          this.timedOut = true;
          this.connection.interrupt();
        }, limits.timeoutMs)
      : undefined;
    try {
      const prepared = await prepareRead(this.connection, sql, this.subject);
      try {
        if (values) prepared.bind(values);
        // Streamed: DuckDB produces rows as they are read, so stopping after maxRows + 1 bounds the result's memory.
        const reader = await prepared.streamAndReadUntil(limits.maxRows + 1);
        if (reader.currentRowCount > limits.maxRows) {
          throw new LedgerError(
            ErrorCode.LedgerQueryTooLarge,
            `the result has more than ${limits.maxRows.toLocaleString('en')} rows, the limit of queries on ${this.subject}${limits.rowLimitHint ?? '; add a LIMIT'}`,
          );
        }
        return {
          columns: reader.columnNames(),
          columnTypes: reader.columnTypes().map((type) => type.toString()),
          rows: reader.getRowObjectsJson() as Array<Record<string, unknown>>,
        };
      } finally {
        prepared.destroySync();
      }
    } catch (err) {
      throw this.explain(err);
    } finally {
      clearTimeout(timer);
      // Nothing to keep: a read-only transaction has nothing to commit.
      await this.connection.run('ROLLBACK').catch(() => undefined);
    }
  }

  /** DuckDB's error, said in terms of the read path's rules where one of them caused it. */
  private explain(err: unknown): unknown {
    if (err instanceof LedgerError) return err;
    const message = err instanceof Error ? err.message : String(err);
    if (this.timedOut) return timeoutError(this.subject, this.limits.timeoutMs ?? 0, err);
    if (/^Out of Memory Error/.test(message)) return memoryError(this.subject, this.limits.memoryBytes, err);
    if (/^Permission Error/.test(message)) return refusedAccess(this.subject, err);
    // The read-only transaction at work: a write (nextval included), or a FORCE CHECKPOINT that would abort commits.
    if (/^TransactionContext Error: Cannot/.test(message)) {
      return refused(`queries cannot change ${this.subject} (${message.split('\n')[0]})`, err);
    }
    return err;
  }
}
