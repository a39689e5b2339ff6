/**
 * A campaign's gold lifecycles and its raters, as a deterministic class the campaign state
 * (campaign-state.ts) holds: which gold lifecycles are open, one small record per rater (data answers,
 * gold answered and correct, score, status, hand-outs so far, the gold items they have answered), and which
 * records changed since the ledger last had them. Gold lifecycles are not items: they are in no item count.
 *
 * Scoring and mixing rates are workflows/rater-quality.ts's; this class applies them to reports and
 * hand-outs (`next`'s and email digests'). A rater below the threshold is excluded: `next` and digests hand them nothing more, and their answers
 * stay where they are (nothing is withdrawn; the rater record flags them), counted toward no item.
 */
import { exclusionReason, goldPick, goldRateFor, isGoldTurn, raterScore } from './rater-quality';
import type { CampaignItemReport, CampaignRaterRecord, NextItemAnswer, RaterQualitySettings } from './types';

export interface GoldLifecycle {
  /** Index in the campaign's gold list. */
  gold: number;
  lifecycleId: string;
  opened: boolean;
  /** Closed or failed: handed out no more. */
  closed?: boolean;
  /** Raters' scored (first) answers, and how many were right. */
  answers: number;
  correct: number;
}

/** A rater as the campaign keeps them: the ledger's record plus what hand-outs need. */
export interface RaterState extends CampaignRaterRecord {
  /** Fresh hand-outs so far (data and gold): the hand-out number that seeds the next gold turn. */
  handouts: number;
  /**
   * Gold items the rater answered: never handed to them again. Handing out or passing (`done`) does not
   * count: a gold item skipped unanswered may come back, so skipping cannot dodge scoring.
   */
  seen: number[];
  /** Gold items whose answer was scored: a repeated report is not counted twice. */
  scored: number[];
  /** A gold item the rater just passed unanswered: not their very next hand-out (it may come back after). */
  skipped?: number;
  /** The gold item handed out last, returned again while its reservation lasts. */
  holding?: { lifecycleId: string; untilMs: number };
}

/**
 * A rater as the carry holds them: [rater, data answers, hand-outs, gold correct, gold scored, rare fields].
 * About 60 bytes instead of about 200 as an object, so a campaign of 10,000 raters continues as new well
 * inside the server's 2 MB payload limit. What can be derived is not carried (gold answered = scored, the
 * score from the counts and the prior, seen = scored unless it differs).
 */
export type PackedRater = [rater: string, answers: number, handouts: number, goldCorrect: number, scored: number[], rare?: PackedRare];

interface PackedRare {
  excluded?: { reason?: string; at?: string };
  seen?: number[];
  skipped?: number;
  holding?: { lifecycleId: string; untilMs: number };
}

export interface QualityCarry {
  gold: GoldLifecycle[];
  /** Raters, packed. */
  packed?: PackedRater[];
  /** Raters as objects: carries of runs before packing (still read). */
  raters?: RaterState[];
  /** Raters whose record the ledger does not have yet. */
  changed: string[];
}

export function packRater(state: RaterState): PackedRater {
  const rare: PackedRare = {};
  if (state.status === 'excluded') rare.excluded = { ...(state.reason !== undefined ? { reason: state.reason } : {}), ...(state.excludedAt !== undefined ? { at: state.excludedAt } : {}) };
  if (state.seen.length !== state.scored.length || state.seen.some((g, i) => g !== state.scored[i])) rare.seen = state.seen;
  if (state.skipped !== undefined) rare.skipped = state.skipped;
  if (state.holding) rare.holding = state.holding;
  const packed: PackedRater = [state.rater, state.answers, state.handouts, state.goldCorrect, state.scored];
  if (Object.keys(rare).length > 0) packed.push(rare);
  return packed;
}

export function unpackRater([rater, answers, handouts, goldCorrect, scored, rare]: PackedRater, prior: RaterQualitySettings['prior']): RaterState {
  // The score as scoring computed it: from the same counts, and the prior's mean before any gold answer.
  const score = scored.length === 0 ? prior.mean : raterScore(goldCorrect, scored.length, prior);
  const state: RaterState = {
    rater, answers, goldAnswered: scored.length, goldCorrect, score, status: rare?.excluded ? 'excluded' : 'active',
    handouts, seen: rare?.seen ?? [...scored], scored,
  };
  if (rare?.excluded?.reason !== undefined) state.reason = rare.excluded.reason;
  if (rare?.excluded?.at !== undefined) state.excludedAt = rare.excluded.at;
  if (rare?.skipped !== undefined) state.skipped = rare.skipped;
  if (rare?.holding) state.holding = rare.holding;
  return state;
}

