/**
 * The tally rules of a lifecycle, as a small deterministic class (the cluster-manager pattern):
 * the workflow owns one, handlers call it, continue-as-new carries its events.
 *
 * Rules:
 * - every accepted event is kept (the ledger stores them all, retractions included);
 * - a delivery whose idempotency key was seen before counts once and answers `duplicate`;
 * - per (rater, candidate) only the latest event counts, ordered by the source's `castAt`, then by
 *   acceptance order, so a retraction that overtook its vote in transit still wins;
 * - a retraction removes the rater's vote on that candidate.
 */
import type { Candidate, CandidateTally, Quorum, RaterAuth, VoteEvent, VoteOutcomeKind, VoteRequest, VoteValue } from './types';

export const MAX_COMMENT_LENGTH = 2000;
export const MAX_KEY_LENGTH = 200;
const RATER_PATTERN = /^[a-z]+_[0-9a-f]{8,64}$/;
/** The ways a web rater signs in; every other channel authenticates its raters itself. */
const WEB_RATER_AUTH: ReadonlySet<unknown> = new Set<RaterAuth>(['invite', 'oidc', 'open']);

export interface RecordResult {
  outcome: VoteOutcomeKind;
  event?: VoteEvent;
}

/** Returns a reason if the request is malformed, else undefined. Shape only; state checks live in the tally. */
export function malformedVoteReason(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return 'vote must be an object';
  const r = request as Partial<Record<keyof VoteRequest, unknown>>;
  if (typeof r.idempotencyKey !== 'string' || r.idempotencyKey.length === 0 || r.idempotencyKey.length > MAX_KEY_LENGTH) {
    return `idempotencyKey: required, 1–${MAX_KEY_LENGTH} characters`;
  }
  if (typeof r.candidateId !== 'string' || r.candidateId.length === 0) return 'candidateId: required';
  if (r.value !== 'up' && r.value !== 'down' && r.value !== 'retract') return 'value: must be "up", "down" or "retract"';
  if (typeof r.rater !== 'string' || !RATER_PATTERN.test(r.rater)) return 'rater: must be a pseudonym (keyed hash), not a raw identity';
  if (r.comment !== undefined && (typeof r.comment !== 'string' || r.comment.length > MAX_COMMENT_LENGTH)) {
    return `comment: must be text of at most ${MAX_COMMENT_LENGTH} characters`;
  }
  if (typeof r.channel !== 'string' || !/^[a-z]{2,16}$/.test(r.channel)) return 'channel: required, e.g. "web"';
  if (typeof r.castAt !== 'string' || Number.isNaN(Date.parse(r.castAt))) return 'castAt: must be an ISO-8601 time';
  if (r.raterAuth !== undefined && !(r.channel === 'web' ? WEB_RATER_AUTH.has(r.raterAuth) : r.raterAuth === r.channel)) {
    return `raterAuth: ${r.channel === 'web' ? '"invite", "oidc" or "open"' : `"${r.channel}"`} for a ${r.channel} vote`;
  }
  return undefined;
}

export class VoteTally {
  private readonly candidates: ReadonlyArray<Pick<Candidate, 'id' | 'label'>>;
  private readonly events: VoteEvent[] = [];
  private readonly byKey = new Map<string, VoteEvent>();
  /** `${rater}\u0000${candidateId}` → the event that currently stands. */
  private readonly standing = new Map<string, VoteEvent>();

  constructor(candidates: ReadonlyArray<Pick<Candidate, 'id' | 'label'>>, events: ReadonlyArray<VoteEvent> = []) {
    this.candidates = candidates;
    for (const event of events) this.apply(event);
  }

  hasCandidate(candidateId: string): boolean {
    return this.candidates.some((c) => c.id === candidateId);
  }

  isDuplicate(idempotencyKey: string): boolean {
    return this.byKey.has(idempotencyKey);
  }

  get accepted(): number {
    return this.events.length;
  }

  allEvents(): readonly VoteEvent[] {
    return this.events;
  }

  /** Records a well-formed request for a known candidate. `acceptedAt` is workflow time. */
  record(request: VoteRequest, acceptedAt: string): RecordResult {
    if (this.byKey.has(request.idempotencyKey)) return { outcome: 'duplicate' };
    const slot = slotKey(request.rater, request.candidateId);
    const before = this.standing.get(slot);
    const event: VoteEvent = { ...request, seq: this.events.length + 1, acceptedAt };
    this.apply(event);
    const after = this.standing.get(slot);
    return { outcome: outcomeOf(before, after, event), event };
  }

  tallyOf(candidateId: string): CandidateTally {
    const candidate = this.candidates.find((c) => c.id === candidateId);
    let up = 0;
    let down = 0;
    for (const event of this.standing.values()) {
      if (event.candidateId !== candidateId) continue;
      if (event.value === 'up') up += 1;
      else if (event.value === 'down') down += 1;
    }
    return { candidateId, label: candidate?.label ?? candidateId, up, down, score: up - down, votes: up + down };
  }

  tallies(): CandidateTally[] {
    return this.candidates.map((c) => this.tallyOf(c.id));
  }

  /** Whether the event with this key is the rater's standing (counted) vote on its candidate. */
  isStanding(idempotencyKey: string): boolean {
    const event = this.byKey.get(idempotencyKey);
    if (!event) return false;
    return this.standing.get(slotKey(event.rater, event.candidateId)) === event && event.value !== 'retract';
  }

  quorumReached(quorum: Quorum): boolean {
    const tallies = this.tallies();
    if (quorum.kind === 'total') return tallies.reduce((n, t) => n + t.votes, 0) >= quorum.votes;
    return tallies.length > 0 && tallies.every((t) => t.votes >= quorum.votes);
  }

  private apply(event: VoteEvent): void {
    this.events.push(event);
    this.byKey.set(event.idempotencyKey, event);
    const slot = slotKey(event.rater, event.candidateId);
    const current = this.standing.get(slot);
    if (!current || isLater(event, current)) this.standing.set(slot, event);
  }
}

function slotKey(rater: string, candidateId: string): string {
  return `${rater}\u0000${candidateId}`;
}

function isLater(a: VoteEvent, b: VoteEvent): boolean {
  const ta = Date.parse(a.castAt);
  const tb = Date.parse(b.castAt);
  return ta !== tb ? ta > tb : a.seq > b.seq;
}

function standingValue(event: VoteEvent | undefined): VoteValue | undefined {
  return event === undefined || event.value === 'retract' ? undefined : event.value;
}

function outcomeOf(before: VoteEvent | undefined, after: VoteEvent | undefined, event: VoteEvent): VoteOutcomeKind {
  if (after !== event) return 'unchanged'; // an older event arrived late: kept as a row, changes nothing
  if (event.value === 'retract') return standingValue(before) === undefined ? 'unchanged' : 'retracted';
  const previous = standingValue(before);
  if (previous === undefined) return 'recorded';
  return previous === event.value ? 'unchanged' : 'changed';
}
