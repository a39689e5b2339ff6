/**
 * `prefline campaign start|status|results|pause|resume|cancel`: campaigns (workflows/rating-campaign.ts) from
 * the command line. `start` reads a CSV or JSON Lines file, checks every row before anything starts,
 * stores the items in the artifact store (the workflow reads them in pages) and starts the campaign.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { temporalUiLink, type PreflineConfig } from '../config';
import { ArtifactStore } from '../store/ArtifactStore';
import { MAX_GOLD, campaignDeadlineAt, validateCampaignInput } from '../workflows/campaign-input';
import {
  CAMPAIGN_WORKFLOW_TYPE, campaignCancelSignal, campaignPauseSignal, campaignResumeSignal, campaignStatusQuery,
} from '../workflows/messages';
import type { CampaignInput, CampaignPlan, CampaignStatus } from '../workflows/types';
import { UsageError, type ParsedArgs } from './args';
import { parseCsvGold, parseJsonlGold } from './campaign-gold';
import { parseCsvItems, parseJsonlItems, parseParquetItems, parsePromptLines, type ItemFileOptions, type ItemFileResult } from './campaign-items';
import { runCampaignResults } from './campaign-results';
import { EXIT, type CommandGroup } from './command';
import { withClient } from './lifecycle-commands';

const WATCH_INTERVAL_MS = 2000;

function positiveInt(flag: string | true | undefined, name: string): number | undefined {
  if (flag === undefined) return undefined;
  const n = Number(flag);
  if (typeof flag !== 'string' || !/^\d+$/.test(flag) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${String(flag)}"`, 'campaign start');
  return n;
}

function numberFlag(flag: string | true | undefined, name: string): number | undefined {
  if (flag === undefined) return undefined;
  const n = Number(flag);
  if (typeof flag !== 'string' || flag.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(flag)}"`, 'campaign start');
  return n;
}

/** The rater-quality settings the flags ask for (ranges are the input's checks: validateCampaignInput). */
function qualityFromFlags(flags: ParsedArgs['flags']): Partial<CampaignInput> {
  const settings: Partial<CampaignInput> = {};
  const numbers = { 'gold-rate': 'goldRate', 'gold-rate-new': 'goldRateNew', 'gold-warmup': 'goldWarmup', 'gold-rate-low': 'goldRateLow', 'gold-low-margin': 'goldLowMargin', 'min-score': 'minScore', 'min-gold': 'minGold' } as const;
  for (const [flag, field] of Object.entries(numbers)) {
    const value = numberFlag(flags[flag], flag);
    if (value !== undefined) settings[field] = value;
  }
  if (flags.prior !== undefined) {
    const parts = typeof flags.prior === 'string' ? flags.prior.split(',') : [];
    if (parts.length !== 2) throw new UsageError(`--prior must be MEAN,STRENGTH like 0.75,2, got "${String(flags.prior)}"`, 'campaign start');
    settings.prior = { mean: numberFlag(parts[0], 'prior mean') as number, strength: numberFlag(parts[1], 'prior strength') as number };
  }
  return settings;
}

/** A decimal flag's number (the campaign's validation says which range it takes). */
function decimal(flag: string | true | undefined, name: string): number | undefined {
  if (flag === undefined) return undefined;
  if (typeof flag !== 'string' || !/^\d*\.?\d+$/.test(flag)) throw new UsageError(`--${name} must be a number like 0.99, got "${String(flag)}"`, 'campaign start');
  return Number(flag);
}

