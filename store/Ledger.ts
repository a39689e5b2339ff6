/**
 * The DuckDB ledger: committed lifecycles, candidates, vote events and judgement events.
 *
 * Exactly one process opens the file read-write (DuckDB enforces it with a file lock): the worker that
 * serves the `<queue>-ledger` task queue. Everyone else reads through that process
 * (`LedgerReadServer`) or, when no writer runs, by opening the file read-only.
 *
 * Analysts' reads never run in this process's DuckDB: the read endpoint runs each in a process of its
 * own over a copy of the file (queryIsolated; store/read-process.ts, store/ledger-snapshots.ts), which
 * is killed past its time and memory, so a runaway read cannot take a commit's memory or threads.
 * Every instance that reads is locked down: no statement but a read, no file, network or extension
 * beyond its data, no setting changed (store/read-query.ts, store/duckdb-lockdown.ts;
 * docs/security.md, "The ledger").
 *
 * Commits are idempotent: every row has a natural primary key from the workflow (first run id +
 * idempotency key for votes and judgements), inserts skip rows already present, and each commit is one transaction.
 * Re-running a commit after a crash at any point leaves exactly one row per vote. The commit that
 * completes a lifecycle also derives its scores and preference pairs (store/ledger-derived.ts). The
 * tables and the upgrades of older ledgers are in store/ledger-schema.ts; a lifecycle commit's statements
 * in store/lifecycle-commit.ts, the INSERT rows it writes in store/ledger-rows.ts.
 *
 * Increments: a lifecycle with many votes commits them while voting still runs (before each
 * continue-as-new), under a lifecycle row without `closed_at`/`close_reason`. Such a lifecycle is never
 * complete, so releases leave all its rows out (releases/scope.ts: pending). Its rows' `standing` flags
 * are as of their commit; a later commit clears the flags of votes the rater changed since (`unstand`:
 * a vote that did not stand when committed never stands later). The commit that closes the lifecycle
 * and brings the rows up to `votes_accepted` completes it, with every flag final.
 */
import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode } from '../core/errors';
import type { ChatCommitRequest, ChatCommitResult } from './chat-ledger-types';
import { insertChatEvents } from './chat-ledger';
import { NO_EXTENSION_AUTOLOAD, lockDown } from './duckdb-lockdown';
import { LedgerError, lockedOr } from './errors';
import { UNDERIVED_COMPLETE_LIFECYCLES, deriveStatements } from './ledger-derived';
import { LEDGER_SCHEMA_VERSION, SCHEMA, raterAuthOf, startedFromOf, upgradeSchema } from './ledger-schema';
import { LedgerSnapshots } from './ledger-snapshots';
import type { CommitRequest, CommitResult } from './ledger-types';
import { LEDGER_ROW_LIMIT_HINT, ReadQueue } from './read-queue';
import { queryInReadProcess, type ReadValue } from './read-process';
import { READ_LIMITS, ReadQuery, type QueryResult, type ReadLimits } from './read-query';
import { commitLifecycleRows } from './lifecycle-commit';
import { withTransaction } from './transaction';

export { LEDGER_SCHEMA_VERSION, raterAuthOf, startedFromOf };
export { LedgerError, type LedgerErrorCode } from './errors';
export type { QueryResult, ReadLimits } from './read-query';

/**
 * DuckDB threads of the ledger. Releases are written with exactly this many (releases/publisher.ts):
 * where parquet row groups are cut depends on the thread count, and the bytes must not.
 */
export const LEDGER_THREADS = 2;

/**
 * Settings the release writer sets for its session and restores (releases/publisher.ts): they stay
 * changeable after the writer's configuration is locked. Reads cannot run SET at all.
 */
export const RELEASE_SESSION_SETTINGS = ['memory_limit', 'threads', 'preserve_insertion_order'] as const;

export interface LedgerWriterOptions {
  /**
   * Directories the writer's DuckDB may read and write besides the ledger's own files: the releases
   * folder (COPY … TO, earlier releases) and the artifact store (counted by glob). Nothing else, for
   * the release writer's SQL as for Ledger.query (analysts' queries run elsewhere: queryIsolated).
   */
  allowedDirectories?: readonly string[];
}

/** DuckDB's primary-key violation ("Constraint Error: Duplicate key … violates primary key constraint"). */
function isDuplicateKey(err: unknown): boolean {
  return err instanceof Error && /Duplicate key/i.test(err.message) && /constraint/i.test(err.message);
}

/**
 * The WAL size at which a commit checkpoints (DuckDB's own default threshold). DuckDB's automatic
 * checkpoints are off in the writer, so that only commits, which wait for a read copy being taken,
 * ever write the file (store/ledger-snapshots.ts).
 */
const CHECKPOINT_WAL_BYTES = 16 * 1024 ** 2;
/** checkpoint_threshold for "never by itself". */
const NO_AUTOMATIC_CHECKPOINT = '1000TB';

