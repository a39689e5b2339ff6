/**
 * Prefline's counters from activities, through the activity context's meter: on the worker's metrics
 * endpoint, tagged by the SDK with namespace, task queue and activity type. Each counts attempts as
 * they end (a retried activity counts each attempt). Labels are bounded: backend, channel kind,
 * action, outcome; never ids, prompts, models or raters.
 */
import { metricMeter } from '@temporalio/activity';
import type { ChannelSpec } from '../workflows/types';

export type Outcome = 'ok' | 'failed' | 'cancelled';

/** One candidate's prediction: which backend, how it ended, how long it took. */
export function countPrediction(backend: string, outcome: Outcome, ms: number): void {
  metricMeter.createCounter('prefline_inference_predictions', undefined, 'Candidate predictions, by backend and outcome').add(1, { backend, outcome });
  metricMeter.createHistogram('prefline_inference_prediction_duration', 'int', 'ms', 'Time one prediction took, by backend').record(Math.max(0, Math.round(ms)), { backend, outcome });
}

export type ChannelAction = 'publish' | 'update' | 'remind' | 'close';

/** One call to a channel (a post, a live-tally update, a reminder, the closing note). */
export function countChannelCall(channel: ChannelSpec['kind'], action: ChannelAction, outcome: Outcome): void {
  metricMeter.createCounter('prefline_channel_posts', undefined, 'Channel calls (publish, update, remind, close), by channel and outcome').add(1, { channel, action, outcome });
}

/**
 * One ledger commit (a batch): rows new to the ledger, and rows it already held (a retried commit's).
 * A lifecycle's first batch carries its candidates, so `batch="first"` counts lifecycles committed.
 */
export function countCommit(batch: 'first' | 'next', outcome: 'ok' | 'failed', rows?: { inserted: number; alreadyHeld: number }): void {
  metricMeter.createCounter('prefline_ledger_commits', undefined, 'Ledger commits (one per batch of votes), by batch and outcome').add(1, { batch, outcome });
  if (!rows) return;
  metricMeter.createCounter('prefline_ledger_vote_rows_inserted', undefined, 'Vote rows written to the ledger').add(rows.inserted);
  metricMeter.createCounter('prefline_ledger_vote_rows_already_held', undefined, 'Vote rows a commit carried that the ledger already held (retried commits)').add(rows.alreadyHeld);
}
