/** Two shorthands over a DuckDB connection, for the release's queries. */
import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';

/** Runs one statement; returns the rows it changed (COPY: the rows it wrote). */
export async function run(c: DuckDBConnection, sql: string, values?: DuckDBValue[]): Promise<number> {
  const result = await c.run(sql, values);
  return Number(result.rowsChanged);
}

/** Runs one query; returns its rows as JSON-ready objects. */
export async function rows<T>(c: DuckDBConnection, sql: string, values?: DuckDBValue[]): Promise<T[]> {
  return (await c.runAndReadAll(sql, values)).getRowObjectsJson() as T[];
}