/**
 * A gold item's lifecycle id: an item id numbered after the data items (`<campaign>-item-<itemCount + gold>`,
 * the number `next` shows), so raters cannot tell gold from data by its id; the same in every run. Only
 * the campaign (and the ledger's campaign_gold) knows which ids are gold.
 */
export function goldLifecycleId(campaignId: string, itemCount: number, gold: number): string {
  // itemLifecycleId's shape (campaign-state.ts imports this file, so it is spelled here; a test pins them equal).
  return `${campaignId}-item-${itemCount + gold}`;
}

/** The ledger's record of a rater: their state without what only hand-outs use. */
function ledgerRecord(state: RaterState): CampaignRaterRecord {
  const { handouts: _h, seen: _s, scored: _c, holding: _held, skipped: _skipped, ...record } = state;
  return record;
}

export class CampaignQuality {
  readonly gold = new Map<string, GoldLifecycle>();
  readonly raters = new Map<string, RaterState>();
  private changed = new Set<string>();

  constructor(readonly campaignId: string, readonly settings: RaterQualitySettings) {}

  static resume(campaignId: string, settings: RaterQualitySettings, carry: QualityCarry | undefined): CampaignQuality {
    const quality = new CampaignQuality(campaignId, settings);
    for (const g of carry?.gold ?? []) quality.gold.set(g.lifecycleId, g);
    for (const r of carry?.raters ?? []) quality.raters.set(r.rater, r);
    for (const p of carry?.packed ?? []) quality.raters.set(p[0], unpackRater(p, settings.prior));
    quality.changed = new Set(carry?.changed ?? []);
    return quality;
  }

  /** Nothing to carry before the first rater or gold item: the carry stays what it was before gold. */
  toCarry(): QualityCarry | undefined {
    if (this.gold.size === 0 && this.raters.size === 0) return undefined;
    return { gold: [...this.gold.values()], packed: [...this.raters.values()].map(packRater), changed: [...this.changed] };
  }

  goldStarted(gold: number, lifecycleId: string): void {
    this.gold.set(lifecycleId, { gold, lifecycleId, opened: false, answers: 0, correct: 0 });
  }

  /** Gold lifecycles not closed yet: the campaign closes them when it ends. */
  openGold(): string[] {
    return [...this.gold.values()].filter((g) => !g.closed).map((g) => g.lifecycleId);
  }

  private recordOf(rater: string): RaterState {
    let state = this.raters.get(rater);
    if (!state) {
      state = { rater, answers: 0, goldAnswered: 0, goldCorrect: 0, score: this.settings.prior.mean, status: 'active', handouts: 0, seen: [], scored: [] };
      this.raters.set(rater, state);
      this.changed.add(rater);
    }
    return state;
  }

  /** The rater's weight: their score, or the prior's mean before any record. */
  scoreOf(rater: string): number {
    return this.raters.get(rater)?.score ?? this.settings.prior.mean;
  }

  /** A rater's first answer to a data item. */
  answered(rater: string): void {
    this.recordOf(rater).answers += 1;
    this.changed.add(rater);
  }

  /**
   * A report from a gold lifecycle; `handled` is false for any other lifecycle. `excluded` names a rater
   * this report excluded (the campaign drops their reservations).
   */
  report(report: CampaignItemReport, now: number): { handled: boolean; excluded?: string } {
    const gold = this.gold.get(report.lifecycleId);
    if (!gold) return { handled: false };
    switch (report.kind) {
      case 'opened':
        gold.opened = true;
        return { handled: true };
      case 'gold': {
        gold.opened = true;
        const excluded = this.score(gold, report.rater, report.correct, now);
        return { handled: true, ...(excluded ? { excluded: report.rater } : {}) };
      }
      case 'answer':
        // A gold lifecycle reports scores, not answers; one from an older child is no data either.
        return { handled: true };
      case 'closed':
      case 'failed':
        gold.closed = true;
        return { handled: true };
    }
  }

  /** Scores a rater's first answer to a gold item; true when it excludes them. */
  private score(gold: GoldLifecycle, rater: string, correct: boolean, now: number): boolean {
    const state = this.recordOf(rater);
    if (state.scored.includes(gold.gold)) return false;
    state.scored.push(gold.gold);
    if (!state.seen.includes(gold.gold)) state.seen.push(gold.gold);
    if (state.holding?.lifecycleId === gold.lifecycleId) delete state.holding;
    gold.answers += 1;
    state.goldAnswered += 1;
    if (correct) {
      gold.correct += 1;
      state.goldCorrect += 1;
    }
    state.score = raterScore(state.goldCorrect, state.goldAnswered, this.settings.prior);
    this.changed.add(rater);
    if (state.status === 'excluded') return false;
    const reason = exclusionReason(state, this.settings);
    if (reason === undefined) return false;
    state.status = 'excluded';
    state.reason = reason;
    state.excludedAt = new Date(now).toISOString();
    delete state.holding;
    return true;
  }