export class Ledger {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    readonly path: string,
    readonly readOnly: boolean,
  ) {
    this.snapshots = new LedgerSnapshots(path);
  }

  private readonly reads = new ReadQueue();
  private readonly snapshots: LedgerSnapshots;
  /** Changes since open: a read copy is reused while this stays the same. */
  private generation = 0;
  /** Writes to the file (commits, derivations) and the taking of read copies, one at a time. */
  private writing: Promise<unknown> = Promise.resolve();

  /** The latest commit time in the ledger: commit times never go below it (see commitOnce). */
  private lastCommitMs = Number.NEGATIVE_INFINITY;

  /**
   * Opens the ledger read-write (the one writer), locked down to its own files and `allowedDirectories`,
   * and creates the schema.
   */
  static async openWriter(path: string, options: LedgerWriterOptions = {}): Promise<Ledger> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, {
        threads: String(LEDGER_THREADS),
        checkpoint_threshold: NO_AUTOMATIC_CHECKPOINT,
        ...NO_EXTENSION_AUTOLOAD,
      });
    } catch (err) {
      throw lockedOr(err, path);
    }
    const connection = await instance.connect();
    try {
      await lockDown(connection, { allowedDirectories: options.allowedDirectories ?? [], changeableSettings: RELEASE_SESSION_SETTINGS });
    } catch (err) {
      connection.closeSync();
      instance.closeSync();
      throw err;
    }
    const ledger = new Ledger(instance, connection, path, false);
    ledger.snapshots.removeAllSync(); // copies a crashed writer left
    const [existing] = (await connection.runAndReadAll(
      `SELECT count(*) FILTER (WHERE table_name = 'ledger_meta')::INTEGER AS n FROM duckdb_tables() WHERE database_name = current_database()`,
    )).getRows();
    const previousVersion = existing?.[0] ? Number((await connection.runAndReadAll(`SELECT value FROM ledger_meta WHERE key = 'schema_version'`)).getRows()[0]?.[0] ?? 0) : undefined;
    await upgradeSchema(connection);
    for (const statement of SCHEMA) await connection.run(statement);
    // A ledger from before the derived tables: derive every lifecycle it completed, once.
    if (previousVersion !== undefined && previousVersion < 2) await ledger.deriveCompleted();
    await connection.run(
      `INSERT INTO ledger_meta VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [String(LEDGER_SCHEMA_VERSION)],
    );
    const last = (await connection.runAndReadAll(
      `SELECT epoch_ms(max(t))::DOUBLE FROM (SELECT max(committed_at) AS t FROM lifecycles UNION ALL SELECT max(committed_at) FROM votes
                                              UNION ALL SELECT max(committed_at) FROM judgements
                                              UNION ALL SELECT max(committed_at) FROM chat_events)`,
    )).getRows()[0]?.[0];
    if (typeof last === 'number') ledger.lastCommitMs = last;
    return ledger;
  }

  /**
   * Opens the file read-only, locked down like the writer but with no directory at all (the CLI's
   * reads when no ledger worker runs); fails with `prefline_ledger_locked` while a writer holds it.
   */
  static async openReader(path: string): Promise<Ledger> {
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY', ...NO_EXTENSION_AUTOLOAD });
    } catch (err) {
      throw lockedOr(err, path);
    }
    const connection = await instance.connect();
    try {
      await lockDown(connection);
    } catch (err) {
      connection.closeSync();
      instance.closeSync();
      throw err;
    }
    return new Ledger(instance, connection, path, true);
  }

  /**
   * Commits one batch of a lifecycle in one transaction, idempotently: a re-run inserts only the vote
   * rows it does not hold yet. Rows are appended in the batch's order, so the ledger's row order is
   * commit order and releases can write it without sorting (releases/writer.ts). That is why
   * candidates and votes go in with plain INSERTs: `ON CONFLICT DO NOTHING` (or an anti-join) lets
   * DuckDB reorder the rows of a statement. A duplicate key means this batch (or part of it) is
   * already here: the transaction is rolled back and re-run without the rows the ledger holds — rare,
   * and only then are the run's keys read.
   */
  async commit(request: CommitRequest, now: Date = new Date()): Promise<CommitResult> {
    if (this.readOnly) throw new LedgerError(ErrorCode.LedgerUnavailable, 'the ledger is open read-only');
    return this.write(async () => {
      try {
        return await this.commitOnce(request, now, false);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        return this.commitOnce(request, now, true);
      }
    });
  }

  /**
   * Runs one write to the file after the writes and read copies before it, then checkpoints if the
   * WAL has grown past DuckDB's usual threshold (a failed checkpoint is tried again after the next write).
   */
  private write<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.writing.then(async () => {
      try {
        return await fn();
      } finally {
        this.generation += 1;
        const wal = `${this.path}.wal`;
        if (existsSync(wal) && statSync(wal).size > CHECKPOINT_WAL_BYTES) await this.connection.run('CHECKPOINT').catch(() => undefined);
      }
    });
    this.writing = turn.catch(() => undefined);
    return turn;
  }

  private async commitOnce(request: CommitRequest, now: Date, skipExisting: boolean): Promise<CommitResult> {
    // Commit times never go backwards in ledger order, even if the clock does: releases cut at a
    // commit time, and the derived tables' per-commit queries skip row groups older than a lifecycle.
    const commitMs = Math.max(now.getTime(), this.lastCommitMs);
    const committedAt = new Date(commitMs).toISOString();
    const result = await withTransaction(this.connection, (c) => commitLifecycleRows(c, request, { committedAt, commitMs, skipExisting }));
    this.lastCommitMs = Math.max(this.lastCommitMs, commitMs);
    return result;
  }

  /**
   * Commits a batch of one conversation's events (store/chat-ledger.ts) in one transaction,
   * idempotently, with the same never-decreasing commit times as lifecycle commits.
   */
  async commitChat(request: ChatCommitRequest, now: Date = new Date()): Promise<ChatCommitResult> {
    if (this.readOnly) throw new LedgerError(ErrorCode.LedgerUnavailable, 'the ledger is open read-only');
    // A write like any commit: after the writes and read copies before it, and the next read copy sees it.
    return this.write(async () => {
      const commitMs = Math.max(now.getTime(), this.lastCommitMs);
      const committedAt = new Date(commitMs).toISOString();
      const once = (skipExisting: boolean) => withTransaction(this.connection, (c) => insertChatEvents(c, request, committedAt, skipExisting));
      let result: ChatCommitResult;
      try {
        result = await once(false);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        result = await once(true);
      }
      this.lastCommitMs = Math.max(this.lastCommitMs, commitMs);
      return result;
    });
  }

  /**
   * Derives scores and pairs (store/ledger-derived.ts) for every complete lifecycle that has none:
   * the upgrade of a ledger written before the derived tables, and the bench's synthetic ledgers.
   * Returns how many lifecycles it derived.
   */
  async deriveCompleted(): Promise<number> {
    if (this.readOnly) throw new LedgerError(ErrorCode.LedgerUnavailable, 'the ledger is open read-only');
    return this.write(() => withTransaction(this.connection, async (c) => {
      await c.run(`CREATE OR REPLACE TEMP TABLE derive_scope AS ${UNDERIVED_COMPLETE_LIFECYCLES}`);
      const derived = await c.run(`INSERT INTO lifecycle_completions SELECT run_id, completed_at FROM derive_scope ORDER BY completed_at, run_id`);
      for (const statement of deriveStatements('derive_scope')) await c.run(statement, ['-infinity']);
      await c.run('DROP TABLE derive_scope');
      return Number(derived.rowsChanged);
    }));
  }

  /**
   * Runs one query in this process: a single read statement (store/read-query.ts) in a read-only
   * transaction, within the row and time limits; values are bound, never spliced. For Prefline's own
   * reads and tests; analysts' queries go through queryIsolated.
   */
  async query(sql: string, values?: DuckDBValue[], limits: Partial<ReadLimits> = {}): Promise<QueryResult> {
    // A connection of its own: the read sees one snapshot, never joins a commit's transaction, and
    // an interrupt stops only it.
    const connection = await this.instance.connect();
    try {
      return await new ReadQuery(connection, 'the ledger', { ...READ_LIMITS, rowLimitHint: LEDGER_ROW_LIMIT_HINT, ...limits }).run(sql, values);
    } finally {
      connection.closeSync();
    }
  }

  /**
   * Runs an analyst's query (the read endpoint's) in a process of its own, over a copy of the ledger
   * as of now, within the read limits: rows, time and memory, the last two enforced by killing that
   * process. Reads take turns; a copy is taken only if the ledger changed since the last one. `values`
   * are bound to `$1`, `$2`, …, never spliced.
   */
  async queryIsolated(sql: string, limits: Partial<ReadLimits> = {}, values?: readonly ReadValue[]): Promise<QueryResult> {
    return this.reads.run(async () => {
      const snapshot = await this.snapshots.take(this.generation, (copy) => this.whileNothingWrites(copy));
      return queryInReadProcess(snapshot.path, sql, 'the ledger', { ...READ_LIMITS, rowLimitHint: LEDGER_ROW_LIMIT_HINT, ...limits }, values);
    });
  }

  /** Runs `copy` between writes: no commit starts until it is done. */
  private whileNothingWrites(copy: () => Promise<void>): Promise<void> {
    const turn = this.writing.then(copy);
    this.writing = turn.catch(() => undefined);
    return turn;
  }

  /**
   * Runs `fn` on a fresh connection of this instance (e.g. a release export), closed afterwards. For
   * reads (releases) and tests; what it writes is not coordinated with the read copies.
   */
  async withConnection<T>(fn: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const connection = await this.instance.connect();
    try {
      return await fn(connection);
    } finally {
      connection.closeSync();
      this.generation += 1; // it may have written: the next read copy is taken afresh
    }
  }

  closeSync(): void {
    this.connection.closeSync();
    this.instance.closeSync();
    if (!this.readOnly) this.snapshots.removeAllSync();
  }
}
