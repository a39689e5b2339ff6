/**
 * `prefline campaign results`: per-model votes and win rates, per-matchup ratio and winner, the
 * Bradley–Terry leaderboard (releases/'s fit), rater scores and position bias, from a real ledger file;
 * gold lifecycles never count; an excluded rater's answers are left out unless --include-excluded, and
 * the output says so; table, CSV and JSON; the id bound.
 *
 *   cmp-7-item-0  flux vs sdxl: r1 flux (shown left), r2 sdxl (shown left), r3 (excluded) sdxl (shown right)
 *   cmp-7-item-1  flux vs sdxl: r1 flux (left), r2 flux (shown right), r3 (excluded) flux (left)
 *   cmp-7-gold-0  gold, flux vs sdxl: r1, r2 sdxl — never counted
 *   other-0       another campaign: r3 flux — not this campaign's
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CampaignResults } from '../../cli/campaign-results';
import { bootstrapBradleyTerry } from '../../releases/bradley-terry';
import { BOOTSTRAP_SEED } from '../../releases/standings';
import { commitCampaign } from '../../store/campaign-ledger';
import { Ledger } from '../../store/Ledger';
import type { CommittedJudgement } from '../../store/ledger-types';
import { validateLifecycleInput } from '../../workflows/input';
import type { Candidate, JudgementChoice } from '../../workflows/types';
import { runCli } from '../helpers/processes';
import { judgement, raterId } from '../helpers/votes';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const REASON = 'gold accuracy 0.20 below 0.70 after 5 gold answers';

function candidate(n: number, model: string): Candidate {
  const sha = String(n).repeat(64);
  return {
    id: `c${n}`, label: String.fromCharCode(64 + n), model, kind: 'image', placeholder: false,
    artifact: { sha256: sha, mime: 'image/png', size: 10, path: `sha256/${sha.slice(0, 2)}/${sha}.png` },
    provenance: { backend: 'import', model, params: {}, seed: 0, wallTimeMs: 1 },
  };
}

/** [rater, shown left, choice] per answer. */
type Answer = [rater: number, left: 'c1' | 'c2', choice: JudgementChoice];

async function compare(ledger: Ledger, id: string, campaign: string, startedAt: number, answers: Answer[]): Promise<void> {
  const planned = validateLifecycleInput({ task: 'compare', prompt: `prompt of ${id}`, campaign, responses: 20, candidates: [{ text: 'x', model: 'flux' }, { text: 'y', model: 'sdxl' }] }, T0);
  assert.ok(planned.ok, JSON.stringify(planned));
  const judgements: CommittedJudgement[] = answers.map(([r, left, choice], i) => ({
    ...judgement(choice, r, left === 'c1' ? ['c1', 'c2'] : ['c2', 'c1'], { idempotencyKey: `${id}:${i}`, castAt: at(startedAt + i) }),
    seq: i + 1, acceptedAt: at(startedAt + i), modelsHidden: true, standing: true,
  }));
  await ledger.commit({
    lifecycle: {
      lifecycleId: id, runId: `run-${id}`, plan: planned.plan, startedAt: at(startedAt), deadlineAt: at(3600), closedAt: at(900), closeReason: 'quorum',
      votesAccepted: judgements.length,
    },
    candidates: [candidate(1, 'flux'), candidate(2, 'sdxl')], votes: [], judgements,
  });
}

