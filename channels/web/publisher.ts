/**
 * The web channel's publisher. The web channel needs no remote post: the rating page lists running
 * lifecycles whose `PreflineChannel` is `web` and `PreflineStatus` is `voting` straight from Temporal
 * visibility, so publishing means handing ops the page's link.
 */
import type { ChannelPublisher } from '../types';

export type PublisherLog = (message: string, fields: Record<string, unknown>) => void;

export function createWebPublisher(publicUrl: string, log: PublisherLog = () => {}): ChannelPublisher {
  return {
    async publish(request) {
      const url = `${publicUrl}/#/lifecycles/${encodeURIComponent(request.lifecycleId)}`;
      log('lifecycle open for rating on the web page', { lifecycleId: request.lifecycleId, url });
      return { channel: 'web', url };
    },
    async close(request) {
      // The page reads the outcome from the lifecycle itself; nothing to retract remotely.
      log('lifecycle closed on the web page', { lifecycleId: request.lifecycleId, closeReason: request.closeReason });
    },
  };
}
