/**
 * Stub inference and channel activities for workflow tests that are about time and state, not I/O:
 * they answer at once and record every call, so a test can wait on what the workflow asked for.
 * The ledger stays real (createLifecycleWorkers), so committed rows are checked in DuckDB.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { createHash } from 'node:crypto';
import type {
  ChannelActivities, ClosePostRequest, InferenceActivities, PublishRequest, RemindRequest, UpdatePostRequest,
} from '../../activities/types';
import type { Candidate } from '../../workflows/types';

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Text candidates `c1`, `c2`, … for every model slot, without running a backend. */
export const stubInference: InferenceActivities = {
  async generateCandidates(request) {
    const candidates: Candidate[] = [];
    request.models.forEach((model, m) => {
      for (let k = 0; k < request.candidatesPerModel; k++) {
        const slot = m * request.candidatesPerModel + k;
        const text = `stub candidate ${slot + 1} for ${request.prompt}`;
        const sha256 = createHash('sha256').update(text).digest('hex');
        candidates.push({
          id: `c${slot + 1}`,
          label: String.fromCharCode(65 + slot),
          model,
          kind: 'text',
          artifact: { sha256, mime: 'text/plain', size: Buffer.byteLength(text), path: `sha256/${sha256.slice(0, 2)}/${sha256}.txt` },
          text,
          placeholder: true,
          provenance: { backend: 'stub', model, params: request.params, seed: k, wallTimeMs: 0 },
        });
      }
    });
    return candidates;
  },
  /** Brought candidates as text candidates whose text names their source, without reading it. */
  async ingestCandidates(request) {
    return request.brought.map((b, i) => {
      const text = b.source.kind === 'text' ? b.source.text : `stub of ${JSON.stringify(b.source)}`;
      const sha256 = createHash('sha256').update(text).digest('hex');
      return {
        id: `c${i + 1}`,
        label: String.fromCharCode(65 + i),
        model: b.model,
        kind: 'text',
        artifact: { sha256, mime: 'text/plain', size: Buffer.byteLength(text), path: `sha256/${sha256.slice(0, 2)}/${sha256}.txt` },
        text,
        placeholder: false,
        provenance: { backend: 'import', model: b.model, params: {}, seed: 0, wallTimeMs: 0 },
      };
    });
  },
};

export interface ChannelCalls {
  publishLifecycle: PublishRequest[];
  updatePost: UpdatePostRequest[];
  remindRaters: RemindRequest[];
  closePost: ClosePostRequest[];
}

/** Channel activities that record their requests; a Slack lifecycle gets one message per candidate. */
export function recordingChannel(): { activities: ChannelActivities; calls: ChannelCalls } {
  const calls: ChannelCalls = { publishLifecycle: [], updatePost: [], remindRaters: [], closePost: [] };
  const activities: ChannelActivities = {
    async publishLifecycle(request) {
      calls.publishLifecycle.push(request);
      const messages = request.plan.channel.kind === 'slack'
        ? request.candidates.map((c, i) => ({ ref: `slack:C0STUB0001:1700000000.00010${i}`, candidateId: c.id }))
        : [];
      return { channel: request.plan.channel.kind, messages };
    },
    async updatePost(request) {
      calls.updatePost.push(request);
    },
    async remindRaters(request) {
      calls.remindRaters.push(request);
      return { reminded: 1 };
    },
    async closePost(request) {
      calls.closePost.push(request);
    },
  };
  return { activities, calls };
}

/** The history events of a run (the latest run unless the handle names one). */
export async function historyEvents(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  return (await handle.fetchHistory()).events ?? [];
}

/** Server times (ms) at which the run scheduled the named activity, in order. */
export function activityScheduledTimes(events: HistoryEvent[], activityType: string): number[] {
  return events
    .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
    .map((e) => tsToMs(e.eventTime));
}
