/**
 * `prefline campaign start|status|pause|resume|cancel`: campaigns (workflows/rating-campaign.ts) from
 * the command line. `start` reads a CSV or JSON Lines file, checks every row before anything starts,
 * stores the items in the artifact store (the workflow reads them in pages) and starts the campaign.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { temporalUiLink, type PreflineConfig } from '../config';
import { ArtifactStore } from '../store/ArtifactStore';
import { campaignDeadlineAt, validateCampaignInput } from '../workflows/campaign-input';
import {
  CAMPAIGN_WORKFLOW_TYPE, campaignCancelSignal, campaignPauseSignal, campaignResumeSignal, campaignStatusQuery,
} from '../workflows/messages';
import type { CampaignInput, CampaignStatus } from '../workflows/types';
import { UsageError, type ParsedArgs } from './args';
import { parseCsvItems, parseJsonlItems } from './campaign-items';
import { EXIT, type CommandGroup } from './command';
import { withClient } from './lifecycle-commands';

const WATCH_INTERVAL_MS = 2000;

function positiveInt(flag: string | true | undefined, name: string): number | undefined {
  if (flag === undefined) return undefined;
  const n = Number(flag);
  if (typeof flag !== 'string' || !/^\d+$/.test(flag) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got "${String(flag)}"`, 'campaign start');
  return n;
}

/** The campaign input the flags describe, around `items` (stored by reference). */
function inputFromFlags(args: ParsedArgs, itemsRef: string, itemCount: number): CampaignInput {
  const { flags } = args;
  const text = (name: string) => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);
  const responses = positiveInt(flags.responses, 'responses');
  const maxOpen = positiveInt(flags['max-open'], 'max-open');
  const reask = flags.reask === '0' ? 0 : positiveInt(flags.reask, 'reask');
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
    ...(digestSize !== undefined ? { digestSize } : {}),
    ...(text('digest-every') !== undefined ? { digestEvery: text('digest-every') } : {}),
    ...(text('email-reservation') !== undefined ? { emailReservation: text('email-reservation') } : {}),
  };
}

export async function runCampaignStart(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const file = args.positional[0] as string;
  const kind = extname(file).toLowerCase();
  if (kind !== '.csv' && kind !== '.jsonl') throw new UsageError(`the item file must be .csv (matchups) or .jsonl (one item per line), got "${file}"`, 'campaign start');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, 'campaign start');
  }
  const digest = createHash('sha256').update(text).digest('hex');
  const id = typeof args.flags.id === 'string' ? args.flags.id : `campaign-${new Date().toISOString().slice(0, 10)}-${digest.slice(0, 10)}`;
  const now = Date.now();
  // The flags first, around a placeholder list: a wrong flag is named before the file is read.
  const checked = validateCampaignInput(inputFromFlags(args, `sha256:${digest}`, 1), id, now);
  if (!checked.ok) {
    process.stderr.write(`invalid campaign:\n${checked.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return EXIT.usage;
  }
  const deadlineAtMs = campaignDeadlineAt(checked.plan.deadline, now);
  const parsed = kind === '.csv' ? parseCsvItems(text, checked.plan, deadlineAtMs, now) : parseJsonlItems(text, checked.plan, deadlineAtMs, now);
  if (!parsed.ok) {
    process.stderr.write(`${file}: nothing started, fix these rows:\n${parsed.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return EXIT.usage;
  }
  const store = await ArtifactStore.open(config.artifactDir);
  const list = await store.put(new TextEncoder().encode(JSON.stringify(parsed.items)), 'application/json');
  const input = inputFromFlags(args, `sha256:${list.sha256}`, parsed.items.length);
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
    process.stdout.write(`started ${id}: ${parsed.items.length} items, ${checked.plan.responses} answers each\n`
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
    + (Object.keys(counts.ended).length > 0 ? `  ·  ended: ${Object.entries(counts.ended).map(([why, n]) => `${why} ${n}`).join(', ')}` : '');
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
        args: '<matchups.csv|items.jsonl>',
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
          label: { type: 'string', value: 'NAME', description: 'the PreflineCampaign label of its lifecycles (default: the campaign id)' },
          'digest-size': { type: 'string', value: 'N', description: 'email: items per rater in each digest (default 5)' },
          'digest-every': { type: 'string', value: 'DURATION', description: 'email: a digest when the campaign starts and then this often while items remain (default 1d)' },
          'email-reservation': { type: 'string', value: 'DURATION', description: 'email: how long a digest\'s items stay its rater\'s (default 24h)' },
          id: { type: 'string', value: 'ID', description: 'workflow id (default campaign-<UTC day>-<digest of the file>)' },
        },
        details: 'CSV columns: prompt, image1, image2 (or text1, text2), model1, model2, question; thumbs: prompt, image (or text), model.\n'
          + 'example: prefline campaign start matchups.csv --task compare --responses 15 --question "Which image fits the description better?" --deadline 3d',
      },
      run: runCampaignStart,
    },
    {
      spec: {
        name: 'campaign status',
        args: '<id>',
        summary: 'items done/open/failed/pending, answers, ETA',
        positionals: [1, 1],
        options: {
          watch: { type: 'boolean', description: 'keep a live progress bar until the campaign ends' },
          json: { type: 'boolean', description: 'print the status as JSON' },
        },
      },
      run: runCampaignStatus,
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
