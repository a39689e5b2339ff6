/**
 * RatingLifecycle tells its observer of every vote decision (the workflow counts them on the worker's
 * metrics endpoint: workflows/metrics.ts), outside Temporal here. Signalled votes need the workflow
 * context (they log); test/workers/ops.test.ts counts them on a real worker.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCode } from '../../core/errors';
import { RatingLifecycle } from '../../workflows/lifecycle-state';
import { validateLifecycleInput } from '../../workflows/input';
import type { Candidate } from '../../workflows/types';
import { vote } from '../helpers/votes';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function candidate(id: string, label: string): Candidate {
  return {
    id, label, model: 'demo:text', kind: 'text', placeholder: true, text: id,
    artifact: { sha256: id.repeat(32).slice(0, 64), mime: 'text/plain', size: 2, path: `sha256/${id}.txt` },
    provenance: { backend: 'demo', model: 'text', params: {}, seed: 1, wallTimeMs: 0 },
  };
}

function observed(): { lifecycle: RatingLifecycle; seen: string[] } {
  const result = validateLifecycleInput({ prompt: 'p', model: 'demo:text', candidates: 2 }, NOW);
  assert.ok(result.ok);
  const lifecycle = RatingLifecycle.start('lc-1', result.plan, {}, NOW);
  const seen: string[] = [];
  lifecycle.observer = { voteAccepted: (outcome) => seen.push(`accepted:${outcome}`), voteRefused: (reason) => seen.push(`refused:${reason}`) };
  return { lifecycle, seen };
}

describe('RatingLifecycle vote observer (outside Temporal)', () => {
  it('should tell of each accepted vote with its outcome', () => {
    const { lifecycle, seen } = observed();
    lifecycle.openVoting([candidate('c1', 'A'), candidate('c2', 'B')], []);
    const first = vote('c1', 'up', 1);
    lifecycle.validateVote(first);
    lifecycle.recordVote(first);
    lifecycle.recordVote(first); // the same delivery again
    lifecycle.recordVote(vote('c1', 'down', 1));
    lifecycle.recordVote(vote('c1', 'retract', 1));
    assert.deepEqual(seen, ['accepted:recorded', 'accepted:duplicate', 'accepted:changed', 'accepted:retracted']);
  });

  it('should tell of each refusal with its rejection code, and still throw it', () => {
    const { lifecycle, seen } = observed();
    assert.throws(() => lifecycle.validateVote(vote('c1', 'up', 1)), (err: unknown) => err instanceof ApplicationFailure && err.type === ErrorCode.VotingNotOpen);
    lifecycle.openVoting([candidate('c1', 'A')], []);
    assert.throws(() => lifecycle.validateVote(vote('c9', 'up', 1)), ApplicationFailure);
    assert.throws(() => lifecycle.validateVote({ ...vote('c1', 'up', 1), rater: 'alice@example.com' }), ApplicationFailure);
    lifecycle.close('closed');
    assert.throws(() => lifecycle.validateVote(vote('c1', 'up', 2)), ApplicationFailure);
    assert.deepEqual(seen, [`refused:${ErrorCode.VotingNotOpen}`, `refused:${ErrorCode.UnknownCandidate}`, `refused:${ErrorCode.MalformedVote}`, `refused:${ErrorCode.VotingClosed}`]);
  });

  it('should tell of refusals by the bounded-history and one-channel rules, and of votes accepted while continuing', () => {
    const { lifecycle, seen } = observed();
    lifecycle.openVoting([candidate('c1', 'A')], []);
    assert.throws(() => lifecycle.validateVote(vote('c1', 'up', 1, { channel: 'slack' })), (err: unknown) => err instanceof ApplicationFailure && err.type === ErrorCode.WrongChannel);
    lifecycle.continuing = true;
    const late = vote('c1', 'up', 1);
    assert.throws(() => lifecycle.validateVote(late), (err: unknown) => err instanceof ApplicationFailure && err.type === ErrorCode.RunContinuing);
    // A signal is in history already: a continuing run records it (and its observer hears of it).
    lifecycle.validateVote(late, { signalled: true });
    lifecycle.recordVote(late);
    assert.deepEqual(seen, [`refused:${ErrorCode.WrongChannel}`, `refused:${ErrorCode.RunContinuing}`, 'accepted:recorded']);
  });

  it('should not tell of the votes a resumed run takes over from its carry', () => {
    const { lifecycle } = observed();
    lifecycle.openVoting([candidate('c1', 'A')], []);
    lifecycle.recordVote(vote('c1', 'up', 1));
    const resumed = RatingLifecycle.resume('lc-1', lifecycle.toCarry());
    const seen: string[] = [];
    resumed.observer = { voteAccepted: (outcome) => seen.push(`accepted:${outcome}`), voteRefused: (reason) => seen.push(`refused:${reason}`) };
    assert.equal(resumed.tally.accepted, 1);
    resumed.recordVote(vote('c1', 'down', 1));
    assert.deepEqual(seen, ['accepted:changed']);
  });
});
