/**
 * Prefline as deployed on a real cluster (docs/deploy.md): a TLS, PostgreSQL-backed Temporal Server,
 * set up by `prefline cluster setup`, and separate processes sharing one data folder: two `workflows`
 * workers, one `inference` worker, the one `ledger` worker and two gateways. Invited raters vote over
 * both gateways; mid-way a workflows worker and a gateway are SIGKILLed and the Temporal server is
 * killed and restarted. Votes in flight then may fail: the raters retry them with the same key, on
 * the surviving gateway. Every vote a gateway accepted (200) must be in the ledger exactly once,
 * with nothing else, and every lifecycle must complete at its quorum.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type Connection } from '@temporalio/client';
import { loadConfig } from '../../config';
import type { LifecycleStatus, LifecycleSummary, VoteValue } from '../../workflows/types';
import { Deployment, type GatewayProcess, type LoggedProcess } from '../helpers/deployment';
import { runCli } from '../helpers/processes';
import { installTestRuntime } from '../helpers/temporal';
import { TemporalCluster } from '../helpers/temporal-cluster';
import { inviteTokens, newIdempotencyKey, signIn, tokenOfLink, VoteSender, type CastVote, type PlannedVote, type WebRater } from '../helpers/web-raters';

const LIFECYCLES = 4;
const CANDIDATES = ['c1', 'c2'] as const;
const RATERS = 12;
/** Each rater votes once on every candidate of every lifecycle: the quorum is reached by the last vote. */
const VOTES_PER_LIFECYCLE = RATERS * CANDIDATES.length;
const CONCURRENCY = 8;

