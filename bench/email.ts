/**
 * `node dist/bench/email.js`: the email channel for one lifecycle with 500 raters, in one run.
 *
 * 1. Sending: EmailPublisher.publish (composition, signed links, send records, a pooled transport)
 *    to a local SMTP server, against a raw nodemailer pooled transport sending the same 500 messages
 *    (built beforehand) to the same server. Interleaved runs; the fastest of each counts.
 * 2. Voting: 500 link-vote POSTs through the gateway (token check, directory, Temporal update), against
 *    the same 500 votes as `voteUpdate`s straight from a Temporal client, on a real dev server, at the
 *    same concurrency.
 *
 * Environment: BENCH_RATERS (500), BENCH_RUNS (3), BENCH_POOL (5 connections), BENCH_CONCURRENCY (8).
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport, type SendMailOptions } from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { createChannelActivities } from '../activities/channel';
import { composeInvite } from '../channels/email/compose';
import { createEmailPublisher } from '../channels/email/publisher';
import { createSmtpTransport } from '../channels/email/smtp';
import { EmailState } from '../channels/email/state';
import { messageIdFor, signUnsubscribe, signVoteLink } from '../channels/email/tokens';
import { createEmailRoutes } from '../channels/email/routes';
import { createGatewayServer, listen } from '../gateway/http-server';
import { pseudonymiseRater } from '../core/pseudonym';
import { TemporalLifecycleDirectory, voteUpdateId } from '../core/temporal-directory';
import { ArtifactStore } from '../store/ArtifactStore';
import { emailCandidates, emailPlan } from '../test/helpers/email';
import { MemoryArtifacts } from '../test/helpers/fake-directory';
import { createLifecycleWorkers, sharedTemporal, stopSharedTemporal, waitForVoting } from '../test/helpers/temporal';
import { WORKFLOW_TYPE, closeSignal, statusQuery, voteUpdate } from '../workflows/messages';
import type { LifecycleSummary, VoteRequest } from '../workflows/types';
import { fmt, percentile, runPool } from './util';

const RATERS = Number(process.env.BENCH_RATERS ?? 500);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const POOL = Number(process.env.BENCH_POOL ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const RATER_KEY = randomBytes(32);
const TOKEN_KEY = randomBytes(32);
const FROM = { name: 'Prefline', address: 'ratings@bench.test' };
const addresses = Array.from({ length: RATERS }, (_, i) => `rater${String(i).padStart(4, '0')}@bench.test`);

/** A local SMTP server that accepts and discards, counting messages. */
async function countingSink(): Promise<{ port: number; count: () => number; close: () => Promise<void> }> {
  let received = 0;
  const server = new SMTPServer({
    logger: false, authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], disableReverseLookup: true,
    onData(stream, _session, cb) {
      stream.on('end', () => {
        received += 1;
        cb();
      });
      stream.resume();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { port: (server.server.address() as AddressInfo).port, count: () => received, close: () => new Promise((r) => server.close(() => r())) };
}

/** CPU ms (user + system) of this process, which also runs the SMTP sink: the same sink work on both sides. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function benchSend(dir: string, sinkPort: number, count: () => number): Promise<{ prefline: number; raw: number; preflineCpu: number; rawCpu: number }> {
  const artifacts = await ArtifactStore.open(join(dir, 'artifacts'));
  const candidates = await emailCandidates(artifacts);
  const deadlineAt = new Date(Date.now() + 3_600_000).toISOString();
  const plan = emailPlan({ kind: 'email', recipients: addresses });
  const transportOptions = { host: '127.0.0.1', port: sinkPort, secure: false, requireTLS: false, maxConnections: POOL, rateLimit: 0 };
  const images = new Map(await Promise.all(candidates.filter((c) => c.kind === 'image').map(async (c) => [c.id, (await artifacts.read(c.artifact.sha256)).bytes] as const)));
  const best = { prefline: Infinity, raw: Infinity, preflineCpu: Infinity, rawCpu: Infinity };
  for (let run = 0; run < RUNS; run++) {
    // Prefline: everything a publish activity does.
    const lifecycleId = `bench-send-${run}`;
    const transport = createSmtpTransport(transportOptions);
    const publisher = createEmailPublisher({
      transport, from: FROM, publicUrl: 'http://gw.bench', inboundDomain: 'in.bench.test', raterKey: RATER_KEY, tokenKey: TOKEN_KEY,
      state: await EmailState.open(join(dir, `state-${run}`)), artifacts, concurrency: POOL * 4,
    });
    let before = count();
    let t0 = performance.now();
    let c0 = cpuMs();
    await publisher.publish({ lifecycleId, plan, candidates, deadlineAt });
    best.prefline = Math.min(best.prefline, performance.now() - t0);
    best.preflineCpu = Math.min(best.preflineCpu, cpuMs() - c0);
    if (count() - before !== RATERS) throw new Error(`prefline sent ${count() - before} mails, expected ${RATERS}`);
    transport.close();

    // Raw nodemailer: the same messages, built before the clock starts.
    const messages: SendMailOptions[] = addresses.map((to) => {
      const rater = pseudonymiseRater(RATER_KEY, 'email', to);
      const link = (candidateId: string, value: 'up' | 'down' | 'retract') => `http://gw.bench/email/v/${signVoteLink(TOKEN_KEY, { lifecycleId, rater, candidateId, value, expiresAt: Date.parse(deadlineAt) })}`;
      return {
        ...composeInvite({
          from: FROM, to, messageId: messageIdFor('invite', `raw-${lifecycleId}`, rater, 'bench.test'), prompt: plan.prompt, deadlineAt,
          candidates: candidates.map((c) => ({
            id: c.id, label: c.label, kind: c.kind, placeholder: c.placeholder, ...(c.text !== undefined ? { text: c.text } : {}),
            ...(images.has(c.id) ? { image: { cid: `${c.id}@prefline`, content: images.get(c.id)!, contentType: c.artifact.mime, filename: `${c.label}.png` } } : {}),
            links: { up: link(c.id, 'up'), down: link(c.id, 'down'), retract: link(c.id, 'retract') },
          })),
          unsubscribeUrl: `http://gw.bench/email/unsubscribe/${signUnsubscribe(TOKEN_KEY, rater)}`,
        }),
        envelope: { from: FROM.address, to: [to] },
      };
    });
    const raw = createTransport({ host: '127.0.0.1', port: sinkPort, secure: false, pool: true, maxConnections: POOL, maxMessages: 100 });
    before = count();
    t0 = performance.now();
    c0 = cpuMs();
    await Promise.all(messages.map((m) => raw.sendMail(m)));
    best.raw = Math.min(best.raw, performance.now() - t0);
    best.rawCpu = Math.min(best.rawCpu, cpuMs() - c0);
    if (count() - before !== RATERS) throw new Error(`raw sent ${count() - before} mails, expected ${RATERS}`);
    raw.close();
  }
  return best;
}

async function benchVotes(sinkPort: number): Promise<void> {
  const { client } = await sharedTemporal();
  const dir = mkdtempSync(join(tmpdir(), 'prefline-bench-email-votes-'));
  const transport = createSmtpTransport({ host: '127.0.0.1', port: sinkPort, secure: false, requireTLS: false, maxConnections: POOL, rateLimit: 0 });
  const state = await EmailState.open(join(dir, 'email'));
  const ref: { artifacts?: ArtifactStore } = {}; // the workers' store, known once they exist
  const publisher = createEmailPublisher({
    transport, from: FROM, publicUrl: 'http://gw.bench', raterKey: RATER_KEY, tokenKey: TOKEN_KEY, state,
    artifacts: { read: (sha) => ref.artifacts!.read(sha) }, concurrency: POOL * 4,
  });
  const workers = await createLifecycleWorkers('bench-email', { channel: createChannelActivities({ email: publisher }) });
  ref.artifacts = workers.artifacts;
  const directory = new TemporalLifecycleDirectory(client);
  const server: http.Server = createGatewayServer({
    directory, artifacts: new MemoryArtifacts(), raterKey: RATER_KEY, sessionKey: randomBytes(32), sessionTtlMs: 3_600_000,
    channelRoutes: createEmailRoutes({ directory, tokenKey: TOKEN_KEY, state }), log: () => undefined,
  });
  const { url } = await listen(server, '127.0.0.1', 0);
  try {
    await workers.run(async () => {
      const start = (id: string) =>
        client.workflow.start(WORKFLOW_TYPE, {
          taskQueue: workers.taskQueue, workflowId: `${id}-${Date.now()}`,
          args: [{ prompt: 'a red fox in the snow', model: 'demo:shapes', candidates: 2, channel: `email:${addresses.join(',')}`, totalVotes: 10_000, deadline: '30m' }],
        });
      const [viaGateway, viaRaw] = await Promise.all([start('bench-email-gateway'), start('bench-email-raw')]);
      for (const h of [viaGateway, viaRaw]) await waitForVoting(h, 300_000);
      const deadline = Date.parse((await viaGateway.query(statusQuery)).deadlineAt!);
      const raters = addresses.map((a) => pseudonymiseRater(RATER_KEY, 'email', a));
      const links = raters.map((rater) => `${url}/email/v/${signVoteLink(TOKEN_KEY, { lifecycleId: viaGateway.workflowId, rater, candidateId: 'c1', value: 'up', expiresAt: deadline })}`);

      const gateway = await runPool(RATERS, CONCURRENCY, async (i) => {
        const res = await fetch(links[i]!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
        const page = await res.text();
        if (res.status !== 200 || !page.includes('Vote recorded')) throw new Error(`HTTP ${res.status}`);
      });
      const raw = await runPool(RATERS, CONCURRENCY, async (i) => {
        const vote: VoteRequest = { idempotencyKey: `raw:${i}`, candidateId: 'c1', value: 'up', rater: raters[i]!, channel: 'email', castAt: new Date().toISOString() };
        const receipt = await viaRaw.executeUpdate(voteUpdate, { args: [vote], updateId: voteUpdateId(vote.idempotencyKey) });
        if (receipt.outcome !== 'recorded') throw new Error(receipt.outcome);
      });
      for (const h of [viaGateway, viaRaw]) await h.signal(closeSignal, {});
      const [g, r] = (await Promise.all([viaGateway.result(), viaRaw.result()])) as LifecycleSummary[];
      const rate = (t: { ok: number; wallMs: number }) => (t.ok / t.wallMs) * 1000;
      console.log(`\nvote POSTs, ${RATERS} raters, concurrency ${CONCURRENCY}:`);
      console.log(`  gateway link POST  ${fmt(rate(gateway))} votes/s  p50 ${fmt(percentile(gateway.latenciesMs, 50))} ms  p99 ${fmt(percentile(gateway.latenciesMs, 99))} ms  failed ${gateway.failed}  committed ${g!.rowsCommitted}`);
      console.log(`  raw executeUpdate  ${fmt(rate(raw))} votes/s  p50 ${fmt(percentile(raw.latenciesMs, 50))} ms  p99 ${fmt(percentile(raw.latenciesMs, 99))} ms  failed ${raw.failed}  committed ${r!.rowsCommitted}`);
      console.log(`  ratio gateway/raw throughput ${fmt(rate(gateway) / rate(raw), 2)}  (wall ${fmt(gateway.wallMs / raw.wallMs, 2)}× the raw time)`);
      if (gateway.failed || raw.failed) console.log('  errors:', [...gateway.errors, ...raw.errors]);
    });
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    transport.close();
    workers.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sink = await countingSink();
  const dir = mkdtempSync(join(tmpdir(), 'prefline-bench-email-'));
  try {
    const send = await benchSend(dir, sink.port, sink.count);
    console.log(`send, one lifecycle to ${RATERS} raters (2 candidates, one inline image), pool of ${POOL}, best of ${RUNS}:`);
    console.log(`  EmailPublisher.publish  ${fmt(send.prefline, 0)} ms  ${fmt((RATERS / send.prefline) * 1000)} mails/s  cpu ${fmt(send.preflineCpu, 0)} ms`);
    console.log(`  raw nodemailer pool     ${fmt(send.raw, 0)} ms  ${fmt((RATERS / send.raw) * 1000)} mails/s  cpu ${fmt(send.rawCpu, 0)} ms (messages built beforehand)`);
    console.log(`  ratio prefline/raw      wall ${fmt(send.prefline / send.raw, 2)}  cpu ${fmt(send.preflineCpu / send.rawCpu, 2)}`);
    await benchVotes(sink.port);
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
    await stopSharedTemporal();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
