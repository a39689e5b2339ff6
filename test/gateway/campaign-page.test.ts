/**
 * The rating page of a campaign (#/campaigns/<id>) in headless Chromium against the real gateway server,
 * an in-memory directory and a scripted campaign directory: it shows the item the server hands out,
 * "Next item" tells the server the rater is done with it and shows the next, and a campaign with nothing
 * for the rater says why.
 */
import assert from 'node:assert/strict';
import type { CampaignDirectory } from '../../core/campaign-directory';
import type { NextItemAnswer, NextItemRequest } from '../../workflows/types';
import { openCampaignPage, type CampaignPage } from '../helpers/campaign-page';
import { FakeDirectory, votingLifecycle } from '../helpers/fake-directory';

/** Hands out `items` in order, each again until the rater says they are done with it. */
class ScriptedCampaign implements CampaignDirectory {
  readonly requests: Array<{ campaignId: string; request: NextItemRequest }> = [];
  private index = 0;
  constructor(private readonly items: string[]) {}
  async next(campaignId: string, request: NextItemRequest): Promise<NextItemAnswer> {
    this.requests.push({ campaignId, request });
    if (request.done !== undefined && request.done === this.items[this.index]) this.index += 1;
    const lifecycleId = this.items[this.index];
    if (lifecycleId === undefined) return { assigned: false, reason: 'finished' };
    return { assigned: true, lifecycleId, item: this.index, reservedUntil: new Date(Date.now() + 600_000).toISOString(), again: this.requests.length > 1 };
  }
}

describe('gateway/rating page of a campaign (headless Chromium)', function () {
  this.timeout(60_000);
  let campaignPage: CampaignPage;
  const directory = new FakeDirectory();
  const campaigns = new ScriptedCampaign(['cmp-item-0', 'cmp-item-1']);

  before(async () => {
    directory.add(votingLifecycle('cmp-item-0', 'first matchup', [{ kind: 'text', text: 'one' }], { campaign: 'spring' }));
    directory.add(votingLifecycle('cmp-item-1', 'second matchup', [{ kind: 'text', text: 'two' }], { campaign: 'spring' }));
    directory.add(votingLifecycle('lc-other', 'not in the campaign', [{ kind: 'text', text: 'x' }]));
    campaignPage = await openCampaignPage('page', directory, campaigns);
  });

  after(async () => {
    await campaignPage?.close();
  });

  it('should show only the item the campaign hands out, then the next one after "Next item", then why there is none', async () => {
    const { page, problems } = campaignPage;
    const card = (id: string) => page.locator(`[data-lifecycle-id="${id}"]`);
    await card('cmp-item-0').waitFor({ timeout: 10_000 });
    assert.equal(await card('lc-other').count(), 0, 'the board of open lifecycles is not shown');
    await card('cmp-item-0').getByRole('button', { name: 'Thumbs up for candidate A', exact: true }).click();
    await page.locator('[data-role="outcome"]', { hasText: /recorded/i }).first().waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Next item' }).click();
    await card('cmp-item-1').waitFor({ timeout: 10_000 });
    assert.equal(await card('cmp-item-0').count(), 0);
    const done = campaigns.requests.filter((r) => r.request.done !== undefined).map((r) => r.request.done);
    assert.deepEqual(done, ['cmp-item-0']);
    assert.ok(campaigns.requests.every((r) => r.campaignId === 'cmp' && /^r_[0-9a-f]+$/.test(r.request.rater)), 'the session\'s pseudonym, never a name');
    await page.getByRole('button', { name: 'Next item' }).click();
    await page.getByText('This campaign is finished. Thank you!').waitFor({ timeout: 10_000 });
    assert.equal(await page.getByRole('button', { name: 'Next item' }).isVisible(), false);
    assert.deepEqual(problems, []);
  });
});
