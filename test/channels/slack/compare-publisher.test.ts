/**
 * The Slack publisher on compare lifecycles, against the Slack stand-in: one message with both
 * candidates in the message's order and the answer buttons; no model names anywhere a rater sees
 * while voting (blocks, fallback text, uploads), on thumbs A/B lifecycles too; progress only while
 * voting; the result and the models once closed; a retry posts nothing twice.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ACTION } from '../../../channels/slack/messages';
import { createSlackPublisher } from '../../../channels/slack/publisher';
import type { PublishRequest } from '../../../channels/types';
import { presentationOrder } from '../../../core/presentation';
import { validateLifecycleInput } from '../../../workflows/input';
import type { Candidate, LifecyclePlan } from '../../../workflows/types';
import { discPng } from '../../helpers/fake-directory';
import { SlackStandIn, type StoredMessage } from '../../standins/slack-server';

const CHANNEL = 'C0FEEDBK01';
const MODELS = /acme|diffusion|wordsmith|replicate|demo:shapes|demo:text/;

function planOf(input: Record<string, unknown>): LifecyclePlan {
  const result = validateLifecycleInput({ prompt: 'an ox at dawn', channel: 'slack:#ox-feedback', ...input }, Date.now());
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.plan;
}

function text(id: string, label: string, body: string, model: string): Candidate {
  const sha256 = createHash('sha256').update(body).digest('hex');
  return {
    id, label, model, kind: 'text', text: body, placeholder: false,
    artifact: { sha256, mime: 'text/plain; charset=utf-8', size: Buffer.byteLength(body), path: `sha256/${sha256.slice(0, 2)}/${sha256}.txt` },
    provenance: { backend: 'replicate', model, params: {}, seed: 1, wallTimeMs: 1 },
  };
}

const actionsOf = (m: StoredMessage | undefined) =>
  (m?.blocks ?? []).flatMap((b) => (b.type === 'actions' ? (b.elements as Array<{ action_id: string; value: string }>) : []));
/** Everything of a message a rater can see: its blocks and its fallback text. */
const visible = (m: StoredMessage | undefined) => `${JSON.stringify(m?.blocks ?? [])}\n${m?.text ?? ''}`;

