/**
 * A campaign item as one Slack rater is shown it, and the reading of its buttons: the pair in that rater's
 * order, the buttons' values checked against the item's status (not the message), thumbs items per
 * candidate, no models or tally while voting.
 */
import assert from 'node:assert/strict';
import {
  NEXT_ACTION, assignedItemMessage, isCampaignClick, isItemOfChannel, readAssignedClick, withNext,
} from '../../../channels/slack/campaign-messages';
import { ACTION } from '../../../channels/slack/messages';
import { shownPair } from '../../../channels/rater-view';
import type { LifecycleStatus } from '../../../workflows/types';

const RATER = 'r_000000000000000000000001';
const OTHER = 'r_000000000000000000000002';
const tally = (candidateId: string, label: string) => ({ candidateId, label, up: 0, down: 0, votes: 0, score: 0 });
const candidate = (id: string, label: string, text: string) => ({
  id, label, model: `model-${id}`, kind: 'text' as const, text, placeholder: false, artifact: { sha256: id.repeat(32), mime: 'text/plain', size: text.length }, tally: tally(id, label),
});

function status(overrides: Partial<LifecycleStatus> = {}): LifecycleStatus {
  return {
    lifecycleId: 'camp-item-0', prompt: 'say hello', phase: 'voting', task: 'compare', question: 'Which is kinder?', channel: 'slack:C0FEEDBK01', campaign: 'camp',
    delivery: 'assigned', models: ['model-c1', 'model-c2'], quorum: { kind: 'responses', responses: 3 }, deadlineAt: '2026-12-02T00:00:00.000Z',
    candidates: [candidate('c1', 'A', 'hello there'), candidate('c2', 'B', 'go away')], votesAccepted: 0,
    ...overrides,
  } as LifecycleStatus;
}

const buttons = (blocks: Array<Record<string, unknown>> | undefined) => (blocks ?? []).flatMap((b) => (b.type === 'actions' ? (b.elements as Array<Record<string, unknown>>) : []));
const click = (actionId: string, value: unknown) => ({ action_id: actionId, value: typeof value === 'string' ? value : JSON.stringify(value), action_ts: '1764547200.000100' });

/** A rater of the two whose order of the pair is swapped, and one whose is not (presentation order is per rater). */
function ratersByOrder(s: LifecycleStatus): { straight?: string; swapped?: string } {
  const out: { straight?: string; swapped?: string } = {};
  for (let n = 1; n < 64 && !(out.straight && out.swapped); n++) {
    const r = `r_${n.toString(16).padStart(24, '0')}`;
    if (shownPair(s, r)![0].id === 'c1') out.straight ??= r;
    else out.swapped ??= r;
  }
  return out;
}

