/**
 * Channel activities: put a lifecycle in front of raters and close it afterwards. Each channel is a
 * connector behind `ChannelPublisher`; every publisher must be idempotent per lifecycle id (a
 * retried activity never posts twice).
 *
 * The web channel needs no remote post: the rating page lists running lifecycles whose
 * `PreflineChannel` is `web` and `PreflineStatus` is `voting` straight from Temporal visibility, so
 * publishing means handing ops the page's link.
 */
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ChannelSpec } from '../workflows/types';
import { toActivityFailure } from './failures';
import type { ChannelPublisher } from '../connectors/channels/types';
import type { ChannelActivities } from './types';

export type { ChannelPublisher } from '../connectors/channels/types';

export function createWebPublisher(publicUrl: string): ChannelPublisher {
  return {
    async publish(request) {
      const url = `${publicUrl}/#/lifecycles/${encodeURIComponent(request.lifecycleId)}`;
      log.info('lifecycle open for rating on the web page', { lifecycleId: request.lifecycleId, url });
      return { channel: 'web', url };
    },
    async close(request) {
      // The page reads the outcome from the lifecycle itself; nothing to retract remotely.
      log.info('lifecycle closed on the web page', { lifecycleId: request.lifecycleId, closeReason: request.closeReason });
    },
  };
}

export function createChannelActivities(publishers: Partial<Record<ChannelSpec['kind'], ChannelPublisher>>): ChannelActivities {
  function publisherFor(kind: ChannelSpec['kind']): ChannelPublisher {
    const publisher = publishers[kind];
    if (!publisher) {
      throw ApplicationFailure.create({
        type: 'prefline_channel_unavailable',
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
