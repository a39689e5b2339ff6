/**
 * `prefline cluster setup`: makes a Temporal namespace ready for Prefline, idempotently, and says what
 * it changed. The namespace must exist (or is created with --create-namespace); Prefline's search
 * attributes are registered with their types (another type under the same name is an error, and then
 * nothing is changed); the daily release schedule is created, or updated to this definition. `prefline up`
 * runs the same steps for its dev server.
 */
import { Client, type Connection } from '@temporalio/client';
import { describeTemporal, type PreflineConfig } from '../config';
import { parseDuration } from '../core/duration';
import { ClusterSetupError, createNamespace, ensureSearchAttributes, namespaceExists, SETUP_COMMAND, type TemporalServices } from '../ops/cluster-setup';
import { connectClient } from '../ops/temporal-connection';
import { PREFLINE_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { UsageError, type ParsedArgs } from './args';
import { EXIT, type CommandGroup } from './command';
import { ensureReleaseSchedule, RELEASE_SCHEDULE_ID } from './release-schedule';

export type SetupOutcome = 'created' | 'already present' | 'updated';

export interface SetupStep {
  /** `namespace default`, `search attribute PreflineStatus (Keyword)`, `schedule prefline-daily-release`. */
  what: string;
  outcome: SetupOutcome;
}

const DEFAULT_RETENTION = '7d';

/** The namespace: present, or created when `create` is given; otherwise missing is a ClusterSetupError. */
export async function setUpNamespace(services: TemporalServices, namespace: string, create?: { retentionMs: number }): Promise<SetupStep> {
  const what = `namespace ${namespace}`;
  if (await namespaceExists(services, namespace)) return { what, outcome: 'already present' };
  if (!create) {
    throw new ClusterSetupError(`namespace ${namespace} does not exist on this server: run ${SETUP_COMMAND} --create-namespace [--retention ${DEFAULT_RETENTION}], or create it where your provider manages namespaces`);
  }
  await createNamespace(services, namespace, create.retentionMs);
  return { what, outcome: 'created' };
}

export async function setUpSearchAttributes(services: TemporalServices, namespace: string): Promise<SetupStep[]> {
  const created = new Set(await ensureSearchAttributes(services, namespace));
  return PREFLINE_SEARCH_ATTRIBUTES.map(({ name, type }) => ({ what: `search attribute ${name} (${type})`, outcome: created.has(name) ? 'created' : 'already present' }));
}

export async function setUpReleaseSchedule(client: Client, config: Pick<PreflineConfig, 'taskQueue'>): Promise<SetupStep> {
  const outcome = await ensureReleaseSchedule(client, config);
  return { what: `schedule ${RELEASE_SCHEDULE_ID}`, outcome: outcome === 'exists' ? 'already present' : outcome };
}

/** Every step, in order; the first failing step ends the setup with its error. */
export async function setUpCluster(connection: Connection, config: PreflineConfig, options: { createNamespace?: { retentionMs: number } } = {}): Promise<SetupStep[]> {
  const { namespace } = config.temporal;
  const steps = [await setUpNamespace(connection, namespace, options.createNamespace)];
  steps.push(...(await setUpSearchAttributes(connection, namespace)));
  steps.push(await setUpReleaseSchedule(new Client({ connection, namespace }), config));
  return steps;
}

export function formatSteps(steps: SetupStep[]): string {
  const width = Math.max(...steps.map((s) => s.what.length));
  return steps.map((s) => `  ${s.what.padEnd(width)}  ${s.outcome}`).join('\n');
}

async function runSetup(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  let createNamespace: { retentionMs: number } | undefined;
  if (typeof args.flags.retention === 'string' && !args.flags['create-namespace']) throw new UsageError('--retention applies only with --create-namespace', 'cluster setup');
  if (args.flags['create-namespace']) {
    const retention = typeof args.flags.retention === 'string' ? args.flags.retention : DEFAULT_RETENTION;
    const retentionMs = parseDuration(retention);
    if (retentionMs === undefined || retentionMs < 86_400_000) throw new UsageError(`--retention must be a duration of at least a day, like "7d" or "30d", got "${retention}"`, 'cluster setup');
    createNamespace = { retentionMs };
  }
  process.stdout.write(`Temporal: ${describeTemporal(config.temporal)}\n`);
  const connection = await connectClient(config.temporal);
  try {
    const steps = await setUpCluster(connection, config, createNamespace ? { createNamespace } : {});
    process.stdout.write(formatSteps(steps) + '\n');
    const changed = steps.filter((s) => s.outcome !== 'already present').length;
    process.stdout.write(changed === 0 ? 'nothing to change: the namespace is ready for Prefline\n' : `${changed} change${changed === 1 ? '' : 's'}; the namespace is ready for Prefline\n`);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ClusterSetupError) {
      process.stderr.write(`${err.message}\n`);
      return EXIT.failed;
    }
    throw err;
  } finally {
    await connection.close();
  }
}

export const CLUSTER_COMMANDS: CommandGroup = {
  name: 'cluster',
  summary: 'prepare a Temporal namespace for Prefline (a self-hosted cluster or Temporal Cloud)',
  commands: [
    {
      spec: {
        name: 'cluster setup',
        summary: "make the namespace ready, idempotently: check it exists, register Prefline's search attributes, create or update the daily release schedule; prints what it changed",
        options: {
          'create-namespace': { type: 'boolean', description: 'create the namespace if it does not exist' },
          retention: { type: 'string', value: 'DURATION', description: `how long closed workflows are kept, for a namespace created here (default ${DEFAULT_RETENTION})` },
        },
        details: 'Connects with the same settings as workers and the gateway (PREFLINE_TEMPORAL_*, TEMPORAL_*, the Temporal profile). Run it once per namespace, and again after upgrading Prefline.',
      },
      run: runSetup,
    },
  ],
};
