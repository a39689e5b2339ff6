/**
 * The port through which the gateway reaches campaigns (workflows/rating-campaign.ts): `next` hands a
 * rater an item. `temporal-campaigns.ts` implements it with the Temporal client; the HTTP layer
 * depends only on this interface.
 */
import type { CampaignStatus, NextItemAnswer, NextItemRequest } from '../workflows/types';
import { PreflineError, type ErrorCode } from './errors';

export interface CampaignDirectory {
  /**
   * An item for the rater; rejects with CampaignRefusedError for no such campaign, and with VoteRejectedError
   * (malformed_vote, wrong_channel, busy) for a malformed request, one through another channel than the
   * campaign's, or a campaign too busy to answer.
   */
  next(campaignId: string, request: NextItemRequest): Promise<NextItemAnswer>;
  /**
   * Running campaigns, newest first, at most `limit` (a Slack `/prefline next` without an id looks for its
   * channel's). Absent where nothing needs it.
   */
  listActive?(limit: number): Promise<CampaignStatus[]>;
}

export type CampaignRefusalCode = (typeof ErrorCode)['UnknownCampaign'];

/** No campaign by that id: the rater can be told so. */
export class CampaignRefusedError extends PreflineError {
  declare readonly code: CampaignRefusalCode;
  constructor(code: CampaignRefusalCode, message: string) {
    super(code, message);
  }
}
