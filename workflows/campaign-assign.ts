/**
 * How a campaign hands its open items to raters: `next` (one item at a time, web and Slack) and an
 * email digest's batch (`assignBatch`, then `digestSettled` once the mails are out), each reserving what
 * it hands out. Separate from the campaign's bookkeeping (campaign-state.ts) because the choice (room,
 * reservations, gold at the rater's rate, seeded ties) is a policy of its own; RatingCampaign's methods
 * of the same names call these.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorCode } from '../core/errors';
import type { OpenItem } from './campaign-carry';
import type { RatingCampaign } from './campaign-state';
import { VoteRejection } from './messages';
import type { NextItemAnswer, NextItemRequest } from './types';
import { RATER_PATTERN } from './vote-tally';

/** Rejects a malformed `next` request, one through another channel or to a run continuing as new, or one scoped to another campaign (the update's validator). */
export function validateNextRequest(campaign: RatingCampaign, request: NextItemRequest): void {
  if (typeof request !== 'object' || request === null || typeof request.rater !== 'string' || !RATER_PATTERN.test(request.rater)) {
    throw ApplicationFailure.nonRetryable('malformed request: rater must be a pseudonym like r_0123abcd…', VoteRejection.MalformedVote);
  }
  if (request.done !== undefined && (typeof request.done !== 'string' || request.done.length > 300)) {
    throw ApplicationFailure.nonRetryable('malformed request: done must be the id of the item lifecycle the rater answered', VoteRejection.MalformedVote);
  }
  const kind = campaign.plan.channel.split(':', 1)[0];
  if (request.channel !== undefined && request.channel !== kind) {
    throw ApplicationFailure.nonRetryable(`wrong channel: this is a ${kind} campaign, which hands out items through "${kind}" only, not "${String(request.channel)}"`, VoteRejection.WrongChannel);
  }
  if (campaign.continuing) throw ApplicationFailure.nonRetryable('this run is continuing as new; ask again', VoteRejection.RunContinuing);
  // A session scoped to another campaign is answered as if this one did not exist, before anything is reserved.
  if (request.scope !== undefined && request.scope !== campaign.plan.label) throw ApplicationFailure.nonRetryable('no such campaign', ErrorCode.UnknownCampaign);
}

/**
 * Whether `rater` may be handed `open` (by `next` or a digest): published, not closing confident or closed, not
 * answered or passed by them. Drops its expired reservations first, so room is counted on live ones.
 */
function offerable(campaign: RatingCampaign, open: OpenItem, rater: string, now: number): boolean {
  dropExpired(open, now, campaign.keepsLapsed);
  return open.opened && !open.confident && !open.heldClose && !open.raters.includes(rater) && !open.passed?.includes(rater);
}

/**
 * An open item for `rater`: one they hold a live reservation on, else one they have not answered with
 * room left (its responses less standing answers and others' live reservations), the most room first,
 * at random among equals (the workflow's seeded randomness, so replays pick the same).
 */
