/**
 * `prefline campaign start --gold`: gold files (cli/campaign-gold.ts) read with every bad row named by
 * line and column before anything starts, answers in their spellings; the rater-quality flags; and the
 * command against a dev server (a bad gold file starts nothing, exit 2; a good one is stored as goldRef).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatCampaignStatus } from '../../cli/campaign';
import { parseCsvGold, parseJsonlGold } from '../../cli/campaign-gold';
import { campaignCancelSignal, campaignStatusQuery } from '../../workflows/messages';
import type { CampaignStatus } from '../../workflows/types';
import { campaignPlan, startCampaignCli, workflowStartInput, type CampaignCli } from '../helpers/campaign-cli';
import { waitUntil } from '../helpers/processes';
import { sharedTemporal } from '../helpers/temporal';

const NOW = Date.now();
const DEADLINE = NOW + 3 * 24 * 3600 * 1000;

const plan = (input: Record<string, unknown> = {}) => campaignPlan(NOW, input);

describe('prefline campaign: gold files', () => {
  it('should map gold CSV rows to gold items, answers by candidate in any of their spellings', () => {
    const csv = 'prompt,text1,text2,answer,explanation\nq1,one,two,text2,"Two, because it answers the question."\nq2,a,b,A,The first is right.\nq3,a,b,both bad,Neither answers.\n';
    const result = parseCsvGold(csv, plan(), DEADLINE, NOW);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.gold.map((g) => [g.prompt, g.answer, g.explanation]), [
      ['q1', 'second', 'Two, because it answers the question.'], ['q2', 'first', 'The first is right.'], ['q3', 'both_bad', 'Neither answers.'],
    ]);
    assert.deepEqual(result.gold[0]!.candidates, [{ text: 'one', model: 'text1' }, { text: 'two', model: 'text2' }]);
    const thumbs = parseCsvGold('prompt,text,answer,explanation\nq,t,down,too dark\n', plan({ task: 'thumbs' }), DEADLINE, NOW);
    assert.ok(thumbs.ok && thumbs.gold[0]!.answer === 'down', JSON.stringify(thumbs));
  });

  it('should name every bad gold row by line and column, and refuse unknown or missing columns', () => {
    const csv = [
      'prompt,image1,image2,answer,explanation',
      'ok,a.png,b.png,image1,the left one',
      'no answer,a.png,b.png,,why', // line 3
      'bad answer,a.png,b.png,up,why', // line 4: a thumbs answer on compare
      'no explanation,a.png,b.png,second,', // line 5
      ',a.png,b.png,first,why', // line 6: no prompt
      'escape,../x.png,b.png,first,why', // line 7
    ].join('\n');
    const result = parseCsvGold(csv, plan(), DEADLINE, NOW);
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    assert.ok(errors.some((e) => e.startsWith('line 3: answer: empty; a compare gold item\'s answer is one of first, second, tie, both_bad')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('line 4: answer: "up" is not one')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('line 5: explanation: must be a non-empty text')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('line 6: prompt: required')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('line 7: image1')), errors.join('\n'));
    assert.equal(errors.some((e) => e.startsWith('line 2')), false);
    assert.deepEqual(parseCsvGold('prompt,text1,text2,answer,explanation,score\nx,a,b,first,e,1\n', plan(), DEADLINE, NOW), {
      ok: false, errors: ['line 1: unknown columns score; a compare gold file has prompt, image1, image2, text1, text2, model1, model2, question, answer, explanation'],
    });
    assert.deepEqual(parseCsvGold('prompt,text1,text2\nx,a,b\n', plan(), DEADLINE, NOW), { ok: false, errors: ['line 1: the header needs answer, explanation columns'] });
    assert.deepEqual(parseCsvGold('prompt,text1,text2,answer,explanation\n', plan(), DEADLINE, NOW), { ok: false, errors: ['the gold file holds no items'] });
  });

  it('should read JSON Lines gold items, naming bad lines', () => {
    const good = '{"prompt":"p","candidates":[{"text":"a","model":"x"},{"text":"b","model":"y"}],"answer":"image2","explanation":"b"}\n';
    const read = parseJsonlGold(good, plan(), DEADLINE, NOW);
    assert.ok(read.ok && read.gold[0]!.answer === 'second', JSON.stringify(read));
    const bad = parseJsonlGold(`${good}{"prompt":"p","candidates":[{"text":"a","model":"x"},{"text":"b","model":"y"}],"answer":"left","explanation":"b"}\nnot json\n`, plan(), DEADLINE, NOW);
    const errors = bad.ok ? [] : bad.errors;
    assert.ok(errors[0]?.startsWith('line 2: answer: "left" is not one'), errors.join('\n'));
    assert.ok(errors[1]?.startsWith('line 3: not JSON'), errors.join('\n'));
  });

  it('should show gold answers and excluded raters in the status line, and nothing of them without gold', () => {
    const s: CampaignStatus = {
      campaignId: 'c', label: 'c', phase: 'running', task: 'compare', responses: 3, channel: 'web', maxOpen: 5, startedAt: '', deadlineAt: '',
      counts: { items: 10, done: 4, failed: 1, open: 3, pending: 2, answers: 15, reserved: 0, ended: {} },
      raters: { total: 9, excluded: 2 }, gold: { items: 4, answers: 20, correct: 15 },
    };
    assert.match(formatCampaignStatus(s, 10), / {2}· {2}gold: 20 answers, 15 right {2}· {2}raters: 2 of 9 excluded$/);
    assert.doesNotMatch(formatCampaignStatus({ ...s, raters: { total: 9, excluded: 0 }, gold: { items: 0, answers: 0, correct: 0 } }, 10), /gold|raters/);
  });
});

describe('prefline campaign start --gold against a dev server', function () {
  this.timeout(180_000);
  let campaign: CampaignCli;

  before(async () => {
    campaign = await startCampaignCli('cli-campaign-gold', 'prefline-cli-gold-');
  });
  after(() => campaign?.close());

  it('should refuse a gold file with bad rows (exit 2, nothing started), and start one with a good gold file and its settings', async () => {
    const { cli, dir, workers } = campaign;
    const items = join(dir, 'matchups.csv');
    writeFileSync(items, ['prompt,text1,text2', ...Array.from({ length: 3 }, (_, i) => `prompt ${i},left ${i},right ${i}`)].join('\n'));
    const badGold = join(dir, 'bad-gold.csv');
    writeFileSync(badGold, 'prompt,text1,text2,answer,explanation\nfine,a,b,first,why\nbroken,a,b,sideways,why\n');
    const refused = await cli(['campaign', 'start', items, '--gold', badGold, '--id', 'cmp-cli-bad-gold']);
    assert.equal(refused.code, 2, refused.output);
    assert.match(refused.output, /bad-gold\.csv: nothing started, fix these gold rows:\n {2}- line 3: answer: "sideways" is not one/);
    const { client } = await sharedTemporal();
    await assert.rejects(client.workflow.getHandle('cmp-cli-bad-gold').describe(), /not found/i);
    const flags = await cli(['campaign', 'start', items, '--min-score', '1.5']);
    assert.equal(flags.code, 2, flags.output);
    assert.match(flags.output, /minScore: must be a number from 0 to 1/);
    const prior = await cli(['campaign', 'start', items, '--prior', '0.8']);
    assert.equal(prior.code, 2, prior.output);
    assert.match(prior.output, /--prior must be MEAN,STRENGTH/);

    const goldFile = join(dir, 'gold.jsonl');
    writeFileSync(goldFile, `${JSON.stringify({ prompt: 'known', candidates: [{ text: 'right', model: 'x' }, { text: 'wrong', model: 'y' }], answer: 'first', explanation: 'the right one' })}\n`);
    const id = `cmp-cli-gold-${Date.now()}`;
    await workers.run(async () => {
      const started = await cli(['campaign', 'start', items, '--gold', goldFile, '--gold-rate', '0.2', '--min-gold', '5', '--prior', '0.8,3', '--id', id]);
      assert.equal(started.code, 0, started.output);
      assert.match(started.output, new RegExp(`^started ${id}: 3 items, 10 answers each, 1 gold items\\n`));
      const handle = client.workflow.getHandle(id);
      const input = await workflowStartInput(handle);
      assert.match(String(input['goldRef']), /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual([input['goldCount'], input['goldRate'], input['minGold'], input['prior']], [1, 0.2, 5, { mean: 0.8, strength: 3 }]);
      const stored = await workers.artifacts.read(String(input['goldRef']).slice('sha256:'.length));
      assert.deepEqual((JSON.parse(stored.bytes.toString('utf8')) as Array<{ answer: string }>).map((g) => g.answer), ['first']);
      await waitUntil(async () => ((await handle.query(campaignStatusQuery)).gold?.items === 1 ? true : undefined), 60_000, 'the gold lifecycle started');
      await handle.signal(campaignCancelSignal, {});
      await handle.result();
    });
  });
});
