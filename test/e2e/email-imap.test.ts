/**
 * Replies by IMAP end to end on the dev server: a lifecycle mails a rater, her reply lands in a Dovecot
 * mailbox (twice, as a duplicate delivery would), the gateway's poller reads it and the votes end as
 * committed ledger rows, counted once.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createChannelActivities } from '../../activities/channel';
import type { ChannelActivities } from '../../activities/types';
import { createEmailPublisher } from '../../channels/email/publisher';
import { createSmtpTransport, type MailTransport } from '../../channels/email/smtp';
import { EmailState } from '../../channels/email/state';
import { startImapPoller, type RunningImapPoller } from '../../channels/email/imap';
import { createReplyHandler } from '../../channels/email/replies';
import { pseudonymiseRater } from '../../core/pseudonym';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { WORKFLOW_TYPE } from '../../workflows/messages';
import type { LifecycleSummary } from '../../workflows/types';
import { Dovecot, IMAP_PASSWORD, IMAP_USER, replyMail } from '../helpers/dovecot';
import { RATER_KEY, TOKEN_KEY } from '../helpers/email';
import { waitUntil } from '../helpers/processes';
import { SmtpSink } from '../helpers/smtp-sink';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';

const DOMAIN = 'in.prefline.test';
const ALICE = 'alice@example.com';

describe('email replies by IMAP, end to end on the dev server', function () {
  this.timeout(180_000);
  let sink: SmtpSink | undefined;
  let transport: MailTransport | undefined;
  let workers: LifecycleWorkers | undefined;
  let dovecot: Dovecot | undefined;
  let poller: RunningImapPoller | undefined;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  after(async () => {
    await poller?.close();
    transport?.close();
    await sink?.stop();
    await dovecot?.destroy();
    workers?.close();
  });

  it('should turn a reply found in the mailbox into committed ledger rows, once', async () => {
    const { client } = await sharedTemporal();
    sink = await new SmtpSink().start();
    dovecot = await Dovecot.start();
    const smtp = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 1, rateLimit: 0 });
    transport = smtp;
    const ref: { artifacts?: LifecycleWorkers['artifacts']; state?: EmailState } = {};
    const publisher = () =>
      createEmailPublisher({
        transport: smtp, from: { name: 'Prefline', address: 'ratings@prefline.test' }, publicUrl: 'http://gateway.test', inboundDomain: DOMAIN,
        raterKey: RATER_KEY, tokenKey: TOKEN_KEY, state: ref.state!, artifacts: { read: (sha) => ref.artifacts!.read(sha) }, closingNote: false,
      });
    const channel: ChannelActivities = {
      publishLifecycle: async (r) => createChannelActivities({ email: publisher() }).publishLifecycle(r),
      updatePost: async (r) => createChannelActivities({ email: publisher() }).updatePost(r),
      remindRaters: async (r) => createChannelActivities({ email: publisher() }).remindRaters(r),
      closePost: async (r) => createChannelActivities({ email: publisher() }).closePost(r),
    };
    workers = await createLifecycleWorkers('email-imap-e2e', { channel });
    ref.artifacts = workers.artifacts;
    ref.state = await EmailState.open(join(workers.dir, 'email'));
    poller = startImapPoller({
      replies: createReplyHandler({ directory: new TemporalLifecycleDirectory(client), state: ref.state, tokenKey: TOKEN_KEY, domain: DOMAIN }),
      server: { host: '127.0.0.1', port: dovecot.port, security: 'none', user: IMAP_USER, password: IMAP_PASSWORD },
      mailbox: 'INBOX',
      processedMailbox: 'Done',
      pollMs: 1000, // a reply that arrives before voting opens is deferred and retried at this pace
      maxBytes: 1 << 20,
    });
    const box = dovecot;

    await workers.run(async () => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: workers!.taskQueue,
        workflowId: `lc-email-imap-e2e-${randomUUID()}`,
        args: [{ prompt: 'a red fox in the snow', model: 'demo:shapes', candidates: 2, channel: `email:${ALICE}`, totalVotes: 2, deadline: '3m' }],
      });
      await sink!.waitFor(() => sink!.mails.length >= 1, 60_000, 'the invitation');
      const invite = sink!.mails[0]!;
      const replyTo = invite.mail.replyTo!.value[0]!.address!;
      assert.match(replyTo, new RegExp(`^vote\\+[0-9a-f]{56}@${DOMAIN.replace(/\./g, '\\.')}$`));
      // Alice answers above the quoted invitation; her provider delivers the reply twice.
      const reply = await replyMail({ to: replyTo, text: `👍 A, 👎 B\n\nOn Monday, Prefline wrote:\n> ${invite.mail.text!.split('\n').join('\n> ')}`, messageId: '<alice-reply@example.com>' });
      await box.deliver(reply);
      await box.deliver(reply);

      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'quorum');
      assert.equal(summary.votesAccepted, 2);
      assert.equal(summary.rowsCommitted, 2);
      assert.deepEqual(summary.tally.map((t) => [t.label, t.up, t.down]), [['A', 1, 0], ['B', 0, 1]]);
      const { rows } = await workers!.ledger.query(`SELECT candidate_id, value, rater, channel FROM votes WHERE lifecycle_id = $1 ORDER BY seq`, [handle.workflowId]);
      const alice = pseudonymiseRater(RATER_KEY, 'email', ALICE);
      assert.deepEqual(rows.map((r) => [r.candidate_id, r.value, r.rater, r.channel]), [['c1', 1, alice, 'email'], ['c2', -1, alice, 'email']]);
      // Both copies end processed: the second one found voting closed (its votes were the first's anyway).
      await waitUntil(async () => ((await box.messages('Done')).filter((m) => m.flags.includes('\\Seen')).length === 2 ? true : undefined), 30_000, 'both copies to be marked processed');
      assert.deepEqual(await box.messages(), []);
    });
  });
});
