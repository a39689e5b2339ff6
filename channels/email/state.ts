/**
 * Durable email state under `<data>/email/` (PREFLINE_EMAIL_STATE_DIR), shared by the workers (which
 * send) and the gateway (which takes opt-outs and replies). One small file per fact, created atomically
 * (exclusive create, or temp file then rename/link), so concurrent processes need no lock:
 *
 *   optouts/<rater>.json                        a rater who unsubscribed (by pseudonym: no addresses on disk)
 *   lifecycles/<lifecycle hash>.json            lifecycle id, deadline and candidates, for replies and reminders
 *   sent/<lifecycle hash>/<kind>.<rater>.sent    SMTP accepted this mail (the name is the record: a torn
 *   sent/<lifecycle hash>/<kind>.<rater>.failed  body after a crash still counts); or refused it for good
 *   sent/<lifecycle hash>/<kind>.<rater>.sending a send in progress (another attempt must not start one)
 *   answered/<key>                              markers: auto-answers sent, vote links used
 */
import * as fs from 'node:fs/promises';
import { hostname } from 'node:os';
import { fsyncDir, writeFileAtomic as writeAtomic } from '../../core/files';
import * as path from 'node:path';
import type { LifecycleTask } from '../../workflows/types';
import type { MailKind } from './tokens';

export interface EmailLifecycleRecord {
  lifecycleId: string;
  deadlineAt: string;
  prompt: string;
  /** Content fields (kind on) only for a campaign's assigned items: its digests show them (digest.ts). */
  candidates: Array<{ id: string; label: string; kind?: 'image' | 'text'; text?: string; placeholder?: boolean; sha256?: string; mime?: string }>;
  /** Assigned items: what the digest asks. */
  task?: LifecycleTask;
  question?: string;
  allowBothBad?: boolean;
}

export interface SendRecord {
  status: 'sent' | 'failed';
  at?: string;
  messageId?: string;
  /** For `failed`: the SMTP reply that refused the recipient for good. */
  response?: string;
}

const SAFE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

function safe(name: string): string {
  if (!SAFE_NAME.test(name) || name.startsWith('.')) throw new Error(`email state: unsafe file name ${JSON.stringify(name)}`);
  return name;
}

export class EmailState {
  private readonly madeDirs = new Set<string>();
  private readonly dirSyncs = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<EmailState> {
    for (const sub of ['optouts', 'lifecycles', 'sent', 'answered']) await fs.mkdir(path.join(dir, sub), { recursive: true });
    return new EmailState(dir);
  }

  async isOptedOut(rater: string): Promise<boolean> {
    return exists(path.join(this.dir, 'optouts', `${safe(rater)}.json`));
  }

  async optOut(rater: string, at = new Date()): Promise<void> {
    await writeAtomic(path.join(this.dir, 'optouts', `${safe(rater)}.json`), JSON.stringify({ at: at.toISOString() }), 'exclusive', { fileMode: 0o600 });
  }

  async saveLifecycle(hash: string, record: EmailLifecycleRecord): Promise<void> {
    await writeAtomic(path.join(this.dir, 'lifecycles', `${safe(hash)}.json`), JSON.stringify(record), 'replace', { fileMode: 0o600 });
  }

