/**
 * In-memory stand-ins for the gateway's ports: a LifecycleDirectory that applies the real tally rules
 * (VoteTally, malformedVoteReason), starts lifecycles as Temporal does (one per id, ever; the input
 * validated as the workflow validates it) and records what it received, and an ArtifactSource.
 */
import { createHash } from 'node:crypto';
import type { ArtifactSource } from '../../gateway/artifact-source';
import {
  VoteRejectedError, type CloseOutcome, type LifecycleDirectory, type LifecycleProgress, type LifecycleStartRequest, type StartOutcome,
} from '../../core/lifecycle-directory';
import { encodePng } from '../../connectors/inference/demo/png';
import { validateLifecycleInput } from '../../workflows/input';
import type { ChannelSpec, CloseRequest, JudgementReceipt, JudgementRequest, LifecycleStatus, VoteReceipt, VoteRequest } from '../../workflows/types';
import { JudgementTally, judgementRefusal } from '../../workflows/judgement-tally';
import { VoteTally, malformedVoteReason } from '../../workflows/vote-tally';

interface Entry {
  status: LifecycleStatus;
  tally: VoteTally;
  judgements: JudgementTally;
  /** Why it failed, for a lifecycle whose workflow failed. */
  failure?: string;
}

export class FakeDirectory implements LifecycleDirectory {
  /** Every vote forwarded to the directory, in order, exactly as received. */
  readonly received: Array<{ lifecycleId: string; vote: VoteRequest }> = [];
  /** Every judgement forwarded to the directory, in order, exactly as received. */
  readonly judged: Array<{ lifecycleId: string; judgement: JudgementRequest }> = [];
  readonly listLimits: number[] = [];
  /** Every start asked for, in order, including refused and repeated ones. */
  readonly startRequests: LifecycleStartRequest[] = [];
  /** Every close asked for, in order. */
  readonly closeRequests: Array<{ lifecycleId: string; request: CloseRequest }> = [];
  /** If set, the next call (any method) throws it once. */
  failNext: Error | undefined;
  /** The next N starts fail as if Temporal were unreachable. */
  failStarts = 0;
  private readonly entries = new Map<string, Entry>();

  add(status: LifecycleStatus): this {
    this.entries.set(status.lifecycleId, { status, tally: new VoteTally(status.candidates), judgements: new JudgementTally(status.candidates) });
    return this;
  }

  /** Closes voting (as a quorum, the deadline or `close` would). */
  close(lifecycleId: string): void {
    const entry = this.entries.get(lifecycleId)!;
    entry.status = { ...entry.status, phase: 'completed', closeReason: 'closed' };
  }

  clear(): void {
    this.entries.clear();
  }

  /** Ids of the lifecycles `start` really started (not refused, not repeated, not added by a test), in order. */
  started(): string[] {
    return [...this.startedIds];
  }

  private readonly startedIds = new Set<string>();

  /** A started lifecycle generated its candidates and published them (with these posts): voting opens. */
  publish(lifecycleId: string, candidates: LifecycleStatus['candidates'], posts?: LifecycleStatus['posts']): void {
    const entry = this.entries.get(lifecycleId)!;
    entry.status = { ...entry.status, phase: 'voting', candidates, ...(posts ? { posts } : {}) };
    entry.tally = new VoteTally(candidates);
    entry.judgements = new JudgementTally(candidates);
  }

  /** A started lifecycle's workflow failed (inference gave up, the channel refused the post). */
  fail(lifecycleId: string, failure: string): void {
    this.entries.get(lifecycleId)!.failure = failure;
  }

