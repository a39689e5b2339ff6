/**
 * The tally rules of a lifecycle, as a small deterministic class (the cluster-manager pattern):
 * the workflow owns one, handlers call it, continue-as-new carries its compact state (`VotingState`).
 *
 * Rules:
 * - every accepted event is kept until the ledger holds it (the ledger stores them all, retractions included);
 * - a delivery whose idempotency key was seen before counts once and answers `duplicate`;
 * - per (rater, candidate) only the latest event counts, ordered by the source's `castAt`, then by
 *   acceptance order, so a retraction that overtook its vote in transit still wins;
 * - a retraction removes the rater's vote on that candidate.
 *
 * Bounded state: once events are committed to the ledger (`markCommitted`) the tally forgets them and
 * keeps only what the rules need: a 64-bit digest of every accepted key (the dedupe set: a duplicate
 * always matches; a new key is taken for a duplicate only on a digest collision, about n²/2⁶⁵ for n
 * keys), and per (rater, candidate) slot the standing event's candidate, castAt, seq and value.
 * An event that does not stand when it is committed never stands later (the standing event of a
 * slot is the maximum of a growing set), so the ledger's flags only ever go from standing to not:
 * `takeUnstood` lists the committed events a later vote superseded, for the next commit to clear.
 */
import type { CommittedVote } from '../store/ledger-types';
import { digest64, fromBase64, packDigests, toBase64, unpackDigests } from './compact';
import { IncrementLog } from './increment-log';
import type { Candidate, CandidateTally, Quorum, RaterAuth, VoteEvent, VoteOutcomeKind, VoteRequest, VoteValue } from './types';

export const MAX_COMMENT_LENGTH = 2000;
export const MAX_KEY_LENGTH = 200;
/** A rater pseudonym (core/pseudonym.ts): a keyed hash, never a raw identity. */
export const RATER_PATTERN = /^[a-z]+_[0-9a-f]{8,64}$/;
/** A vote's or judgement's `channel`: the gateway route it came through. */
export const CHANNEL_PATTERN = /^[a-z]{2,16}$/;
/** The ways a web rater signs in; every other channel authenticates its raters itself. */
const WEB_RATER_AUTH: ReadonlySet<unknown> = new Set<RaterAuth>(['invite', 'oidc', 'open']);

/** Why `raterAuth` does not fit a vote or judgement through `channel`, or undefined if it does (or is absent). */
export function raterAuthReason(channel: string, raterAuth: unknown): string | undefined {
  if (raterAuth === undefined || (channel === 'web' ? WEB_RATER_AUTH.has(raterAuth) : raterAuth === channel)) return undefined;
  return `raterAuth: ${channel === 'web' ? '"invite", "oidc" or "open"' : `"${channel}"`} for a ${channel} vote`;
}

/**
 * A vote's `castAt`: an RFC 3339 date-time (ISO-8601 with seconds and an explicit zone), the one form
 * that the tally (Date.parse) and the ledger (DuckDB's TIMESTAMPTZ cast) read as the same instant. Other
 * text Date.parse takes ("March 1, 2026", a time without a zone, 30 February) means a zone-dependent
 * instant or is refused by DuckDB, and one such vote would fail every ledger commit of its lifecycle.
 */
const CAST_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;
/** The years a vote may be cast in: [first, last]. Far outside them is a wrong clock or a forged vote. */
export const CAST_AT_YEARS = [2000, 2199] as const;

/** Whether `text` is a castAt the ledger stores as the instant the tally orders by (CAST_AT), within CAST_AT_YEARS. */
export function isCastAt(text: string): boolean {
  const match = CAST_AT.exec(text);
  if (!match) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = match.slice(1).map((part) => Number(part ?? 0));
  // Date.parse rolls 30 February over into March; DuckDB refuses it.
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return false;
  if (offsetHours > 23 || offsetMinutes > 59) return false;
  const ms = Date.parse(text);
  return ms >= Date.UTC(CAST_AT_YEARS[0], 0, 1) && ms < Date.UTC(CAST_AT_YEARS[1] + 1, 0, 1);
}

