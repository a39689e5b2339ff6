import assert from 'node:assert/strict';
import { ACTION } from '../../../channels/slack/messages';
import type { BlockAction, ReactionEnvelope } from '../../../channels/slack/payloads';
import { buttonVoteRequests, isNotAVote, notOnOurPost, reactionVoteRequest, readReaction, type ThumbReaction } from '../../../channels/slack/votes';
import type { PostInfo } from '../../../core/post-directory';
import { presentationOrder } from '../../../core/presentation';

const BOT = 'U0BOT0001';
const RATER = 'r_0123456789abcdef01234567';
const NOW = Date.parse('2026-03-01T12:00:00.000Z');

function envelope(event: Partial<ReactionEnvelope['event']> = {}, extra: Partial<ReactionEnvelope> = {}): ReactionEnvelope {
  return {
    event_id: 'Ev0123ABC',
    event_time: 1_700_000_000,
    event: {
      type: 'reaction_added',
      user: 'U0ALICE01',
      reaction: '+1',
      item_user: BOT,
      item: { type: 'message', channel: 'C0FEEDBK01', ts: '1700000000.000100' },
      event_ts: '1700000001.250000',
      ...event,
    },
    ...extra,
  };
}

function reaction(e: ReactionEnvelope): ThumbReaction {
  const read = readReaction(e);
  assert.ok(!isNotAVote(read), JSON.stringify(read));
  return read;
}

const candidatePost: PostInfo = { lifecycleId: 'lc-1', candidateId: 'c1', candidates: [{ id: 'c1', label: 'A' }, { id: 'c2', label: 'B' }] };
const headerPost: PostInfo = { lifecycleId: 'lc-ab', candidates: [{ id: 'c1', label: 'A' }, { id: 'c2', label: 'B' }] };
const who = { rater: RATER, team: 'T0TEAM001' };

function click(actionId: string, value: unknown, actionTs = '1700000002.500000'): BlockAction {
  return { action_id: actionId, action_ts: actionTs, value: typeof value === 'string' ? value : JSON.stringify(value) };
}