/** Runs `votes` with `concurrency` lanes, each pausing `paceMs` between its votes, as raters do. */
async function castAll(sender: VoteSender, votes: readonly PlannedVote[], concurrency: number, paceMs: number, onCast: (cast: CastVote) => void): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < votes.length) {
      const vote = votes[next++]!;
      onCast(await sender.cast(vote));
      await sleep(paceMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

/** The identity (`<pid>@<host>`, the SDK's default) of the worker that completed the lifecycle's last workflow task. */
async function lastWorkflowTaskIdentity(client: Client, workflowId: string): Promise<string | undefined> {
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
  const completed = (events ?? []).filter((e) => e.workflowTaskCompletedEventAttributes);
  return completed.at(-1)?.workflowTaskCompletedEventAttributes?.identity ?? undefined;
}

const identityOf = (worker: LoggedProcess) => `${worker.child.pid}@${hostname()}`;

/** The value rater `r` gives candidate `c` of lifecycle `l`: a mix of ups and downs that differs per candidate. */
function valueOf(l: number, c: number, r: number): VoteValue {
  return (l + 2 * c + r) % 3 === 0 ? 'down' : 'up';
}

describe('many processes on a TLS cluster: two workflows workers, inference, ledger and two gateways, through kills and a server restart', function () {
  this.timeout(600_000);
  let cluster: TemporalCluster;
  let connection: Connection;
  let dir: string;
  let deployment: Deployment;
  let env: NodeJS.ProcessEnv;
  const workers: Record<string, LoggedProcess> = {};
  let gateways: GatewayProcess[] = [];

  /** An assertion message with every process's log tail. */
  const withLogs = (message: string) => `${message}\n${deployment.tails()}\n--- temporal-server: ${cluster.logFile}`;

  before(async () => {
    installTestRuntime();
    cluster = await TemporalCluster.start();
    connection = await cluster.connect();
    dir = mkdtempSync(join(tmpdir(), 'prefline-many-'));
    const dataDir = join(dir, 'data'); // the shared volume of docs/deploy.md's worked example
    mkdirSync(dataDir);
    env = { ...cluster.env(), PREFLINE_EXTERNAL_TEMPORAL: '1', PREFLINE_DATA_DIR: dataDir, PREFLINE_TASK_QUEUE: 'prefline' };
    deployment = new Deployment(dir, env);

    const setup = runCli(['cluster', 'setup'], env);
    assert.equal(setup.code, 0, setup.stdout + setup.stderr);
    assert.match(setup.stdout, /the namespace is ready for Prefline\n$/);

    // One at a time: the first workflows worker builds the workflow bundle into the shared cache, the second reuses it.
    workers.workflows1 = await deployment.startWorker('workflows-1', ['workflows']);
    workers.workflows2 = await deployment.startWorker('workflows-2', ['workflows']);
    workers.inference = await deployment.startWorker('inference', ['inference']);
    workers.ledger = await deployment.startWorker('ledger', ['ledger']);
    gateways = [await deployment.startGateway('gateway-a'), await deployment.startGateway('gateway-b')];
  });

  after(async () => {
    await deployment?.stop(5000);
    await connection?.close();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should refuse a second ledger worker while the first holds the ledger, and leave the first running', async () => {
    const second = deployment.start('ledger-2', ['worker', '--queues', 'ledger']);
    const exit = await Promise.race([second.exited, sleep(60_000).then(() => undefined)]);
    assert.ok(exit, withLogs('a second ledger worker kept running'));
    assert.deepEqual(exit, { code: 1, signal: null }, second.tail());
    assert.match(second.log(), /the ledger \S+ledger\.duckdb is held by another process \(the ledger worker\)/);
    assert.ok(workers.ledger!.running, withLogs('the first ledger worker stopped'));
  });

  it('should commit every accepted vote exactly once and complete every lifecycle', async () => {
    const [gatewayA, gatewayB] = gateways as [GatewayProcess, GatewayProcess];
    const config = loadConfig(env);

    // Raters: the first invited from the CLI, the others from the registry; sessions from both gateways.
    const invited = runCli(['raters', 'invite', 'rater-0@example.org'], env);
    assert.equal(invited.code, 0, invited.stderr);
    const firstLink = /(http:\/\/\S+\/#\/invite\/\S+)/.exec(invited.stdout)?.[1];
    assert.ok(firstLink, invited.stdout);
    const invites = [tokenOfLink(firstLink), ...(await inviteTokens(config, Array.from({ length: RATERS - 1 }, (_, i) => `rater-${i + 1}`)))];
    const raters: WebRater[] = [];
    for (const [i, invite] of invites.entries()) raters.push(await signIn(gateways[i % 2]!.url, `rater-${i}`, invite));
    assert.equal(new Set(raters.map((r) => r.rater)).size, RATERS, 'one pseudonym per rater');

    // Lifecycles, started from the CLI as an operator would.
    const ids = Array.from({ length: LIFECYCLES }, (_, l) => `many-${l}`);
    for (const [l, id] of ids.entries()) {
      const input = { prompt: `a fox on a cluster, take ${l}`, model: 'demo:text', candidates: CANDIDATES.length, totalVotes: VOTES_PER_LIFECYCLE };
      const started = runCli(['start', JSON.stringify(input), '--id', id], env);
      assert.equal(started.code, 0, withLogs(started.stdout + started.stderr));
    }
    // Raters see them on the page of either gateway once they are open for votes.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const listed = await fetch(`${gatewayB.url}/api/lifecycles`, { headers: { authorization: `Bearer ${raters[1]!.token}` } })
        .then(async (r) => ((await r.json()) as { lifecycles: LifecycleStatus[] }).lifecycles.map((s) => s.lifecycleId))
        .catch(() => [] as string[]);
      if (ids.every((id) => listed.includes(id))) break;
      assert.ok(Date.now() < deadline, withLogs(`the lifecycles did not open for voting within 120 s (listed: ${listed.join(', ')})`));
      await sleep(500);
    }

    // Every (lifecycle, candidate, rater) once, in an order that mixes lifecycles and raters; each vote
    // starts at the gateway after the previous vote's, so both gateways take sessions issued by the other.
    const planned: PlannedVote[] = [];
    for (let r = 0; r < RATERS; r++) {
      for (const [c, candidateId] of CANDIDATES.entries()) {
        for (const [l, lifecycleId] of ids.entries()) {
          planned.push({ lifecycleId, candidateId, value: valueOf(l, c, r), rater: raters[r]!, idempotencyKey: newIdempotencyKey(), gateway: 0 });
        }
      }
    }
    planned.sort((a, b) => a.idempotencyKey.localeCompare(b.idempotencyKey)); // random keys: a shuffle
    planned.forEach((v, i) => (v.gateway = i % 2));
    const third = Math.floor(planned.length / 3);

    const sender = new VoteSender([gatewayA.url, gatewayB.url], { voteTimeoutMs: 180_000 });
    const client = new Client({ connection, namespace: cluster.namespace });
    const accepted = new Map<string, CastVote>();
    const record = (cast: CastVote) => {
      assert.ok(!accepted.has(cast.vote.idempotencyKey));
      accepted.set(cast.vote.idempotencyKey, cast);
    };
    let gatewayKilledAt = 0;
    let restartedAt = 0;
    try {
      // 1. A third of the votes with everything up.
      await castAll(sender, planned.slice(0, third), CONCURRENCY, 0, record);
      assert.ok([...accepted.values()].every((c) => c.outcome === 'recorded'), 'first votes are recorded');

      // 2. The workflows worker that ran the most lifecycles is killed, and the next third sent at once:
      //    votes on its lifecycles wait at the gateways until the other worker takes them over. A second
      //    later gateway A is killed with those in flight, and the Temporal server is killed and restarted.
      const holders = await Promise.all(ids.map((id) => lastWorkflowTaskIdentity(client, id)));
      const [victim, survivor] = ['workflows1', 'workflows2']
        .map((name) => workers[name]!)
        .sort((a, b) => holders.filter((h) => h === identityOf(b)).length - holders.filter((h) => h === identityOf(a)).length) as [LoggedProcess, LoggedProcess];
      const victimsLifecycles = ids.filter((_, l) => holders[l] === identityOf(victim));
      assert.ok(victimsLifecycles.length > 0, `a workflows worker runs lifecycles (last workflow tasks by ${holders.join(', ')})`);
      assert.equal((await victim.kill('SIGKILL')).signal, 'SIGKILL');
      const second = castAll(sender, planned.slice(third, 2 * third), third, 0, record);
      const faults = (async () => {
        await sleep(1000);
        gatewayKilledAt = Date.now();
        assert.equal((await gatewayA.kill('SIGKILL')).signal, 'SIGKILL');
        await cluster.restart('SIGKILL');
        restartedAt = Date.now();
      })();
      await Promise.all([second, faults]);

      // 3. The rest, after the restart, against what survived; and re-deliveries (a page that never saw
      //    its answer sends the same key again) of votes gateway A accepted before the faults.
      await castAll(sender, planned.slice(2 * third), CONCURRENCY, 0, record);
      const redelivered = [...accepted.values()].filter((c) => c.via === gatewayA.url && c.acceptedAt < gatewayKilledAt).slice(0, CONCURRENCY);
      assert.ok(redelivered.length > 0, 'gateway A accepted votes before it was killed');
      const answers = await Promise.all(redelivered.map((c) => sender.cast({ ...c.vote, gateway: 1 })));
      // The lifecycle answers a known key as a duplicate; the server may answer a completed update's id with its first result.
      assert.ok(answers.every((a) => a.via === gatewayB.url && (a.outcome === 'duplicate' || a.outcome === 'recorded')), JSON.stringify(answers.map((a) => [a.via, a.outcome])));

      const casts = [...accepted.values()];
      const retried = casts.filter((c) => c.failures.length > 0);
      const inFlightAtKill = casts.filter((c) => c.failures.some((f) => f.gateway === gatewayA.url && f.startedAt <= gatewayKilledAt));
      const outcomes = Object.fromEntries(['recorded', 'duplicate'].map((o) => [o, casts.filter((c) => c.outcome === o).length]));
      console.log(
        `      ${casts.length} votes accepted, ${JSON.stringify(outcomes)}; ${retried.length} needed retries, ${inFlightAtKill.length} of them in flight at gateway A's kill; ` +
          `${redelivered.length} re-delivered (${JSON.stringify(answers.map((a) => a.outcome))}); killed ${victim.name} (it ran ${victimsLifecycles.length} of ${LIFECYCLES} lifecycles, ${survivor.name} took over); server back ${restartedAt - gatewayKilledAt} ms after the kill`,
      );
      assert.equal(accepted.size, planned.length, 'every planned vote was accepted in the end');
      assert.ok(inFlightAtKill.length > 0, withLogs('no vote was in flight at gateway A when it was killed'));
      assert.ok(inFlightAtKill.every((c) => c.via === gatewayB.url), 'votes in flight at the killed gateway were accepted by the other');
      assert.ok(casts.every((c) => c.outcome === 'recorded' || c.outcome === 'duplicate'), JSON.stringify(casts.map((c) => c.outcome)));
    } finally {
      sender.close();
    }

    // Every lifecycle completes at its quorum, counting each accepted vote once.
    const summaries = await Promise.all(
      ids.map(async (id) => {
        const timeout = sleep(180_000).then(() => {
          throw new Error(withLogs(`${id} did not complete within 180 s`));
        });
        return (await Promise.race([client.workflow.getHandle(id).result(), timeout])) as LifecycleSummary;
      }),
    );
    for (const summary of summaries) {
      assert.equal(summary.closeReason, 'quorum', JSON.stringify(summary));
      assert.equal(summary.votesAccepted, VOTES_PER_LIFECYCLE, JSON.stringify(summary));
      assert.equal(summary.rowsCommitted, VOTES_PER_LIFECYCLE, JSON.stringify(summary));
    }

    // The ledger, read from the file once its writer has stopped: every accepted vote exactly once.
    for (const p of [...Object.values(workers), ...gateways]) assert.ok(p.running || p.child.signalCode === 'SIGKILL', withLogs(`${p.name} died`));
    await deployment.stop();
    const query = (sql: string) => {
      const result = runCli(['query', sql, '--format', 'json'], env);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    };
    const rows = query(`SELECT lifecycle_id, idempotency_key, candidate_id, rater, value, kind, standing, channel, rater_auth FROM votes ORDER BY idempotency_key`);
    const expected = [...accepted.values()]
      .map(({ vote }) => ({
        lifecycle_id: vote.lifecycleId,
        // The web channel stores the page's key under the rater's pseudonym (channels/web/vote-request.ts).
        idempotency_key: `web:${vote.rater.rater}:${vote.idempotencyKey}`,
        candidate_id: vote.candidateId,
        rater: vote.rater.rater,
        value: vote.value === 'up' ? 1 : -1,
        kind: 'vote',
        standing: true,
        channel: 'web',
        rater_auth: 'invite',
      }))
      .sort((a, b) => (a.idempotency_key < b.idempotency_key ? -1 : 1));
    assert.equal(rows.length, expected.length, `${rows.length} ledger rows for ${expected.length} accepted votes`);
    assert.deepEqual(rows, expected);

    // Tallies: the ledger's, the lifecycles' and the votes sent agree.
    const tallies = query(`SELECT lifecycle_id, candidate_id, count(*) FILTER (WHERE value = 1)::INT AS up, count(*) FILTER (WHERE value = -1)::INT AS down FROM votes GROUP BY ALL ORDER BY ALL`);
    const lifecycleRows = query(`SELECT lifecycle_id, close_reason, votes_accepted FROM lifecycles ORDER BY lifecycle_id`);
    assert.deepEqual(lifecycleRows, ids.map((id) => ({ lifecycle_id: id, close_reason: 'quorum', votes_accepted: VOTES_PER_LIFECYCLE })));
    for (const [l, id] of ids.entries()) {
      const summary = summaries[l]!;
      for (const [c, candidateId] of CANDIDATES.entries()) {
        const down = Array.from({ length: RATERS }, (_, r) => valueOf(l, c, r)).filter((v) => v === 'down').length;
        const fromLedger = tallies.find((t) => t.lifecycle_id === id && t.candidate_id === candidateId);
        const fromLifecycle = summary.tally.find((t) => t.candidateId === candidateId);
        assert.deepEqual(fromLedger, { lifecycle_id: id, candidate_id: candidateId, up: RATERS - down, down }, `${id}/${candidateId} in the ledger`);
        assert.deepEqual({ up: fromLifecycle?.up, down: fromLifecycle?.down }, { up: RATERS - down, down }, `${id}/${candidateId} in the lifecycle`);
      }
    }
  });
});
