/**
 * Copies of the ledger file that analysts' reads run on, in a process of their own
 * (store/read-process.ts): while the writer holds the file, DuckDB lets no other process open it.
 *
 * A copy is consistent because nothing writes the file while it is taken. Only commits write it
 * (Ledger.commit and deriveCompleted: the WAL, and the checkpoints the writer runs itself, since
 * DuckDB's automatic ones are off) and they wait for the copy, which costs about what copying the
 * file costs (~0.1 s for 130 MB). Release writing reads, and its temp tables touch no file. The
 * copy holds the main file and its WAL, which DuckDB replays when it opens the copy.
 *
 * One copy is kept while the ledger does not change, so a run of queries costs one copy; a new one
 * replaces it after the next change. They live beside the ledger (`<ledger>.reads/`), in the
 * private data folder: they hold what the ledger holds.
 */
import { constants as fsConstants, existsSync, mkdirSync, rmSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { basename, join } from 'node:path';

export interface LedgerSnapshot {
  /** The copy's database file (its WAL beside it, if the ledger had one). */
  path: string;
  /** The ledger's change count the copy was taken at. */
  generation: number;
}

export class LedgerSnapshots {
  private current?: LedgerSnapshot;
  readonly dir: string;

  constructor(private readonly ledgerPath: string) {
    this.dir = `${ledgerPath}.reads`;
  }

  /** Removes every copy (at open: leftovers of a crash; at close: all of them). */
  removeAllSync(): void {
    rmSync(this.dir, { recursive: true, force: true });
    this.current = undefined;
  }

  /**
   * A copy as of `generation`: the current one if it is that recent, else a new one, taken by
   * `whileNothingWrites` around the copying (the ledger's write lock). Callers take turns (ReadQueue):
   * the copy a read got stays until the next call.
   */
  async take(generation: number, whileNothingWrites: (copy: () => Promise<void>) => Promise<void>): Promise<LedgerSnapshot> {
    if (this.current?.generation === generation && existsSync(this.current.path)) return this.current;
    const previous = this.current;
    this.current = undefined;
    if (previous) await removeDatabase(previous.path);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const path = join(this.dir, `${basename(this.ledgerPath)}-${generation}`);
    await removeDatabase(path);
    await whileNothingWrites(async () => {
      // The WAL first, then the main file: both before the next write. FICLONE where the file system can share blocks.
      const wal = `${this.ledgerPath}.wal`;
      if (existsSync(wal)) await fs.copyFile(wal, `${path}.wal`, fsConstants.COPYFILE_FICLONE);
      await fs.copyFile(this.ledgerPath, path, fsConstants.COPYFILE_FICLONE);
    });
    this.current = { path, generation };
    return this.current;
  }
}

/** A DuckDB database and what DuckDB keeps beside it: its WAL and its spill folder. */
async function removeDatabase(path: string): Promise<void> {
  for (const file of [path, `${path}.wal`, `${path}.tmp`]) await fs.rm(file, { recursive: true, force: true });
}
