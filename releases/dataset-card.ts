/**
 * A release's `README.md`: a Hugging Face dataset card (YAML header: configs with a default, license,
 * language, size category; then how every file is derived, which hold free text, and the schemas).
 * It depends on the release's data, its cutoff and the publisher's declared license and languages —
 * never on the time of publishing — so republishing a cutoff gives the same bytes.
 */
import type { CampaignReleaseStats } from './campaign-files';
import type { ChatReleaseStats } from './chat';
import { PARQUET_TABLES, type PositionBias, type ReleaseStats, type ReleaseTable } from './layout';

/** What the publisher declares about the data (PREFLINE_RELEASE_LICENSE, PREFLINE_RELEASE_LANGUAGE). */
export interface CardDeclarations {
  /** A Hugging Face license id (`apache-2.0`, `cc-by-4.0`, `other`, …); absent: not declared. */
  license?: string;
  /** ISO 639 codes (`en`, `de`, …); empty: not declared. */
  languages?: readonly string[];
}

/** The config `load_dataset(folder)` loads without a config name: the training-ready pairs. */
export const DEFAULT_CONFIG: ReleaseTable = 'preferences';

const TABLE_DOCS: Record<ReleaseTable, string> = {
  lifecycles: 'One row per lifecycle (generation-to-rating run): prompt, models, quorum, deadline, close reason, commit time, and who started it and from where (`started_by`, `started_from`).',
  candidates: 'One row per generated candidate: model, backend, provenance (JSON), artifact sha256 and `path` relative to the artifact store (`artifacts/` in an export).',
  votes: 'Standing votes only: each rater’s final up (value 1) or down (value −1) on a candidate, after changes and retractions; `rater_verified` is false for typed-name (open panel) raters.',
  vote_events: 'Every accepted vote event as it arrived, including changed and retracted votes (`kind` is `vote` or `retract`; `standing` marks the final ones).',
  judgement_events: 'Every accepted judgement (a rater’s answer to “which of the two is better?”) as it arrived: the candidates shown left and right, `choice` (`left`, `right`, `tie`, `both_bad`, `retract`), `standing` marking each rater’s final answer.',
  battles: 'One row per standing judgement, Chatbot Arena style: `model_a`/`model_b` (the lifecycle’s first and second candidate), `shown_left`, `winner` (`model_a`, `model_b`, `tie`, `both_bad`), rater, channel, `models_hidden`; `rater_excluded` (with `exclusion_reason`) marks the answers of a rater their campaign excluded, which count in no other file. Gold (validation) lifecycles of campaigns have no rows.',
  matchups: 'One row per compared pair (compare lifecycles, and thumbs lifecycles answered with A/B buttons): votes per side, ties, both bad, `ratio` = max / (votes_a + votes_b), `winner` (`a`, `b`, `tie`), `left_wins`.',
  preferences: 'Training pairs as TRL expects them (`prompt`, `chosen`, `rejected`: text, or an image’s export-relative path), one per score-derived thumbs pair (`source` = `thumbs`) and per standing judgement with a winner (`compare`). On compare rows the earlier columns `chosen_path`/`rejected_path`/`chosen_text`/`rejected_text` are empty: `chosen`/`rejected` hold the text or path, candidates.parquet the rest.',
  preferences_chat: 'The text pairs of preferences.parquet in TRL’s conversational form: `prompt` = [{role: user, content}], `chosen`/`rejected` = [{role: assistant, content}]; `source`, the models, `rater_verified` and the keys of preferences.parquet’s rows (run_id, candidate ids).',
  kto: 'Unpaired preferences for KTO: one row per standing thumbs vote, `prompt`, `completion` (text or export-relative image path), `label` (true = up).',
  leaderboard: 'One row per model: tallies, approval rate, and two Bradley–Terry scores with 95% bootstrap intervals: `bt_*` over thumbs A/B comparisons, `compare_bt_*` over judgements.',
  model_pairs: 'One row per pair of models and source (`thumbs`, `compare`): comparisons, wins each, ties, both bad, `win_rate_a` (ties half).',
  campaigns: 'One row per campaign (many items, each rated in a lifecycle of its own) started by the cutoff: `id`, `label`, `task`, `responses`, `items`, the items that ended by the cutoff (`done`, `failed`) and their standing `answers`, `gold_items`, `excluded_raters`, `phase` (`running` unless it closed by the cutoff), `started_at`, `closed_at`.',
  raters: 'One row per rater of a campaign: `pseudonym`, `campaign`, data `answers`, `gold_answered`, `gold_correct`, `gold_accuracy`, `score` (gold accuracy with the campaign’s prior), `status` (`active`, `excluded`) and the exclusion `reason`.',
  conversations: 'One row per chat conversation: owner (pseudonym, `owner_verified`), model, start, end and why, counts of messages, ratings, feedback, corrections and comparisons.',
  messages: 'Every chat message in conversational form (`role` user or assistant, `content`), regenerated replies included (`reply_index`), with the owner’s standing 👍/👎 (`rating`, `reason`), `feedback` and `correction`, and each reply’s provenance and the messages it saw (`context_ids`).',
  chat_preferences: 'TRL conversational preference pairs from chat: `prompt` (the conversation so far, as {role, content}), `chosen`, `rejected` ([{role: assistant, content}]); `source` is `correction` (the user’s corrected answer over the reply) or `compare` (the preferred of two replies to one turn).',
  chat_kto: 'TRL unpaired preference (KTO) rows from thumbs on chat replies: `prompt` (the conversation so far), `completion`, `label` (👍 = true), `source` = `chat`.',
};

