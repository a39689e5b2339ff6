/**
 * Gold items in an email campaign on the real dev server (SMTP sink, the gateway's email routes): each
 * rater's digest mixes a gold item in (goldRateNew 1: the first hand-out) that looks like any item in the
 * mail (same block, same answer links, an item id like a data item's, no counts). Its link's GET records
 * nothing; the POST of a wrong answer records it and the page explains why it is wrong; a right one says
 * so; the first answer is final (another link on the item is refused with its own page); the campaign
 * scores the rater.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { verifyJudgementLink } from '../../channels/email/tokens';
import { pseudonymiseRater } from '../../core/pseudonym';
import { CAMPAIGN_WORKFLOW_TYPE, campaignCancelSignal, campaignRatersQuery, statusQuery } from '../../workflows/messages';
import type { CampaignInput } from '../../workflows/types';
import { RATER_KEY, TOKEN_KEY } from '../helpers/email';
import { waitUntil } from '../helpers/processes';
import { digestItems, isDigest, startEmailCampaignStack, type EmailCampaignStack } from '../helpers/email-campaign';
import { sharedTemporal, workflowBundle } from '../helpers/temporal';

const RATERS = ['alice@example.com', 'bob@example.com'] as const;
const EXPLANATION = 'The first answer names the capital; the second names a port.';


describe('email campaigns with gold items: digests mix them in, the POST page explains a wrong answer (real dev server, SMTP sink)', function () {
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

  it('should mail a gold item like a data item, record a wrong answer by its POST link, explain it, and score the rater', async () => {
    const { client } = await sharedTemporal();
    stack = await startEmailCampaignStack('email-gold', RATERS);
    const { sink, workers } = stack;

    const input: CampaignInput = {
      items: Array.from({ length: 2 }, (_, n) => ({ prompt: `matchup ${n}`, candidates: [{ text: `left ${n}`, model: 'model-a' }, { text: `right ${n}`, model: 'model-b' }] })),
      gold: [{ prompt: 'the capital of France', candidates: [{ text: 'Paris', model: 'model-a' }, { text: 'Marseille', model: 'model-b' }], answer: 'first', explanation: EXPLANATION }],
      goldRateNew: 1, task: 'compare', responses: 2, channel: 'email:@raters', campaign: 'mail-checks', digestSize: 2, digestEvery: '1h',
    };
    const campaignId = `cmp-email-gold-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: campaignId, args: [input] });
    const goldId = `${campaignId}-item-2`;

    await workers.run(async () => {
      await sink.waitFor(() => sink.mails.filter(isDigest).length >= 2, 90_000, 'two digests');
      const [alice, bob] = RATERS.map((r) => {
        assert.equal(sink.to(r).length, 1, r);
        return digestItems(sink.to(r)[0]!);
      }) as [ReturnType<typeof digestItems>, ReturnType<typeof digestItems>];
      for (const items of [alice, bob]) {
        assert.equal(items.length, 2);
        // The first hand-out of a new rater is gold (goldRateNew 1), the second a data item: same block, same links.
        const [gold, data] = items as [(typeof items)[0], (typeof items)[0]];
        assert.equal(gold.prompt, 'the capital of France');
        assert.match(data.prompt, /^matchup \d$/);
        assert.deepEqual(Object.keys(gold.links), Object.keys(data.links));
        assert.equal(gold.block.split('\n').length, data.block.split('\n').length, 'the same layout');
        const claims = verifyJudgementLink(TOKEN_KEY, gold.links['Tie']!.split('/email/j/')[1]!, Date.now());
        assert.ok(claims.ok && claims.claims.lifecycleId === goldId, 'an item id like a data item\'s');
      }
      for (const mail of RATERS.map((r) => sink.to(r)[0]!)) {
        const words = mail.mail.text!.replace(/https?:\/\/\S+/g, '');
        assert.ok(!/gold|expected|explanation|answers so far/i.test(words), 'nothing in the mail gives the gold item away');
        assert.ok(!words.includes(EXPLANATION) && !String(mail.mail.html).includes(EXPLANATION));
      }

      // Alice answers the gold item wrong: "tie", where the first (Paris) is right. Her scanner's GET records nothing.
      const wrong = alice[0]!.links['Tie']!;
      const confirm = await (await fetch(wrong)).text();
      assert.match(confirm, /Confirm your answer/);
      assert.ok(!confirm.includes(EXPLANATION) && !/expected/i.test(confirm), 'the page before the answer is that of any item');
      assert.equal((await client.workflow.getHandle(goldId).query(statusQuery)).votesAccepted, 0);
      const posted = await fetch(wrong, { method: 'POST' });
      assert.equal(posted.status, 200);
      const page = await posted.text();
      assert.match(page, /Answer recorded/);
      assert.match(page, /Not the expected answer\./);
      assert.ok(page.includes(EXPLANATION), page);
      // The first answer is final: another of her links on it is refused, with its page; the same link again is the same answer.
      const other = await fetch(alice[0]!.links['A is better']!, { method: 'POST' });
      assert.equal(other.status, 409);
      assert.match(await other.text(), /keeps your first answer/);
      assert.match(await (await fetch(wrong, { method: 'POST' })).text(), /Already recorded/);
      assert.equal((await client.workflow.getHandle(goldId).query(statusQuery)).votesAccepted, 1);

      // Bob answers it right: the side showing Paris, in his order.
      const paris = /^(A|B)\r?\n {2}Paris\r?$/m.exec(bob[0]!.block)![1]!;
      const right = await (await fetch(bob[0]!.links[`${paris} is better`]!, { method: 'POST' })).text();
      assert.match(right, /That is the expected answer\./);
      assert.ok(!right.includes(EXPLANATION));

      // The campaign scores both: Alice 0 of 1, Bob 1 of 1 (the prior: mean 0.75, strength 2).
      const [aliceId, bobId] = RATERS.map((r) => pseudonymiseRater(RATER_KEY, 'email', r));
      const raters = await waitUntil(async () => {
        const records = await handle.query(campaignRatersQuery);
        return records.filter((r) => r.goldAnswered > 0).length === 2 ? records : undefined;
      }, 30_000, 'the campaign scoring both raters');
      const aliceRecord = raters.find((r) => r.rater === aliceId)!;
      const bobRecord = raters.find((r) => r.rater === bobId)!;
      assert.deepEqual([aliceRecord.goldAnswered, aliceRecord.goldCorrect, aliceRecord.score], [1, 0, 1.5 / 3]);
      assert.deepEqual([bobRecord.goldAnswered, bobRecord.goldCorrect, bobRecord.score], [1, 1, 2.5 / 3]);

      await handle.signal(campaignCancelSignal, { reason: 'test over' });
      await handle.result();
    });

    // The ledger holds the two gold answers, each once, on the gold lifecycle (no data item was answered).
    const { rows } = await workers.ledger.query(`SELECT lifecycle_id, rater, choice FROM judgements WHERE lifecycle_id LIKE $1 ORDER BY seq`, [`${campaignId}-item-%`]);
    const [aliceId, bobId] = RATERS.map((r) => pseudonymiseRater(RATER_KEY, 'email', r));
    assert.deepEqual(rows.map((r) => [r.lifecycle_id, r.rater]), [[goldId, aliceId], [goldId, bobId]]);
  });
});
