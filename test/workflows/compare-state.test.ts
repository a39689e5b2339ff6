/**
 * RatingLifecycle with judgements, outside Temporal: the validator's answers, one sequence and dedupe
 * space with votes, the responses quorum, the status and summary, ledger batches in seq order across
 * both kinds, increments, and what continue-as-new carries.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { COMMIT_BATCH_SIZE, RatingLifecycle } from '../../workflows/lifecycle-state';
import { validateLifecycleInput } from '../../workflows/input';
import type { Candidate, JudgementRequest, LifecyclePlan } from '../../workflows/types';
import { judgement, vote } from '../helpers/votes';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const at = (s: number) => new Date(NOW + s * 1000).toISOString();

function plan(input: Record<string, unknown>): LifecyclePlan {
  const result = validateLifecycleInput({ prompt: 'p', ...input }, NOW);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

function candidate(id: string): Candidate {
  return {
    id, label: id === 'c1' ? 'A' : id === 'c2' ? 'B' : 'C', model: `demo:${id}`, kind: 'text', placeholder: true, text: id,
    artifact: { sha256: id.repeat(32).slice(0, 64), mime: 'text/plain', size: 2, path: `sha256/${id}.txt` },
    provenance: { backend: 'demo', model: 'text', params: {}, seed: 1, wallTimeMs: 0 },
  };
}

const COMPARE = { task: 'compare', models: ['demo:shapes', 'demo:gradient'], responses: 3 };

function voting(input: Record<string, unknown> = COMPARE, ids = ['c1', 'c2']): RatingLifecycle {
  const lifecycle = RatingLifecycle.start('lc-1', plan(input), {}, NOW);
  lifecycle.openVoting(ids.map(candidate), []);
  return lifecycle;
}

function rejection(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, String(err));
    return err.type ?? undefined;
  }
  return undefined;
}

describe('RatingLifecycle with judgements (state, outside Temporal)', () => {
  it('should refuse in the validator what it cannot take, and accept a judgement in either order shown', () => {
    const lifecycle = voting({ ...COMPARE, allowBothBad: false, channel: 'slack:#rate' });
    const slack = (choice: JudgementRequest['choice'], shown: [string, string] = ['c1', 'c2'], extra: Partial<JudgementRequest> = {}) =>
      judgement(choice, 1, shown, { channel: 'slack', ...extra });
    assert.equal(rejection(() => lifecycle.validateJudgement(slack('left'))), undefined);
    assert.equal(rejection(() => lifecycle.validateJudgement(slack('right', ['c2', 'c1']))), undefined);
    assert.equal(rejection(() => lifecycle.validateJudgement(slack('left', ['c1', 'c3']))), 'unknown_candidate');
    assert.equal(rejection(() => lifecycle.validateJudgement(slack('both_bad'))), 'choice_not_offered');
    assert.equal(rejection(() => lifecycle.validateJudgement(judgement('left', 1))), 'wrong_channel', 'web on a Slack lifecycle');
    assert.equal(rejection(() => lifecycle.validateJudgement(slack('left', ['c1', 'c2'], { castAt: 'yesterday' }))), 'malformed_vote');
    const three = voting({ prompt: 'p', model: 'demo:text', candidates: 3 }, ['c1', 'c2', 'c3']);
    assert.equal(rejection(() => three.validateJudgement(judgement('left', 1))), 'not_pairwise');
    const generating = RatingLifecycle.start('lc-2', plan(COMPARE), {}, NOW);
    assert.equal(rejection(() => generating.validateJudgement(judgement('left', 1))), 'voting_not_open');
    const closed = voting();
    closed.close('closed');
    assert.equal(rejection(() => closed.validateJudgement(judgement('left', 1))), 'voting_closed');
  });

  it('should share one sequence and one dedupe space between votes and judgements', () => {
    const lifecycle = voting({ prompt: 'p', models: ['demo:shapes', 'demo:text'] });
    const v = vote('c1', 'up', 1);
    const jd = judgement('left', 2);
    assert.equal(lifecycle.recordVote(v).outcome, 'recorded');
    assert.equal(lifecycle.recordJudgement(jd).outcome, 'recorded');
    assert.equal(lifecycle.recordVote(vote('c2', 'down', 1)).outcome, 'recorded');
    assert.deepEqual(lifecycle.tally.uncommittedEvents().map((e) => e.seq), [1, 3]);
    assert.deepEqual(lifecycle.judgements.uncommittedEvents().map((e) => e.seq), [2]);
    // A key seen as a vote is a duplicate as a judgement and the other way round, and the validator lets it answer so.
    assert.equal(lifecycle.recordJudgement({ ...jd, idempotencyKey: v.idempotencyKey }).outcome, 'duplicate');
    assert.equal(lifecycle.recordVote({ ...v, idempotencyKey: jd.idempotencyKey }).outcome, 'duplicate');
    lifecycle.close('closed');
    assert.equal(rejection(() => lifecycle.validateJudgement({ ...jd, idempotencyKey: v.idempotencyKey })), undefined, 'a duplicate answers even after close');
    assert.equal(lifecycle.eventsAccepted, 3);
    // A thumbs lifecycle with two candidates reports the judgements it took, its quorum stays the votes'.
    assert.deepEqual(lifecycle.status().judgements, { byCandidate: { c1: 1, c2: 0 }, tie: 0, bothBad: 0, standing: 1 });
    assert.equal(lifecycle.status().votesAccepted, 3);
  });

  it('should close on responses standing judgements, not on votes, and report them with the models hidden', () => {
    const lifecycle = voting();
    lifecycle.recordJudgement(judgement('left', 1, ['c1', 'c2'], { castAt: at(0) }));
    lifecycle.recordJudgement(judgement('tie', 2, ['c2', 'c1'], { castAt: at(0) }));
    for (let r = 10; r < 20; r++) lifecycle.recordVote(vote('c1', 'up', r));
    assert.equal(lifecycle.stopReason(), undefined, 'votes do not reach a responses quorum');
    lifecycle.recordJudgement(judgement('retract', 1, ['c1', 'c2'], { castAt: at(1) }));
    lifecycle.recordJudgement(judgement('both_bad', 3, ['c1', 'c2'], { castAt: at(1) }));
    assert.equal(lifecycle.stopReason(), undefined, 'a withdrawn judgement is no response');
    lifecycle.recordJudgement(judgement('right', 4, ['c2', 'c1'], { castAt: at(2) }));
    assert.equal(lifecycle.stopReason(), 'quorum');
    const status = lifecycle.status();
    assert.equal(status.task, 'compare');
    assert.equal(status.question, 'Which is better?');
    assert.deepEqual(status.judgements, { byCandidate: { c1: 1, c2: 0 }, tie: 1, bothBad: 1, standing: 3 });
    assert.deepEqual(status.models, ['demo:shapes', 'demo:gradient'], 'the ops status keeps the models');
    assert.ok(lifecycle.judgements.uncommittedEvents().every((e) => e.modelsHidden));
    lifecycle.close('quorum');
    assert.deepEqual(lifecycle.summary(15).judgements, status.judgements);
    const revealed = voting({ ...COMPARE, revealModels: true });
    revealed.recordJudgement(judgement('left', 1));
    assert.equal(revealed.judgements.uncommittedEvents()[0]?.modelsHidden, false);
    assert.equal(revealed.status().revealModels, true);
  });

  it('should commit votes and judgements in seq order, in batches of COMMIT_BATCH_SIZE events, candidates with the first', () => {
    const lifecycle = voting({ prompt: 'p', models: ['demo:shapes', 'demo:text'] });
    for (let n = 0; n < COMMIT_BATCH_SIZE + 10; n++) {
      if (n % 3 === 0) lifecycle.recordJudgement(judgement(n % 2 ? 'left' : 'right', n % 7, ['c1', 'c2'], { castAt: at(n) }));
      else lifecycle.recordVote(vote(n % 2 ? 'c1' : 'c2', 'up', n % 5, { castAt: at(n) }));
    }
    lifecycle.close('closed');
    const requests = lifecycle.commitRequests('run-1', at(999));
    assert.equal(requests.length, 2);
    const seqs = requests.flatMap((r) => [...r.votes, ...(r.judgements ?? [])].map((e) => e.seq).sort((a, b) => a - b));
    assert.deepEqual(seqs, Array.from({ length: COMMIT_BATCH_SIZE + 10 }, (_, i) => i + 1));
    assert.equal(requests[0]!.votes.length + (requests[0]!.judgements?.length ?? 0), COMMIT_BATCH_SIZE);
    assert.deepEqual(requests.map((r) => r.candidates.length), [2, 0]);
    assert.ok(requests.every((r) => r.lifecycle.votesAccepted === COMMIT_BATCH_SIZE + 10 && r.lifecycle.closeReason === 'closed'));
    // Standing flags: each rater's latest judgement only.
    const standing = requests.flatMap((r) => r.judgements ?? []).filter((e) => e.standing);
    assert.equal(standing.length, new Set(standing.map((e) => e.rater)).size);
  });

  it('should carry judgements across continue-as-new after an increment, and clear the flags of those changed since', () => {
    const before = voting();
    for (let r = 1; r <= 4; r++) before.recordJudgement(judgement('left', r, ['c1', 'c2'], { castAt: at(r) }));
    before.recordVote(vote('c1', 'up', 9, { castAt: at(5) }));
    const increment = before.incrementRequest('run-1');
    assert.deepEqual([increment.votes.length, increment.judgements?.length, increment.candidates.length], [1, 4, 2]);
    assert.equal(increment.lifecycle.closeReason, undefined);
    before.incrementCommitted(increment);
    before.recordJudgement(judgement('right', 2, ['c1', 'c2'], { castAt: at(10) }));
    const carry = JSON.parse(JSON.stringify(before.toCarry()));
    assert.equal(carry.judging.committed, 4);
    assert.equal(carry.voting.flaggedThrough, 5, 'the committed vote is seq 5, not 1');
    const after = RatingLifecycle.resume('lc-1', carry);
    assert.deepEqual(after.status(), before.status());
    assert.equal(after.eventsAccepted, 6);
    // After the hand-over: the committed vote (seq 5) is superseded, which only its carried seq tells.
    after.recordVote(vote('c1', 'down', 9, { castAt: at(11) }));
    after.recordJudgement(judgement('tie', 3, ['c2', 'c1'], { castAt: at(12) }));
    after.close('closed');
    const [final, ...rest] = after.commitRequests('run-1', at(99));
    assert.equal(rest.length, 0);
    assert.deepEqual(final!.unstandJudgements, [2, 3], 'raters 2 and 3 answered again after their commit');
    assert.deepEqual(final!.unstand, [5]);
    assert.deepEqual(final!.judgements?.map((e) => [e.seq, e.standing]), [[6, true], [8, true]]);
    assert.deepEqual(final!.candidates, [], 'sent with the increment already');
    assert.deepEqual(after.judgements.counted(), { byCandidate: { c1: 2, c2: 1 }, tie: 1, bothBad: 0, standing: 4 });
  });

  it('should carry nothing new for a lifecycle that took no judgements', () => {
    const lifecycle = voting({ prompt: 'p', model: 'demo:text', candidates: 2 });
    lifecycle.recordVote(vote('c1', 'up', 1));
    const carry = lifecycle.toCarry();
    for (const key of ['judgementEvents', 'judging']) assert.equal(key in carry, false, key);
    assert.equal('flaggedThrough' in (carry.voting ?? {}), false);
    assert.equal('judgements' in lifecycle.status(), false);
  });
});