/** Which columns hold free text, and who wrote it. */
const FREE_TEXT: Record<ReleaseTable, string> = {
  lifecycles: '`prompt` (operators, or raters allowed to start lifecycles from the prompt box or Slack’s /prefline), `question`, `campaign` (operators); `params` (JSON)',
  candidates: '`text` (models); `provenance` (JSON from backends)',
  votes: '`comment` (raters)',
  vote_events: '`comment` (raters)',
  judgement_events: '`comment` (raters)',
  battles: '`prompt`, `question` (operators)',
  matchups: '`prompt`, `question` (operators)',
  preferences: '`prompt` (operators); `chosen`, `rejected`, `chosen_text`, `rejected_text` (models)',
  preferences_chat: 'message `content`: the prompt (operators), chosen and rejected (models)',
  kto: '`prompt` (operators); `completion` (models)',
  leaderboard: 'none',
  model_pairs: 'none',
  campaigns: '`label` (operators)',
  raters: '`reason` (Prefline, in words)',
  conversations: 'none',
  messages: '`content` of user messages, `feedback`, `correction` (chat users); `content` of replies (models)',
  chat_preferences: '`prompt` (chat users and models), `chosen` for corrections (chat users); `rejected` (models)',
  chat_kto: '`prompt` (chat users and models); `completion` (models)',
};