describe('channels/slack/campaign-messages', () => {
  it('should show a compare item in the rater\'s own order with the four answers, and no models or tally', () => {
    const s = status();
    const { swapped } = ratersByOrder(s);
    const message = assignedItemMessage(s, swapped!, 'camp-id', '2026-12-01T15:00:00.000Z');
    const text = JSON.stringify(message.blocks);
    assert.ok(text.indexOf('go away') < text.indexOf('hello there'), 'the swapped rater sees the second candidate first');
    assert.deepEqual(buttons(message.blocks).map((b) => b.action_id), [ACTION.preferA, ACTION.preferB, ACTION.tie, ACTION.bothBad]);
    assert.deepEqual(JSON.parse(buttons(message.blocks)[0]!.value as string), { l: 'camp-item-0', k: 'camp-id', p: 'a', s: 'c2,c1' });
    assert.ok(!text.includes('model-c'), 'no model names while voting');
    assert.ok(!/answers so far/i.test(text), 'no tally');
    const noBothBad = assignedItemMessage(status({ allowBothBad: false }), RATER, 'camp-id', '2026-12-01T15:00:00.000Z');
    assert.equal(buttons(noBothBad.blocks).some((b) => b.action_id === ACTION.bothBad), false);
  });

  it('should read a compare click as a judgement of the pair as its rater is shown it, and refuse any other pair or lifecycle', () => {
    const s = status();
    const { straight, swapped } = ratersByOrder(s);
    const who = { rater: swapped!, team: 'T0STANDIN' };
    const reading = readAssignedClick(click(ACTION.preferA, { l: 'camp-item-0', k: 'camp-id', p: 'a', s: 'c2,c1' }), s, who, 0);
    assert.ok('judgement' in reading);
    assert.deepEqual({ ...reading.judgement }, {
      rater: swapped, channel: 'slack', castAt: '2025-12-01T00:00:00.000Z', idempotencyKey: `slack:T0STANDIN:1764547200.000100:${swapped}`, left: 'c2', right: 'c1', choice: 'left',
    });
    // The straight rater's button, clicked by the swapped one: not theirs.
    assert.deepEqual(readAssignedClick(click(ACTION.preferA, { l: 'camp-item-0', k: 'camp-id', p: 'a', s: 'c1,c2' }), s, who, 0), { tampered: true });
    assert.ok('judgement' in readAssignedClick(click(ACTION.preferA, { l: 'camp-item-0', k: 'camp-id', p: 'a', s: 'c1,c2' }), s, { rater: straight!, team: 'T' }, 0));
    assert.deepEqual(readAssignedClick(click(ACTION.preferB, { l: 'camp-item-0', k: 'camp-id', p: 'a', s: 'c2,c1' }), s, who, 0), { tampered: true }, 'the button says another choice');
    assert.deepEqual(readAssignedClick(click(ACTION.preferA, { l: 'camp-item-9', k: 'camp-id', p: 'a', s: 'c2,c1' }), s, who, 0), { tampered: true }, 'another lifecycle');
    assert.deepEqual(readAssignedClick(click(ACTION.retractPair, { l: 'camp-item-0', k: 'camp-id', p: 'retract', s: 'c2,c1' }), s, who, 0), { tampered: true }, 'items offer no withdrawal');
  });

  it('should show a thumbs item with 👍/👎 per candidate, and read a click as a vote on one of its candidates only', () => {
    const s = status({ task: 'thumbs', question: undefined, quorum: { kind: 'perCandidate', votes: 3 }, candidates: [candidate('c1', 'A', 'hello there')] });
    const message = assignedItemMessage(s, OTHER, 'camp-id', '2026-12-01T15:00:00.000Z');
    assert.deepEqual(buttons(message.blocks).map((b) => b.action_id), [ACTION.up, ACTION.down]);
    const up = JSON.parse(buttons(message.blocks)[0]!.value as string);
    assert.deepEqual(up, { l: 'camp-item-0', k: 'camp-id', c: 'c1', v: 'up' });
    const reading = readAssignedClick(click(ACTION.up, up), s, { rater: OTHER, team: 'T' }, 0);
    assert.ok('vote' in reading && reading.vote.candidateId === 'c1' && reading.vote.value === 'up' && reading.label === 'A');
    assert.deepEqual(readAssignedClick(click(ACTION.up, { ...up, c: 'c9' }), s, { rater: OTHER, team: 'T' }, 0), { tampered: true });
    assert.deepEqual(readAssignedClick(click(ACTION.down, up), s, { rater: OTHER, team: 'T' }, 0), { tampered: true });
  });

  it('should tell campaign clicks from post clicks, and items of this channel from others', () => {
    assert.equal(isCampaignClick(click(NEXT_ACTION, { k: 'camp-id' })), true);
    assert.equal(isCampaignClick(click(ACTION.preferA, { l: 'x', k: 'camp-id', p: 'a' })), true);
    assert.equal(isCampaignClick(click(ACTION.preferA, { l: 'x', p: 'a', s: 'c1,c2' })), false);
    assert.equal(isItemOfChannel(status(), { id: 'C0FEEDBK01' }), true);
    assert.equal(isItemOfChannel(status({ channel: 'slack:#ox-feedback' }), { id: 'C0FEEDBK01', name: 'ox-feedback' }), true);
    assert.equal(isItemOfChannel(status(), { id: 'C0OTHER001' }), false);
    assert.equal(isItemOfChannel(status({ delivery: undefined }), { id: 'C0FEEDBK01' }), false, 'a posted lifecycle is not a handed-out item');
    const next = withNext('done', 'camp-id', 'camp-item-0');
    assert.deepEqual(JSON.parse(buttons(next.blocks)[0]!.value as string), { k: 'camp-id', d: 'camp-item-0' });
  });
});