  async lifecycle(hash: string): Promise<EmailLifecycleRecord | undefined> {
    try {
      return JSON.parse(await fs.readFile(path.join(this.dir, 'lifecycles', `${safe(hash)}.json`), 'utf8')) as EmailLifecycleRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async sendRecord(hash: string, kind: MailKind, rater: string): Promise<SendRecord | undefined> {
    for (const status of ['sent', 'failed'] as const) {
      let body: string;
      try {
        body = await fs.readFile(this.sendPath(hash, kind, rater, status), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      let details: Partial<SendRecord> = {};
      try {
        details = JSON.parse(body) as Partial<SendRecord>;
      } catch {
        // created but not (fully) written before a crash: the file's existence is the record
      }
      return { ...details, status };
    }
    return undefined;
  }

  /**
   * Written right after SMTP accepted (or refused for good), before the next attempt could look: one
   * exclusive create and one fsync of the file; directory fsyncs of concurrent records are shared.
   */
  async recordSend(hash: string, kind: MailKind, rater: string, record: SendRecord): Promise<void> {
    const file = this.sendPath(hash, kind, rater, record.status);
    const dir = path.dirname(file);
    await this.ensureDir(dir);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return; // the first record wins
      throw err;
    }
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await this.syncDir(dir);
  }

  /**
   * Claims the right to send one mail, across processes: false while another live attempt holds it (a
   * timed-out activity attempt still running elsewhere). A claim is taken over once its holder is gone
   * (same host, dead pid) or older than `staleMs`. Not fsynced: after a crash the claim is void anyway.
   */
  async claimSending(hash: string, kind: MailKind, rater: string, staleMs: number, nowMs = Date.now()): Promise<boolean> {
    const file = this.sendPath(hash, kind, rater, 'sending');
    await this.ensureDir(path.dirname(file));
    const marker = JSON.stringify({ host: hostname(), pid: process.pid, at: nowMs });
    try {
      await fs.writeFile(file, marker, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = await fs.readFile(file, 'utf8').then((t) => JSON.parse(t) as { host: string; pid: number; at: number }).catch(() => undefined);
    // Unreadable: being written this instant (fresh), or left empty by a crash (then its mtime ages).
    const at = held?.at ?? (await fs.stat(file).then((st) => st.mtimeMs).catch(() => 0));
    const gone = held !== undefined && held.host === hostname() && (held.pid === process.pid || !alive(held.pid));
    if (!gone && nowMs - at < staleMs) return false;
    await writeAtomic(file, marker, 'replace', { durable: false, fileMode: 0o600 });
    return true;
  }

  /** Which raters have a record of this kind for the lifecycle: one directory read for a whole batch. */
  async sendRecords(hash: string, kind: MailKind): Promise<Map<string, SendRecord['status']>> {
    const records = new Map<string, SendRecord['status']>();
    const names = await fs.readdir(path.join(this.dir, 'sent', safe(hash))).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    for (const name of names) {
      const match = /^([a-z]+)\.(r_[0-9a-f]+)\.(sent|failed)$/.exec(name);
      if (match && match[1] === kind) records.set(match[2]!, match[3] as SendRecord['status']);
    }
    return records;
  }

  async releaseSending(hash: string, kind: MailKind, rater: string): Promise<void> {
    await fs.rm(this.sendPath(hash, kind, rater, 'sending'), { force: true });
  }

  /** Claims a marker once: true for the first caller across all processes, false afterwards. */
  async claim(key: string): Promise<boolean> {
    return writeAtomic(path.join(this.dir, 'answered', safe(key)), new Date().toISOString(), 'exclusive', { durable: false, fileMode: 0o600 });
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.madeDirs.has(dir)) return;
    await fs.mkdir(dir, { recursive: true });
    this.madeDirs.add(dir);
  }

  private sendPath(hash: string, kind: MailKind, rater: string, suffix: 'sent' | 'failed' | 'sending'): string {
    return path.join(this.dir, 'sent', safe(hash), `${kind}.${safe(rater)}.${suffix}`);
  }

  /** Group commit: callers arriving while a directory fsync runs share the next one. */
  private syncDir(dir: string): Promise<void> {
    const entry = this.dirSyncs.get(dir);
    if (entry) return (entry.next ??= entry.running.then(() => this.startDirSync(dir)));
    return this.startDirSync(dir);
  }

  private startDirSync(dir: string): Promise<void> {
    const running = fsyncDir(dir).finally(() => {
      const entry = this.dirSyncs.get(dir);
      if (entry?.running === running) {
        if (entry.next) this.dirSyncs.set(dir, { running: entry.next });
        else this.dirSyncs.delete(dir);
      }
    });
    this.dirSyncs.set(dir, { running });
    return running;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