export interface RecordResult {
  outcome: VoteOutcomeKind;
  event?: VoteEvent;
}

export interface VoteShapeRules {
  /**
   * castAt must pass isCastAt (default). Off only to replay histories from before the rule (`patched()`
   * in ratingLifecycle), where a signalled vote with any text Date.parse takes was counted.
   */
  isoCastAt?: boolean;
}

/** Returns a reason if the request is malformed, else undefined. Shape only; state checks live in the tally. */
export function malformedVoteReason(request: unknown, rules: VoteShapeRules = {}): string | undefined {
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
  if (typeof r.channel !== 'string' || !CHANNEL_PATTERN.test(r.channel)) return 'channel: required, e.g. "web"';
  if (typeof r.castAt !== 'string' || Number.isNaN(Date.parse(r.castAt))) return 'castAt: must be an ISO-8601 time';
  if ((rules.isoCastAt ?? true) && !isCastAt(r.castAt)) {
    return `castAt: must be an ISO-8601 time with seconds and a zone, like 2026-03-01T12:00:00Z, in ${CAST_AT_YEARS[0]}–${CAST_AT_YEARS[1]}`;
  }
  return raterAuthReason(r.channel, r.raterAuth);
}

/** The standing event of one (rater, candidate) slot: all the rules need of it. */
interface Slot {
  candidateId: string;
  castAtMs: number;
  seq: number;
  value: VoteValue;
}

/** What continue-as-new carries of a tally besides its uncommitted events: see `VoteTally.votingState`. */
export interface VotingState {
  /** Events 1…committed are in the ledger. */
  committed: number;
  /** packDigests of the committed idempotency keys (the uncommitted events travel whole beside this state). */
  keys: string;
  /** Base64 of SLOT_BYTES per slot: digest of rater+NUL+candidate, candidate index, value, castAt (ms, float64), seq (uint32). */
  slots: string;
  /** Seqs of committed events that stood when committed and no longer do, not yet cleared in the ledger. */
  unstood: number[];
  /** Raters with an event, carried only while the lifecycle still has to remind the others. */
  raters?: string[];
  /**
   * The seq of the last committed vote, where it is not `committed` (a lifecycle that also took
   * judgements, whose seqs the votes' skip): a vote it supersedes must have its flag cleared.
   */
  flaggedThrough?: number;
}

/** Bytes of one packed slot in `VotingState.slots`. */
export const SLOT_BYTES = 8 + 1 + 1 + 8 + 4;
const VALUE_CODES: readonly VoteValue[] = ['up', 'down', 'retract'];

export class VoteTally {
  private readonly candidates: ReadonlyArray<Pick<Candidate, 'id' | 'label'>>;
  private readonly log = new IncrementLog<VoteEvent>();
  /** digest64(`${rater}\u0000${candidateId}`) → the slot's standing event. */
  private readonly slots = new Map<string, Slot>();
  private readonly counts = new Map<string, { up: number; down: number }>();

  constructor(candidates: ReadonlyArray<Pick<Candidate, 'id' | 'label'>>, events: ReadonlyArray<VoteEvent> = [], state?: VotingState) {
    this.candidates = candidates;
    if (state) this.restore(state);
    for (const event of events) this.apply(event);
  }

  hasCandidate(candidateId: string): boolean {
    return this.candidates.some((c) => c.id === candidateId);
  }

  isDuplicate(idempotencyKey: string): boolean {
    return this.log.isDuplicate(idempotencyKey);
  }

  get accepted(): number {
    return this.log.accepted;
  }

  get committed(): number {
    return this.log.committed;
  }

  /** Accepted events the ledger does not hold yet, in acceptance order. */
  uncommittedEvents(): readonly VoteEvent[] {
    return this.log.events();
  }

