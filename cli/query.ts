/**
 * `prefline query`: read the ledger without stopping the system. While the ledger worker runs it holds
 * the only read-write handle, so the query goes through its read endpoint; otherwise the file is
 * opened read-only here.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { PreflineConfig } from '../config';
import { Ledger, type QueryResult } from '../store/Ledger';
import type { LedgerEndpoint } from '../store/LedgerReadServer';
import { resolveRelease } from '../releases/layout';
import { queryRelease } from '../releases/tools';
import type { OptionSpec, ParsedArgs } from './args';
import type { Command } from './command';

export async function queryLedger(config: PreflineConfig, sql: string): Promise<QueryResult> {
  if (existsSync(config.ledger.endpointFile)) {
    const endpoint = JSON.parse(readFileSync(config.ledger.endpointFile, 'utf8')) as LedgerEndpoint;
    let response: Response | undefined;
    try {
      response = await fetch(`${endpoint.url}/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql }),
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
    return await ledger.query(sql);
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

/** `--format`, the same for every command that prints rows. */
export const FORMAT_OPTION: OptionSpec = { type: 'string', value: 'FORMAT', description: 'output format, default table', choices: ['table', 'csv', 'json'] };

export async function runQuery(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const sql = args.positional[0] as string;
  const format = typeof args.flags.format === 'string' ? args.flags.format : 'table';
  // --release <id|latest>: the release's parquet files as views (votes, preferences, …) in an in-memory DuckDB.
  const release = typeof args.flags.release === 'string' ? args.flags.release : undefined;
  const result = release !== undefined ? await queryRelease((await resolveRelease(config.releasesDir, release)).dir, sql) : await queryLedger(config, sql);
  process.stdout.write(formatResult(result, format) + '\n');
  return 0;
}

export const QUERY_COMMAND: Command = {
  spec: {
    name: 'query',
    args: '"<sql>"',
    summary: 'run one SELECT on the ledger while everything keeps running (tables lifecycles, candidates, votes; view feedback), or on a release',
    positionals: [1, 1],
    options: {
      format: FORMAT_OPTION,
      release: { type: 'string', value: 'ID', bare: 'latest', description: "query a release's parquet files instead (votes, preferences, …); alone: latest" },
    },
    details: 'example: prefline query "SELECT prompt, rating, rater FROM feedback LIMIT 10" --format csv',
  },
  run: runQuery,
};
