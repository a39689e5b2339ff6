/**
 * A campaign's gold file, read by `prefline campaign start --gold`: the same columns as the item file
 * (cli/campaign-items.ts) plus `answer` and `explanation`, as CSV or JSON Lines. An answer is spelt by
 * candidate: first/second (or image1/image2, text1/text2, a/b), tie, both_bad for compare; up/down for
 * thumbs. Every row is checked as its gold lifecycle will check it; bad rows by line and column.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { goldItemErrors } from '../workflows/campaign-input';
import { goldAnswersOf, parseGoldAnswer } from '../workflows/gold';
import type { CampaignGoldItem, CampaignPlan } from '../workflows/types';
import { KNOWN_COLUMNS, MAX_LISTED, inColumns, rowItem } from './campaign-items';

export type GoldFileResult = { ok: true; gold: CampaignGoldItem[] } | { ok: false; errors: string[] };

const GOLD_COLUMNS = ['answer', 'explanation'];

function finishGold(gold: CampaignGoldItem[], problems: string[]): GoldFileResult {
  if (problems.length === 0 && gold.length === 0) return { ok: false, errors: ['the gold file holds no items'] };
  if (problems.length === 0) return { ok: true, gold };
  const listed = problems.slice(0, MAX_LISTED);
  if (problems.length > MAX_LISTED) listed.push(`… and ${problems.length - MAX_LISTED} more`);
  return { ok: false, errors: listed };
}

/** The answer as the file spells it, read for the campaign's task, or the problem with it. */
function answerOf(raw: unknown, plan: CampaignPlan): CampaignGoldItem['answer'] | string {
  const answers = goldAnswersOf(plan.task, plan.allowBothBad !== false);
  const answer = typeof raw === 'string' ? parseGoldAnswer(raw, plan.task, plan.allowBothBad !== false) : undefined;
  if (answer !== undefined) return answer;
  const spellings = plan.task === 'compare' ? `${answers.join(', ')} (first/second also image1/image2, text1/text2, a/b)` : answers.join(', ');
  return `answer: ${raw === undefined || raw === '' ? 'empty' : `"${String(raw)}" is not one`}; a ${plan.task} gold item's answer is one of ${spellings}`;
}

export function parseCsvGold(text: string, plan: CampaignPlan, deadlineAtMs: number, nowMs: number): GoldFileResult {
  let records: Array<{ record: Record<string, string>; info: { lines: number } }>;
  try {
    records = parse(text, {
      bom: true, columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()), skip_empty_lines: true, info: true, relax_column_count: false,
    });
  } catch (err) {
    if (err instanceof CsvError) return { ok: false, errors: [`line ${(err as CsvError & { lines?: number }).lines ?? '?'}: ${err.message}`] };
    throw err;
  }
  const known = [...KNOWN_COLUMNS[plan.task], ...GOLD_COLUMNS];
  const header = records[0] ? Object.keys(records[0].record) : [];
  const unknown = header.filter((h) => !known.includes(h));
  if (unknown.length > 0) return { ok: false, errors: [`line 1: unknown columns ${unknown.join(', ')}; a ${plan.task} gold file has ${known.join(', ')}`] };
  const missing = ['prompt', ...GOLD_COLUMNS].filter((c) => header.length > 0 && !header.includes(c));
  if (missing.length > 0) return { ok: false, errors: [`line 1: the header needs ${missing.join(', ')} column${missing.length > 1 ? 's' : ''}`] };
  const gold: CampaignGoldItem[] = [];
  const problems: string[] = [];
  for (const { record, info } of records) {
    const item = rowItem(plan.task, record);
    if (typeof item === 'string') {
      problems.push(`line ${info.lines}: ${item}`);
      continue;
    }
    const answer = answerOf((record['answer'] ?? '').trim(), plan);
    if (typeof answer === 'string' && answer.startsWith('answer:')) {
      problems.push(`line ${info.lines}: ${answer}`);
      continue;
    }
    const entry: CampaignGoldItem = { ...item, answer: answer as CampaignGoldItem['answer'], explanation: (record['explanation'] ?? '').trim() };
    for (const error of goldItemErrors(plan, entry, deadlineAtMs, nowMs)) problems.push(`line ${info.lines}: ${inColumns(error, entry, plan.task)}`);
    gold.push(entry);
  }
  return finishGold(gold, problems);
}

/** One gold item object per line (the item's fields plus answer and explanation), blank lines skipped. */
export function parseJsonlGold(text: string, plan: CampaignPlan, deadlineAtMs: number, nowMs: number): GoldFileResult {
  const gold: CampaignGoldItem[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch (err) {
      problems.push(`line ${i + 1}: not JSON: ${(err as Error).message}`);
      return;
    }
    if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      const answer = answerOf((entry as { answer?: unknown }).answer, plan);
      if (answer.startsWith('answer:')) {
        problems.push(`line ${i + 1}: ${answer}`);
        return;
      }
      entry = { ...entry, answer };
    }
    for (const error of goldItemErrors(plan, entry, deadlineAtMs, nowMs)) problems.push(`line ${i + 1}: ${error}`);
    gold.push(entry as CampaignGoldItem);
  });
  return finishGold(gold, problems);
}
