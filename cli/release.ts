/**
 * `prefline release …`: publish, verify, list, diff and export dated parquet releases (the daily
 * schedule is in release-schedule.ts).
 *
 *   release [--cutoff ISO] [--id ID] [--no-wait]   run publishRelease now (through Temporal) and wait
 *   release verify [id|latest]                     checksums and row counts against the manifest
 *   release list                                   releases, oldest first
 *   release diff <a> <b>                           rows added/removed/changed per table
 *   release export <id|latest> <dir>               parquet + referenced artifacts, self-contained
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { temporalUiLink, type PreflineConfig } from '../config';
import type { ReleaseSummary } from '../activities/types';
import { listReleases, readLatest, resolveRelease } from '../releases/layout';
import { diffReleases, exportRelease, verifyRelease } from '../releases/tools';
import { RELEASE_WORKFLOW_TYPE, releaseWorkflowId, type PublishReleaseInput } from '../workflows/publish-release';
import { UsageError, type ParsedArgs } from './args';
import { EXIT, runGroup, type Command, type CommandGroup } from './command';
import { withClient } from './lifecycle-commands';
import { FORMAT_OPTION, formatResult } from './query';
import { safeForTerminal } from './terminal';

// The schedule's code is beside this file; its id and ensure function keep their old import path.
export { ensureReleaseSchedule, RELEASE_SCHEDULE_ID } from './release-schedule';

/**
 * Starts publishRelease under its date-derived id. A second start for the same id (running, or
 * completed) does not start anything: the existing run is returned, so one date gives one release.
 * A failed run may be started again.
 */