export function nextItemFor(campaign: RatingCampaign, request: NextItemRequest, now: number): NextItemAnswer {
  const phase = campaign.phase(now);
  if (phase === 'paused') return { assigned: false, reason: 'paused' };
  if (phase !== 'running' && phase !== 'finishing') return { assigned: false, reason: 'finished' };
  const { rater } = request;
  const refused = campaign.quality.refusal(rater);
  if (refused) return refused;
  const done = request.done !== undefined ? campaign.open.get(request.done) : undefined;
  if (done && !done.raters.includes(rater)) passedItem(done, rater);
  campaign.quality.passed(rater, request.done);
  const held = campaign.quality.held(rater, now);
  if (held) return { assigned: true, lifecycleId: held.lifecycleId, item: goldItemNumber(campaign, held.gold), reservedUntil: new Date(held.untilMs).toISOString(), again: true };
  let best: OpenItem[] = [];
  let bestRoom = 0;
  for (const open of campaign.open.values()) {
    if (!offerable(campaign, open, rater, now)) continue;
    const mine = open.reservations.find((r) => r.rater === rater);
    if (mine) {
      toldByNext(campaign, rater, open.lifecycleId);
      return { assigned: true, lifecycleId: open.lifecycleId, item: open.item, reservedUntil: new Date(mine.untilMs).toISOString(), again: true };
    }
    const room = campaign.roomOf(open);
    if (room <= 0 || room < bestRoom) continue;
    if (room > bestRoom) best = [];
    bestRoom = room;
    best.push(open);
  }
  // A fresh hand-out: a gold item at the rater's rate while one they have not seen is open.
  const gold = campaign.quality.pick(rater);
  if (gold) {
    const untilMs = now + campaign.plan.reservationMs;
    campaign.quality.handedOut(rater, { lifecycleId: gold.lifecycleId, gold: gold.gold, untilMs });
    return { assigned: true, lifecycleId: gold.lifecycleId, item: goldItemNumber(campaign, gold.gold), reservedUntil: new Date(untilMs).toISOString(), again: false };
  }
  if (best.length === 0) return { assigned: false, reason: campaign.open.size === 0 && phase === 'finishing' ? 'finished' : 'waiting' };
  // Math.random is seeded per workflow run inside the sandbox: deterministic on replay.
  const chosen = best[Math.floor(Math.random() * best.length)]!;
  const untilMs = now + campaign.plan.reservationMs;
  chosen.reservations.push({ rater, untilMs });
  campaign.quality.handedOut(rater);
  return { assigned: true, lifecycleId: chosen.lifecycleId, item: chosen.item, reservedUntil: new Date(untilMs).toISOString(), again: false };
}

/** Expired reservations let the item go back to the pool; their raters are kept a while in `lapsed` (passedItem). */
function dropExpired(open: OpenItem, now: number, keepLapsed: boolean): void {
  if (open.reservations.every((r) => r.untilMs > now)) return;
  const lapsed = open.reservations.filter((r) => r.untilMs <= now).map((r) => r.rater);
  open.reservations = open.reservations.filter((r) => r.untilMs > now);
  if (keepLapsed) open.lapsed = [...(open.lapsed ?? []).filter((r) => !lapsed.includes(r)), ...lapsed].slice(-LAPSED_KEPT);
}

/** The raters whose reservation on an item expired that it keeps, so a pass sent after its expiry still counts. */
export const LAPSED_KEPT = 8;

/**
 * The passes an open item keeps: its latest raters' who passed it (an answer whose report is on its way,
 * or a skip). The carry holds every open item's, so they are bounded: one who passed before those is
 * no longer kept from it.
 */
export const PASSED_KEPT = 32;

/**
 * The rater is done with an item they have not answered (`next` with `done`): never handed it again, while
 * among its PASSED_KEPT latest passes. Only a rater it was reserved for passes it (their reservation live,
 * or among its LAPSED_KEPT latest expired): anyone else had nothing to pass, and naming items one was
 * never handed must not grow what the campaign carries.
 */
function passedItem(open: OpenItem, rater: string): void {
  const lapsed = open.lapsed?.includes(rater) ?? false;
  if (!lapsed && !open.reservations.some((r) => r.rater === rater)) return;
  open.passed = [...(open.passed ?? []).filter((r) => r !== rater), rater].slice(-PASSED_KEPT);
  open.reservations = open.reservations.filter((r) => r.rater !== rater);
  if (lapsed) open.lapsed = open.lapsed!.filter((r) => r !== rater);
}

/**
 * `next` told the rater their reservation (and its time): a digest being sent that made or extended it no
 * longer takes it back if its mail fails (settleDigest), or the rater would hold less than they were told.
 */
function toldByNext(campaign: RatingCampaign, rater: string, lifecycleId: string): void {
  const holds = campaign.digestHolds.get(rater);
  if (holds?.some((h) => h.lifecycleId === lifecycleId)) campaign.digestHolds.set(rater, holds.filter((h) => h.lifecycleId !== lifecycleId));
}

