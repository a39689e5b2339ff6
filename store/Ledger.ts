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
 * tables and the upgrades of older ledgers are in store/ledger-schema.ts, the INSERT rows go in by in
 * store/ledger-rows.ts.
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
import type { Quorum } from '../workflows/types';
import type { ChatCommitRequest, ChatCommitResult } from './chat-ledger-types';
import { insertChatEvents } from './chat-ledger';
import { NO_EXTENSION_AUTOLOAD, lockDown } from './duckdb-lockdown';
import { LedgerError, lockedOr } from './errors';
import { DERIVED_TABLES, UNDERIVED_COMPLETE_LIFECYCLES, deriveStatements } from './ledger-derived';
import { candidateRows, insertRows, judgementRows, voteRows } from './ledger-rows';
import { LEDGER_SCHEMA_VERSION, SCHEMA, raterAuthOf, startedFromOf, upgradeSchema } from './ledger-schema';
import { LedgerSnapshots } from './ledger-snapshots';
import type { CommitRequest, CommitResult } from './ledger-types';
import { LEDGER_ROW_LIMIT_HINT, ReadQueue } from './read-queue';
import { queryInReadProcess, type ReadValue } from './read-process';
import { READ_LIMITS, ReadQuery, type QueryResult, type ReadLimits } from './read-query';
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

/** Bound values per UPDATE of `unstand` (one statement per this many seqs). */
const UNSTAND_PER_STATEMENT = 500;

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
    const { lifecycle, candidates } = request;
    let { votes } = request;
    // Commit times never go backwards in ledger order, even if the clock does: releases cut at a
    // commit time, and the derived tables' per-commit queries skip row groups older than a lifecycle.
    const commitMs = Math.max(now.getTime(), this.lastCommitMs);
    const committedAt = new Date(commitMs).toISOString();
    const result = await withTransaction(this.connection, async (c) => {
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
      if (request.unstand !== undefined && request.unstand.length > 0) await this.unstand('votes', lifecycle.runId, firstCommit, request.unstand);
      if (request.unstandJudgements !== undefined && request.unstandJudgements.length > 0) {
        await this.unstand('judgements', lifecycle.runId, firstCommit, request.unstandJudgements);
      }
      // Commit times only grow, so no row of this lifecycle precedes its first commit.
      const [voteCount, judgementCount] = await this.rowCounts(lifecycle.runId, firstCommit);
      // Still voting (an increment): never complete, whatever the count. Complete: every accepted event, vote or judgement, is here.
      const complete = lifecycle.closeReason !== undefined && voteCount + judgementCount === lifecycle.votesAccepted;
      await this.updateDerived({ runId: lifecycle.runId, firstCommit, later: firstCommitMs !== commitMs, committedAt, inserted: inserted + judged, complete });
      // Judgement counts only where there are judgements: a thumbs lifecycle's result is what it was before them.
      return {
        voteRowsInserted: inserted,
        voteRowsForLifecycle: voteCount,
        ...(judgementCount > 0 ? { judgementRowsInserted: judged, judgementRowsForLifecycle: judgementCount } : {}),
      };
    });
    this.lastCommitMs = Math.max(this.lastCommitMs, commitMs);
    return result;
  }

  /** The lifecycle's vote and judgement rows, counted from its first commit on. */
  private async rowCounts(runId: string, firstCommit: string): Promise<[number, number]> {
    const reader = await this.connection.runAndReadAll(
      `SELECT (SELECT count(*) FROM votes WHERE run_id = $1 AND committed_at >= $2::TIMESTAMPTZ)::INTEGER,
              (SELECT count(*) FROM judgements WHERE run_id = $1 AND committed_at >= $2::TIMESTAMPTZ)::INTEGER`,
      [runId, firstCommit],
    );
    const [votes, judgements] = reader.getRows()[0] ?? [0, 0];
    return [Number(votes), Number(judgements)];
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
   * Clears the standing flags of committed votes (or judgements) the rater has since changed or retracted. An
   * in-place UPDATE of a column outside the key: rows keep their place, so ledger order stays commit order.
   */
  private async unstand(table: 'votes' | 'judgements', runId: string, firstCommit: string, seqs: readonly number[]): Promise<void> {
    const bad = seqs.find((seq) => !Number.isSafeInteger(seq) || seq < 1);
    if (bad !== undefined) throw new Error(`invalid commit request: unstand holds ${bad}, which is not a ${table === 'votes' ? 'vote' : 'judgement'}'s seq`);
    for (let i = 0; i < seqs.length; i += UNSTAND_PER_STATEMENT) {
      const chunk = seqs.slice(i, i + UNSTAND_PER_STATEMENT);
      await this.connection.run(
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
  private async updateDerived(commit: {
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
    const c = this.connection;
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
