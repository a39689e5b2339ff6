/**
 * Channel activities: put a lifecycle in front of raters and close it afterwards. They call each
 * channel's workers' half, its `ChannelPublisher` (channels/types.ts); every publisher must be
 * idempotent per lifecycle id (a retried activity never posts twice).
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCode } from '../core/errors';
import type { ChannelSpec } from '../workflows/types';
import { toActivityFailure } from './failures';
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
  return {
    async publishLifecycle(request) {
      const publisher = publisherFor(request.plan.channel.kind);
      try {
        return await publisher.publish(request);
      } catch (err) {
        throw toActivityFailure(err);
      }
    },
    async updatePost(request) {
      const publisher = publisherFor(request.plan.channel.kind);
      if (!publisher.update) return;
      try {
        await publisher.update(request);
      } catch (err) {
        throw toActivityFailure(err);
      }
    },
    async remindRaters(request) {
      const publisher = publisherFor(request.plan.channel.kind);
      if (!publisher.remind) return { reminded: 0 };
      try {
        return await publisher.remind(request);
      } catch (err) {
        throw toActivityFailure(err);
      }
    },
    async closePost(request) {
      const publisher = publisherFor(request.plan.channel.kind);
      try {
        await publisher.close(request);
      } catch (err) {
        throw toActivityFailure(err);
      }
    },
  };
}
