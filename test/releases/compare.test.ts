/**
 * Releases of a ledger with judgements (compare-fixtures.ts: C1–C7 beside the thumbs lifecycles L1–L6),
 * read back with hyparquet: battles, matchups, the training files with the columns TRL reads, the
 * leaderboard's fit over judgements against an independent MM implementation, model pairs, position
 * bias, the dataset card's fields, the cutoff rule and determinism across ledgers and thread settings.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { PARQUET_TABLES, readManifest, resolveRelease, type ReleaseManifest } from '../../releases/layout';
import { publishRelease } from '../../releases/publisher';
import { diffReleases, exportRelease } from '../../releases/tools';
import { ArtifactStore } from '../../store/ArtifactStore';
import { BATTLE_EXCLUSION_COLUMNS } from '../../releases/campaign-scope';
import { BATTLE_COLUMNS } from '../../store/judgement-derived';
import { Ledger } from '../../store/Ledger';
import { withMemoryDatabase } from '../../releases/tools';
import { COMPARE_SPECS, JUDGEMENTS_DDL, commitCompareLifecycle, fillCompareLedger, rater, type Choice, type CompareSpec } from './compare-fixtures';
import { CUTOFF_1, CUTOFF_2, at, readParquetIndependently } from './fixtures';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const ALPHA = 'demo:alpha';
const BETA = 'demo:beta';
const GAMMA = 'demo:gamma';

/**
 * Hunter's MM iteration for Bradley–Terry with ties as half wins and `prior` virtual tied games of
 * every model against a pivot of strength 1: p_i ← W_i / (Σ_j n_ij / (p_i + p_j) + prior / (p_i + 1)).
 * Written from the paper, not from releases/bradley-terry.ts (which uses Newton's method); returns the
 * Elo-scale scores centred on 1000 as the release reports them.
 */
function mmScores(games: Array<{ a: string; b: string; winsA: number; winsB: number; ties: number }>, prior = 1): Map<string, number> {
  const models = [...new Set(games.flatMap((g) => [g.a, g.b]))].sort();
  const wins = new Map(models.map((m) => [m, prior / 2]));
  for (const g of games) {
    wins.set(g.a, (wins.get(g.a) as number) + g.winsA + g.ties / 2);
    wins.set(g.b, (wins.get(g.b) as number) + g.winsB + g.ties / 2);
  }
  let p = new Map(models.map((m) => [m, 1]));
  for (let iter = 0; iter < 200_000; iter++) {
    const next = new Map<string, number>();
    for (const m of models) {
      let denominator = prior / ((p.get(m) as number) + 1);
      for (const g of games) {
        const n = g.winsA + g.winsB + g.ties;
        if (g.a === m) denominator += n / ((p.get(m) as number) + (p.get(g.b) as number));
        if (g.b === m) denominator += n / ((p.get(m) as number) + (p.get(g.a) as number));
      }
      next.set(m, (wins.get(m) as number) / denominator);
    }
    const change = Math.max(...models.map((m) => Math.abs(Math.log(next.get(m) as number) - Math.log(p.get(m) as number))));
    p = next;
    if (change < 1e-14) break;
  }
  const mean = models.reduce((s, m) => s + Math.log(p.get(m) as number), 0) / models.length;
  return new Map(models.map((m) => [m, 1000 + (400 / Math.LN10) * (Math.log(p.get(m) as number) - mean)]));
}

