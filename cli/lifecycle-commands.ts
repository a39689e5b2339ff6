/** CLI verbs that talk to lifecycles through one Temporal client. */
import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadSecret, temporalUiLink, type PreflineConfig } from '../config';
import { pseudonymiseRater } from '../core/pseudonym';
import { TemporalLifecycleDirectory } from '../core/temporal-directory';
import { VoteRejectedError } from '../core/lifecycle-directory';
import { startMetadata } from '../workflows/describe';
import { validateLifecycleInput } from '../workflows/input';
import { WORKFLOW_TYPE, closeSignal } from '../workflows/messages';
import type { LifecycleStatus, LifecycleSummary, Quorum, VoteValue } from '../workflows/types';
import { connectClient } from '../ops/temporal-connection';
import { UsageError, type ParsedArgs } from './args';
import { EXIT, type Command } from './command';

export async function withClient<T>(config: PreflineConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await connectClient(config.temporal);
  try {
    return await fn(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}

function readInput(arg: string): unknown {
  let text: string;
  try {
    text = arg === '-' ? readFileSync(0, 'utf8') : arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg;
  } catch (err) {
    throw new UsageError(`cannot read the input ${arg}: ${(err as Error).message}`, 'start');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the input is not valid JSON: ${(err as Error).message}`, 'start');
  }
}

/** The input as the CLI starts it: provenance `cli` (who ran it is not known here). */
export function withCliProvenance(input: unknown): unknown {
  return typeof input === 'object' && input !== null && !Array.isArray(input) ? { ...input, startedFrom: 'cli' } : input;
}

/** A business id: the day plus a digest of the input, so an accidental double start is refused. */
export function defaultLifecycleId(input: unknown, now = new Date()): string {
  const digest = createHash('sha256').update(JSON.stringify(input)).digest('hex').slice(0, 10);
  return `lc-${now.toISOString().slice(0, 10)}-${digest}`;
}

function quorumText(quorum: Quorum): string {
  if (quorum.kind === 'responses') return `${quorum.responses} answers`;
  return `${quorum.votes} ${quorum.kind === 'total' ? 'votes in total' : 'votes per candidate'}`;
}

export function formatStatus(status: LifecycleStatus): string {
  const lines = [
    `${status.lifecycleId}  [${status.phase}${status.closeReason ? `, closed: ${status.closeReason}` : ''}]`,
    `  prompt:   ${status.prompt}`,
    `  models:   ${status.models.join(', ')}   channel: ${status.channel}${status.campaign ? `   campaign: ${status.campaign}` : ''}`,
    `  quorum:   ${quorumText(status.quorum)}${status.deadlineAt ? `   deadline: ${status.deadlineAt}` : ''}`,
    `  votes:    ${status.votesAccepted} accepted`,
  ];
  for (const c of status.candidates) {
    lines.push(`  ${c.label} (${c.id}) ${c.model}${c.placeholder ? ' [demo placeholder]' : ''}: 👍 ${c.tally.up}  👎 ${c.tally.down}  score ${c.tally.score}`);
  }
  return lines.join('\n');
}

export async function runStart(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const input = readInput(args.positional[0] as string);
  const checked = validateLifecycleInput(input, Date.now());
  if (!args.flags['no-validate'] && !checked.ok) {
    process.stderr.write(`invalid lifecycle input:\n${checked.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return 2;
  }
  const workflowId = typeof args.flags.id === 'string' ? args.flags.id : defaultLifecycleId(input);
  // The Temporal UI's list then shows the prompt, models and channel, not only the id.
  const metadata = checked.ok ? startMetadata(checked.plan) : {};
  return withClient(config, async (client) => {
    try {
      // What the Temporal UI's "Start Workflow" form sends (type, task queue, one JSON argument), plus the summary.
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId,
        args: [withCliProvenance(input)],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        ...metadata,
      });
      const link = temporalUiLink(config.temporal, workflowId);
      process.stdout.write(`started ${workflowId}\n  rating page: ${config.gateway.publicUrl}/#/lifecycles/${encodeURIComponent(workflowId)}\n${link ? `  Temporal UI: ${link}\n` : ''}`);
      if (args.flags.wait) {
        const summary = (await handle.result()) as LifecycleSummary;
        process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      }
      return 0;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        process.stderr.write(`a lifecycle with id ${workflowId} already exists (same input today?); pass --id to start another\n`);
        return EXIT.refused;
      }
      throw err;
    }
  });
}

