/**
 * The tally rules of judgements ("which of the two is better?"), as a small deterministic class beside
 * VoteTally (vote-tally.ts), which it follows rule for rule:
 * - every accepted event is kept until the ledger holds it (retractions included);
 * - a delivery whose idempotency key was seen counts once (the lifecycle checks votes' keys too: one
 *   dedupe space for both);
 * - per rater only the latest judgement counts, by the source's `castAt`, then acceptance order;
 * - `retract` withdraws the rater's judgement;
 * - the standing judgements are counted as wins per candidate, ties and both-bad answers; a compare
 *   lifecycle's quorum is their number (`responses`).
 *
 * A lifecycle compares one pair, so a rater has one slot, whatever order the two were shown in: a rater
 * who saw (c2, c1) and answered `right` chose c1, exactly like one who saw (c1, c2) and answered `left`.
 *
 * Bounded state, as for votes: once committed, events are forgotten except for the 64-bit digest of their
 * key and the standing judgement of each rater (JudgingState); `peekUnstood` lists committed judgements
 * a later one superseded, for the next commit to clear (`unstandJudgements`).
 */
import { ErrorCode } from '../core/errors';
import type { CommittedJudgement } from '../store/ledger-types';
import { digest64, fromBase64, packDigests, toBase64, unpackDigests } from './compact';
import { IncrementLog } from './increment-log';
import type { Candidate, JudgementChoice, JudgementCounts, JudgementEvent, JudgementRequest, VoteOutcomeKind } from './types';
import { CHANNEL_PATTERN, MAX_COMMENT_LENGTH, MAX_KEY_LENGTH, RATER_PATTERN, SLOT_BYTES, isCastAt, raterAuthReason } from './vote-tally';

export const JUDGEMENT_CHOICES: readonly JudgementChoice[] = ['left', 'right', 'tie', 'both_bad', 'retract'];

/**
 * Returns a reason if the judgement is malformed, else undefined. Shape only: whether the pair is the
 * lifecycle's and the choice is offered are the lifecycle's checks. castAt is always RFC 3339 (isCastAt):
 * judgements came after that rule.
 */
export function malformedJudgementReason(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return 'judgement must be an object';
  const r = request as Partial<Record<keyof JudgementRequest, unknown>>;
  if (typeof r.idempotencyKey !== 'string' || r.idempotencyKey.length === 0 || r.idempotencyKey.length > MAX_KEY_LENGTH) {
    return `idempotencyKey: required, 1–${MAX_KEY_LENGTH} characters`;
  }
  if (typeof r.left !== 'string' || r.left.length === 0) return 'left: required, the candidate id shown on the left';
  if (typeof r.right !== 'string' || r.right.length === 0) return 'right: required, the candidate id shown on the right';
  if (r.left === r.right) return 'left, right: must be two different candidates';
  if (typeof r.choice !== 'string' || !JUDGEMENT_CHOICES.includes(r.choice as JudgementChoice)) {
    return `choice: must be ${JUDGEMENT_CHOICES.map((c) => `"${c}"`).join(', ')}`;
  }
  if (typeof r.rater !== 'string' || !RATER_PATTERN.test(r.rater)) return 'rater: must be a pseudonym (keyed hash), not a raw identity';
  if (r.comment !== undefined && (typeof r.comment !== 'string' || r.comment.length > MAX_COMMENT_LENGTH)) {
    return `comment: must be text of at most ${MAX_COMMENT_LENGTH} characters`;
  }
  if (typeof r.channel !== 'string' || !CHANNEL_PATTERN.test(r.channel)) return 'channel: required, e.g. "web"';
  if (typeof r.castAt !== 'string' || !isCastAt(r.castAt)) {
    return 'castAt: must be an ISO-8601 time with seconds and a zone, like 2026-03-01T12:00:00Z, in 2000–2199';
  }
  return raterAuthReason(r.channel, r.raterAuth);
}

/** What a lifecycle offers judgements: its candidates, and whether "both bad" is an answer. */
export interface JudgementRules {
  candidateIds: readonly string[];
  allowBothBad: boolean;
}

export type JudgementRefusalCode = (typeof ErrorCode)['MalformedVote' | 'NotPairwise' | 'UnknownCandidate' | 'ChoiceNotOffered'];

/**
 * Why a judgement cannot be taken by a lifecycle with these rules, as a rejection code and message;
 * undefined if it can. The lifecycle's other checks (channel, phase, duplicates) are the validator's.
 */
