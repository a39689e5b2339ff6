/**
 * A release's `report.html`: one self-contained page (inline SVG and data: images, no scripts or
 * external assets; its Content-Security-Policy forbids them). It depends on the release's data and
 * cutoff only — never on the time of publishing — so republishing a cutoff gives the same bytes.
 * The comparison sections are in report-compare.ts, the drawing in svg.ts, the dataset card
 * (`README.md`) in dataset-card.ts.
 */
import type { AlphaResult } from './agreement';
import { BT_ANCHOR, type ComparisonCell } from './bradley-terry';
import type { ChatReleaseStats } from './chat';
import type { ReleaseStats, ReleaseTable } from './layout';
import type { CampaignReport } from './campaign-files';
import { campaignSections } from './report-campaigns';
import { compareSections } from './report-compare';
import type { ShowcaseMatchup } from './showcase';
import { btPlot, empty, escapeHtml, fmt, hbars, pct, rect, shorten, svg, text, winRateMatrix } from './svg';

export { renderDatasetCard } from './dataset-card';
export { escapeHtml } from './svg';

export interface LeaderboardRow {
  model: string;
  lifecycles: number;
  candidates: number;
  votes: number;
  up: number;
  down: number;
  approval_rate: number | null;
  ab_comparisons: number;
  ab_wins: number;
  ab_losses: number;
  ab_ties: number;
  bt_score: number | null;
  bt_ci_low: number | null;
  bt_ci_high: number | null;
  bt_rank: number | null;
  /** The same over judgements: one comparison per rater's standing answer (releases/standings.ts). */
  compare_comparisons: number;
  compare_wins: number;
  compare_losses: number;
  compare_ties: number;
  compare_both_bad: number;
  compare_bt_score: number | null;
  compare_bt_ci_low: number | null;
  compare_bt_ci_high: number | null;
  compare_bt_rank: number | null;
}

export interface ReportData {
  releaseId: string;
  cutoff: string;
  rows: Record<ReleaseTable, number>;
  stats: ReleaseStats;
  chat: ChatReleaseStats;
  daily: Array<{ day: string; votes: number; retractions: number }>;
  leaderboard: LeaderboardRow[];
  cells: ComparisonCell[];
  topRaters: Array<{ rater: string; votes: number }>;
  agreement: { overall: AlphaResult; perModel: Array<{ model: string } & AlphaResult> };
  /** Judgements between different models per pair (releases/comparisons.ts). */
  compareCells: ComparisonCell[];
  showcase: ShowcaseMatchup[];
  /** One section each (releases/report-campaigns.ts); absent or empty: no campaign section. */
  campaigns?: CampaignReport[];
}

/** Vote events per UTC day, retractions stacked on top. */
function votesOverTime(daily: ReportData['daily']): string {
  if (daily.length === 0) return empty('votes over time', 'no votes in this release');
  const width = 720;
  const height = 240;
  const left = 50;
  const bottom = 40;
  const max = Math.max(1, ...daily.map((d) => d.votes + d.retractions));
  const slot = (width - left - 10) / daily.length;
  const y = (v: number) => ((height - bottom - 20) * v) / max;
  const parts = [text(left - 6, 24, String(max), 'text-anchor="end" class="axis"'), text(left - 6, height - bottom, '0', 'text-anchor="end" class="axis"')];
  parts.push(`<line x1="${left}" y1="${height - bottom}" x2="${width - 10}" y2="${height - bottom}" class="axisline"/>`);
  const labelEvery = Math.ceil(daily.length / 8);
  daily.forEach((d, i) => {
    const w = Math.min(slot * 0.8, 60);
    const x = left + i * slot + (slot - w) / 2;
    parts.push(rect(x, height - bottom - y(d.votes), w, y(d.votes), '#4c78a8', `${d.day}: ${d.votes} votes`));
    parts.push(rect(x, height - bottom - y(d.votes) - y(d.retractions), w, y(d.retractions), '#f58518', `${d.day}: ${d.retractions} retractions`));
    if (i % labelEvery === 0) parts.push(text(x + w / 2, height - bottom + 16, d.day.slice(5), 'text-anchor="middle" class="axis"'));
  });
  parts.push(rect(width - 200, 6, 10, 10, '#4c78a8'), text(width - 186, 15, 'votes', 'class="axis"'));
  parts.push(rect(width - 130, 6, 10, 10, '#f58518'), text(width - 116, 15, 'retractions', 'class="axis"'));
  return svg(width, height, 'votes over time', parts.join(''));
}