/** The campaign input the flags describe, around `items` (stored by reference) and the gold list if any. */
function inputFromFlags(args: ParsedArgs, itemsRef: string, itemCount: number, gold?: { ref: string; count: number }): CampaignInput {
  const { flags } = args;
  const text = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const responses = positiveInt(flags.responses, 'responses');
  const maxOpen = positiveInt(flags['max-open'], 'max-open');
  const reask = flags.reask === '0' ? 0 : positiveInt(flags.reask, 'reask');
  const confidence = decimal(flags.confidence, 'confidence');
  const minResponses = positiveInt(flags['min-responses'], 'min-responses');
  const digestSize = positiveInt(flags['digest-size'], 'digest-size');
  return {
    itemsRef, itemCount,
    task: (text('task') ?? 'compare') as CampaignInput['task'],
    ...(responses !== undefined ? { responses } : {}),
    ...(text('question') !== undefined ? { question: text('question') } : {}),
    ...(text('channel') !== undefined ? { channel: text('channel') } : {}),
    ...(text('deadline') !== undefined ? { deadline: text('deadline') } : {}),
    ...(maxOpen !== undefined ? { maxOpen } : {}),
    ...(text('reservation') !== undefined ? { reservation: text('reservation') } : {}),
    ...(text('item-deadline') !== undefined ? { itemDeadline: text('item-deadline') } : {}),
    ...(reask !== undefined ? { reask } : {}),
    ...(text('label') !== undefined ? { campaign: text('label') } : {}),
    ...(gold !== undefined ? { goldRef: gold.ref, goldCount: gold.count } : {}),
    ...qualityFromFlags(flags),
    ...notifyFromFlags(args),
    ...(confidence !== undefined ? { confidence } : {}),
    ...(minResponses !== undefined ? { minResponses } : {}),
    ...(digestSize !== undefined ? { digestSize } : {}),
    ...(text('digest-every') !== undefined ? { digestEvery: text('digest-every') } : {}),
    ...(text('email-reservation') !== undefined ? { emailReservation: text('email-reservation') } : {}),
  };
}

/** `--notify-slack/-email/-webhook/-on` as the input's `notify` (checked with the rest by validateCampaignInput). */
function notifyFromFlags({ flags }: ParsedArgs): Pick<CampaignInput, 'notify'> {
  const text = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const [slack, email, webhook, on] = [text('notify-slack'), text('notify-email'), text('notify-webhook'), text('notify-on')];
  if (slack === undefined && email === undefined && webhook === undefined && on === undefined) return {};
  return {
    notify: {
      ...(slack !== undefined ? { slack } : {}),
      ...(email !== undefined ? { email } : {}),
      ...(webhook !== undefined ? { webhook } : {}),
      ...(on !== undefined ? { on: on.split(',').map((e) => e.trim()).filter(Boolean) as NonNullable<CampaignInput['notify']>['on'] } : {}),
    },
  };
}

/** Reads the file named by --gold (CSV or JSON Lines) and checks every row; undefined without --gold. */
function readGoldFile(args: ParsedArgs): { file: string; text: string; kind: string } | undefined {
  const file = args.flags.gold;
  if (file === undefined) return undefined;
  if (typeof file !== 'string') throw new UsageError('--gold needs a file: gold.csv or gold.jsonl', 'campaign start');
  const kind = extname(file).toLowerCase();
  if (kind !== '.csv' && kind !== '.jsonl') throw new UsageError(`the gold file must be .csv or .jsonl, got "${file}"`, 'campaign start');
  try {
    return { file, text: readFileSync(file, 'utf8'), kind };
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, 'campaign start');
  }
}

const ITEM_FILE_KINDS = ['.csv', '.jsonl', '.parquet', '.txt'];

/** `--models a,b`: generate mode's models, checked for the task (compare: exactly two; thumbs: one or more), or undefined. */
function modelsFlag(flag: string | true | undefined, task: string | true | undefined): string[] | undefined {
  if (flag === undefined) return undefined;
  const models = typeof flag === 'string' ? flag.split(',').map((m) => m.trim()) : [];
  if (models.length === 0 || models.some((m) => m === '')) throw new UsageError('--models must be a comma-separated list like demo:shapes,demo:gradient', 'campaign start');
  if (new Set(models).size !== models.length) throw new UsageError(`--models must not repeat a model, got "${String(flag)}"`, 'campaign start');
  if (task !== 'thumbs' && models.length !== 2) {
    throw new UsageError(`--models: a compare campaign generates one candidate from each of two models, e.g. --models demo:shapes,demo:gradient; got ${models.length}`, 'campaign start');
  }
  return models;
}

