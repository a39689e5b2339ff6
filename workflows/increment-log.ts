/**
 * The bookkeeping VoteTally and JudgementTally share: which accepted events the ledger does not hold yet,
 * which keys were seen (one 64-bit digest each, forgotten never), which committed events went to the
 * ledger standing and were superseded since (`unstood`, for the next commit to clear), and who took part.
 *
 * The tallies keep their own standing rules (slots per rater or per rater and candidate) and carried
 * shapes; this log only counts and remembers. It is deterministic and holds no clock.
 */
import { digest64 } from './compact';

/** What the log needs of an event. */
export interface LoggedEvent {
  idempotencyKey: string;
  rater: string;
  seq: number;
}

/** The log's part of what continue-as-new carries (the tallies pack digests and name the fields). */
export interface IncrementLogState {
  committed: number;
  flaggedThrough: number;
  keyDigests: Iterable<string>;
  unstood: readonly number[];
  raters?: readonly string[];
}

export class IncrementLog<E extends LoggedEvent> {
  private readonly uncommitted: E[] = [];
  private readonly uncommittedByKey = new Map<string, E>();
  private readonly keyDigests = new Set<string>();
  private readonly raters = new Set<string>();
  private committedCount = 0;
  /** Events 1…flaggedThrough have been sent to the ledger with their standing flag (committed or in flight). */
  private flaggedThroughSeq = 0;
  private unstood: number[] = [];

  isDuplicate(idempotencyKey: string): boolean {
    return this.keyDigests.has(digest64(idempotencyKey));
  }

  get accepted(): number {
    return this.committedCount + this.uncommitted.length;
  }

  get committed(): number {
    return this.committedCount;
  }

  get flaggedThrough(): number {
    return this.flaggedThroughSeq;
  }

  /** Accepted events the ledger does not hold yet, in acceptance order. */
  events(): readonly E[] {
    return this.uncommitted;
  }

  /** The uncommitted event with this key, if there is one. */
  uncommittedEvent(idempotencyKey: string): E | undefined {
    return this.uncommittedByKey.get(idempotencyKey);
  }

  add(event: E): void {
    this.uncommitted.push(event);
    this.uncommittedByKey.set(event.idempotencyKey, event);
    this.keyDigests.add(digest64(event.idempotencyKey));
    this.raters.add(event.rater);
  }

  /** The event `seq` no longer stands: if it went to the ledger standing, the next commit must clear that flag. */
  superseded(seq: number, wasCounted: boolean): void {
    if (wasCounted && seq <= this.flaggedThroughSeq) this.unstood.push(seq);
  }

  /** The first `count` uncommitted events with their standing flags, now on their way to the ledger. */
  flag(count: number, isStanding: (event: E) => boolean): Array<E & { standing: boolean }> {
    const flagged = this.uncommitted.slice(0, count).map((event) => ({ ...event, standing: isStanding(event) }));
    const last = flagged.at(-1);
    if (last) this.flaggedThroughSeq = Math.max(this.flaggedThroughSeq, last.seq);
    return flagged;
  }

  /** Committed events superseded since they were flagged, for the next commit to clear; `markCommitted` drops them. */
  peekUnstood(): readonly number[] {
    return this.unstood;
  }

  /** The ledger holds the first `count` uncommitted events and has cleared the first `unstood` superseded ones. */
  markCommitted(count: number, unstood: number): void {
    for (const event of this.uncommitted.splice(0, count)) this.uncommittedByKey.delete(event.idempotencyKey);
    this.committedCount += count;
    this.unstood = this.unstood.slice(unstood);
  }

  /** Digests of the committed keys only: the uncommitted events travel whole and bring their own. */
  committedKeyDigests(): string[] {
    const uncommitted = new Set(this.uncommitted.map((e) => digest64(e.idempotencyKey)));
    return [...this.keyDigests].filter((d) => !uncommitted.has(d));
  }

  unstoodSeqs(): number[] {
    return [...this.unstood];
  }

  ratersSorted(): string[] {
    return [...this.raters].sort();
  }

  restore(state: IncrementLogState): void {
    for (const d of state.keyDigests) this.keyDigests.add(d);
    this.committedCount = state.committed;
    this.flaggedThroughSeq = state.flaggedThrough;
    this.unstood = [...state.unstood];
    for (const rater of state.raters ?? []) this.raters.add(rater);
  }
}
