/**
 * Compare lifecycles on the real dev server through the gateway's directory (TemporalLifecycleDirectory),
 * with real activities and a real ledger: a rater answers A, changes to a tie and withdraws; the
 * `responses` quorum closes; the order each rater saw is recorded and can be recomputed; judgements
 * cross continue-as-new (lowered threshold) with increments and exact standing flags; brought
 * candidates from a folder under the import root and from the artifact store, with no inference; a
 * folder imported with `prefline import` and a matchups CSV started as lifecycles.
 */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importFolder } from '../../cli/import';
import { parseMatchupsCsv } from '../../core/matchups';
import { presentationOrder } from '../../core/presentation';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { JudgementTally } from '../../workflows/judgement-tally';
import type { LifecycleStart } from '../../workflows/lifecycle-carry';
import { WORKFLOW_TYPE, closeSignal, judgeSignal, judgeUpdate, statusQuery } from '../../workflows/messages';
import type { JudgementChoice, JudgementEvent, JudgementRequest, LifecycleInput, LifecycleSummary } from '../../workflows/types';
import { discPng } from '../helpers/fake-directory';
import { waitUntil } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, waitForVoting, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { raterId } from '../helpers/votes';

describe('compare lifecycles (real dev server, real ledger)', function () {
  this.timeout(240_000);
  let workers: LifecycleWorkers;
  let importRoot: string;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    importRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-import-'));
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'compare', { importRoot });
  });

  afterEach(() => {
    workers.close();
    fs.rmSync(importRoot, { recursive: true, force: true });
  });

  async function start(input: LifecycleInput | Record<string, unknown>, second?: LifecycleStart): Promise<WorkflowHandleWithFirstExecutionRunId> {
    const { client } = await sharedTemporal();
    return client.workflow.start(WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: `lc-compare-${randomUUID()}`, args: second === undefined ? [input] : [input, second] });
  }

  let n = 0;
  /** A judgement by rater `r` on the pair in the order presentationOrder gives that rater. */
  function answer(lifecycleId: string, r: number, choice: JudgementChoice, extra: Partial<JudgementRequest> = {}): JudgementRequest {
    n += 1;
    const rater = raterId(r);
    const [left, right] = presentationOrder(lifecycleId, rater, ['c1', 'c2'] as const);
    return { idempotencyKey: `web:${rater}:${n}`, rater, raterAuth: 'invite', channel: 'web', castAt: new Date(Date.now() + n).toISOString(), left, right, choice, ...extra };
  }

  async function ledgerJudgements(lifecycleId: string) {
    return (await workers.ledger.query(
      `SELECT idempotency_key, seq, rater, left_candidate, right_candidate, choice, winner_candidate, models_hidden, standing, epoch_ms(cast_at)::DOUBLE AS cast_ms
         FROM judgements WHERE lifecycle_id = $1 ORDER BY seq`,
      [lifecycleId],
    )).rows;
  }

  it('should take A, a change to a tie and a withdrawal, close on `responses` standing judgements, and keep every event with the order each rater saw', async () => {
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client);
      const handle = await start({ task: 'compare', models: ['demo:shapes', 'demo:gradient'], prompt: 'a lighthouse', question: 'Which lighthouse is better?', responses: 2 });
      await waitForVoting(handle, 20_000);
      const id = handle.workflowId;
      const first = answer(id, 1, 'left');
      const firstReceipt = await directory.judge(id, first);
      assert.equal(firstReceipt.outcome, 'recorded');
      assert.deepEqual(firstReceipt.judgements, { byCandidate: { c1: first.left === 'c1' ? 1 : 0, c2: first.left === 'c2' ? 1 : 0 }, tie: 0, bothBad: 0, standing: 1 });
      // Delivered again: the same update id gets the first answer from the server; another one, the workflow's "duplicate".
      assert.deepEqual(await directory.judge(id, first), firstReceipt);
      assert.equal((await handle.executeUpdate(judgeUpdate, { args: [first], updateId: `other-${randomUUID()}` })).outcome, 'duplicate');
      const tie = answer(id, 1, 'tie');
      assert.deepEqual(await directory.judge(id, tie), { outcome: 'changed', judgements: { byCandidate: { c1: 0, c2: 0 }, tie: 1, bothBad: 0, standing: 1 } });
      const withdrawn = answer(id, 1, 'retract');
      assert.deepEqual(await directory.judge(id, withdrawn), { outcome: 'retracted', judgements: { byCandidate: { c1: 0, c2: 0 }, tie: 0, bothBad: 0, standing: 0 } });
      const status = await handle.query(statusQuery);
      assert.equal(status.phase, 'voting', 'no standing judgement after the withdrawal');
      assert.equal(status.question, 'Which lighthouse is better?');
      assert.deepEqual(status.candidates.map((c) => c.model), ['demo:shapes', 'demo:gradient'], 'ops views keep the models');
      // Two raters' standing answers reach the quorum of 2.
      const second = answer(id, 2, 'right');
      const third = answer(id, 3, 'both_bad');
      await directory.judge(id, second);
      await directory.judge(id, third);
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'quorum');
      assert.equal(summary.votesAccepted, 5);
      assert.equal(summary.rowsCommitted, 5);
      assert.deepEqual(summary.judgements, { byCandidate: { c1: second.right === 'c1' ? 1 : 0, c2: second.right === 'c2' ? 1 : 0 }, tie: 0, bothBad: 1, standing: 2 });

      const rows = await ledgerJudgements(id);
      assert.deepEqual(rows.map((r) => [r['idempotency_key'], r['choice'], r['standing'], r['models_hidden']]), [
        [first.idempotencyKey, 'left', false, true], [tie.idempotencyKey, 'tie', false, true], [withdrawn.idempotencyKey, 'retract', false, true],
        [second.idempotencyKey, 'right', true, true], [third.idempotencyKey, 'both_bad', true, true],
      ]);
      assert.deepEqual(rows.map((r) => r['winner_candidate']), [first.left, null, null, second.right, null]);
      // The order each rater saw is in the ledger, and recomputing it from (lifecycle, rater) gives it again.
      for (const r of rows) {
        assert.deepEqual([r['left_candidate'], r['right_candidate']], presentationOrder(id, String(r['rater']), ['c1', 'c2']));
      }
      const { rows: lc } = await workers.ledger.query(`SELECT task, question, quorum_kind, quorum_votes, allow_both_bad, reveal_models, votes_accepted FROM lifecycles WHERE lifecycle_id = $1`, [id]);
      assert.deepEqual(lc, [{ task: 'compare', question: 'Which lighthouse is better?', quorum_kind: 'responses', quorum_votes: 2, allow_both_bad: true, reveal_models: false, votes_accepted: 5 }]);
      assert.equal((await workers.ledger.query(`SELECT count(*)::INT AS n FROM lifecycle_completions c JOIN lifecycles l USING (run_id) WHERE l.lifecycle_id = $1`, [id])).rows[0]?.['n'], 1);
      assert.equal((await workers.ledger.query(`SELECT count(*)::INT AS n FROM votes WHERE lifecycle_id = $1`, [id])).rows[0]?.['n'], 0);
    });
  });

  it('should record that models were shown when the input reveals them', async () => {
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client);
      const handle = await start({ task: 'compare', models: ['demo:shapes', 'demo:gradient'], prompt: 'a boat', responses: 1, revealModels: true });
      await waitForVoting(handle, 20_000);
      await directory.judge(handle.workflowId, answer(handle.workflowId, 1, 'left'));
      await handle.result();
      assert.deepEqual((await ledgerJudgements(handle.workflowId)).map((r) => r['models_hidden']), [false]);
    });
  });

  it('should carry judgements across continue-as-new, commit them in increments, answer duplicates in the next run, and store flags equal to the tally rule', async () => {
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 30_000 });
      const handle = await start({ task: 'compare', models: ['demo:shapes', 'demo:gradient'], prompt: 'many minds', responses: 10_000, deadline: '1h' }, { thresholds: { continueAsNewAfterEvents: 150 } });
      await waitForVoting(handle, 20_000);
      const id = handle.workflowId;
      const choices: JudgementChoice[] = ['left', 'right', 'tie', 'both_bad', 'retract'];
      // 30 raters, 6 rounds, by signal; long comments so a run must commit before it continues.
      const signalled: JudgementRequest[] = [];
      for (let round = 0; round < 6; round++) {
        for (let r = 1; r <= 30; r++) signalled.push(answer(id, r, choices[(r * 7 + round * 3) % choices.length]!, { comment: `round ${round} `.padEnd(400, 'x') }));
      }
      for (const j of signalled) await handle.signal(judgeSignal, j);
      await waitUntil(async () => ((await handle.describe()).runId !== handle.firstExecutionRunId ? true : undefined), 60_000, 'a continue-as-new');
      const open = await workers.ledger.query(
        `SELECT l.close_reason, (SELECT count(*)::INT FROM judgements j WHERE j.run_id = l.run_id) AS rows FROM lifecycles l WHERE l.lifecycle_id = $1`, [id],
      );
      assert.equal(open.rows[0]?.['close_reason'], null, 'committed while voting, under an open lifecycle row');
      assert.ok(Number(open.rows[0]?.['rows']) > 0, 'increments were committed before the continue-as-new');
      // In the next run: changes by update, duplicates of the first run's judgements by update and by signal.
      const later = [answer(id, 1, 'left'), answer(id, 2, 'retract'), answer(id, 31, 'right')];
      for (const j of later) assert.notEqual((await directory.judge(id, j)).outcome, 'duplicate');
      for (const j of signalled.slice(0, 5)) assert.equal((await directory.judge(id, j)).outcome, 'duplicate');
      for (const j of signalled.slice(5, 10)) await handle.signal(judgeSignal, j);
      await handle.signal(closeSignal, {});
      const summary = (await handle.result()) as LifecycleSummary;
      const accepted = signalled.length + later.length;
      assert.equal(summary.votesAccepted, accepted);
      assert.equal(summary.rowsCommitted, accepted);

      const rows = await ledgerJudgements(id);
      assert.deepEqual(rows.map((r) => r['idempotency_key']), [...signalled, ...later].map((j) => j.idempotencyKey), 'each judgement once, in acceptance order');
      const events: JudgementEvent[] = rows.map((r) => ({
        idempotencyKey: String(r['idempotency_key']), seq: Number(r['seq']), rater: String(r['rater']), channel: 'web', castAt: new Date(Number(r['cast_ms'])).toISOString(),
        left: String(r['left_candidate']), right: String(r['right_candidate']), choice: r['choice'] as JudgementChoice, acceptedAt: '', modelsHidden: true,
      }));
      const rule = new JudgementTally([{ id: 'c1' }, { id: 'c2' }], events);
      assert.deepEqual(rows.filter((r) => r['standing'] !== rule.isStanding(String(r['idempotency_key']))).map((r) => r['seq']), []);
      assert.deepEqual(summary.judgements, rule.counted());
      // Both orders were shown among 31 raters, each as presentationOrder gives it.
      const orders = new Set(rows.map((r) => `${r['left_candidate']}|${r['right_candidate']}`));
      assert.deepEqual([...orders].sort(), ['c1|c2', 'c2|c1']);
      assert.equal((await workers.ledger.query(`SELECT count(*)::INT AS n FROM lifecycle_completions c JOIN lifecycles l USING (run_id) WHERE l.lifecycle_id = $1`, [id])).rows[0]?.['n'], 1);
    });
  });

  it('should rate candidates brought from a folder under the import root and from the artifact store, stored once each, with no inference', async () => {
    const red = discPng([200, 40, 40]);
    const blue = discPng([40, 40, 200]);
    fs.mkdirSync(path.join(importRoot, 'model-a'));
    fs.writeFileSync(path.join(importRoot, 'model-a', 'fox.png'), red);
    const stored = await workers.artifacts.put(blue, 'image/png');
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client);
      const handle = await start({
        task: 'compare', prompt: 'a fox in the snow', responses: 1,
        candidates: [
          { ref: 'file:model-a/fox.png', model: 'model-a', metadata: { seed: 7, sampler: 'euler' } },
          { ref: `sha256:${stored.sha256}`, model: 'model-b' },
        ],
      });
      await waitForVoting(handle, 20_000);
      const status = await handle.query(statusQuery);
      assert.deepEqual(status.candidates.map((c) => [c.id, c.model, c.kind, c.artifact.sha256, c.placeholder]), [
        ['c1', 'model-a', 'image', (await workers.artifacts.put(red, 'image/png')).sha256, false],
        ['c2', 'model-b', 'image', stored.sha256, false],
      ]);
      await directory.judge(handle.workflowId, answer(handle.workflowId, 1, 'right'));
      await handle.result();
      const { rows } = await workers.ledger.query(
        `SELECT candidate_id, model, backend, mime, provenance->>'$.extra.source' AS source, provenance->'$.extra.metadata' AS metadata FROM candidates WHERE lifecycle_id = $1 ORDER BY candidate_id`,
        [handle.workflowId],
      );
      assert.deepEqual(rows, [
        { candidate_id: 'c1', model: 'model-a', backend: 'import', mime: 'image/png', source: 'file:model-a/fox.png', metadata: '{"seed":7,"sampler":"euler"}' },
        { candidate_id: 'c2', model: 'model-b', backend: 'import', mime: 'image/png', source: `sha256:${stored.sha256}`, metadata: null },
      ]);
      // Content-addressed: the two images, each once (red was stored by the ingest and put again above).
      const files = fs.readdirSync(workers.artifacts.rootDir, { recursive: true }).filter((f) => String(f).endsWith('.png'));
      assert.equal(files.length, 2);
    });
  });

  it('should start the matchups of a CSV over a folder imported into the artifact store and files under the import root', async () => {
    // flux/ is imported (sha256: references in the CSV); sdxl/ stays under the import root (bare paths).
    const seed = path.join(importRoot, 'seed');
    fs.mkdirSync(path.join(seed, 'flux'), { recursive: true });
    fs.mkdirSync(path.join(seed, 'sdxl'));
    const colours: Array<[number, number, number]> = [[200, 40, 40], [40, 200, 40], [40, 40, 200], [200, 200, 40]];
    fs.writeFileSync(path.join(seed, 'flux', '001.png'), discPng(colours[0]!));
    fs.writeFileSync(path.join(seed, 'flux', '002.png'), discPng(colours[1]!));
    fs.writeFileSync(path.join(seed, 'sdxl', '001.png'), discPng(colours[2]!));
    fs.writeFileSync(path.join(seed, 'sdxl', '002.png'), discPng(colours[3]!));
    const { imported, refused } = await importFolder(workers.artifacts, path.join(seed, 'flux'), { maxBytes: 1 << 20 });
    assert.deepEqual(refused, []);
    const csv = ['prompt,image1,model1,image2', `a red fox,${imported[0]!.ref},flux,sdxl/001.png`, `"a green owl, at night",${imported[1]!.ref},flux,sdxl/002.png`].join('\n');
    const { matchups, errors } = parseMatchupsCsv(csv, { pathPrefix: 'seed/', defaults: { responses: 1, campaign: 'seed-csv' } });
    assert.deepEqual(errors, []);
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client);
      const handles = await Promise.all(matchups.map(({ input }) => start(input)));
      for (const [i, handle] of handles.entries()) {
        await waitForVoting(handle, 20_000);
        const status = await handle.query(statusQuery);
        assert.equal(status.prompt, ['a red fox', 'a green owl, at night'][i]);
        assert.deepEqual(status.candidates.map((c) => [c.model, c.artifact.sha256]), [
          ['flux', imported[i]!.ref.slice('sha256:'.length)], ['sdxl', (await workers.artifacts.put(discPng(colours[i + 2]!), 'image/png')).sha256],
        ]);
        await directory.judge(handle.workflowId, answer(handle.workflowId, 1, 'left'));
        assert.equal(((await handle.result()) as LifecycleSummary).closeReason, 'quorum');
      }
      const { rows } = await workers.ledger.query(
        `SELECT l.prompt, c.model, c.provenance->>'$.extra.source' AS source, c.provenance->>'$.extra.metadata.matchup_line' AS line
           FROM lifecycles l JOIN candidates c USING (run_id) WHERE l.campaign = 'seed-csv' AND l.task = 'compare' ORDER BY line, c.candidate_id`,
      );
      assert.deepEqual(rows, [
        { prompt: 'a red fox', model: 'flux', source: imported[0]!.ref, line: '2' }, { prompt: 'a red fox', model: 'sdxl', source: 'file:seed/sdxl/001.png', line: '2' },
        { prompt: 'a green owl, at night', model: 'flux', source: imported[1]!.ref, line: '3' }, { prompt: 'a green owl, at night', model: 'sdxl', source: 'file:seed/sdxl/002.png', line: '3' },
      ]);
    });
  });
});
