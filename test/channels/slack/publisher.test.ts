import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createChannelActivities } from '../../../activities/channel';
import type { PublishRequest } from '../../../channels/types';
import { ErrorCode } from '../../../core/errors';
import { SlackRateLimitedError, SlackRejectedError } from '../../../channels/slack/errors';
import { ACTION, METADATA_EVENT_TYPE } from '../../../channels/slack/messages';
import { createSlackPublisher, type SlackPublisherOptions } from '../../../channels/slack/publisher';
import { validateLifecycleInput } from '../../../workflows/input';
import type { Candidate, CandidateTally, LifecyclePlan } from '../../../workflows/types';
import { discPng } from '../../helpers/fake-directory';
import { SlackStandIn, type StoredMessage } from '../../standins/slack-server';

const CHANNEL = 'C0FEEDBK01';

function planOf(input: Record<string, unknown>): LifecyclePlan {
  const result = validateLifecycleInput({ prompt: 'an ox in a <field> & @channel', model: 'demo:shapes', channel: 'slack:#ox-feedback', ...input }, Date.now());
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.plan;
}

class Artifacts {
  readonly reads: string[] = [];
  private readonly bytes = new Map<string, Buffer>();

  image(id: string, label: string, rgb: [number, number, number], model = 'demo:shapes'): Candidate {
    const png = discPng(rgb, 64);
    const sha256 = createHash('sha256').update(png).digest('hex');
    this.bytes.set(sha256, png);
    return {
      id, label, model, kind: 'image', placeholder: true,
      artifact: { sha256, mime: 'image/png', size: png.length, path: `sha256/${sha256.slice(0, 2)}/${sha256}.png` },
      provenance: { backend: 'demo', model: 'shapes', params: {}, seed: 1, wallTimeMs: 1 },
    };
  }

  text(id: string, label: string, text: string, model = 'demo:text'): Candidate {
    const sha256 = createHash('sha256').update(text).digest('hex');
    return {
      id, label, model, kind: 'text', text, placeholder: false,
      artifact: { sha256, mime: 'text/plain; charset=utf-8', size: Buffer.byteLength(text), path: `sha256/${sha256.slice(0, 2)}/${sha256}.txt` },
      provenance: { backend: 'demo', model: 'text', params: {}, seed: 1, wallTimeMs: 1 },
    };
  }

  read = async (sha256: string): Promise<Buffer> => {
    this.reads.push(sha256);
    const bytes = this.bytes.get(sha256);
    if (!bytes) throw new Error(`no artifact ${sha256}`);
    return bytes;
  };

  bytesOf(sha256: string): Buffer {
    return this.bytes.get(sha256)!;
  }
}

function tally(label: string, id: string, up: number, down: number): CandidateTally {
  return { candidateId: id, label, up, down, score: up - down, votes: up + down };
}

function blockIds(message: StoredMessage | undefined): string[] {
  return (message?.blocks ?? []).map((b) => String(b.block_id ?? b.type));
}

function actionIds(message: StoredMessage | undefined): string[] {
  return (message?.blocks ?? []).flatMap((b) => (b.type === 'actions' ? (b.elements as Array<{ action_id: string }>).map((e) => e.action_id) : []));
}

function textOf(message: StoredMessage | undefined): string {
  return JSON.stringify(message?.blocks ?? []);
}