function agreementPlot(agreement: ReportData['agreement']): string {
  const items = [{ model: 'all models', ...agreement.overall }, ...agreement.perModel].filter((a) => a.alpha !== null);
  if (items.length === 0) return empty("Krippendorff's alpha", 'no candidate was rated by two or more raters');
  const width = 720;
  const labelW = 220;
  const row = 24;
  const height = items.length * row + 30;
  // Alpha ranges over [-1, 1]; draw from -1 with a zero line.
  const x = (v: number) => labelW + ((width - labelW - 120) * (v + 1)) / 2;
  const parts = [`<line x1="${fmt(x(0), 1)}" y1="0" x2="${fmt(x(0), 1)}" y2="${height - 20}" class="anchor"/>`];
  parts.push(text(x(-1), height - 6, '−1', 'class="axis"'), text(x(0), height - 6, '0', 'text-anchor="middle" class="axis"'), text(x(1), height - 6, '1', 'text-anchor="end" class="axis"'));
  items.forEach((a, i) => {
    const y = 5 + i * row;
    const v = a.alpha as number;
    parts.push(text(labelW - 8, y + 16, shorten(a.model), 'text-anchor="end"'));
    parts.push(rect(Math.min(x(0), x(v)), y + 3, Math.abs(x(v) - x(0)), row - 8, v >= 0 ? '#54a24b' : '#e45756', `${a.model}: α = ${v.toFixed(3)} over ${a.items} candidates`));
    parts.push(text(Math.max(x(0), x(v)) + 6, y + 16, `α = ${v.toFixed(3)} (${a.items} items)`, 'class="axis"'));
  });
  return svg(width, height, "Krippendorff's alpha", parts.join(''));
}

function leaderboardTable(rows: LeaderboardRow[]): string {
  const head = ['rank', 'model', 'BT score', '95% CI', 'A/B comparisons', 'W–L–T', 'votes', 'approval', 'candidates', 'lifecycles'];
  const body = [...rows]
    .sort((a, b) => (a.bt_rank ?? Infinity) - (b.bt_rank ?? Infinity) || a.model.localeCompare(b.model))
    .map((r) =>
      [
        r.bt_rank ?? '–', escapeHtml(r.model), r.bt_score === null ? '–' : fmt(r.bt_score, 1),
        r.bt_ci_low === null || r.bt_ci_high === null ? '–' : `${fmt(r.bt_ci_low, 1)} – ${fmt(r.bt_ci_high, 1)}`,
        r.ab_comparisons, `${r.ab_wins}–${r.ab_losses}–${r.ab_ties}`, r.votes, pct(r.approval_rate), r.candidates, r.lifecycles,
      ].map((v) => `<td>${v}</td>`).join(''),
    );
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.map((b) => `<tr>${b}</tr>`).join('')}</tbody></table>`;
}

export function renderReport(data: ReportData): string {
  const { stats, rows } = data;
  const approval = data.leaderboard.filter((r) => r.approval_rate !== null).map((r) => ({ label: r.model, value: r.approval_rate as number, note: `${pct(r.approval_rate)} of ${r.votes}` }));
  const raters = data.topRaters.map((r) => ({ label: r.rater, value: r.votes, note: String(r.votes) }));
  const ratings = data.leaderboard.map((r) => ({ model: r.model, score: r.bt_score, low: r.bt_ci_low, high: r.bt_ci_high, rank: r.bt_rank }));
  const card = (label: string, value: string) => `<div class="card"><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`;
  const section = (id: string, title: string, note: string, body: string) => `<section id="${id}"><h2>${escapeHtml(title)}</h2><p class="note">${note}</p>${body}</section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>Prefline release ${escapeHtml(data.releaseId)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 16px}
