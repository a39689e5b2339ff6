/**
 * A campaign's item file, read by `prefline campaign start`: a CSV of matchups (csv-parse), a parquet
 * file with the same columns (hyparquet), JSON Lines of items, or in generate mode a file of prompts.
 * Every row becomes a CampaignItem and is checked as its lifecycle will check it, so bad rows are
 * reported by line (CSV, JSON Lines, text) or row (parquet, from 1) and field before anything starts.
 *
 * CSV and parquet columns (a header names them; case and surrounding spaces do not matter):
 *   compare: prompt, image1 + image2 or text1 + text2, optional model1 + model2 (labels; default the
 *            column names), optional question;
 *   thumbs:  prompt, image or text, optional model.
 * An image cell is an artifact (`sha256:<hex>`), an https URL, or a path under the import root
 * (`file:<path>`, or the bare relative path as Rapidata's matchups.csv writes it).
 *
 * Generate mode (`models`, from `--models a,b`): the file holds prompts only (CSV or parquet columns
 * prompt and, for compare, question; JSON Lines items without candidates or models; or a .txt file of
 * one prompt per line), and each item's lifecycle generates its candidates: compare one per model of
 * exactly two, thumbs one per model. A file that also brings candidates is refused: one or the other.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { parquetMetadata, parquetReadObjects, parquetSchema, type Compressors } from 'hyparquet';
import * as zlib from 'node:zlib';
import { itemErrors } from '../workflows/campaign-input';
import type { BroughtCandidateInput, CampaignItem, CampaignPlan } from '../workflows/types';

export type ItemFileResult = { ok: true; items: CampaignItem[] } | { ok: false; errors: string[] };

/** How the items get their candidates: brought by the file's columns (absent), or generated from these models. */
export interface ItemFileOptions {
  models?: string[];
}

/** At most this many problems are listed; the rest are counted. */
export const MAX_LISTED = 50;

const COMPARE_SIDES = [['image1', 'image2'], ['text1', 'text2']] as const;
export const KNOWN_COLUMNS = {
  compare: ['prompt', 'image1', 'image2', 'text1', 'text2', 'model1', 'model2', 'question'],
  thumbs: ['prompt', 'image', 'text', 'model'],
};
/** The columns of a prompts file in generate mode. */
const PROMPT_COLUMNS = { compare: ['prompt', 'question'], thumbs: ['prompt'] };

function imageRef(cell: string): string {
  return /^(sha256:|file:|https?:\/\/)/.test(cell) ? cell : `file:${cell}`;
}

function candidate(column: string, cell: string, model: string): BroughtCandidateInput {
  return column.startsWith('image') ? { ref: imageRef(cell), model, kind: 'image' } : { text: cell, model };
}

/** A generated item's models: compare one candidate from each of two; thumbs one from each (`candidates: 1` with a single model). */
function generated(task: CampaignPlan['task'], models: string[]): Pick<CampaignItem, 'model' | 'models' | 'candidates'> {
  return task === 'thumbs' && models.length === 1 ? { model: models[0]!, candidates: 1 } : { models: [...models] };
}

/** A CSV or parquet row's item, or the problem with its columns. */
export function rowItem(task: CampaignPlan['task'], row: Record<string, string>, models?: string[]): CampaignItem | string {
  const cell = (name: string) => (row[name] ?? '').trim();
  const item: CampaignItem = { prompt: cell('prompt') };
  if (models !== undefined) {
    if (task === 'compare' && cell('question') !== '') item.question = cell('question');
    return { ...item, ...generated(task, models) };
  }
  if (task === 'compare') {
    const sides = COMPARE_SIDES.find(([a, b]) => cell(a) !== '' || cell(b) !== '');
    if (!sides) return 'image1/image2 or text1/text2: every row needs its two candidates (or start with --models a,b to generate them)';
    const [a, b] = sides;
    for (const column of sides) if (cell(column) === '') return `${column}: empty`;
    item.candidates = [candidate(a, cell(a), cell('model1') || a), candidate(b, cell(b), cell('model2') || b)];
    if (cell('question') !== '') item.question = cell('question');
  } else {
    const column = cell('image') !== '' ? 'image' : cell('text') !== '' ? 'text' : undefined;
    if (!column) return 'image or text: every row needs its candidate (or start with --models a to generate it)';
    item.candidates = [candidate(column, cell(column), cell('model') || column)];
  }
  return item;
}