describe('channels/slack: SlackPublisher against the Slack stand-in', function () {
  this.timeout(30_000);
  let slack: SlackStandIn;
  let artifacts: Artifacts;
  const publisher = (extra: Partial<SlackPublisherOptions> = {}) =>
    createSlackPublisher({ token: slack.botToken, apiUrl: slack.apiUrl, readArtifact: artifacts.read, paceMs: 0, retries: 0, ...extra });

  beforeEach(async () => {
    slack = await SlackStandIn.start();
    artifacts = new Artifacts();
  });
  afterEach(async () => slack.close());

  function imageRequest(lifecycleId = 'lc-images'): PublishRequest {
    return {
      lifecycleId,
      plan: planOf({ candidates: 2 }),
      candidates: [artifacts.image('c1', 'A', [200, 40, 40]), artifacts.image('c2', 'B', [40, 40, 200])],
      deadlineAt: new Date(Date.now() + 3600_000).toISOString(),
    };
  }

  it('should post a header and one message per candidate, with images uploaded from Buffers and shown', async () => {
    const request = imageRequest();
    const ref = await publisher().publish(request);

    const top = slack.messages(CHANNEL);
    assert.equal(top.length, 3, 'header + 2 candidates at the top level');
    const [header, a, b] = top;
    assert.deepEqual(ref.messages, [
      { ref: `slack:${CHANNEL}:${header!.ts}` },
      { ref: `slack:${CHANNEL}:${a!.ts}`, candidateId: 'c1' },
      { ref: `slack:${CHANNEL}:${b!.ts}`, candidateId: 'c2' },
    ]);
    assert.equal(ref.channel, 'slack');
    assert.match(ref.url ?? '', /^https:\/\/standin\.slack\.test\/archives\//);

    // Metadata marks every part, so a retry on any host can find it.
    assert.deepEqual(top.map((m) => m.metadata?.event_type), [METADATA_EVENT_TYPE, METADATA_EVENT_TYPE, METADATA_EVENT_TYPE]);
    assert.deepEqual(top.map((m) => m.metadata?.event_payload.part), ['header', 'candidate:c1', 'candidate:c2']);
    assert.ok(top.every((m) => m.metadata?.event_payload.lifecycleId === 'lc-images'));

    // The prompt is plain text (no mention, no link), the deadline and quorum are shown, and the placeholder label.
    assert.ok(textOf(header).includes('an ox in a <field> & @channel'));
    assert.match(textOf(header), /Voting closes <!date\^\d+\^/);
    assert.match(textOf(header), /quorum: 3 votes on every candidate/);
    assert.match(textOf(header), /Demo placeholder/);
    assert.match(textOf(a), /demo placeholder/);

    // Images: read from the store as bytes, uploaded (3 steps), shared into the header's thread, shown by file id.
    assert.equal(slack.callsOf('files.getUploadURLExternal').length, 2);
    assert.equal(slack.callsOf('files.completeUploadExternal').length, 2);
    for (const [message, candidate] of [[a, request.candidates[0]!], [b, request.candidates[1]!]] as const) {
      const image = message!.blocks!.find((bl) => bl.type === 'image') as { slack_file: { id: string } };
      const file = slack.files.get(image.slack_file.id)!;
      assert.ok(file.bytes?.equals(artifacts.bytesOf(candidate.artifact.sha256)), 'uploaded bytes are the artifact');
      assert.ok(file.sharedIn.has(CHANNEL));
      assert.equal(message!.metadata?.event_payload.fileId, file.id);
    }
    const replies = slack.messages(CHANNEL, { includeReplies: true }).filter((m) => m.thread_ts === header!.ts);
    assert.equal(replies.length, 2, 'the file shares sit in the header thread');

    // Buttons: 👍/👎/withdraw with values carrying lifecycle, candidate and vote; no pair buttons for one model.
    assert.deepEqual(actionIds(a), [ACTION.up, ACTION.down, ACTION.retract]);
    const up = (a!.blocks!.find((bl) => bl.type === 'actions')!.elements as Array<{ value: string }>)[0]!;
    assert.deepEqual(JSON.parse(up.value), { l: 'lc-images', c: 'c1', v: 'up' });
    assert.deepEqual(actionIds(header), []);
  });

  it('should offer "A is better", "B is better", "Tie" and withdraw on a two-model lifecycle, naming the pair shown (A, B)', async () => {
    const request: PublishRequest = {
      lifecycleId: 'lc-ab',
      plan: planOf({ model: undefined, models: ['demo:text', 'demo:shapes'] }),
      candidates: [artifacts.text('c1', 'A', 'Oxen are large.'), artifacts.image('c2', 'B', [1, 2, 3])],
      deadlineAt: new Date(Date.now() + 3600_000).toISOString(),
    };
    await publisher().publish(request);
    const [header, a] = slack.messages(CHANNEL);
    assert.deepEqual(actionIds(header), [ACTION.preferA, ACTION.preferB, ACTION.tie, ACTION.retractPair]);
    assert.ok(textOf(a).includes('Oxen are large.'));
    const values = (header!.blocks ?? []).flatMap((b) => (b.type === 'actions' ? (b.elements as Array<{ value: string }>) : [])).map((e) => JSON.parse(e.value) as unknown);
    assert.deepEqual(values, [{ l: 'lc-ab', p: 'a', s: 'c1,c2' }, { l: 'lc-ab', p: 'b', s: 'c1,c2' }, { l: 'lc-ab', p: 'tie', s: 'c1,c2' }, { l: 'lc-ab', p: 'retract', s: 'c1,c2' }]);
    assert.equal(slack.callsOf('files.getUploadURLExternal').length, 1, 'only the image candidate is uploaded');
  });

  it('should split a long text candidate over several sections', async () => {
    const long = 'ox '.repeat(4000);
    await publisher().publish({ lifecycleId: 'lc-long', plan: planOf({ model: 'demo:text' }), candidates: [artifacts.text('c1', 'A', long)], deadlineAt: new Date(Date.now() + 60_000).toISOString() });
    const candidate = slack.messages(CHANNEL)[1]!;
    const sections = candidate.blocks!.filter((b) => String(b.block_id).startsWith('prefline_text_'));
    assert.equal(sections.length, 5);
    assert.equal(sections.map((s) => (s.text as { text: string }).text).join(''), long);
  });

  it('should find the earlier posts on a retry from another host and post nothing new', async () => {
    const request = imageRequest('lc-retry');
    const first = await publisher().publish(request);
    const posted = slack.callsOf('chat.postMessage').length;
    const uploads = slack.callsOf('files.getUploadURLExternal').length;

    const second = await publisher().publish(request); // a fresh instance: nothing cached
    assert.deepEqual(second.messages, first.messages);
    assert.equal(slack.callsOf('chat.postMessage').length, posted, 'no message posted twice');
    assert.equal(slack.callsOf('files.getUploadURLExternal').length, uploads, 'no image uploaded twice');
    const history = slack.callsOf('conversations.history');
    assert.ok(history.length >= 1 && history.every((c) => c.args.include_all_metadata === true), 'looked up with metadata');
  });

  it('should resume a publish that failed half-way, posting only the missing parts', async () => {
    const request = imageRequest('lc-half');
    // Slack fails before storing anything: a retryable error, nothing posted.
    slack.fail('chat.postMessage', { status: 500 });
    await assert.rejects(publisher().publish(request), (err: unknown) => (err as { retryable?: boolean }).retryable === true);
    assert.equal(slack.messages(CHANNEL).length, 0);
    // An attempt that got the header and A out, then died.
    await publisher().publish({ ...request, candidates: request.candidates.slice(0, 1) });
    // The next attempt (another host) posts B; Slack stores it but the answer is lost (a 500 after the effect).
    slack.fail('chat.postMessage', { afterEffect: true, status: 500 });
    await assert.rejects(publisher().publish(request), (err: unknown) => (err as { retryable?: boolean }).retryable === true);
    assert.equal(slack.messages(CHANNEL).length, 3, 'Slack holds header, A and B');

    const posts = slack.callsOf('chat.postMessage').length;
    const ref = await publisher().publish(request);
    assert.equal(slack.callsOf('chat.postMessage').length, posts, 'the last retry found all three and posted nothing');
    assert.equal(slack.messages(CHANNEL).length, 3);
    const [header, a, b] = slack.messages(CHANNEL);
    assert.deepEqual(ref.messages, [
      { ref: `slack:${CHANNEL}:${header!.ts}` },
      { ref: `slack:${CHANNEL}:${a!.ts}`, candidateId: 'c1' },
      { ref: `slack:${CHANNEL}:${b!.ts}`, candidateId: 'c2' },
    ]);
  });

  it('should wait out a short 429 Retry-After and surface a long one as a coded retryable error', async () => {
    const request = imageRequest('lc-429');
    slack.fail('chat.postMessage', { status: 429, retryAfter: '1' });
    const started = Date.now();
    await publisher().publish(request);
    assert.ok(Date.now() - started >= 1000, 'waited the Retry-After second');
    const attempts = slack.callsOf('chat.postMessage');
    assert.ok(attempts[1]!.at - attempts[0]!.at >= 1000, 'the retry came after Retry-After');
    assert.equal(slack.messages(CHANNEL).length, 3, 'nothing posted twice');

    slack.fail('chat.update', { status: 429, retryAfter: '120' });
    const err = await publisher().update!({ lifecycleId: 'lc-429', plan: request.plan, tally: [], votesAccepted: 0 }).then(() => assert.fail('no error'), (e: unknown) => e);
    assert.ok(err instanceof SlackRateLimitedError);
    assert.equal(err.code, ErrorCode.ChannelRateLimited);
    assert.equal(err.retryable, true);
    assert.equal(err.retryAfterSeconds, 120);

    // Through the channel activity: a retryable failure whose next retry waits Retry-After.
    slack.fail('chat.update', { status: 429, retryAfter: '90' });
    const activities = createChannelActivities({ slack: publisher() });
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const failure = await env.run(activities.updatePost, { lifecycleId: 'lc-429', plan: request.plan, tally: [], votesAccepted: 0 }).then(() => assert.fail('no error'), (e: unknown) => e);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, ErrorCode.ChannelRateLimited);
    assert.equal(failure.nonRetryable, false);
    assert.equal(String(failure.nextRetryDelay), '90s');
  });

  it('should treat a 429 without Retry-After as rate limited, and refuse non-retryably on a missing channel', async () => {
    slack.fail('chat.postMessage', { status: 429 });
    const err = await publisher().publish(imageRequest('lc-429b')).then(() => assert.fail('no error'), (e: unknown) => e);
    assert.ok(err instanceof SlackRateLimitedError, String(err));

    const missing = await publisher().publish({ ...imageRequest('lc-x'), plan: planOf({ channel: 'slack:#nowhere' }) }).then(() => assert.fail('no error'), (e: unknown) => e);
    assert.ok(missing instanceof SlackRejectedError);
    assert.equal(missing.retryable, false);
    assert.match(missing.message, /#nowhere/);
  });

  it('should edit the header with the live tally, then close it with the result and take the buttons off', async () => {
    const request = imageRequest('lc-close');
    await publisher().publish(request);
    const [header, a, b] = slack.messages(CHANNEL);
    await publisher().update!({ lifecycleId: 'lc-close', plan: request.plan, tally: [tally('A', 'c1', 2, 1), tally('B', 'c2', 0, 1)], votesAccepted: 4 });
    assert.equal(slack.message(CHANNEL, header!.ts)!.updates, 1);
    assert.ok(Array.isArray(slack.message(CHANNEL, header!.ts)!.blocks), 'the update sends blocks, not only text');
    assert.match(textOf(slack.message(CHANNEL, header!.ts)), /Live tally\* \(4 votes received\)/);
    assert.match(textOf(slack.message(CHANNEL, header!.ts)), /score \+1/);

    // Closed from another host: the header and candidates are found through history.
    await publisher().close({ lifecycleId: 'lc-close', plan: request.plan, closeReason: 'quorum', tally: [tally('A', 'c1', 3, 0), tally('B', 'c2', 0, 3)] });
    const closed = slack.message(CHANNEL, header!.ts)!;
    assert.match(textOf(closed), /Voting closed/);
    assert.match(textOf(closed), /Final result/);
    assert.match(textOf(closed), /Preferred: \*A\*/);
    assert.match(closed.text ?? '', /^Voting closed \(quorum reached\)/);
    assert.deepEqual(actionIds(closed), []);
    for (const m of [a, b]) {
      const after = slack.message(CHANNEL, m!.ts)!;
      assert.deepEqual(actionIds(after), [], 'no buttons after closing');
      assert.ok(blockIds(after).includes('prefline_image'), 'the image stays');
      assert.match(textOf(after), /Voting closed/);
    }
    assert.match(textOf(slack.message(CHANNEL, a!.ts)), /Final: :\+1: 3/);
  });

  it('should escape the prompt in the fallback text of every post and edit, so it mentions and links nobody', async () => {
    const prompt = 'hi <!channel> <!here|here> <@U0ALICE01> <http://evil.test|click> & more';
    const escaped = 'hi &lt;!channel&gt; &lt;!here|here&gt; &lt;@U0ALICE01&gt; &lt;http://evil.test|click&gt; &amp; more';
    const request = { ...imageRequest('lc-mention'), plan: planOf({ candidates: 2, prompt }) };
    await publisher().publish(request);
    const [header, a] = slack.messages(CHANNEL);
    assert.equal(header!.text, `Rate the candidates for: ${escaped}`);
    assert.equal(a!.text, 'Candidate A');
    await publisher().update!({ lifecycleId: 'lc-mention', plan: request.plan, tally: [tally('A', 'c1', 1, 0), tally('B', 'c2', 0, 0)], votesAccepted: 1 });
    assert.equal(slack.message(CHANNEL, header!.ts)!.text, `Rate the candidates for: ${escaped}`);
    await publisher().close({ lifecycleId: 'lc-mention', plan: request.plan, closeReason: 'deadline', tally: [tally('A', 'c1', 1, 0), tally('B', 'c2', 0, 0)] });
    assert.equal(slack.message(CHANNEL, header!.ts)!.text, `Voting closed (deadline passed): ${escaped}`);
    const sent = [...slack.callsOf('chat.postMessage'), ...slack.callsOf('chat.update')].map((c) => String(c.args.text));
    assert.equal(sent.length, 3 + 1 + 3);
    for (const text of sent) assert.doesNotMatch(text, /<[!@#]|<https?:/, text);
    // Image uploads carry no comment (a comment would be mrkdwn); titles and alt texts are plain text.
    for (const call of slack.callsOf('files.completeUploadExternal')) assert.equal(call.args.initial_comment, undefined);
  });

  it('should pace writes to one channel', async () => {
    const started = Date.now();
    await publisher({ paceMs: 250 }).publish({ lifecycleId: 'lc-pace', plan: planOf({ model: 'demo:text' }), candidates: [artifacts.text('c1', 'A', 'a'), artifacts.text('c2', 'B', 'b')], deadlineAt: new Date(Date.now() + 60_000).toISOString() });
    const posts = slack.callsOf('chat.postMessage');
    assert.equal(posts.length, 3);
    assert.ok(posts[2]!.at - posts[0]!.at >= 480, `posts spaced: ${posts.map((p) => p.at - started).join(',')}`);
  });
});
