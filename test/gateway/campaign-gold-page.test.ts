/**
 * A campaign's gold item on the rating page (#/campaigns/<id>) in headless Chromium against the real
 * gateway server: the card looks like any item's (no counts, nothing saying "gold"), the judgement
 * route passes the gold verdict through, a wrong answer shows the explanation under the answer, and a
 * rater the campaign excluded is told so. The directory is in memory, its receipts carry the verdict as
 * the gold lifecycle's do (workflows/gold.ts); the workflow's side is on the dev server in
 * test/workflows/rating-campaign-gold.test.ts.
 */
import assert from 'node:assert/strict';
import type { CampaignDirectory } from '../../core/campaign-directory';
import { judgementVerdict } from '../../workflows/gold';
import type { GoldCheck, JudgementReceipt, JudgementRequest, NextItemAnswer, NextItemRequest } from '../../workflows/types';
import { openCampaignPage, type CampaignPage } from '../helpers/campaign-page';
import { FakeDirectory, votingLifecycle } from '../helpers/fake-directory';
import { judgement } from '../helpers/votes';

const GOLD: GoldCheck = { answer: 'first', explanation: 'The first one shows five fingers; the second shows six.' };

/** Receipts of the gold lifecycle carry its verdict, as the workflow's do. */
class GoldDirectory extends FakeDirectory {
  override async judge(lifecycleId: string, request: JudgementRequest): Promise<JudgementReceipt> {
    const receipt = await super.judge(lifecycleId, request);
    return lifecycleId === 'cmp-gold-0' ? { ...receipt, gold: judgementVerdict(GOLD, request, [{ id: 'c1' }, { id: 'c2' }]) } : receipt;
  }
}

/** The gold item, then (after "Next item") the rater is excluded. */
class GoldCampaign implements CampaignDirectory {
  async next(_campaignId: string, request: NextItemRequest): Promise<NextItemAnswer> {
    if (request.done === 'cmp-gold-0') return { assigned: false, reason: 'excluded', message: 'you receive no more items of this campaign: gold accuracy 0 of 4' };
    return { assigned: true, lifecycleId: 'cmp-gold-0', item: 12, reservedUntil: new Date(Date.now() + 600_000).toISOString(), again: false };
  }
}

describe('gateway/rating page: a campaign\'s gold item (headless Chromium)', function () {
  this.timeout(60_000);
  let campaignPage: CampaignPage;
  const directory = new GoldDirectory();

  before(async () => {
    directory.add(votingLifecycle('cmp-gold-0', 'a hand, photorealistic', [{ kind: 'text', text: 'five fingers' }, { kind: 'text', text: 'six fingers' }], {
      task: 'compare', campaign: 'spring', quorum: { kind: 'responses', responses: 5 }, gold: true,
    }));
    // Other raters answered it already: more than a data item could have would give it away.
    for (const n of [11, 12, 13, 14, 15, 16]) await directory.judge('cmp-gold-0', judgement('left', n));
    campaignPage = await openCampaignPage('gold', directory, new GoldCampaign());
  });

  after(async () => {
    await campaignPage?.close();
  });

  it('should show the gold item like any item, then the explanation after a wrong answer, then that the rater is excluded', async () => {
    const { page, problems } = campaignPage;
    const card = page.locator('[data-lifecycle-id="cmp-gold-0"]');
    await card.waitFor({ timeout: 10_000 });
    const shown = (await card.innerText()).toLowerCase();
    assert.ok(!shown.includes('gold') && !shown.includes('expected'), shown);
    assert.match(shown, /answers: 0 of 5/, 'no count: six raters answered it');
    assert.equal(await card.locator('[data-role="verdict"]').isVisible(), false);

    // The wrong answer: the side showing the second candidate.
    const leftId = await card.locator('figure.side[data-side="left"]').getAttribute('data-candidate-id');
    await card.getByRole('button', { name: leftId === 'c2' ? 'Left is better' : 'Right is better', exact: true }).click();
    const verdict = card.locator('[data-role="verdict"]');
    await verdict.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await verdict.innerText(), `Not the expected answer. ${GOLD.explanation}`);
    assert.equal(directory.judged.at(-1)?.lifecycleId, 'cmp-gold-0');

    await page.getByRole('button', { name: 'Next item' }).click();
    await page.getByText(/This campaign hands you no more items/).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByRole('button', { name: 'Next item' }).isVisible(), false);
    assert.deepEqual(problems, []);
  });
});