/** Field names of an item's lifecycle input, as the file's columns name them. */
export function inColumns(error: string, item: CampaignItem, task: CampaignPlan['task']): string {
  const columns = task === 'compare'
    ? (Array.isArray(item.candidates) && item.candidates[0] && 'ref' in item.candidates[0] ? ['image1', 'image2'] : ['text1', 'text2'])
    : [Array.isArray(item.candidates) && item.candidates[0] && 'ref' in item.candidates[0] ? 'image' : 'text'];
  return error.replace(/^candidates\[(\d)\](\.\w+)?/, (_, i: string) => columns[Number(i)] ?? `candidates[${i}]`);
}

export function finish(items: CampaignItem[], problems: string[]): ItemFileResult {
  if (problems.length === 0 && items.length === 0) return { ok: false, errors: ['the file holds no items'] };
  if (problems.length === 0) return { ok: true, items };
  const listed = problems.slice(0, MAX_LISTED);
  if (problems.length > MAX_LISTED) listed.push(`… and ${problems.length - MAX_LISTED} more`);
  return { ok: false, errors: listed };
}

/** The problem with a header, if any: unknown columns, no prompt, or candidates brought in generate mode. */
function headerProblem(header: string[], plan: CampaignPlan, options: ItemFileOptions): string | undefined {
  const unknown = header.filter((h) => !KNOWN_COLUMNS[plan.task].includes(h));
  if (unknown.length > 0) return `unknown columns ${unknown.join(', ')}; a ${plan.task} file has ${KNOWN_COLUMNS[plan.task].join(', ')}`;
  if (header.length > 0 && !header.includes('prompt')) return 'the header needs a prompt column';
  const bringing = header.filter((h) => !PROMPT_COLUMNS[plan.task].includes(h));
  if (options.models !== undefined && bringing.length > 0) {
    return `columns ${bringing.join(', ')} bring candidates, and --models generates them: give a file of prompts (${PROMPT_COLUMNS[plan.task].join(', ')}) with --models, or drop --models`;
  }
  return undefined;
}

/** Items of rows (CSV or parquet), each named by `where` in its problems. */
function itemsOfRows(rows: Iterable<{ where: string; row: Record<string, string> }>, plan: CampaignPlan, deadlineAtMs: number, nowMs: number, options: ItemFileOptions): ItemFileResult {
  const items: CampaignItem[] = [];
  const problems: string[] = [];
  for (const { where, row } of rows) {
    const item = rowItem(plan.task, row, options.models);
    if (typeof item === 'string') {
      problems.push(`${where}: ${item}`);
      continue;
    }
    for (const error of itemErrors(plan, item, deadlineAtMs, nowMs)) problems.push(`${where}: ${inColumns(error, item, plan.task)}`);
    items.push(item);
  }
  return finish(items, problems);
}

/** Items of a CSV file; `plan` is the campaign's (its task, responses, channel) for checking each row. */
export function parseCsvItems(text: string, plan: CampaignPlan, deadlineAtMs: number, nowMs: number, options: ItemFileOptions = {}): ItemFileResult {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(text, {
      bom: true, columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, info: true, relax_column_count: false,
    });
  } catch (err) {
    if (err instanceof CsvError) return { ok: false, errors: [`line ${(err as CsvError & { lines?: number }).lines ?? '?'}: ${err.message}`] };
    throw err;
  }
  const header = records[0] ? Object.keys(records[0].record) : [];
  const problem = headerProblem(header, plan, options);
  if (problem !== undefined) return { ok: false, errors: [`line 1: ${problem}`] };
  return itemsOfRows(records.map(({ record, info }) => ({ where: `line ${info.lines}`, row: record })), plan, deadlineAtMs, nowMs, options);
}

/** Page codecs beyond hyparquet's own (snappy, none), from node:zlib; zstd where the runtime has it (Node 22.15+). */
function parquetCompressors(): Compressors {
  const zstd = (zlib as { zstdDecompressSync?: (input: Uint8Array) => Buffer }).zstdDecompressSync;
  return {
    GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
    BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
    ...(zstd ? { ZSTD: (input: Uint8Array) => new Uint8Array(zstd(input)) } : {}),
  };
}