export async function runList(config: PreflineConfig): Promise<number> {
  return withClient(config, async (client) => {
    const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
    let n = 0;
    for await (const wf of client.workflow.list({ query })) {
      const attrs = wf.searchAttributes as Record<string, unknown[] | undefined>;
      process.stdout.write(`${wf.workflowId}\t${String(attrs['PreflineStatus']?.[0] ?? '?')}\t${String(attrs['PreflineChannel']?.[0] ?? '')}\t${wf.startTime.toISOString()}\n`);
      n++;
    }
    if (n === 0) process.stdout.write('no open lifecycles\n');
    return 0;
  });
}

export async function runStatus(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const id = args.positional[0] as string;
  return withClient(config, async (client) => {
    const status = await new TemporalLifecycleDirectory(client).status(id);
    if (!status) {
      process.stderr.write(`no lifecycle ${id}\n`);
      return EXIT.refused;
    }
    process.stdout.write((args.flags.json ? JSON.stringify(status, null, 2) : formatStatus(status)) + '\n');
    return 0;
  });
}

export async function runVote(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const [id, candidateId, value] = args.positional as [string, string, string];
  const rater = args.flags.rater;
  if (typeof rater !== 'string' || rater.trim() === '') throw new UsageError('--rater NAME is required: who casts the vote', 'vote');
  if (value !== 'up' && value !== 'down' && value !== 'retract') throw new UsageError(`the vote must be up, down or retract, got "${value}"`, 'vote');
  const pseudonym = pseudonymiseRater(loadSecret(config, 'rater'), 'cli', rater);
  return withClient(config, async (client) => {
    try {
      const receipt = await new TemporalLifecycleDirectory(client).vote(id, {
        idempotencyKey: typeof args.flags.key === 'string' ? `cli:${pseudonym}:${args.flags.key}` : `cli:${pseudonym}:${randomUUID()}`,
        candidateId,
        value: value as VoteValue,
        rater: pseudonym,
        ...(typeof args.flags.comment === 'string' ? { comment: args.flags.comment } : {}),
        channel: 'cli',
        castAt: new Date().toISOString(),
        raterAuth: 'cli',
      });
      process.stdout.write(`${receipt.outcome}: ${receipt.candidate.label} now 👍 ${receipt.candidate.up} 👎 ${receipt.candidate.down}\n`);
      return 0;
    } catch (err) {
      if (err instanceof VoteRejectedError) {
        process.stderr.write(`vote refused (${err.code}): ${err.message}\n`);
        return EXIT.refused;
      }
      throw err;
    }
  });
}

export async function runClose(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const id = args.positional[0] as string;
  return withClient(config, async (client) => {
    try {
      await client.workflow.getHandle(id).signal(closeSignal, { reason: typeof args.flags.reason === 'string' ? args.flags.reason : 'closed from the CLI' });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        process.stderr.write(`no open lifecycle ${id}\n`);
        return EXIT.refused;
      }
      throw err;
    }
    process.stdout.write(`close requested for ${id}; it commits its votes and completes\n`);
    return 0;
  });
}

export const LIFECYCLE_COMMANDS: Command[] = [
  {
    spec: {
      name: 'start',
      args: '<json|@file|->',
      summary: 'start a ratingLifecycle exactly as the Temporal UI does (the input as JSON, a file, or - for stdin)',
      positionals: [1, 1],
      options: {
        id: { type: 'string', value: 'ID', description: 'workflow id (default lc-<UTC day>-<digest of the input>, so the same input is not started twice a day)' },
        wait: { type: 'boolean', description: 'wait for the lifecycle to complete and print its summary' },
        'no-validate': { type: 'boolean', description: 'skip the check here (the workflow still validates its input)' },
      },
      details: 'example: prefline start \'{"prompt":"a red fox","model":"demo:text"}\' --wait',
    },
    run: runStart,
  },
  { spec: { name: 'list', summary: 'open lifecycles: id, status, channel, start time' }, run: (config) => runList(config) },
  { spec: { name: 'status', args: '<id>', summary: "a lifecycle's live tally", positionals: [1, 1], options: { json: { type: 'boolean', description: 'print the status as JSON' } } }, run: runStatus },
  {
    spec: {
      name: 'vote',
      args: '<id> <candidate> up|down|retract',
      summary: 'vote as a rater (pseudonymised like every channel does)',
      positionals: [3, 3],
      options: {
        rater: { type: 'string', value: 'NAME', description: 'who votes (required)' },
        comment: { type: 'string', value: 'TEXT', description: 'a comment stored with the vote' },
        key: { type: 'string', value: 'KEY', description: 'idempotency key: a vote sent again with the same key counts once (default: a new one)' },
      },
    },
    run: runVote,
  },
  { spec: { name: 'close', args: '<id>', summary: 'close voting now; the lifecycle then commits its votes', positionals: [1, 1], options: { reason: { type: 'string', value: 'TEXT', description: 'why (default "closed from the CLI")' } } }, run: runClose },
];
