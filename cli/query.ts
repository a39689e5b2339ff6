/**
 * `prefline query`: read the ledger without stopping the system. While the ledger worker runs it holds
 * the only read-write handle, so the query goes through its read endpoint; otherwise the file is
 * opened read-only here.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { PreflineConfig } from '../config';
import { Ledger, type QueryResult } from '../store/Ledger';
import type { LedgerEndpoint } from '../store/LedgerReadServer';
import type { ParsedArgs } from './main';
import { resolveRelease } from '../releases/layout';
import { queryRelease } from '../releases/tools';

/** One SELECT over the ledger; `params` are bound to `$1`, `$2`, … */
export async function queryLedger(config: PreflineConfig, sql: string, params?: Array<string | number>): Promise<QueryResult> {
  if (existsSync(config.ledger.endpointFile)) {
    const endpoint = JSON.parse(readFileSync(config.ledger.endpointFile, 'utf8')) as LedgerEndpoint;
    let response: Response | undefined;
    try {
      response = await fetch(`${endpoint.url}/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql, ...(params ? { params } : {}) }),
      });
    } catch {
      response = undefined; // a stale endpoint file from a worker that died: fall back to the file
    }
    if (response) {
      const body = (await response.json()) as QueryResult & { error?: string };
      if (!response.ok) throw new Error(body.error ?? `query failed with HTTP ${response.status}`);
      return body;
    }
  }
  if (!existsSync(config.ledger.path)) throw new Error(`no ledger yet at ${config.ledger.path} (no lifecycle has committed)`);
  const ledger = await Ledger.openReader(config.ledger.path);
  try {
    return await ledger.query(sql, params);
  } finally {
    ledger.closeSync();
  }
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function formatResult(result: QueryResult, format: string): string {
  if (format === 'json') return JSON.stringify(result.rows, null, 2);
  if (format === 'csv') {
    // A bare \r ends a line for most CSV readers (Python's csv, pandas) just like \n: quote it too.
    const esc = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    return [result.columns.map(esc).join(','), ...result.rows.map((r) => result.columns.map((c) => esc(cell(r[c]))).join(','))].join('\n');
  }
  const widths = result.columns.map((c) => Math.min(60, Math.max(c.length, ...result.rows.map((r) => cell(r[c]).length))));
  const fit = (v: string, w: number) => (v.length > w ? v.slice(0, w - 1) + '…' : v.padEnd(w));
  const lines = [
    result.columns.map((c, i) => fit(c, widths[i] as number)).join(' │ '),
    widths.map((w) => '─'.repeat(w)).join('─┼─'),
    ...result.rows.map((r) => result.columns.map((c, i) => fit(cell(r[c]), widths[i] as number)).join(' │ ')),
    `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`,
  ];
  return lines.join('\n');
}

export async function runQuery(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const sql = args.positional[0];
  if (!sql) throw new Error('query: give one SQL query, e.g. prefline query "FROM feedback LIMIT 10"');
  const format = typeof args.flags.format === 'string' ? args.flags.format : 'table';
  if (!['table', 'csv', 'json'].includes(format)) throw new Error('query: --format must be table, csv or json');
  // --release <id|latest>: the release's parquet files as views (votes, preferences, …) in an in-memory DuckDB.
  const release = args.flags.release === true ? 'latest' : args.flags.release;
  const result = release !== undefined ? await queryRelease((await resolveRelease(config.releasesDir, release)).dir, sql) : await queryLedger(config, sql);
  process.stdout.write(formatResult(result, format) + '\n');
  return 0;
}
