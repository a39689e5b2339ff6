/**
 * The comparison sections of report.html: the judgement Bradley–Terry fit and win-rate matrix, the
 * position bias, and the seed's picture of the most contested and most decisive matchups — the two
 * candidates side by side over a horizontal vote bar with the percentages.
 */
import { describePositionBias } from './dataset-card';
import type { PositionBias } from './layout';
import type { ReportData } from './report';
import type { ShowcaseMatchup, ShowcaseSide } from './showcase';
import { btPlot, empty, escapeHtml, fmt, pct, rect, svg, text, winRateMatrix } from './svg';

/** Colours of the vote bar: side A, tie, both bad, side B. */
const BAR = { a: '#4c78a8', tie: '#bab0ac', bothBad: '#e45756', b: '#f58518' } as const;

/** The share of left wins as a dot with its 95% interval on a 0–100% axis, 50% (no bias) marked. */
export function positionBiasPlot(bias: PositionBias): string {
  const title = 'position bias';
  if (bias.leftShare === null) return empty(title, 'no decided judgement in this release');
  const width = 720;
  const left = 60;
  const right = width - 30;
  const x = (share: number) => left + (right - left) * share;
  const y = 30;
  const [share, low, high] = [bias.leftShare, bias.ciLow as number, bias.ciHigh as number];
  const parts = [
    `<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" class="axisline"/>`,
    `<line x1="${fmt(x(0.5), 1)}" y1="8" x2="${fmt(x(0.5), 1)}" y2="${y + 12}" class="anchor"/>`,
    text(left, y + 26, '0% left', 'text-anchor="start" class="axis"'), text(x(0.5), y + 26, '50%', 'text-anchor="middle" class="axis"'),
    text(right, y + 26, '100% left', 'text-anchor="end" class="axis"'),
    `<line x1="${fmt(x(low), 1)}" y1="${y}" x2="${fmt(x(high), 1)}" y2="${y}" class="whisker"/>`,
    `<circle cx="${fmt(x(share), 1)}" cy="${y}" r="6" fill="#4c78a8"><title>${escapeHtml(`left wins ${bias.leftWins} of ${bias.decided}: ${pct(share)} [${pct(low)}, ${pct(high)}]`)}</title></circle>`,
    text(x(share), y - 12, `${pct(share)} (${pct(low)}–${pct(high)})`, 'text-anchor="middle"'),
  ];
  return svg(width, 72, title, parts.join(''));
}

