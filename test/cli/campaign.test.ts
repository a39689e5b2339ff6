/**
 * `prefline campaign`: item files read with every bad row named by line and field before anything
 * starts (exit 2), and start/status/pause/resume/cancel as real processes against a dev server.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsvItems, parseJsonlItems } from '../../cli/campaign-items';
import { formatCampaignStatus } from '../../cli/campaign';
import type { CampaignStatus, CampaignSummary } from '../../workflows/types';
import { campaignPlan, startCampaignCli, workflowStartInput, type CampaignCli } from '../helpers/campaign-cli';
import { waitUntil } from '../helpers/processes';
import { statusQuery } from '../../workflows/messages';
import { sharedTemporal } from '../helpers/temporal';

const NOW = Date.now();
const DEADLINE = NOW + 3 * 24 * 3600 * 1000;

const plan = (input: Record<string, unknown> = {}) => campaignPlan(NOW, input);

describe('prefline campaign: item files', () => {
  it('should map matchups.csv rows to compare items: image paths under the import root, model labels, questions', () => {
    const csv = 'prompt,image1,image2,model1,model2\n"a fox, in snow",images/a/1.png,sha256:' + 'ab'.repeat(32) + ',flux,sdxl\nan owl,https://cdn.example.org/1.png,images/b/2.png,,\n';
    const result = parseCsvItems(csv, plan(), DEADLINE, NOW);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.items, [
      { prompt: 'a fox, in snow', candidates: [{ ref: 'file:images/a/1.png', model: 'flux', kind: 'image' }, { ref: `sha256:${'ab'.repeat(32)}`, model: 'sdxl', kind: 'image' }] },
      { prompt: 'an owl', candidates: [{ ref: 'https://cdn.example.org/1.png', model: 'image1', kind: 'image' }, { ref: 'file:images/b/2.png', model: 'image2', kind: 'image' }] },
    ]);
    const texts = parseCsvItems('Prompt , Text1,text2,question\nq,one,two,Which is kinder?\n', plan(), DEADLINE, NOW);
    assert.ok(texts.ok);
    assert.deepEqual(texts.items[0], { prompt: 'q', candidates: [{ text: 'one', model: 'text1' }, { text: 'two', model: 'text2' }], question: 'Which is kinder?' });
  });

  it('should name every bad row by line and column, and refuse unknown columns and broken CSV', () => {
    const csv = [
      'prompt,image1,image2',
      'ok,a.png,b.png',
      ',a.png,b.png', // line 3: no prompt
      'half,a.png,', // line 4: no image2
      'escape,../../etc/passwd,b.png', // line 5: leaves the import root
      'ftp,ftp://x/a.png,b.png', // line 6: not a path the import takes
    ].join('\n');
    const result = parseCsvItems(csv, plan(), DEADLINE, NOW);
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    assert.ok(errors.some((e) => e.startsWith('line 3: prompt: required')), errors.join('\n'));
    assert.ok(errors.includes('line 4: image2: empty'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('line 5: image1')), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('line 6: image1')), errors.join('\n'));
    assert.equal(errors.some((e) => e.startsWith('line 2')), false);
    assert.deepEqual(parseCsvItems('prompt,picture\nx,y\n', plan(), DEADLINE, NOW), {
      ok: false, errors: ['line 1: unknown columns picture; a compare file has prompt, image1, image2, text1, text2, model1, model2, question'],
    });
    const broken = parseCsvItems('prompt,text1,text2\nx,"unterminated,y\n', plan(), DEADLINE, NOW);
    assert.ok(!broken.ok && /^line \d+: /.test(broken.errors[0]!), JSON.stringify(broken));
    assert.deepEqual(parseCsvItems('prompt,text1,text2\n', plan(), DEADLINE, NOW), { ok: false, errors: ['the file holds no items'] });
  });

  it('should read JSON Lines items, naming bad lines', () => {
    const good = '{"prompt":"p","candidates":[{"text":"a","model":"x"},{"text":"b","model":"y"}]}\n\n';
    assert.ok(parseJsonlItems(good, plan(), DEADLINE, NOW).ok);
    const bad = parseJsonlItems(`${good}{"prompt":"p"\n{"prompt":"p","models":["x"]}\n`, plan(), DEADLINE, NOW);
    assert.equal(bad.ok, false);
    const errors = bad.ok ? [] : bad.errors;
    assert.ok(errors[0]?.startsWith('line 3: not JSON'), errors.join('\n'));
    assert.ok(errors.some((e) => e.startsWith('line 4: ')), errors.join('\n'));
  });

  it('should draw the progress bar from the status', () => {
    const s: CampaignStatus = {
      campaignId: 'c', label: 'c', phase: 'running', task: 'compare', responses: 3, channel: 'web', maxOpen: 5, startedAt: '', deadlineAt: '',
      counts: { items: 10, done: 4, failed: 1, open: 3, pending: 2, answers: 15, reserved: 2, ended: {} }, eta: '2026-12-01T13:00:00.000Z',
    };
    assert.equal(formatCampaignStatus(s, 10), 'c running [#####.....] 50%  4 done, 1 failed, 3 open, 2 pending  ·  15 answers, 2 reserved  ·  ETA 2026-12-01T13:00:00.000Z');
    const ended = { ...s, counts: { ...s.counts, ended: { quorum: 3, insufficient: 1, failed: 1 } } };
    assert.match(formatCampaignStatus(ended, 10), / {2}· {2}ended: quorum 3, insufficient 1, failed 1$/);
  });
});

describe('prefline campaign against a dev server', function () {
  this.timeout(180_000);
  let campaign: CampaignCli;

  before(async () => {
    campaign = await startCampaignCli('cli-campaign', 'prefline-cli-campaign-');
  });
  after(() => campaign?.close());

  it('should refuse a CSV with bad rows by line (exit 2) and start nothing', async () => {
    const { cli, dir } = campaign;
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'prompt,text1,text2\nfine,a,b\n,a,b\nx,,b\n');
    const result = await cli(['campaign', 'start', file, '--id', 'cmp-cli-bad']);
    assert.equal(result.code, 2, result.output);
    assert.match(result.output, /nothing started, fix these rows:\n {2}- line 3: prompt: required/);
    assert.match(result.output, /line 4: text1: empty/);
    const { client } = await sharedTemporal();
    await assert.rejects(client.workflow.getHandle('cmp-cli-bad').describe(), /not found/i);
    const flags = await cli(['campaign', 'start', file, '--responses', 'many']);
    assert.equal(flags.code, 2, flags.output);
    assert.match(flags.output, /--responses must be a positive integer/);
    const reask = await cli(['campaign', 'start', file, '--reask', '99']);
    assert.equal(reask.code, 2, reask.output);
    assert.match(reask.output, /reask: must be an integer from 0 to 10/);
    const notify = await cli(['campaign', 'start', file, '--notify-webhook', 'https://hooks.example.com/x?token=1', '--notify-slack', 'results', '--notify-on', 'done']);
    assert.equal(notify.code, 2, notify.output);
    assert.match(notify.output, /notify\.slack: must be a Slack channel/);
    assert.match(notify.output, /notify\.webhook: takes the name of a receiver in PREFLINE_WEBHOOKS on the workers .*, not a URL/);
    assert.match(notify.output, /notify\.on: must be a non-empty list/);
    const digest = await cli(['campaign', 'start', file, '--digest-size', '2', '--digest-every', '6h']);
    assert.equal(digest.code, 2, digest.output);
    assert.match(digest.output, /digestSize: only email campaigns send digests/);
    assert.match(digest.output, /digestEvery: only email campaigns send digests/);
  });

  it('should start a campaign from a CSV, show its status, pause, resume and cancel it', async () => {
    const { cli, dir, workers } = campaign;
    const file = join(dir, 'matchups.csv');
    writeFileSync(file, ['prompt,text1,text2,model1,model2', ...Array.from({ length: 6 }, (_, i) => `prompt ${i},left ${i},right ${i},a,b`)].join('\n'));
    const id = `cmp-cli-${Date.now()}`;
    await workers.run(async () => {
      const started = await cli(['campaign', 'start', file, '--responses', '2', '--max-open', '2', '--question', 'Which reads better?', '--item-deadline', '1h', '--reask', '1', '--id', id,
        // Only the quota notifies, and a cancelled campaign never reaches it: these workers send no notices.
        '--notify-slack', '#results', '--notify-email', 'list@example.com', '--notify-webhook', 'results', '--notify-on', 'quota']);
      assert.equal(started.code, 0, started.output);
      assert.match(started.output, new RegExp(`^started ${id}: 6 items, 2 answers each\\n`));
      const { client } = await sharedTemporal();
      const handle = client.workflow.getHandle(id);
      const input = await workflowStartInput(handle);
      assert.deepEqual([input['itemDeadline'], input['reask'], input['maxOpen'], input['question'], input['itemCount']], ['1h', 1, 2, 'Which reads better?', 6]);
      assert.deepEqual(input['notify'], { slack: '#results', email: 'list@example.com', webhook: 'results', on: ['quota'] });
      const paused = await cli(['campaign', 'pause', id]);
      assert.equal(paused.code, 0, paused.output);
      const status = await cli(['campaign', 'status', id, '--json']);
      assert.equal(status.code, 0, status.output);
      const s = JSON.parse(status.output) as CampaignStatus;
      assert.equal(s.phase, 'paused');
      assert.equal(s.counts.items, 6);
      assert.equal((await cli(['campaign', 'resume', id])).code, 0);
      const bar = await cli(['campaign', 'status', id]);
      assert.match(bar.output, new RegExp(`^${id} running \\[[#.]{30}\\] \\d+%`));
      const cancelled = await cli(['campaign', 'cancel', id, '--reason', 'a test']);
      assert.equal(cancelled.code, 0, cancelled.output);
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.phase, 'cancelled');
      const watched = await cli(['campaign', 'status', id, '--watch']);
      assert.equal(watched.code, 0, watched.output);
      assert.match(watched.output, / cancelled \[/);
      assert.equal((await cli(['campaign', 'status', 'cmp-none-such'])).code, 3);
      assert.equal((await cli(['campaign', 'pause', 'cmp-none-such'])).code, 3);
    });
  });

  it('should refuse bad generate-mode, confidence and parquet input (exit 2) before anything starts', async () => {
    const { cli, dir } = campaign;
    const prompts = join(dir, 'prompts.txt');
    writeFileSync(prompts, 'a red cube\na blue sphere\n');
    const one = await cli(['campaign', 'start', prompts, '--models', 'demo:shapes']);
    assert.equal(one.code, 2, one.output);
    assert.match(one.output, /--models: a compare campaign generates one candidate from each of two models/);
    const none = await cli(['campaign', 'start', prompts]);
    assert.equal(none.code, 2, none.output);
    assert.match(none.output, /a \.txt file holds prompts only: give --models/);
    const mixed = join(dir, 'mixed.csv');
    writeFileSync(mixed, 'prompt,text1,text2\nq,a,b\n');
    const both = await cli(['campaign', 'start', mixed, '--models', 'demo:shapes,demo:gradient']);
    assert.equal(both.code, 2, both.output);
    assert.match(both.output, /line 1: columns text1, text2 bring candidates, and --models generates them/);
    const confidence = await cli(['campaign', 'start', prompts, '--models', 'demo:shapes,demo:gradient', '--confidence', '1.5']);
    assert.equal(confidence.code, 2, confidence.output);
    assert.match(confidence.output, /confidence: must be a number above 0\.5 and below 1/);
    const minimum = await cli(['campaign', 'start', prompts, '--models', 'demo:shapes,demo:gradient', '--min-responses', '2']);
    assert.equal(minimum.code, 2, minimum.output);
    assert.match(minimum.output, /minResponses: only with confidence/);
    const notParquet = join(dir, 'items.parquet');
    writeFileSync(notParquet, 'prompt,text1,text2\nq,a,b\n');
    const unreadable = await cli(['campaign', 'start', notParquet]);
    assert.equal(unreadable.code, 2, unreadable.output);
    assert.match(unreadable.output, /items\.parquet: nothing started, fix these rows:\n {2}- cannot read it as parquet/);
  });
});

describe('prefline campaign generate mode against a dev server', function () {
  this.timeout(180_000);
  let campaign: CampaignCli;

  before(async () => {
    campaign = await startCampaignCli('cli-campaign-generate', 'prefline-cli-campaign-generate-');
  });
  after(() => campaign?.close());

  it('should start a generate-mode campaign from a file of prompts: each item generates one candidate per model, with early stopping', async () => {
    const { cli, dir, workers } = campaign;
    const file = join(dir, 'generate.txt');
    writeFileSync(file, 'a red cube\na blue sphere\n');
    const id = `cmp-cli-gen-${Date.now()}`;
    await workers.run(async () => {
      const started = await cli(['campaign', 'start', file, '--models', 'demo:shapes,demo:gradient', '--responses', '4', '--confidence', '0.99', '--min-responses', '2', '--id', id]);
      assert.equal(started.code, 0, started.output);
      assert.match(started.output, new RegExp(`^started ${id}: 2 items, 4 answers each\\n`));
      const { client } = await sharedTemporal();
      const handle = client.workflow.getHandle(id);
      const input = await workflowStartInput(handle);
      assert.deepEqual([input['confidence'], input['minResponses'], input['itemCount']], [0.99, 2, 2]);
      const item = client.workflow.getHandle(`${id}-item-1`);
      const voting = await waitUntil(async () => {
        const s = await item.query(statusQuery).catch(() => undefined);
        return s?.phase === 'voting' ? s : undefined;
      }, 90_000, 'item 1 generated and voting');
      assert.equal(voting.prompt, 'a blue sphere');
      assert.deepEqual(voting.candidates.map((c) => c.model), ['demo:shapes', 'demo:gradient'], 'one candidate per model, generated');
      assert.equal((await cli(['campaign', 'cancel', id])).code, 0);
      assert.equal(((await handle.result()) as CampaignSummary).phase, 'cancelled');
    });
  });
});
