/**
 * The campaign sections of report.html, one per campaign (releases/campaign-files.ts gathers them):
 * progress over time (answers per hour or day), answers per rater, the gold accuracy distribution and
 * the items by why they ended.
 */
import type { CampaignReport } from './campaign-files';
import { empty, escapeHtml, hbars, rect, svg, text } from './svg';

type Section = (id: string, title: string, note: string, body: string) => string;

/** Answers per time bucket as columns, the first and last bucket labelled. */
export function progressPlot(report: Pick<CampaignReport, 'progress' | 'progressUnit'>): string {
  const title = 'campaign progress';
  if (report.progress.length === 0) return empty(title, 'no answers in this release');
  const width = 720;
  const height = 180;
  const left = 50;
  const bottom = 30;
  const max = Math.max(1, ...report.progress.map((p) => p.answers));
  const slot = (width - left - 10) / report.progress.length;
  const y = (v: number) => ((height - bottom - 14) * v) / max;
  const label = (at: string) => (report.progressUnit === 'hour' ? at.slice(5, 16).replace('T', ' ') : at.slice(0, 10));
  const parts = [
    text(left - 6, 18, String(max), 'text-anchor="end" class="axis"'), text(left - 6, height - bottom, '0', 'text-anchor="end" class="axis"'),
    `<line x1="${left}" y1="${height - bottom}" x2="${width - 10}" y2="${height - bottom}" class="axisline"/>`,
  ];
  report.progress.forEach((p, i) => {
    const w = Math.max(1, Math.min(slot * 0.8, 40));
    const x = left + i * slot + (slot - w) / 2;
    parts.push(rect(x, height - bottom - y(p.answers), w, y(p.answers), '#4c78a8', `${label(p.at)}: ${p.answers} answers`));
  });
  const first = report.progress[0]!;
  const last = report.progress[report.progress.length - 1]!;
  parts.push(text(left, height - 10, label(first.at), 'text-anchor="start" class="axis"'));
  if (report.progress.length > 1) parts.push(text(width - 10, height - 10, label(last.at), 'text-anchor="end" class="axis"'));
  return svg(width, height, title, parts.join(''));
}

function table(head: string[], body: Array<Array<string | number>>): string {
  return `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body
    .map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(String(v))}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function campaignSection(report: CampaignReport, index: number, section: Section): string {
  const perRater = report.answersPerRater.map((b) => ({ label: `${b.bin} answers`, value: b.raters, note: `${b.raters} raters` }));
  const gold = report.goldAccuracy.map((b) => ({ label: b.bin, value: b.raters, note: `${b.raters} raters` }));
  const body = [
    table(['items', 'done', 'failed', 'answers', 'gold items', 'raters', 'excluded raters', 'phase'], [[
      report.items, report.done, report.failed, report.answers, report.goldItems, report.raters, report.excludedRaters, report.phase,
    ]]),
    `<h3>Progress</h3><p class="note">Standing answers per UTC ${report.progressUnit} (cast time), gold items left out.</p>${progressPlot(report)}`,
    `<h3>Answers per rater</h3>${report.raters === 0 ? empty('answers per rater', 'no rater records') : hbars('answers per rater', perRater, Math.max(1, ...perRater.map((b) => b.value)), '#72b7b2')}`,
    `<h3>Gold accuracy</h3>${gold.length === 0 ? empty('gold accuracy', 'no gold answers in this campaign') : hbars('gold accuracy', gold, Math.max(1, ...gold.map((b) => b.value)), '#54a24b')}`,
    `<h3>Items by end reason</h3>${report.endReasons.length === 0 ? '<p class="muted">no item has ended</p>' : table(['end reason', 'items'], report.endReasons.map((e) => [e.reason, e.items]))}`,
  ].join('\n');
  const note = `Campaign <code>${escapeHtml(report.id)}</code> (${escapeHtml(report.task)}), as of the cutoff. Excluded raters’ answers count in no result; gold items’ answers are never data.`;
  return section(`campaign-${index + 1}`, `Campaign ${report.label}`, note, body);
}

export function campaignSections(reports: readonly CampaignReport[], section: Section): string {
  return reports.map((r, i) => campaignSection(r, i, section)).join('\n');
}
