/**
 * An email campaign on the real dev server: its items are mailed to nobody on their own (delivery
 * "assigned"); when they open, each rater on the list gets ONE digest of their next items, reserved for
 * them, with signed answer links (the first digest attempt fails after sending, as a crashed worker would,
 * and its retry sends nothing twice). A link opened by a mail scanner (HEAD, GET) counts nothing; the
 * confirmation's POST records the answer, and a repeated POST counts it once. The ledger holds it once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { EmailUnavailableError } from '../../channels/email/errors';
import { pseudonymiseRater } from '../../core/pseudonym';
import { CAMPAIGN_WORKFLOW_TYPE, campaignCancelSignal, campaignStatusQuery, statusQuery } from '../../workflows/messages';
import type { CampaignInput, CampaignSummary } from '../../workflows/types';
import { RATER_KEY } from '../helpers/email';
import { waitUntil } from '../helpers/processes';
import { digestItems, isDigest, startEmailCampaignStack, type EmailCampaignStack } from '../helpers/email-campaign';
import { sharedTemporal, workflowBundle } from '../helpers/temporal';

const RATERS = ['alice@example.com', 'bob@example.com', 'carol@example.com'] as const;


describe('email campaigns: digests with signed answer links (real dev server, SMTP sink)', function () {
  this.timeout(300_000);
  let stack: EmailCampaignStack | undefined;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  after(async () => {
    await stack?.close();
  });

  it('should mail each rater one digest of their own items, and count an answer by link once, scanners and repeats aside', async () => {
    const { client } = await sharedTemporal();
    let digestAttempts = 0;
    stack = await startEmailCampaignStack('email-campaign', RATERS, ({ channel, digests }) => ({
      ...channel,
      async sendCampaignDigest(request) {
        const result = await digests.sendCampaignDigest(request);
        // The worker dies right after the digests went out, before Temporal hears of it: the retry must send none again.
        if (++digestAttempts === 1) throw new EmailUnavailableError('simulated crash after sending');
        return result;
      },
    }));
    const { sink, workers } = stack;

    const input: CampaignInput = {
      items: Array.from({ length: 3 }, (_, n) => ({ prompt: `matchup ${n}`, candidates: [{ text: `left ${n}`, model: 'model-a' }, { text: `right ${n}`, model: 'model-b' }] })),
      task: 'compare', responses: 2, channel: 'email:@raters', campaign: 'mail-matchups', digestSize: 2, digestEvery: '1h', emailReservation: '24h',
    };
    const campaignId = `cmp-email-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: campaignId, args: [input] });

    await workers.run(async () => {
      await sink.waitFor(() => sink.mails.filter(isDigest).length >= 3, 90_000, 'three digests');
      await waitUntil(async () => (digestAttempts >= 2 ? true : undefined), 60_000, 'the digest retry');
      // No item was mailed on its own: the digests are all there is, one per rater despite the retry.
      assert.equal(sink.mails.length, 3, sink.mails.map((m) => m.mail.subject).join(' | '));
      for (const rater of RATERS) assert.equal(sink.to(rater).length, 1, rater);

      // Six places (3 items × 2 answers) for three raters × 2 items: every item is in exactly two digests, never twice in one.
      const byRater = new Map(RATERS.map((r) => [r, digestItems(sink.to(r)[0]!)]));
      const counts = new Map<string, number>();
      for (const [rater, items] of byRater) {
        assert.equal(items.length, 2, rater);
        assert.equal(new Set(items.map((i) => i.prompt)).size, 2, `${rater} got an item twice`);
        for (const i of items) counts.set(i.prompt, (counts.get(i.prompt) ?? 0) + 1);
        for (const i of items) assert.deepEqual(Object.keys(i.links), ['A is better', 'B is better', 'Tie', 'Both bad']);
      }
      assert.deepEqual([...counts.values()], [2, 2, 2]);
      const status = await handle.query(campaignStatusQuery);
      assert.equal(status.counts.reserved, 6);

      // Alice's first item: her mail scanner opens the link (HEAD, GET) first, which counts nothing.
      const [first] = byRater.get(RATERS[0])!;
      const link = first!.links['A is better']!;
      const lifecycleId = `${campaignId}-item-${first!.prompt.split(' ')[1]}`;
      assert.equal((await fetch(link, { method: 'HEAD' })).status, 200);
      const confirm = await (await fetch(link)).text();
      assert.match(confirm, /Confirm your answer/);
      assert.match(confirm, new RegExp(first!.prompt));
      assert.equal((await client.workflow.getHandle(lifecycleId).query(statusQuery)).votesAccepted, 0);
      // Her press records it; pressing again (a retried POST) counts it once.
      assert.equal((await fetch(link, { method: 'POST' })).status, 200);
      assert.match(await (await fetch(link, { method: 'POST' })).text(), /Already recorded/);
      const after = await client.workflow.getHandle(lifecycleId).query(statusQuery);
      assert.equal(after.votesAccepted, 1);
      assert.equal(after.judgements?.standing, 1);
      await waitUntil(async () => ((await handle.query(campaignStatusQuery)).counts.answers === 1 ? true : undefined), 30_000, 'the campaign counting the answer');

      await handle.signal(campaignCancelSignal, { reason: 'test over' });
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.counts.answers, 1);
    });

    const { rows } = await workers.ledger.query(`SELECT lifecycle_id, rater, channel FROM judgements WHERE lifecycle_id LIKE $1`, [`${campaignId}-item-%`]);
    assert.deepEqual(rows.map((r) => [r.rater, r.channel]), [[pseudonymiseRater(RATER_KEY, 'email', RATERS[0]), 'email']]);
  });
});
