/**
 * `prefline release …`: publish, verify, list, diff and export dated parquet releases, plus the daily
 * schedule `prefline up` makes sure exists.
 *
 *   release [--cutoff ISO] [--id ID] [--no-wait]   run publishRelease now (through Temporal) and wait
 *   release verify [id|latest]                     checksums and row counts against the manifest
 *   release list                                   releases, oldest first
 *   release diff <a> <b>                           rows added/removed/changed per table
 *   release export <id|latest> <dir>               parquet + referenced artifacts, self-contained
 */
import {
  ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle,
} from '@temporalio/client';
import type { PreflineConfig } from '../config';
import type { Logger } from '@temporalio/common';
import type { ReleaseSummary } from '../activities/types';
import { listReleases, readLatest, resolveRelease } from '../releases/layout';
import { diffReleases, exportRelease, verifyRelease } from '../releases/tools';
import { RELEASE_WORKFLOW_TYPE, releaseWorkflowId, type PublishReleaseInput } from '../workflows/publish-release';
import { withClient } from './lifecycle-commands';
import type { ParsedArgs } from './main';
import { formatResult } from './query';
import { safeForTerminal } from './terminal';

export const RELEASE_SCHEDULE_ID = 'prefline-daily-release';

/**
 * The daily release: 02:00 UTC, overlap SKIP (a slow release is never doubled), catch up for one day
 * (a server down at 02:00 still releases when it returns, but a week's outage does not replay a week).
 * Idempotent: an existing schedule is kept as it is.
 */
export async function ensureReleaseSchedule(
  client: Client,
  config: Pick<PreflineConfig, 'taskQueue'>,
  options: { scheduleId?: string } = {},
): Promise<'created' | 'exists'> {
  const scheduleId = options.scheduleId ?? RELEASE_SCHEDULE_ID;
  try {
    await client.schedule.create({
      scheduleId,
      spec: { calendars: [{ hour: 2, minute: 0, comment: 'daily release, 02:00 UTC' }], timezone: 'UTC' },
      action: {
        type: 'startWorkflow',
        workflowType: RELEASE_WORKFLOW_TYPE,
        taskQueue: config.taskQueue,
        args: [{} satisfies PublishReleaseInput],
        // The server appends the nominal time; the workflow takes it as the cutoff.
        workflowId: 'release',
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}

/** For `prefline up`: make sure the schedule exists; a failure is a warning, never fatal. */
export async function ensureDailyRelease(config: PreflineConfig, log: Pick<Logger, 'info' | 'warn'>): Promise<void> {
  try {
    const outcome = await withClient(config, (client) => ensureReleaseSchedule(client, config));
    log.info(`daily release schedule ${outcome === 'created' ? 'created' : 'present'}`, { scheduleId: RELEASE_SCHEDULE_ID });
  } catch (err) {
    log.warn('could not create the daily release schedule', { error: err instanceof Error ? err.message : String(err) });
  }
}

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
  if (cutoff !== undefined && Number.isNaN(cutoff)) throw new Error('release: --cutoff must be an ISO-8601 time, e.g. 2026-11-22T00:00:00Z');
  const input: PublishReleaseInput = {
    ...(cutoff !== undefined ? { cutoff: new Date(cutoff).toISOString() } : {}),
    ...(typeof args.flags.id === 'string' ? { releaseId: args.flags.id } : {}),
  };
  return withClient(config, async (client) => {
    const { handle, started } = await startReleaseWorkflow(client, { taskQueue: config.taskQueue, input });
    process.stderr.write(`${started ? 'started' : 'already started:'} workflow ${handle.workflowId}\n`);
    if (args.flags['no-wait']) return 0;
    process.stdout.write(formatSummary((await handle.result()) as ReleaseSummary) + '\n');
    return 0;
  });
}

async function runVerify(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const release = await resolveRelease(config.releasesDir, args.positional[1]);
  const problems = await verifyRelease(release);
  if (problems.length === 0) {
    const files = Object.keys(release.manifest.files).length;
    process.stdout.write(`release ${release.id}: OK (${files} files match manifest.json)\n`);
    return 0;
  }
  // Problems name the manifest's files, which a tampered release could fill with terminal escapes.
  process.stderr.write(`release ${release.id}: ${problems.length} problem(s)\n${safeForTerminal(problems.map((p) => `  - ${p}`).join('\n'))}\n`);
  return 1;
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
  const [, a, b] = args.positional;
  if (!a || !b) throw new Error('release diff: give two releases, e.g. prefline release diff 2026-11-21 latest');
  const diffs = await diffReleases(await resolveRelease(config.releasesDir, a), await resolveRelease(config.releasesDir, b));
  const format = typeof args.flags.format === 'string' ? args.flags.format : 'table';
  const rows = diffs.map((d) => ({ table: d.table, [`rows ${a}`]: d.rowsA, [`rows ${b}`]: d.rowsB, added: d.added, 'removed (retracted)': d.removed, changed: d.changed }));
  process.stdout.write(formatResult({ columns: ['table', `rows ${a}`, `rows ${b}`, 'added', 'removed (retracted)', 'changed'], rows }, format) + '\n');
  return 0;
}

async function runExport(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const [, id, dir] = args.positional;
  if (!id || !dir) throw new Error('release export: give a release and a folder, e.g. prefline release export latest ./out');
  const result = await exportRelease(await resolveRelease(config.releasesDir, id), dir, config.artifactDir);
  process.stdout.write(`exported ${result.files} files and ${result.artifacts} artifacts (${result.artifactBytes} bytes) to ${result.dir}\n`);
  return 0;
}

export async function runRelease(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  switch (args.positional[0]) {
    case undefined:
    case 'publish': return runPublish(config, args);
    case 'verify': return runVerify(config, args);
    case 'list': return runList(config, args);
    case 'diff': return runDiff(config, args);
    case 'export': return runExport(config, args);
    default:
      throw new Error(`release: unknown subcommand "${args.positional[0]}" (expected verify, list, diff, export, or none to publish)`);
  }
}
