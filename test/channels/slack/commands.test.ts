/**
 * `/prefline` through the Slack stand-in and a real gateway over HTTP, lifecycles behind the fake
 * directory: the acknowledgement, the start after it, the link that replaces the acknowledgement,
 * retried commands, who may start and close, bad flags, models, rates, status, and a start journaled
 * by a gateway that stopped before starting it.
 */
import assert from 'node:assert/strict';
import { SlackCommands, type SlackCommandsDeps } from '../../../channels/slack/commands';
import { startSlackSocketMode } from '../../../channels/slack/socket-mode';
import type { LifecycleDirectory } from '../../../core/lifecycle-directory';
import { pseudonymiseRater } from '../../../core/pseudonym';
import { RateLimiter } from '../../../core/rate-limit';
import type { LifecycleStatus } from '../../../workflows/types';
import { votingLifecycle } from '../../helpers/fake-directory';
import { waitUntil } from '../../helpers/processes';
import { CHANNEL, OTHER_CHANNEL, RATER_KEY, USERS, startCommandHarness, type CommandHarness } from '../../helpers/slack-commands';

const pseudonym = (user: string) => pseudonymiseRater(RATER_KEY, 'slack', user);

/** Publishes a started lifecycle: a header message (really in the stand-in's channel) and its candidates. */
function publish(h: CommandHarness, lifecycleId: string, channel = CHANNEL): string {
  const header = h.slack.postAsUser(channel, h.slack.botUserId, 'header');
  const voting = votingLifecycle(lifecycleId, 'p', [{ kind: 'text', text: 'a' }, { kind: 'text', text: 'b' }]);
  h.directory.publish(lifecycleId, voting.candidates, [{ ref: `slack:${channel}:${header.ts}` }, { ref: `slack:${channel}:${header.ts}1`, candidateId: 'c1' }]);
  return header.ts;
}

