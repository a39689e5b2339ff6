/**
 * Quoting for the two places DuckDB cannot bind a value: file paths in `COPY … TO '<path>'` and
 * `read_parquet('<path>')`, and view names. Everything else is bound (`$1`), never spliced.
 */

/** A SQL string literal: `'` doubled; NUL refused (DuckDB would cut the string there). */
export function quotedString(value: string): string {
  if (value.includes('\0')) throw new Error('a SQL string may not contain NUL');
  return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL identifier: `"` doubled; NUL and the empty name refused. */
export function quotedIdentifier(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new Error('invalid SQL identifier');
  return `"${name.replace(/"/g, '""')}"`;
}
