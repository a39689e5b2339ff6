/**
 * Crash-safe file writing shared by everything that keeps state in files (artifact store, releases,
 * email channel state): readers never see a partial file under its final name. And the folders that
 * state lives in, private to the user that runs Prefline.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Persists directory entries (renames, links, new files); best effort where the platform refuses. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // e.g. EISDIR/EPERM on some platforms: the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export interface WriteAtomicOptions {
  /** fsync the file and its directory (default true); off for markers that may be lost on power failure. */
  durable?: boolean;
  /** Permission bits of the new file (default: 0o666 less the umask). */
  fileMode?: number;
}

/**
 * Writes a temp file in the target's directory, then publishes it under `file`:
 * `replace` renames over any existing file; `exclusive` hard-links and returns false if `file`
 * already exists (first writer wins, also across processes).
 */
export async function writeFileAtomic(
  file: string,
  data: Uint8Array | string,
  mode: 'replace' | 'exclusive',
  options: WriteAtomicOptions = {},
): Promise<boolean> {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, 'wx', options.fileMode);
    try {
      await handle.writeFile(data);
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
    if (mode === 'replace') {
      await fs.rename(tmp, file);
    } else {
      try {
        await fs.link(tmp, file);
      } catch (err) {
        if (errnoCode(err) === 'EEXIST') return false;
        throw err;
      }
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
  if (durable) await fsyncDir(dir);
  return true;
}

/** Permission bits of a folder only its owner may enter: Prefline's data folder and the folders it creates. */
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Makes `dir` (and any missing parent) a folder only this user can enter. A folder that exists with
 * wider permissions (made before 0700 was the rule, or under a loose umask) is tightened, and `warn`
 * says so; one this user may not chmod is refused with what to run instead.
 */
export function ensurePrivateDirSync(dir: string, warn: (message: string) => void): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return;
  try {
    chmodSync(dir, PRIVATE_DIR_MODE);
  } catch (err) {
    throw new Error(
      `${dir} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}) and could not be made private (${(err as Error).message}); ` +
        `its owner should run: chmod 700 ${JSON.stringify(dir)}`,
      { cause: err },
    );
  }
  warn(`${dir} could be read by other users (mode ${mode.toString(8).padStart(4, '0')}); it is now 0700, as it holds the ledger, keys and Temporal's database`);
}