  async start(request: LifecycleStartRequest): Promise<StartOutcome> {
    this.startRequests.push(structuredClone(request));
    this.throwIfAsked();
    if (this.failStarts > 0) {
      this.failStarts -= 1;
      throw new Error('14 UNAVAILABLE: connect ECONNREFUSED (temporal down)');
    }
    if (this.entries.has(request.lifecycleId)) return 'exists';
    this.startedIds.add(request.lifecycleId);
    const checked = validateLifecycleInput(request.input, Date.now());
    if (!checked.ok) {
      // As Temporal does: the start succeeds, the workflow fails on its first task.
      this.entries.set(request.lifecycleId, {
        status: { lifecycleId: request.lifecycleId, prompt: '', phase: 'generating', channel: 'web', models: [], quorum: { kind: 'perCandidate', votes: 3 }, candidates: [], votesAccepted: 0 },
        tally: new VoteTally([]),
        judgements: new JudgementTally([]),
        failure: `invalid lifecycle input: ${checked.errors.join('; ')}`,
      });
      return 'started';
    }
    const { plan } = checked;
    this.entries.set(request.lifecycleId, {
      status: {
        lifecycleId: request.lifecycleId,
        prompt: plan.prompt,
        phase: 'generating',
        channel: plan.channelLabel,
        models: plan.models,
        ...(plan.campaign !== undefined ? { campaign: plan.campaign } : {}),
        ...(plan.startedBy !== undefined ? { startedBy: plan.startedBy } : {}),
        ...(plan.startedFrom !== undefined ? { startedFrom: plan.startedFrom } : {}),
        quorum: plan.quorum,
        deadlineAt: new Date(Date.now() + (plan.deadline.kind === 'duration' ? plan.deadline.ms : Date.parse(plan.deadline.iso) - Date.now())).toISOString(),
        candidates: [],
        votesAccepted: 0,
      },
      tally: new VoteTally([]),
      judgements: new JudgementTally([]),
    });
    return 'started';
  }

  async progress(lifecycleId: string): Promise<LifecycleProgress | undefined> {
    this.throwIfAsked();
    const entry = this.entries.get(lifecycleId);
    if (!entry) return undefined;
    if (entry.failure !== undefined) return { state: 'failed', failure: entry.failure };
    return { state: entry.status.phase === 'completed' ? 'completed' : 'running', status: this.snapshot(entry) };
  }

  async requestClose(lifecycleId: string, request: CloseRequest): Promise<CloseOutcome> {
    this.closeRequests.push({ lifecycleId, request });
    this.throwIfAsked();
    const entry = this.entries.get(lifecycleId);
    if (!entry) return 'unknown';
    if (entry.status.phase === 'completed' || entry.failure !== undefined) return 'ended';
    this.close(lifecycleId);
    return 'requested';
  }

  async listActive(channel: ChannelSpec['kind'], limit: number): Promise<LifecycleStatus[]> {
    this.throwIfAsked();
    return [...this.entries.values()]
      .reverse()
      .filter((e) => e.failure === undefined && (e.status.channel === channel || e.status.channel.startsWith(`${channel}:`)) && ['generating', 'publishing', 'voting'].includes(e.status.phase))
      .slice(0, limit)
      .map((e) => this.snapshot(e));
  }

  async listOpen(limit: number): Promise<LifecycleStatus[]> {
    this.listLimits.push(limit);
    this.throwIfAsked();
    return [...this.entries.values()]
      .reverse() // newest first
      .filter((e) => e.status.phase === 'voting' && e.status.channel === 'web' && e.status.delivery !== 'assigned')
      .slice(0, limit)
      .map((e) => this.snapshot(e));
  }

  async status(lifecycleId: string): Promise<LifecycleStatus | undefined> {
    this.throwIfAsked();
    const entry = this.entries.get(lifecycleId);
    return entry && this.snapshot(entry);
  }

  async vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt> {
    this.received.push({ lifecycleId, vote: structuredClone(vote) });
    this.throwIfAsked();
    const entry = this.entries.get(lifecycleId);
    if (!entry) throw new VoteRejectedError('unknown_lifecycle', `no lifecycle ${lifecycleId}`);
    const malformed = malformedVoteReason(vote);
    if (malformed) throw new VoteRejectedError('malformed_vote', malformed);
    const phase = entry.status.phase;
    if (phase === 'generating' || phase === 'publishing') throw new VoteRejectedError('voting_not_open', 'voting has not opened');
    if (phase !== 'voting') throw new VoteRejectedError('voting_closed', 'voting is closed');
    if (!entry.tally.hasCandidate(vote.candidateId)) throw new VoteRejectedError('unknown_candidate', `no candidate ${vote.candidateId}`);
    if (entry.judgements.isDuplicate(vote.idempotencyKey)) return { outcome: 'duplicate', candidate: entry.tally.tallyOf(vote.candidateId) };
    const result = entry.tally.record(vote, new Date().toISOString(), entry.tally.accepted + entry.judgements.accepted + 1);
    return { outcome: result.outcome, candidate: entry.tally.tallyOf(vote.candidateId) };
  }