export function judgementRefusal(request: unknown, rules: JudgementRules): { code: JudgementRefusalCode; message: string } | undefined {
  const malformed = malformedJudgementReason(request);
  if (malformed) return { code: ErrorCode.MalformedVote, message: `malformed judgement: ${malformed}` };
  const { left, right, choice } = request as JudgementRequest;
  const [first, second, ...more] = rules.candidateIds;
  if (first === undefined || second === undefined || more.length > 0) {
    return { code: ErrorCode.NotPairwise, message: `this lifecycle has ${rules.candidateIds.length} candidates; judgements compare exactly two` };
  }
  const unknown = [left, right].find((id) => id !== first && id !== second);
  if (unknown !== undefined) return { code: ErrorCode.UnknownCandidate, message: `unknown candidate "${unknown}": this lifecycle compares "${first}" and "${second}"` };
  if (choice === 'both_bad' && !rules.allowBothBad) return { code: ErrorCode.ChoiceNotOffered, message: '"both bad" is not an answer on this lifecycle (allowBothBad: false)' };
  return undefined;
}

/** The candidate a judgement names the winner: the one shown on the chosen side; none for tie, both bad, retract. */
export function winnerOf(judgement: Pick<JudgementRequest, 'left' | 'right' | 'choice'>): string | undefined {
  return judgement.choice === 'left' ? judgement.left : judgement.choice === 'right' ? judgement.right : undefined;
}

/** The standing judgement of one rater: all the rules need of it. */
interface Slot {
  castAtMs: number;
  seq: number;
  choice: JudgementChoice;
  /** The winner's index among the lifecycle's candidates (-1: none). */
  winner: number;
}

/** What continue-as-new carries of a judgement tally besides its uncommitted events (VotingState's twin). */
export interface JudgingState {
  /** Judgements committed to the ledger. */
  committed: number;
  /** The seq of the last committed judgement: a judgement it supersedes must have its flag cleared. */
  flaggedThrough: number;
  /** packDigests of the committed judgements' keys. */
  keys: string;
  /** Base64 of SLOT_BYTES per rater: digest of the rater, choice, winner index + 1, castAt (ms, float64), seq (uint32). */
  slots: string;
  /** Seqs of committed judgements that stood when committed and no longer do, not yet cleared in the ledger. */
  unstood: number[];
  /** Raters with a judgement, carried only while the lifecycle still has to remind the others. */
  raters?: string[];
}

export interface JudgementRecordResult {
  outcome: VoteOutcomeKind;
  event?: JudgementEvent;
}

export class JudgementTally {
  private readonly candidates: ReadonlyArray<Pick<Candidate, 'id'>>;
  private readonly log = new IncrementLog<JudgementEvent>();
  /** digest64(rater) → the rater's standing judgement. */
  private readonly slots = new Map<string, Slot>();
  private counts: JudgementCounts;

  constructor(candidates: ReadonlyArray<Pick<Candidate, 'id'>>, events: ReadonlyArray<JudgementEvent> = [], state?: JudgingState) {
    this.candidates = candidates;
    this.counts = { byCandidate: Object.fromEntries(candidates.map((c) => [c.id, 0])), tie: 0, bothBad: 0, standing: 0 };
    if (state) this.restore(state);
    for (const event of events) this.apply(event);
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

  /** Raters with a judgement (standing or withdrawn). */
  get slotCount(): number {
    return this.slots.size;
  }

  uncommittedEvents(): readonly JudgementEvent[] {
    return this.log.events();
  }

  /**
   * Records a well-formed judgement on this lifecycle's pair. `seq` is the lifecycle's next event
   * number (shared with votes), `acceptedAt` workflow time, `modelsHidden` what the rater could see.
   */
  record(request: JudgementRequest, acceptedAt: string, seq: number, modelsHidden: boolean): JudgementRecordResult {
    if (this.isDuplicate(request.idempotencyKey)) return { outcome: 'duplicate' };
    const key = digest64(request.rater);
    const before = standingOf(this.slots.get(key));
    const event: JudgementEvent = { ...request, seq, acceptedAt, modelsHidden };
    this.apply(event);
    const after = this.slots.get(key);
    return { outcome: outcomeOf(before, after?.seq === seq ? after : undefined), event };
  }

  counted(): JudgementCounts {
    return { ...this.counts, byCandidate: { ...this.counts.byCandidate } };
  }

  /** Whether the uncommitted judgement with this key is its rater's standing (counted) one. */
  isStanding(idempotencyKey: string): boolean {
    const event = this.log.uncommittedEvent(idempotencyKey);
    return event !== undefined && this.stands(event);
  }

  /** Whether `rater` has a standing judgement (an answer not withdrawn). */
  hasStanding(rater: string): boolean {
    const slot = this.slots.get(digest64(rater));
    return slot !== undefined && slot.choice !== 'retract';
  }

  /** Whether `rater` ever judged (standing or withdrawn); known across continue-as-new, unlike the rater list. */
  hasJudged(rater: string): boolean {
    return this.slots.has(digest64(rater));
  }

  ratersWhoJudged(): string[] {
    return this.log.ratersSorted();
  }

  /** The first `count` uncommitted judgements with their standing flags, now on their way to the ledger. */
  flag(count: number): CommittedJudgement[] {
    return this.log.flag(count, (event) => this.stands(event));
  }

  peekUnstood(): readonly number[] {
    return this.log.peekUnstood();
  }

  /** The ledger holds the first `count` uncommitted judgements and has cleared the first `unstood` superseded ones. */
  markCommitted(count: number, unstood: number): void {
    this.log.markCommitted(count, unstood);
  }

  judgingState(options: { withRaters: boolean }): JudgingState {
    const bytes = new Uint8Array(this.slots.size * SLOT_BYTES);
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const [key, slot] of this.slots) {
      for (let i = 0; i < 8; i++) bytes[offset + i] = parseInt(key.slice(i * 2, i * 2 + 2), 16);
      view.setUint8(offset + 8, JUDGEMENT_CHOICES.indexOf(slot.choice));
      view.setUint8(offset + 9, slot.winner + 1);
      view.setFloat64(offset + 10, slot.castAtMs);
      view.setUint32(offset + 18, slot.seq);
      offset += SLOT_BYTES;
    }
    return {
      committed: this.log.committed,
      flaggedThrough: this.log.flaggedThrough,
      keys: packDigests(this.log.committedKeyDigests()),
      slots: toBase64(bytes),
      unstood: this.log.unstoodSeqs(),
      ...(options.withRaters ? { raters: this.ratersWhoJudged() } : {}),
    };
  }

