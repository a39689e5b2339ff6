/**
 * A gateway serving Slack's endpoints over real HTTP, with messages really posted to the Slack stand-in
 * by the publisher, and lifecycles behind a fake post directory that applies the real tally rules.
 * Shared by test/channels/slack/routes.test.ts and test/security/slack.test.ts.
 */
import type http from 'node:http';
import { createHash } from 'node:crypto';
import type { PostedMessage } from '../../channels/types';
import { createSlackWebClient } from '../../channels/slack/client';
import { createSlackPublisher } from '../../channels/slack/publisher';
import type { GatewayLogLevel } from '../../core/http';
import { createGatewayServer, listen } from '../../gateway/http-server';
import { VoteRejectedError } from '../../core/lifecycle-directory';
import { SlackInbound, type SlackInboundDeps } from '../../channels/slack/inbound';
import type { PostDirectory, PostInfo } from '../../core/post-directory';
import { createSlackRoutes } from '../../channels/slack/routes';
import { validateLifecycleInput } from '../../workflows/input';
import type { Candidate, JudgementReceipt, JudgementRequest, LifecycleTask, VoteReceipt, VoteRequest } from '../../workflows/types';
import { JudgementTally, judgementRefusal } from '../../workflows/judgement-tally';
import { VoteTally } from '../../workflows/vote-tally';
import { FakeDirectory, MemoryArtifacts } from './fake-directory';
import { SlackStandIn } from '../standins/slack-server';

export const RATER_KEY = Buffer.from('rater-key-for-slack-tests-0123456789');
export const CHANNEL = 'C0FEEDBK01';

/** Lifecycles as the gateway sees them through the port, with the real tally and judgement rules. */
export class FakeSlackPosts implements PostDirectory {
  readonly signals: Array<{ lifecycleId: string; vote: VoteRequest }> = [];
  readonly updates: Array<{ lifecycleId: string; vote: VoteRequest }> = [];
  readonly judged: Array<{ lifecycleId: string; judgement: JudgementRequest }> = [];
  readonly lookups: string[] = [];
  readonly tallies = new Map<string, VoteTally>();
  readonly judgements = new Map<string, JudgementTally>();
  /** Lifecycles that do not offer "both bad". */
  readonly noBothBad = new Set<string>();
  readonly closed = new Set<string>();
  private readonly posts = new Map<string, PostInfo>();
  lookupDelayMs = 0;
  /** The next N forwards fail as if Temporal were down. */
  failForwards = 0;

  add(lifecycleId: string, messages: PostedMessage[], candidates: Array<{ id: string; label: string }>, task?: LifecycleTask): void {
    this.tallies.set(lifecycleId, new VoteTally(candidates));
    this.judgements.set(lifecycleId, new JudgementTally(candidates));
    for (const m of messages) this.posts.set(m.ref, { lifecycleId, ...(m.candidateId ? { candidateId: m.candidateId } : {}), candidates, ...(task ? { task } : {}) });
  }

  async findPost(ref: string): Promise<PostInfo | undefined> {
    this.lookups.push(ref);
    if (this.lookupDelayMs) await new Promise((r) => setTimeout(r, this.lookupDelayMs));
    return this.posts.get(ref);
  }

  async signalVote(lifecycleId: string, vote: VoteRequest): Promise<void> {
    this.check(lifecycleId);
    this.signals.push({ lifecycleId, vote });
    this.tallies.get(lifecycleId)!.record(vote, new Date().toISOString());
  }

  async vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt> {
    this.check(lifecycleId);
    this.updates.push({ lifecycleId, vote });
    const tally = this.tallies.get(lifecycleId)!;
    const { outcome } = tally.record(vote, new Date().toISOString());
    return { outcome, candidate: tally.tallyOf(vote.candidateId) };
  }

  async judge(lifecycleId: string, judgement: JudgementRequest): Promise<JudgementReceipt> {
    this.check(lifecycleId);
    this.judged.push({ lifecycleId, judgement: structuredClone(judgement) });
    const judgements = this.judgements.get(lifecycleId)!;
    const candidateIds = this.tallies.get(lifecycleId)!.tallies().map((t) => t.candidateId);
    const refusal = judgementRefusal(judgement, { candidateIds, allowBothBad: !this.noBothBad.has(lifecycleId) });
    if (refusal) throw new VoteRejectedError(refusal.code, refusal.message);
    if (this.tallies.get(lifecycleId)!.isDuplicate(judgement.idempotencyKey)) return { outcome: 'duplicate', judgements: judgements.counted() };
    const { outcome } = judgements.record(judgement, new Date().toISOString(), judgements.accepted + 1, true);
    return { outcome, judgements: judgements.counted() };
  }

  standing(lifecycleId: string, candidateId: string): { up: number; down: number } {
    const t = this.tallies.get(lifecycleId)!.tallyOf(candidateId);
    return { up: t.up, down: t.down };
  }

  private check(lifecycleId: string): void {
    if (this.failForwards > 0) {
      this.failForwards -= 1;
      throw new Error('14 UNAVAILABLE: connect ECONNREFUSED (temporal down)');
    }
    if (this.closed.has(lifecycleId)) throw new VoteRejectedError('voting_closed', 'voting closed');
  }
}

