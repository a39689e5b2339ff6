/**
 * ratingLifecycle on the real dev server with real activities (demo inference, temp artifact store,
 * temp DuckDB ledger): quorum, deadline, close, duplicates, changes and retractions, rejections,
 * invalid input.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TemporalLifecycleDirectory, voteUpdateId } from '../../core/temporal-directory';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { INVALID_INPUT_ERROR, VoteRejection, WORKFLOW_TYPE, closeSignal, statusQuery, voteSignal, voteUpdate } from '../../workflows/messages';
import type { LifecycleInput, LifecycleSummary } from '../../workflows/types';
import { createLifecycleWorkers, sharedTemporal, waitForVoting, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { vote } from '../helpers/votes';

async function startLifecycle(workers: LifecycleWorkers, input: LifecycleInput | Record<string, unknown>): Promise<WorkflowHandle> {
  const { client } = await sharedTemporal();
  // As the Temporal UI starts it: workflow type by name, task queue, one JSON argument.
  return client.workflow.start(WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: `lc-test-${randomUUID()}`, args: [input] });
}


async function ledgerVotes(workers: LifecycleWorkers, lifecycleId: string) {
  const { rows } = await workers.ledger.query(
    `SELECT idempotency_key, candidate_id, rater, kind, value, standing, comment FROM votes WHERE lifecycle_id = $1 ORDER BY seq`,
    [lifecycleId],
  );
  return rows;
}

describe('ratingLifecycle workflow (real dev server)', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
  });

  beforeEach(async function () {
    workers = await createLifecycleWorkers(this.currentTest?.title ?? 'test');
  });

  afterEach(() => workers.close());

  it('should close on quorum and commit every vote with candidates and provenance', async () => {
    await workers.run(async () => {
      const handle = await startLifecycle(workers, { prompt: 'a red fox', model: 'demo:shapes', candidates: 2, votesPerCandidate: 2, campaign: 'spring', modelVersion: 'v7' });
      await waitForVoting(handle, 20_000);
      const votes = [vote('c1', 'up', 1, { comment: 'crisp edges' }), vote('c1', 'down', 2), vote('c2', 'up', 1), vote('c2', 'up', 2)];
      for (const v of votes) {
        const receipt = await handle.executeUpdate(voteUpdate, { args: [v] });
        assert.equal(receipt.outcome, 'recorded');
      }
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'quorum');
      assert.equal(summary.votesAccepted, 4);
      assert.equal(summary.rowsCommitted, 4);
      assert.deepEqual(summary.tally.map((t) => [t.candidateId, t.up, t.down, t.score]), [['c1', 1, 1, 0], ['c2', 2, 0, 2]]);

      const rows = await ledgerVotes(workers, handle.workflowId);
      assert.deepEqual(rows.map((r) => r.idempotency_key), votes.map((v) => v.idempotencyKey));
      assert.equal(rows[0]?.comment, 'crisp edges');
      const { rows: candidates } = await workers.ledger.query(
        `SELECT candidate_id, label, backend, kind, mime, placeholder, seed, provenance->>'model' AS model FROM candidates WHERE lifecycle_id = $1 ORDER BY candidate_id`,
        [handle.workflowId],
      );
      assert.deepEqual(candidates.map((c) => [c.candidate_id, c.label, c.backend, c.kind, c.mime, c.placeholder, c.model]), [
        ['c1', 'A', 'demo', 'image', 'image/png', true, 'shapes'],
        ['c2', 'B', 'demo', 'image', 'image/png', true, 'shapes'],
      ]);
      assert.notEqual(candidates[0]?.seed, candidates[1]?.seed);
      const { rows: feedback } = await workers.ledger.query(`SELECT prompt, path, rating, rater, model_version FROM feedback WHERE lifecycle_id = $1 ORDER BY rating`, [handle.workflowId]);
      assert.equal(feedback.length, 4);
      assert.ok(feedback.every((f) => f.prompt === 'a red fox' && f.model_version === 'v7' && String(f.path).startsWith('artifacts/sha256/')));
      const { rows: lc } = await workers.ledger.query(`SELECT close_reason, campaign, votes_accepted FROM lifecycles WHERE lifecycle_id = $1`, [handle.workflowId]);
      assert.deepEqual(lc, [{ close_reason: 'quorum', campaign: 'spring', votes_accepted: 4 }]);
    });
  });

  it('should close at the deadline and commit the votes it has', async () => {
    await workers.run(async () => {
      const handle = await startLifecycle(workers, { prompt: 'a slow vote', model: 'demo:text', candidates: 2, deadline: '2s' });
      await waitForVoting(handle, 20_000);
      await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'down', 3)] });
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'deadline');
      assert.equal(summary.rowsCommitted, 1);
      const status = await handle.query(statusQuery);
      assert.equal(status.phase, 'completed');
      assert.ok(status.candidates.every((c) => c.kind === 'text' && c.text?.startsWith('[demo placeholder]')));
    });
  });

  it('should close on the close signal and refuse later votes with "voting closed", its workers running or not', async () => {
    let lateAfterWorkers: ((directory: TemporalLifecycleDirectory) => Promise<unknown>) | undefined;
    let seen: TemporalLifecycleDirectory | undefined;
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client);
      seen = directory;
      const handle = await startLifecycle(workers, { prompt: 'closing early', model: 'demo:gradient', candidates: 1, votesPerCandidate: 5 });
      await waitForVoting(handle, 20_000);
      await directory.vote(handle.workflowId, vote('c1', 'up', 1));
      await handle.signal(closeSignal, { reason: 'test' });
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'closed');
      assert.equal(summary.rowsCommitted, 1);
      await assert.rejects(directory.vote(handle.workflowId, vote('c1', 'up', 2)), (err: unknown) => err instanceof VoteRejectedError && err.code === 'voting_closed');
      lateAfterWorkers = (d) => d.vote(handle.workflowId, vote('c1', 'up', 3));
    });
    // Its workers gone, the closed lifecycle answers no query (a query of a closed workflow replays it on a
    // worker); a late vote is still told "voting closed", at once, by this gateway and by one that never saw
    // the lifecycle (its channel check reads it too): describe needs no worker.
    const { client } = await sharedTemporal();
    for (const directory of [seen!, new TemporalLifecycleDirectory(client)]) {
      const late = await Promise.race([lateAfterWorkers!(directory).then(() => 'recorded', (err: unknown) => err), sleep(20_000).then(() => 'no answer in 20 s')]);
      assert.ok(late instanceof VoteRejectedError && late.code === 'voting_closed', String(late));
    }
  });

  it('should count a duplicate delivery once, whether or not the update id repeats', async () => {
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const directory = new TemporalLifecycleDirectory(client);
      const handle = await startLifecycle(workers, { prompt: 'dupes', model: 'demo:shapes', candidates: 1, totalVotes: 2 });
      await waitForVoting(handle, 20_000);
      const first = vote('c1', 'up', 1);
      assert.equal((await directory.vote(handle.workflowId, first)).outcome, 'recorded');
      // Same key through the gateway path: the server dedupes the update id, the answer is the original one.
      const again = await directory.vote(handle.workflowId, first);
      assert.equal(again.candidate.up, 1);
      // Same key under a different update id (another gateway, a retry after a lost answer): the workflow dedupes.
      const third = await handle.executeUpdate(voteUpdate, { args: [first], updateId: `other-${randomUUID()}` });
      assert.equal(third.outcome, 'duplicate');
      assert.equal(third.candidate.up, 1);
      // And as a signal.
      await handle.signal(voteSignal, first);
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'down', 2)] });
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.votesAccepted, 2);
      assert.equal(summary.rowsCommitted, 2);
      assert.equal(summary.lateVotesRefused, 0);
      assert.equal((await ledgerVotes(workers, handle.workflowId)).length, 2);
    });
  });

  it('should let a rater change and retract a vote, keeping every event as a row', async () => {
    await workers.run(async () => {
      const handle = await startLifecycle(workers, { prompt: 'change my mind', model: 'demo:shapes', candidates: 2, votesPerCandidate: 1 });
      await waitForVoting(handle, 20_000);
      const t0 = Date.now();
      const at = (ms: number) => new Date(t0 + ms).toISOString();
      assert.equal((await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 7, { castAt: at(0) })] })).outcome, 'recorded');
      const changed = await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'down', 7, { castAt: at(1) })] });
      assert.equal(changed.outcome, 'changed');
      assert.deepEqual([changed.candidate.up, changed.candidate.down], [0, 1]);
      const retracted = await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'retract', 7, { castAt: at(2) })] });
      assert.equal(retracted.outcome, 'retracted');
      assert.equal(retracted.candidate.votes, 0);
      // A stale event that overtook nothing: older than the retraction, so it changes nothing.
      const stale = await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 7, { castAt: at(-1000) })] });
      assert.equal(stale.outcome, 'unchanged');
      assert.equal(stale.candidate.votes, 0);
      // Quorum needs one standing vote on each candidate.
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 8)] });
      await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'up', 8)] });
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.closeReason, 'quorum');
      const rows = await ledgerVotes(workers, handle.workflowId);
      assert.deepEqual(rows.map((r) => [r.kind, r.value, r.standing]), [
        ['vote', 1, false], ['vote', -1, false], ['retract', null, false], ['vote', 1, false], ['vote', 1, true], ['vote', 1, true],
      ]);
      const { rows: feedback } = await workers.ledger.query(`SELECT count(*)::INT AS n FROM feedback WHERE lifecycle_id = $1`, [handle.workflowId]);
      assert.equal(feedback[0]?.n, 2);
    });
  });

  it('should reject unknown candidates and malformed votes in the validator, leaving no trace', async () => {
    await workers.run(async () => {
      const handle = await startLifecycle(workers, { prompt: 'validate me', model: 'demo:shapes', candidates: 1, votesPerCandidate: 1 });
      await waitForVoting(handle, 20_000);
      const rejectionType = async (request: unknown) => {
        try {
          await handle.executeUpdate(voteUpdate, { args: [request as never] });
        } catch (err) {
          assert.ok(err instanceof WorkflowUpdateFailedError);
          assert.ok(err.cause instanceof ApplicationFailure);
          return [err.cause.type, err.cause.message];
        }
        throw new Error('vote was accepted');
      };
      assert.deepEqual(await rejectionType(vote('c9', 'up', 1)), [VoteRejection.UnknownCandidate, 'unknown candidate "c9"']);
      const [type, message] = await rejectionType({ ...vote('c1', 'up', 1), value: 'meh' });
      assert.equal(type, VoteRejection.MalformedVote);
      assert.match(message as string, /value/);
      assert.equal((await rejectionType({ ...vote('c1', 'up', 1), rater: 'alice@example.com' }))[0], VoteRejection.MalformedVote);
      assert.equal((await rejectionType({ ...vote('c1', 'up', 1), comment: 'x'.repeat(2001) }))[0], VoteRejection.MalformedVote);
      const status = await handle.query(statusQuery);
      assert.equal(status.votesAccepted, 0);
      // Rejected updates are not written to history.
      const history = await handle.fetchHistory();
      const updateEvents = (history.events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      assert.equal(updateEvents.length, 0);
      await handle.signal(voteSignal, vote('c9', 'up', 1)); // a bad signal is counted, not fatal
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 1)] });
      const summary = (await handle.result()) as LifecycleSummary;
      assert.equal(summary.lateVotesRefused, 1);
      assert.equal(summary.rowsCommitted, 1);
    });
  });

  it('should fail at once, without retries, on invalid input naming every bad field', async () => {
    await workers.run(async () => {
      const handle = await startLifecycle(workers, { model: 'demo:nope', candidates: 0, channel: 'slack:#Not Valid', deadline: 'tomorrow', extra: true });
      const err = await handle.result().then(
        () => assert.fail('lifecycle with invalid input completed'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, INVALID_INPUT_ERROR);
      assert.equal(err.cause.nonRetryable, true);
      for (const field of ['prompt:', 'model:', 'candidates:', 'channel:', 'deadline:', 'extra:']) assert.match(err.cause.message, new RegExp(field));
      assert.match(err.cause.message, /slack:#Not Valid.*is not "slack:#channel-name"/);
      const description = await handle.describe();
      assert.equal(description.status.name, 'FAILED');
      // Failed on the first workflow task: no activity ever scheduled.
      const history = await handle.fetchHistory();
      assert.ok(!(history.events ?? []).some((e) => e.activityTaskScheduledEventAttributes));
    });
  });

  it('should set the search attributes ops filter on', async () => {
    await workers.run(async () => {
      const { client } = await sharedTemporal();
      const handle = await startLifecycle(workers, { prompt: 'filter me', models: ['demo:shapes', 'demo:gradient'], campaign: 'autumn', votesPerCandidate: 1 });
      await waitForVoting(handle, 20_000);
      const described = await handle.describe();
      const attrs = described.searchAttributes as Record<string, unknown[]>;
      assert.deepEqual(attrs['PreflineCampaign'], ['autumn']);
      assert.deepEqual(attrs['PreflineChannel'], ['web']);
      assert.deepEqual(attrs['PreflineStatus'], ['voting']);
      assert.deepEqual([...(attrs['PreflineModel'] ?? [])].sort(), ['demo:gradient', 'demo:shapes']);
      let found = false;
      for (let i = 0; i < 50 && !found; i++) {
        for await (const wf of client.workflow.list({ query: `PreflineCampaign = 'autumn' AND PreflineStatus = 'voting' AND WorkflowId = '${handle.workflowId}'` })) {
          found = wf.workflowId === handle.workflowId;
        }
        if (!found) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(found, 'visibility query by search attributes finds the lifecycle');
      const status = await handle.query(statusQuery);
      assert.deepEqual(status.candidates.map((c) => [c.label, c.model]), [['A', 'demo:shapes'], ['B', 'demo:gradient']]);
      await handle.signal(closeSignal, {});
      await handle.result();
      assert.deepEqual((await handle.describe()).searchAttributes['PreflineStatus'], ['completed']);
    });
  });

  it('should replay its own history deterministically', async () => {
    await workers.run(async () => {
      const handle = await startLifecycle(workers, { prompt: 'replay me', model: 'demo:text', candidates: 2, votesPerCandidate: 1 });
      await waitForVoting(handle, 20_000);
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'up', 1)] });
      await handle.signal(voteSignal, vote('c2', 'down', 1));
      await handle.result();
      const history = await handle.fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, handle.workflowId);
    });
  });

  it('should derive the update id from the idempotency key only', () => {
    assert.equal(voteUpdateId('web:r_1:abc'), voteUpdateId('web:r_1:abc'));
    assert.notEqual(voteUpdateId('web:r_1:abc'), voteUpdateId('web:r_2:abc'));
    assert.match(voteUpdateId('anything \n with newlines'), /^vote-[0-9a-f]{40}$/);
  });
});
