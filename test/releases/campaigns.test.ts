/**
 * Releases of a ledger with a campaign (issue 15), read back with hyparquet: campaigns.parquet and
 * raters.parquet; gold lifecycles' judgements in no derived file; an excluded rater's judgements
 * flagged in battles and counted nowhere else (matchups, preferences, the judgement Bradley–Terry fit,
 * model pairs, position bias), in their campaign only; the manifest, dataset card and report sections.
 *
 *   K1  campaign item, alpha vs beta: r1 picks alpha, r2 beta, r3 (excluded) beta → counted a 1, b 1 (tie)
 *   K2  campaign item, beta vs gamma: r1 picks beta, r3 (excluded) beta → counted a 1
 *   G1  campaign gold lifecycle, alpha vs beta: r1 alpha, r2 beta → nowhere
 *   X1  no campaign, alpha vs beta: r3 picks alpha → counts (exclusion is per campaign)
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BATTLE_EXCLUSION_COLUMNS } from '../../releases/campaign-scope';
import { readManifest, type ReleaseManifest } from '../../releases/layout';
import { publishRelease } from '../../releases/publisher';
import { ArtifactStore } from '../../store/ArtifactStore';
import { commitCampaign } from '../../store/campaign-ledger';
import { BATTLE_COLUMNS } from '../../store/judgement-derived';
import { Ledger } from '../../store/Ledger';
import type { CampaignCommitRequest } from '../../store/ledger-types';
import { commitCompareLifecycle, rater, type CompareSpec, type JudgementSpec } from './compare-fixtures';
import { at, readParquetIndependently } from './fixtures';

const [ALPHA, BETA, GAMMA] = ['demo:alpha', 'demo:beta', 'demo:gamma'] as const;
const j = (r: number, left: 'c1' | 'c2', choice: JudgementSpec['choice']): JudgementSpec => ({ rater: r, left, choice, standing: true });
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const REASON = 'gold accuracy 0.25 below 0.70 after 4 gold answers';

const SPECS: CompareSpec[] = [
  { lifecycleId: 'spring-item-0', campaign: 'spring', prompt: 'k1', task: 'compare', models: [ALPHA, BETA], kind: 'text', commitAt: 31, judgements: [j(1, 'c1', 'left'), j(2, 'c2', 'left'), j(3, 'c1', 'right')] },
  { lifecycleId: 'spring-item-1', campaign: 'spring', prompt: 'k2', task: 'compare', models: [BETA, GAMMA], kind: 'text', commitAt: 32, judgements: [j(1, 'c1', 'left'), j(3, 'c2', 'right')] },
  { lifecycleId: 'spring-gold-0', campaign: 'spring', prompt: 'g1', task: 'compare', models: [ALPHA, BETA], kind: 'text', commitAt: 33, judgements: [j(1, 'c1', 'left'), j(2, 'c1', 'right')] },
  { lifecycleId: 'X1', prompt: 'x1', task: 'compare', models: [ALPHA, BETA], kind: 'text', commitAt: 34, judgements: [j(3, 'c1', 'left')] },
];

function campaignCommit(): CampaignCommitRequest {
  return {
    campaign: {
      campaignId: 'spring', runId: 'cmp-run-1', label: 'spring', task: 'compare', responses: 3, channel: 'web', itemCount: 3,
      startedAt: at(-5).toISOString(), deadlineAt: at(600).toISOString(), phase: 'running',
      counts: { items: 3, done: 2, failed: 0, open: 1, pending: 0, answers: 5, reserved: 0, ended: { quorum: 2 } },
    },
    outcomes: [
      { item: 0, lifecycleId: 'spring-item-0', end: 'quorum', answers: 3, raters: 3, attempts: 1, closedAt: at(30).toISOString() },
      { item: 1, lifecycleId: 'spring-item-1', end: 'closed', answers: 2, raters: 2, attempts: 1, closedAt: at(31).toISOString() },
    ],
    raters: [
      { rater: rater(1), answers: 2, goldAnswered: 4, goldCorrect: 4, score: 0.9, status: 'active' },
      { rater: rater(2), answers: 1, goldAnswered: 2, goldCorrect: 1, score: 0.6, status: 'active' },
      { rater: rater(3), answers: 2, goldAnswered: 4, goldCorrect: 1, score: 0.25, status: 'excluded', reason: REASON, excludedAt: at(20).toISOString() },
    ],
    gold: [{ gold: 0, lifecycleId: 'spring-gold-0', answer: 'first', explanation: 'k1 is right' }],
  };
}

describe('releases of campaigns (campaigns, raters, gold and excluded raters)', function () {
  this.timeout(120_000);
  let dir: string;
  let ledger: Ledger;
  let release: Awaited<ReturnType<typeof publishRelease>>;
  const read = (table: string) => readParquetIndependently(join(release.dir, `${table}.parquet`));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-release-campaigns-'));
    ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
    const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    for (const spec of SPECS) await commitCompareLifecycle(ledger, artifacts, spec);
    await ledger.withConnection((c) => commitCampaign(c, campaignCommit(), at(35)));
    release = await publishRelease({ ledger, releasesDir: join(dir, 'releases'), cutoff: at(60).toISOString(), artifactDir: artifacts.rootDir, now: () => at(600) });
  });

  after(() => {
    ledger.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should leave gold lifecycles out of battles and flag the excluded rater there, in their campaign only', async () => {
    const battles = await read('battles');
    assert.deepEqual(Object.keys(battles[0] ?? {}), [...BATTLE_COLUMNS, ...BATTLE_EXCLUSION_COLUMNS]);
    assert.deepEqual(battles.map((b) => [b.lifecycle_id, b.rater, b.winner, b.rater_excluded, b.exclusion_reason]), [
      ['spring-item-0', rater(1), 'model_a', false, null],
      ['spring-item-0', rater(2), 'model_b', false, null],
      ['spring-item-0', rater(3), 'model_b', true, REASON],
      ['spring-item-1', rater(1), 'model_a', false, null],
      ['spring-item-1', rater(3), 'model_a', true, REASON],
      ['X1', rater(3), 'model_a', false, null],
    ]);
    // The raw events keep everything as it arrived, gold included.
    assert.equal((await read('judgement_events')).filter((e) => e.lifecycle_id === 'spring-gold-0').length, 2);
  });

  it('should count matchups, preferences, the leaderboard, model pairs and position bias without gold or excluded judgements', async () => {
    const matchups = await read('matchups');
    assert.deepEqual(matchups.map((m) => [m.lifecycle_id, m.votes_a, m.votes_b, m.ties, m.total, m.ratio, m.winner, m.left_wins]), [
      ['spring-item-0', 1, 1, 0, 2, 0.5, 'tie', 2],
      ['spring-item-1', 1, 0, 0, 1, 1, 'a', 1],
      ['X1', 1, 0, 0, 1, 1, 'a', 1],
    ]);
    const preferences = (await read('preferences')).filter((p) => p.source === 'compare');
    assert.deepEqual(preferences.map((p) => [p.lifecycle_id, p.rater, p.chosen_model]), [
      ['spring-item-0', rater(1), ALPHA], ['spring-item-0', rater(2), BETA], ['spring-item-1', rater(1), BETA], ['X1', rater(3), ALPHA],
    ]);
    assert.deepEqual((await read('preferences_chat')).map((p) => p.lifecycle_id), ['spring-item-0', 'spring-item-0', 'spring-item-1', 'X1']);
    const board = await read('leaderboard');
    assert.deepEqual(board.map((r) => [r.model, r.compare_comparisons, r.compare_wins, r.compare_losses]).sort(), [
      [ALPHA, 3, 2, 1], [BETA, 4, 2, 2], [GAMMA, 1, 0, 1],
    ].sort());
    const pairs = (await read('model_pairs')).filter((p) => p.source === 'compare');
    assert.deepEqual(pairs.map((p) => [p.model_a, p.model_b, p.wins_a, p.wins_b]), [[ALPHA, BETA, 2, 1], [BETA, GAMMA, 1, 0]]);
    const manifest = (await readManifest(release.dir)) as ReleaseManifest;
    assert.deepEqual([manifest.stats.positionBias.decided, manifest.stats.positionBias.leftWins], [4, 4]);
    assert.equal(manifest.stats.battles, 6);
    assert.deepEqual(manifest.campaigns, { campaigns: 1, raters: 3, excludedRaters: 1, goldLifecycles: 1, goldJudgementsLeftOut: 2, excludedJudgements: 2 });
  });

  it('should write campaigns.parquet and raters.parquet', async () => {
    const campaigns = await read('campaigns');
    assert.deepEqual(campaigns.map((k) => [k.id, k.label, k.task, k.responses, k.items, k.done, k.failed, k.answers, k.gold_items, k.excluded_raters, k.phase, k.closed_at]), [
      ['spring', 'spring', 'compare', 3, 3, 2, 0, 5, 1, 1, 'running', null],
    ]);
    assert.equal((campaigns[0]?.started_at as Date).toISOString(), at(-5).toISOString());
    const raters = await read('raters');
    assert.deepEqual(raters.map((r) => [r.pseudonym, r.campaign, r.answers, r.gold_answered, r.gold_accuracy, r.score, r.status, r.reason]), [
      [rater(1), 'spring', 2, 4, 1, 0.9, 'active', null],
      [rater(2), 'spring', 1, 2, 0.5, 0.6, 'active', null],
      [rater(3), 'spring', 2, 4, 0.25, 0.25, 'excluded', REASON],
    ]);
  });

  it('should publish the same bytes again for the same cutoff, exclusions and gold included', async () => {
    const again = await publishRelease({ ledger, releasesDir: join(dir, 'releases'), cutoff: at(60).toISOString(), releaseId: 'same-cutoff-again', now: () => at(700) });
    assert.equal(again.reused, false);
    const manifest = (await readManifest(release.dir)) as ReleaseManifest;
    const parquet = Object.keys(manifest.files).filter((name) => name.endsWith('.parquet'));
    assert.ok(parquet.includes('campaigns.parquet') && parquet.includes('raters.parquet'));
    for (const name of parquet) assert.equal(sha(join(again.dir, name)), sha(join(release.dir, name)), name);
  });

  it('should document the files and the exclusion rule in the dataset card, and give the campaign a report section', () => {
    const card = readFileSync(join(release.dir, 'README.md'), 'utf8');
    assert.match(card, /\| `campaigns\.parquet` \| 1 \|/);
    assert.match(card, /\| `raters\.parquet` \| 3 \|/);
    assert.match(card, /## Campaigns/);
    assert.match(card, /1 raters excluded, 2 standing judgements flagged/);
    assert.match(card, /2 standing gold judgements left out/);
    const report = readFileSync(join(release.dir, 'report.html'), 'utf8');
    assert.match(report, /<section id="campaign-1"><h2>Campaign spring<\/h2>/);
    assert.match(report, /aria-label="campaign progress"/);
    assert.match(report, /<td>quorum<\/td><td>1<\/td>/);
    assert.match(report, /aria-label="gold accuracy"/);
  });
});

describe('releases of campaigns: an exclusion after the cutoff', function () {
  this.timeout(120_000);
  it('should count a rater excluded after the cutoff as active in that release', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefline-release-campaigns-late-'));
    const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
    try {
      const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
      await commitCompareLifecycle(ledger, artifacts, SPECS[0]!);
      const late = campaignCommit();
      late.raters = late.raters!.map((r) => (r.status === 'excluded' ? { ...r, excludedAt: at(120).toISOString() } : r));
      late.gold = [];
      await ledger.withConnection((c) => commitCampaign(c, late, at(35)));
      const release = await publishRelease({ ledger, releasesDir: join(dir, 'releases'), cutoff: at(60).toISOString(), artifactDir: artifacts.rootDir, now: () => at(600) });
      const battles = await readParquetIndependently(join(release.dir, 'battles.parquet'));
      assert.deepEqual(battles.map((b) => b.rater_excluded), [false, false, false]);
      const matchups = await readParquetIndependently(join(release.dir, 'matchups.parquet'));
      assert.deepEqual(matchups.map((m) => [m.votes_a, m.votes_b]), [[1, 2]]);
      const raters = await readParquetIndependently(join(release.dir, 'raters.parquet'));
      assert.deepEqual(raters.map((r) => [r.status, r.reason]), [['active', null], ['active', null], ['active', null]]);
    } finally {
      ledger.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Two campaigns with one label, and a plain lifecycle carrying it: each campaign's lifecycles are its own
 * workflow's children and gold, never the label's. B's id `sp_ing` would match A's children under LIKE.
 *
 *   spring-item-0     A's item: r1 alpha, r2 beta, r3 (excluded by A) beta
 *   sp_ing-item-0     B's item: r2 (excluded by B) alpha, r3 beta
 *   sp_ing-item-0-r1  B's re-ask of it: r1 alpha
 *   spring-gold-0     A's gold: r1, r2 → nowhere
 *   sp_ing-gold-0     B's gold: r1, r3 → nowhere
 *   P1                no campaign, label spring: r2 alpha, r3 alpha → counts, flagged nowhere
 */
