/**
 * RatingLifecycle's state outside Temporal: what continue-as-new carries, how the ledger commit is
 * batched, when voting stops, and which thresholds a starter may pass. Handlers and signalled votes
 * need the workflow context; rating-lifecycle-timing.test.ts covers them across continue-as-new.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { ALL_RULES, COMMIT_BATCH_SIZE, MIN_CONTINUE_AS_NEW_EVENTS, RatingLifecycle, isCarry, thresholdErrors } from '../../workflows/lifecycle-state';
import { VoteRejection } from '../../workflows/messages';
import { validateLifecycleInput } from '../../workflows/input';
import type { Candidate, LifecyclePlan } from '../../workflows/types';
import { raterId, vote } from '../helpers/votes';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function plan(input: Record<string, unknown> = {}): LifecyclePlan {
  const result = validateLifecycleInput({ prompt: 'p', model: 'demo:text', candidates: 2, ...input }, NOW);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

function candidate(id: string, label: string): Candidate {
  return {
    id, label, model: 'demo:text', kind: 'text', placeholder: true, text: id,
    artifact: { sha256: id.repeat(32).slice(0, 64), mime: 'text/plain', size: 2, path: `sha256/${id}.txt` },
    provenance: { backend: 'demo', model: 'text', params: {}, seed: 1, wallTimeMs: 0 },
  };
}

function voting(input: Record<string, unknown> = {}): RatingLifecycle {
  const lifecycle = RatingLifecycle.start('lc-1', plan(input), {}, NOW);
  lifecycle.openVoting([candidate('c1', 'A'), candidate('c2', 'B')], [{ ref: 'slack:C1:1.000001', candidateId: 'c1' }]);
  return lifecycle;
}

describe('RatingLifecycle (state, outside Temporal)', () => {
  it('should resolve the deadline and the reminder time from the start time', () => {
    const lifecycle = voting({ deadline: '2h', channel: 'email:a@example.com', remindBefore: '30m' });
    assert.equal(lifecycle.startedAt, '2026-03-01T12:00:00.000Z');
    assert.equal(lifecycle.deadlineAt, '2026-03-01T14:00:00.000Z');
    assert.equal(lifecycle.reminderAtMs, Date.parse('2026-03-01T13:30:00Z'));
    assert.equal(voting().reminderAtMs, undefined);
  });

  it('should report who started it and from where, across continue-as-new, and nothing when the input did not say', () => {
    const started = voting({ startedBy: 'r_0123456789abcdef01234567', startedFrom: 'slack:/prefline' });
    assert.equal(started.status().startedBy, 'r_0123456789abcdef01234567');
    assert.equal(started.status().startedFrom, 'slack:/prefline');
    const resumed = RatingLifecycle.resume('lc-1', JSON.parse(JSON.stringify(started.toCarry())));
    assert.equal(resumed.status().startedBy, 'r_0123456789abcdef01234567');
    assert.ok(!('startedBy' in voting().status()) && !('startedFrom' in voting().status()));
  });

  it('should resume from its carry exactly as it left off', () => {
    const before = RatingLifecycle.start('lc-1', plan({ channel: 'email:a@example.com', remindBefore: '1h' }), { continueAsNewAfterEvents: 500 }, NOW);
    before.openVoting([candidate('c1', 'A'), candidate('c2', 'B')], []);
    before.recordVote(vote('c1', 'up', 1));
    before.recordVote(vote('c1', 'down', 1, { castAt: new Date(NOW + 1000).toISOString() }));
    before.markReminded();
    const carry = JSON.parse(JSON.stringify(before.toCarry())); // as continue-as-new serialises it
    assert.ok(isCarry(carry));
    const after = RatingLifecycle.resume('lc-1', carry);
    assert.deepEqual(after.status(), before.status());
    assert.deepEqual(after.tally.uncommittedEvents(), before.tally.uncommittedEvents());
    assert.equal(after.reminded, true);
    assert.deepEqual(after.thresholds, { continueAsNewAfterEvents: 500 });
    assert.equal(after.phase, 'voting');
    // Votes go on numbering where the last run stopped.
    after.recordVote(vote('c2', 'up', 3));
    assert.deepEqual(after.tally.uncommittedEvents().map((e) => e.seq), [1, 2, 3]);
  });

  it('should accept a carry from before thresholds existed', () => {
    const carry = voting().toCarry();
    assert.equal('thresholds' in carry, false);
    const { thresholds: _none, reminded: _r, posts: _p, ...older } = carry;
    const resumed = RatingLifecycle.resume('lc-1', older);
    assert.deepEqual(resumed.thresholds, {});
    assert.equal(resumed.reminded, false);
    assert.deepEqual(resumed.posts, []);
  });

  it('should commit in batches of COMMIT_BATCH_SIZE, candidates with the first, standing flags per event', () => {
    const lifecycle = voting({ totalVotes: 10_000 });
    const total = 2 * COMMIT_BATCH_SIZE + 7;
    for (let n = 1; n <= total; n++) lifecycle.recordVote(vote(n % 2 ? 'c1' : 'c2', 'up', n));
    lifecycle.recordVote(vote('c1', 'retract', 1, { castAt: new Date(Date.now() + 60_000).toISOString() }));
    lifecycle.close('deadline');
    const requests = lifecycle.commitRequests('run-1', '2026-03-01T13:00:00.000Z');
    assert.deepEqual(requests.map((r) => r.votes.length), [COMMIT_BATCH_SIZE, COMMIT_BATCH_SIZE, 8]);
    assert.deepEqual(requests.map((r) => r.candidates.length), [2, 0, 0]);
    assert.ok(requests.every((r) => r.lifecycle.runId === 'run-1' && r.lifecycle.votesAccepted === total + 1 && r.lifecycle.closeReason === 'deadline'));
    const votes = requests.flatMap((r) => r.votes);
    assert.deepEqual(votes.map((v) => v.seq), votes.map((_, i) => i + 1));
    assert.equal(votes[0]?.rater, raterId(1));
    assert.equal(votes[0]?.standing, false, 'retracted later');
    assert.equal(votes.at(-1)?.standing, false, 'a retraction never stands');
    assert.equal(votes.filter((v) => v.standing).length, total - 1);
  });

  it('should make one commit call even without votes, so the lifecycle row is written', () => {
    const lifecycle = voting();
    lifecycle.close('deadline');
    const requests = lifecycle.commitRequests('run-1', '2026-03-01T13:00:00.000Z');
    assert.equal(requests.length, 1);
    assert.deepEqual([requests[0]?.votes.length, requests[0]?.candidates.length], [0, 2]);
  });

  it('should stop for a close request before quorum, and report the first close reason', () => {
    const lifecycle = voting({ totalVotes: 1 });
    assert.equal(lifecycle.stopReason(), undefined);
    lifecycle.recordVote(vote('c1', 'up', 1));
    assert.equal(lifecycle.stopReason(), 'quorum');
    lifecycle.closeRequested = true;
    assert.equal(lifecycle.stopReason(), 'closed');
    lifecycle.close('closed');
    lifecycle.close('deadline');
    assert.equal(lifecycle.summary(1).closeReason, 'closed');
  });

  it('should refuse to report a close reason before voting closed', () => {
    assert.throws(() => voting().summary(0), /not closed yet/);
  });

  it('should refuse a castAt the ledger cannot store as malformed, except under the rules of older histories (no iso-cast-at patch)', () => {
    const odd = vote('c1', 'up', 1, { castAt: 'March 1, 2026' });
    assert.throws(() => voting().validateVote(odd), (err: unknown) => err instanceof ApplicationFailure && err.type === VoteRejection.MalformedVote && /castAt: must be an ISO-8601 time with seconds and a zone/.test(err.message));
    const older = RatingLifecycle.start('lc-1', plan(), {}, NOW, { ...ALL_RULES, isoCastAt: false });
    older.openVoting([candidate('c1', 'A'), candidate('c2', 'B')], []);
    older.validateVote(odd);
    assert.equal(older.recordVote(odd).outcome, 'recorded');
  });

  it('should accept no thresholds or sane ones, and name every bad field', () => {
    assert.deepEqual(thresholdErrors(undefined), []);
    assert.deepEqual(thresholdErrors(null), []);
    assert.deepEqual(thresholdErrors({}), []);
    assert.deepEqual(thresholdErrors({ thresholds: { continueAsNewAfterEvents: MIN_CONTINUE_AS_NEW_EVENTS, liveUpdateIntervalMs: 100 } }), []);
    assert.deepEqual(thresholdErrors('fast'), ['second argument: must be an object like {"thresholds": {…}} or absent']);
    assert.deepEqual(thresholdErrors({ thresholds: [] }), ['thresholds: must be an object']);
    assert.deepEqual(thresholdErrors({ thresholds: { continueAsNewAfterEvents: MIN_CONTINUE_AS_NEW_EVENTS - 1, liveUpdateIntervalMs: 99.5, later: 1 }, other: true }), [
      'other: unknown field in the second argument; known: thresholds',
      'thresholds.later: unknown field; known: continueAsNewAfterEvents, liveUpdateIntervalMs',
      `thresholds.continueAsNewAfterEvents: must be an integer of at least ${MIN_CONTINUE_AS_NEW_EVENTS}`,
      'thresholds.liveUpdateIntervalMs: must be an integer of at least 100',
    ]);
    assert.equal(isCarry({ thresholds: {} }), false);
    assert.equal(isCarry(null), false);
  });
});
