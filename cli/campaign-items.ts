/**
 * A campaign's item file, read by `prefline campaign start`: a CSV of matchups (csv-parse) or JSON Lines
 * of items. Every row becomes a CampaignItem and is checked as its lifecycle will check it, so bad rows
 * are reported by line and field before anything starts.
 *
 * CSV columns (a header row names them; case and surrounding spaces do not matter):
 *   compare: prompt, image1 + image2 or text1 + text2, optional model1 + model2 (labels; default the
 *            column names), optional question;
 *   thumbs:  prompt, image or text, optional model.
 * An image cell is an artifact (`sha256:<hex>`), an https URL, or a path under the import root
 * (`file:<path>`, or the bare relative path as Rapidata's matchups.csv writes it).
 */
import { CsvError, parse } from 'csv-parse/sync';
import { itemErrors } from '../workflows/campaign-input';
import type { BroughtCandidateInput, CampaignItem, CampaignPlan } from '../workflows/types';

export type ItemFileResult = { ok: true; items: CampaignItem[] } | { ok: false; errors: string[] };

/** At most this many problems are listed; the rest are counted. */
export const MAX_LISTED = 50;

const COMPARE_SIDES = [['image1', 'image2'], ['text1', 'text2']] as const;
export const KNOWN_COLUMNS = {
  compare: ['prompt', 'image1', 'image2', 'text1', 'text2', 'model1', 'model2', 'question'],
  thumbs: ['prompt', 'image', 'text', 'model'],
};

function imageRef(cell: string): string {
  return /^(sha256:|file:|https?:\/\/)/.test(cell) ? cell : `file:${cell}`;
}

function candidate(column: string, cell: string, model: string): BroughtCandidateInput {
  return column.startsWith('image') ? { ref: imageRef(cell), model, kind: 'image' } : { text: cell, model };
}

/** A CSV row's item, or the problem with its columns. */
export function rowItem(task: CampaignPlan['task'], row: Record<string, string>): CampaignItem | string {
  const cell = (name: string) => (row[name] ?? '').trim();
  const item: CampaignItem = { prompt: cell('prompt') };
  if (task === 'compare') {
    const sides = COMPARE_SIDES.find(([a, b]) => cell(a) !== '' || cell(b) !== '');
    if (!sides) return 'image1/image2 or text1/text2: every row needs its two candidates';
    const [a, b] = sides;
    for (const column of sides) if (cell(column) === '') return `${column}: empty`;
    item.candidates = [candidate(a, cell(a), cell('model1') || a), candidate(b, cell(b), cell('model2') || b)];
    if (cell('question') !== '') item.question = cell('question');
  } else {
    const column = cell('image') !== '' ? 'image' : cell('text') !== '' ? 'text' : undefined;
    if (!column) return 'image or text: every row needs its candidate';
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

/** Items of a CSV file; `plan` is the campaign's (its task, responses, channel) for checking each row. */
export function parseCsvItems(text: string, plan: CampaignPlan, deadlineAtMs: number, nowMs: number): ItemFileResult {
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
  const unknown = header.filter((h) => !KNOWN_COLUMNS[plan.task].includes(h));
  if (unknown.length > 0) return { ok: false, errors: [`line 1: unknown columns ${unknown.join(', ')}; a ${plan.task} file has ${KNOWN_COLUMNS[plan.task].join(', ')}`] };
  if (header.length > 0 && !header.includes('prompt')) return { ok: false, errors: ['line 1: the header needs a prompt column'] };
  const items: CampaignItem[] = [];
  const problems: string[] = [];
  for (const { record, info } of records) {
    const item = rowItem(plan.task, record);
    if (typeof item === 'string') {
      problems.push(`line ${info.lines}: ${item}`);
      continue;
    }
    for (const error of itemErrors(plan, item, deadlineAtMs, nowMs)) problems.push(`line ${info.lines}: ${inColumns(error, item, plan.task)}`);
    items.push(item);
  }
  return finish(items, problems);
}

/** Items of a JSON Lines file: one item object per line, blank lines skipped. */
export function parseJsonlItems(text: string, plan: CampaignPlan, deadlineAtMs: number, nowMs: number): ItemFileResult {
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
    for (const error of itemErrors(plan, item, deadlineAtMs, nowMs)) problems.push(`line ${i + 1}: ${error}`);
    items.push(item as CampaignItem);
  });
  return finish(items, problems);
}