/** The items of the file, by its kind. */
async function parseItemFile(kind: string, bytes: Buffer, plan: CampaignPlan, deadlineAtMs: number, now: number, options: ItemFileOptions): Promise<ItemFileResult> {
  if (kind === '.parquet') return parseParquetItems(bytes, plan, deadlineAtMs, now, options);
  const text = bytes.toString('utf8');
  if (kind === '.csv') return parseCsvItems(text, plan, deadlineAtMs, now, options);
  if (kind === '.txt') return parsePromptLines(text, plan, deadlineAtMs, now, options);
  return parseJsonlItems(text, plan, deadlineAtMs, now, options);
}

export async function runCampaignStart(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const file = args.positional[0] as string;
  const kind = extname(file).toLowerCase();
  if (!ITEM_FILE_KINDS.includes(kind)) {
    throw new UsageError(`the item file must be .csv (matchups), .parquet (the same columns), .jsonl (one item per line) or .txt (prompts, with --models), got "${file}"`, 'campaign start');
  }
  const models = modelsFlag(args.flags.models, args.flags.task);
  if (kind === '.txt' && models === undefined) throw new UsageError('a .txt file holds prompts only: give --models to generate the candidates from', 'campaign start');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, 'campaign start');
  }
  const goldFile = readGoldFile(args);
  const digest = createHash('sha256').update(bytes).update(models?.join(',') ?? '').digest('hex');
  const id = typeof args.flags.id === 'string' ? args.flags.id : `campaign-${new Date().toISOString().slice(0, 10)}-${digest.slice(0, 10)}`;
  const now = Date.now();
  // The flags first, around a placeholder list: a wrong flag is named before the file is read.
  const checked = validateCampaignInput(inputFromFlags(args, `sha256:${digest}`, 1, goldFile ? { ref: `sha256:${digest}`, count: 1 } : undefined), id, now);
  if (!checked.ok) {
    process.stderr.write(`invalid campaign:\n${checked.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return EXIT.usage;
  }
  const deadlineAtMs = campaignDeadlineAt(checked.plan.deadline, now);
  const parsed = await parseItemFile(kind, bytes, checked.plan, deadlineAtMs, now, models !== undefined ? { models } : {});
  if (!parsed.ok) {
    process.stderr.write(`${file}: nothing started, fix these rows:\n${parsed.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return EXIT.usage;
  }
  const gold = goldFile === undefined ? undefined
    : goldFile.kind === '.csv' ? parseCsvGold(goldFile.text, checked.plan, deadlineAtMs, now) : parseJsonlGold(goldFile.text, checked.plan, deadlineAtMs, now);
  if (gold !== undefined && !gold.ok) {
    process.stderr.write(`${goldFile?.file}: nothing started, fix these gold rows:\n${gold.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return EXIT.usage;
  }
  if (gold !== undefined && gold.gold.length > MAX_GOLD) {
    process.stderr.write(`${goldFile?.file}: nothing started: ${gold.gold.length} gold items, at most ${MAX_GOLD}\n`);
    return EXIT.usage;
  }
  const store = await ArtifactStore.open(config.artifactDir);
  const list = await store.put(new TextEncoder().encode(JSON.stringify(parsed.items)), 'application/json');
  const goldList = gold?.ok ? await store.put(new TextEncoder().encode(JSON.stringify(gold.gold)), 'application/json') : undefined;
  const input = inputFromFlags(args, `sha256:${list.sha256}`, parsed.items.length, goldList && gold?.ok ? { ref: `sha256:${goldList.sha256}`, count: gold.gold.length } : undefined);
  return withClient(config, async (client) => {
    try {
      await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: config.taskQueue, workflowId: id, args: [input], workflowIdReusePolicy: 'REJECT_DUPLICATE' });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        process.stderr.write(`a campaign with id ${id} already exists (the same file today?); pass --id to start another\n`);
        return EXIT.refused;
      }
      throw err;
    }
    const link = temporalUiLink(config.temporal, id);
    process.stdout.write(`started ${id}: ${parsed.items.length} items, ${checked.plan.responses} answers each${gold?.ok ? `, ${gold.gold.length} gold items` : ''}\n`
      + `  its lifecycles: PreflineCampaign = "${input.campaign ?? id}" (ids ${id}-item-<n>)\n${link ? `  Temporal UI: ${link}\n` : ''}`);
    return EXIT.ok;
  });
}

/** One line: a bar of ended items, then the counts and the ETA. */
export function formatCampaignStatus(s: CampaignStatus, width = 30): string {
  const { counts } = s;
  const ended = counts.done + counts.failed;
  const filled = counts.items === 0 ? width : Math.round((ended / counts.items) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  const pct = counts.items === 0 ? 100 : Math.floor((ended / counts.items) * 100);
  return `${s.campaignId} ${s.phase} ${bar} ${pct}%  ${counts.done} done, ${counts.failed} failed, ${counts.open} open, ${counts.pending} pending`
    + `  ·  ${counts.answers} answers${counts.reserved > 0 ? `, ${counts.reserved} reserved` : ''}${s.eta ? `  ·  ETA ${s.eta}` : ''}`
    + (Object.keys(counts.ended).length > 0 ? `  ·  ended: ${Object.entries(counts.ended).map(([why, n]) => `${why} ${n}`).join(', ')}` : '')
    + (s.gold && s.gold.items > 0 ? `  ·  gold: ${s.gold.answers} answers, ${s.gold.correct} right` : '')
    + (s.raters && s.raters.excluded > 0 ? `  ·  raters: ${s.raters.excluded} of ${s.raters.total} excluded` : '');
}

async function campaignStatus(client: Client, id: string): Promise<CampaignStatus | undefined> {
  try {
    return await client.workflow.getHandle(id).query(campaignStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export async function runCampaignStatus(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const id = args.positional[0] as string;
  return withClient(config, async (client) => {
    const tty = process.stdout.isTTY === true && !args.flags.json;
    for (;;) {
      const s = await campaignStatus(client, id);
      if (!s) {
        process.stderr.write(`no campaign ${id}\n`);
        return EXIT.refused;
      }
      const over = s.phase === 'completed' || s.phase === 'cancelled';
      if (args.flags.json) process.stdout.write(JSON.stringify(s) + '\n');
      else process.stdout.write(tty && args.flags.watch ? `\r\x1b[2K${formatCampaignStatus(s)}${over ? '\n' : ''}` : `${formatCampaignStatus(s)}\n`);
      if (!args.flags.watch || over) return EXIT.ok;
      await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
    }
  });
}

function signalCommand(name: 'pause' | 'resume' | 'cancel') {
  return async (config: PreflineConfig, args: ParsedArgs): Promise<number> => {
    const id = args.positional[0] as string;
    return withClient(config, async (client) => {
      const handle = client.workflow.getHandle(id);
      try {
        if ((await handle.describe()).type !== CAMPAIGN_WORKFLOW_TYPE) {
          process.stderr.write(`${id} is not a campaign\n`);
          return EXIT.refused;
        }
        if (name === 'pause') await handle.signal(campaignPauseSignal);
        else if (name === 'resume') await handle.signal(campaignResumeSignal);
        else await handle.signal(campaignCancelSignal, { reason: typeof args.flags.reason === 'string' ? args.flags.reason : 'cancelled from the CLI' });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          process.stderr.write(`no running campaign ${id}\n`);
          return EXIT.refused;
        }
        throw err;
      }
      const what = { pause: 'paused: no new items start and none are handed out; open items go on', resume: 'resumed', cancel: 'cancel requested: open items close and commit what they have' };
      process.stdout.write(`${id} ${what[name]}\n`);
      return EXIT.ok;
    });
  };
}

export const CAMPAIGN_COMMANDS: CommandGroup = {
  name: 'campaign',
  summary: 'campaigns: many items, each rated by its own lifecycle, handed to raters by the server',
  commands: [
    {
      spec: {
        name: 'campaign start',
        args: '<matchups.csv|items.parquet|items.jsonl|prompts.txt>',
        summary: 'check every row, store the items, and start a ratingCampaign',
        positionals: [1, 1],
        options: {
          task: { type: 'string', value: 'TASK', choices: ['compare', 'thumbs'], description: 'compare (default: the better of two) or thumbs' },
          responses: { type: 'string', value: 'N', description: 'standing answers per item (default 10)' },
          question: { type: 'string', value: 'TEXT', description: 'what raters are asked (compare; default "Which is better?")' },
          channel: { type: 'string', value: 'CHANNEL', description: 'web (default), slack:#channel or email:@list' },
          deadline: { type: 'string', value: 'WHEN', description: 'the campaign and its items close then: a duration (3d) or an ISO time (default 7d)' },
          'max-open': { type: 'string', value: 'N', description: 'lifecycles open at once (default 50, at most 1000)' },
          reservation: { type: 'string', value: 'DURATION', description: 'how long an item handed to a rater stays theirs (default 10m)' },
          'item-deadline': { type: 'string', value: 'DURATION', description: 'how long each item collects answers (default: until the campaign\'s deadline)' },
          reask: { type: 'string', value: 'N', description: 'offer an item short of its answers at its deadline again, up to N times (default 0), then end it insufficient' },
          confidence: {
            type: 'string', value: 'P', description: 'close an item early once one answer is this clear (rater-weighted, above 0.5 and below 1, e.g. 0.99); it ends confident',
          },
          'min-responses': { type: 'string', value: 'N', description: 'with --confidence: the fewest answers before an item may close early (default 3)' },
          label: { type: 'string', value: 'NAME', description: 'the PreflineCampaign label of its lifecycles (default: the campaign id)' },
          'notify-slack': { type: 'string', value: '#CHANNEL', description: 'post a summary to this Slack channel when the campaign reaches its quota and when it ends' },
          'notify-email': { type: 'string', value: 'ADDRESSES', description: 'mail the summary to these addresses (comma-separated) or a rater list @name' },
          'notify-webhook': { type: 'string', value: 'NAME', description: 'POST the summary as signed JSON to the receiver NAME of PREFLINE_WEBHOOKS on the workers (docs/campaigns.md; needs PREFLINE_WEBHOOK_SECRET too)' },
          'notify-on': { type: 'string', value: 'EVENTS', description: 'which events notify: completed, quota, or both (default completed,quota)' },
          gold: { type: 'string', value: 'FILE', description: 'gold items (gold.csv or gold.jsonl): the item columns plus answer and explanation' },
          'gold-rate': { type: 'string', value: 'SHARE', description: 'share of hand-outs that are gold (default 0.1)' },
          'gold-rate-new': { type: 'string', value: 'SHARE', description: 'the share for raters with fewer than --gold-warmup gold answers (default 0.5)' },
          'gold-warmup': { type: 'string', value: 'N', description: 'gold answers before a rater is no longer new (default 3)' },
          'gold-rate-low': { type: 'string', value: 'SHARE', description: 'the share for raters scoring under --min-score + --gold-low-margin (default 0.3)' },
          'gold-low-margin': { type: 'string', value: 'SCORE', description: 'how near the threshold counts as low (default 0.1)' },
          'min-score': { type: 'string', value: 'SCORE', description: 'raters scoring below this are excluded (default 0.7)' },
          'min-gold': { type: 'string', value: 'N', description: 'gold answers before a rater can be excluded (default 4)' },
          prior: { type: 'string', value: 'MEAN,STRENGTH', description: 'the Beta prior of a rater\'s score (default 0.75,2)' },
          'digest-size': { type: 'string', value: 'N', description: 'email: items per rater in each digest (default 5)' },
          'digest-every': { type: 'string', value: 'DURATION', description: 'email: a digest when the campaign starts and then this often while items remain (default 1d)' },
          'email-reservation': { type: 'string', value: 'DURATION', description: 'email: how long a digest\'s items stay its rater\'s (default 24h)' },
          id: { type: 'string', value: 'ID', description: 'workflow id (default campaign-<UTC day>-<digest of the file>)' },
          models: {
            type: 'string', value: 'A,B',
            description: 'generate mode: the file holds prompts only and each item\'s candidates are generated, one per model (compare: exactly two; thumbs: one or more)',
          },
        },
        details: 'CSV and parquet columns: prompt, image1, image2 (or text1, text2), model1, model2, question; thumbs: prompt, image (or text), model.\n'
          + 'With --models: a file of prompts (columns prompt and question, JSON Lines items without candidates, or .txt lines).\n'
          + 'Gold file: the same columns plus answer (first/second or image1/image2, text1/text2, a/b; tie, both_bad; thumbs up/down) and explanation.\n'
          + 'example: prefline campaign start matchups.csv --task compare --responses 15 --question "Which image fits the description better?" --deadline 3d\n'
          + 'example: prefline campaign start prompts.txt --models demo:shapes,demo:gradient --responses 15 --confidence 0.99',
      },
      run: runCampaignStart,
    },
    {
      spec: {
        name: 'campaign status',
        args: '<id>',
        summary: 'items done/open/failed/pending, answers, ETA, gold answers and excluded raters',
        positionals: [1, 1],
        options: {
          watch: { type: 'boolean', description: 'keep a live progress bar until the campaign ends' },
          json: { type: 'boolean', description: 'print the status as JSON' },
        },
      },
      run: runCampaignStatus,
    },
    {
      spec: {
        name: 'campaign results',
        args: '<id>',
        summary: 'votes and win rates per model, ratio and winner per matchup, Bradley–Terry leaderboard, rater scores, position bias',
        positionals: [1, 1],
        options: {
          format: { type: 'string', value: 'FORMAT', description: 'output format, default table; csv: the matchups; json: everything', choices: ['table', 'csv', 'json'] },
          'include-excluded': { type: 'boolean', description: 'count the answers of raters the campaign excluded (left out by default)' },
        },
        details: [
          'gold items never count; the output says how many raters were excluded and how many of their answers that left out.',
          'ratio = max/sum of the two sides\' standing votes; win rate = (wins + ties/2) / votes; intervals from 200 bootstrap rounds (as releases).',
          'exit code 3 when no campaign of that id (or label) is in the ledger.',
          'example: prefline campaign results campaign-2026-03-01-1a2b3c4d5e --format csv',
        ].join('\n'),
      },
      run: runCampaignResults,
    },
    { spec: { name: 'campaign pause', args: '<id>', summary: 'start no new items and hand none out (open items go on)', positionals: [1, 1] }, run: signalCommand('pause') },
    { spec: { name: 'campaign resume', args: '<id>', summary: 'undo pause', positionals: [1, 1] }, run: signalCommand('resume') },
    {
      spec: {
        name: 'campaign cancel', args: '<id>', summary: 'close every open item (each commits what it has) and start no more', positionals: [1, 1],
        options: { reason: { type: 'string', value: 'TEXT', description: 'why (default "cancelled from the CLI")' } },
      },
      run: signalCommand('cancel'),
    },
  ],
};
