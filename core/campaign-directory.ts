/**
 * The port through which the gateway reaches campaigns (workflows/rating-campaign.ts): `next` hands a
 * rater an item. `temporal-campaigns.ts` implements it with the Temporal client; the HTTP layer
 * depends only on this interface.
 */
import type { NextItemAnswer, NextItemRequest } from '../workflows/types';
import { PreflineError, type ErrorCode } from './errors';

export interface CampaignDirectory {
  /** An item for the rater; rejects with CampaignRefusedError for no such campaign or a refused request. */
  next(campaignId: string, request: NextItemRequest): Promise<NextItemAnswer>;
}

export type CampaignRefusalCode = (typeof ErrorCode)['UnknownCampaign' | 'MalformedVote' | 'Busy'];

/** The campaign (or Temporal) refused the request for a reason the rater can be told. */
export class CampaignRefusedError extends PreflineError {
  declare readonly code: CampaignRefusalCode;
  constructor(code: CampaignRefusalCode, message: string) {
    super(code, message);
  }
}