  /** The workflow's judgement rules (judgementRefusal, the tally); votes and judgements share one dedupe space and sequence. */
  async judge(lifecycleId: string, judgement: JudgementRequest): Promise<JudgementReceipt> {
    this.judged.push({ lifecycleId, judgement: structuredClone(judgement) });
    this.throwIfAsked();
    const entry = this.entries.get(lifecycleId);
    if (!entry) throw new VoteRejectedError('unknown_lifecycle', `no lifecycle ${lifecycleId}`);
    const phase = entry.status.phase;
    if (phase === 'generating' || phase === 'publishing') throw new VoteRejectedError('voting_not_open', 'voting has not opened');
    if (phase !== 'voting') throw new VoteRejectedError('voting_closed', 'voting is closed');
    const refusal = judgementRefusal(judgement, { candidateIds: entry.status.candidates.map((c) => c.id), allowBothBad: entry.status.allowBothBad ?? true });
    if (refusal) throw new VoteRejectedError(refusal.code, refusal.message);
    if (entry.tally.isDuplicate(judgement.idempotencyKey)) return { outcome: 'duplicate', judgements: entry.judgements.counted() };
    const seq = entry.tally.accepted + entry.judgements.accepted + 1;
    const result = entry.judgements.record(judgement, new Date().toISOString(), seq, entry.status.revealModels !== true);
    return { outcome: result.outcome, judgements: entry.judgements.counted() };
  }

  private throwIfAsked(): void {
    const err = this.failNext;
    this.failNext = undefined;
    if (err) throw err;
  }

  private snapshot(entry: Entry): LifecycleStatus {
    return {
      ...structuredClone(entry.status),
      candidates: entry.status.candidates.map((c) => ({ ...structuredClone(c), tally: entry.tally.tallyOf(c.id) })),
      votesAccepted: entry.tally.accepted + entry.judgements.accepted,
      ...(entry.status.task === 'compare' || entry.judgements.accepted > 0 ? { judgements: entry.judgements.counted() } : {}),
    };
  }
}

export class MemoryArtifacts implements ArtifactSource {
  readonly opened: string[] = [];
  private readonly items = new Map<string, { mime: string; bytes: Buffer }>();

  put(bytes: Buffer, mime: string): { sha256: string; mime: string; size: number } {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    this.items.set(sha256, { mime, bytes });
    return { sha256, mime, size: bytes.length };
  }

  async open(sha256: string): Promise<{ mime: string; size: number; bytes: Buffer } | undefined> {
    this.opened.push(sha256);
    const item = this.items.get(sha256);
    return item && { ...item, size: item.bytes.length };
  }
}

/** A small PNG: a coloured disc on a light background. */
export function discPng(rgb: [number, number, number], size = 96): Buffer {
  const data = new Uint8Array(size * size * 3);
  const r = size * 0.35;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - size / 2) ** 2 + (y - size / 2) ** 2 <= r * r;
      data.set(inside ? rgb : [240, 242, 245], (y * size + x) * 3);
    }
  }
  return encodePng({ width: size, height: size, channels: 3, data });
}

/** A lifecycle in the voting phase with the given candidates (ids c1…, labels A…). */
export function votingLifecycle(
  lifecycleId: string,
  prompt: string,
  candidates: Array<{ kind: 'image'; artifact: { sha256: string; mime: string; size: number } } | { kind: 'text'; text: string }>,
  extra: Partial<LifecycleStatus> = {},
): LifecycleStatus {
  return {
    lifecycleId,
    prompt,
    phase: 'voting',
    channel: 'web',
    models: ['demo:shapes'],
    quorum: { kind: 'perCandidate', votes: 3 },
    deadlineAt: new Date(Date.now() + 23.5 * 3600_000).toISOString(),
    votesAccepted: 0,
    candidates: candidates.map((c, i) => {
      const id = `c${i + 1}`;
      const label = String.fromCharCode(65 + i);
      const artifact =
        c.kind === 'image' ? c.artifact : { sha256: createHash('sha256').update(c.text).digest('hex'), mime: 'text/plain; charset=utf-8', size: Buffer.byteLength(c.text) };
      return {
        id,
        label,
        model: 'demo:shapes',
        kind: c.kind,
        ...(c.kind === 'text' ? { text: c.text } : {}),
        placeholder: true,
        artifact,
        tally: { candidateId: id, label, up: 0, down: 0, score: 0, votes: 0 },
      };
    }),
    ...extra,
  };
}
