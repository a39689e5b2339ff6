/**
 * A write-ahead journal for deliveries the gateway acknowledges before it has forwarded them (Slack
 * wants its answer within 3 s; Temporal may be slow or down). A delivery is appended and fsynced
 * *before* the acknowledgement, and marked done once it reached its lifecycle or was refused for good,
 * so a gateway that dies (or gives up waiting for Temporal) loses nothing: the next gateway on the host
 * replays what is not done. Replays are harmless duplicates at worst: every vote carries an idempotency
 * key the lifecycle deduplicates.
 *
 * - One JSON-lines file per gateway process, `journal-<host>-<pid>-<nonce>.jsonl`. Appends are group
 *   committed: the appends of one tick share one write and one fdatasync. Closing with entries still
 *   pending renames the file to owner pid 0, free for the next gateway.
 * - On open, files of dead processes on this host are claimed by an atomic rename (two gateways starting
 *   together cannot both claim one), their pending entries are copied into the new file (fsynced), and
 *   the old file is removed. Files of live processes, and of other hosts, are left alone.
 * - A torn last line (a crash mid-write) is ignored: its delivery was never acknowledged.
 * - The file is rewritten with only the pending entries once it is mostly done lines.
 *
 * Plain TypeScript, no Temporal: the Slack inbound uses it (inbound.ts).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fsyncDir } from '../../core/files';

export interface JournalEntry {
  key: string;
  kind: string;
  body: unknown;
  /** When the delivery was first accepted (epoch ms). */
  acceptedAt: number;
}

export interface JournalLog {
  (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

type Line = { a: string; k: string; b: unknown; t: number } | { d: string };

const FILE = /^journal-(.+)-(\d+)-([0-9a-f]{8})(?:\.claimed-[0-9a-f]{8})?\.jsonl$/;
const REWRITE_AFTER_LINES = 4096;

function hostTag(): string {
  return hostname().replace(/[^A-Za-z0-9.]/g, '_').slice(0, 64) || 'host';
}

/** Whether the process that wrote a journal may still be appending to it (pid 0: closed, no owner). */
function alive(pid: number): boolean {
  if (pid === 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, someone else's
  }
}

/** Parses a journal's lines into its pending entries, in acceptance order. */
function pendingOf(text: string): JournalEntry[] {
  const pending = new Map<string, JournalEntry>();
  const lines = text.split('\n');
  // A file ends with "\n"; anything after the last one is a torn write of an unacknowledged delivery.
  for (const raw of lines.slice(0, -1)) {
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      continue;
    }
    if ('d' in line) pending.delete(line.d);
    else if (typeof line.a === 'string' && !pending.has(line.a)) pending.set(line.a, { key: line.a, kind: line.k, body: line.b, acceptedAt: line.t });
  }
  return [...pending.values()];
}

export class DeliveryJournal {
  private readonly live = new Map<string, JournalEntry>();
  private queued: Array<{ line: string; resolve?: () => void; reject?: (err: Error) => void }> = [];
  private flushing?: Promise<void>;
  private writing: Promise<void> = Promise.resolve();
  private linesInFile = 0;
  private closed = false;

  private constructor(
    readonly dir: string,
    private file: string,
    private handle: fs.FileHandle,
    private readonly log: JournalLog,
  ) {}

  /** Opens a new journal in `dir` and returns the pending deliveries recovered from dead gateways. */
  static async open(dir: string, options: { log?: JournalLog } = {}): Promise<{ journal: DeliveryJournal; recovered: JournalEntry[] }> {
    const log = options.log ?? (() => undefined);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const host = hostTag();
    const name = `journal-${host}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`;
    const file = join(dir, name);
    const handle = await fs.open(file, 'wx', 0o600);
    const journal = new DeliveryJournal(dir, file, handle, log);
    const recovered: JournalEntry[] = [];
    for (const other of (await fs.readdir(dir)).sort()) {
      const match = FILE.exec(other);
      if (!match || other === name || match[1] !== host || alive(Number(match[2]))) continue;
      // Claim it: only one of several gateways starting at once wins the rename.
      const claimed = join(dir, `${other.replace(/(\.claimed-[0-9a-f]{8})?\.jsonl$/, '')}.claimed-${randomBytes(4).toString('hex')}.jsonl`);
      try {
        await fs.rename(join(dir, other), claimed);
      } catch {
        continue;
      }
      let text: string;
      try {
        text = await fs.readFile(claimed, 'utf8');
      } catch {
        continue; // another gateway starting at the same moment took it over
      }
      const entries = pendingOf(text);
      for (const e of entries) {
        if (journal.live.has(e.key)) continue;
        journal.live.set(e.key, e);
        journal.queued.push({ line: JSON.stringify({ a: e.key, k: e.kind, b: e.body, t: e.acceptedAt } satisfies Line) });
        recovered.push(e);
      }
      await journal.flush(); // durable here before the claimed file goes
      await fs.unlink(claimed);
      await fsyncDir(dir);
      if (entries.length > 0) log('warn', 'recovered deliveries a stopped gateway had acknowledged but not forwarded', { file: other, entries: entries.length });
    }
    await fsyncDir(dir);
    return { journal, recovered };
  }

