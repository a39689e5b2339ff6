/**
 * `prefline query`: read the ledger without stopping the system. While the ledger worker runs it holds
 * the only read-write handle, so the query goes through its read endpoint; otherwise the file is
 * opened read-only, in a read process of its own (store/read-process.ts): killed past its limits, it
 * never keeps the file locked from a ledger worker that starts.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { PreflineConfig } from '../config';
import { LedgerError, type LedgerErrorCode, type QueryResult } from '../store/Ledger';
import type { LedgerEndpoint } from '../store/LedgerReadServer';
import { resolveRelease } from '../releases/layout';
import { queryRelease } from '../releases/tools';
import { LEDGER_ROW_LIMIT_HINT } from '../store/read-queue';
import { queryInReadProcess, type ReadValue } from '../store/read-process';
import { READ_LIMITS } from '../store/read-query';
import type { OptionSpec, ParsedArgs } from './args';
import type { Command } from './command';
import { csvText, jsonForTerminal, safeForTerminal, visibleControls } from './terminal';

/**
 * One read of the ledger, through the ledger worker's endpoint or, with none running, the file in a
 * read process; `values` are bound to `$1`, `$2`, … (ids and labels typed by a user are never spliced).
 */
export async function queryLedger(config: PreflineConfig, sql: string, values?: readonly ReadValue[]): Promise<QueryResult> {
  if (existsSync(config.ledger.endpointFile)) {
    const endpoint = JSON.parse(readFileSync(config.ledger.endpointFile, 'utf8')) as LedgerEndpoint;
    let response: Response | undefined;
    try {
      response = await fetch(`${endpoint.url}/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql, ...(values !== undefined ? { values } : {}) }),
      });
    } catch {
      response = undefined; // a stale endpoint file from a worker that died: fall back to the file
    }
    if (response) {
      const body = (await response.json()) as QueryResult & { error?: string; code?: LedgerErrorCode };
      if (!response.ok) {
        const message = body.error ?? `query failed with HTTP ${response.status}`;
        throw body.code !== undefined ? new LedgerError(body.code, message) : new Error(message);
      }
      return body;
    }
  }
  if (!existsSync(config.ledger.path)) throw new Error(`no ledger yet at ${config.ledger.path} (no lifecycle has committed)`);
  return queryInReadProcess(config.ledger.path, sql, 'the ledger', { ...READ_LIMITS, rowLimitHint: LEDGER_ROW_LIMIT_HINT }, values);
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** DuckDB types whose values are numbers, times or truth values, never free text (BIGINT and DECIMAL arrive as strings). */
const NOT_TEXT = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL|BIGNUM|VARINT|DATE|TIME|TIMESTAMP|INTERVAL|BOOLEAN)\b/;

/**
 * The result as a table, CSV or JSON, safe to print (cli/terminal.ts): controls in text are shown as
 * visible escapes (in JSON as `\uXXXX`, so values parse back unchanged), and CSV cells that a
 * spreadsheet would run as formulas get a leading `'` — text cells only, so numbers stay numbers.
 */
export function formatResult(result: QueryResult, format: string): string {
  if (format === 'json') return jsonForTerminal(JSON.stringify(result.rows, null, 2));
  if (format === 'csv') {
    // A bare \r ends a line for most CSV readers (Python's csv, pandas) just like \n: quote it too.
    const esc = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const field = (value: unknown, type: string | undefined) =>
      esc(safeForTerminal(csvText(cell(value), typeof value === 'string' && !NOT_TEXT.test(type ?? ''))));
    const header = result.columns.map((c) => field(c, undefined)).join(',');
    return [header, ...result.rows.map((r) => result.columns.map((c, i) => field(r[c], result.columnTypes?.[i])).join(','))].join('\n');
  }
  const shown = (value: unknown) => visibleControls(cell(value));
  const widths = result.columns.map((c) => Math.min(60, Math.max(shown(c).length, ...result.rows.map((r) => shown(r[c]).length))));
  const fit = (v: string, w: number) => (v.length > w ? v.slice(0, w - 1) + '…' : v.padEnd(w));
  const lines = [
    result.columns.map((c, i) => fit(shown(c), widths[i] as number)).join(' │ '),
    widths.map((w) => '─'.repeat(w)).join('─┼─'),
    ...result.rows.map((r) => result.columns.map((c, i) => fit(shown(r[c]), widths[i] as number)).join(' │ ')),
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
  const result = release !== undefined ? await queryRelease((await resolveRelease(config.releasesDir, release)).dir, sql, releaseLimits(format)) : await queryLedger(config, sql);
  process.stdout.write(formatResult(result, format) + '\n');
  return 0;
}

/** Rows a release query may print as a table (a terminal's worth) or export as CSV or JSON. */
export const RELEASE_EXPORT_ROWS = 1_000_000;

/**
 * A release is queried in this process, not in the ledger worker: exports may be larger than the live
 * ledger's 10,000 rows, in CSV or JSON; a table stays at a terminal's worth.
 */
function releaseLimits(format: string): { maxRows: number; rowLimitHint: string } {
  if (format === 'table') {
    return { maxRows: READ_LIMITS.maxRows, rowLimitHint: `; add a LIMIT, or use --format csv or json (up to ${RELEASE_EXPORT_ROWS.toLocaleString('en')} rows)` };
  }
  return { maxRows: RELEASE_EXPORT_ROWS, rowLimitHint: '; add a LIMIT, or read the release\'s parquet files directly' };
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