  private restore(state: JudgingState): void {
    const bytes = fromBase64(state.slots);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let offset = 0; offset + SLOT_BYTES <= bytes.length; offset += SLOT_BYTES) {
      let key = '';
      for (let i = 0; i < 8; i++) key += bytes[offset + i]!.toString(16).padStart(2, '0');
      const choice = JUDGEMENT_CHOICES[view.getUint8(offset + 8)];
      const winner = view.getUint8(offset + 9) - 1;
      if (!choice || winner >= this.candidates.length) throw new Error('carried judging state: a slot names no known choice or candidate');
      const slot: Slot = { choice, winner, castAtMs: view.getFloat64(offset + 10), seq: view.getUint32(offset + 18) };
      this.slots.set(key, slot);
      this.count(slot, 1);
    }
    this.log.restore({ ...state, keyDigests: unpackDigests(state.keys) });
  }

  /** Whether this event is its rater's standing (counted) judgement. */
  private stands(event: JudgementEvent): boolean {
    return this.slots.get(digest64(event.rater))?.seq === event.seq && event.choice !== 'retract';
  }

  private apply(event: JudgementEvent): void {
    this.log.add(event);
    const key = digest64(event.rater);
    const current = this.slots.get(key);
    const castAtMs = Date.parse(event.castAt);
    if (current && !(castAtMs !== current.castAtMs ? castAtMs > current.castAtMs : event.seq > current.seq)) return;
    if (current) {
      this.count(current, -1);
      this.log.superseded(current.seq, current.choice !== 'retract');
    }
    const winnerId = winnerOf(event);
    const slot: Slot = { castAtMs, seq: event.seq, choice: event.choice, winner: winnerId === undefined ? -1 : this.candidates.findIndex((c) => c.id === winnerId) };
    this.slots.set(key, slot);
    this.count(slot, 1);
  }

  private count(slot: Slot, delta: 1 | -1): void {
    if (slot.choice === 'retract') return;
    this.counts.standing += delta;
    if (slot.choice === 'tie') this.counts.tie += delta;
    else if (slot.choice === 'both_bad') this.counts.bothBad += delta;
    else {
      const id = this.candidates[slot.winner]?.id;
      if (id === undefined) throw new Error('bug: a judgement for a candidate the lifecycle does not have was tallied');
      this.counts.byCandidate[id] = (this.counts.byCandidate[id] ?? 0) + delta;
    }
  }
}

/** What a standing slot means, for comparing answers: the winner's index, `tie` or `both_bad`; undefined for none. */
function standingOf(slot: Slot | undefined): number | 'tie' | 'both_bad' | undefined {
  if (slot === undefined || slot.choice === 'retract') return undefined;
  return slot.choice === 'tie' || slot.choice === 'both_bad' ? slot.choice : slot.winner;
}

function outcomeOf(previous: number | 'tie' | 'both_bad' | undefined, stands: Slot | undefined): VoteOutcomeKind {
  if (!stands) return 'unchanged'; // an older judgement arrived late: kept as a row, changes nothing
  const now = standingOf(stands);
  if (now === undefined) return previous === undefined ? 'unchanged' : 'retracted';
  if (previous === undefined) return 'recorded';
  return previous === now ? 'unchanged' : 'changed';
}
