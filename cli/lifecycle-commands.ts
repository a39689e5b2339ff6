/** CLI verbs that talk to lifecycles through one Temporal client. */
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadSecret, type PreflineConfig } from '../config';
import { pseudonymiseRater } from '../core/pseudonym';
import { TemporalLifecycleDirectory } from '../core/temporal-directory';
import { VoteRejectedError } from '../core/lifecycle-directory';
import { validateLifecycleInput } from '../workflows/input';
import { WORKFLOW_TYPE, closeSignal } from '../workflows/messages';
import type { LifecycleStatus, LifecycleSummary, VoteValue } from '../workflows/types';
import type { ParsedArgs } from './main';

export async function withClient<T>(config: PreflineConfig, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: config.temporal.address });
  try {
    return await fn(new Client({ connection, namespace: config.temporal.namespace }));
  } finally {
    await connection.close();
  }
}

function readInput(arg: string | undefined): unknown {
  if (arg === undefined) throw new Error('start: give the lifecycle input as JSON, @file.json, or - for stdin');
  const text = arg === '-' ? readFileSync(0, 'utf8') : arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`start: the input is not valid JSON: ${(err as Error).message}`);
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

export function formatStatus(status: LifecycleStatus): string {
  const lines = [
    `${status.lifecycleId}  [${status.phase}${status.closeReason ? `, closed: ${status.closeReason}` : ''}]`,
    `  prompt:   ${status.prompt}`,
    `  models:   ${status.models.join(', ')}   channel: ${status.channel}${status.campaign ? `   campaign: ${status.campaign}` : ''}`,
    `  quorum:   ${status.quorum.votes} ${status.quorum.kind === 'total' ? 'votes in total' : 'votes per candidate'}${status.deadlineAt ? `   deadline: ${status.deadlineAt}` : ''}`,
    `  votes:    ${status.votesAccepted} accepted`,
  ];
  for (const c of status.candidates) {
    lines.push(`  ${c.label} (${c.id}) ${c.model}${c.placeholder ? ' [demo placeholder]' : ''}: 👍 ${c.tally.up}  👎 ${c.tally.down}  score ${c.tally.score}`);
  }
  return lines.join('\n');
}

export async function runStart(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const input = readInput(args.positional[0]);
  if (!args.flags['no-validate']) {
    const checked = validateLifecycleInput(input, Date.now());
    if (!checked.ok) {
      process.stderr.write(`invalid lifecycle input:\n${checked.errors.map((e) => `  - ${e}`).join('\n')}\n`);
      return 2;
    }
  }
  const workflowId = typeof args.flags.id === 'string' ? args.flags.id : defaultLifecycleId(input);
  return withClient(config, async (client) => {
    try {
      // Exactly what the Temporal UI's "Start Workflow" form sends: type, task queue, one JSON argument.
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: config.taskQueue,
        workflowId,
        args: [withCliProvenance(input)],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      process.stdout.write(`started ${workflowId}\n  rating page: ${config.gateway.publicUrl}/#/lifecycles/${encodeURIComponent(workflowId)}\n`);
      if (args.flags.wait) {
        const summary = (await handle.result()) as LifecycleSummary;
        process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      }
      return 0;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        process.stderr.write(`a lifecycle with id ${workflowId} already exists (same input today?); pass --id to start another\n`);
        return 1;
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
  const id = args.positional[0];
  if (!id) throw new Error('status: give a lifecycle id');
  return withClient(config, async (client) => {
    const status = await new TemporalLifecycleDirectory(client).status(id);
    if (!status) {
      process.stderr.write(`no lifecycle ${id}\n`);
      return 1;
    }
    process.stdout.write((args.flags.json ? JSON.stringify(status, null, 2) : formatStatus(status)) + '\n');
    return 0;
  });
}

export async function runVote(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const [id, candidateId, value] = args.positional;
  const rater = args.flags.rater;
  if (!id || !candidateId || !value || typeof rater !== 'string') {
    throw new Error('vote: usage: prefline vote <id> <candidate> up|down|retract --rater NAME [--comment TEXT]');
  }
  if (value !== 'up' && value !== 'down' && value !== 'retract') throw new Error('vote: value must be up, down or retract');
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
        return 1;
      }
      throw err;
    }
  });
}

export async function runClose(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const id = args.positional[0];
  if (!id) throw new Error('close: give a lifecycle id');
  return withClient(config, async (client) => {
    await client.workflow.getHandle(id).signal(closeSignal, { reason: typeof args.flags.reason === 'string' ? args.flags.reason : 'closed from the CLI' });
    process.stdout.write(`close requested for ${id}; it commits its votes and completes\n`);
    return 0;
  });
}