describe('channels/slack/votes', () => {
  describe('reactions', () => {
    it('should read a thumbs reaction on a message: who, which way, on which message', () => {
      assert.deepEqual(reaction(envelope()), {
        eventId: 'Ev0123ABC', user: 'U0ALICE01', direction: 'up', removed: false, itemUser: BOT,
        ref: 'slack:C0FEEDBK01:1700000000.000100', eventTs: '2023-11-14T22:13:21.250Z', eventTime: 1_700_000_000,
      });
      assert.equal(reaction(envelope({ reaction: '-1::skin-tone-2', type: 'reaction_removed' })).direction, 'down');
      assert.equal(reaction(envelope({ type: 'reaction_removed' })).removed, true);
    });

    it('should not read other emoji, reactions on files, or malformed users as votes', () => {
      assert.deepEqual(readReaction(envelope({ reaction: 'tada' })), { skip: 'emoji is not a vote', detail: 'tada' });
      assert.deepEqual(readReaction(envelope({ item: { type: 'file' } })), { skip: 'not a reaction on a message' });
      assert.deepEqual(readReaction(envelope({ user: 'u-lower' })), { skip: 'not a reaction on a message' });
      assert.deepEqual(readReaction(envelope({ user: undefined })), { skip: 'not a reaction on a message' });
    });

    it('should leave the reference undefined when the message ids are malformed (never into a query)', () => {
      assert.equal(reaction(envelope({ item: { type: 'message', channel: "C0' OR 1=1", ts: '1700000000.000100' } })).ref, undefined);
      assert.equal(reaction(envelope({ item: { type: 'message', channel: 'C0FEEDBK01', ts: 'now' } })).ref, undefined);
    });

    it('should count only raters\' reactions on the bot\'s own messages', () => {
      assert.equal(notOnOurPost(reaction(envelope()), BOT), undefined);
      assert.equal(notOnOurPost(reaction(envelope({ item_user: undefined })), BOT), undefined, 'Slack may leave the author out');
      assert.deepEqual(notOnOurPost(reaction(envelope({ user: BOT })), BOT), { skip: "the bot's own reaction" });
      assert.deepEqual(notOnOurPost(reaction(envelope({ item_user: 'U0SOMEONE' })), BOT), { skip: 'not a message of this bot' });
    });

    it('should cast the vote at Slack\'s event time, keyed by the event id; a removal retracts', () => {
      assert.deepEqual(reactionVoteRequest(reaction(envelope()), 'c1', RATER, NOW), {
        idempotencyKey: 'slack:Ev0123ABC', candidateId: 'c1', value: 'up', rater: RATER, channel: 'slack', castAt: '2023-11-14T22:13:21.250Z',
      });
      assert.equal(reactionVoteRequest(reaction(envelope({ type: 'reaction_removed', reaction: '-1' })), 'c1', RATER, NOW).value, 'retract');
    });

    it('should fall back to the envelope\'s event time, then to now, for the time of the vote', () => {
      assert.equal(reactionVoteRequest(reaction(envelope({ event_ts: 'garbled' })), 'c1', RATER, NOW).castAt, new Date(1_700_000_000_000).toISOString());
      assert.equal(reactionVoteRequest(reaction(envelope({ event_ts: undefined }, { event_time: undefined })), 'c1', RATER, NOW).castAt, new Date(NOW).toISOString());
    });
  });

  describe('buttons', () => {
    it('should cast a candidate button\'s vote, keyed by team, action time and rater', () => {
      for (const [actionId, value] of [[ACTION.up, 'up'], [ACTION.down, 'down'], [ACTION.retract, 'retract']] as const) {
        const reading = buttonVoteRequests(click(actionId, { l: 'lc-1', c: 'c1', v: value }), candidatePost, who, NOW);
        assert.deepEqual(reading, {
          votes: [{
            request: { rater: RATER, channel: 'slack', castAt: '2023-11-14T22:13:22.500Z', idempotencyKey: `slack:T0TEAM001:1700000002.500000:${RATER}`, candidateId: 'c1', value },
            label: 'A',
          }],
        });
      }
    });

    it('should record a comparison as one judgement naming the pair as shown, ties and both bad kept, one key per click', () => {
      const key = `slack:T0TEAM001:1700000002.500000:${RATER}`;
      const cases = [[ACTION.preferA, 'a', 'left'], [ACTION.preferB, 'b', 'right'], [ACTION.tie, 'tie', 'tie'], [ACTION.bothBad, 'both_bad', 'both_bad'], [ACTION.retractPair, 'retract', 'retract']] as const;
      for (const [actionId, choice, judged] of cases) {
        // A thumbs A/B header shows A, B; buttons posted before judgements carry no pair and mean the same.
        for (const value of [{ l: 'lc-ab', p: choice, s: 'c1,c2' }, { l: 'lc-ab', p: choice }]) {
          assert.deepEqual(buttonVoteRequests(click(actionId, value), headerPost, who, NOW), {
            judgement: { rater: RATER, channel: 'slack', castAt: '2023-11-14T22:13:22.500Z', idempotencyKey: key, left: 'c1', right: 'c2', choice: judged },
            choice,
          });
        }
      }
      // A compare message shows its pair in presentationOrder keyed by the lifecycle alone.
      for (const lifecycleId of ['lc-cmp-1', 'lc-cmp-2', 'lc-cmp-3', 'lc-cmp-4']) {
        const post: PostInfo = { ...headerPost, lifecycleId, task: 'compare' };
        const [left, right] = presentationOrder(lifecycleId, undefined, ['c1', 'c2'] as const);
        const reading = buttonVoteRequests(click(ACTION.preferB, { l: lifecycleId, p: 'b', s: `${left},${right}` }), post, who, NOW);
        assert.ok('judgement' in reading, JSON.stringify(reading));
        assert.deepEqual([reading.judgement.left, reading.judgement.right, reading.judgement.choice], [left, right, 'right']);
      }
    });

    it('should call a button tampered with when its value disagrees with its message', () => {
      const single: PostInfo = { lifecycleId: 'lc-3', candidates: [{ id: 'c1', label: 'A' }] };
      const swapped = ['lc-cmp-1', 'lc-cmp-2', 'lc-cmp-3', 'lc-cmp-4', 'lc-cmp-5', 'lc-cmp-6'].find((l) => presentationOrder(l, undefined, ['c1', 'c2'] as const)[0] === 'c2')!;
      const compare: PostInfo = { ...headerPost, lifecycleId: swapped, task: 'compare' };
      const tampered: Array<[BlockAction, PostInfo]> = [
        [click(ACTION.up, { l: 'lc-ab', c: 'c1', v: 'up' }), candidatePost], // another lifecycle
        [click(ACTION.up, { l: 'lc-1', c: 'c2', v: 'up' }), candidatePost], // another candidate
        [click(ACTION.up, { l: 'lc-1', c: 'c1', v: 'down' }), candidatePost], // another vote
        [click(ACTION.up, 'not json'), candidatePost],
        [click(ACTION.up, { l: 'lc-ab', c: 'c1', v: 'up' }), headerPost], // a candidate button on a header
        [click(ACTION.preferA, { l: 'lc-1', p: 'a' }), candidatePost], // a pair button on a candidate message
        [click(ACTION.preferA, { l: 'lc-ab', p: 'b' }), headerPost], // another choice
        [click(ACTION.preferA, { l: 'lc-3', p: 'a' }), single], // not two candidates
        [click(ACTION.preferA, { l: 'lc-ab', p: 'a', s: 'c2,c1' }), headerPost], // a forged order
        [click(ACTION.preferA, { l: 'lc-ab', p: 'a', s: 'c1,c9' }), headerPost], // another candidate
        [click(ACTION.preferA, { l: 'lc-ab', p: 'a', s: 'c1,c2,c3' }), headerPost],
        [click(ACTION.preferA, { l: swapped, p: 'a', s: 'c1,c2' }), compare], // the order the message does not show
        [click(ACTION.preferA, { l: swapped, p: 'a' }), compare], // a compare message's buttons always name the pair
        [click(ACTION.bothBad, { l: 'lc-ab', p: 'tie', s: 'c1,c2' }), headerPost], // value and action disagree
        [click(ACTION.preferA, { l: 'lc-other', p: 'a', s: 'c1,c2' }), headerPost], // another lifecycle's button
      ];
      for (const [action, post] of tampered) assert.deepEqual(buttonVoteRequests(action, post, who, NOW), { tampered: true }, action.value);
    });

    it('should skip an unknown Prefline action, and use now for a malformed action time', () => {
      assert.deepEqual(buttonVoteRequests(click('prefline_other', { l: 'lc-1' }), candidatePost, who, NOW), { skip: 'unknown action', detail: 'prefline_other' });
      const reading = buttonVoteRequests(click(ACTION.up, { l: 'lc-1', c: 'c1', v: 'up' }, 'soon'), candidatePost, who, NOW);
      assert.ok('votes' in reading);
      assert.equal(reading.votes[0]!.request.castAt, new Date(NOW).toISOString());
    });
  });
});