describe('channels/slack: the /prefline command', function () {
  this.timeout(30_000);
  let h: CommandHarness;

  afterEach(async () => {
    await h?.stop();
  });

  describe('starting a lifecycle', () => {
    beforeEach(async () => {
      h = await startCommandHarness();
    });

    it('should acknowledge privately, start the lifecycle in this channel after, and replace the acknowledgement with a link once posted', async () => {
      const { status, body, fields } = await h.command(USERS.starter, 'a red fox in the snow --n 2 --votes 2 --deadline 2h');
      assert.equal(status, 200);
      assert.deepEqual(body, { response_type: 'ephemeral', text: 'generating 2 candidates with demo:shapes…' });
      const [id] = await waitUntil(async () => (h.directory.started().length === 1 ? h.directory.started() : undefined), 5000, 'the start');
      assert.match(id!, /^lc-slack-[0-9a-f]{20}$/);
      assert.deepEqual(h.directory.startRequests.map((r) => r.input), [{
        prompt: 'a red fox in the snow', model: 'demo:shapes', candidates: 2, channel: `slack:${CHANNEL}`, votesPerCandidate: 2, deadline: '2h',
        startedBy: pseudonym(USERS.starter), startedFrom: 'slack:/prefline',
      }]);
      assert.ok(!JSON.stringify(h.directory.startRequests).includes(USERS.starter), 'no Slack user id in the lifecycle');
      // Listed in the Temporal UI as a `prefline start` is.
      assert.equal(h.directory.startRequests[0]!.staticSummary, `"a red fox in the snow" · demo:shapes ×2 · slack:${CHANNEL}`);
      assert.match(h.directory.startRequests[0]!.staticDetails ?? '', /^\*\*Prompt:\*\* a red fox in the snow\n/);
      const ts = publish(h, id!);
      const [replaced] = await waitUntil(async () => (h.slack.responsesTo(fields.response_url!).length > 0 ? h.slack.responsesTo(fields.response_url!) : undefined), 5000, 'the replacement');
      assert.equal(replaced!.replace_original, true);
      assert.equal(replaced!.response_type, 'ephemeral');
      assert.match(String(replaced!.text), new RegExp(`Candidates for “a red fox in the snow” are posted: <https://standin\\.slack\\.test/archives/${CHANNEL}/p${ts.replace('.', '')}\\|see them and vote>`));
      assert.equal(h.slack.callsOf('chat.getPermalink').length, 1);
    });

    it('should start nothing twice for a retried command (same trigger), however often it arrives', async () => {
      const first = await h.command(USERS.starter, 'a red fox');
      const again = await Promise.all([1, 2].map(() => h.slack.deliverCommand(h.url, first.fields)));
      assert.deepEqual(again.map((r) => [r.status, JSON.parse(r.body).text]), [[200, 'generating 4 candidates with demo:shapes…'], [200, 'generating 4 candidates with demo:shapes…']]);
      await h.inbound.idle();
      assert.equal(h.directory.started().length, 1);
      // Another gateway of the same deployment (no memory of the first) asks again: Temporal refuses the id.
      const second = await startCommandHarness({ directory: h.directory, slack: h.slack });
      try {
        assert.equal((await second.slack.deliverCommand(second.url, first.fields)).status, 200);
        await second.inbound.idle();
        assert.equal(h.directory.startRequests.length, 2, 'asked once more…');
        assert.equal(h.directory.started().length, 1, '…and nothing more was started');
      } finally {
        await second.stop();
      }
    });

    it('should take starters from their user group, and refuse everyone else privately, starting nothing', async () => {
      assert.equal((await h.command(USERS.groupStarter, 'a hare')).body.text, 'generating 4 candidates with demo:shapes…');
      const refused = await h.command(USERS.stranger, 'a fox');
      assert.equal(refused.status, 200);
      assert.deepEqual(refused.body, { response_type: 'ephemeral', text: ':no_entry: You may not start Prefline lifecycles; ask the operator to add you to the starters.' });
      await h.inbound.idle();
      assert.equal(h.directory.started().length, 1);
      assert.deepEqual(h.directory.startRequests.map((r) => r.input.startedBy), [pseudonym(USERS.groupStarter)]);
    });

    it('should answer bad flags and models that are not allowed in plain words with the usage, starting nothing', async () => {
      const answers = await Promise.all(['a fox --size 3', 'a fox --n 12', 'a fox --model replicate:owner/big', '"a fox', '--n 2'].map(async (t) => String((await h.command(USERS.starter, t)).body.text)));
      assert.match(answers[0]!, /^There is no flag `--size`/);
      assert.match(answers[1]!, /`--n` must be a whole number from 1 to 8, not "12"/);
      assert.match(answers[2]!, /The model `replicate:owner\/big` may not be started from Slack here; allowed: `demo:shapes`, `demo:gradient`, `demo:text`/);
      assert.match(answers[3]!, /A double quote is not closed/);
      assert.match(answers[4]!, /Give a prompt/);
      for (const a of answers) assert.match(a, /\*\/prefline <prompt>\* starts a lifecycle/, 'with the usage');
      await h.inbound.idle();
      assert.deepEqual(h.directory.startRequests, []);
    });

    it('should tell the starter when the lifecycle could not be generated', async () => {
      const { fields } = await h.command(USERS.starter, 'a fox --vs demo:text');
      const [id] = await waitUntil(async () => (h.directory.started().length === 1 ? h.directory.started() : undefined), 5000, 'the start');
      h.directory.fail(id!, 'inference failed: the model refused the prompt');
      const [replaced] = await waitUntil(async () => (h.slack.responsesTo(fields.response_url!).length > 0 ? h.slack.responsesTo(fields.response_url!) : undefined), 5000, 'the replacement');
      assert.equal(replaced!.text, ':warning: generating demo:shapes vs demo:text to compare failed: inference failed: the model refused the prompt. Nothing was posted.');
      assert.equal(replaced!.replace_original, true);
    });

    it('should answer help and an empty command with the usage', async () => {
      assert.match(String((await h.command(USERS.stranger, 'help')).body.text), /^\*\/prefline <prompt>\*/);
      assert.match(String((await h.command(USERS.stranger, '')).body.text), /\/prefline status/);
    });
  });

  describe('who may start, how often, where', () => {
    it('should refuse a user over the rate per user, saying when to try again, and still take others', async () => {
      h = await startCommandHarness({ startsPerHour: 2 });
      for (const prompt of ['one', 'two']) {
        const sent = await h.command(USERS.starter, prompt);
        assert.match(String(sent.body.text), /^generating/);
        // Slack's client sending it again counts once.
        assert.match(JSON.parse((await h.slack.deliverCommand(h.url, sent.fields)).body).text, /^generating/);
      }
      assert.match(String((await h.command(USERS.starter, 'three')).body.text), /^:hourglass: You started many lifecycles in a short time; try again in 30 min\.$/);
      assert.match(String((await h.command(USERS.groupStarter, 'four')).body.text), /^generating/);
      await h.inbound.idle();
      assert.equal(h.directory.started().length, 3);
    });

    it('should say starting is off when no starters are configured', async () => {
      h = await startCommandHarness({ starters: null });
      assert.equal((await h.command(USERS.starter, 'a fox')).body.text, ':no_entry: Starting lifecycles from Slack is off here; ask the operator (PREFLINE_SLACK_STARTERS).');
      await h.inbound.idle();
      assert.deepEqual(h.directory.startRequests, []);
    });

    it('should take the channel\'s defaults, its own entry over the one for every channel', async () => {
      h = await startCommandHarness({ channelDefaults: { '*': { candidates: 1, deadline: '1h' }, [CHANNEL]: { model: 'demo:text', votesPerCandidate: 1 } } });
      assert.equal((await h.command(USERS.starter, 'a fox')).body.text, 'generating 1 candidate with demo:text…');
      assert.equal((await h.command(USERS.starter, 'a hare', { channel: OTHER_CHANNEL })).body.text, 'generating 1 candidate with demo:shapes…');
      await h.inbound.idle();
      const inputs = h.directory.startRequests.map((r) => r.input);
      assert.deepEqual(inputs.map((i) => [i.channel, i.model, i.candidates, i.votesPerCandidate, i.deadline]), [
        [`slack:${CHANNEL}`, 'demo:text', 1, 1, '1h'],
        [`slack:${OTHER_CHANNEL}`, 'demo:shapes', 1, undefined, '1h'],
      ]);
    });

    it('should not call a response_url on an origin that is not allowed, answering with chat.postEphemeral instead', async () => {
      h = await startCommandHarness({ responseUrlOrigins: ['https://hooks.slack.com'] });
      const { fields } = await h.command(USERS.starter, 'a fox');
      const [id] = await waitUntil(async () => (h.directory.started().length === 1 ? h.directory.started() : undefined), 5000, 'the start');
      publish(h, id!);
      await waitUntil(async () => (h.slack.ephemerals.length > 0 ? true : undefined), 5000, 'the ephemeral');
      assert.deepEqual(h.slack.responsesTo(fields.response_url!), []);
      assert.match(h.slack.ephemerals[0]!.text, /^:white_check_mark: Candidates for “a fox” are posted/);
      assert.deepEqual([h.slack.ephemerals[0]!.channel, h.slack.ephemerals[0]!.user], [CHANNEL, USERS.starter]);
    });
  });

  describe('status and close', () => {
    beforeEach(async () => {
      h = await startCommandHarness();
    });

    async function startOne(user: string, prompt: string, channel = CHANNEL): Promise<string> {
      const before = new Set(h.directory.started());
      await h.command(user, prompt, { channel });
      return waitUntil(async () => h.directory.started().find((id) => !before.has(id)), 5000, 'the start');
    }

    it('should list the open lifecycles of this channel only, the caller\'s own marked, prompts escaped', async () => {
      assert.equal((await h.command(USERS.stranger, 'status')).body.text, 'No Prefline lifecycles are open in this channel.');
      const mine = await startOne(USERS.starter, 'a fox <!channel>');
      const theirs = await startOne(USERS.groupStarter, 'a hare');
      const elsewhere = await startOne(USERS.starter, 'an owl', OTHER_CHANNEL);
      publish(h, theirs);
      // An ops lifecycle posted to this channel by name: found by its posts.
      h.directory.add({ ...votingLifecycle('ops-lc', 'from the CLI', [{ kind: 'text', text: 'x' }]), channel: 'slack:#ox-feedback', posts: [{ ref: `slack:${CHANNEL}:1700000000.000100` }] });
      h.directory.add({ ...votingLifecycle('web-lc', 'on the page', [{ kind: 'text', text: 'x' }]) });
      const text = String((await h.command(USERS.starter, 'status')).body.text);
      assert.match(text, /^Open Prefline lifecycles in this channel \(3\):/);
      assert.ok(text.includes(`\`${mine}\` “a fox &lt;!channel&gt;” (demo:shapes): generating`) && text.includes('· started by you'), text);
      assert.ok(text.includes(`\`${theirs}\` “a hare” (demo:shapes): voting, 0 votes, closes in`), text);
      assert.ok(text.includes('`ops-lc` “from the CLI”'), text);
      assert.ok(!text.includes(elsewhere) && !text.includes('web-lc'), text);
      assert.equal(text.match(/started by you/g)?.length, 1);
    });

    it('should close a lifecycle for its starter and for ops, and refuse everyone else', async () => {
      const id = await startOne(USERS.starter, 'a fox');
      publish(h, id);
      assert.equal((await h.command(USERS.other, `close ${id}`)).body.text, ':no_entry: Only whoever started this lifecycle, or ops, may close it.');
      assert.equal((await h.command(USERS.groupStarter, `close ${id}`)).body.text, ':no_entry: Only whoever started this lifecycle, or ops, may close it.', 'another starter is not this one\'s');
      assert.equal(h.directory.closeRequests.length, 0);
      assert.match(String((await h.command(USERS.starter, `close ${id}`)).body.text), /^:lock: Closing `lc-slack-[0-9a-f]{20}`: it counts the votes it has/);
      assert.deepEqual(h.directory.closeRequests, [{ lifecycleId: id, request: { reason: 'closed by its starter with /prefline close' } }]);
      assert.equal((await h.command(USERS.starter, `close ${id}`)).body.text, `\`${id}\` has closed already.`);
      // Ops close anyone's, an ops lifecycle included.
      h.directory.add(votingLifecycle('ops-lc', 'from the CLI', [{ kind: 'text', text: 'x' }]));
      assert.match(String((await h.command(USERS.ops, 'close ops-lc')).body.text), /^:lock: Closing `ops-lc`/);
      assert.equal(h.directory.closeRequests.at(-1)?.request.reason, 'closed by ops with /prefline close');
      assert.equal((await h.command(USERS.ops, 'close lc-none')).body.text, 'There is no lifecycle `lc-none`.');
    });
  });

  it('should start, after a restart, a start a gateway acknowledged but could not start before it stopped, once', async () => {
    h = await startCommandHarness();
    h.directory.failStarts = 1000; // Temporal unreachable
    const { body } = await h.command(USERS.starter, 'a fox in the rain');
    assert.equal(body.text, 'generating 4 candidates with demo:shapes…', 'acknowledged: it is in the journal');
    await waitUntil(async () => (h.logs.some((l) => /lifecycle start failed/.test(l.msg)) ? true : undefined), 5000, 'a failed attempt');
    const { directory, slack, journalDir } = h;
    await h.stop({ keepJournal: true, keepSlack: true });
    assert.deepEqual(directory.started(), []);
    directory.failStarts = 0; // Temporal is back
    h = await startCommandHarness({ directory, journalDir, slack });
    await waitUntil(async () => (directory.started().length === 1 ? true : undefined), 5000, 'the replayed start');
    await h.inbound.idle();
    assert.equal(directory.started().length, 1);
    assert.equal(directory.startRequests.at(-1)?.input.prompt, 'a fox in the rain');
    await slack.close();
  });

  it('should take commands over Socket Mode too, answering in the acknowledgement', async () => {
    h = await startCommandHarness();
    const socket = await startSlackSocketMode({ appToken: h.slack.appToken, apiUrl: h.slack.apiUrl, inbound: h.inbound, commands: h.commands });
    try {
      await waitUntil(() => h.slack.socketCount === 1 || undefined, 5000, 'a Socket Mode connection');
      const fields = h.slack.slashCommandFields({ user: USERS.starter, channel: CHANNEL, text: 'a fox --n 1' });
      assert.deepEqual(await h.slack.sendEnvelope('slash_commands', fields), { response_type: 'ephemeral', text: 'generating 1 candidate with demo:shapes…' });
      assert.deepEqual(await h.slack.sendEnvelope('slash_commands', fields), { response_type: 'ephemeral', text: 'generating 1 candidate with demo:shapes…' }, 'redelivered: the same answer');
      await h.inbound.idle();
      assert.equal(h.directory.started().length, 1);
    } finally {
      await socket.close();
    }
  });

  it('should answer "working on it" when Slack would wait too long, and send the answer by response_url after', async () => {
    const calls: Array<{ text: string; replace?: boolean }> = [];
    let release!: (lifecycles: LifecycleStatus[]) => void;
    const slow = { listActive: () => new Promise<LifecycleStatus[]>((resolve) => { release = resolve; }) } as unknown as LifecycleDirectory;
    const nobody = { includes: async () => false } as unknown as NonNullable<SlackCommandsDeps['starters']>;
    const commands = new SlackCommands({
      directory: slow, allowedTeams: async () => new Set(['T0STANDIN']), raterKey: RATER_KEY, ops: nobody, models: [], channelDefaults: {},
      startsPerUser: new RateLimiter(0, 1000), accept: async () => 'accepted',
      respond: async (_target, text, options) => void calls.push({ text, ...(options?.replace !== undefined ? { replace: options.replace } : {}) }),
    });
    const payload = { command: '/prefline', text: 'status', team_id: 'T0STANDIN', channel_id: CHANNEL, user_id: USERS.stranger, response_url: 'https://hooks.slack.com/commands/x' };
    assert.deepEqual(await commands.answer(payload, 20), { text: ':hourglass: Working on it; the answer follows here.' });
    release([]);
    await waitUntil(async () => (calls.length > 0 ? true : undefined), 2000, 'the late answer');
    assert.deepEqual(calls, [{ text: 'No Prefline lifecycles are open in this channel.', replace: true }]);
  });
});
