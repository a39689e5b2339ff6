/**
 * The judgement rules (workflows/judgement-tally.ts): shape, pair and offered answers; per rater the
 * latest judgement stands whatever order the pair was shown in; withdrawals; counts; the compact state
 * carried across continue-as-new; the flags a later judgement clears.
 */
import assert from 'node:assert/strict';
import { JudgementTally, judgementRefusal, malformedJudgementReason, winnerOf } from '../../workflows/judgement-tally';
import type { JudgementChoice, JudgementRequest } from '../../workflows/types';
import { judgement } from '../helpers/votes';

const PAIR = [{ id: 'c1' }, { id: 'c2' }];
const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const j = (choice: JudgementChoice, rater: number, s: number, shown: [string, string] = ['c1', 'c2'], extra: Partial<JudgementRequest> = {}) =>
  judgement(choice, rater, shown, { castAt: at(s), ...extra });

describe('workflows/judgement-tally', () => {
  describe('shape and rules', () => {
    it('should accept a well-formed judgement and name the first problem of a malformed one', () => {
      assert.equal(malformedJudgementReason(j('left', 1, 0)), undefined);
      const cases: Array<[Partial<Record<keyof JudgementRequest, unknown>>, RegExp]> = [
        [{ idempotencyKey: '' }, /^idempotencyKey/],
        [{ left: undefined }, /^left: required/],
        [{ right: 7 }, /^right: required/],
        [{ right: 'c1' }, /^left, right: must be two different candidates/],
        [{ choice: 'a' }, /^choice: must be "left", "right", "tie", "both_bad", "retract"/],
        [{ rater: 'alice@example.org' }, /^rater: must be a pseudonym/],
        [{ comment: 'x'.repeat(2001) }, /^comment/],
        [{ channel: 'WEB!' }, /^channel/],
        [{ castAt: 'March 1, 2026' }, /^castAt/],
        [{ castAt: '2026-02-30T10:00:00Z' }, /^castAt/],
        [{ raterAuth: 'slack' }, /^raterAuth/],
      ];
      for (const [change, reason] of cases) assert.match(malformedJudgementReason({ ...j('left', 1, 0), ...change }) ?? '', reason, JSON.stringify(change));
      assert.equal(malformedJudgementReason(null), 'judgement must be an object');
    });

    it('should refuse judgements on anything but the lifecycle\'s pair, and both bad where it is not offered', () => {
      const rules = { candidateIds: ['c1', 'c2'], allowBothBad: false };
      assert.equal(judgementRefusal(j('left', 1, 0, ['c2', 'c1']), rules), undefined);
      assert.equal(judgementRefusal(j('left', 1, 0, ['c1', 'c3']), rules)?.code, 'unknown_candidate');
      assert.equal(judgementRefusal(j('both_bad', 1, 0), rules)?.code, 'choice_not_offered');
      assert.equal(judgementRefusal(j('both_bad', 1, 0), { ...rules, allowBothBad: true }), undefined);
      assert.equal(judgementRefusal(j('left', 1, 0), { candidateIds: ['c1', 'c2', 'c3'], allowBothBad: true })?.code, 'not_pairwise');
      assert.equal(judgementRefusal(j('left', 1, 0), { candidateIds: ['c1'], allowBothBad: true })?.code, 'not_pairwise');
      assert.equal(judgementRefusal({ ...j('left', 1, 0), choice: 'best' }, rules)?.code, 'malformed_vote');
    });

    it('should derive the winner from the side chosen and the order shown', () => {
      assert.equal(winnerOf({ left: 'c2', right: 'c1', choice: 'left' }), 'c2');
      assert.equal(winnerOf({ left: 'c2', right: 'c1', choice: 'right' }), 'c1');
      for (const choice of ['tie', 'both_bad', 'retract'] as const) assert.equal(winnerOf({ left: 'c1', right: 'c2', choice }), undefined);
    });
  });

  describe('record', () => {
    it('should count per rater the latest judgement, in either order shown, and withdraw it on retract', () => {
      const t = new JudgementTally(PAIR);
      assert.equal(t.record(j('left', 1, 0), at(0), 1, true).outcome, 'recorded');
      // The same answer (c1) seen the other way round: unchanged.
      assert.equal(t.record(j('right', 1, 1, ['c2', 'c1']), at(1), 2, true).outcome, 'unchanged');
      assert.equal(t.record(j('tie', 1, 2), at(2), 3, true).outcome, 'changed');
      assert.deepEqual(t.counted(), { byCandidate: { c1: 0, c2: 0 }, tie: 1, bothBad: 0, standing: 1 });
      assert.equal(t.record(j('retract', 1, 3), at(3), 4, true).outcome, 'retracted');
      assert.deepEqual(t.counted(), { byCandidate: { c1: 0, c2: 0 }, tie: 0, bothBad: 0, standing: 0 });
      assert.equal(t.record(j('retract', 1, 4), at(4), 5, true).outcome, 'unchanged', 'nothing left to withdraw');
      // Older than the withdrawal: kept, changes nothing.
      assert.equal(t.record(j('left', 1, 2.5), at(5), 6, true).outcome, 'unchanged');
      assert.equal(t.record(j('both_bad', 2, 0), at(6), 7, false).outcome, 'recorded');
      assert.equal(t.record(j('left', 3, 0, ['c2', 'c1']), at(7), 8, true).outcome, 'recorded');
      assert.deepEqual(t.counted(), { byCandidate: { c1: 0, c2: 1 }, tie: 0, bothBad: 1, standing: 2 });
      assert.equal(t.accepted, 8);
      assert.deepEqual(t.uncommittedEvents().map((e) => [e.seq, e.modelsHidden]), [[1, true], [2, true], [3, true], [4, true], [5, true], [6, true], [7, false], [8, true]]);
      assert.deepEqual(t.ratersWhoJudged().length, 3);
    });

    it('should answer duplicate for a key seen before, counting it once', () => {
      const t = new JudgementTally(PAIR);
      const first = j('left', 1, 0);
      t.record(first, at(0), 1, true);
      assert.deepEqual(t.record({ ...first, choice: 'right' }, at(1), 2, true), { outcome: 'duplicate' });
      assert.equal(t.accepted, 1);
      assert.equal(t.counted().byCandidate['c1'], 1);
    });

    it('should order by castAt, then by acceptance, so a withdrawal that overtook its judgement still wins', () => {
      const t = new JudgementTally(PAIR);
      t.record(j('retract', 1, 10), at(0), 1, true);
      assert.equal(t.record(j('left', 1, 5), at(1), 2, true).outcome, 'unchanged');
      assert.equal(t.counted().standing, 0);
      t.record(j('left', 2, 20), at(2), 3, true);
      assert.equal(t.record(j('right', 2, 20), at(3), 4, true).outcome, 'changed', 'same castAt: the later one stands');
      assert.equal(t.counted().byCandidate['c2'], 1);
    });
  });

  describe('commits and the carried state', () => {
    it('should flag standing judgements, clear the flags of committed ones a later judgement supersedes, and carry it all', () => {
      const t = new JudgementTally(PAIR);
      const first = [j('left', 1, 0), j('right', 2, 1), j('tie', 3, 2)];
      first.forEach((r, i) => t.record(r, at(i), i * 2 + 1, true)); // seqs 1, 3, 5: votes took 2 and 4
      const flagged = t.flag(3);
      assert.deepEqual(flagged.map((f) => [f.seq, f.standing]), [[1, true], [3, true], [5, true]]);
      t.markCommitted(3, 0);
      t.record(j('right', 1, 10), at(10), 7, true); // rater 1 changes their mind
      t.record(j('retract', 3, 11), at(11), 8, true); // rater 3 withdraws
      assert.deepEqual(t.peekUnstood(), [1, 5]);
      const carried = t.judgingState({ withRaters: true });
      assert.equal(carried.flaggedThrough, 5);
      const resumed = new JudgementTally(PAIR, t.uncommittedEvents(), carried);
      assert.deepEqual(resumed.counted(), t.counted());
      assert.deepEqual(resumed.counted(), { byCandidate: { c1: 0, c2: 2 }, tie: 0, bothBad: 0, standing: 2 });
      assert.deepEqual(resumed.peekUnstood(), [1, 5]);
      assert.equal(resumed.accepted, 5);
      assert.equal(resumed.isDuplicate(first[0]!.idempotencyKey), true, 'committed keys stay duplicates');
      assert.deepEqual(resumed.ratersWhoJudged(), t.ratersWhoJudged());
      // A committed judgement superseded after the hand-over is cleared too: its seq is within flaggedThrough.
      resumed.markCommitted(2, 2);
      resumed.record(j('left', 2, 20), at(20), 9, true);
      assert.deepEqual(resumed.peekUnstood(), [3]);
    });

    it('should refuse a carried state whose slot names no candidate', () => {
      const t = new JudgementTally(PAIR);
      t.record(j('right', 1, 0), at(0), 1, true);
      t.flag(1);
      t.markCommitted(1, 0);
      const state = t.judgingState({ withRaters: false });
      assert.throws(() => new JudgementTally([{ id: 'c1' }], [], state), /names no known choice or candidate/);
    });
  });
});