  /** Distinct (rater, candidate) pairs with an event. */
  get slotCount(): number {
    return this.slots.size;
  }

  /**
   * Records a well-formed request for a known candidate. `acceptedAt` is workflow time; `seq` is the
   * lifecycle's next (votes and judgements share one sequence), by default the next vote's.
   */
  record(request: VoteRequest, acceptedAt: string, seq: number = this.accepted + 1): RecordResult {
    if (this.isDuplicate(request.idempotencyKey)) return { outcome: 'duplicate' };
    const slot = slotKey(request.rater, request.candidateId);
    const before = this.slots.get(slot);
    const beforeValue = standingValue(before);
    const event: VoteEvent = { ...request, seq, acceptedAt };
    this.apply(event);
    const after = this.slots.get(slot);
    return { outcome: outcomeOf(beforeValue, after?.seq === event.seq, event), event };
  }

  tallyOf(candidateId: string): CandidateTally {
    const candidate = this.candidates.find((c) => c.id === candidateId);
    const { up, down } = this.counts.get(candidateId) ?? { up: 0, down: 0 };
    return { candidateId, label: candidate?.label ?? candidateId, up, down, score: up - down, votes: up + down };
  }

  tallies(): CandidateTally[] {
    return this.candidates.map((c) => this.tallyOf(c.id));
  }

  /** Whether the uncommitted event with this key is the rater's standing (counted) vote on its candidate. */
  isStanding(idempotencyKey: string): boolean {
    const event = this.log.uncommittedEvent(idempotencyKey);
    return event !== undefined && this.stands(event);
  }

  quorumReached(quorum: Quorum): boolean {
    const tallies = this.tallies();
    // Judgements' quorum is the judgement tally's (workflows/judgement-tally.ts): no number of votes reaches it.
    if (quorum.kind === 'responses') return false;
    if (quorum.kind === 'total') return tallies.reduce((n, t) => n + t.votes, 0) >= quorum.votes;
    return tallies.length > 0 && tallies.every((t, i) => t.votes >= (quorum.each?.[i] ?? quorum.votes));
  }

  /** Whether `rater` has a standing vote (not a retraction) on `candidateId`. */
  hasStanding(rater: string, candidateId: string): boolean {
    const slot = this.slots.get(slotKey(rater, candidateId));
    return slot !== undefined && standingValue(slot) !== undefined;
  }

  /** Whether `rater` ever voted on the candidate (standing or withdrawn); known across continue-as-new. */
  hasVoted(rater: string, candidateId: string): boolean {
    return this.slots.has(slotKey(rater, candidateId));
  }

  /** Whether the rater voted on any candidate (by slot: carried across runs, unlike the rater list). */
  hasAnyVote(rater: string): boolean {
    return this.candidates.some((c) => this.hasVoted(rater, c.id));
  }

  ratersWhoVoted(): string[] {
    return this.log.ratersSorted();
  }

  /** The first `count` uncommitted events with their standing flags, now on their way to the ledger. */
  flag(count: number): CommittedVote[] {
    return this.log.flag(count, (event) => this.stands(event));
  }

  /** Committed events superseded since the last call, for the next commit to clear; `markCommitted` drops them. */
  peekUnstood(): readonly number[] {
    return this.log.peekUnstood();
  }

  /** The ledger holds the first `count` uncommitted events and has cleared the first `unstood` superseded ones. */
  markCommitted(count: number, unstood: number): void {
    this.log.markCommitted(count, unstood);
  }