/** A gold item's number in `next` answers: after the data items', so it looks like any item's. */
function goldItemNumber(campaign: RatingCampaign, gold: number): number {
  return campaign.plan.itemCount + gold;
}

/**
 * Up to `count` open items for `rater`, reserved for them until `untilMs` (an email digest): those they
 * hold already first (kept until the later of the two times), then fresh hand-outs one by one as `next`
 * makes them: a gold item at the rater's rate (CampaignQuality.pick: never one they answered, nor one
 * already in this digest), else one they have not answered with room left, the most room first, at random
 * among equals. Never an item they answered or passed. Gold items take their turn's place in the digest,
 * so their position tells nothing; they reserve nothing (they have no quota) and are not held.
 */
export function assignItems(campaign: RatingCampaign, rater: string, count: number, now: number, untilMs: number): string[] {
  // An excluded rater is mailed nothing more, as `next` hands them nothing.
  if (campaign.quality.refusal(rater)) return [];
  const held: OpenItem[] = [];
  const previousUntil = new Map<OpenItem, number>();
  const free: Array<{ open: OpenItem; room: number; tie: number }> = [];
  for (const open of campaign.open.values()) {
    if (!offerable(campaign, open, rater, now)) continue;
    const mine = open.reservations.find((r) => r.rater === rater);
    if (mine) {
      previousUntil.set(open, mine.untilMs);
      mine.untilMs = Math.max(mine.untilMs, untilMs);
      held.push(open);
      continue;
    }
    const room = campaign.roomOf(open);
    // Math.random is seeded per workflow run inside the sandbox: deterministic on replay.
    if (room > 0) free.push({ open, room, tie: Math.random() });
  }
  free.sort((a, b) => b.room - a.room || a.tie - b.tie);
  const kept = held.slice(0, count);
  const chosen: string[] = kept.map((o) => o.lifecycleId);
  const fresh: OpenItem[] = [];
  // Without gold there is no turn to count: the raters' records stay as they were (answers only).
  const { quality } = campaign;
  const mixGold = quality.gold.size > 0;
  const goldHere = new Set<number>();
  while (chosen.length < count) {
    const gold = mixGold ? quality.pick(rater, goldHere) : undefined;
    if (gold) {
      goldHere.add(gold.gold);
      quality.handedOut(rater);
      chosen.push(gold.lifecycleId);
      continue;
    }
    const next = free[fresh.length]?.open;
    if (!next) break;
    next.reservations.push({ rater, untilMs });
    if (mixGold) quality.handedOut(rater);
    fresh.push(next);
    chosen.push(next.lifecycleId);
  }
  campaign.digestHolds.set(rater, [
    ...kept.map((o) => ({ lifecycleId: o.lifecycleId, previousUntilMs: previousUntil.get(o)! })),
    ...fresh.map((o) => ({ lifecycleId: o.lifecycleId })),
  ]);
  return chosen;
}

/**
 * The digest's mails are out (`delivered`: who got which items; empty when the send failed for good):
 * a reservation no mail told its rater about is let go (or back to what an earlier digest gave them),
 * so its item does not sit held for nobody. One `next` told its rater of meanwhile stays as told (toldByNext).
 */
export function settleDigest(campaign: RatingCampaign, delivered: Array<{ rater: string; lifecycleIds: string[] }>): void {
  const mailed = new Map(delivered.map((d) => [d.rater, new Set(d.lifecycleIds)]));
  for (const [rater, holds] of campaign.digestHolds) {
    for (const hold of holds) {
      if (mailed.get(rater)?.has(hold.lifecycleId)) continue;
      const open = campaign.open.get(hold.lifecycleId);
      const mine = open?.reservations.find((r) => r.rater === rater);
      if (!open || !mine) continue;
      if (hold.previousUntilMs !== undefined) mine.untilMs = hold.previousUntilMs;
      else open.reservations = open.reservations.filter((r) => r !== mine);
    }
  }
  campaign.digestHolds.clear();
}