describe('releases of campaigns: two campaigns with one label', function () {
  this.timeout(120_000);
  const A_REASON = 'excluded by A';
  const B_REASON = 'excluded by B';
  const specs: CompareSpec[] = [
    { lifecycleId: 'spring-item-0', campaign: 'spring', prompt: 'a1', task: 'compare', models: [ALPHA, BETA], kind: 'text', commitAt: 31, judgements: [j(1, 'c1', 'left'), j(2, 'c2', 'left'), j(3, 'c1', 'right')] },
    { lifecycleId: 'sp_ing-item-0', campaign: 'spring', prompt: 'b1', task: 'compare', models: [ALPHA, BETA], kind: 'text', commitAt: 32, judgements: [j(2, 'c1', 'left'), j(3, 'c1', 'right')] },
    { lifecycleId: 'sp_ing-item-0-r1', campaign: 'spring', prompt: 'b1', task: 'compare', models: [ALPHA, BETA], kind: 'text', commitAt: 33, judgements: [j(1, 'c1', 'left')] },
    { lifecycleId: 'spring-gold-0', campaign: 'spring', prompt: 'ga', task: 'compare', models: [ALPHA, BETA], kind: 'text', commitAt: 34, judgements: [j(1, 'c1', 'left'), j(2, 'c1', 'right')] },
    { lifecycleId: 'sp_ing-gold-0', campaign: 'spring', prompt: 'gb', task: 'compare', models: [ALPHA, BETA], kind: 'text', commitAt: 35, judgements: [j(1, 'c1', 'left'), j(3, 'c1', 'right')] },
    { lifecycleId: 'P1', campaign: 'spring', prompt: 'p1', task: 'compare', models: [ALPHA, BETA], kind: 'text', commitAt: 36, judgements: [j(2, 'c1', 'left'), j(3, 'c2', 'right')] },
  ];
  const commit = (campaignId: string, runId: string, startedAt: number, excluded: number, reason: string, gold: string): CampaignCommitRequest => ({
    campaign: {
      campaignId, runId, label: 'spring', task: 'compare', responses: 3, channel: 'web', itemCount: 1,
      startedAt: at(startedAt).toISOString(), deadlineAt: at(600).toISOString(), phase: 'running',
      counts: { items: 1, done: 0, failed: 0, open: 1, pending: 0, answers: 0, reserved: 0, ended: {} },
    },
    outcomes: [],
    raters: [1, 2, 3].map((r) => (r === excluded
      ? { rater: rater(r), answers: 1, goldAnswered: 4, goldCorrect: 1, score: 0.25, status: 'excluded' as const, reason, excludedAt: at(20).toISOString() }
      : { rater: rater(r), answers: 1, goldAnswered: 4, goldCorrect: 4, score: 0.9, status: 'active' as const })),
    gold: [{ gold: 0, lifecycleId: gold, answer: 'first', explanation: 'the first is right' }],
  });
  let dir: string;
  let ledger: Ledger;
  let release: Awaited<ReturnType<typeof publishRelease>>;
  const read = (table: string) => readParquetIndependently(join(release.dir, `${table}.parquet`));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-release-campaigns-label-'));
    ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
    const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    for (const spec of specs) await commitCompareLifecycle(ledger, artifacts, spec);
    await ledger.withConnection((c) => commitCampaign(c, commit('spring', 'run-a', -5, 3, A_REASON, 'spring-gold-0'), at(37)));
    await ledger.withConnection((c) => commitCampaign(c, commit('sp_ing', 'run-b', -3, 2, B_REASON, 'sp_ing-gold-0'), at(38)));
    release = await publishRelease({ ledger, releasesDir: join(dir, 'releases'), cutoff: at(60).toISOString(), artifactDir: artifacts.rootDir, now: () => at(600) });
  });

  after(() => {
    ledger.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  it("should flag each campaign's exclusions in its own lifecycles only, and leave both campaigns' gold out", async () => {
    const battles = await read('battles');
    assert.deepEqual(battles.map((b) => [b.lifecycle_id, b.rater, b.winner, b.rater_excluded, b.exclusion_reason]), [
      ['spring-item-0', rater(1), 'model_a', false, null],
      ['spring-item-0', rater(2), 'model_b', false, null],
      ['spring-item-0', rater(3), 'model_b', true, A_REASON],
      ['sp_ing-item-0', rater(2), 'model_a', true, B_REASON],
      ['sp_ing-item-0', rater(3), 'model_b', false, null],
      ['sp_ing-item-0-r1', rater(1), 'model_a', false, null],
      ['P1', rater(2), 'model_a', false, null],
      ['P1', rater(3), 'model_a', false, null],
    ]);
    const matchups = await read('matchups');
    assert.deepEqual(matchups.map((m) => [m.lifecycle_id, m.votes_a, m.votes_b, m.total]), [
      ['spring-item-0', 1, 1, 2], ['sp_ing-item-0', 0, 1, 1], ['sp_ing-item-0-r1', 1, 0, 1], ['P1', 2, 0, 2],
    ]);
    const manifest = (await readManifest(release.dir)) as ReleaseManifest;
    assert.deepEqual(manifest.campaigns, { campaigns: 2, raters: 6, excludedRaters: 2, goldLifecycles: 2, goldJudgementsLeftOut: 4, excludedJudgements: 2 });
    // Each report section's progress: its own items' answers (A 3; B 2 + the re-ask's 1), not the label's 8.
    const sections = readFileSync(join(release.dir, 'report.html'), 'utf8').split('<section id="campaign-').slice(1);
    assert.deepEqual(sections.map((html) => [...html.matchAll(/: (\d+) answers</g)].map((m) => Number(m[1]))), [[3], [3]]);
  });

  it('should publish the same bytes again for the same cutoff', async () => {
    const again = await publishRelease({ ledger, releasesDir: join(dir, 'releases'), cutoff: at(60).toISOString(), releaseId: 'label-again', now: () => at(700) });
    const manifest = (await readManifest(release.dir)) as ReleaseManifest;
    for (const name of Object.keys(manifest.files).filter((f) => f.endsWith('.parquet'))) assert.equal(sha(join(again.dir, name)), sha(join(release.dir, name)), name);
  });
});