describe('prefline campaign results', function () {
  this.timeout(60_000);
  let dir: string;
  let env: Record<string, string>;
  const json = (...args: string[]): CampaignResults => {
    const result = runCli(['campaign', 'results', ...args, '--format', 'json'], env);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as CampaignResults;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-campaign-results-'));
    env = { PREFLINE_DATA_DIR: dir };
    const ledger = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
    await compare(ledger, 'cmp-7-item-0', 'spring-run', 10, [[1, 'c1', 'left'], [2, 'c2', 'left'], [3, 'c1', 'right']]);
    await compare(ledger, 'cmp-7-item-1', 'spring-run', 20, [[1, 'c1', 'left'], [2, 'c2', 'right'], [3, 'c1', 'left']]);
    await compare(ledger, 'cmp-7-gold-0', 'spring-run', 30, [[1, 'c1', 'right'], [2, 'c1', 'right']]);
    await compare(ledger, 'other-0', 'other', 40, [[3, 'c1', 'left']]);
    await ledger.withConnection((c) => commitCampaign(c, {
      campaign: {
        campaignId: 'cmp-7', runId: 'cmp-run-7', label: 'spring-run', task: 'compare', responses: 3, channel: 'web', itemCount: 2,
        startedAt: at(0), deadlineAt: at(7200), phase: 'completed', closedAt: at(1000),
        counts: { items: 2, done: 2, failed: 0, open: 0, pending: 0, answers: 6, reserved: 0, ended: { quorum: 2 } },
      },
      outcomes: [0, 1].map((item) => ({ item, lifecycleId: `cmp-7-item-${item}`, end: 'quorum' as const, answers: 3, raters: 3, attempts: 1, closedAt: at(900) })),
      raters: [
        { rater: raterId(1), answers: 2, goldAnswered: 5, goldCorrect: 5, score: 0.9, status: 'active' },
        { rater: raterId(2), answers: 2, goldAnswered: 4, goldCorrect: 3, score: 0.7, status: 'active' },
        { rater: raterId(3), answers: 2, goldAnswered: 5, goldCorrect: 1, score: 0.2, status: 'excluded', reason: REASON, excludedAt: at(500) },
      ],
      gold: [{ gold: 0, lifecycleId: 'cmp-7-gold-0', answer: 'first', explanation: 'flux follows the prompt' }],
    }));
    ledger.closeSync();
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should leave out gold and the excluded rater by default, and say how many were excluded', () => {
    const results = json('cmp-7');
    assert.deepEqual(results.campaign, { id: 'cmp-7', label: 'spring-run', task: 'compare', phase: 'completed', items: 2, done: 2, failed: 0, answers: 6, started_at: results.campaign.started_at });
    assert.deepEqual([results.includeExcluded, results.excludedRaters, results.excludedAnswersLeftOut, results.goldLifecycles], [false, 1, 2, 1]);
    assert.deepEqual(results.matchups.map((m) => [m.lifecycle_id, m.votes_a, m.votes_b, m.ties, m.ratio, m.winner, m.winner_model]), [
      ['cmp-7-item-0', 1, 1, 0, 0.5, 'tie', null],
      ['cmp-7-item-1', 2, 0, 0, 1, 'a', 'flux'],
    ]);
    assert.deepEqual(results.models.map((m) => [m.model, m.votes, m.wins, m.losses, m.win_rate]), [['flux', 4, 3, 1, 0.75], ['sdxl', 4, 1, 3, 0.25]]);
    // releases/'s fit, seed and rounds over the same comparisons: a release's compare_bt_* for this campaign.
    const fit = bootstrapBradleyTerry([{ modelA: 'flux', modelB: 'sdxl', winsA: 3, winsB: 1, ties: 0 }], { rounds: 200, seed: BOOTSTRAP_SEED });
    assert.deepEqual(results.leaderboard, fit.sort((x, y) => y.score - x.score).map((m, i) => ({
      rank: i + 1, model: m.model, score: m.score, ci_low: m.ciLow, ci_high: m.ciHigh, comparisons: m.comparisons,
    })));
    assert.equal(results.leaderboard[0]?.model, 'flux');
    assert.ok(results.leaderboard.every((e) => e.ci_low <= e.score && e.score <= e.ci_high));
    // Left wins: r1 twice and r2 on item 0; r2 on item 1 picked the right-hand candidate.
    assert.deepEqual([results.positionBias.decided, results.positionBias.leftWins, results.positionBias.leftShare], [4, 3, 0.75]);
    assert.deepEqual(results.raters.map((r) => [r.rater, r.answers, r.gold_answered, r.gold_correct, r.gold_accuracy, r.score, r.status, r.reason]), [
      [raterId(1), 2, 5, 5, 1, 0.9, 'active', null],
      [raterId(2), 2, 4, 3, 0.75, 0.7, 'active', null],
      [raterId(3), 2, 5, 1, 0.2, 0.2, 'excluded', REASON],
    ]);
    assert.deepEqual(json('spring-run').matchups, results.matchups, 'the label finds the campaign too');
  });

  it('should count the excluded rater with --include-excluded, gold still not', () => {
    const results = json('cmp-7', '--include-excluded');
    assert.deepEqual([results.includeExcluded, results.excludedRaters, results.excludedAnswersLeftOut], [true, 1, 0]);
    assert.deepEqual(results.matchups.map((m) => [m.lifecycle_id, m.votes_a, m.votes_b, m.winner]), [['cmp-7-item-0', 1, 2, 'b'], ['cmp-7-item-1', 3, 0, 'a']]);
    assert.deepEqual(results.models.map((m) => [m.model, m.wins, m.losses]), [['flux', 4, 2], ['sdxl', 2, 4]]);
    assert.deepEqual([results.positionBias.decided, results.positionBias.leftWins], [6, 4]);
  });

  it('should print CSV of the matchups with the exclusion note on stderr, and tables of every part', () => {
    const csv = runCli(['campaign', 'results', 'cmp-7', '--format', 'csv'], env);
    assert.equal(csv.code, 0, csv.stderr);
    assert.deepEqual(csv.stdout.trim().split('\n'), [
      'lifecycle_id,prompt,model_a,model_b,votes_a,votes_b,ties,both_bad,ratio,winner,winner_model,status',
      'cmp-7-item-0,prompt of cmp-7-item-0,flux,sdxl,1,1,0,0,0.5,tie,,quorum',
      'cmp-7-item-1,prompt of cmp-7-item-1,flux,sdxl,2,0,0,0,1,a,flux,quorum',
    ]);
    assert.match(csv.stderr, /^1 rater excluded: their 2 answers left out \(--include-excluded counts them\); 1 gold item never counted$/m);
    const table = runCli(['campaign', 'results', 'cmp-7'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Campaign cmp-7 \(label spring-run, compare, completed\): 2 of 2 items done, 0 failed, 6 answers\n1 rater excluded/);
    for (const heading of ['Models (compare)', 'Bradley–Terry leaderboard', 'Matchups', 'Raters']) assert.ok(table.stdout.includes(`\n${heading}`), heading);
    assert.match(table.stdout, /Position bias: 75\.0% of 4 decided answers went to the candidate shown on the left/);
    assert.match(runCli(['campaign', 'results', 'cmp-7', '--include-excluded'], env).stdout, /their answers are included \(--include-excluded\)/);
  });

  it('should bind the id (a quote or SQL finds nothing: exit 3) and refuse unknown flags and formats (exit 2)', () => {
    for (const target of ["cmp-7' OR '1'='1", 'nothing', 'other-0']) {
      const result = runCli(['campaign', 'results', target], env);
      assert.equal(result.code, 3, result.stdout);
      assert.match(result.stderr, /no campaign ".*" in the ledger/);
    }
    assert.equal(runCli(['campaign', 'results', 'cmp-7', '--format', 'xml'], env).code, 2);
    assert.equal(runCli(['campaign', 'results', 'cmp-7', '--excluded'], env).code, 2);
    assert.equal(runCli(['campaign', 'results'], env).code, 2);
  });
});

