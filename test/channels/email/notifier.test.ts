import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmailNotifier } from '../../../channels/email/notifier';
import { createSmtpTransport, type MailTransport } from '../../../channels/email/smtp';
import { EmailState } from '../../../channels/email/state';
import { ChannelRejectedError, ConfigMissingError } from '../../../core/errors';
import type { CampaignNotice } from '../../../workflows/types';
import { SmtpSink } from '../../helpers/smtp-sink';

const KEY = Buffer.from('notify-test-rater-key-0123456789');
const NOTICE: CampaignNotice = {
  eventId: 'cmp-1/run-1/quota', event: 'quota', campaignId: 'cmp-1', label: 'cmp-1', task: 'thumbs', responses: 5,
  startedAt: '2026-03-01T10:00:00.000Z', deadlineAt: '2026-03-04T10:00:00.000Z', at: '2026-03-02T10:00:00.000Z',
  counts: { items: 2, done: 2, failed: 0, open: 0, pending: 0, answers: 10, reserved: 0, ended: { quorum: 2 } },
  resultsCommand: 'prefline campaign results cmp-1',
};

describe('channels/email: campaign notices through the SMTP sink', function () {
  this.timeout(20_000);
  let sink: SmtpSink;
  let transport: MailTransport;
  let dir: string;

  beforeEach(async () => {
    sink = await new SmtpSink().start();
    transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 0, rateLimit: 0 });
    dir = mkdtempSync(join(tmpdir(), 'prefline-notice-mail-'));
  });
  afterEach(async () => {
    transport.close();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const notifier = async (lists?: Record<string, string[]>) =>
    createEmailNotifier({ transport, from: { address: 'prefline@example.com' }, state: await EmailState.open(dir), raterKey: KEY, ...(lists ? { lists } : {}) });

  it('should mail each recipient once per event, also when retried by another worker over the same state', async () => {
    assert.equal(await (await notifier()).notify({ recipients: ['a@example.com', 'B@example.com'] }, NOTICE), 'sent');
    assert.equal(await (await notifier()).notify({ recipients: ['a@example.com', 'b@example.com'] }, NOTICE), 'already');
    assert.deepEqual(sink.mails.map((m) => m.envelope.to).sort(), [['a@example.com'], ['b@example.com']]);
    const [mail] = sink.to('a@example.com');
    assert.equal(mail!.mail.subject, 'Campaign cmp-1 reached its quota: every item has its 5 answers');
    assert.equal(mail!.mail.headers.get('auto-submitted'), 'auto-generated');
    assert.match(mail!.mail.text ?? '', /Answers: 10 \(thumbs, 5 per item\)/);
    // Another event is another mail.
    await (await notifier()).notify({ recipients: ['a@example.com'] }, { ...NOTICE, eventId: 'cmp-1/run-1/completed', event: 'completed', outcome: 'finished' });
    assert.equal(sink.to('a@example.com').length, 2);
  });

  it('should mail a configured list, and refuse an unknown list or a recipient refused for good, in words', async () => {
    await (await notifier({ owners: ['o1@example.com', 'o2@example.com'] })).notify({ recipients: [], list: 'owners' }, NOTICE);
    assert.equal(sink.mails.length, 2);
    await assert.rejects((await notifier()).notify({ recipients: [], list: 'owners' }, NOTICE), (err: unknown) => err instanceof ConfigMissingError && /"@owners" is not configured/.test(err.message));
    sink.refuse.add('gone@example.com');
    await assert.rejects((await notifier()).notify({ recipients: ['gone@example.com'] }, { ...NOTICE, eventId: 'cmp-2/run/quota' }), (err: unknown) => err instanceof ChannelRejectedError);
  });
});