/** Votes for A, ties, both bad and B as one bar, each segment with its share of the standing judgements. */
export function voteBar(m: Pick<ShowcaseMatchup, 'votesA' | 'votesB' | 'ties' | 'bothBad' | 'total'>): string {
  const width = 720;
  const height = 34;
  const segments = [
    { label: 'A', n: m.votesA, fill: BAR.a }, { label: 'tie', n: m.ties, fill: BAR.tie },
    { label: 'both bad', n: m.bothBad, fill: BAR.bothBad }, { label: 'B', n: m.votesB, fill: BAR.b },
  ].filter((s) => s.n > 0);
  const label = segments.map((s) => `${s.label} ${pct(s.n / m.total)}`).join(', ');
  let x = 0;
  const parts = segments.map((s) => {
    const w = (width * s.n) / m.total;
    const part = rect(x, 0, w, height, s.fill, `${s.label}: ${s.n} of ${m.total}`) +
      (w >= 46 ? text(x + w / 2, height / 2 + 5, pct(s.n / m.total), 'text-anchor="middle" class="barlabel"') : '');
    x += w;
    return part;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="votebar" role="img" aria-label="${escapeHtml(`votes: ${label}`)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

function candidate(label: 'A' | 'B', side: ShowcaseSide): string {
  const body = side.image
    ? `<img src="${side.image}" alt="${escapeHtml(`candidate ${label} (${side.model})`)}">`
    : side.text !== null
      ? `<div class="textcand">${escapeHtml(side.text)}</div>`
      : `<div class="missing">${escapeHtml(`${side.path} (${side.note ?? 'not inlined'})`)}</div>`;
  return `<div class="side">${body}<div class="caption"><b>${label}</b> · ${escapeHtml(side.model)}</div></div>`;
}

function matchupFigure(m: ShowcaseMatchup): string {
  const winner = m.winner === 'tie' ? 'tie' : `${m.winner.toUpperCase()} wins`;
  return `<figure class="matchup" data-lifecycle="${escapeHtml(m.lifecycleId)}" data-why="${m.why}">
<figcaption><b>${escapeHtml(m.prompt)}</b>${m.question ? ` — ${escapeHtml(m.question)}` : ''}<br><span class="muted">${escapeHtml(m.lifecycleId)} · ${m.total} answer${m.total === 1 ? '' : 's'} · ratio ${m.ratio.toFixed(2)} · ${winner}</span></figcaption>
<div class="pair">${candidate('A', m.a)}${candidate('B', m.b)}</div>
${voteBar(m)}
</figure>`;
}

function showcase(matchups: readonly ShowcaseMatchup[], why: ShowcaseMatchup['why']): string {
  const picked = matchups.filter((m) => m.why === why);
  if (picked.length === 0) return `<p class="muted">no matchup with a decided judgement in this release</p>`;
  return picked.map(matchupFigure).join('\n');
}

function compareTable(rows: ReportData['leaderboard']): string {
  const head = ['rank', 'model', 'BT score', '95% CI', 'comparisons', 'W–L–T', 'both bad'];
  const body = rows
    .filter((r) => r.compare_comparisons + r.compare_both_bad > 0)
    .sort((a, b) => (a.compare_bt_rank ?? Infinity) - (b.compare_bt_rank ?? Infinity) || a.model.localeCompare(b.model))
    .map((r) => [
      r.compare_bt_rank ?? '–', escapeHtml(r.model), r.compare_bt_score === null ? '–' : fmt(r.compare_bt_score, 1),
      r.compare_bt_ci_low === null || r.compare_bt_ci_high === null ? '–' : `${fmt(r.compare_bt_ci_low, 1)} – ${fmt(r.compare_bt_ci_high, 1)}`,
      r.compare_comparisons, `${r.compare_wins}–${r.compare_losses}–${r.compare_ties}`, r.compare_both_bad,
    ].map((v) => `<td>${v}</td>`).join(''));
  if (body.length === 0) return `<p class="muted">no judgements in this release</p>`;
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.map((b) => `<tr>${b}</tr>`).join('')}</tbody></table>`;
}

/** The report's comparison sections, in page order; `section` wraps a body with its id, title and note. */
export function compareSections(data: ReportData, section: (id: string, title: string, note: string, body: string) => string): string {
  const ratings = data.leaderboard.map((r) => ({ model: r.model, score: r.compare_bt_score, low: r.compare_bt_ci_low, high: r.compare_bt_ci_high, rank: r.compare_bt_rank }));
  return [
    section('compare-bradley-terry', 'Bradley–Terry scores over judgements',
      'One comparison per rater’s standing answer between candidates of different models (ties count half, both-bad left out), Elo scale anchored at 1000; bars are 95% bootstrap intervals over judgements. Fitted apart from the thumbs scores above.',
      btPlot('Bradley–Terry scores over judgements', ratings, 'no judgements between candidates of different models in this release') + compareTable(data.leaderboard)),
    section('compare-win-rate', 'Win-rate matrix over judgements', 'How often raters preferred the row model’s candidate to the column model’s (ties count half).',
      winRateMatrix(data.compareCells, 'win-rate matrix over judgements', 'no judgements between candidates of different models in this release')),
    section('position-bias', 'Position bias', `${escapeHtml(describePositionBias(data.stats.positionBias))}. Each rater sees the two candidates in an order of their own; a share far from 50% means raters favour a side.`,
      positionBiasPlot(data.stats.positionBias)),
    section('contested', 'Most contested matchups', 'The matchups whose decided votes split most evenly (lowest ratio = max / (A + B)).', showcase(data.showcase, 'contested')),
    section('decisive', 'Most decisive matchups', 'The matchups with the highest ratio, the most decided votes first among equals.', showcase(data.showcase, 'decisive')),
  ].join('\n');
}
