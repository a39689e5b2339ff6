/**
 * `/prefline` end to end, as deployed: a `prefline worker` and a `prefline gateway` process configured
 * only through PREFLINE_SLACK_* variables, the real dev server, the Slack stand-in in Slack's place.
 * A starter types the command (and Slack's client sends it again); one lifecycle starts, posts its
 * candidates to the channel, and the ephemeral acknowledgement is replaced with a link; status lists
 * it, a stranger may not close it; the team votes by reaction and the rows land in the ledger with who
 * started the lifecycle and from where.
 */
import assert from 'node:assert/strict';
import { commandLifecycleId } from '../../channels/slack/command-text';
import { queryLedger } from '../../cli/query';
import { loadConfig } from '../../config';
import { pseudonymiseRater } from '../../core/pseudonym';
import { statusQuery } from '../../workflows/messages';
import type { LifecycleSummary } from '../../workflows/types';
import { waitUntil } from '../helpers/processes';
import { SlackE2e } from '../helpers/slack-e2e';

const RATER_KEY = 'e2e-slack-commands-rater-key-0123456789';
const STARTER = 'U0ALICE01';

describe('/prefline end to end: worker and gateway processes, the dev server, the Slack stand-in', function () {
  this.timeout(240_000);
  let e2e: SlackE2e;

  before(async () => {
    e2e = await SlackE2e.start('slack-commands', RATER_KEY);
  });

  after(async () => {
    await e2e?.close();
  });

  it('should start one lifecycle from a command sent twice, link its post, and commit the reactions with its provenance', async () => {
    const { slack, dataDir } = e2e;
    const { client, gatewayUrl, worker, gateway } = await e2e.startWorkerAndGateway({
      queue: 'slack-commands-e2e',
      env: {
        PREFLINE_SLACK_STARTERS: STARTER,
        PREFLINE_SLACK_START_MODELS: 'demo:shapes,demo:text',
        PREFLINE_SLACK_CHANNEL_DEFAULTS: JSON.stringify({ '*': { votesPerCandidate: 1, deadline: '1h' } }),
      },
      slackEnabled: /Slack votes enabled.*starts=true/,
    });

    const channel = slack.channelId('#ox-feedback');
    const fields = slack.slashCommandFields({ user: STARTER, channel, text: 'an ox ploughing a field at dawn --n 2' });
    const answers = [];
    for (let n = 0; n < 2; n++) answers.push(await slack.deliverCommand(gatewayUrl, fields)); // the client sends it again
    assert.deepEqual(answers.map((a) => [a.status, JSON.parse(a.body)]), Array(2).fill([200, { response_type: 'ephemeral', text: 'generating 2 candidates with demo:shapes…' }]));

    const lifecycleId = commandLifecycleId(slack.teamId, fields.trigger_id!)!;
    const handle = client.workflow.getHandle(lifecycleId);
    const status = await waitUntil(async () => {
      const s = await handle.query(statusQuery).catch(() => undefined);
      return s?.phase === 'voting' && s.posts ? s : undefined;
    }, 90_000, 'the lifecycle posted and voting');
    assert.equal(status.channel, `slack:${channel}`);
    assert.equal(status.startedFrom, 'slack:/prefline');
    const runs: string[] = [];
    for await (const e of client.workflow.list({ query: `WorkflowId = '${lifecycleId}'` })) runs.push(e.runId);
    assert.equal(runs.length, 1, 'one lifecycle for the command, however often it was sent');
    const [header, a, b] = slack.messages(channel);
    assert.ok(header && a && b, 'header and one message per candidate');

    // The acknowledgement is replaced with a link to the header.
    const replaced = await waitUntil(async () => slack.responsesTo(fields.response_url!)[0], 30_000, 'the replacement');
    assert.equal(replaced.replace_original, true);
    assert.match(String(replaced.text), new RegExp(`are posted: <https://standin\\.slack\\.test/archives/${channel}/p${header.ts.replace('.', '')}\\|see them and vote>`));

    // Status lists it; a stranger may not close it.
    const ask = async (user: string, text: string) => {
      const command = slack.slashCommandFields({ user, channel, text });
      const immediate = JSON.parse((await slack.deliverCommand(gatewayUrl, command)).body).text as string;
      if (!immediate.startsWith(':hourglass: Working on it')) return immediate;
      // Slower than Slack's acknowledgement window (a loaded machine): the answer follows at the command's response_url.
      const followed = await waitUntil(async () => slack.responsesTo(command.response_url!)[0], 30_000, 'the deferred answer');
      return String(followed.text);
    };
    assert.match(await ask('U0STRANGE', 'status'), new RegExp(`\`${lifecycleId}\` “an ox ploughing a field at dawn” \\(demo:shapes\\): voting, 0 votes`));
    assert.equal(await ask('U0STRANGE', `close ${lifecycleId}`), ':no_entry: Only whoever started this lifecycle, or ops, may close it.');
    assert.equal((await handle.query(statusQuery)).closeReason, undefined);

    // The team votes by reaction: one vote per candidate is this channel's quorum.
    for (const [user, reaction, ts] of [['U0BOB0001', '+1', a.ts], ['U0CAROL01', '-1', b.ts]] as const) {
      assert.equal((await slack.deliverEvent(gatewayUrl, slack.reactionEnvelope({ user, reaction, channel, ts }))).status, 200);
    }
    const summary = (await handle.result()) as LifecycleSummary;
    assert.equal(summary.closeReason, 'quorum');
    assert.equal(summary.rowsCommitted, 2);

    const config = loadConfig({ PREFLINE_DATA_DIR: dataDir });
    const r = (user: string) => pseudonymiseRater(Buffer.from(RATER_KEY), 'slack', user);
    const lifecycles = await queryLedger(config, `SELECT prompt, channel, quorum_votes, started_by, started_from FROM lifecycles WHERE lifecycle_id = '${lifecycleId}'`);
    assert.deepEqual(lifecycles.rows, [{ prompt: 'an ox ploughing a field at dawn', channel: `slack:${channel}`, quorum_votes: 1, started_by: r(STARTER), started_from: 'slack:/prefline' }]);
    const votes = await queryLedger(config, `SELECT candidate_id, rater, value::INT AS value, rater_auth FROM votes WHERE lifecycle_id = '${lifecycleId}' ORDER BY candidate_id`);
    assert.deepEqual(votes.rows, [
      { candidate_id: 'c1', rater: r('U0BOB0001'), value: 1, rater_auth: 'slack' },
      { candidate_id: 'c2', rater: r('U0CAROL01'), value: -1, rater_auth: 'slack' },
    ]);
    assert.ok(!JSON.stringify([lifecycles.rows, votes.rows]).includes('U0'), 'no Slack user id in the ledger');
    await Promise.all([worker.kill('SIGTERM'), gateway.kill('SIGTERM')]);
  });
});
