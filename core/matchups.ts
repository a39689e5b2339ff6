/**
 * A matchups CSV (Rapidata's seed layout: `prompt,image1,image2`, one comparison per row) as compare
 * lifecycle inputs with brought candidates. Pure: the caller reads the file, validates each input as
 * any start is validated (workflows/input.ts), and starts the lifecycles; a campaign reuses the same.
 *
 * Columns (a header row is required; names are case-insensitive, in any order):
 * - `prompt` (required), `image1`, `image2` (required): a reference each, as `candidates[].ref` takes
 *   it (`sha256:<hex>`, `file:<path>`, `https://…`), or a path relative to the CSV's folder, which
 *   becomes `file:<pathPrefix><path>` (pathPrefix: the CSV's folder under the import root);
 * - `model1`, `model2` (optional): the model labels; without them, a path's first folder
 *   (`flux/001.png` → `flux`), else `image1` / `image2`;
 * - `question` (optional): the row's question, else the defaults' one.
 * Other columns are refused, so a misspelt one is not silently dropped. Problems name the row (as a
 * line number of the file) and the column. Quoting as spreadsheets write it; a stray quote inside an
 * unquoted field is kept as text.
 */
import { parse } from 'csv-parse/sync';
import type { LifecycleInput } from '../workflows/types';

export const MATCHUP_COLUMNS = ['prompt', 'image1', 'image2', 'model1', 'model2', 'question'] as const;
type MatchupColumn = (typeof MATCHUP_COLUMNS)[number];

/** Rows a CSV may hold: beyond it, split the file (each row starts a lifecycle). */
export const MAX_MATCHUP_ROWS = 10_000;

export interface MatchupsOptions {
  /** Prepended to bare paths: where the CSV's folder is under the import root (`seed/`); default none. */
  pathPrefix?: string;
  /** Fields every input gets (responses, channel, deadline, campaign, allowBothBad, …). */
  defaults?: Omit<Partial<LifecycleInput>, 'task' | 'prompt' | 'candidates' | 'models' | 'model'>;
}

export interface Matchup {
  /** The row's line in the file (1 is the header). */
  line: number;
  input: LifecycleInput;
}

export interface MatchupsResult {
  matchups: Matchup[];
  /** Every problem, each naming its line and column; with any, no row should be started. */
  errors: string[];
}

const REF = /^(sha256:|file:|https?:\/\/)/i;

function refOf(value: string, pathPrefix: string): string {
  return REF.test(value) ? value : `file:${pathPrefix}${value}`;
}

function modelOf(value: string, column: 'image1' | 'image2'): string {
  if (REF.test(value)) return column;
  const slash = value.indexOf('/');
  return slash > 0 ? value.slice(0, slash) : column;
}

export function parseMatchupsCsv(text: string, options: MatchupsOptions = {}): MatchupsResult {
  const errors: string[] = [];
  let rows: Array<{ record: string[]; info: { lines: number } }>;
  try {
    rows = parse(text, { bom: true, trim: true, skip_empty_lines: true, info: true, relax_column_count: true, relax_quotes: true }) as unknown as typeof rows;
  } catch (err) {
    const lines = (err as { lines?: number }).lines;
    return { matchups: [], errors: [`${lines !== undefined ? `line ${lines}: ` : ''}not a readable CSV: ${(err as Error).message}`] };
  }
  const [header, ...records] = rows;
  if (!header) return { matchups: [], errors: ['the file is empty: expected a header row prompt,image1,image2'] };
  const names = header.record.map((n) => n.toLowerCase());
  const unknown = names.filter((n) => !(MATCHUP_COLUMNS as readonly string[]).includes(n));
  if (unknown.length > 0) errors.push(`line 1: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${MATCHUP_COLUMNS.join(', ')}`);
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0) errors.push(`line 1: column ${JSON.stringify(repeated[0])} appears twice`);
  for (const required of ['prompt', 'image1', 'image2'] as const) {
    if (!names.includes(required)) errors.push(`line 1: missing column "${required}"`);
  }
  if (records.length === 0) errors.push('no matchups: the file has a header and no rows');
  if (records.length > MAX_MATCHUP_ROWS) errors.push(`${records.length} rows: at most ${MAX_MATCHUP_ROWS.toLocaleString('en')} matchups per file; split it`);
  if (errors.length > 0) return { matchups: [], errors };

  const pathPrefix = options.pathPrefix ?? '';
  const matchups: Matchup[] = [];
  for (const { record, info } of records) {
    const line = info.lines;
    if (record.length !== names.length) {
      errors.push(`line ${line}: ${record.length} fields, the header has ${names.length}`);
      continue;
    }
    const row = Object.fromEntries(names.map((n, i) => [n, record[i] ?? ''])) as Partial<Record<MatchupColumn, string>>;
    const missing = (['prompt', 'image1', 'image2'] as const).filter((c) => !row[c]);
    if (missing.length > 0) {
      errors.push(...missing.map((c) => `line ${line}: ${c}: required`));
      continue;
    }
    const image1 = row.image1 as string;
    const image2 = row.image2 as string;
    matchups.push({
      line,
      input: {
        ...options.defaults,
        task: 'compare',
        prompt: row.prompt as string,
        ...(row.question ? { question: row.question } : {}),
        candidates: [
          { ref: refOf(image1, pathPrefix), model: row.model1 || modelOf(image1, 'image1'), metadata: { matchup_line: line } },
          { ref: refOf(image2, pathPrefix), model: row.model2 || modelOf(image2, 'image2'), metadata: { matchup_line: line } },
        ],
      },
    });
  }
  return { matchups: errors.length > 0 ? [] : matchups, errors };
}
