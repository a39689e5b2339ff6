/**
 * Where one chat turn's time goes: the bench's own marks on the page's side (post sent, first and last
 * streamed piece, the `streamed` end of the stream, the final `reply` event) laid beside the
 * conversation's workflow history (update accepted, activity scheduled, started, completed, the
 * workflow task that answers the update, update completed), one line per stage with its median and
 * maximum over the turns. Server and bench share the machine's clock, so the two sets of times line up
 * to about a millisecond.
 */
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { fmt, percentile } from './util';

/** Wall-clock times (ms since the epoch, fractional) the bench saw for one turn. */
export interface TurnMarks {
  postedAt: number;
  firstDeltaAt?: number;
  lastDeltaAt?: number;
  streamedAt?: number;
  replyAt?: number;
  endAt: number;
  /** The backend call inside the activity, from the reply's provenance. */
  latencyMs?: number;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Update ids of messages (core/temporal-conversations.ts chatUpdateId): the page's key is wrapped with the rater's pseudonym, so turns are matched in order. */
const SEND_UPDATE = 'chat-send-';

const timeOf = (e: HistoryEvent): number => Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;

/** The history times of the turn whose update is the `index`-th message sent: from its acceptance to its completion. */
function turnStages(events: HistoryEvent[], index: number): Record<string, number> | undefined {
  const sends = events.flatMap((e, i) => (e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId?.startsWith(SEND_UPDATE) ? [i] : []));
  const accepted = sends[index] ?? -1;
  if (accepted < 0) return undefined;
  const updateId = events[accepted]!.workflowExecutionUpdateAcceptedEventAttributes!.acceptedRequest!.meta!.updateId!;
  const after = (from: number, test: (e: HistoryEvent) => unknown) => {
    for (let i = from; i < events.length; i++) if (test(events[i]!)) return i;
    return -1;
  };
  const scheduled = after(accepted, (e) => e.activityTaskScheduledEventAttributes);
  const started = after(scheduled, (e) => e.activityTaskStartedEventAttributes);
  const completed = after(started, (e) => e.activityTaskCompletedEventAttributes);
  const taskScheduled = after(completed, (e) => e.workflowTaskScheduledEventAttributes);
  const taskStarted = after(taskScheduled, (e) => e.workflowTaskStartedEventAttributes);
  const taskCompleted = after(taskStarted, (e) => e.workflowTaskCompletedEventAttributes);
  const updateCompleted = events.findIndex((e) => e.workflowExecutionUpdateCompletedEventAttributes?.meta?.updateId === updateId);
  const marks = { accepted, scheduled, started, completed, taskScheduled, taskStarted, taskCompleted, updateCompleted };
  if (Object.values(marks).some((i) => i < 0)) return undefined;
  return Object.fromEntries(Object.entries(marks).map(([k, i]) => [k, timeOf(events[i]!)]));
}

/** What turns cost the server in history: events, workflow tasks, activities and timer events, over whole histories. */
interface HistoryCounts {
  turns: number;
  events: number;
  workflowTasks: number;
  activities: number;
  timerEvents: number;
}

const emptyCounts = (): HistoryCounts => ({ turns: 0, events: 0, workflowTasks: 0, activities: 0, timerEvents: 0 });

function addCounts(counts: HistoryCounts, events: HistoryEvent[], turns: number): void {
  counts.turns += turns;
  counts.events += events.length;
  counts.workflowTasks += events.filter((e) => e.workflowTaskCompletedEventAttributes).length;
  counts.activities += events.filter((e) => e.activityTaskScheduledEventAttributes).length;
  counts.timerEvents += events.filter((e) => e.timerStartedEventAttributes || e.timerFiredEventAttributes || e.timerCanceledEventAttributes).length;
}

function printCounts(counts: HistoryCounts): Record<string, number> {
  const per = (n: number) => n / Math.max(1, counts.turns);
  process.stdout.write(
    `  history per turn (whole conversations, ${counts.turns} turns): ${fmt(per(counts.events))} events, ${fmt(per(counts.workflowTasks))} workflow tasks, ` +
      `${fmt(per(counts.activities))} activities, ${fmt(per(counts.timerEvents))} timer events\n`,
  );
  return { historyEventsPerTurn: per(counts.events), workflowTasksPerTurn: per(counts.workflowTasks), activitiesPerTurn: per(counts.activities), timerEventsPerTurn: per(counts.timerEvents) };
}

/** Prints the history per turn of the conversations of a run (`turns` per conversation id). */
export async function printHistoryCounts(temporalAddress: string, namespace: string, turns: Map<string, number>): Promise<Record<string, number>> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection, namespace });
    const counts = emptyCounts();
    for (const [conversationId, n] of turns) addCounts(counts, (await client.workflow.getHandle(conversationId).fetchHistory()).events ?? [], n);
    return printCounts(counts);
  } finally {
    await connection.close();
  }
}