  /** Entries appended (or recovered) and not yet done. */
  get pending(): number {
    return this.live.size;
  }

  /** Appends a delivery; resolves once it is on disk. Acknowledge the delivery only after this. */
  append(key: string, kind: string, body: unknown, acceptedAt = Date.now()): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the delivery journal is closed'));
    if (this.live.has(key)) return Promise.resolve();
    const entry: JournalEntry = { key, kind, body, acceptedAt };
    const line = JSON.stringify({ a: key, k: kind, b: body, t: acceptedAt } satisfies Line);
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ line, resolve: () => (this.live.set(key, entry), resolve()), reject });
      this.schedule();
    });
  }

  /** Marks a delivery handled (forwarded, or refused for good). Durable with the next append. */
  done(key: string): void {
    if (!this.live.delete(key) || this.closed) return;
    this.queued.push({ line: JSON.stringify({ d: key } satisfies Line) });
    this.schedule();
  }

  /**
   * Flushes and closes. Without pending entries the file is removed; with some it stays for the next
   * gateway on this host to replay.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
    await this.handle.close();
    if (this.live.size === 0) {
      await fs.unlink(this.file).catch(() => undefined);
      await fsyncDir(this.dir).catch(() => undefined);
    } else {
      // Hand the file over: owner pid 0 marks it free for the next gateway on this host (even in this process).
      const free = join(this.dir, `journal-${hostTag()}-0-${randomBytes(4).toString('hex')}.jsonl`);
      await fs.rename(this.file, free);
      await fsyncDir(this.dir);
      this.log('warn', 'delivery journal closed with deliveries not yet forwarded; the next gateway on this host replays them', { pending: this.live.size });
    }
  }

  private schedule(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
  }

  /** Writes what is queued; flushes run one after another, so lines reach the file in order. */
  private flush(): Promise<void> {
    const run = this.writing.then(() => this.drain());
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Writes everything queued with one write and one fdatasync per round, until the queue is empty. */
  private async drain(): Promise<void> {
    try {
      while (this.queued.length > 0) {
        const batch = this.queued;
        this.queued = [];
        try {
          await this.handle.write(batch.map((b) => b.line + '\n').join(''));
          await this.handle.datasync();
          this.linesInFile += batch.length;
        } catch (err) {
          const error = err instanceof Error ? err : new Error(String(err));
          this.log('error', 'could not write the delivery journal', { error: error.message });
          for (const b of batch) b.reject?.(error);
          continue;
        }
        for (const b of batch) b.resolve?.();
        if (this.linesInFile > REWRITE_AFTER_LINES && this.live.size * 4 < this.linesInFile) await this.rewrite();
      }
    } finally {
      this.flushing = undefined;
      if (this.queued.length > 0 && !this.closed) this.schedule();
    }
  }

  /** Replaces the file by one holding only the pending entries (written and fsynced before the swap). */
  private async rewrite(): Promise<void> {
    const next = `${this.file}.rewrite`;
    const lines = [...this.live.values()].map((e) => JSON.stringify({ a: e.key, k: e.kind, b: e.body, t: e.acceptedAt } satisfies Line) + '\n');
    const handle = await fs.open(next, 'w', 0o600);
    try {
      await handle.write(lines.join(''));
      await handle.datasync();
    } catch (err) {
      await handle.close();
      await fs.unlink(next).catch(() => undefined);
      this.log('warn', 'could not compact the delivery journal', { error: (err as Error).message });
      return;
    }
    await fs.rename(next, this.file);
    await fsyncDir(this.dir);
    await this.handle.close();
    this.handle = handle;
    this.linesInFile = lines.length;
  }
}
