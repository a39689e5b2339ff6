/**
 * Locks a DuckDB instance down to its own data: no files outside the directories it is given, no
 * network, no extension that is not built in, and no configuration change afterwards. DuckDB's
 * settings belong to the instance, not to a connection, so this runs once, right after creating it,
 * and holds for every connection (docs/security.md, "The ledger").
 *
 * What DuckDB still allows by itself: the instance's own database, WAL and temp-spill files.
 */
import { type DuckDBConnection, quotedString } from '@duckdb/node-api';
import { resolve, sep } from 'node:path';

/**
 * Creation options of every locked-down instance: known extensions are neither downloaded (autoinstall
 * reaches the network, even while a statement is only prepared) nor loaded on demand.
 */
export const NO_EXTENSION_AUTOLOAD = { autoload_known_extensions: 'false', autoinstall_known_extensions: 'false' } as const;

export interface LockdownOptions {
  /** Directories the instance may still read and write (subfolders included), e.g. the releases folder. */
  allowedDirectories?: readonly string[];
  /** Settings the owner's own code still changes after the lock (the release writer's session settings). */
  changeableSettings?: readonly string[];
}

function sqlString(value: string): string {
  if (value.includes('\0')) throw new Error('a DuckDB setting may not contain NUL');
  return quotedString(value);
}

/** Applies the lock on `connection`'s instance; nothing can undo it (lock_configuration freezes the rest). */
export async function lockDown(connection: DuckDBConnection, options: LockdownOptions = {}): Promise<void> {
  // A trailing separator: DuckDB matches prefixes, and `<releases>` must not also allow `<releases>-old/`.
  const directories = (options.allowedDirectories ?? []).map((dir) => {
    const absolute = resolve(dir);
    return absolute.endsWith(sep) ? absolute : absolute + sep;
  });
  if (directories.length > 0) await connection.run(`SET allowed_directories = [${directories.map(sqlString).join(', ')}]`);
  const changeable = options.changeableSettings ?? [];
  if (changeable.length > 0) await connection.run(`SET allowed_configs = [${changeable.map(sqlString).join(', ')}]`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET lock_configuration = true');
}