export async function startReleaseWorkflow(
  client: Client,
  options: { taskQueue: string; input?: PublishReleaseInput; workflowId?: string },
): Promise<{ handle: WorkflowHandle; started: boolean }> {
  const input = options.input ?? {};
  const workflowId = options.workflowId ?? releaseWorkflowId(input.cutoff);
  try {
    const handle = await client.workflow.start(RELEASE_WORKFLOW_TYPE, {
      taskQueue: options.taskQueue,
      workflowId,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      workflowIdConflictPolicy: 'FAIL',
    });
    return { handle, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { handle: client.workflow.getHandle(workflowId), started: false };
    throw err;
  }
}

function formatSummary(s: ReleaseSummary): string {
  return [
    `release ${s.releaseId}${s.reused ? ' (already published; verified)' : ''}${s.latest ? '  ← latest' : ''}`,
    `  cutoff:   ${s.cutoff}`,
    `  folder:   ${s.dir}`,
    `  rows:     ${Object.entries(s.rows).map(([t, n]) => `${t} ${n}`).join(', ')}`,
    `  previous: ${s.previousReleaseId ?? 'none'}`,
  ].join('\n');
}

async function runPublish(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const cutoff = typeof args.flags.cutoff === 'string' ? Date.parse(args.flags.cutoff) : undefined;
  if (cutoff !== undefined && Number.isNaN(cutoff)) throw new UsageError('--cutoff must be an ISO-8601 time, e.g. 2026-11-22T00:00:00Z', 'release');
  const input: PublishReleaseInput = {
    ...(cutoff !== undefined ? { cutoff: new Date(cutoff).toISOString() } : {}),
    ...(typeof args.flags.id === 'string' ? { releaseId: args.flags.id } : {}),
  };
  return withClient(config, async (client) => {
    const { handle, started } = await startReleaseWorkflow(client, { taskQueue: config.taskQueue, input });
    const link = temporalUiLink(config.temporal, handle.workflowId);
    process.stderr.write(`${started ? 'started' : 'already started:'} workflow ${handle.workflowId}\n${link ? `  Temporal UI: ${link}\n` : ''}`);
    if (args.flags['no-wait']) return 0;
    process.stdout.write(formatSummary((await handle.result()) as ReleaseSummary) + '\n');
    return 0;
  });
}

async function runVerify(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const release = await resolveRelease(config.releasesDir, args.positional[0]);
  const problems = await verifyRelease(release);
  if (problems.length === 0) {
    const files = Object.keys(release.manifest.files).length;
    process.stdout.write(`release ${release.id}: OK (${files} files match manifest.json)\n`);
    return 0;
  }
  // Problems name the manifest's files, which a tampered release could fill with terminal escapes.
  process.stderr.write(`release ${release.id}: ${problems.length} problem(s)\n${safeForTerminal(problems.map((p) => `  - ${p}`).join('\n'))}\n`);
  return EXIT.failed;
}

async function runList(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const releases = await listReleases(config.releasesDir);
  const latest = await readLatest(config.releasesDir);
  const rows = releases.map((r) => ({
    release: r.id + (r.id === latest ? ' (latest)' : ''),
    cutoff: r.manifest.cutoff,
    created_at: r.manifest.createdAt,
    lifecycles: r.manifest.files['lifecycles.parquet']?.rows,
    votes: r.manifest.files['votes.parquet']?.rows,
    preferences: r.manifest.files['preferences.parquet']?.rows,
    added_votes: r.manifest.addedSincePrevious.votes,
  }));
  const format = typeof args.flags.format === 'string' ? args.flags.format : 'table';
  process.stdout.write(formatResult({ columns: ['release', 'cutoff', 'created_at', 'lifecycles', 'votes', 'preferences', 'added_votes'], rows }, format) + '\n');
  return 0;
}

async function runDiff(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const [a, b] = args.positional as [string, string];
  const diffs = await diffReleases(await resolveRelease(config.releasesDir, a), await resolveRelease(config.releasesDir, b));
  const format = typeof args.flags.format === 'string' ? args.flags.format : 'table';
  const rows = diffs.map((d) => ({ table: d.table, [`rows ${a}`]: d.rowsA, [`rows ${b}`]: d.rowsB, added: d.added, 'removed (retracted)': d.removed, changed: d.changed }));
  process.stdout.write(formatResult({ columns: ['table', `rows ${a}`, `rows ${b}`, 'added', 'removed (retracted)', 'changed'], rows }, format) + '\n');
  return 0;
}

async function runExport(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const [id, dir] = args.positional as [string, string];
  const result = await exportRelease(await resolveRelease(config.releasesDir, id), dir, config.artifactDir);
  process.stdout.write(`exported ${result.files} files and ${result.artifacts} artifacts (${result.artifactBytes} bytes) to ${result.dir}\n`);
  return 0;
}

export const RELEASE_COMMANDS: CommandGroup = {
  name: 'release',
  summary: 'publish a dated parquet release of the ledger now, or inspect the releases',
  defaultCommand: 'publish',
  commands: [
    {
      spec: {
        name: 'release publish',
        summary: 'run publishRelease now (through Temporal) and print its summary; a second run for the same cutoff reuses the release',
        options: {
          cutoff: { type: 'string', value: 'ISO-TIME', description: 'include lifecycles committed up to this time (default: now)' },
          id: { type: 'string', value: 'ID', description: 'release id (default: the cutoff\'s date, then -2, -3, …)' },
          'no-wait': { type: 'boolean', description: 'start the workflow and return without waiting for it' },
        },
      },
      run: runPublish,
    },
    { spec: { name: 'release verify', args: '[id|latest]', summary: 'check files against manifest.json (sha256, row counts); exit 1 on a mismatch', positionals: [0, 1] }, run: runVerify },
    { spec: { name: 'release list', summary: 'the releases, oldest first', options: { format: FORMAT_OPTION } }, run: runList },
    { spec: { name: 'release diff', args: '<a> <b>', summary: 'rows added, removed (retracted) and changed per table between two releases', options: { format: FORMAT_OPTION }, positionals: [2, 2] }, run: runDiff },
    { spec: { name: 'release export', args: '<id|latest> <dir>', summary: 'copy a release and every artifact it references into a self-contained folder', positionals: [2, 2] }, run: runExport },
  ] satisfies Command[],
};

/** `prefline release <argv>` with a configuration already loaded. */
export function runRelease(config: PreflineConfig, argv: readonly string[]): Promise<number> {
  return runGroup(RELEASE_COMMANDS, config, argv);
}
