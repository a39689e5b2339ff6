/**
 * The human-readable parts of a release: `README.md` (a dataset card) and `report.html` (one
 * self-contained page, inline SVG, no scripts or external assets). Both depend on the release's data
 * and cutoff only — never on the time of publishing — so republishing a cutoff gives the same bytes.
 */
import type { AlphaResult } from './agreement';
import { BT_ANCHOR, type ComparisonCell } from './bradley-terry';
import type { ChatReleaseStats } from './chat';
import { PARQUET_TABLES, type ReleaseStats, type ReleaseTable } from './layout';

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
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string);
}

const fmt = (x: number, digits = 0) => x.toFixed(digits);
const pct = (x: number | null) => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
const shorten = (s: string, n = 28) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function svg(width: number, height: number, title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${body}</svg>`;
}

const text = (x: number, y: number, s: string, attrs = '') => `<text x="${fmt(x, 1)}" y="${fmt(y, 1)}" ${attrs}>${escapeHtml(s)}</text>`;
const rect = (x: number, y: number, w: number, h: number, fill: string, title?: string) =>
  `<rect x="${fmt(x, 1)}" y="${fmt(y, 1)}" width="${fmt(Math.max(0, w), 1)}" height="${fmt(Math.max(0, h), 1)}" fill="${fill}">${title ? `<title>${escapeHtml(title)}</title>` : ''}</rect>`;

function empty(title: string, message: string): string {
  return svg(640, 60, title, text(10, 35, message, 'class="muted"'));
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

/** Horizontal bars with a label column. */
function hbars(title: string, items: Array<{ label: string; value: number; note: string }>, max: number, color: string): string {
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

/** Bradley–Terry scores as dots with 95% bootstrap intervals. */
function btPlot(rows: LeaderboardRow[]): string {
  const rated = rows.filter((r) => r.bt_score !== null).sort((a, b) => (a.bt_rank ?? 0) - (b.bt_rank ?? 0));
  if (rated.length === 0) return empty('Bradley–Terry scores', 'no A/B comparisons (lifecycles with candidates of two or more models) in this release');
  const width = 720;
  const labelW = 220;
  const row = 28;
  const height = rated.length * row + 40;
  const lo = Math.min(BT_ANCHOR, ...rated.map((r) => r.bt_ci_low as number)) - 20;
  const hi = Math.max(BT_ANCHOR, ...rated.map((r) => r.bt_ci_high as number)) + 20;
  const x = (v: number) => labelW + ((width - labelW - 170) * (v - lo)) / (hi - lo);
  const parts = [`<line x1="${fmt(x(BT_ANCHOR), 1)}" y1="0" x2="${fmt(x(BT_ANCHOR), 1)}" y2="${height - 25}" class="anchor"/>`];
  parts.push(text(x(BT_ANCHOR), height - 8, String(BT_ANCHOR), 'text-anchor="middle" class="axis"'));
  parts.push(text(x(lo), height - 8, fmt(lo), 'text-anchor="start" class="axis"'), text(x(hi), height - 8, fmt(hi), 'text-anchor="end" class="axis"'));
  rated.forEach((r, i) => {
    const y = 14 + i * row;
    const s = r.bt_score as number;
    parts.push(text(labelW - 8, y + 5, shorten(r.model), 'text-anchor="end"'));
    parts.push(`<line x1="${fmt(x(r.bt_ci_low as number), 1)}" y1="${y}" x2="${fmt(x(r.bt_ci_high as number), 1)}" y2="${y}" class="whisker"/>`);
    parts.push(`<circle cx="${fmt(x(s), 1)}" cy="${y}" r="5" fill="#4c78a8"><title>${escapeHtml(`${r.model}: ${fmt(s, 1)} [${fmt(r.bt_ci_low as number, 1)}, ${fmt(r.bt_ci_high as number, 1)}]`)}</title></circle>`);
    parts.push(text(width - 8, y + 4, `${fmt(s)} (${fmt(r.bt_ci_low as number)}–${fmt(r.bt_ci_high as number)})`, 'text-anchor="end" class="axis"'));
  });
  return svg(width, height, 'Bradley–Terry scores', parts.join(''));
}

/** Row model's win rate against the column model (ties count half). */
function winRateMatrix(cells: ComparisonCell[]): string {
  const models = [...new Set(cells.flatMap((c) => [c.modelA, c.modelB]))].sort();
  if (models.length < 2) return empty('win-rate matrix', 'no A/B comparisons in this release');
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
  return svg(width, height, 'win-rate matrix', parts.join(''));
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
  const card = (label: string, value: string) => `<div class="card"><div class="value">${escapeHtml(value)}</div><div class="label">${escapeHtml(label)}</div></div>`;
  const section = (id: string, title: string, note: string, body: string) => `<section id="${id}"><h2>${escapeHtml(title)}</h2><p class="note">${note}</p>${body}</section>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Prefline release ${escapeHtml(data.releaseId)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 16px}
h1{margin-bottom:4px}h2{margin-top:36px;border-bottom:1px solid #ddd;padding-bottom:4px}
.note,.muted{color:#666;font-size:13px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:120px}.card .value{font-size:22px;font-weight:600}.card .label{color:#666;font-size:12px}
svg.plot{max-width:100%;height:auto;font-size:12px}svg text{fill:#222}svg .axis{fill:#666;font-size:11px}svg .cell{font-weight:600}
.axisline{stroke:#999}.anchor{stroke:#bbb;stroke-dasharray:4 3}.whisker{stroke:#4c78a8;stroke-width:2}
table{border-collapse:collapse;font-size:13px;margin-top:8px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}td:nth-child(2),th:nth-child(2){text-align:left}
</style></head><body>
<h1>Prefline release ${escapeHtml(data.releaseId)}</h1>
<p class="muted">Every lifecycle whose ledger commit finished at or before ${escapeHtml(data.cutoff)}. Raters are keyed-hash pseudonyms.</p>
<div class="cards">${[
    card('lifecycles', String(rows.lifecycles)), card('candidates', String(rows.candidates)), card('standing votes', String(rows.votes)),
    card('vote events', String(rows.vote_events)), card('preference pairs', String(rows.preferences)), card('tied pairs', String(stats.tiedPairs)),
    card('A/B comparisons', String(stats.abComparisons)), card('raters', String(stats.raters)),
    card("Krippendorff's α", stats.krippendorffAlpha === null ? '–' : stats.krippendorffAlpha.toFixed(3)),
  ].join('')}</div>
${section('votes-over-time', 'Votes over time', 'Vote events per UTC day (cast time); retractions stacked on top.', votesOverTime(data.daily))}
${section('approval', 'Approval per model', 'Up votes / (up + down) over standing votes on each model’s candidates.', hbars('approval per model', approval, 1, '#54a24b'))}
${section('bradley-terry', 'Bradley–Terry scores', `Fitted on comparisons between candidates of different models in one lifecycle (higher score wins; ties count half), Elo scale anchored at ${BT_ANCHOR}; bars are 95% bootstrap intervals.`, btPlot(data.leaderboard))}
${section('win-rate', 'Win-rate matrix', 'How often the row model’s candidate out-scored the column model’s in the same lifecycle (ties count half).', winRateMatrix(data.cells))}
${section('raters', 'Votes per rater', `Standing votes of the ${data.topRaters.length} most active of ${stats.raters} raters (pseudonyms).`, hbars('votes per rater', raters, Math.max(1, ...raters.map((r) => r.value)), '#72b7b2'))}
${section('agreement', 'Rater agreement', "Krippendorff's alpha for nominal data over (item = candidate, rater, up/down): 1 = perfect agreement, 0 = chance. Only candidates with two or more standing votes count.", agreementPlot(data.agreement))}
${section('leaderboard', 'Leaderboard', 'Models without A/B comparisons have no Bradley–Terry score.', leaderboardTable(data.leaderboard))}
${section('chat', 'Chat feedback', 'Conversations on the chat page: pairs from corrections and from A/B-judged regenerations (chat_preferences.parquet), thumbs on replies (chat_kto.parquet).', `<div class="cards">${[
    card('conversations', String(data.chat.conversations)), card('messages', String(rows.messages)), card('correction pairs', String(data.chat.correctionPairs)),
    card('A/B pairs', String(data.chat.comparePairs)), card('ties and both bad', String(data.chat.tiedJudgements)), card('KTO rows', String(data.chat.ktoRows)),
  ].join('')}</div>`)}
</body></html>
`;
}

const TABLE_DOCS: Record<ReleaseTable, string> = {
  lifecycles: 'One row per lifecycle (generation-to-rating run): prompt, models, quorum, deadline, close reason, commit time, and who started it and from where (`started_by`, `started_from`).',
  candidates: 'One row per generated candidate: model, backend, provenance (JSON), artifact sha256 and `path` relative to the artifact store (`artifacts/` in an export).',
  votes: 'Standing votes only: each rater’s final up (value 1) or down (value −1) on a candidate, after changes and retractions; `rater_verified` is false for typed-name (open panel) raters.',
  vote_events: 'Every accepted vote event as it arrived, including changed and retracted votes (`kind` is `vote` or `retract`; `standing` marks the final ones).',
  preferences: 'One row per preference pair (chosen, rejected) — the shape reward-model and DPO trainers expect.',
  leaderboard: 'One row per model: tallies, approval rate and a Bradley–Terry score with a 95% bootstrap interval.',
  conversations: 'One row per chat conversation: owner (pseudonym, `owner_verified`), model, start, end and why, counts of messages, ratings, feedback, corrections and comparisons.',
  messages: 'Every chat message in conversational form (`role` user or assistant, `content`), regenerated replies included (`reply_index`), with the owner’s standing 👍/👎 (`rating`, `reason`), `feedback` and `correction`, and each reply’s provenance and the messages it saw (`context_ids`).',
  chat_preferences: 'TRL conversational preference pairs from chat: `prompt` (the conversation so far, as {role, content}), `chosen`, `rejected` ([{role: assistant, content}]); `source` is `correction` (the user’s corrected answer over the reply) or `compare` (the preferred of two replies to one turn).',
  chat_kto: 'TRL unpaired preference (KTO) rows from thumbs on chat replies: `prompt` (the conversation so far), `completion`, `label` (👍 = true), `source` = `chat`.',
};

export function renderDatasetCard(input: {
  releaseId: string;
  cutoff: string;
  previousReleaseId: string | null;
  rows: Record<ReleaseTable, number>;
  stats: ReleaseStats;
  chat: ChatReleaseStats;
  schemas: Record<ReleaseTable, Array<{ name: string; type: string }>>;
}): string {
  const { rows, stats, chat } = input;
  const lines = [
    '---',
    `pretty_name: Prefline preference release ${input.releaseId}`,
    'task_categories:',
    '- reinforcement-learning',
    'tags:',
    '- human-feedback',
    '- preference',
    '- rlhf',
    '- dpo',
    'configs:',
    ...PARQUET_TABLES.flatMap((t) => [`- config_name: ${t}`, `  data_files: ${t}.parquet`]),
    '---',
    '',
    `# Prefline preference release ${input.releaseId}`,
    '',
    `Human preference feedback collected by Prefline. This release holds every lifecycle whose ledger commit finished at or before **${input.cutoff}** (the cutoff): its lifecycle row, all its candidates and all its vote events. A lifecycle still committing at the cutoff appears in the next release (pending at this cutoff: ${stats.lifecyclesPendingAtCutoff}). Previous release: ${input.previousReleaseId ?? 'none'}. The files never change; \`manifest.json\` lists each file's rows, bytes and sha256 (\`prefline release verify ${input.releaseId}\`).`,
    '',
    '## Files',
    '',
    '| file | rows | contents |',
    '| --- | ---: | --- |',
    ...PARQUET_TABLES.map((t) => `| \`${t}.parquet\` | ${rows[t]} | ${TABLE_DOCS[t]} |`),
    '| `report.html` | | Plots: votes over time, approval per model, Bradley–Terry scores, win-rate matrix, votes per rater, rater agreement. |',
    '| `manifest.json` | | Release id, cutoff, creation time, previous release, per-file rows/bytes/sha256, rows added since the previous release. |',
    '',
    'Parquet, zstd-compressed, rows in a fixed order (ledger tables in commit order, preferences in the order lifecycles completed, leaderboard by rank), so the same cutoff always yields byte-identical files.',
    '',
    '## How preferences are derived',
    '',
    'Within one lifecycle, each candidate gets a score = up − down over its **standing** votes (a rater’s latest vote; retracted votes do not count). Only candidates with at least one standing vote take part. For every pair of such candidates (i, j) with score_i > score_j there is one row: `chosen` = i, `rejected` = j, `margin` = score_i − score_j, with both sides’ up/down counts. Pairs with equal scores produce no row; they are counted as ties in the manifest (`stats.tiedPairs`: ' +
      `${stats.tiedPairs} in this release). \`chosen_path\`/\`rejected_path\` are relative to an export folder (\`artifacts/sha256/…\`, see \`prefline release export\`).`,
    '',
    '## Leaderboard',
    '',
    '`approval_rate` = up / (up + down) over standing votes. The Bradley–Terry score uses comparisons between candidates of **different** models in the same lifecycle (A/B lifecycles): the higher score wins, equal scores count half a win each. Strengths are fitted by maximum likelihood (Newton’s method on log-strengths — the fixed point of Hunter’s MM iteration) with one virtual tie per model against a 1000-rated pivot (keeps unbeaten models finite), shown on the Elo scale (400/ln 10 per unit of log-strength) with the geometric mean of rated models at 1000, and 95% intervals from 200 bootstrap resamples of the comparisons (fixed seed). Models without A/B comparisons have no score.',
    '',
    `Rater agreement (Krippendorff’s alpha, nominal, items = candidates): ${stats.krippendorffAlpha === null ? 'undefined (too few candidates rated twice)' : stats.krippendorffAlpha.toFixed(3)}.`,
    '',
    '## Who started each lifecycle',
    '',
    '`lifecycles.started_from` says where a lifecycle was started: `slack:/prefline` (the Slack command, in the channel it posts to), `web:prompt-box` (a rater allowed to generate, on the rating page), `cli` (`prefline start`), `temporal-ui`, or `unknown` (the Temporal UI or code that did not say, and lifecycles from before provenance was recorded). `started_by` is the starter’s pseudonym for the first two (null otherwise), the same one their votes carry, so self-votes can be told apart.',
    '',
    '## Chat feedback',
    '',
    `Conversations held on the chat page (${chat.conversations} in this release), from the ledger's event log: every event committed at or before the cutoff, so a conversation still running appears as far as it had gone. ` +
      'A reply’s standing rating is its owner’s latest 👍/👎 (a withdrawn one does not count), its standing correction the latest one; a turn’s standing A/B judgement is the latest one over two of its replies (a withdrawn one does not count). ' +
      `Pairs (\`chat_preferences.parquet\`): one per reply with a standing correction (${chat.correctionPairs}; chosen = the correction, rejected = the reply) and one per standing judgement with a winner (${chat.comparePairs}); ties and "both bad" make none (${chat.tiedJudgements}). ` +
      `KTO rows (\`chat_kto.parquet\`): one per reply with a standing thumb (${chat.ktoRows}). \`prompt\` is exactly the context the model saw when it wrote the reply (the conversation’s own messages only), so rows load into TRL’s DPO and KTO trainers as they are. Regenerated replies are kept in \`messages.parquet\`; \`reply_index\` tells them apart.`,
    '',
    '## Free text',
    '',
    'These files hold text people wrote, as they wrote it (control and bidirectional-override characters refused): `lifecycles.parquet` (`prompt`, written by operators, or by raters allowed to start lifecycles from the prompt box or Slack’s /prefline), `votes.parquet` and `vote_events.parquet` (`comment`), `messages.parquet` (`content` of user messages, `feedback`, `correction`), `chat_preferences.parquet` (`prompt`, and `chosen` for corrections) and `chat_kto.parquet` (`prompt`). Review them before publishing a release outside your team. The other files hold no free text.',
    '',
    '## Who the raters are',
    '',
    'Every vote says how its rater was authenticated: `rater_auth` is `invite` (a signed invite link), `oidc` (sign-in with the team’s identity provider), `slack` (Slack’s signed events), `email` (signed vote links and replies), `cli` (an operator) — or `open`: a name typed on the rating page’s open panel, which anyone can claim. `rater_verified` is false exactly for `open`; filter on it (`WHERE rater_verified`) to keep only raters who are who they say. Preferences and the leaderboard count every vote.',
    '',
    '## Privacy',
    '',
    'Rater ids (`rater`, and `started_by` of a lifecycle: the same pseudonym as the starter’s votes) are keyed-hash pseudonyms computed by the gateway with a secret key (`PREFLINE_RATER_KEY`); raw identities (emails, Slack ids) never reach the ledger or a release. Free-text `comment`s are as raters wrote them.',
    '',
    '## Schemas',
    '',
    ...PARQUET_TABLES.flatMap((t) => [`### ${t}`, '', input.schemas[t].map((c) => `\`${c.name}\` ${c.type}`).join(' · '), '']),
  ];
  return lines.join('\n');
}