  /** Whether the rater is excluded: their answers count nowhere (campaign-counted.ts). */
  isExcluded(rater: string): boolean {
    return this.raters.get(rater)?.status === 'excluded';
  }

  /** `next`'s answer to an excluded rater, or undefined for anyone else. */
  refusal(rater: string): NextItemAnswer | undefined {
    const state = this.raters.get(rater);
    if (state?.status !== 'excluded') return undefined;
    return { assigned: false, reason: 'excluded', message: `you receive no more items of this campaign: ${state.reason ?? 'excluded'}` };
  }

  /**
   * The rater moves on from `lifecycleId` (`next` with `done`): they stop holding it, but an unanswered
   * gold item stays pending for them (not seen), so `done` cannot keep a rater from being scored.
   */
  passed(rater: string, lifecycleId: string | undefined): void {
    const state = this.raters.get(rater);
    const gold = lifecycleId !== undefined ? this.gold.get(lifecycleId) : undefined;
    if (!gold || !state) return;
    if (state.holding?.lifecycleId === lifecycleId) delete state.holding;
    if (!state.seen.includes(gold.gold)) state.skipped = gold.gold;
  }

  /** The gold item the rater holds, while its reservation lasts and they have not answered it. */
  held(rater: string, now: number): { lifecycleId: string; untilMs: number; gold: number } | undefined {
    const holding = this.raters.get(rater)?.holding;
    const gold = holding ? this.gold.get(holding.lifecycleId) : undefined;
    if (!holding || !gold || gold.closed || holding.untilMs <= now) return undefined;
    return { ...holding, gold: gold.gold };
  }

  /**
   * Whether this fresh hand-out is gold, and which: a hash of (campaign, rater, hand-out number) against
   * the rater's rate, among open gold items they have not seen (nor `besides`: those already in the
   * digest being made); undefined for a data item. Either way the hand-out is counted only once it is
   * made (`handedOut`).
   */
  pick(rater: string, besides?: ReadonlySet<number>): GoldLifecycle | undefined {
    const state = this.recordOf(rater);
    if (this.gold.size === 0 || !isGoldTurn(this.campaignId, rater, state.handouts, goldRateFor(state, this.settings))) return undefined;
    const available = [...this.gold.values()].filter((g) => g.opened && !g.closed && !state.seen.includes(g.gold) && g.gold !== state.skipped && !besides?.has(g.gold));
    if (available.length === 0) return undefined;
    return available[goldPick(this.campaignId, rater, state.handouts, available.length)];
  }

  /**
   * A fresh hand-out was made; a gold one handed out by `next` is held until the reservation ends (seen
   * only once answered). A digest's gold item is not held: the mail is its hold (its links last until the
   * item's deadline), and a later digest may hand it out again until the rater answers it.
   */
  handedOut(rater: string, gold?: { lifecycleId: string; gold: number; untilMs: number }): void {
    const state = this.recordOf(rater);
    state.handouts += 1;
    delete state.skipped;
    if (gold) state.holding = { lifecycleId: gold.lifecycleId, untilMs: gold.untilMs };
  }

  /** The records the ledger does not have yet, taken: changes from now on are taken by the next commit. */
  takeChanged(): CampaignRaterRecord[] {
    const records = [...this.changed].sort().flatMap((rater) => {
      const state = this.raters.get(rater);
      return state ? [ledgerRecord(state)] : [];
    });
    this.changed.clear();
    return records;
  }

  hasChanged(): boolean {
    return this.changed.size > 0;
  }

  records(): CampaignRaterRecord[] {
    return [...this.raters.values()].map(ledgerRecord);
  }

  counts(): { raters: { total: number; excluded: number }; gold: { items: number; answers: number; correct: number } } {
    let excluded = 0;
    for (const r of this.raters.values()) if (r.status === 'excluded') excluded += 1;
    let answers = 0;
    let correct = 0;
    for (const g of this.gold.values()) {
      answers += g.answers;
      correct += g.correct;
    }
    return { raters: { total: this.raters.size, excluded }, gold: { items: this.gold.size, answers, correct } };
  }
}
