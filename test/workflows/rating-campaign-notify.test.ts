/**
 * A campaign's notifications on the real dev server: a campaign that completes notifies the webhook
 * receiver once per event (its first answer a 500, retried by Temporal), the Slack stand-in once per
 * event (a post Slack stored but answered with a 500 is found, not posted again), and the SMTP sink once
 * per event and recipient; a cancelled campaign says so, and a webhook refused for good never fails it.
 */
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCampaignNotifyActivities, type NotifyActivityDeps } from '../../activities/notify';
import { createEmailNotifier } from '../../channels/email/notifier';
import { createSmtpTransport, type MailTransport } from '../../channels/email/smtp';
import { EmailState } from '../../channels/email/state';
import { NOTICE_METADATA_EVENT_TYPE, createSlackNotifier } from '../../channels/slack/notifier';
import { createWebhookSender } from '../../connectors/webhook';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { CAMPAIGN_WORKFLOW_TYPE, campaignCancelSignal, campaignStatusQuery, itemHandedSignal, statusQuery } from '../../workflows/messages';
import type { CampaignInput, CampaignItem, CampaignNotice, CampaignSummary } from '../../workflows/types';
import { waitUntil } from '../helpers/processes';
import { SmtpSink } from '../helpers/smtp-sink';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { judgement, raterId } from '../helpers/votes';
import { SlackStandIn } from '../standins/slack-server';
import { WebhookReceiver } from '../standins/webhook-receiver';

const SECRET = 'campaign-webhook-secret-0123456789';

/** Every payload of a history (inputs, activity arguments, results) as text. */
function payloadsText(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value !== 'object' || value === null) return '';
  return Object.values(value).map(payloadsText).join('\n');
}
const CHANNEL = 'C0FEEDBK01';
const OWNER = 'owner@example.com';
const item = (n: number): CampaignItem => ({ prompt: `matchup ${n}`, candidates: [{ text: `left ${n}`, model: 'model-a' }, { text: `right ${n}`, model: 'model-b' }] });

