/**
 * Issue 14's trust boundary: compare lifecycles and brought candidates on the dev server with the real
 * ingest activity and ledger. Each case asserts a clear refusal naming the rule and that nothing
 * changed: a refused start runs no activity; a refused brought candidate stores nothing, publishes
 * nothing, commits nothing, and is not retried (nor fetched, for a private address); a refused judgement
 * leaves the status and, after the close, the ledger's rows exactly those of the accepted judgements.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSafeDownloader } from '../../connectors/http/safe-download';
import { ErrorCode } from '../../core/errors';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { TemporalLifecycleDirectory } from '../../core/temporal-directory';
import { INVALID_INPUT_ERROR, VoteRejection, WORKFLOW_TYPE, closeSignal, judgeSignal, judgeUpdate, statusQuery } from '../../workflows/messages';
import type { JudgementRequest, LifecycleStatus, LifecycleSummary } from '../../workflows/types';
import { discPng } from '../helpers/fake-directory';
import { historyEvents, recordingChannel, type ChannelCalls } from '../helpers/stub-activities';
import { createLifecycleWorkers, sharedTemporal, waitForVoting, workflowBundle, type LifecycleWorkers } from '../helpers/temporal';
import { judgement } from '../helpers/votes';

const COMPARE = { task: 'compare', models: ['demo:shapes', 'demo:gradient'], prompt: 'a red fox', responses: 1000, deadline: '1h' };

describe('security: compare lifecycles and brought candidates (real dev server, real ingest and ledger)', function () {
  this.timeout(120_000);
  let workers: LifecycleWorkers;
  let channel: ChannelCalls;
  let base: string;
  let importRoot: string;
  let server: http.Server;
  let serverPort: number;
  let requestsSeen = 0;
  let web: WorkflowHandleWithFirstExecutionRunId;
  let slack: WorkflowHandleWithFirstExecutionRunId;
  let three: WorkflowHandleWithFirstExecutionRunId;
  const accepted: JudgementRequest[] = [];

  async function start(args: unknown[]): Promise<WorkflowHandleWithFirstExecutionRunId> {
    const { client } = await sharedTemporal();
    return client.workflow.start(WORKFLOW_TYPE, { taskQueue: workers.taskQueue, workflowId: `lc-sec-cmp-${randomUUID()}`, args });
  }

  const count = async (table: string) => Number((await workers.ledger.query(`SELECT count(*)::INT AS n FROM ${table}`)).rows[0]?.['n']);
  const artifactFiles = () => fs.readdirSync(workers.artifacts.rootDir, { recursive: true }).filter((f) => /\.(png|txt|jpg|gif|webp)$/.test(String(f))).length;
  /** What a refused start or candidate must leave as it was. */
  const world = async () => ({ lifecycles: await count('lifecycles'), judgements: await count('judgements'), artifacts: artifactFiles(), published: channel.publishLifecycle.length });

  /** Starts a lifecycle; asserts it fails at once with InvalidLifecycleInput naming `fields`, before any activity. */
  async function refusedStart(input: Record<string, unknown>, fields: RegExp[]): Promise<void> {
    const before = await world();
    const handle = await start([input]);
    const err = await handle.result().then(() => assert.fail('the lifecycle started'), (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, INVALID_INPUT_ERROR);
    for (const field of fields) assert.match(err.cause.message, field);
    assert.ok(!(await historyEvents(handle)).some((e) => e.activityTaskScheduledEventAttributes), 'no activity ran');
    assert.deepEqual(await world(), before);
  }

  /** Starts a compare lifecycle bringing `candidates`; asserts the ingest refuses it once, not retried, and nothing was stored, published or committed. */
  async function refusedIngest(candidates: unknown[], code: string, message: RegExp): Promise<void> {
    const before = await world();
    const handle = await start([{ task: 'compare', prompt: 'brought', responses: 1, candidates }]);
    const err = await handle.result().then(() => assert.fail('the lifecycle ran'), (e: unknown) => e);
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ActivityFailure && err.cause.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.activityType, 'ingestCandidates');
    assert.equal(err.cause.cause.type, code);
    assert.equal(err.cause.cause.nonRetryable, true);
    assert.match(err.cause.cause.message, message);
    const started = (await historyEvents(handle)).filter((e) => e.activityTaskStartedEventAttributes);
    assert.deepEqual(started.map((e) => e.activityTaskStartedEventAttributes?.attempt), [1], 'one attempt, not retried');
    assert.deepEqual(await world(), before);
  }

  /** The parts of a status a refused judgement must leave as they were. */
  const observable = (s: LifecycleStatus) => ({ votesAccepted: s.votesAccepted, judgements: s.judgements, tallies: s.candidates.map((c) => c.tally) });

  async function refusedJudgement(handle: WorkflowHandle, request: unknown, type: string, message: RegExp): Promise<void> {
    const before = observable(await handle.query(statusQuery));
    const rows = await count('judgements');
    const err = await handle.executeUpdate(judgeUpdate, { args: [request as JudgementRequest] }).then(() => assert.fail('the judgement was accepted'), (e: unknown) => e);
    assert.ok(err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.type, type);
    assert.match(err.cause.message, message);
    // Signalled, it is not counted either.
    await handle.signal(judgeSignal, request as JudgementRequest);
    assert.deepEqual(observable(await handle.query(statusQuery)), before);
    assert.equal(await count('judgements'), rows);
  }

  async function accept(handle: WorkflowHandle, request: JudgementRequest): Promise<void> {
    assert.equal((await handle.executeUpdate(judgeUpdate, { args: [request] })).outcome, 'recorded');
    if (handle === web) accepted.push(request);
  }

  before(async function () {
    this.timeout(180_000);
    await sharedTemporal();
    await workflowBundle();
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'prefline-sec-compare-'));
    importRoot = path.join(base, 'import');
    const outside = path.join(base, 'outside');
    fs.mkdirSync(importRoot);
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(importRoot, 'inside.png'), discPng([10, 120, 10]));
    fs.writeFileSync(path.join(importRoot, 'program.bin'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0xff, 0xfe, 0x00, 0x00]));
    fs.writeFileSync(path.join(importRoot, 'big.txt'), 'x'.repeat(100_000));
    fs.writeFileSync(path.join(outside, 'secret.png'), discPng([1, 2, 3]));
    fs.symlinkSync(path.join(outside, 'secret.png'), path.join(importRoot, 'escape.png'));
    fs.symlinkSync(outside, path.join(importRoot, 'linked'));
    server = http.createServer((_req, res) => {
      requestsSeen += 1;
      res.end(discPng([9, 9, 9]));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverPort = (server.address() as AddressInfo).port;
    const recording = recordingChannel();
    channel = recording.calls;
    workers = await createLifecycleWorkers('security-compare', {
      importRoot,
      channel: recording.activities,
      // Names that resolve to private, link-local and loopback addresses; a 64 KiB cap.
      downloader: createSafeDownloader({
        maxBytes: 64 * 1024,
        resolve: async (host) => [{ address: host === 'intranet.example' ? '10.1.2.3' : host === 'metadata.example' ? '169.254.169.254' : '127.0.0.1', family: 4 }],
      }),
    });
    await new Promise<void>((resolve, reject) => {
      workersDone = workers.run(() => new Promise<void>((stop) => {
        stopWorkers = stop;
        resolve();
      })).catch(reject);
    });
    web = await start([{ ...COMPARE, allowBothBad: false }]);
    slack = await start([{ ...COMPARE, channel: 'slack:#ratings' }]);
    three = await start([{ prompt: 'three texts', model: 'demo:text', candidates: 3, totalVotes: 100, deadline: '1h' }]);
    await Promise.all([web, slack, three].map((h) => waitForVoting(h, 30_000)));
  });

  let stopWorkers: () => void = () => undefined;
  let workersDone: Promise<void> = Promise.resolve();

  after(async function () {
    this.timeout(60_000);
    stopWorkers();
    await workersDone;
    workers.close();
    server.close();
    fs.rmSync(base, { recursive: true, force: true });
  });

  describe('compare input', () => {
    it('should refuse brought file: references that leave the import root as written: "..", absolute, backslashes', async () => {
      await refusedStart({ task: 'compare', prompt: 'p', candidates: [{ ref: 'file:../outside/secret.png', model: 'a' }, { ref: 'file:/etc/passwd', model: 'b' }] }, [
        /candidates\[0\]\.ref: .*must not leave the import root/, /candidates\[1\]\.ref: .*must be relative to the import root/,
      ]);
      await refusedStart({ task: 'compare', prompt: 'p', candidates: [{ ref: 'file:a\\..\\..\\x.png', model: 'a' }, { ref: 'file:./inside.png', model: 'b' }] }, [
        /candidates\[0\]\.ref: .*"\/" between folders/, /candidates\[1\]\.ref: .*empty or "\." segments/,
      ]);
    });

    it('should refuse schemes other than https (and http for allowed hosts) for brought candidates', async () => {
      await refusedStart({ task: 'compare', prompt: 'p', candidates: [{ ref: 'ftp://example.com/a.png', model: 'a' }, { ref: 'data:image/png;base64,AAAA', model: 'b' }] }, [
        /candidates\[0\]\.ref: "ftp:\/\/example\.com\/a\.png" is not/, /candidates\[1\]\.ref: "data:image/,
      ]);
    });

    it('should refuse a compare lifecycle of three candidates, a thumbs quorum on it, and responses on a thumbs one', async () => {
      await refusedStart({ task: 'compare', prompt: 'p', models: ['demo:shapes', 'demo:gradient', 'demo:text'] }, [/task: a compare lifecycle compares two candidates/]);
      await refusedStart({ ...COMPARE, votesPerCandidate: 3 }, [/votesPerCandidate: .*compare/]);
      await refusedStart({ prompt: 'p', model: 'demo:text', responses: 3 }, [/responses: .*compare/]);
    });

    it('should refuse a question over two lines or with direction overrides', async () => {
      await refusedStart({ ...COMPARE, question: 'Which is better?\nIgnore the above' }, [/question: /]);
      await refusedStart({ ...COMPARE, question: 'Which \u202Eis better' }, [/question: /]);
    });
  });

  describe('brought candidates, refused when ingested', () => {
    it('should refuse a file whose symbolic link leads out of the import root, and one in a linked folder', async () => {
      await refusedIngest([{ ref: 'file:inside.png', model: 'a' }, { ref: 'file:escape.png', model: 'b' }], ErrorCode.ImportRefused, /escape\.png: leads out of the import root/);
      await refusedIngest([{ ref: 'file:linked/secret.png', model: 'a' }, { ref: 'file:inside.png', model: 'b' }], ErrorCode.ImportRefused, /linked\/secret\.png: leads out of the import root/);
    });

    it('should refuse a file that is neither an image nor text, one over the size cap, and a missing one', async () => {
      await refusedIngest([{ ref: 'file:program.bin', model: 'a' }, { ref: 'file:inside.png', model: 'b' }], ErrorCode.ImportRefused, /program\.bin.*neither an image/);
      await refusedIngest([{ ref: 'file:inside.png', model: 'a' }, { ref: 'file:big.txt', model: 'b' }], ErrorCode.ImportRefused, /big\.txt: 100000 bytes is larger than the cap of 65536/);
      await refusedIngest([{ ref: 'file:nothing-here.png', model: 'a' }, { ref: 'file:inside.png', model: 'b' }], ErrorCode.ImportRefused, /nothing-here\.png: no such file/);
    });

    it('should refuse an artifact digest the store does not hold', async () => {
      await refusedIngest([{ ref: `sha256:${'ab'.repeat(32)}`, model: 'a' }, { ref: 'file:inside.png', model: 'b' }], ErrorCode.ImportRefused, /holds no such artifact/);
    });

    it('should refuse URLs of loopback, private and link-local addresses, and plain http, without fetching them', async () => {
      await refusedIngest([{ ref: `https://127.0.0.1:${serverPort}/a.png`, model: 'a' }, { ref: 'file:inside.png', model: 'b' }], ErrorCode.DownloadRefused, /127\.0\.0\.1/);
      await refusedIngest([{ ref: 'https://intranet.example/a.png', model: 'a' }, { ref: 'file:inside.png', model: 'b' }], ErrorCode.DownloadRefused, /10\.1\.2\.3/);
      await refusedIngest([{ ref: 'https://metadata.example/latest/meta-data', model: 'a' }, { ref: 'file:inside.png', model: 'b' }], ErrorCode.DownloadRefused, /169\.254\.169\.254/);
      await refusedIngest([{ ref: `https://localhost:${serverPort}/a.png`, model: 'a' }, { ref: 'file:inside.png', model: 'b' }], ErrorCode.DownloadRefused, /localhost|127\.0\.0\.1/);
      await refusedIngest([{ ref: `http://127.0.0.1:${serverPort}/a.png`, model: 'a' }, { ref: 'file:inside.png', model: 'b' }], ErrorCode.DownloadRefused, /plain http is allowed only for the hosts/);
      assert.equal(requestsSeen, 0, 'no request reached the local server');
    });
  });

  describe('judgements', () => {
    it('should refuse a pair that is not the lifecycle\'s, and the same candidate on both sides', async () => {
      await accept(web, judgement('left', 1));
      await refusedJudgement(web, judgement('left', 2, ['c1', 'c3']), VoteRejection.UnknownCandidate, /unknown candidate "c3": this lifecycle compares "c1" and "c2"/);
      await refusedJudgement(web, judgement('left', 2, ['c2', 'c2']), VoteRejection.MalformedVote, /left, right: must be two different candidates/);
    });

    it('should refuse "both bad" where the lifecycle does not offer it, and take it where it does', async () => {
      await refusedJudgement(web, judgement('both_bad', 3), VoteRejection.ChoiceNotOffered, /"both bad" is not an answer on this lifecycle/);
      await accept(slack, judgement('both_bad', 3, ['c2', 'c1'], { channel: 'slack' }));
    });

    it('should refuse a judgement through another channel than the lifecycle\'s, by update and through the directory', async () => {
      await refusedJudgement(web, judgement('left', 4, ['c1', 'c2'], { channel: 'slack' }), VoteRejection.WrongChannel, /not "slack"/);
      await refusedJudgement(slack, judgement('left', 4), VoteRejection.WrongChannel, /slack lifecycle.*not "web"/);
      const { client } = await sharedTemporal();
      await assert.rejects(new TemporalLifecycleDirectory(client).judge(slack.workflowId, judgement('left', 5)),
        (err: unknown) => err instanceof VoteRejectedError && err.code === 'wrong_channel');
    });

    it('should refuse judgements on a lifecycle of three candidates', async () => {
      await refusedJudgement(three, judgement('left', 1), VoteRejection.NotPairwise, /this lifecycle has 3 candidates; judgements compare exactly two/);
    });

    it('should refuse a raw identity, a castAt the ledger cannot store, an unknown choice, an oversized comment and a non-object', async () => {
      await refusedJudgement(web, judgement('left', 'alice@example.com'), VoteRejection.MalformedVote, /rater: must be a pseudonym/);
      await refusedJudgement(web, judgement('left', 6, ['c1', 'c2'], { castAt: 'March 1, 2026' }), VoteRejection.MalformedVote, /castAt: must be an ISO-8601 time/);
      await refusedJudgement(web, { ...judgement('left', 6), choice: 'a' }, VoteRejection.MalformedVote, /choice: must be/);
      await refusedJudgement(web, judgement('left', 6, ['c1', 'c2'], { comment: 'x'.repeat(2001) }), VoteRejection.MalformedVote, /comment: must be text of at most 2000/);
      await refusedJudgement(web, 'left', VoteRejection.MalformedVote, /judgement must be an object/);
    });

    it('should commit exactly the accepted judgements when the lifecycle closes', async () => {
      await accept(web, judgement('right', 7, ['c2', 'c1']));
      await web.signal(closeSignal, {});
      const summary = (await web.result()) as LifecycleSummary;
      assert.equal(summary.votesAccepted, accepted.length);
      // The refused signals, counted and not recorded.
      assert.equal(summary.lateVotesRefused, 8);
      assert.equal(summary.wrongChannelVotesRefused, 1);
      const { rows } = await workers.ledger.query(`SELECT idempotency_key FROM judgements WHERE lifecycle_id = $1 ORDER BY seq`, [web.workflowId]);
      assert.deepEqual(rows.map((r) => r['idempotency_key']), accepted.map((j) => j.idempotencyKey));
      assert.deepEqual(summary.judgements, { byCandidate: { c1: 2, c2: 0 }, tie: 0, bothBad: 0, standing: 2 });
    });
  });
});
