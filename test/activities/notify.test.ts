/**
 * sendCampaignNotice's webhook target (activities/notify.ts): the campaign names a receiver, the worker
 * resolves it in its PREFLINE_WEBHOOKS; a name it does not know fails for good, in words, calling nothing.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createCampaignNotifyActivities } from '../../activities/notify';
import type { WebhookDelivery } from '../../connectors/webhook';
import { ErrorCode } from '../../core/errors';
import type { CampaignNotice } from '../../workflows/types';

const NOTICE = { eventId: 'cmp-1/run-1/completed', event: 'completed' } as CampaignNotice;

describe('activities/notify: webhook receivers by name', () => {
  const calls: WebhookDelivery[] = [];
  const activities = createCampaignNotifyActivities({
    webhook: { deliver: (delivery) => Promise.resolve(calls.push(delivery)).then(() => ({ status: 200 })) },
    webhookReceivers: { results: 'https://hooks.example.com/prefline?token=s3cret' },
  });

  // The activity logs through Temporal's activity context.
  const send = (name: string) => new MockActivityEnvironment().run(activities.sendCampaignNotice, { notice: NOTICE, target: { kind: 'webhook' as const, name } });

  beforeEach(() => calls.splice(0));

  it('should call the URL the worker\'s configuration gives the name', async () => {
    assert.deepEqual(await send('results'), { outcome: 'sent' });
    assert.deepEqual(calls.map((c) => [c.url, c.eventId]), [['https://hooks.example.com/prefline?token=s3cret', NOTICE.eventId]]);
  });

  it('should refuse a name the workers do not know, for good, naming the ones they do, and call nothing', async () => {
    for (const name of ['ops', 'toString', '__proto__']) {
      const err = await send(name).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.type, ErrorCode.WebhookRejected);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, new RegExp(`"${name}" is not a receiver in PREFLINE_WEBHOOKS on the workflows workers \\(known: results\\)`));
    }
    assert.equal(calls.length, 0);
  });
});
