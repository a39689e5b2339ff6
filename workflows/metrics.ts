/**
 * Prefline's counters from workflow code, through the SDK's workflow meter: they appear on the
 * worker's metrics endpoint beside the SDK's own, tagged with namespace, task queue and workflow type.
 * The meter emits nothing while a workflow replays, so a worker counts what it saw happen (a workflow
 * task that is retried after a crash may count again: these are operational signals, not the ledger).
 * Labels are bounded: channel kind, phase, outcome, reason; never ids, prompts or raters.
 */
import { metricMeter } from '@temporalio/workflow';
import type { VoteObserver } from './lifecycle-state';
import type { ChannelSpec, CloseReason, LifecyclePhase } from './types';

type Channel = ChannelSpec['kind'];

// Metrics are created where they are used: the meter works only inside a workflow's context.
export function countPhase(channel: Channel, phase: LifecyclePhase): void {
  metricMeter.createCounter('prefline_lifecycle_phase_transitions', undefined, 'Lifecycles entering each phase (generating, voting, committing, completed)').add(1, { channel, phase });
}

export function countClosed(channel: Channel, reason: CloseReason): void {
  metricMeter.createCounter('prefline_lifecycles_closed', undefined, 'Lifecycles whose voting closed, by reason (quorum, deadline, closed)').add(1, { channel, reason });
}

export function countContinuedAsNew(channel: Channel): void {
  metricMeter.createCounter('prefline_lifecycles_continued_as_new', undefined, 'Lifecycle runs that carried their voting into a new run').add(1, { channel });
}

/** Counts each vote decision of a lifecycle: accepted by outcome, refused by reason (the rejection code). */
export function voteCounters(channel: Channel): VoteObserver {
  return {
    voteAccepted(outcome) {
      metricMeter.createCounter('prefline_votes_accepted', undefined, 'Votes a lifecycle accepted, by outcome (recorded, changed, retracted, unchanged, duplicate)').add(1, { channel, outcome });
    },
    voteRefused(reason) {
      metricMeter.createCounter('prefline_votes_refused', undefined, 'Votes a lifecycle refused, by reason (its rejection code)').add(1, { channel, reason });
    },
  };
}