h1{margin-bottom:4px}h2{margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
.note,.muted{color:#666;font-size:13px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:120px}.card .value{font-size:22px;font-weight:600}.card .label{color:#666;font-size:12px}
svg.plot{max-width:100%;height:auto;font-size:12px}svg text{fill:#222}svg .axis{fill:#666;font-size:11px}svg .cell{font-weight:600}
.axisline{stroke:#999}.anchor{stroke:#bbb;stroke-dasharray:4 3}.whisker{stroke:#4c78a8;stroke-width:2}
table{border-collapse:collapse;font-size:13px;margin-top:8px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}
figure.matchup{margin:18px 0;padding:12px;border:1px solid #ddd;border-radius:6px}figure.matchup figcaption{margin-bottom:8px;font-size:14px}
.pair{display:flex;gap:12px;margin-bottom:8px}.side{flex:1;min-width:0}.side img{width:100%;max-height:420px;object-fit:contain;display:block}
.textcand{white-space:pre-wrap;border:1px solid #eee;background:#fafafa;padding:8px;font-size:13px;max-height:260px;overflow:auto}
.missing{border:1px dashed #bbb;color:#666;padding:24px 8px;font-size:12px;word-break:break-all}.caption{font-size:13px;margin-top:4px}
svg.votebar{width:100%;height:auto;font-size:14px}svg .barlabel{fill:#fff;font-weight:600}
</style></head><body>
<h1>Prefline release ${escapeHtml(data.releaseId)}</h1>
<p class="muted">Every lifecycle whose ledger commit finished at or before ${escapeHtml(data.cutoff)}. Raters are keyed-hash pseudonyms.</p>
<div class="cards">${[
    card('lifecycles', String(rows.lifecycles)), card('candidates', String(rows.candidates)), card('standing votes', String(rows.votes)),
    card('vote events', String(rows.vote_events)), card('preference pairs', String(rows.preferences)), card('tied pairs', String(stats.tiedPairs)),
    card('A/B comparisons', String(stats.abComparisons)), card('raters', String(stats.raters)),
    card('battles', String(stats.battles)), card('matchups', String(rows.matchups)),
    card('ties · both bad', `${stats.compareTies} · ${stats.compareBothBad}`),
    card('left wins', stats.positionBias.leftShare === null ? '–' : pct(stats.positionBias.leftShare)),
    card("Krippendorff's α", stats.krippendorffAlpha === null ? '–' : stats.krippendorffAlpha.toFixed(3)),
  ].join('')}</div>
${section('votes-over-time', 'Votes over time', 'Vote events per UTC day (cast time); retractions stacked on top.', votesOverTime(data.daily))}
${section('approval', 'Approval per model', 'Up votes / (up + down) over standing votes on each model’s candidates.', hbars('approval per model', approval, 1, '#54a24b'))}
${section('bradley-terry', 'Bradley–Terry scores', `Fitted on comparisons between candidates of different models in one lifecycle (higher score wins; ties count half), Elo scale anchored at ${BT_ANCHOR}; bars are 95% bootstrap intervals.`, btPlot('Bradley–Terry scores', ratings, 'no A/B comparisons (lifecycles with candidates of two or more models) in this release'))}
${section('win-rate', 'Win-rate matrix', 'How often the row model’s candidate out-scored the column model’s in the same lifecycle (ties count half).', winRateMatrix(data.cells))}
${section('raters', 'Votes per rater', `Standing votes of the ${data.topRaters.length} most active of ${stats.raters} raters (pseudonyms).`, hbars('votes per rater', raters, Math.max(1, ...raters.map((r) => r.value)), '#72b7b2'))}
${section('agreement', 'Rater agreement', "Krippendorff's alpha for nominal data over (item = candidate, rater, up/down): 1 = perfect agreement, 0 = chance. Only candidates with two or more standing votes count.", agreementPlot(data.agreement))}
${section('leaderboard', 'Leaderboard', 'Models without A/B comparisons have no Bradley–Terry score.', leaderboardTable(data.leaderboard))}
${compareSections(data, section)}
${campaignSections(data.campaigns ?? [], section)}
${section('chat', 'Chat feedback', 'Conversations on the chat page: pairs from corrections and from A/B-judged regenerations (chat_preferences.parquet), thumbs on replies (chat_kto.parquet).', `<div class="cards">${[
    card('conversations', String(data.chat.conversations)), card('messages', String(rows.messages)), card('correction pairs', String(data.chat.correctionPairs)),
    card('A/B pairs', String(data.chat.comparePairs)), card('ties and both bad', String(data.chat.tiedJudgements)), card('KTO rows', String(data.chat.ktoRows)),
  ].join('')}</div>`)}
</body></html>
`;
}