/**
 * Two campaigns with one label, and a plain lifecycle carrying it: each campaign's results count its own
 * workflow's children only, and its own exclusions. B's id `cmp_a` would match A's children under LIKE.
 *
 *   cmp-a-item-0     A's item (label shared): r1 flux, r2 sdxl, r3 (excluded by A) sdxl
 *   cmp_a-item-0     B's item (label shared): r1 (excluded by B) flux, r3 flux, r2 flux
 *   cmp_a-item-0-r1  B's re-ask of it: r3 sdxl
 *   cmp_a-gold-0     B's gold: r3 sdxl — never counted
 *   plain-0          no campaign, label shared: r2 sdxl, r3 flux — neither campaign's
 */
describe('prefline campaign results: two campaigns with one label', function () {
  this.timeout(60_000);
  let dir: string;
  let env: Record<string, string>;
  const json = (...args: string[]): CampaignResults => {
    const result = runCli(['campaign', 'results', ...args, '--format', 'json'], env);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as CampaignResults;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-campaign-results-label-'));
    env = { PREFLINE_DATA_DIR: dir };
    const ledger = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
    await compare(ledger, 'cmp-a-item-0', 'shared', 10, [[1, 'c1', 'left'], [2, 'c2', 'left'], [3, 'c1', 'right']]);
    await compare(ledger, 'cmp_a-item-0', 'shared', 110, [[1, 'c1', 'left'], [3, 'c1', 'left'], [2, 'c2', 'right']]);
    await compare(ledger, 'cmp_a-item-0-r1', 'shared', 115, [[3, 'c2', 'left']]);
    await compare(ledger, 'cmp_a-gold-0', 'shared', 120, [[3, 'c1', 'right']]);
    await compare(ledger, 'plain-0', 'shared', 130, [[2, 'c2', 'left'], [3, 'c1', 'left']]);
    const commit = (campaignId: string, startedAt: number, excluded: number, gold: string[]) => ledger.withConnection((c) => commitCampaign(c, {
      campaign: {
        campaignId, runId: `run-${campaignId}`, label: 'shared', task: 'compare', responses: 3, channel: 'web', itemCount: 1,
        startedAt: at(startedAt), deadlineAt: at(7200), phase: 'running',
        counts: { items: 1, done: 0, failed: 0, open: 1, pending: 0, answers: 3, reserved: 0, ended: {} },
      },
      outcomes: [],
      raters: [1, 2, 3].map((r) => (r === excluded
        ? { rater: raterId(r), answers: 1, goldAnswered: 5, goldCorrect: 1, score: 0.2, status: 'excluded' as const, reason: REASON, excludedAt: at(startedAt + 5) }
        : { rater: raterId(r), answers: 1, goldAnswered: 5, goldCorrect: 5, score: 0.9, status: 'active' as const })),
      gold: gold.map((lifecycleId, i) => ({ gold: i, lifecycleId, answer: 'first' as const, explanation: 'flux follows the prompt' })),
    }));
    await commit('cmp-a', 0, 3, []);
    await commit('cmp_a', 100, 1, ['cmp_a-gold-0']);
    ledger.closeSync();
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("should count only the earlier campaign's own item, its exclusion touching nothing else", () => {
    const results = json('cmp-a');
    assert.deepEqual(results.matchups.map((m) => [m.lifecycle_id, m.votes_a, m.votes_b]), [['cmp-a-item-0', 1, 1]]);
    assert.deepEqual([results.excludedRaters, results.excludedAnswersLeftOut, results.goldLifecycles], [1, 1, 0]);
    assert.deepEqual(json('cmp-a', '--include-excluded').matchups.map((m) => [m.lifecycle_id, m.votes_a, m.votes_b]), [['cmp-a-item-0', 1, 2]]);
  });

  it("should count only the later campaign's items and re-asks, never its gold nor the plain lifecycle, and only its own exclusion", () => {
    const results = json('cmp_a');
    // r3, excluded by cmp-a only, counts here; r1, excluded here, does not.
    assert.deepEqual(results.matchups.map((m) => [m.lifecycle_id, m.votes_a, m.votes_b]), [['cmp_a-item-0', 2, 0], ['cmp_a-item-0-r1', 0, 1]]);
    assert.deepEqual([results.excludedRaters, results.excludedAnswersLeftOut, results.goldLifecycles], [1, 1, 1]);
    assert.deepEqual(results.models.map((m) => [m.model, m.wins, m.losses]), [['flux', 2, 1], ['sdxl', 1, 2]]);
  });
});
