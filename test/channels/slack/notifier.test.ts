import assert from 'node:assert/strict';
import { NOTICE_METADATA_EVENT_TYPE, createSlackNotifier } from '../../../channels/slack/notifier';
import { SlackRejectedError } from '../../../channels/slack/errors';
import type { CampaignNotice } from '../../../workflows/types';
import { SlackStandIn } from '../../standins/slack-server';

const CHANNEL = 'C0FEEDBK01';

function notice(overrides: Partial<CampaignNotice> = {}): CampaignNotice {
  return {
    eventId: 'cmp-1/run-1/completed', event: 'completed', campaignId: 'cmp-1', label: 'spring <!channel> *bold*', task: 'compare', responses: 3, outcome: 'finished',
    startedAt: '2026-03-01T10:00:00.000Z', deadlineAt: '2026-03-04T10:00:00.000Z', at: '2026-03-02T10:00:00.000Z',
    counts: { items: 4, done: 3, failed: 1, open: 0, pending: 0, answers: 9, reserved: 0, ended: { quorum: 3, failed: 1 } },
    resultsCommand: 'prefline campaign results cmp-1', ...overrides,
  };
}

describe('channels/slack: campaign notices against the Slack stand-in', function () {
  this.timeout(20_000);
  let slack: SlackStandIn;
  const notifier = () => createSlackNotifier({ token: slack.botToken, apiUrl: slack.apiUrl, paceMs: 0 });

  beforeEach(async () => {
    slack = await SlackStandIn.start();
  });
  afterEach(() => slack.close());

  it('should post a notice once per event and channel, also from another worker (found by its metadata)', async () => {
    assert.equal(await notifier().notify('#ox-feedback', notice()), 'sent');
    // Another process: nothing cached, the history says it is there.
    assert.equal(await notifier().notify('#ox-feedback', notice()), 'already');
    assert.equal(await notifier().notify(CHANNEL, notice()), 'already');
    assert.equal(await notifier().notify(CHANNEL, notice({ eventId: 'cmp-1/run-1/quota', event: 'quota' })), 'sent');
    const posted = slack.messages(CHANNEL);
    assert.deepEqual(posted.map((m) => m.metadata), [
      { event_type: NOTICE_METADATA_EVENT_TYPE, event_payload: { eventId: 'cmp-1/run-1/completed' } },
      { event_type: NOTICE_METADATA_EVENT_TYPE, event_payload: { eventId: 'cmp-1/run-1/quota' } },
    ]);
  });

  it('should find a post Slack stored before answering 500, on the retry, instead of posting again', async () => {
    const once = notifier();
    slack.fail('chat.postMessage', { status: 500, afterEffect: true });
    await assert.rejects(once.notify('#ox-feedback', notice()));
    assert.equal(await once.notify('#ox-feedback', notice()), 'already');
    assert.equal(slack.messages(CHANNEL).length, 1);
  });

  it('should escape what the campaign input chose, so a label cannot mention @channel', async () => {
    await notifier().notify('#ox-feedback', notice());
    const text = JSON.stringify(slack.messages(CHANNEL)[0]!.blocks);
    assert.ok(!text.includes('<!channel>'), text);
    assert.match(text, /&lt;!channel&gt;/);
    assert.match(text, /Items: 3 done, 1 failed of 4/);
    assert.match(text, /Results: prefline campaign results cmp-1/);
  });

  it('should refuse a channel the app cannot see, in words', async () => {
    await assert.rejects(notifier().notify('#nowhere', notice()), (err: unknown) => err instanceof SlackRejectedError && /no channel #nowhere/.test(err.message));
  });
});
