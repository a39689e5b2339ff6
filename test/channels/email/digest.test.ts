/**
 * Email campaign digests (channels/email/digest.ts) against a real SMTP server: `send` tells the campaign
 * exactly which raters have their digest, with the items it shows, so the campaign releases the rest of
 * its reservations (a rater whose items have no email record, a refused address, a rater off the list).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmailDigests } from '../../../channels/email/digest';
import { createEmailPublisher, type EmailPublisherOptions } from '../../../channels/email/publisher';
import { createSmtpTransport, type MailTransport } from '../../../channels/email/smtp';
import { EmailState } from '../../../channels/email/state';
import { pseudonymiseRater } from '../../../core/pseudonym';
import { ArtifactStore } from '../../../store/ArtifactStore';
import { RATER_KEY, TOKEN_KEY, emailCandidates, emailPlan } from '../../helpers/email';
import { SmtpSink } from '../../helpers/smtp-sink';

const RATERS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'] as const;
const rater = (address: string) => pseudonymiseRater(RATER_KEY, 'email', address);

describe('channels/email/digest: which raters a digest reached', function () {
  this.timeout(60_000);
  let dir: string;
  let sink: SmtpSink;
  let transport: MailTransport;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'prefline-email-digest-'));
    sink = await new SmtpSink().start();
    transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 2, rateLimit: 0 });
  });

  after(async () => {
    transport.close();
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should report only the raters mailed, each with the items their mail shows, across a retry too', async () => {
    const state = await EmailState.open(join(dir, 'email'));
    const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
    const options: EmailPublisherOptions = {
      transport, from: { name: 'Prefline', address: 'ratings@prefline.test' }, publicUrl: 'http://gateway.test', raterKey: RATER_KEY, tokenKey: TOKEN_KEY, state,
      artifacts, lists: { raters: [...RATERS] },
    };
    const publisher = createEmailPublisher(options);
    const published = 'cmp-digest-item-0';
    const candidates = (await emailCandidates(artifacts)).map((c) => ({ ...c, kind: 'text' as const, text: `text of ${c.id}` }));
    await publisher.publish({
      lifecycleId: published, candidates, deadlineAt: new Date(Date.now() + 3_600_000).toISOString(),
      plan: { ...emailPlan({ kind: 'email', recipients: [], list: 'raters' }), task: 'compare', question: 'Which is better?', delivery: 'assigned' },
    });
    assert.equal(sink.mails.length, 0, 'an assigned item is mailed to nobody itself');
    sink.refuse.add(RATERS[3]);
    const request = {
      campaignId: 'cmp-digest', label: 'digests', digest: 1, channel: 'email:@raters', reservedUntil: new Date(Date.now() + 86_400_000).toISOString(),
      assignments: [
        { rater: rater(RATERS[0]), lifecycleIds: [published] },
        // An item whose lifecycle left no email record (not published yet): not in the mail, not delivered.
        { rater: rater(RATERS[1]), lifecycleIds: [published, 'cmp-digest-item-1'] },
        { rater: rater(RATERS[2]), lifecycleIds: ['cmp-digest-item-1'] },
        { rater: rater(RATERS[3]), lifecycleIds: [published] },
        { rater: rater('mallory@example.com'), lifecycleIds: [published] },
      ],
    };
    const digests = new EmailDigests(options, publisher);
    const expected = [{ rater: rater(RATERS[0]), lifecycleIds: [published] }, { rater: rater(RATERS[1]), lifecycleIds: [published] }];
    const sent = await digests.send(request);
    assert.deepEqual(sent.delivered, expected, 'carol has nothing to read, dave\'s address is refused, mallory is not on the list');
    assert.deepEqual(sink.mails.flatMap((m) => m.envelope.to).sort(), [RATERS[0], RATERS[1]]);
    // A retry (the worker died before Temporal heard) mails nobody again and reports the same.
    assert.deepEqual((await digests.send(request)).delivered, expected);
    assert.equal(sink.mails.length, 2);
  });
});