  /** The compact state continue-as-new carries (with `uncommittedEvents()` beside it). */
  votingState(options: { withRaters: boolean }): VotingState {
    const bytes = new Uint8Array(this.slots.size * SLOT_BYTES);
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const [key, slot] of this.slots) {
      for (let i = 0; i < 8; i++) bytes[offset + i] = parseInt(key.slice(i * 2, i * 2 + 2), 16);
      const index = this.candidates.findIndex((c) => c.id === slot.candidateId);
      if (index < 0) throw new Error(`bug: a vote on unknown candidate "${slot.candidateId}" was tallied`);
      view.setUint8(offset + 8, index);
      view.setUint8(offset + 9, VALUE_CODES.indexOf(slot.value));
      view.setFloat64(offset + 10, slot.castAtMs);
      view.setUint32(offset + 18, slot.seq);
      offset += SLOT_BYTES;
    }
    return {
      committed: this.log.committed,
      keys: packDigests(this.log.committedKeyDigests()),
      slots: toBase64(bytes),
      unstood: this.log.unstoodSeqs(),
      ...(options.withRaters ? { raters: this.ratersWhoVoted() } : {}),
      // Carried only when it differs from `committed`, as histories from before the field expect.
      ...(this.log.flaggedThrough !== this.log.committed ? { flaggedThrough: this.log.flaggedThrough } : {}),
    };
  }

  private restore(state: VotingState): void {
    const bytes = fromBase64(state.slots);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let offset = 0; offset + SLOT_BYTES <= bytes.length; offset += SLOT_BYTES) {
      let key = '';
      for (let i = 0; i < 8; i++) key += bytes[offset + i]!.toString(16).padStart(2, '0');
      const candidate = this.candidates[view.getUint8(offset + 8)];
      const value = VALUE_CODES[view.getUint8(offset + 9)];
      if (!candidate || !value) throw new Error('carried voting state: a slot names no known candidate or value');
      const slot: Slot = { candidateId: candidate.id, value, castAtMs: view.getFloat64(offset + 10), seq: view.getUint32(offset + 18) };
      this.slots.set(key, slot);
      this.count(slot, 1);
    }
    this.log.restore({ ...state, flaggedThrough: state.flaggedThrough ?? state.committed, keyDigests: unpackDigests(state.keys) });
  }

  /** Whether this event is its rater's standing (counted) vote on its candidate. */
  private stands(event: VoteEvent): boolean {
    return this.slots.get(slotKey(event.rater, event.candidateId))?.seq === event.seq && event.value !== 'retract';
  }

  private apply(event: VoteEvent): void {
    this.log.add(event);
    const key = slotKey(event.rater, event.candidateId);
    const current = this.slots.get(key);
    const castAtMs = Date.parse(event.castAt);
    if (current && !isLater(castAtMs, event.seq, current)) return;
    if (current) {
      this.count(current, -1);
      this.log.superseded(current.seq, current.value !== 'retract');
    }
    const slot: Slot = { candidateId: event.candidateId, castAtMs, seq: event.seq, value: event.value };
    this.slots.set(key, slot);
    this.count(slot, 1);
  }

  private count(slot: Slot, delta: 1 | -1): void {
    if (slot.value === 'retract') return;
    const counts = this.counts.get(slot.candidateId) ?? { up: 0, down: 0 };
    counts[slot.value] += delta;
    this.counts.set(slot.candidateId, counts);
  }
}

function slotKey(rater: string, candidateId: string): string {
  return digest64(`${rater}\u0000${candidateId}`);
}

function isLater(castAtMs: number, seq: number, than: Slot): boolean {
  return castAtMs !== than.castAtMs ? castAtMs > than.castAtMs : seq > than.seq;
}

function standingValue(slot: Slot | undefined): VoteValue | undefined {
  return slot === undefined || slot.value === 'retract' ? undefined : slot.value;
}

function outcomeOf(previous: VoteValue | undefined, stands: boolean, event: VoteEvent): VoteOutcomeKind {
  if (!stands) return 'unchanged'; // an older event arrived late: kept as a row, changes nothing
  if (event.value === 'retract') return previous === undefined ? 'unchanged' : 'retracted';
  if (previous === undefined) return 'recorded';
  return previous === event.value ? 'unchanged' : 'changed';
}