describe('ratingCampaign notifications (real dev server)', function () {
  this.timeout(180_000);
  let slack: SlackStandIn;
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let transport: MailTransport;
  let stateDir: string;
  let workers: LifecycleWorkers | undefined;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async () => {
    slack = await SlackStandIn.start();
    sink = await new SmtpSink().start();
    receiver = await WebhookReceiver.start(SECRET);
    transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 0, rateLimit: 0 });
    stateDir = mkdtempSync(join(tmpdir(), 'prefline-notify-'));
  });

  afterEach(async () => {
    workers?.close();
    workers = undefined;
    transport.close();
    await Promise.all([slack.close(), sink.stop(), receiver.close()]);
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function notifiers(webhook: { allowLocal: boolean }): Promise<NotifyActivityDeps> {
    return {
      slack: createSlackNotifier({ token: slack.botToken, apiUrl: slack.apiUrl, paceMs: 0 }),
      email: createEmailNotifier({ transport, from: { name: 'Prefline', address: 'prefline@example.com' }, state: await EmailState.open(stateDir), raterKey: Buffer.from('notify-test-rater-key-0123456789') }),
      webhook: createWebhookSender({ secret: SECRET, allowHttpHosts: ['127.0.0.1'], ...(webhook.allowLocal ? { allowHosts: ['127.0.0.1'] } : {}) }),
      webhookReceivers: { results: receiver.url },
    };
  }

  async function start(title: string, deps: NotifyActivityDeps, input: CampaignInput): Promise<WorkflowHandleWithFirstExecutionRunId> {
    workers = await createLifecycleWorkers(title, { channel: createCampaignNotifyActivities(deps) });
    const { client } = await sharedTemporal();
    return client.workflow.start(CAMPAIGN_WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: `cmp-notify-${randomUUID().slice(0, 8)}`, args: [input] });
  }

  const notices = () => slack.messages(CHANNEL).filter((m) => m.metadata?.event_type === NOTICE_METADATA_EVENT_TYPE);

  it('should notify the webhook, Slack and email once per event when the campaign completes with every item answered', async () => {
    const { client } = await sharedTemporal();
    const directory = new TemporalLifecycleDirectory(client, { busyRetryBudgetMs: 20_000 });
    receiver.script.push(500); // the first delivery fails: Temporal retries the activity
    slack.fail('chat.postMessage', { status: 500, afterEffect: true }); // stored, but the answer says it failed
    const handle = await start('notify-complete', await notifiers({ allowLocal: true }), {
      items: [item(0), item(1)], responses: 1, campaign: 'notify-demo', notify: { slack: '#ox-feedback', email: OWNER, webhook: 'results' },
    });
    await workers!.run(async () => {
      for (const n of [0, 1]) {
        const lifecycleId = `${handle.workflowId}-item-${n}`;
        await waitUntil(async () => ((await client.workflow.getHandle(lifecycleId).query(statusQuery).catch(() => undefined))?.phase === 'voting' ? true : undefined), 60_000, `${lifecycleId} voting`);
        await client.workflow.getHandle(lifecycleId).signal(itemHandedSignal, { rater: raterId(n + 1) }); // as `next` would
        await directory.judge(lifecycleId, judgement('left', n + 1));
      }
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.phase, 'completed');
      assert.equal((await handle.query(campaignStatusQuery)).phase, 'completed');
    });
    const base = `${handle.workflowId}/${handle.firstExecutionRunId}`;
    // Webhook: both events, once each, in order, every request signed; the 500 was retried.
    assert.deepEqual([...receiver.accepted.keys()], [`${base}/quota`, `${base}/completed`]);
    assert.ok(receiver.requests.every((r) => r.signatureValid), 'every delivery verifies');
    assert.deepEqual(receiver.requests.map((r) => r.status), [500, 200, 200]);
    // The receiver is named in the input: its URL (tokens and all) is nowhere in the campaign's history.
    const history = payloadsText(await client.workflow.getHandle(handle.workflowId).fetchHistory());
    assert.match(history, /"webhook":"results"/);
    assert.ok(!history.includes(new URL(receiver.url).host), 'the webhook URL is in the workflow history');
    const completed = receiver.accepted.get(`${base}/completed`) as CampaignNotice;
    assert.deepEqual([completed.event, completed.outcome, completed.label, completed.counts.done, completed.counts.answers], ['completed', 'finished', 'notify-demo', 2, 2]);
    assert.equal(completed.resultsCommand, `prefline campaign results ${handle.workflowId}`);
    // Slack: one message per event, though the first post was answered with a 500 after Slack stored it.
    assert.deepEqual(notices().map((m) => m.metadata?.event_payload.eventId), [`${base}/quota`, `${base}/completed`]);
    assert.match(notices()[1]!.text ?? '', /^Campaign notify-demo \(cmp-notify-[0-9a-f]+\) finished: every item ended$/);
    // The retry read the history and found the stored post: two posts for two events, three history reads.
    assert.equal(slack.callsOf('chat.postMessage').length, 2);
    assert.equal(slack.callsOf('conversations.history').length, 3);
    // Email: one mail per event to the owner.
    assert.deepEqual(sink.to(OWNER).map((m) => m.mail.subject).sort(), [
      `Campaign notify-demo (${handle.workflowId}) finished: every item ended`, `Campaign notify-demo (${handle.workflowId}) reached its quota: every item has its 1 answers`,
    ].sort());
    assert.match(sink.to(OWNER)[0]!.mail.text ?? '', /Results: prefline campaign results cmp-notify-/);
  });

  it('should notify a cancelled campaign as cancelled, without the quota, and finish though its webhook is refused for good', async () => {
    // No PREFLINE_WEBHOOK_ALLOW_HOSTS: the loopback receiver is refused, not retried, and the campaign still completes.
    const handle = await start('notify-cancel', await notifiers({ allowLocal: false }), {
      items: [item(0), item(1), item(2)], responses: 2, maxOpen: 1, notify: { slack: '#ox-feedback', webhook: 'results' },
    });
    await workers!.run(async () => {
      await waitUntil(async () => ((await handle.query(campaignStatusQuery)).counts.open === 1 ? true : undefined), 60_000, 'an item open');
      await handle.signal(campaignCancelSignal, { reason: 'wrong question' });
      const summary = (await handle.result()) as CampaignSummary;
      assert.equal(summary.phase, 'cancelled');
    });
    assert.equal(receiver.requests.length, 0, 'the refused webhook was never called');
    assert.equal(notices().length, 1);
    assert.deepEqual(notices()[0]!.metadata?.event_payload, { eventId: `${handle.workflowId}/${handle.firstExecutionRunId}/completed` });
    assert.match(notices()[0]!.text ?? '', /was cancelled$/);
    assert.match(JSON.stringify(notices()[0]!.blocks), /Cancelled: wrong question/);
  });
});