/** What a cell that is not text holds, in words. */
function describeCell(value: unknown): string {
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a struct' : typeof value;
}

/** A parquet cell as text: strings as they are, numbers and booleans written out, null empty; anything else is no cell of ours. */
function cellText(value: unknown): string | undefined {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Items of a parquet file with the CSV's columns, rows named from 1. Cells must be text (a path, URL
 * or artifact for images): image bytes inside the file are refused by row and column.
 */
export async function parseParquetItems(bytes: Uint8Array, plan: CampaignPlan, deadlineAtMs: number, nowMs: number, options: ItemFileOptions = {}): Promise<ItemFileResult> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let names: string[];
  let records: Array<Record<string, unknown>>;
  try {
    names = parquetSchema(parquetMetadata(file)).children.map((c) => c.element.name);
    records = await parquetReadObjects({ file, compressors: parquetCompressors() });
  } catch (err) {
    return { ok: false, errors: [`cannot read it as parquet (snappy, gzip, brotli or no compression; zstd from Node 22.15): ${(err as Error).message}`] };
  }
  const header = names.map((n) => n.trim().toLowerCase());
  const problem = headerProblem(header, plan, options);
  if (problem !== undefined) return { ok: false, errors: [`columns: ${problem}`] };
  const problems: string[] = [];
  const rows = records.flatMap((record, i) => {
    const row: Record<string, string> = {};
    for (const [n, name] of names.entries()) {
      const text = cellText(record[name]);
      if (text === undefined) {
        problems.push(`row ${i + 1}: ${header[n]}: must be text (a path, an https URL or a sha256: artifact), not ${describeCell(record[name])}`);
        return [];
      }
      row[header[n]!] = text;
    }
    return [{ where: `row ${i + 1}`, row }];
  });
  const result = itemsOfRows(rows, plan, deadlineAtMs, nowMs, options);
  if (problems.length === 0) return result;
  return finish([], [...problems, ...(result.ok ? [] : result.errors.filter((e) => e !== 'the file holds no items'))].sort(byRow));
}

/** Problems in row order ("row 2" before "row 10"). */
function byRow(a: string, b: string): number {
  const n = (s: string) => Number(/^row (\d+)/.exec(s)?.[1] ?? Number.MAX_SAFE_INTEGER);
  return n(a) - n(b);
}

/** Items of a prompts file (generate mode): one prompt per line, blank lines skipped. */
export function parsePromptLines(text: string, plan: CampaignPlan, deadlineAtMs: number, nowMs: number, options: ItemFileOptions): ItemFileResult {
  if (options.models === undefined) return { ok: false, errors: ['a file of prompts needs --models to generate the candidates from'] };
  const rows = text.split(/\r?\n/).flatMap((line, i) => (line.trim() === '' ? [] : [{ where: `line ${i + 1}`, row: { prompt: line } }]));
  return itemsOfRows(rows, plan, deadlineAtMs, nowMs, options);
}

/** Items of a JSON Lines file: one item object per line, blank lines skipped; in generate mode items without candidates or models. */
export function parseJsonlItems(text: string, plan: CampaignPlan, deadlineAtMs: number, nowMs: number, options: ItemFileOptions = {}): ItemFileResult {
  const items: CampaignItem[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (err) {
      problems.push(`line ${i + 1}: not JSON: ${(err as Error).message}`);
      return;
    }
    if (options.models !== undefined && typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const fields = Object.keys(item);
      const own = ['model', 'models', 'candidates'].filter((k) => fields.includes(k));
      if (own.length > 0) {
        problems.push(`line ${i + 1}: ${own.join(', ')}: the item brings its own, and --models generates them: give one or the other`);
        return;
      }
      item = { ...(item as CampaignItem), ...generated(plan.task, options.models) };
    }
    for (const error of itemErrors(plan, item, deadlineAtMs, nowMs)) problems.push(`line ${i + 1}: ${error}`);
    items.push(item as CampaignItem);
  });
  return finish(items, problems);
}
