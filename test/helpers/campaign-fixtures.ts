/**
 * Fixtures the campaign and lifecycle state tests share (outside Temporal): a stored text candidate as
 * generation leaves one, and a campaign with its gold and data items started and published.
 */
import { goldLifecycleId } from '../../workflows/campaign-gold';
import type { RatingCampaign } from '../../workflows/campaign-state';
import type { Candidate } from '../../workflows/types';

/** Candidate `id` (c1 is A, c2 is B): text, its artifact stored, imported with no inference. */
export function candidate(id: string): Candidate {
  return {
    id, label: id === 'c1' ? 'A' : 'B', model: `m-${id}`, kind: 'text', placeholder: false, text: id,
    artifact: { sha256: id.repeat(32).slice(0, 64), mime: 'text/plain', size: 2, path: `sha256/${id}.txt` },
    provenance: { backend: 'import', model: id, params: {}, seed: 0, wallTimeMs: 0 },
  };
}

/** Starts the campaign's `gold` gold lifecycles and its first `items` data items, each reported open, as the workflow would. */
export function openAll(campaign: RatingCampaign, items: number, gold = 0): RatingCampaign {
  for (let i = 0; i < gold; i++) {
    campaign.quality.goldStarted(i, goldLifecycleId(campaign.campaignId, items, i));
    campaign.report({ lifecycleId: goldLifecycleId(campaign.campaignId, items, i), kind: 'opened' });
  }
  for (let i = 0; i < items; i++) {
    const taken = campaign.takeItem();
    campaign.started(taken.index, taken.lifecycleId);
    campaign.report({ lifecycleId: taken.lifecycleId, kind: 'opened' });
  }
  return campaign;
}
