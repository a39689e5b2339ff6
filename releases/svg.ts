/**
 * Drawing for report.html: inline SVG built as strings (no scripts, no external assets), every text
 * escaped. Shared by the report's thumbs and comparison sections.
 */
import { BT_ANCHOR, type ComparisonCell } from './bradley-terry';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string);
}

export const fmt = (x: number, digits = 0) => x.toFixed(digits);
export const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
export const shorten = (s: string, n = 28) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function svg(width: number, height: number, title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${body}</svg>`;
}

export const text = (x: number, y: number, s: string, attrs = '') => `<text x="${fmt(x, 1)}" y="${fmt(y, 1)}" ${attrs}>${escapeHtml(s)}</text>`;
export const rect = (x: number, y: number, w: number, h: number, fill: string, title?: string) =>
  `<rect x="${fmt(x, 1)}" y="${fmt(y, 1)}" width="${fmt(Math.max(0, w), 1)}" height="${fmt(Math.max(0, h), 1)}" fill="${fill}">${title ? `<title>${escapeHtml(title)}</title>` : ''}</rect>`;

export function empty(title: string, message: string): string {
  return svg(640, 60, title, text(10, 35, message, 'class="muted"'));
}

/** Horizontal bars with a label column. */
export function hbars(title: string, items: Array<{ label: string; value: number; note: string }>, max: number, color: string): string {
  if (items.length === 0) return empty(title, 'nothing to show');
  const width = 720;
  const labelW = 220;
  const row = 24;
  const height = items.length * row + 10;
  const parts = items.map((it, i) => {
    const y = 5 + i * row;
    const w = ((width - labelW - 90) * Math.max(0, it.value)) / Math.max(max, 1e-9);
    return text(labelW - 8, y + 16, shorten(it.label), 'text-anchor="end"') + rect(labelW, y + 3, w, row - 8, color, `${it.label}: ${it.note}`) + text(labelW + w + 6, y + 16, it.note, 'class="axis"');
  });
  return svg(width, height, title, parts.join(''));
}

/** A model's Bradley–Terry score, interval and rank, as either fit reports it. */
export interface Rating {
  model: string;
  score: number | null;
  low: number | null;
  high: number | null;
  rank: number | null;
}

/** Bradley–Terry scores as dots with 95% bootstrap intervals. */
export function btPlot(title: string, ratings: readonly Rating[], emptyMessage: string): string {
  const rated = ratings.filter((r) => r.score !== null).sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
  if (rated.length === 0) return empty(title, emptyMessage);
  const width = 720;
  const labelW = 220;
  const row = 28;
  const height = rated.length * row + 40;
  const lo = Math.min(BT_ANCHOR, ...rated.map((r) => r.low as number)) - 20;
  const hi = Math.max(BT_ANCHOR, ...rated.map((r) => r.high as number)) + 20;
  const x = (v: number) => labelW + ((width - labelW - 170) * (v - lo)) / (hi - lo);
  const parts = [`<line x1="${fmt(x(BT_ANCHOR), 1)}" y1="0" x2="${fmt(x(BT_ANCHOR), 1)}" y2="${height - 25}" class="anchor"/>`];
  parts.push(text(x(BT_ANCHOR), height - 8, String(BT_ANCHOR), 'text-anchor="middle" class="axis"'));
  parts.push(text(x(lo), height - 8, fmt(lo), 'text-anchor="start" class="axis"'), text(x(hi), height - 8, fmt(hi), 'text-anchor="end" class="axis"'));
  rated.forEach((r, i) => {
    const y = 14 + i * row;
    const [s, low, high] = [r.score as number, r.low as number, r.high as number];
    parts.push(text(labelW - 8, y + 5, shorten(r.model), 'text-anchor="end"'));
    parts.push(`<line x1="${fmt(x(low), 1)}" y1="${y}" x2="${fmt(x(high), 1)}" y2="${y}" class="whisker"/>`);
    parts.push(`<circle cx="${fmt(x(s), 1)}" cy="${y}" r="5" fill="#4c78a8"><title>${escapeHtml(`${r.model}: ${fmt(s, 1)} [${fmt(low, 1)}, ${fmt(high, 1)}]`)}</title></circle>`);
    parts.push(text(width - 8, y + 4, `${fmt(s)} (${fmt(low)}–${fmt(high)})`, 'text-anchor="end" class="axis"'));
  });
  return svg(width, height, title, parts.join(''));
}

/** Row model's win rate against the column model (ties count half). */
export function winRateMatrix(cells: readonly ComparisonCell[], title = 'win-rate matrix', emptyMessage = 'no A/B comparisons in this release'): string {
  const models = [...new Set(cells.flatMap((c) => [c.modelA, c.modelB]))].sort();
  if (models.length < 2) return empty(title, emptyMessage);
  const stat = new Map<string, { won: number; n: number }>();
  for (const c of cells) {
    const n = c.winsA + c.winsB + c.ties;
    stat.set(`${c.modelA}\u0000${c.modelB}`, { won: c.winsA + c.ties / 2, n });
    stat.set(`${c.modelB}\u0000${c.modelA}`, { won: c.winsB + c.ties / 2, n });
  }
  const cellSize = Math.max(48, Math.min(90, 480 / models.length));
  const labelW = 200;
  const top = 30;
  const width = labelW + cellSize * models.length + 10;
  const height = top + cellSize * models.length + 10;
  const parts: string[] = [];
  models.forEach((m, j) => parts.push(text(labelW + j * cellSize + cellSize / 2, top - 8, shorten(m, 12), 'text-anchor="middle" class="axis"')));
  models.forEach((row, i) => {
    parts.push(text(labelW - 8, top + i * cellSize + cellSize / 2 + 4, shorten(row), 'text-anchor="end"'));
    models.forEach((col, j) => {
      const s = stat.get(`${row}\u0000${col}`);
      const x = labelW + j * cellSize;
      const y = top + i * cellSize;
      if (row === col || !s || s.n === 0) {
        parts.push(rect(x + 1, y + 1, cellSize - 2, cellSize - 2, '#eeeeee'));
        return;
      }
      const rate = s.won / s.n;
      // Diverging: red (always loses) → white (even) → green (always wins).
      const t = Math.abs(rate - 0.5) * 2;
      const [r, g, b] = rate >= 0.5 ? [255 - 180 * t, 255 - 80 * t, 255 - 180 * t] : [255 - 40 * t, 255 - 180 * t, 255 - 180 * t];
      parts.push(rect(x + 1, y + 1, cellSize - 2, cellSize - 2, `rgb(${fmt(r)},${fmt(g)},${fmt(b)})`, `${row} vs ${col}: ${pct(rate)} of ${s.n}`));
      parts.push(text(x + cellSize / 2, y + cellSize / 2, pct(rate), 'text-anchor="middle" class="cell"'));
      parts.push(text(x + cellSize / 2, y + cellSize / 2 + 14, `n=${s.n}`, 'text-anchor="middle" class="axis"'));
    });
  });
  return svg(width, height, title, parts.join(''));
}

