/**
 * Campaign activities: pages of a stored item list (on `<queue>-inference`, whose workers share the
 * artifact store the CLI put the list in) and the campaign's ledger commits (on `<queue>-ledger`, the one
 * DuckDB writer). Both idempotent: a page is a pure read, a commit skips what the ledger holds.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { ErrorCode } from '../core/errors';
import type { ArtifactStore } from '../store/ArtifactStore';
import type { Ledger } from '../store/Ledger';
import { commitCampaign } from '../store/campaign-ledger';
import type { CampaignItem } from '../workflows/types';
import type { CampaignItemActivities, CampaignLedgerActivities } from './types';

/** Parsed lists kept per process: a campaign reads its list page by page, the file once. */
const LIST_CACHE_SIZE = 4;

export function createCampaignItemActivities(deps: { artifacts: ArtifactStore }): CampaignItemActivities {
  const cache = new Map<string, CampaignItem[]>();
  async function list(itemsRef: string): Promise<CampaignItem[]> {
    const cached = cache.get(itemsRef);
    if (cached) return cached;
    const sha256 = itemsRef.replace(/^sha256:/, '');
    const { bytes } = await deps.artifacts.read(sha256); // verified: an altered list is refused, not rated
    let items: unknown;
    try {
      items = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`the item list ${itemsRef} is not JSON: ${(err as Error).message}`, ErrorCode.CampaignInputInvalid);
    }
    if (!Array.isArray(items)) throw ApplicationFailure.nonRetryable(`the item list ${itemsRef} is not a JSON array`, ErrorCode.CampaignInputInvalid);
    if (cache.size >= LIST_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(itemsRef, items as CampaignItem[]);
    return items as CampaignItem[];
  }
  return {
    async readCampaignItems({ itemsRef, offset, limit }) {
      return (await list(itemsRef)).slice(offset, offset + limit);
    },
  };
}

export function createCampaignLedgerActivities(deps: { ledger: Ledger }): CampaignLedgerActivities {
  return {
    commitCampaign: (request) => deps.ledger.withConnection((c) => commitCampaign(c, request)),
  };
}
