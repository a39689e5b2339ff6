/**
 * An email campaign on the real dev server: its items are mailed to nobody on their own (delivery
 * "assigned"); when they open, each rater on the list gets ONE digest of their next items, reserved for
 * them, with signed answer links (the first digest attempt fails after sending, as a crashed worker would,
 * and its retry sends nothing twice). A link opened by a mail scanner (HEAD, GET) counts nothing; the
 * confirmation's POST records the answer, and a repeated POST counts it once. The ledger holds it once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createChannelActivities } from '../../activities/channel';
import { createCampaignDigestActivities } from '../../activities/campaign-digest';
import { EmailDigests } from '../../channels/email/digest';
import { EmailUnavailableError } from '../../channels/email/errors';
import { createEmailPublisher, type EmailPublisherOptions } from '../../channels/email/publisher';
import { createEmailRoutes } from '../../channels/email/routes';
import { createSmtpTransport, type MailTransport } from '../../channels/email/smtp';
import { EmailState } from '../../channels/email/state';
import { createWebPublisher } from '../../channels/web/publisher';
import { pseudonymiseRater } from '../../core/pseudonym';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { artifactSourceFor } from '../../gateway/main';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { ArtifactStore } from '../../store/ArtifactStore';
import { CAMPAIGN_WORKFLOW_TYPE, campaignCancelSignal, campaignStatusQuery, statusQuery } from '../../workflows/messages';
import type { CampaignInput, CampaignSummary } from '../../workflows/types';
import { RATER_KEY, TOKEN_KEY } from '../helpers/email';
import { waitUntil } from '../helpers/processes';
import { SmtpSink, type SunkMail } from '../helpers/smtp-sink';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';

const RATERS = ['alice@example.com', 'bob@example.com', 'carol@example.com'] as const;
const isDigest = (m: SunkMail) => m.mail.subject?.includes('to rate:') === true;

/** The items of a digest: each one's prompt and answer links, in the mail's order. */
function digestItems(mail: SunkMail): Array<{ prompt: string; links: Record<string, string> }> {
  return mail.mail.text!.split(/^— Item \d+ —$/m).slice(1).map((block) => ({
    prompt: /^Prompt: (.*)$/m.exec(block)![1]!,
    links: Object.fromEntries([...block.matchAll(/^ {2}(A is better|B is better|Tie|Both bad): (\S+)$/gm)].map((m) => [m[1]!, m[2]!])),
  }));
}

describe('email campaigns: digests with signed answer links (real dev server, SMTP sink)', function () {
  this.timeout(300_000);
  let sink: SmtpSink;
  let transport: MailTransport;
  let workers: LifecycleWorkers;
  let server: Server;
  let dir: string;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  after(async () => {
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    transport?.close();
    await sink?.stop();
    workers?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should mail each rater one digest of their own items, and count an answer by link once, scanners and repeats aside', async () => {
    const { client } = await sharedTemporal();
    sink = await new SmtpSink().start();
    transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 2, rateLimit: 0 });
    dir = mkdtempSync(join(tmpdir(), 'prefline-email-campaign-'));
    const state = await EmailState.open(join(dir, 'email'));
    const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
    server = createGatewayServer({
      directory, artifacts: artifactSourceFor(artifacts), raterKey: RATER_KEY, sessionKey: Buffer.from('session-key-for-email-campaign-01'), sessionTtlMs: 3_600_000,
      channelRoutes: createEmailRoutes({ directory, tokenKey: TOKEN_KEY, state }), log: () => undefined,
    });
    const { url } = await listen(server, '127.0.0.1', 0);
    const options: EmailPublisherOptions = {
      transport, from: { name: 'Prefline', address: 'ratings@prefline.test' }, publicUrl: url, raterKey: RATER_KEY, tokenKey: TOKEN_KEY, state,
      artifacts, lists: { raters: [...RATERS] },
    };
    const publisher = createEmailPublisher(options);
    const digests = createCampaignDigestActivities({ digests: new EmailDigests(options, publisher) });
    let digestAttempts = 0;
    workers = await createLifecycleWorkers('email-campaign', {
      channel: {
        ...createChannelActivities({ web: createWebPublisher('http://rating.test'), email: publisher }),
        campaignDigestRaters: digests.campaignDigestRaters,
        async sendCampaignDigest(request) {
          const result = await digests.sendCampaignDigest(request);
          // The worker dies right after the digests went out, before Temporal hears of it: the retry must send none again.
          if (++digestAttempts === 1) throw new EmailUnavailableError('simulated crash after sending');
          return result;
        },
      },
    });

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