/** Hugging Face's `size_categories` value for a number of examples. */
export function sizeCategory(n: number): string {
  const bounds: Array<[number, string]> = [
    [1e3, 'n<1K'], [1e4, '1K<n<10K'], [1e5, '10K<n<100K'], [1e6, '100K<n<1M'], [1e7, '1M<n<10M'], [1e8, '10M<n<100M'], [1e9, '100M<n<1B'],
    [1e10, '1B<n<10B'], [1e11, '10B<n<100B'], [1e12, '100B<n<1T'],
  ];
  return bounds.find(([limit]) => n < limit)?.[1] ?? 'n>1T';
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function describePositionBias(bias: PositionBias): string {
  if (bias.leftShare === null) return 'no decided judgement in this release';
  return `${pct(bias.leftShare)} of ${bias.decided} decided judgements went to the candidate shown on the left (95% Wilson interval ${pct(bias.ciLow as number)}–${pct(bias.ciHigh as number)}; 50% = no bias)`;
}

/** The exclusion rule, with this release's counts. */
function campaignParagraph(stats: CampaignReleaseStats | undefined): string {
  const s = stats ?? { campaigns: 0, raters: 0, excludedRaters: 0, goldLifecycles: 0, goldJudgementsLeftOut: 0, excludedJudgements: 0 };
  return `A campaign rates many items, one lifecycle each (${s.campaigns} campaigns, ${s.raters} campaign raters in this release; \`campaigns.parquet\`, \`raters.parquet\`). ` +
    'Some of its lifecycles are **gold** items with a known answer, mixed in to check raters: their answers are never data, so gold lifecycles have no rows in `battles`, `matchups`, `preferences`, `preferences_chat`, `kto`, the leaderboard or `model_pairs` ' +
    `(${s.goldJudgementsLeftOut} standing gold judgements left out); \`lifecycles\`, \`votes\`, \`vote_events\` and \`judgement_events\` keep them as they arrived. ` +
    'A rater whose gold accuracy fell below the campaign’s threshold is **excluded** (`raters.status`, with the reason): their answers in that campaign stay in `battles.parquet` with `rater_excluded` = true and the `exclusion_reason`, and count nowhere else — not in matchups, preferences, either Bradley–Terry fit, position bias or `kto` ' +
    `(${s.excludedRaters} raters excluded, ${s.excludedJudgements} standing judgements flagged). Exclusion is per campaign: the same rater counts in other campaigns and outside campaigns. ` +
    'Score-derived thumbs pairs and scores (`source` = `thumbs`, `bt_*`) leave out gold lifecycles; within a thumbs campaign an excluded rater’s votes are left out of `kto` only.';
}

export interface CardInput extends CardDeclarations {
  releaseId: string;
  cutoff: string;
  previousReleaseId: string | null;
  rows: Record<ReleaseTable, number>;
  stats: ReleaseStats;
  chat: ChatReleaseStats;
  /** Absent: a release without campaign statistics (the section says none). */
  campaigns?: CampaignReleaseStats | undefined;
  schemas: Record<ReleaseTable, Array<{ name: string; type: string }>>;
}

/** Declared values go into the YAML header as they are: only plain tokens (config/release.ts checks them first). */
const PLAIN_TOKEN = /^[A-Za-z0-9][A-Za-z0-9.+-]*$/;

function frontMatter(input: CardInput): string[] {
  const languages = input.languages ?? [];
  const bad = [input.license, ...languages].find((v) => v !== undefined && !PLAIN_TOKEN.test(v));
  if (bad !== undefined) throw new Error(`internal: the dataset card cannot declare ${JSON.stringify(bad)} (a license id or language code)`);
  const configs = [DEFAULT_CONFIG, ...PARQUET_TABLES.filter((t) => t !== DEFAULT_CONFIG)];
  return [
    '---',
    `pretty_name: Prefline preference release ${input.releaseId}`,
    `license: ${input.license ?? 'unknown'}`,
    ...(languages.length > 0 ? ['language:', ...languages.map((l) => `- ${l}`)] : []),
    'size_categories:',
    `- ${sizeCategory(input.rows[DEFAULT_CONFIG])}`,
    'task_categories:',
    '- reinforcement-learning',
    'tags:',
    '- human-feedback',
    '- preference',
    '- rlhf',
    '- dpo',
    '- kto',
    '- pairwise-comparison',
    'configs:',
    ...configs.flatMap((t) => [`- config_name: ${t}`, `  data_files: ${t}.parquet`, ...(t === DEFAULT_CONFIG ? ['  default: true'] : [])]),
    '---',
  ];
}

export function renderDatasetCard(input: CardInput): string {
  const { rows, stats, chat } = input;
  const languages = input.languages ?? [];
  const lines = [
    ...frontMatter(input),
    '',
    `# Prefline preference release ${input.releaseId}`,
    '',
    `Human preference feedback collected by Prefline. This release holds every lifecycle whose ledger commit finished at or before **${input.cutoff}** (the cutoff): its lifecycle row, all its candidates and all its vote and judgement events. A lifecycle still committing at the cutoff appears in the next release (pending at this cutoff: ${stats.lifecyclesPendingAtCutoff}). Previous release: ${input.previousReleaseId ?? 'none'}. The files never change; \`manifest.json\` lists each file's rows, bytes and sha256 (\`prefline release verify ${input.releaseId}\`).`,
    '',
    `License: ${input.license ? `\`${input.license}\`, as declared by the publisher (PREFLINE_RELEASE_LICENSE)` : 'none declared (PREFLINE_RELEASE_LICENSE is unset, so the header says `unknown`): ask the publisher before using or sharing the data'}. ` +
      `Language: ${languages.length > 0 ? languages.map((l) => `\`${l}\``).join(', ') : 'none declared (PREFLINE_RELEASE_LANGUAGE is unset)'}. ` +
      `Size category \`${sizeCategory(rows[DEFAULT_CONFIG])}\`: the default config, \`${DEFAULT_CONFIG}\`, has ${rows[DEFAULT_CONFIG]} rows.`,
    '',
    '## Files',
    '',
    '| file | rows | contents |',
    '| --- | ---: | --- |',
    ...PARQUET_TABLES.map((t) => `| \`${t}.parquet\` | ${rows[t]} | ${TABLE_DOCS[t]} |`),
    '| `report.html` | | Plots: votes over time, approval, both Bradley–Terry fits, win-rate matrices, position bias, the most contested and most decisive matchups, votes per rater, rater agreement, and per campaign its progress, answers per rater, gold accuracy and items by end reason. |',
    '| `manifest.json` | | Release id, cutoff, creation time, previous release, per-file rows/bytes/sha256, rows added since the previous release, statistics. |',
    '',
    'Parquet, zstd-compressed, rows in a fixed order (ledger tables in commit order, derived files in the order lifecycles completed, leaderboard by rank), so the same cutoff always yields byte-identical files.',
    '',
    '## Training with TRL',
    '',
    '`preferences.parquet` (the default config) has the columns TRL’s preference trainers (DPO, reward modelling) read, no `map` needed: `prompt`, `chosen`, `rejected` — the texts, or for image candidates the export-relative path (`artifacts/sha256/ab/….png`; `prefline release export` copies the images beside the files). `preferences_chat.parquet` holds its text pairs in the conversational form. `kto.parquet` has `prompt`, `completion`, `label` for KTO. Filter on `source` to train on one kind of feedback only.',
    '',
    '## How preferences are derived',
    '',
    `- \`source\` = \`thumbs\` (${stats.preferencesBySource.thumbs} rows): within one lifecycle, each candidate gets a score = up − down over its **standing** votes (a rater’s latest vote; retracted votes do not count). Only candidates with at least one standing vote take part. For every pair of such candidates (i, j) with score_i > score_j there is one row: \`chosen\` = i, \`rejected\` = j, \`margin\` = score_i − score_j, with both sides’ up/down counts. Pairs with equal scores produce no row; they are counted as ties in the manifest (\`stats.tiedPairs\`: ${stats.tiedPairs} in this release).`,
    `- \`source\` = \`compare\` (${stats.preferencesBySource.compare} rows): one row per standing judgement with a winner: \`chosen\` = the candidate the rater picked, \`rater\`/\`rater_verified\` who picked it; \`margin\` and the up/down counts are empty. Ties (${stats.compareTies}) and both-bad answers (${stats.compareBothBad}) produce no row; the manifest counts them (\`stats.compareTies\`, \`stats.compareBothBad\`).`,
    '',
    '`chosen_path`/`rejected_path` are relative to an export folder (`artifacts/sha256/…`, see `prefline release export`). Compare rows leave them and `chosen_text`/`rejected_text` empty rather than repeat `chosen`/`rejected`; a text candidate’s artifact is in candidates.parquet (`run_id`, `candidate_id` = `chosen_candidate_id`).',
    '',
    '## Comparisons',
    '',
    `A judgement is one rater’s answer to a lifecycle’s question about its two candidates (A, B, tie, both bad); it can be changed or withdrawn, and \`judgement_events.parquet\` keeps every event. Each rater saw the two in an order of their own (recorded as \`shown_left\`), and — unless the lifecycle revealed them — without model names (\`models_hidden\`). \`battles.parquet\` holds each rater’s standing answer (${stats.battles} in this release), \`matchups.parquet\` the result per lifecycle as Rapidata reports it. Position bias: ${describePositionBias(stats.positionBias)}.`,
    '',
    '## Campaigns',
    '',
    campaignParagraph(input.campaigns),
    '',
    '## Leaderboard',
    '',
    '`approval_rate` = up / (up + down) over standing votes. Two Bradley–Terry fits, kept apart because their comparisons are different things: `bt_*` uses comparisons between candidates of **different** models in the same thumbs lifecycle (A/B lifecycles): the higher score wins, equal scores count half a win each — one comparison per pair of candidates, however many raters voted. `compare_bt_*` uses judgements: one comparison per rater’s standing answer between candidates of different models, ties half a win each, both-bad left out. Each fit: maximum likelihood (Newton’s method on log-strengths — the fixed point of Hunter’s MM iteration) with one virtual tie per model against a 1000-rated pivot (keeps unbeaten models finite), shown on the Elo scale (400/ln 10 per unit of log-strength) with the geometric mean of rated models at 1000, and 95% intervals from 200 bootstrap resamples of its comparisons (fixed seed). `model_pairs.parquet` has the comparison counts of both, per pair of models and `source`.',
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
    '## Who the raters are',
    '',
    'Every vote and judgement says how its rater was authenticated: `rater_auth` is `invite` (a signed invite link), `oidc` (sign-in with the team’s identity provider), `slack` (Slack’s signed events), `email` (signed vote links and replies), `cli` (an operator) — or `open`: a name typed on the rating page’s open panel, which anyone can claim. `rater_verified` is false exactly for `open`; filter on it (`WHERE rater_verified`) to keep only raters who are who they say. Preferences and the leaderboard count every vote.',
    '',
    '## Free text',
    '',
    'These files hold text people wrote, as they wrote it (control and bidirectional-override characters refused): `lifecycles.parquet` (`prompt`, written by operators, or by raters allowed to start lifecycles from the prompt box or Slack’s /prefline), `votes.parquet`, `vote_events.parquet` and `judgement_events.parquet` (`comment`), `messages.parquet` (`content` of user messages, `feedback`, `correction`), `chat_preferences.parquet` (`prompt`, and `chosen` for corrections) and `chat_kto.parquet` (`prompt`). Review them before publishing a release outside your team.',
    '',
    'Columns holding free text, and who wrote it (everything else is ids, labels, counts and times):',
    '',
    '| file | free text |',
    '| --- | --- |',
    ...PARQUET_TABLES.map((t) => `| \`${t}.parquet\` | ${FREE_TEXT[t]} |`),
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
