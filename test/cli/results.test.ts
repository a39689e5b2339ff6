/**
 * `prefline results`: matchup outcomes (votes per side, ties, both bad, ratio = max/sum, winner) and
 * per-model counts from a real ledger, for one lifecycle or a campaign, through the read endpoint of a
 * running ledger writer and from the file; the id or label is bound, never spliced; output sanitised.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatResults, matchupOutcome, summarizeResults, type Results } from '../../cli/results';
import { Ledger } from '../../store/Ledger';
import { LedgerReadServer } from '../../store/LedgerReadServer';
import type { CommittedJudgement, CommittedVote } from '../../store/ledger-types';
import { validateLifecycleInput } from '../../workflows/input';
import type { Candidate, JudgementChoice, LifecyclePlan } from '../../workflows/types';
import { runCli, spawnCli } from '../helpers/processes';
import { judgement, vote } from '../helpers/votes';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function plan(input: Record<string, unknown>): LifecyclePlan {
  const result = validateLifecycleInput(input, T0);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

function candidate(n: number, model: string): Candidate {
  const sha = String(n).repeat(64);
  return {
    id: `c${n}`, label: String.fromCharCode(64 + n), model, kind: 'image', placeholder: false,
    artifact: { sha256: sha, mime: 'image/png', size: 10, path: `sha256/${sha.slice(0, 2)}/${sha}.png` },
    provenance: { backend: 'import', model, params: {}, seed: 0, wallTimeMs: 1 },
  };
}

describe('prefline results', function () {
  this.timeout(60_000);
  let dir: string;
  let env: Record<string, string>;

  /** A compare lifecycle whose judgements are `answers` (each by its own rater; retracted ones do not stand). */
  async function compare(ledger: Ledger, id: string, prompt: string, models: [string, string], answers: JudgementChoice[], campaign = 'seed-1'): Promise<void> {
    const judgements: CommittedJudgement[] = answers.map((choice, i) => ({
      ...judgement(choice, i + 1, i % 2 ? ['c2', 'c1'] : ['c1', 'c2'], { idempotencyKey: `web:${i}`, castAt: at(i) }),
      seq: i + 1, acceptedAt: at(i), modelsHidden: true, standing: choice !== 'retract',
    }));
    await ledger.commit({
      lifecycle: {
        lifecycleId: id, runId: `run-${id}`, plan: plan({ task: 'compare', prompt, campaign, responses: 20, candidates: [{ text: 'x', model: models[0] }, { text: 'y', model: models[1] }] }),
        startedAt: at(Number(id.replace(/\D/g, '')) || 0), deadlineAt: at(3600), closedAt: at(900), closeReason: 'quorum', votesAccepted: judgements.length,
      },
      candidates: [candidate(1, models[0]), candidate(2, models[1])], votes: [], judgements,
    });
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-results-'));
    env = { PREFLINE_DATA_DIR: dir };
    const ledger = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
    // Shown left/right alternately: the sides counted are the lifecycle's a and b, not the screen's.
    await compare(ledger, 'lc-1', 'a red fox', ['flux', 'sdxl'], ['left', 'left', 'left', 'tie', 'both_bad', 'retract']); // c1, c2 (shown c2|c1), c1, tie, both bad; the retraction stands not
    await compare(ledger, 'lc-2', 'a \u001b]0;pwned\u0007 owl', ['flux', 'sdxl'], ['right', 'left', 'right', 'tie']); // c2, c2 (shown c2|c1), c2, tie
    await compare(ledger, 'lc-3', 'a boat', ['sdxl', 'flux'], ['left', 'right']); // c1, c1 (shown c2|c1): sdxl twice
    await compare(ledger, 'lc-4', 'a cat', ['flux', 'sdxl'], ['left', 'left']); // c1, c2 (shown c2|c1): a tie at 1–1
    const votes: CommittedVote[] = [
      { ...vote('c1', 'up', 1, { idempotencyKey: 'web:t1', castAt: at(1) }), seq: 1, acceptedAt: at(1), standing: true },
      { ...vote('c2', 'down', 1, { idempotencyKey: 'web:t2', castAt: at(2) }), seq: 2, acceptedAt: at(2), standing: true },
      { ...vote('c2', 'up', 2, { idempotencyKey: 'web:t3', castAt: at(3) }), seq: 3, acceptedAt: at(3), standing: false },
    ];
    await ledger.commit({
      lifecycle: { lifecycleId: 'lc-thumbs', runId: 'run-thumbs', plan: plan({ prompt: 'thumbs', models: ['demo:shapes', 'demo:text'], campaign: 'spring' }), startedAt: at(0), deadlineAt: at(3600), closedAt: at(900), closeReason: 'quorum', votesAccepted: 3 },
      candidates: [candidate(1, 'demo:shapes'), candidate(2, 'demo:text')], votes,
    });
    ledger.closeSync();
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should give ratio max/sum and the winner of a matchup, a tie when the sides are equal', () => {
    assert.deepEqual(matchupOutcome(3, 1), { ratio: 0.75, winner: 'a' });
    assert.deepEqual(matchupOutcome(0, 2), { ratio: 1, winner: 'b' });
    assert.deepEqual(matchupOutcome(2, 2), { ratio: 0.5, winner: 'tie' });
    assert.deepEqual(matchupOutcome(0, 0), { ratio: null, winner: 'tie' });
  });

  it('should report a campaign\'s matchups and models from the ledger file when no ledger worker runs', () => {
    const result = runCli(['results', 'seed-1', '--format', 'json'], env);
    assert.equal(result.code, 0, result.stderr);
    const results = JSON.parse(result.stdout) as Results;
    assert.deepEqual(results.matchups.map((m) => [m.lifecycle_id, m.model_a, m.model_b, m.votes_a, m.votes_b, m.ties, m.both_bad, m.ratio, m.winner, m.winner_model, m.status]), [
      ['lc-1', 'flux', 'sdxl', 2, 1, 1, 1, 2 / 3, 'a', 'flux', 'quorum'],
      ['lc-2', 'flux', 'sdxl', 0, 3, 1, 0, 1, 'b', 'sdxl', 'quorum'],
      ['lc-3', 'sdxl', 'flux', 2, 0, 0, 0, 1, 'a', 'sdxl', 'quorum'],
      ['lc-4', 'flux', 'sdxl', 1, 1, 0, 0, 0.5, 'tie', null, 'quorum'],
    ]);
    assert.deepEqual(results.models, [
      { model: 'sdxl', wins: 7, losses: 3, ties: 2, both_bad: 1, matchups: 4 },
      { model: 'flux', wins: 3, losses: 7, ties: 2, both_bad: 1, matchups: 4 },
    ]);
    assert.deepEqual(results.thumbs, []);
    assert.equal(results.matchups[1]!.prompt, 'a \u001b]0;pwned\u0007 owl', 'JSON keeps the value, escaped');
    assert.ok(!result.stdout.includes('\u001b'), 'no raw escape reaches the terminal');
  });

  it('should report one lifecycle, thumbs lifecycles per model, and print tables and CSV safe for terminals and spreadsheets', () => {
    const one = runCli(['results', 'lc-3', '--format', 'csv'], env);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(one.stdout.trim().split('\n'), ['lifecycle_id,prompt,model_a,model_b,votes_a,votes_b,ties,both_bad,ratio,winner,winner_model,status', 'lc-3,a boat,sdxl,flux,2,0,0,0,1,a,sdxl,quorum']);
    const thumbs = runCli(['results', 'spring', '--format', 'json'], env);
    assert.equal(thumbs.code, 0, thumbs.stderr);
    assert.deepEqual(JSON.parse(thumbs.stdout), {
      matchups: [], models: [], thumbs: [{ model: 'demo:shapes', up: 1, down: 0, candidates: 1 }, { model: 'demo:text', up: 0, down: 1, candidates: 1 }],
    });
    assert.match(runCli(['results', 'spring'], env).stdout, /^Models \(thumbs\)\nmodel +│ up │ down │ candidates\n/);
    const table = runCli(['results', 'seed-1'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^Models \(compare\)\n[^]*\nMatchups\n/);
    assert.ok(!table.stdout.includes('\u001b') && table.stdout.includes('␛]0;pwned␇'), 'controls shown, not run');
  });

  it('should bind the id, so a quote or SQL in it finds nothing, and exit 3 for an unknown one', () => {
    for (const target of ["seed-1' OR '1'='1", 'nothing', "x'; DROP TABLE judgements; --"]) {
      const result = runCli(['results', target], env);
      assert.equal(result.code, 3, result.stdout);
      assert.match(result.stderr, /no lifecycle or campaign ".*" in the ledger/);
    }
    assert.equal(runCli(['results', 'seed-1', '--format', 'xml'], env).code, 2);
    assert.equal(runCli(['results'], env).code, 2);
  });

  it('should read through a running ledger writer\'s endpoint, with the id bound there too', async () => {
    const ledger = await Ledger.openWriter(path.join(dir, 'ledger.duckdb'));
    const server = await LedgerReadServer.start(ledger, { host: '127.0.0.1', port: 0, endpointFile: path.join(dir, 'ledger-endpoint.json') });
    try {
      // Asynchronously: the endpoint answers from this process. (The writer holds the file: a read of the file would be refused.)
      const cli = spawnCli(['results', 'lc-4', '--format', 'json'], env);
      const { code } = await cli.exited;
      assert.equal(code, 0, cli.output());
      assert.deepEqual((JSON.parse(cli.output()) as Results).matchups.map((m) => [m.votes_a, m.votes_b, m.winner]), [[1, 1, 'tie']]);
      const response = await fetch(`${server.endpoint.url}/query`, {
        method: 'POST', headers: { authorization: `Bearer ${server.endpoint.token}` }, body: JSON.stringify({ sql: 'SELECT count(*)::INT AS n FROM lifecycles WHERE campaign = $1', values: ['seed-1'] }),
      });
      assert.deepEqual(((await response.json()) as { rows: unknown[] }).rows, [{ n: 4 }]);
      const refused = await fetch(`${server.endpoint.url}/query`, {
        method: 'POST', headers: { authorization: `Bearer ${server.endpoint.token}` }, body: JSON.stringify({ sql: 'SELECT $1', values: [{ nested: true }] }),
      });
      assert.equal(refused.status, 400);
    } finally {
      await server.close();
      ledger.closeSync();
    }
  });

  it('should summarize rows without a ledger too (the formatter the command prints with)', () => {
    const results = summarizeResults([{ lifecycle_id: 'x', prompt: '=1+1', model_a: 'a', model_b: 'b', votes_a: 1, votes_b: 0, ties: 0, both_bad: 0, status: 'voting' }], []);
    assert.match(formatResults(results, 'csv').split('\n')[1]!, /^x,'=1\+1,a,b,1,0,0,0,1,a,a,voting$/);
  });
});
