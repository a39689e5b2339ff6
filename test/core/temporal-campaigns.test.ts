/**
 * TemporalCampaignDirectory's limit of `next` updates in flight per campaign: every rater asks the one
 * campaign workflow, and the server refuses updates beyond a few in flight per workflow, so the directory
 * sends at most `maxInFlightPerCampaign` at once and queues the rest, per campaign. A client that only
 * records what is in flight stands in for Temporal: the limit is the directory's, not the server's.
 */
import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import { TemporalCampaignDirectory } from '../../core/temporal-campaigns';
import { isUpdateLostWithTask } from '../../core/temporal-directory';
import type { NextItemAnswer, NextItemRequest } from '../../workflows/types';

/** A client whose campaign handles answer `next` after a tick, counting the updates in flight per campaign. */
function countingClient() {
  const inFlight = new Map<string, number>();
  const peak = new Map<string, number>();
  const client = {
    workflow: {
      getHandle: (campaignId: string) => ({
        async executeUpdate(_update: unknown, options: { args: [NextItemRequest] }): Promise<NextItemAnswer> {
          const now = (inFlight.get(campaignId) ?? 0) + 1;
          inFlight.set(campaignId, now);
          peak.set(campaignId, Math.max(peak.get(campaignId) ?? 0, now));
          await new Promise((r) => setTimeout(r, 5));
          inFlight.set(campaignId, (inFlight.get(campaignId) ?? 1) - 1);
          return { assigned: false, reason: options.args[0].rater.endsWith('0') ? 'waiting' : 'paused' };
        },
      }),
    },
  } as unknown as Client;
  return { client, peak };
}

const rater = (n: number) => `r_${n.toString(16).padStart(24, '0')}`;

describe('core/temporal-campaigns: next updates in flight per campaign', () => {
  it('should send at most maxInFlightPerCampaign next updates to one campaign at once, and answer every rater', async () => {
    const { client, peak } = countingClient();
    const directory = new TemporalCampaignDirectory(client, { maxInFlightPerCampaign: 4 });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => directory.next('campaign-a', { rater: rater(n) })));
    assert.equal(answers.length, 40);
    assert.deepEqual(answers.map((a) => (a.assigned ? 'assigned' : a.reason)), Array.from({ length: 40 }, (_, n) => (rater(n).endsWith('0') ? 'waiting' : 'paused')));
    assert.equal(peak.get('campaign-a'), 4);
  });

  it('should limit each campaign on its own, 8 at once by default', async () => {
    const { client, peak } = countingClient();
    const directory = new TemporalCampaignDirectory(client);
    await Promise.all(Array.from({ length: 60 }, (_, n) => directory.next(n % 2 === 0 ? 'campaign-a' : 'campaign-b', { rater: rater(n) })));
    assert.deepEqual([peak.get('campaign-a'), peak.get('campaign-b')], [8, 8]);
  });
});

/** The server's answer to an update whose workflow task failed before accepting it (a gRPC ServiceError cause). */
function grpcError(code: number, details: string): Error & { details: string } {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

/** A client whose `next` fails with each of `failures` in turn (wrapped as the client wraps them), then answers. */
function failingClient(failures: Error[]) {
  let calls = 0;
  const client = {
    workflow: {
      getHandle: () => ({
        async executeUpdate(): Promise<NextItemAnswer> {
          calls += 1;
          const failure = failures.shift();
          if (failure) throw Object.assign(new Error('Workflow Update failed'), { cause: failure });
          return { assigned: false, reason: 'waiting' };
        },
      }),
    },
  } as unknown as Client;
  return { client, calls: () => calls };
}

describe('core/temporal-campaigns: updates lost with a failed workflow task', () => {
  it('should ask again when the workflow task that was to take next failed (e.g. a continue-as-new a report overtook)', async () => {
    const lost = grpcError(9, 'Unable to perform workflow execution update due to unexpected workflow task failure.');
    const { client, calls } = failingClient([lost, grpcError(9, lost.message.slice(2))]);
    const answer = await new TemporalCampaignDirectory(client, { retryBudgetMs: 5000 }).next('campaign-a', { rater: rater(1) });
    assert.deepEqual(answer, { assigned: false, reason: 'waiting' });
    assert.equal(calls(), 3);
  });

  it('should not retry another failed precondition: it reaches the caller as it is', async () => {
    const { client, calls } = failingClient([grpcError(9, 'namespace is not active')]);
    await assert.rejects(new TemporalCampaignDirectory(client, { retryBudgetMs: 5000 }).next('campaign-a', { rater: rater(1) }), /Workflow Update failed/);
    assert.equal(calls(), 1);
  });

  it('should tell the lost update by code and words, at any depth of causes (the lifecycle directory retries votes on it too)', () => {
    const lost = grpcError(9, 'Unable to perform workflow execution update due to unexpected workflow task failure.');
    assert.equal(isUpdateLostWithTask(lost), true);
    assert.equal(isUpdateLostWithTask(Object.assign(new Error('outer'), { cause: Object.assign(new Error('mid'), { cause: lost }) })), true);
    assert.equal(isUpdateLostWithTask(grpcError(8, lost.details as string)), false, 'another code is not this');
    assert.equal(isUpdateLostWithTask(new Error(lost.message)), false, 'words alone, without the gRPC status, are not this');
    assert.equal(isUpdateLostWithTask(undefined), false);
  });
});