export function textCandidate(id: string, label: string, text: string, model = 'demo:text'): Candidate {
  const sha256 = createHash('sha256').update(text).digest('hex');
  return {
    id, label, model, kind: 'text', text, placeholder: true,
    artifact: { sha256, mime: 'text/plain; charset=utf-8', size: text.length, path: `sha256/${sha256.slice(0, 2)}/${sha256}.txt` },
    provenance: { backend: 'demo', model: 'text', params: {}, seed: 1, wallTimeMs: 1 },
  };
}

export interface SlackHarness {
  slack: SlackStandIn;
  posts: FakeSlackPosts;
  inbound: SlackInbound;
  url: string;
  server: http.Server;
  logs: Array<{ level: GatewayLogLevel; msg: string; fields?: Record<string, unknown> }>;
  clock: { offsetMs: number };
  /**
   * Message ts of the header, A and B of `lc-1` (one model) and of `lc-ab` (two models), and of the one
   * message of the compare lifecycles `lc-cmp` (both bad offered) and `lc-cmp-nbb` (not offered).
   */
  ts: { header: string; a: string; b: string; abHeader: string; abA: string; abB: string; compare: string; compareNoBothBad: string };
}

/** `prompt`: the lifecycles' prompt (default "an ox"). */
export async function startSlackHarness(deps: Partial<SlackInboundDeps> = {}, options: { prompt?: string } = {}): Promise<SlackHarness> {
  const slack = await SlackStandIn.start({ usergroups: { S0RATERS1: ['U0GROUP01'] } });
  const publisher = createSlackPublisher({ token: slack.botToken, apiUrl: slack.apiUrl, readArtifact: async () => Buffer.alloc(0), paceMs: 0 });
  const posts = new FakeSlackPosts();
  const publish = async (lifecycleId: string, input: Record<string, unknown>, candidates: Candidate[]) => {
    const plan = validateLifecycleInput({ prompt: options.prompt ?? 'an ox', channel: 'slack:#ox-feedback', ...input }, Date.now());
    if (!plan.ok) throw new Error(plan.errors.join('; '));
    const ref = await publisher.publish({ lifecycleId, plan: plan.plan, candidates, deadlineAt: new Date(Date.now() + 3600_000).toISOString() });
    posts.add(lifecycleId, ref.messages!, candidates.map((c) => ({ id: c.id, label: c.label })), plan.plan.task);
    if (plan.plan.allowBothBad === false) posts.noBothBad.add(lifecycleId);
    return ref.messages!.map((m) => m.ref.split(':')[2]!);
  };
  const [header, a, b] = await publish('lc-1', { model: 'demo:text', candidates: 2 }, [textCandidate('c1', 'A', 'first'), textCandidate('c2', 'B', 'second')]);
  const [abHeader, abA, abB] = await publish('lc-ab', { models: ['demo:text', 'demo:shapes'] }, [textCandidate('c1', 'A', 'left'), textCandidate('c2', 'B', 'right', 'demo:shapes')]);
  const pair = [textCandidate('c1', 'A', 'the first of two'), textCandidate('c2', 'B', 'the second of two', 'demo:shapes')];
  const [compare] = await publish('lc-cmp', { task: 'compare', models: ['demo:text', 'demo:shapes'], question: 'Which ox is calmer?' }, pair);
  const [compareNoBothBad] = await publish('lc-cmp-nbb', { task: 'compare', models: ['demo:text', 'demo:shapes'], allowBothBad: false }, pair);

  const logs: SlackHarness['logs'] = [];
  const clock = { offsetMs: 0 };
  const log = (level: GatewayLogLevel, msg: string, fields?: Record<string, unknown>) => logs.push({ level, msg, ...(fields ? { fields } : {}) });
  const inbound = new SlackInbound({
    posts,
    raterKey: RATER_KEY,
    web: createSlackWebClient({ token: slack.botToken, apiUrl: slack.apiUrl, retries: 0 }),
    lookupRetryMs: [20, 20],
    forwardBudgetMs: 10_000,
    now: () => Date.now() + clock.offsetMs,
    log,
    ...deps,
  });
  const server = createGatewayServer({
    directory: new FakeDirectory(),
    artifacts: new MemoryArtifacts(),
    raterKey: RATER_KEY,
    sessionKey: Buffer.from('session-key-for-slack-tests-0123'),
    sessionTtlMs: 3600_000,
    channelRoutes: createSlackRoutes({ signingSecret: slack.signingSecret, inbound, log }),
    log,
  });
  const { url } = await listen(server, '127.0.0.1', 0);
  return { slack, posts, inbound, url, server, logs, clock, ts: { header: header!, a: a!, b: b!, abHeader: abHeader!, abA: abA!, abB: abB!, compare: compare!, compareNoBothBad: compareNoBothBad! } };
}

/** Stops what startSlackHarness started. */
export async function stopSlackHarness(h: SlackHarness): Promise<void> {
  h.inbound.close();
  await h.inbound.idle();
  h.server.closeAllConnections();
  await new Promise<void>((r) => h.server.close(() => r()));
  await h.slack.close();
}
