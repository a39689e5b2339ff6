/**
 * The daily release schedule, as `prefline cluster setup` and `prefline up` create it: 02:00 UTC,
 * overlap SKIP (a slow release is never doubled), catch up for one day (a server down at 02:00 still
 * releases when it returns, but a week's outage does not replay a week).
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleDescription, type ScheduleOptions } from '@temporalio/client';
import type { PreflineConfig } from '../config';
import { RELEASE_WORKFLOW_TYPE, type PublishReleaseInput } from '../workflows/publish-release';

export const RELEASE_SCHEDULE_ID = 'prefline-daily-release';

const RELEASE_HOUR_UTC = 2;
const CATCHUP_WINDOW_MS = 24 * 3_600_000;

function scheduleDefinition(taskQueue: string): Omit<ScheduleOptions, 'scheduleId'> {
  return {
    spec: { calendars: [{ hour: RELEASE_HOUR_UTC, minute: 0, comment: 'daily release, 02:00 UTC' }], timezone: 'UTC' },
    action: {
      type: 'startWorkflow',
      workflowType: RELEASE_WORKFLOW_TYPE,
      taskQueue,
      args: [{} satisfies PublishReleaseInput],
      // The server appends the nominal time; the workflow takes it as the cutoff.
      workflowId: 'release',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW_MS },
  };
}

/** Whether an existing schedule is the one Prefline would create for this task queue. */
export function isReleaseSchedule(description: ScheduleDescription, taskQueue: string): boolean {
  const { action, spec, policies } = description;
  const only = (ranges: ReadonlyArray<{ start: number; end?: number }> | undefined, value: number) =>
    ranges?.length === 1 && ranges[0]!.start === value && (ranges[0]!.end ?? value) === value;
  const calendar = spec.calendars?.length === 1 ? spec.calendars[0] : undefined;
  return (
    action.type === 'startWorkflow' &&
    action.workflowType === RELEASE_WORKFLOW_TYPE &&
    action.taskQueue === taskQueue &&
    action.workflowId === 'release' &&
    spec.timezone === 'UTC' &&
    (spec.intervals?.length ?? 0) === 0 &&
    calendar !== undefined &&
    only(calendar.hour, RELEASE_HOUR_UTC) &&
    only(calendar.minute, 0) &&
    only(calendar.second, 0) &&
    policies.overlap === ScheduleOverlapPolicy.SKIP &&
    policies.catchupWindow === CATCHUP_WINDOW_MS
  );
}

/**
 * Creates the schedule, or brings an existing one with another definition (an older Prefline's, or
 * another PREFLINE_TASK_QUEUE) to this one, keeping its state (paused or not) and its history.
 * `exists`: it was already this schedule.
 */
export async function ensureReleaseSchedule(
  client: Client,
  config: Pick<PreflineConfig, 'taskQueue'>,
  options: { scheduleId?: string } = {},
): Promise<'created' | 'exists' | 'updated'> {
  const scheduleId = options.scheduleId ?? RELEASE_SCHEDULE_ID;
  const definition = scheduleDefinition(config.taskQueue);
  try {
    await client.schedule.create({ scheduleId, ...definition });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  if (isReleaseSchedule(await handle.describe(), config.taskQueue)) return 'exists';
  await handle.update((previous) => ({ ...previous, ...definition, policies: { ...previous.policies, ...definition.policies } }));
  return 'updated';
}