describe('releases of comparisons (battles, matchups, training files, judgement leaderboard)', function () {
  this.timeout(120_000);
  let dir: string;
  let ledger: Ledger;
  let artifacts: ArtifactStore;
  let releasesDir: string;
  let full: Awaited<ReturnType<typeof publishRelease>>;
  let first: Awaited<ReturnType<typeof publishRelease>>;
  const read = (release: { dir: string }, table: string) => readParquetIndependently(join(release.dir, `${table}.parquet`));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-release-compare-'));
    ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
    artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    await fillCompareLedger(ledger, artifacts);
    releasesDir = join(dir, 'releases');
    first = await publishRelease({ ledger, releasesDir, cutoff: CUTOFF_1, artifactDir: artifacts.rootDir, now: () => at(600) });
    full = await publishRelease({
      ledger, releasesDir, cutoff: CUTOFF_2, artifactDir: artifacts.rootDir, now: () => at(600), card: { license: 'cc-by-4.0', languages: ['en', 'de'] },
    });
  });

  after(() => {
    ledger.closeSync();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should read the ledger’s judgements table, which is the design’s', async () => {
    const columns = 'SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = \'judgements\' ORDER BY ordinal_position';
    const design = await withMemoryDatabase(async (c) => {
      await c.run(JUDGEMENTS_DDL);
      return (await c.runAndReadAll(columns)).getRows();
    });
    assert.deepEqual(await ledger.withConnection(async (c) => (await c.runAndReadAll(columns)).getRows()), design);
  });

  it('should hold one battle per standing judgement, Arena style, in completion order', async () => {
    const battles = await read(full, 'battles');
    assert.deepEqual(Object.keys(battles[0] ?? {}), [...BATTLE_COLUMNS, ...BATTLE_EXCLUSION_COLUMNS]);
    // No campaign here: nobody is excluded.
    assert.deepEqual(battles.filter((b) => b.rater_excluded !== false || b.exclusion_reason !== null), []);
    // Completion order: C1–C4 and C7 at +31…+36 min, C5 at +95 (its second batch), C6 at +100; within one, by seq.
    assert.deepEqual(battles.map((b) => b.lifecycle_id), ['C1', 'C1', 'C1', 'C1', 'C1', 'C1', 'C2', 'C2', 'C2', 'C2', 'C3', 'C3', 'C4', 'C4', 'C7', 'C5', 'C5', 'C6']);
    const c1 = battles.filter((b) => b.lifecycle_id === 'C1');
    // Rater 5 changed left → right, rater 7 withdrew: neither earlier answer stands, the withdrawal is no battle.
    assert.deepEqual(c1.map((b) => [b.rater, b.shown_left, b.winner, b.rater_verified]), [
      [rater(1), 'c1', 'model_a', true], [rater(2), 'c2', 'model_b', true], [rater(3), 'c1', 'model_b', false], [rater(4), 'c2', 'tie', true],
      [rater(6), 'c1', 'both_bad', true], [rater(5), 'c1', 'model_b', true],
    ]);
    assert.deepEqual([c1[0]?.model_a, c1[0]?.model_b, c1[0]?.candidate_a, c1[0]?.candidate_b, c1[0]?.task], [ALPHA, BETA, 'c1', 'c2', 'compare']);
    assert.equal(c1[0]?.question, 'Which image fits the description better?');
    assert.equal(c1[0]?.models_hidden, true);
    assert.ok(c1[0]?.cast_at instanceof Date);
    // C4 is a thumbs lifecycle answered with Slack's A/B buttons: judgements with the models shown.
    const c4 = battles.filter((b) => b.lifecycle_id === 'C4');
    assert.deepEqual(c4.map((b) => [b.task, b.channel, b.models_hidden, b.winner]), [['thumbs', 'slack', false, 'model_a'], ['thumbs', 'slack', false, 'model_b']]);
    // Every judgement event is in judgement_events, the withdrawn and changed ones too.
    const events = await read(full, 'judgement_events');
    assert.equal(events.length, COMPARE_SPECS.reduce((n, s) => n + s.judgements.length, 0));
    assert.deepEqual(events.filter((e) => e.lifecycle_id === 'C1' && e.rater === rater(7)).map((e) => [e.choice, e.standing]), [['left', false], ['retract', false]]);
  });

  it('should give each matchup its votes per side, ties, both bad, ratio = max/sum and winner', async () => {
    const matchups = await read(full, 'matchups');
    assert.deepEqual(
      matchups.map((m) => [m.lifecycle_id, m.task, m.votes_a, m.votes_b, m.ties, m.both_bad, m.total, m.ratio, m.winner, m.left_wins]),
      [
        ['C1', 'compare', 1, 3, 1, 1, 6, 0.75, 'b', 2],
        ['C2', 'compare', 3, 1, 0, 0, 4, 0.75, 'a', 3],
        ['C3', 'compare', 0, 0, 2, 0, 2, null, 'tie', 0],
        ['C4', 'thumbs', 1, 1, 0, 0, 2, 0.5, 'tie', 1],
        ['C7', 'compare', 1, 0, 0, 0, 1, 1, 'a', 0],
        ['C5', 'compare', 1, 1, 0, 0, 2, 0.5, 'tie', 2],
        ['C6', 'compare', 1, 0, 0, 0, 1, 1, 'a', 0],
      ],
    );
    assert.match(String(matchups[0]?.path_a), /^artifacts\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\.png$/);
    assert.equal(matchups[0]?.close_reason, 'quorum');
  });

  it('should write preferences with TRL’s prompt/chosen/rejected, thumbs pairs then one row per decided judgement, and count ties and both-bad', async () => {
    const prefs = await read(full, 'preferences');
    assert.deepEqual(Object.keys(prefs[0] ?? {}).slice(0, 4), ['prompt', 'chosen', 'rejected', 'source']);
    assert.deepEqual(prefs.map((p) => p.source), [...Array(6).fill('thumbs'), ...Array(14).fill('compare')]);
    // Thumbs rows keep the earlier columns; compare rows hold each side once, in chosen/rejected (the
    // candidate's text, or its export-relative path), and leave them NULL.
    const candidates = new Map((await read(full, 'candidates')).map((c) => [`${c.run_id}/${c.candidate_id}`, c]));
    const side = (p: Record<string, unknown>, id: unknown) => {
      const c = candidates.get(`${p.run_id}/${id}`);
      return c?.text ?? `artifacts/${c?.path}`;
    };
    for (const p of prefs) {
      if (p.source === 'thumbs') {
        assert.equal(p.chosen, p.chosen_text ?? p.chosen_path);
        assert.equal(p.rejected, p.rejected_text ?? p.rejected_path);
      } else {
        assert.deepEqual([p.chosen_path, p.rejected_path, p.chosen_text, p.rejected_text], [null, null, null, null]);
      }
      assert.equal(p.chosen, side(p, p.chosen_candidate_id));
      assert.equal(p.rejected, side(p, p.rejected_candidate_id));
    }
    const compare = prefs.filter((p) => p.source === 'compare');
    // C1: alpha's one win, then beta's three (rater 2 saw beta on the left, rater 3 on the right); images as export-relative paths.
    const c1 = compare.filter((p) => p.lifecycle_id === 'C1');
    assert.deepEqual(c1.map((p) => [p.rater, p.chosen_model, p.rejected_model, p.chosen_candidate_id]), [
      [rater(1), ALPHA, BETA, 'c1'], [rater(2), BETA, ALPHA, 'c2'], [rater(3), BETA, ALPHA, 'c2'], [rater(5), BETA, ALPHA, 'c2'],
    ]);
    for (const p of c1) assert.match(String(p.chosen), /^artifacts\/sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\.png$/);
    assert.equal(c1[0]?.prompt, 'a lighthouse at dusk');
    assert.deepEqual([c1[0]?.margin, c1[0]?.chosen_up, c1[2]?.rater_verified], [null, null, false]);
    const c2 = compare.find((p) => p.lifecycle_id === 'C2');
    assert.deepEqual([c2?.prompt, c2?.chosen, c2?.rejected], ['a haiku about rain', 'C2 c1 from demo:beta', 'C2 c2 from demo:gamma']);
    assert.equal(compare.filter((p) => p.lifecycle_id === 'C3').length, 0); // two ties: no pair
    const manifest = (await readManifest(full.dir)) as ReleaseManifest;
    assert.deepEqual(manifest.stats.preferencesBySource, { thumbs: 6, compare: 14 });
    assert.deepEqual([manifest.stats.battles, manifest.stats.compareTies, manifest.stats.compareBothBad, manifest.stats.compareComparisons], [18, 3, 1, 16]);
    // The images resolve in an export.
    const out = join(dir, 'export');
    await exportRelease(await resolveRelease(releasesDir, full.releaseId), out, artifacts.rootDir);
    for (const p of c1) assert.equal(sha(join(out, String(p.chosen))), /([0-9a-f]{64})\.png$/.exec(String(p.chosen))?.[1]);
  });

  it('should write the text pairs in TRL’s conversational form', async () => {
    const chat = await read(full, 'preferences_chat');
    const texts = new Map((await read(full, 'candidates')).map((c) => [`${c.run_id}/${c.candidate_id}`, c.text]));
    const text = (p: Record<string, unknown>, id: unknown) => texts.get(`${p.run_id}/${id}`) ?? null;
    const prefs = (await read(full, 'preferences')).filter((p) => text(p, p.chosen_candidate_id) !== null && text(p, p.rejected_candidate_id) !== null);
    assert.equal(chat.length, 15); // 6 thumbs pairs, 9 text judgements (C1 and C7 are images)
    assert.deepEqual(Object.keys(chat[0] ?? {}), [
      'prompt', 'chosen', 'rejected', 'source', 'chosen_model', 'rejected_model', 'lifecycle_id', 'run_id', 'chosen_candidate_id', 'rejected_candidate_id', 'rater_verified',
    ]);
    chat.forEach((row, i) => {
      const p = prefs[i] ?? {};
      assert.deepEqual(row.prompt, [{ role: 'user', content: p.prompt }]);
      assert.deepEqual(row.chosen, [{ role: 'assistant', content: p.chosen }]);
      assert.deepEqual(row.rejected, [{ role: 'assistant', content: p.rejected }]);
      assert.deepEqual(row.chosen, [{ role: 'assistant', content: text(p, p.chosen_candidate_id) }]);
      assert.deepEqual(
        [row.source, row.chosen_model, row.rejected_model, row.lifecycle_id, row.run_id, row.chosen_candidate_id, row.rejected_candidate_id, row.rater_verified],
        [p.source, p.chosen_model, p.rejected_model, p.lifecycle_id, p.run_id, p.chosen_candidate_id, p.rejected_candidate_id, p.rater_verified],
      );
    });
    assert.ok(chat.some((row) => row.source === 'compare'));
  });

  it('should write kto.parquet: prompt, completion, label, one row per standing thumbs vote in ledger order', async () => {
    const kto = await read(full, 'kto');
    assert.deepEqual(Object.keys(kto[0] ?? {}), ['prompt', 'completion', 'label', 'lifecycle_id', 'run_id', 'candidate_id', 'model', 'rater', 'rater_verified']);
    assert.equal(kto.length, 18); // L1–L6: 17 standing votes, C4: 1
    // C4 was committed first (+34 min); then L1's five standing votes.
    assert.deepEqual(kto.slice(0, 6).map((k) => [k.lifecycle_id, k.candidate_id, k.label]), [
      ['C4', 'c1', true], ['L1', 'c1', true], ['L1', 'c1', true], ['L1', 'c1', false], ['L1', 'c2', false], ['L1', 'c2', false],
    ]);
    assert.deepEqual([kto[0]?.prompt, kto[0]?.completion, kto[0]?.model, kto[0]?.rater_verified], ['slack buttons', 'C4 c1 from demo:alpha', ALPHA, true]);
    const votes = await read(full, 'votes');
    assert.deepEqual(kto.map((k) => [k.run_id, k.candidate_id, k.rater, k.label]), votes.map((v) => [v.run_id, v.candidate_id, v.rater, v.value === 1]));
  });

  it('should fit Bradley–Terry over judgements (one per answer, ties half, both-bad out) as an independent MM fit does, apart from the thumbs fit', async () => {
    const board = new Map((await read(full, 'leaderboard')).map((r) => [r.model, r]));
    // Per pair of models: alpha–beta C1 (1, 3, tie 1, both bad 1), C4 (1, 1), C5 (1, 1); beta–gamma C2 (3, 1); alpha–gamma C3 (ties 2), C6 (gamma 1). C7 is alpha against alpha.
    const games = [
      { a: ALPHA, b: BETA, winsA: 3, winsB: 5, ties: 1 }, { a: ALPHA, b: GAMMA, winsA: 0, winsB: 1, ties: 2 }, { a: BETA, b: GAMMA, winsA: 3, winsB: 1, ties: 0 },
    ];
    const expected = mmScores(games);
    const tallies = { [ALPHA]: [12, 3, 6, 3, 1], [BETA]: [13, 8, 4, 1, 1], [GAMMA]: [7, 2, 3, 2, 0] };
    for (const [model, [comparisons, wins, losses, ties, bothBad]] of Object.entries(tallies)) {
      const row = board.get(model) as Record<string, number>;
      assert.deepEqual([row.compare_comparisons, row.compare_wins, row.compare_losses, row.compare_ties, row.compare_both_bad], [comparisons, wins, losses, ties, bothBad], model);
      const [score, low, high] = [row.compare_bt_score, row.compare_bt_ci_low, row.compare_bt_ci_high] as [number, number, number];
      assert.ok(Math.abs(score - (expected.get(model) as number)) < 1e-6, `${model}: ${score} vs MM ${expected.get(model)}`);
      assert.ok(low <= score && score <= high, model);
      assert.ok(high - low > 10, `${model}: an interval of a dozen comparisons is wide`);
    }
    assert.deepEqual([...board.values()].map((r) => [r.model, r.compare_bt_rank]).sort(), [[ALPHA, 3], [BETA, 1], [GAMMA, 2]]);
    // The thumbs fit knows nothing of judgements: gamma has no thumbs A/B comparison, so no thumbs score.
    assert.equal(board.get(GAMMA)?.bt_score, null);
    const pairs = await read(full, 'model_pairs');
    assert.deepEqual(pairs.filter((p) => p.source === 'compare').map((p) => [p.model_a, p.model_b, p.comparisons, p.wins_a, p.wins_b, p.ties, p.both_bad, p.win_rate_a]), [
      [ALPHA, BETA, 9, 3, 5, 1, 1, 3.5 / 9], [ALPHA, GAMMA, 3, 0, 1, 2, 0, 1 / 3], [BETA, GAMMA, 4, 3, 1, 0, 0, 0.75],
    ]);
    assert.ok(pairs.filter((p) => p.source === 'thumbs').every((p) => p.both_bad === null));
    assert.deepEqual(pairs.map((p) => p.source), [...pairs.filter((p) => p.source === 'thumbs').map(() => 'thumbs'), 'compare', 'compare', 'compare']);
  });

  it('should report the position bias: left wins among decided judgements with a 95% Wilson interval', async () => {
    // Left wins: C1 2 of 4, C2 3 of 4, C4 1 of 2, C5 2 of 2, C6 0 of 1, C7 0 of 1. Interval bounds from the Wilson formula, computed separately.
    const bias = ((await readManifest(full.dir)) as ReleaseManifest).stats.positionBias;
    assert.deepEqual([bias.decided, bias.leftWins, bias.leftShare], [14, 8, 8 / 14]);
    assert.ok(Math.abs((bias.ciLow as number) - 0.3259064457965074) < 1e-12 && Math.abs((bias.ciHigh as number) - 0.7861920109552588) < 1e-12, JSON.stringify(bias));
    // At the first cutoff C5 is pending and C6 not yet committed: 6 of 11.
    const early = ((await readManifest(first.dir)) as ReleaseManifest).stats.positionBias;
    assert.deepEqual([early.decided, early.leftWins], [11, 6]);
    assert.ok(Math.abs((early.ciLow as number) - 0.280091537409322) < 1e-12 && Math.abs((early.ciHigh as number) - 0.7872872837754024) < 1e-12);
    const card = readFileSync(join(full.dir, 'README.md'), 'utf8');
    assert.match(card, /Position bias: 57\.1% of 14 decided judgements went to the candidate shown on the left \(95% Wilson interval 32\.6%–78\.6%; 50% = no bias\)/);
  });

  it('should follow the cutoff rule for judgements and count what was added', async () => {
    assert.deepEqual([first.rows.battles, first.rows.matchups, first.rows.judgement_events], [15, 5, 18]);
    const manifest = (await readManifest(full.dir)) as ReleaseManifest;
    assert.deepEqual(
      [manifest.addedSincePrevious.battles, manifest.addedSincePrevious.matchups, manifest.addedSincePrevious.judgement_events, manifest.addedSincePrevious.kto],
      [3, 2, 3, 5],
    );
    assert.equal(((await readManifest(first.dir)) as ReleaseManifest).stats.lifecyclesPendingAtCutoff, 2); // L6 and C5
    const diffs = await diffReleases(await resolveRelease(releasesDir, first.releaseId), await resolveRelease(releasesDir, full.releaseId));
    assert.deepEqual(diffs.find((d) => d.table === 'battles'), { table: 'battles', rowsA: 15, rowsB: 18, added: 3, removed: 0, changed: 0 });
    assert.deepEqual(diffs.find((d) => d.table === 'matchups'), { table: 'matchups', rowsA: 5, rowsB: 7, added: 2, removed: 0, changed: 0 });
  });

  it('should write a card with a default config, the declared license and languages, a size category and the free-text columns', async () => {
    const card = readFileSync(join(full.dir, 'README.md'), 'utf8');
    const header = card.slice(0, card.indexOf('\n---\n', 4));
    assert.match(header, /^license: cc-by-4\.0$/m);
    assert.match(header, /^language:\n- en\n- de$/m);
    assert.match(header, /^size_categories:\n- n<1K$/m);
    // One default config, the preference pairs, listed first; every file is a config.
    assert.match(header, /^configs:\n- config_name: preferences\n {2}data_files: preferences\.parquet\n {2}default: true\n- config_name: lifecycles$/m);
    assert.equal(header.match(/default: true/g)?.length, 1);
    assert.equal(header.match(/^- config_name: /gm)?.length, PARQUET_TABLES.length); // the chat files are configs too
    assert.match(card, /\| `battles\.parquet` \| `prompt`, `question` \(operators\) \|/);
    assert.match(card, /\| `kto\.parquet` \| `prompt` \(operators\); `completion` \(models\) \|/);
    assert.match(card, /\| `model_pairs\.parquet` \| none \|/);
    assert.match(card, /Ties \(3\) and both-bad answers \(1\) produce no row/);
    // Undeclared: the header says unknown and the text says so.
    const plain = readFileSync(join(first.dir, 'README.md'), 'utf8');
    assert.match(plain, /^license: unknown$/m);
    assert.doesNotMatch(plain, /^language:/m);
    assert.match(plain, /none declared \(PREFLINE_RELEASE_LICENSE is unset/);
  });

  it('should read the card declarations from the environment and refuse malformed ones', () => {
    assert.deepEqual(loadConfig({ PREFLINE_RELEASE_LICENSE: 'apache-2.0', PREFLINE_RELEASE_LANGUAGE: 'en, pt-BR' }).releaseCard, { license: 'apache-2.0', languages: ['en', 'pt-BR'] });
    assert.deepEqual(loadConfig({}).releaseCard, { languages: [] });
    assert.throws(() => loadConfig({ PREFLINE_RELEASE_LICENSE: 'mit\nlanguage: xx' }), /PREFLINE_RELEASE_LICENSE must be a Hugging Face license id/);
    assert.throws(() => loadConfig({ PREFLINE_RELEASE_LANGUAGE: 'en,English' }), /PREFLINE_RELEASE_LANGUAGE must list ISO 639 codes .* got "English"/);
  });

  it('should publish byte-identical files from another ledger with the same commits, whatever its thread setting', async () => {
    const otherDir = mkdtempSync(join(tmpdir(), 'prefline-release-compare-other-'));
    const other = await Ledger.openWriter(join(otherDir, 'ledger.duckdb'), { allowedDirectories: [otherDir] });
    try {
      const otherArtifacts = await ArtifactStore.open(join(otherDir, 'artifacts'));
      await fillCompareLedger(other, otherArtifacts);
      await other.withConnection((c) => c.run('SET threads = 1'));
      const publishOther = (cutoff: string, card = {}) => publishRelease({ ledger: other, releasesDir: join(otherDir, 'releases'), cutoff, artifactDir: otherArtifacts.rootDir, now: () => at(700), card });
      await publishOther(CUTOFF_1);
      const elsewhere = await publishOther(CUTOFF_2, { license: 'cc-by-4.0', languages: ['en', 'de'] });
      const names = Object.keys(((await readManifest(full.dir)) as ReleaseManifest).files);
      // All but the manifest, which holds the creation time.
      for (const name of names) assert.equal(sha(join(elsewhere.dir, name)), sha(join(full.dir, name)), name);
    } finally {
      other.closeSync();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});

describe('the judgement leaderboard on a larger battle set (releases/standings)', function () {
  this.timeout(120_000);

  it('should match an independent MM fit, with the same bootstrap intervals from two ledgers', async () => {
    // 40 lifecycles among five models of known strengths, six answers each from a seeded generator.
    let state = 12_345;
    const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const strength = [1, 1.5, 2, 3, 5];
    const specs: CompareSpec[] = Array.from({ length: 40 }, (_, n) => {
      const i = n % 5;
      const j = (i + 1 + (Math.floor(n / 5) % 4)) % 5;
      const judgements = Array.from({ length: 6 }, (_, r) => {
        const u = random();
        const pA = (strength[i] as number) / ((strength[i] as number) + (strength[j] as number));
        const winner: 'a' | 'b' | 'tie' | 'both_bad' = u < 0.1 ? 'tie' : u < 0.15 ? 'both_bad' : random() < pA ? 'a' : 'b';
        const left = random() < 0.5 ? ('c1' as const) : ('c2' as const);
        const choice: Choice = winner === 'tie' || winner === 'both_bad' ? winner : (winner === 'a') === (left === 'c1') ? 'left' : 'right';
        return { rater: r + 1, left, choice, standing: true };
      });
      return {
        lifecycleId: `B${n}`, prompt: `battle ${n}`, task: 'compare', models: [`m:${i}`, `m:${j}`], kind: 'text', commitAt: 20 + Math.floor(n / 4), judgements,
      } satisfies CompareSpec;
    });
    const games = new Map<string, { a: string; b: string; winsA: number; winsB: number; ties: number }>();
    for (const s of specs) {
      for (const jd of s.judgements) {
        if (jd.choice === 'both_bad') continue;
        const winnerSide = jd.choice === 'tie' ? null : (jd.choice === 'left') === (jd.left === 'c1') ? 0 : 1;
        const [x, y] = [...s.models].sort();
        const g = games.get(`${x}|${y}`) ?? { a: x as string, b: y as string, winsA: 0, winsB: 0, ties: 0 };
        if (winnerSide === null) g.ties++;
        else if ((s.models[winnerSide] as string) === g.a) g.winsA++;
        else g.winsB++;
        games.set(`${x}|${y}`, g);
      }
    }
    const expected = mmScores([...games.values()]);
    const boards: Array<Array<Record<string, unknown>>> = [];
    const dirs: string[] = [];
    try {
      for (const k of [0, 1]) {
        const dir = mkdtempSync(join(tmpdir(), `prefline-release-bt-${k}-`));
        dirs.push(dir);
        const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
        try {
          const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
          await fillCompareLedger(ledger, artifacts, specs);
          const release = await publishRelease({ ledger, releasesDir: join(dir, 'releases'), cutoff: CUTOFF_2, artifactDir: artifacts.rootDir, now: () => at(600) });
          boards.push(await readParquetIndependently(join(release.dir, 'leaderboard.parquet')));
          if (k === 1) assert.equal(sha(join(release.dir, 'leaderboard.parquet')), sha(join(dirs[0] as string, 'releases', release.releaseId, 'leaderboard.parquet')));
        } finally {
          ledger.closeSync();
        }
      }
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
    const rated = (boards[0] ?? []).filter((r) => r.compare_bt_score !== null);
    assert.deepEqual(rated.map((r) => r.model).sort(), ['m:0', 'm:1', 'm:2', 'm:3', 'm:4']);
    for (const r of rated) {
      assert.ok(Math.abs((r.compare_bt_score as number) - (expected.get(r.model as string) as number)) < 1e-6, `${String(r.model)}: ${String(r.compare_bt_score)} vs MM ${expected.get(r.model as string)}`);
      assert.ok((r.compare_bt_ci_low as number) < (r.compare_bt_score as number) && (r.compare_bt_score as number) < (r.compare_bt_ci_high as number));
    }
    // The strongest and weakest come out so; the intervals are the same from the other ledger (fixed seed).
    const byRank = [...rated].sort((x, y) => (x.compare_bt_rank as number) - (y.compare_bt_rank as number)).map((r) => r.model);
    assert.equal(byRank[0], 'm:4');
    assert.equal(byRank[4], 'm:0');
    assert.deepEqual(boards[1], boards[0]);
  });
});

describe('judgement battles and matchups derived by the ledger (store/judgement-derived.ts through Ledger.commit)', function () {
  this.timeout(60_000);

  it('should derive them once however often the completing commit is retried, and redo them for a reset workflow committing again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefline-release-rederive-'));
    const ledger = await Ledger.openWriter(join(dir, 'ledger.duckdb'), { allowedDirectories: [dir] });
    try {
      const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
      const spec = COMPARE_SPECS.find((s) => s.lifecycleId === 'C2') as CompareSpec;
      await commitCompareLifecycle(ledger, artifacts, spec);
      await commitCompareLifecycle(ledger, artifacts, spec); // a retried commit: nothing new
      const derived = async () => ledger.withConnection(async (c) => (await c.runAndReadAll(
        `SELECT (SELECT count(*) FROM judgement_battles)::INTEGER, (SELECT string_agg(votes_a || '-' || votes_b || '-' || ties, ',') FROM judgement_matchups)`,
      )).getRows()[0]);
      assert.deepEqual(await derived(), [4, '3-1-0']);
      // The workflow was reset and its new run accepted a fifth answer (a tie): the derived rows are redone, not added to.
      await commitCompareLifecycle(ledger, artifacts, { ...spec, commitAt: spec.commitAt + 5, judgements: [...spec.judgements, { rater: 9, left: 'c1', choice: 'tie', standing: true }] }, 'all');
      assert.deepEqual(await derived(), [5, '3-1-1']);
    } finally {
      ledger.closeSync();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