describe('channels/slack: compare lifecycles on the Slack stand-in', function () {
  this.timeout(30_000);
  let slack: SlackStandIn;
  const pngs = new Map<string, Buffer>();
  const publisher = () => createSlackPublisher({ token: slack.botToken, apiUrl: slack.apiUrl, readArtifact: async (sha) => pngs.get(sha)!, paceMs: 0, retries: 0, sleep: async () => {} });

  function image(id: string, label: string, rgb: [number, number, number], model: string): Candidate {
    const png = discPng(rgb, 32);
    const sha256 = createHash('sha256').update(png).digest('hex');
    pngs.set(sha256, png);
    return {
      id, label, model, kind: 'image', placeholder: false,
      artifact: { sha256, mime: 'image/png', size: png.length, path: `sha256/${sha256.slice(0, 2)}/${sha256}.png` },
      provenance: { backend: 'replicate', model, params: {}, seed: 1, wallTimeMs: 1 },
    };
  }

  /** A lifecycle id whose message shows the pair swapped (c2 first), or not. */
  const lifecycleShowing = (swapped: boolean) => ['lc-cmp-1', 'lc-cmp-2', 'lc-cmp-3', 'lc-cmp-4', 'lc-cmp-5', 'lc-cmp-6'].find((l) => (presentationOrder(l, undefined, ['c1', 'c2'] as const)[0] === 'c2') === swapped)!;

  function request(lifecycleId: string, input: Record<string, unknown> = {}, candidates?: Candidate[]): PublishRequest {
    return {
      lifecycleId,
      plan: planOf({ task: 'compare', models: ['replicate:acme/diffusion', 'replicate:acme/wordsmith-7b'], question: 'Which ox looks calmer?', ...input }),
      candidates: candidates ?? [text('c1', 'A', 'a calm ox', 'replicate:acme/diffusion'), text('c2', 'B', 'a restless ox', 'replicate:acme/wordsmith-7b')],
      deadlineAt: new Date(Date.now() + 3600_000).toISOString(),
    };
  }

  beforeEach(async () => {
    slack = await SlackStandIn.start();
  });
  afterEach(async () => slack.close());

  it('posts ONE message: the question, both candidates in the message\'s order as A and B, and A/B/Tie/Both bad/Withdraw buttons naming that order', async () => {
    for (const swapped of [false, true]) {
      const lifecycleId = lifecycleShowing(swapped);
      const req = request(lifecycleId);
      const ref = await publisher().publish(req);
      const message = slack.messages(CHANNEL).at(-1)!;
      assert.deepEqual(ref.messages, [{ ref: `slack:${CHANNEL}:${message.ts}` }], 'one message, no candidate messages to react on');
      const shown = presentationOrder(lifecycleId, undefined, ['c1', 'c2'] as const);
      const body = visible(message);
      assert.match(body, /Which ox looks calmer\?/);
      const first = body.indexOf(shown[0] === 'c1' ? 'a calm ox' : 'a restless ox');
      const second = body.indexOf(shown[0] === 'c1' ? 'a restless ox' : 'a calm ox');
      assert.ok(first > 0 && second > first, `shown in the order ${shown.join(',')}`);
      assert.ok(body.indexOf('*A*') < first && body.indexOf('*B*') > first && body.indexOf('*B*') < second);
      assert.deepEqual(actionsOf(message).map((e) => e.action_id), [ACTION.preferA, ACTION.preferB, ACTION.tie, ACTION.bothBad, ACTION.retractPair]);
      assert.deepEqual(actionsOf(message).map((e) => JSON.parse(e.value) as unknown), ['a', 'b', 'tie', 'both_bad', 'retract'].map((p) => ({ l: lifecycleId, p, s: shown.join(',') })));
      assert.deepEqual(message.metadata?.event_payload, { lifecycleId, part: 'header', deadlineAt: req.deadlineAt, placeholder: false, pair: shown.join(','), task: 'compare', files: '' });
      assert.match(body, /Answers so far:\* 0/);
      assert.match(body, /Reactions are not counted/);
    }
  });

  it('offers no "Both bad" where the lifecycle does not allow it', async () => {
    await publisher().publish(request('lc-nbb', { allowBothBad: false }));
    assert.deepEqual(actionsOf(slack.messages(CHANNEL)[0]).map((e) => e.action_id), [ACTION.preferA, ACTION.preferB, ACTION.tie, ACTION.retractPair]);
  });

  it('shows no model name while voting, in blocks, fallback text or uploads (compare and thumbs A/B alike); revealModels shows them', async () => {
    const lifecycleId = lifecycleShowing(true);
    const images = [image('c1', 'A', [200, 40, 40], 'replicate:acme/diffusion'), image('c2', 'B', [40, 40, 200], 'replicate:acme/wordsmith-7b')];
    await publisher().publish(request(lifecycleId, {}, images));
    const ab = planOf({ models: ['replicate:acme/diffusion', 'replicate:acme/wordsmith-7b'] });
    await publisher().publish({ lifecycleId: 'lc-thumbs-ab', plan: ab, candidates: [text('c1', 'A', 'one', 'replicate:acme/diffusion'), text('c2', 'B', 'two', 'replicate:acme/wordsmith-7b')], deadlineAt: new Date(Date.now() + 3600_000).toISOString() });
    const seen = slack.messages(CHANNEL, { includeReplies: true });
    assert.ok(seen.length >= 5);
    for (const m of seen) assert.doesNotMatch(visible(m), MODELS, visible(m));
    for (const f of slack.files.values()) assert.doesNotMatch(`${f.filename} ${f.altText ?? ''}`, MODELS);
    // Uploads are named by the side they show, never by a label that could disagree with it.
    assert.deepEqual([...slack.files.values()].map((f) => f.filename).sort(), ['a.png', 'b.png']);

    await publisher().publish(request('lc-revealed', { revealModels: true }));
    assert.match(visible(slack.messages(CHANNEL).at(-1)), /acme\/diffusion/);
  });

  it('shows the images once uploaded (into the message\'s thread), and a retry posts and uploads nothing again', async () => {
    const lifecycleId = lifecycleShowing(false);
    const req = request(lifecycleId, {}, [image('c1', 'A', [200, 40, 40], 'x:one'), image('c2', 'B', [40, 40, 200], 'x:two')]);
    await publisher().publish(req);
    const [message] = slack.messages(CHANNEL);
    const shownFiles = (message!.blocks ?? []).filter((b) => b.type === 'image').map((b) => (b.slack_file as { id: string }).id);
    assert.equal(shownFiles.length, 2);
    for (const id of shownFiles) assert.ok(slack.files.get(id)!.sharedIn.has(CHANNEL));
    assert.match(String(message!.metadata?.event_payload.files), /^c1=F\w+,c2=F\w+$/);
    assert.equal(slack.messages(CHANNEL, { includeReplies: true }).filter((m) => m.thread_ts === message!.ts && m.ts !== message!.ts).length, 2);
    await publisher().publish(req); // another host: finds the message in the history
    assert.equal(slack.messages(CHANNEL).length, 1);
    assert.equal(slack.callsOf('files.completeUploadExternal').length, 2);
  });

  it('keeps the sides on update with progress only, and shows the result and the models once closed', async () => {
    const lifecycleId = lifecycleShowing(true);
    const req = request(lifecycleId);
    const [a, b] = presentationOrder(lifecycleId, undefined, ['c1', 'c2'] as const);
    await publisher().publish(req);
    const judgements = { byCandidate: { [a]: 3, [b]: 1 }, tie: 1, bothBad: 1, standing: 6 };
    await createSlackPublisher({ token: slack.botToken, apiUrl: slack.apiUrl, readArtifact: async () => Buffer.alloc(0), paceMs: 0, retries: 0 })
      .update!({ lifecycleId, plan: req.plan, tally: [], votesAccepted: 6, judgements });
    let message = slack.messages(CHANNEL)[0]!;
    assert.match(visible(message), /Answers so far:\* 6/);
    assert.doesNotMatch(visible(message), /better: 3|Preferred/, 'nobody sees who is winning while voting');
    assert.ok(visible(message).includes('a calm ox') && visible(message).includes('a restless ox'), 'the sides are kept');
    assert.equal(actionsOf(message).length, 5);

    const tally = [{ candidateId: 'c1', label: 'A', up: 0, down: 0, score: 0, votes: 0 }, { candidateId: 'c2', label: 'B', up: 0, down: 0, score: 0, votes: 0 }];
    await publisher().close({ lifecycleId, plan: req.plan, closeReason: 'quorum', tally, judgements });
    message = slack.messages(CHANNEL)[0]!;
    assert.deepEqual(actionsOf(message), [], 'no buttons once closed');
    assert.match(visible(message), /\*A\* better: 3 · \*B\* better: 1 · tie: 1 · both bad: 1 \(6 answers\)/);
    assert.match(visible(message), /Preferred: \*A\*/);
    const modelOf = { c1: 'replicate:acme/diffusion', c2: 'replicate:acme/wordsmith-7b' } as const;
    assert.ok(visible(message).includes(`*A* was \`${modelOf[a]}\`, *B* was \`${modelOf[b]}\``), visible(message));
    assert.ok(visible(message).includes('a calm ox'));
  });
});