/**
 * Prints the stages of every turn of `turns`' conversations: median and maximum for conversations run
 * alone; median, p99 and maximum (`tail`) for a concurrent run, where the tail is what queueing adds.
 */
export async function printBreakdown(temporalAddress: string, namespace: string, turns: Map<string, TurnMarks[]>, tail = false): Promise<void> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection, namespace });
    const rows: Array<Record<string, number>> = [];
    const firstTurns: Array<Record<string, number>> = [];
    const counts = emptyCounts();
    for (const [conversationId, marks] of turns) {
      const events = (await client.workflow.getHandle(conversationId).fetchHistory()).events ?? [];
      addCounts(counts, events, marks.length);
      for (const [index, m] of marks.entries()) {
        const h = turnStages(events, index);
        if (!h || m.firstDeltaAt === undefined || m.lastDeltaAt === undefined || m.replyAt === undefined) continue;
        const row: Record<string, number> = {
          'post → update accepted': h.accepted! - m.postedAt,
          'accepted → activity started': h.started! - h.accepted!,
          'activity started → first piece on the page': m.firstDeltaAt - h.started!,
          'first → last piece on the page': m.lastDeltaAt - m.firstDeltaAt,
          'last piece → activity completed': h.completed! - m.lastDeltaAt,
          'activity completed → workflow task started': h.taskStarted! - h.completed!,
          'workflow task started → completed': h.taskCompleted! - h.taskStarted!,
          'workflow task completed → reply on the page': m.replyAt - h.taskCompleted!,
          'reply → end of the answer': m.endAt - m.replyAt,
          'total (post → end)': m.endAt - m.postedAt,
        };
        if (m.latencyMs !== undefined) row['activity: around the model call (started→completed − model)'] = h.completed! - h.started! - m.latencyMs;
        (index === 0 ? firstTurns : rows).push(row);
      }
    }
    if (rows.length === 0) {
      process.stdout.write('  breakdown: no turn could be matched to its history\n');
      return;
    }
    if (!tail) printCounts(counts);
    // A conversation's first turn also starts its title and meets a workflow that has only just started: apart.
    const shape = tail ? 'median / p99 / max' : 'median / max';
    process.stdout.write(`  where a turn's time goes${tail ? '' : ', alone'} (ms: ${shape} of ${rows.length} later turns; median of ${firstTurns.length} first turns):\n`);
    for (const stage of Object.keys(rows[0]!)) {
      const values = rows.map((r) => r[stage]!).filter((v) => Number.isFinite(v));
      const first = firstTurns.map((r) => r[stage]!).filter((v) => Number.isFinite(v));
      const middle = tail ? ` / ${fmt(percentile(values, 99)).padStart(7)}` : '';
      process.stdout.write(`    ${stage.padEnd(64)} ${fmt(percentile(values, 50)).padStart(7)}${middle} / ${fmt(Math.max(...values)).padStart(7)}   first ${fmt(percentile(first, 50)).padStart(7)}\n`);
    }
  } finally {
    await connection.close();
  }
}
