/**
 * Channel activities: put a lifecycle in front of raters and close it afterwards. They call each
 * channel's workers' half, its `ChannelPublisher` (channels/types.ts); every publisher must be
 * idempotent per lifecycle id (a retried activity never posts twice).
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCode } from '../core/errors';
import type { ChannelSpec } from '../workflows/types';
import { toActivityFailure } from './failures';
import { countChannelCall, type ChannelAction } from './metrics';
import type { ChannelPublisher } from '../channels/types';
import type { ChannelActivities } from './types';

export type { ChannelPublisher } from '../channels/types';

export function createChannelActivities(publishers: Partial<Record<ChannelSpec['kind'], ChannelPublisher>>): ChannelActivities {
  function publisherFor(kind: ChannelSpec['kind']): ChannelPublisher {
    const publisher = publishers[kind];
    if (!publisher) {
      // Unlike a channel that is down, a channel this worker lacks stays missing on a retry.
      throw ApplicationFailure.create({
        type: ErrorCode.ChannelUnavailable,
        message: `the "${kind}" channel is not configured on this worker`,
        nonRetryable: true,
      });
    }
    return publisher;
  }
  /** Runs one channel call, counted, its errors mapped to activity failures. */
  async function call<T>(kind: ChannelSpec['kind'], action: ChannelAction, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      countChannelCall(kind, action, 'ok');
      return result;
    } catch (err) {
      countChannelCall(kind, action, 'failed');
      throw toActivityFailure(err);
    }
  }
  return {
    async publishLifecycle(request) {
      const publisher = publisherFor(request.plan.channel.kind);
      return call(request.plan.channel.kind, 'publish', () => publisher.publish(request));
    },
    async updatePost(request) {
      const publisher = publisherFor(request.plan.channel.kind);
      const update = publisher.update?.bind(publisher);
      if (!update) return;
      await call(request.plan.channel.kind, 'update', () => update(request));
    },
    async remindRaters(request) {
      const publisher = publisherFor(request.plan.channel.kind);
      const remind = publisher.remind?.bind(publisher);
      if (!remind) return { reminded: 0 };
      return call(request.plan.channel.kind, 'remind', () => remind(request));
    },
    async closePost(request) {
      const publisher = publisherFor(request.plan.channel.kind);
      await call(request.plan.channel.kind, 'close', () => publisher.close(request));
    },
  };
}
