/**
 * An email campaign's digest activities (workflows/rating-campaign.ts step 5a), on the base queue beside
 * the channel activities: the list's raters by pseudonym, and each rater's digest mail. Both idempotent:
 * the first is a read, the second sends each (campaign, digest, rater) mail once (channels/email/digest.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { EmailDigests } from '../channels/email/digest';
import { ErrorCode } from '../core/errors';
import { toActivityFailure } from './failures';
import type { CampaignDigestActivities } from './types';

export function createCampaignDigestActivities(deps: { digests?: Pick<EmailDigests, 'raters' | 'send'> }): CampaignDigestActivities {
  async function call<T>(fn: (digests: Pick<EmailDigests, 'raters' | 'send'>) => Promise<T>): Promise<T> {
    // Like a channel this worker lacks: missing on a retry too.
    if (!deps.digests) throw ApplicationFailure.create({ type: ErrorCode.ChannelUnavailable, message: 'the "email" channel is not configured on this worker', nonRetryable: true });
    try {
      return await fn(deps.digests);
    } catch (err) {
      throw toActivityFailure(err);
    }
  }
  return {
    campaignDigestRaters: ({ channel }) => call((d) => d.raters(channel)),
    sendCampaignDigest: (request) => call((d) => d.send(request)),
  };
}
