/**
 * The email channel end to end on the real dev server: a lifecycle mails three raters (its first publish
 * attempt fails after sending, as a crashed worker would), one votes by link (GET and HEAD first, as a
 * mail scanner would), one by reply, the third is reminded and replies; the votes reach the ledger, the
 * result is mailed, and a late click is told voting closed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { createChannelActivities } from '../../activities/channel';
import type { ChannelActivities } from '../../activities/types';
import { EmailUnavailableError } from '../../channels/email/errors';
import { createEmailPublisher } from '../../channels/email/publisher';
import { createSmtpTransport, type MailTransport } from '../../channels/email/smtp';
import { EmailState } from '../../channels/email/state';
import { startEmailInbound, type RunningInbound } from '../../channels/email/smtp-inbound';
import { createEmailRoutes } from '../../channels/email/routes';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { artifactSourceFor } from '../../gateway/main';
import { pseudonymiseRater } from '../../core/pseudonym';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { WORKFLOW_TYPE, statusQuery } from '../../workflows/messages';
import type { LifecycleSummary } from '../../workflows/types';
import { RATER_KEY, TOKEN_KEY } from '../helpers/email';
import { SmtpSink, type SunkMail } from '../helpers/smtp-sink';
import { waitUntil } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';

const DOMAIN = 'in.prefline.test';
const [ALICE, BOB, CAROL] = ['alice@example.com', 'bob@example.com', 'carol@example.com'];

describe('email channel, end to end on the dev server', function () {
  this.timeout(180_000);
  let sink: SmtpSink;
  let transport: MailTransport;
  let workers: LifecycleWorkers;
  let server: Server;
  let inbound: RunningInbound;
  let url: string;
  let publishAttempts = 0;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  after(async () => {
    await inbound?.close();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    transport?.close();
    await sink?.stop();
    workers?.close();
  });

  it('should take a lifecycle from email to committed rows, with links and replies mixed', async () => {
    const { client } = await sharedTemporal();
    sink = await new SmtpSink().start();
    transport = createSmtpTransport({ host: '127.0.0.1', port: sink.port, secure: false, requireTLS: false, maxConnections: 2, rateLimit: 0 });
    const ref: { artifacts?: LifecycleWorkers['artifacts'] } = {}; // the workers' store, known once they exist
    let state: EmailState | undefined;
    const stateFor = async () => (state ??= await EmailState.open(join(workers.dir, 'email')));
    const directory = new TemporalLifecycleDirectory(client);
    // The gateway's URL is known once it listens; the worker's publisher reads it lazily.
    const publisher = () =>
      stateFor().then((s) =>
        createEmailPublisher({
          transport, from: { name: 'Prefline', address: 'ratings@prefline.test' }, publicUrl: url, inboundDomain: DOMAIN,
          raterKey: RATER_KEY, tokenKey: TOKEN_KEY, state: s, artifacts: { read: (sha) => ref.artifacts!.read(sha) }, closingNote: true,
        }),
      );
    const lazy: ChannelActivities = {
      async publishLifecycle(request) {
        const result = await createChannelActivities({ email: await publisher() }).publishLifecycle(request);
        // The worker dies right after the mails went out, before Temporal hears of it.
        if (++publishAttempts === 1) throw new EmailUnavailableError('simulated crash after sending');
        return result;
      },
      updatePost: async (r) => createChannelActivities({ email: await publisher() }).updatePost(r),
      remindRaters: async (r) => createChannelActivities({ email: await publisher() }).remindRaters(r),
      closePost: async (r) => createChannelActivities({ email: await publisher() }).closePost(r),
    };
    workers = await createLifecycleWorkers('email-e2e', { channel: lazy });
    ref.artifacts = workers.artifacts;
    server = createGatewayServer({
      directory, artifacts: artifactSourceFor(workers.artifacts), raterKey: RATER_KEY, sessionKey: Buffer.from('session-key-for-email-e2e-012345'), sessionTtlMs: 3_600_000,
      channelRoutes: createEmailRoutes({ directory, tokenKey: TOKEN_KEY, state: await stateFor() }), log: () => undefined,
    });
    ({ url } = await listen(server, '127.0.0.1', 0));
    inbound = await startEmailInbound({ directory, state: await stateFor(), tokenKey: TOKEN_KEY, domain: DOMAIN, host: '127.0.0.1', port: 0, maxBytes: 1 << 20 });
    const replier = createTransport({ host: '127.0.0.1', port: inbound.port, secure: false, ignoreTLS: true });
    const replyTo = (mail: SunkMail) => mail.mail.replyTo!.value[0]!.address!;
    const link = (mail: SunkMail, label: string, emoji: '👍' | '👎') =>
      new RegExp(`Candidate ${label}[^\\n]*\\n(?:.*\\n)*?\\s+${emoji} Thumbs (?:up|down):\\s+(\\S+)`).exec(mail.mail.text!)![1]!;

    await workers.run(async () => {
      const handle = await client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: workers.taskQueue,
        workflowId: `lc-email-e2e-${randomUUID()}`,
        args: [{ prompt: 'a red fox in the snow', model: 'demo:shapes', candidates: 2, channel: `email:${ALICE},${BOB},${CAROL}`, totalVotes: 4, deadline: '3m', remindBefore: '172s' }],
      });
      await sink.waitFor(() => sink.mails.length >= 3, 60_000, 'three invitations');
      const invite = (to: string) => sink.to(to).find((m) => m.mail.subject?.startsWith('Rate 2 candidates'))!;

      // Alice clicks 👍 A. Her mail scanner fetched the link first: that counts nothing.
      const aliceLink = link(invite(ALICE), 'A', '👍');
      assert.equal((await fetch(aliceLink, { method: 'HEAD' })).status, 200);
      assert.match(await (await fetch(aliceLink)).text(), /Confirm your vote/);
      assert.equal((await handle.query(statusQuery)).votesAccepted, 0);
      assert.match(await (await fetch(aliceLink, { method: 'POST' })).text(), /Vote recorded/);
      assert.match(await (await fetch(aliceLink, { method: 'POST' })).text(), /Already recorded/);

      // Bob replies 👎 on the second candidate, above the quoted invitation.
      await replier.sendMail({ from: BOB, to: replyTo(invite(BOB)), subject: 'Re: vote', text: `👎 2\n\nOn Monday, Prefline wrote:\n> ${invite(BOB).mail.text!.split('\n').join('\n> ')}` });

      // At deadline − remindBefore (8 s after the start), only Carol (no vote yet) is reminded; she replies with two votes.
      await waitUntil(async () => ((await handle.query(statusQuery)).votesAccepted === 2 ? true : undefined), 30_000, "Alice's and Bob's votes");
      const isReminder = (m: SunkMail) => m.mail.subject?.startsWith('Reminder') === true;
      assert.ok(!sink.mails.some(isReminder), 'the reminder went out before Alice and Bob had voted: this machine is too slow for an 8 s reminder');
      await sink.waitFor(() => sink.mails.some(isReminder), 60_000, 'the reminder');
      const reminders = sink.mails.filter(isReminder);
      assert.deepEqual(reminders.map((m) => m.envelope.to[0]), [CAROL]);
      await replier.sendMail({ from: CAROL, to: replyTo(reminders[0]!), subject: 'Re: Reminder', text: '👍 A, 👎 B' });

      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'quorum');
      assert.equal(summary.votesAccepted, 4);
      assert.equal(summary.rowsCommitted, 4);
      assert.deepEqual(summary.tally.map((t) => [t.label, t.up, t.down]), [['A', 2, 0], ['B', 0, 2]]);

      const { rows } = await workers.ledger.query(`SELECT candidate_id, value, rater, channel FROM votes WHERE lifecycle_id = $1 ORDER BY seq`, [handle.workflowId]);
      const p = (a: string) => pseudonymiseRater(RATER_KEY, 'email', a);
      assert.deepEqual(rows.map((r) => [r.candidate_id, r.value, r.rater, r.channel]), [
        ['c1', 1, p(ALICE), 'email'],
        ['c2', -1, p(BOB), 'email'],
        ['c1', 1, p(CAROL), 'email'],
        ['c2', -1, p(CAROL), 'email'],
      ]);
      assert.ok(!JSON.stringify(rows).includes('example.com'), 'no addresses in the ledger');

      // One invitation each despite the retried publish; the result goes to everyone.
      assert.equal(publishAttempts, 2);
      await sink.waitFor(() => sink.mails.filter((m) => m.mail.subject?.startsWith('Results')).length === 3, 30_000, 'the results');
      for (const who of [ALICE, BOB, CAROL]) assert.equal(sink.to(who).filter((m) => m.mail.subject?.startsWith('Rate ')).length, 1, who);

      // A late click.
      const late = await fetch(link(invite(BOB), 'A', '👍'), { method: 'POST' });
      assert.equal(late.status, 409);
      assert.match(await late.text(), /Voting closed/);
    });
    replier.close();
  });
});
