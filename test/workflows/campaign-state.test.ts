/**
 * RatingCampaign outside Temporal (workflows/campaign-state.ts) and the campaign input
 * (workflows/campaign-input.ts): assignment by `next` (never an item a rater answered, most room first,
 * reservations that expire), reports, outcomes, counts and the carry; every bad input field named.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { childInput, itemErrors, validateCampaignInput } from '../../workflows/campaign-input';
import { RatingCampaign, itemLifecycleId } from '../../workflows/campaign-state';
import { HELD_CLOSE_WAIT_MS } from '../../workflows/campaign-reports';
import type { CampaignItem, CampaignPlan, NextItemAnswer } from '../../workflows/types';
import { raterId } from '../helpers/votes';

const NOW = Date.now();
const item = (n: number): CampaignItem => ({ prompt: `p${n}`, models: ['a', 'b'], candidates: [{ text: `left ${n}`, model: 'a' }, { text: `right ${n}`, model: 'b' }] });

function plan(input: Record<string, unknown> = {}): CampaignPlan {
  const result = validateCampaignInput({ items: [item(0), item(1), item(2)], responses: 2, reservation: '1m', ...input }, 'camp', NOW);
  assert.ok(result.ok, JSON.stringify(result));
  return result.plan;
}

/** A campaign whose items 0…n-1 are open and published. */
function running(n = 3, input: Record<string, unknown> = {}): RatingCampaign {
  const campaign = RatingCampaign.start('camp', plan({ items: Array.from({ length: n }, (_, i) => item(i)), ...input }), {}, NOW);
  for (let i = 0; i < n; i++) {
    const taken = campaign.takeItem();
    campaign.started(taken.index, taken.lifecycleId);
    campaign.report({ lifecycleId: taken.lifecycleId, kind: 'opened' });
  }
  return campaign;
}

const assigned = (answer: NextItemAnswer): number => {
  assert.ok(answer.assigned, JSON.stringify(answer));
  return answer.item;
};

describe('workflows/campaign-input', () => {
  it('should plan a compare campaign with its defaults and map an item to its lifecycle input', () => {
    const p = plan({ reservation: undefined });
    assert.equal(p.task, 'compare');
    assert.equal(p.maxOpen, 50);
    assert.equal(p.reservationMs, 600_000);
    assert.equal(p.label, 'camp');
    assert.deepEqual(childInput(p, item(0), NOW + 1000), {
      prompt: 'p0', task: 'compare', models: ['a', 'b'], candidates: [{ text: 'left 0', model: 'a' }, { text: 'right 0', model: 'b' }],
      question: 'Which is better?', responses: 2, channel: 'web', deadline: new Date(NOW + 1000).toISOString(), campaign: 'camp', delivery: 'assigned',
    });
  });

  it('should hand web, slack and email items out by next only (delivery assigned)', () => {
    assert.equal(childInput(plan({ channel: 'slack:#ratings' }), item(0), NOW + 1000).delivery, 'assigned');
    assert.equal(childInput(plan({ channel: 'email:@reviewers' }), item(0), NOW + 1000).delivery, 'assigned');
    assert.equal(childInput(plan({ channel: 'web' }), item(0), NOW + 1000).delivery, 'assigned');
    // Every such item is one its lifecycle accepts.
    assert.deepEqual(itemErrors(plan({ channel: 'slack:#ratings' }), item(0), NOW + 3_600_000, NOW), []);
    assert.deepEqual(itemErrors(plan({ channel: 'web' }), item(0), NOW + 3_600_000, NOW), []);
  });

  it('should name every bad field, items by index as their lifecycles would', () => {
    const result = validateCampaignInput({ items: [item(0), { prompt: '', models: ['a'] }, { prompt: 'x', colour: 'red' }], responses: 0, maxOpen: 5000, reservation: '0s', bogus: 1 }, 'camp', NOW);
    assert.equal(result.ok, false);
    const errors = result.ok ? [] : result.errors;
    assert.ok(errors.some((e) => e.startsWith('bogus: unknown field')), errors.join('\n'));
    assert.ok(errors.includes('responses: must be an integer from 1 to 10000'));
    assert.ok(errors.includes('maxOpen: must be an integer from 1 to 1000'));
    assert.ok(errors.some((e) => e.startsWith('reservation:')));
    const items = validateCampaignInput({ items: [item(0), { prompt: '', models: ['a'] }, { prompt: 'x', colour: 'red' }] }, 'camp', NOW);
    const itemErrorsSeen = items.ok ? [] : items.errors;
    assert.ok(itemErrorsSeen.some((e) => e.startsWith('items[1].prompt: required')), itemErrorsSeen.join('\n'));
    assert.ok(itemErrorsSeen.some((e) => e.startsWith('items[2].colour: unknown item field')), itemErrorsSeen.join('\n'));
    assert.equal(itemErrorsSeen.some((e) => e.startsWith('items[0]')), false);
    assert.deepEqual(itemErrors(plan(), 'text', NOW + 1000, NOW), ['item: must be an object like {"prompt": "…", "models": [a, b]}']);
  });

  it('should take a stored list by reference and count, and refuse both or neither', () => {
    const ref = `sha256:${'ab'.repeat(32)}`;
    const stored = validateCampaignInput({ itemsRef: ref, itemCount: 5000 }, 'camp', NOW);
    assert.ok(stored.ok && stored.plan.itemsRef === ref && stored.plan.itemCount === 5000);
    const both = validateCampaignInput({ items: [item(0)], itemsRef: ref, itemCount: 1 }, 'camp', NOW);
    assert.ok(!both.ok && both.errors.includes('items, itemsRef: give one of them, not both'));
    const neither = validateCampaignInput({}, 'camp', NOW);
    assert.ok(!neither.ok && neither.errors.includes('items: required (or itemsRef with itemCount)'));
    const noCount = validateCampaignInput({ itemsRef: ref }, 'camp', NOW);
    assert.ok(!noCount.ok && noCount.errors.some((e) => e.startsWith('itemCount: required')));
  });
});

describe('RatingCampaign (state, outside Temporal)', () => {
  it('should name child lifecycles by the campaign and the item index', () => {
    assert.equal(itemLifecycleId('camp', 7), 'camp-item-7');
  });

  it('should hand a rater only items they have not answered, the most room first', () => {
    const campaign = running(3);
    const [a, b, c] = [raterId(1), raterId(2), raterId(3)];
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: a, progress: 1, seq: 1 });
    campaign.report({ lifecycleId: 'camp-item-1', kind: 'answer', rater: a, progress: 1, seq: 1 });
    // a answered 0 and 1: only 2 is left for a.
    assert.equal(assigned(campaign.next({ rater: a }, NOW)), 2);
    // b: items 0 and 1 have room 1, item 2 has room 1 (a holds it): any; the most room wins among equals.
    const forB = assigned(campaign.next({ rater: b }, NOW));
    assert.ok([0, 1, 2].includes(forB));
    // An item with no answers and no reservations has the most room.
    const fresh = running(3);
    fresh.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: a, progress: 1, seq: 1 });
    fresh.report({ lifecycleId: 'camp-item-2', kind: 'answer', rater: b, progress: 1, seq: 1 });
    assert.equal(assigned(fresh.next({ rater: c }, NOW)), 1);
  });

  it('should give a rater the item they hold again, and refuse items at their quota', () => {
    const campaign = running(1);
    const first = campaign.next({ rater: raterId(1) }, NOW);
    assert.ok(first.assigned && !first.again);
    const again = campaign.next({ rater: raterId(1) }, NOW + 1000);
    assert.ok(again.assigned && again.again && again.reservedUntil === first.reservedUntil);
    assert.equal(assigned(campaign.next({ rater: raterId(2) }, NOW)), 0);
    // responses 2: two live reservations fill it.
    assert.deepEqual(campaign.next({ rater: raterId(3) }, NOW), { assigned: false, reason: 'waiting' });
  });

  it('should return a reservation to the pool when it expires, and drop it when its rater answers', () => {
    const campaign = running(1);
    campaign.next({ rater: raterId(1) }, NOW);
    campaign.next({ rater: raterId(2) }, NOW);
    assert.deepEqual(campaign.next({ rater: raterId(3) }, NOW + 59_000), { assigned: false, reason: 'waiting' });
    assert.equal(assigned(campaign.next({ rater: raterId(3) }, NOW + 60_000)), 0, 'one minute later both reservations are gone');
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(3), progress: 1, seq: 1 });
    assert.equal(campaign.countsNow(NOW + 60_000).reserved, 0);
    assert.deepEqual(campaign.next({ rater: raterId(3) }, NOW + 60_000), { assigned: false, reason: 'waiting' }, 'answered: never again');
  });

  it('should not hand out items that have not opened, nor any while paused or cancelled', () => {
    const campaign = RatingCampaign.start('camp', plan(), {}, NOW);
    const taken = campaign.takeItem();
    campaign.started(taken.index, taken.lifecycleId);
    assert.deepEqual(campaign.next({ rater: raterId(1) }, NOW), { assigned: false, reason: 'waiting' });
    campaign.report({ lifecycleId: taken.lifecycleId, kind: 'opened' });
    campaign.paused = true;
    assert.deepEqual(campaign.next({ rater: raterId(1) }, NOW), { assigned: false, reason: 'paused' });
    campaign.paused = false;
    campaign.cancelReason = 'enough';
    assert.deepEqual(campaign.next({ rater: raterId(1) }, NOW), { assigned: false, reason: 'finished' });
  });

  it('should keep the latest report of progress, end items once, and count what ended', () => {
    const campaign = running(3);
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(1), progress: 2, seq: 5 });
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(2), progress: 1, seq: 3 });
    assert.equal(campaign.open.get('camp-item-0')?.progress, 2, 'an older report does not undo a newer one');
    assert.deepEqual(campaign.open.get('camp-item-0')?.raters, [raterId(1), raterId(2)]);
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 2, votesAccepted: 2 });
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 2, votesAccepted: 2 });
    campaign.report({ lifecycleId: 'camp-item-1', kind: 'failed', message: 'boom' });
    const counts = campaign.countsNow(NOW);
    assert.deepEqual({ done: counts.done, failed: counts.failed, open: counts.open, answers: counts.answers }, { done: 1, failed: 1, open: 1, answers: 2 });
    assert.deepEqual(counts.ended, { quorum: 1, failed: 1 });
    assert.deepEqual(campaign.outcomes.map((o) => [o.item, o.end, o.answers, o.raters]), [[0, 'quorum', 2, 2], [1, 'failed', 0, 0]]);
    campaign.outcomesCommitted(2, NOW);
    const resumed = RatingCampaign.resume('camp', JSON.parse(JSON.stringify(campaign.toCarry())));
    assert.deepEqual(resumed.countsNow(NOW), campaign.countsNow(NOW));
    assert.deepEqual([...resumed.open.keys()], ['camp-item-2']);
    assert.deepEqual(resumed.outcomes, [], 'committed outcomes are not carried');
  });

  it('should carry an outcome reported after the last commit of a run continuing as new, for the next run to commit', () => {
    // The run commits, then waits for its `next` handlers (each awaits a hand-out signal); a child that
    // closes in that wait reports an outcome the ledger does not hold yet: it must neither be lost nor stop the run.
    const campaign = running(2);
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 2, votesAccepted: 2 });
    campaign.outcomesCommitted(campaign.outcomes.length, NOW);
    campaign.continuing = true;
    campaign.report({ lifecycleId: 'camp-item-1', kind: 'closed', closeReason: 'deadline', progress: 1, votesAccepted: 1 });
    const carry = JSON.parse(JSON.stringify(campaign.toCarry())) as ReturnType<RatingCampaign['toCarry']>;
    assert.deepEqual(carry.open, [], 'the item is carried as its outcome, not as an open item');
    const resumed = RatingCampaign.resume('camp', carry);
    assert.deepEqual(resumed.outcomes.map((o) => [o.item, o.lifecycleId, o.end, o.answers]), [[1, 'camp-item-1', 'insufficient', 1]]);
    assert.deepEqual(resumed.countsNow(NOW), campaign.countsNow(NOW));
    assert.equal(resumed.continuing, false);
    // A repeated close report reaching the next run (a retried signal) ends nothing twice.
    resumed.report({ lifecycleId: 'camp-item-1', kind: 'closed', closeReason: 'deadline', progress: 1, votesAccepted: 1 });
    assert.equal(resumed.outcomes.length, 1);
    assert.equal(resumed.countsNow(NOW).done, 2);
  });

  it('should refuse a malformed rater and, while continuing as new, every request', () => {
    const campaign = running(1);
    const type = (fn: () => void) => {
      try {
        fn();
        return undefined;
      } catch (err) {
        assert.ok(err instanceof ApplicationFailure);
        return err.type;
      }
    };
    assert.equal(type(() => campaign.validateNext({ rater: 'alice' })), 'malformed_vote');
    assert.equal(type(() => campaign.validateNext({ rater: raterId(1) })), undefined);
    campaign.continuing = true;
    assert.equal(type(() => campaign.validateNext({ rater: raterId(1) })), 'run_continuing');
  });

  it('should hand out items only through the campaign\'s own channel, so no one elsewhere can hold them reserved', () => {
    const type = (campaign: RatingCampaign, channel: string) => {
      try {
        campaign.validateNext({ rater: raterId(1), channel });
        return undefined;
      } catch (err) {
        return (err as ApplicationFailure).type;
      }
    };
    assert.equal(type(running(1), 'web'), undefined);
    assert.equal(type(running(1), 'slack'), 'wrong_channel');
    assert.equal(type(running(1, { channel: 'slack:#ratings' }), 'slack'), undefined);
    assert.equal(type(running(1, { channel: 'slack:#ratings' }), 'web'), 'wrong_channel');
  });
});

describe('RatingCampaign next with done', () => {
  it('should never hand back the item a rater says they just answered, before its report arrives', () => {
    const campaign = running(1);
    const first = campaign.next({ rater: raterId(1) }, NOW);
    assert.ok(first.assigned);
    assert.deepEqual(campaign.next({ rater: raterId(1), done: first.lifecycleId }, NOW), { assigned: false, reason: 'waiting' });
    assert.equal(campaign.countsNow(NOW).reserved, 0);
  });
});

describe('RatingCampaign re-asking starved items', () => {
  it('should offer an item again when its lifecycle closes at its deadline short of its answers, then end it insufficient', () => {
    const campaign = running(1, { reask: 1, itemDeadline: '1h' });
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(1), progress: 1, seq: 1 });
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'deadline', progress: 1, votesAccepted: 1 });
    assert.deepEqual(campaign.reasks, [{ item: 0, attempt: 1, earlier: 1, raters: [raterId(1)] }]);
    assert.equal(campaign.outcomes.length, 0, 'not ended yet');
    assert.equal(campaign.finished(Date.now()), false);
    assert.equal(campaign.countsNow(NOW).answers, 1);
    const reask = campaign.reasks.shift()!;
    campaign.startedReask(reask, 'camp-item-0-r1');
    campaign.report({ lifecycleId: 'camp-item-0-r1', kind: 'opened' });
    assert.deepEqual(campaign.next({ rater: raterId(1) }, Date.now()), { assigned: false, reason: 'waiting' }, 'who answered before is not asked again');
    assert.equal(assigned(campaign.next({ rater: raterId(2) }, Date.now())), 0);
    campaign.report({ lifecycleId: 'camp-item-0-r1', kind: 'closed', closeReason: 'deadline', progress: 0, votesAccepted: 0 });
    assert.deepEqual(campaign.outcomes.map((o) => [o.lifecycleId, o.end, o.answers, o.attempts]), [['camp-item-0-r1', 'insufficient', 1, 2]]);
    assert.deepEqual(campaign.countsNow(NOW).ended, { insufficient: 1 });
  });

  it('should hold a close report that overtook answer reports until they come, so a re-ask never asks their raters again', () => {
    const numbered = (campaign: RatingCampaign, n: number) => campaign.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(n), progress: n, seq: n, reported: n });
    const campaign = running(1, { reask: 1, itemDeadline: '1h', responses: 3 });
    numbered(campaign, 1);
    // The lifecycle took two answers and closed at its deadline; the close comes before the second answer's report.
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'deadline', progress: 2, votesAccepted: 2, answersReported: 2 });
    assert.deepEqual([campaign.reasks, campaign.outcomes], [[], []], 'held: rater 2 is not known yet');
    assert.deepEqual(campaign.next({ rater: raterId(3) }, Date.now()), { assigned: false, reason: 'waiting' }, 'a closed item is handed to no one');
    // Carried across continue-as-new while held.
    const resumed = RatingCampaign.resume('camp', JSON.parse(JSON.stringify(campaign.toCarry())));
    numbered(resumed, 2);
    assert.deepEqual(resumed.reasks, [{ item: 0, attempt: 1, earlier: 2, raters: [raterId(1), raterId(2)] }]);

    // Reports that never come: HELD_CLOSE_WAIT_MS on, the item ends on its close (or at the deadline's grace, not as unreported).
    const lost = running(2, { responses: 3 });
    const heldAt = Date.now();
    lost.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'deadline', progress: 2, votesAccepted: 2, answersReported: 2 });
    const untilMs = lost.nextHeldCloseAt()!;
    assert.ok(untilMs >= heldAt + HELD_CLOSE_WAIT_MS && untilMs <= Date.now() + HELD_CLOSE_WAIT_MS, String(untilMs));
    assert.deepEqual(lost.expireHeldCloses(untilMs - 1), []);
    assert.deepEqual(lost.expireHeldCloses(untilMs), ['camp-item-0']);
    assert.deepEqual(lost.outcomes.map((o) => [o.end, o.answers]), [['insufficient', 2]]);
    assert.equal(lost.nextHeldCloseAt(), undefined);
    lost.report({ lifecycleId: 'camp-item-1', kind: 'closed', closeReason: 'deadline', progress: 1, votesAccepted: 1, answersReported: 1 });
    lost.giveUpUnreported();
    assert.deepEqual(lost.outcomes.map((o) => [o.item, o.end, o.answers]), [[0, 'insufficient', 2], [1, 'insufficient', 1]]);
    // A close with every report in, or one from before the count, ends the item at once as before.
    const heard = running(1, { responses: 1 });
    heard.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(1), progress: 1, seq: 1, reported: 1 });
    heard.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 1, votesAccepted: 1, answersReported: 1 });
    const old = running(1, { responses: 1 });
    old.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 1, votesAccepted: 1 });
    // An item carried from before the count heard reports it did not count: numbered ones are taken as they come.
    const carry = JSON.parse(JSON.stringify(running(1, { responses: 2 }).toCarry()));
    delete carry.open[0].answerReportsHeard;
    const upgraded = RatingCampaign.resume('camp', carry);
    upgraded.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(3), progress: 2, seq: 7, reported: 7 });
    upgraded.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 2, votesAccepted: 7, answersReported: 7 });
    assert.deepEqual([heard, old, upgraded].map((c) => c.outcomes.map((o) => o.end)), [['quorum'], ['quorum'], ['quorum']]);
  });

  it('should end an item short of its answers insufficient at once without re-asks, and re-asks that can no longer start', () => {
    const none = running(1);
    none.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'deadline', progress: 1, votesAccepted: 1 });
    assert.deepEqual(none.outcomes.map((o) => [o.end, o.attempts]), [['insufficient', 1]]);
    const full = running(1, { reask: 2 });
    full.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'deadline', progress: 2, votesAccepted: 2 });
    assert.deepEqual(full.outcomes.map((o) => o.end), ['deadline'], 'its answers were all in: the deadline is just when it closed');
    const cancelled = running(1, { reask: 2 });
    cancelled.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'deadline', progress: 0, votesAccepted: 0 });
    cancelled.cancelReason = 'enough';
    assert.equal(cancelled.reaskPossible(Date.now()), false);
    cancelled.dropReasks();
    assert.deepEqual(cancelled.outcomes.map((o) => [o.end, o.attempts]), [['insufficient', 1]]);
    assert.equal(cancelled.finished(Date.now()), true);
  });
});

describe('RatingCampaign early stopping (confidence)', () => {
  const answer = (campaign: RatingCampaign, item: number, n: number, seq: number, choice: 'first' | 'second' | 'tie' | 'withdrawn', progress = seq) => campaign.report({
    lifecycleId: `camp-item-${item}`, kind: 'answer', rater: raterId(n), progress, seq, choice: { task: 'compare', answer: choice },
  });

  it('should plan confidence with minResponses (default 3, at most responses) and name bad values', () => {
    assert.deepEqual([plan({ responses: 8, confidence: 0.99 }).confidence, plan({ responses: 8, confidence: 0.99 }).minResponses], [0.99, 3]);
    assert.equal(plan({ responses: 2, confidence: 0.9 }).minResponses, 2, 'never more than the item asks for');
    assert.equal(plan({ responses: 8, confidence: 0.99, minResponses: 5 }).minResponses, 5);
    assert.equal(plan().confidence, undefined);
    assert.equal(plan().minResponses, undefined);
    const errors = (input: Record<string, unknown>) => {
      const result = validateCampaignInput({ items: [item(0)], responses: 4, ...input }, 'camp', NOW);
      return result.ok ? [] : result.errors;
    };
    for (const bad of [0.5, 1, 1.5, '0.99', 0]) assert.deepEqual(errors({ confidence: bad }), ['confidence: must be a number above 0.5 and below 1, e.g. 0.99'], String(bad));
    assert.deepEqual(errors({ confidence: 0.99, minResponses: 5 }), ['minResponses: must be an integer from 1 to responses (4)']);
    assert.deepEqual(errors({ confidence: 0.99, minResponses: 0 }), ['minResponses: must be an integer from 1 to responses (4)']);
    assert.deepEqual(errors({ minResponses: 2 }), ['minResponses: only with confidence (early stopping), e.g. {"confidence": 0.99, "minResponses": 3}']);
  });

  it('should close an item once its answer is clear: no longer handed out, told to close once, ended confident with why', () => {
    const campaign = running(2, { responses: 8, confidence: 0.99 });
    answer(campaign, 0, 1, 1, 'first');
    answer(campaign, 0, 2, 2, 'first');
    assert.deepEqual(campaign.confidentToClose(), [], 'two answers: below minResponses 3');
    campaign.next({ rater: raterId(9) }, NOW);
    answer(campaign, 0, 3, 3, 'first');
    const toClose = campaign.confidentToClose();
    assert.deepEqual(toClose.map((o) => o.lifecycleId), ['camp-item-0']);
    assert.match(toClose[0]!.confident!.message, /^answer clear: first at 0\.99\d\d after 3 answers \(confidence 0\.99\)$/);
    assert.equal(campaign.open.get('camp-item-0')!.reservations.length, 0, 'its reservations are let go');
    // Raters are handed the other item only.
    for (const n of [4, 5, 6]) assert.equal(assigned(campaign.next({ rater: raterId(n) }, NOW)), 1);
    toClose[0]!.confident!.closeSent = true;
    assert.deepEqual(campaign.confidentToClose(), []);
    // Carried across continue-as-new as it is.
    const resumed = RatingCampaign.resume('camp', JSON.parse(JSON.stringify(campaign.toCarry())));
    assert.deepEqual(resumed.open.get('camp-item-0')!.confident, toClose[0]!.confident);
    assert.deepEqual(resumed.open.get('camp-item-0')!.standing?.length, 3);
    // The lifecycle closes on the campaign's signal (reason `closed`) and reports: the item ends confident.
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'closed', progress: 3, votesAccepted: 3 });
    assert.deepEqual(campaign.outcomes.map((o) => [o.item, o.end, o.answers, o.message]), [[0, 'confident', 3, toClose[0]!.confident!.message]]);
    assert.deepEqual(campaign.countsNow(NOW).ended, { confident: 1 });
  });

  it('should not close an item on reports that overtook an earlier one, and weigh it once the late one comes', () => {
    // Raters alternate first, second, first, second, first: never clear in the order they answered.
    const numbered = (campaign: RatingCampaign, n: number, choice: 'first' | 'second') => campaign.report({
      lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(n), progress: n, seq: n, choice: { task: 'compare', answer: choice }, reported: n,
    });
    const campaign = running(1, { responses: 8, confidence: 0.99 });
    for (const n of [1, 2, 3]) numbered(campaign, n, n % 2 === 1 ? 'first' : 'second');
    // Report 5 (first) comes before report 4 (second): first three times against once would be clear (0.99+).
    numbered(campaign, 5, 'first');
    assert.deepEqual(campaign.confidentToClose(), [], 'report 4 is still on its way');
    numbered(campaign, 4, 'second');
    assert.deepEqual(campaign.confidentToClose(), [], 'every report heard: 3–2, not clear');
    // Carried across continue-as-new: a later overtaking report still waits.
    const resumed = RatingCampaign.resume('camp', JSON.parse(JSON.stringify(campaign.toCarry())));
    numbered(resumed, 7, 'first');
    assert.deepEqual(resumed.confidentToClose(), []);
    numbered(resumed, 6, 'first');
    assert.deepEqual(resumed.confidentToClose().map((o) => o.item), [0], 'all seven heard: first five times to two');

    // A clear answer decided but not sent yet is taken back when a report shows one missing.
    const pending = running(1, { responses: 8, confidence: 0.99 });
    for (const n of [1, 2, 3]) numbered(pending, n, 'first');
    assert.equal(pending.confidentToClose().length, 1);
    numbered(pending, 5, 'second');
    assert.deepEqual(pending.confidentToClose(), [], 'report 4 missing: wait for it');
    numbered(pending, 4, 'first');
    assert.equal(pending.confidentToClose().length, 1);
    // Its close (at its deadline, before the campaign's close went out) comes ahead of report 6: held, so not
    // told to close, and at the wait's end not taken as clear.
    pending.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'deadline', progress: 6, votesAccepted: 6, answersReported: 6 });
    assert.equal(pending.open.get('camp-item-0')!.confident?.closeSent, false);
    assert.deepEqual(pending.confidentToClose(), [], 'closed already: nothing to tell it');
    pending.expireHeldCloses(pending.nextHeldCloseAt()!);
    assert.deepEqual(pending.outcomes.map((o) => [o.end, o.answers]), [['insufficient', 6]], 'not confident on five of six reports: short of 8 at its deadline, no re-asks');
    // Closed by the campaign's own close (sent) ahead of a report: at the wait's end it is offered again for the rest.
    const told = running(1, { responses: 8, confidence: 0.99 });
    for (const n of [1, 2, 3]) numbered(told, n, 'first');
    told.confidentToClose()[0]!.confident!.closeSent = true;
    told.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'closed', progress: 4, votesAccepted: 4, answersReported: 4 });
    told.expireHeldCloses(told.nextHeldCloseAt()!);
    assert.deepEqual([told.outcomes, told.reasks.map((r) => [r.item, r.earlier, r.topUps])], [[], [[0, 4, 1]]], 'closed early short of 8: offered again for what it lacks');
    // Reports without numbers (lifecycles from before the count) are weighed as they come, as before.
    const unnumbered = running(1, { responses: 8, confidence: 0.99 });
    for (const n of [1, 2, 3]) answer(unnumbered, 0, n, n, 'first');
    assert.equal(unnumbered.confidentToClose().length, 1);
  });

  it('should leave split items open to their quota, follow changed and withdrawn answers, and close nothing early without confidence', () => {
    const campaign = running(1, { responses: 8, confidence: 0.99 });
    answer(campaign, 0, 1, 1, 'first');
    answer(campaign, 0, 2, 2, 'second');
    answer(campaign, 0, 3, 3, 'first');
    answer(campaign, 0, 4, 4, 'second');
    assert.deepEqual(campaign.confidentToClose(), [], 'split 2–2');
    // Rater 1 withdraws, rater 2 changes their mind, then an older report of rater 1 arrives late.
    answer(campaign, 0, 1, 5, 'withdrawn');
    answer(campaign, 0, 2, 6, 'first');
    answer(campaign, 0, 1, 1, 'tie');
    assert.deepEqual(campaign.confidentToClose(), [], 'first twice (raters 2, 3), second once: not clear');
    answer(campaign, 0, 4, 7, 'first');
    assert.deepEqual(campaign.confidentToClose().map((o) => o.item), [0], 'first three times once rater 4 changes');
    // A clear item that reaches its quota anyway is `quorum`.
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 8, votesAccepted: 8 });
    assert.deepEqual(campaign.outcomes.map((o) => o.end), ['quorum']);

    const off = running(1, { responses: 8 });
    for (const n of [1, 2, 3, 4]) answer(off, 0, n, n, 'first');
    // Each rater's latest answer is held without confidence too: an exclusion discounts it (campaign-counted.ts).
    assert.equal(off.open.get('camp-item-0')!.standing?.length, 4);
    assert.deepEqual(off.confidentToClose(), [], 'no confidence: nothing closes early');
  });

  it('should count an earlier attempt\'s answers when a starved item is offered again', () => {
    const campaign = running(1, { responses: 8, confidence: 0.99, reask: 1, itemDeadline: '1h' });
    for (const n of [1, 2]) answer(campaign, 0, n, n, 'second');
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'deadline', progress: 2, votesAccepted: 2 });
    campaign.startedReask(campaign.reasks.shift()!, 'camp-item-0-r1');
    campaign.report({ lifecycleId: 'camp-item-0-r1', kind: 'opened' });
    campaign.report({ lifecycleId: 'camp-item-0-r1', kind: 'answer', rater: raterId(3), progress: 1, seq: 1, choice: { task: 'compare', answer: 'second' } });
    assert.deepEqual(campaign.confidentToClose().map((o) => o.lifecycleId), ['camp-item-0-r1'], 'two earlier answers and one new: three agree');
  });

  it('should weigh answers by scoreOf (the prior mean until gold scores exist) and send no closes once cancelling', () => {
    const campaign = running(1, { responses: 8, confidence: 0.99 });
    assert.equal(campaign.scoreOf(raterId(1)), 0.75);
    for (const n of [1, 2, 3]) answer(campaign, 0, n, n, 'tie');
    campaign.cancelReason = 'enough';
    campaign.closeSent = true;
    assert.deepEqual(campaign.confidentToClose(), [], 'every open item was told to close already');
    assert.ok(campaign.open.get('camp-item-0')!.confident, 'still recorded: it ends confident when it reports');
  });
});

describe('RatingCampaign email digests', () => {
  const email = { channel: 'email:@raters' };

  it('should plan digests for email campaigns only, with their defaults, and refuse bad values', () => {
    assert.deepEqual(plan(email).digest, { size: 5, everyMs: 86_400_000, reservationMs: 86_400_000 });
    assert.deepEqual(plan({ ...email, digestSize: 2, digestEvery: '6h', emailReservation: '3d' }).digest, { size: 2, everyMs: 6 * 3_600_000, reservationMs: 3 * 86_400_000 });
    assert.equal(plan().digest, undefined);
    const web = validateCampaignInput({ items: [item(0)], digestSize: 2 }, 'camp', NOW);
    assert.ok(!web.ok && web.errors.includes('digestSize: only email campaigns send digests (channel "email:…")'));
    const bad = validateCampaignInput({ items: [item(0)], ...email, digestSize: 0, digestEvery: '10s', emailReservation: '30d' }, 'camp', NOW);
    assert.ok(!bad.ok);
    assert.deepEqual(bad.errors, ['digestSize: must be an integer from 1 to 50', 'digestEvery: must be a duration from 1m to 366d, e.g. "1d"', 'emailReservation: must be a duration from 1s to 14d, e.g. "24h"']);
  });

  it('should reserve each rater distinct items with room, never beyond an item\'s answers, and hand held ones back first', () => {
    const campaign = running(3, email);
    const until = NOW + 86_400_000;
    const batches = [1, 2, 3].map((n) => campaign.assignBatch(raterId(n), 2, NOW, until));
    for (const b of batches) assert.equal(new Set(b).size, 2);
    // 3 items × 2 answers: six places, all reserved now.
    assert.deepEqual([...campaign.open.values()].map((o) => o.reservations.length), [2, 2, 2]);
    assert.deepEqual(campaign.assignBatch(raterId(4), 2, NOW, until), [], 'nothing left with room');
    assert.deepEqual(campaign.next({ rater: raterId(4) }, NOW), { assigned: false, reason: 'waiting' }, 'next respects digest reservations too');
    // The next digest hands rater 1 the items they still hold, held on until the later time.
    assert.deepEqual(campaign.assignBatch(raterId(1), 2, NOW + 1000, until + 1000).sort(), [...batches[0]!].sort());
    assert.equal(campaign.countsNow(NOW).reserved, 6);
    // Once answered, an item is never handed to its rater again; expired reservations go back to the pool.
    const answered = batches[0]![0]!;
    campaign.report({ lifecycleId: answered, kind: 'answer', rater: raterId(1), progress: 1, seq: 1 });
    assert.ok(!campaign.assignBatch(raterId(1), 3, until + 2000, until + 90_000).includes(answered));
    assert.equal(campaign.assignBatch(raterId(4), 3, until + 2000, until + 90_000).length, 3, 'the others\' reservations have expired');
  });

  it('should mail an excluded rater nothing and never reserve an item that is closing confident', () => {
    const campaign = running(2, { ...email, responses: 8, confidence: 0.99 });
    const until = NOW + 86_400_000;
    campaign.quality.answered(raterId(5));
    Object.assign(campaign.quality.raters.get(raterId(5))!, { status: 'excluded', reason: 'gold accuracy 0 of 4' });
    assert.deepEqual(campaign.assignBatch(raterId(5), 2, NOW, until), [], 'excluded: no digest items');
    assert.deepEqual([...campaign.open.values()].map((o) => o.reservations.length), [0, 0], 'and nothing held for them');
    for (const n of [1, 2, 3]) {
      campaign.report({ lifecycleId: 'camp-item-0', kind: 'answer', rater: raterId(n), progress: n, seq: n, choice: { task: 'compare', answer: 'first' } });
    }
    assert.equal(campaign.confidentToClose().length, 1, 'item 0 is clear');
    assert.deepEqual(campaign.assignBatch(raterId(6), 2, NOW, until), ['camp-item-1'], 'only the item still collecting answers');
  });

  it('should let go of the reservations no digest mail told anyone about, and give back an earlier digest\'s', () => {
    const campaign = running(3, email);
    const first = NOW + 3_600_000;
    const later = NOW + 86_400_000;
    const held = campaign.assignBatch(raterId(1), 1, NOW, first);
    campaign.digestSettled([{ rater: raterId(1), lifecycleIds: held }]);
    // The next digest: rater 1 is mailed only one of their two items, rater 2 not at all (no address, a refused mail).
    const one = campaign.assignBatch(raterId(1), 2, NOW + 1000, later);
    const two = campaign.assignBatch(raterId(2), 2, NOW + 1000, later);
    assert.equal(one[0], held[0], 'the held item first');
    campaign.digestSettled([{ rater: raterId(1), lifecycleIds: [one[1]!] }]);
    const reservationsOf = (rater: string) => [...campaign.open.values()].flatMap((o) => o.reservations.filter((r) => r.rater === rater).map((r) => [o.lifecycleId, r.untilMs]));
    assert.deepEqual(reservationsOf(raterId(1)).sort(), [[held[0], first], [one[1], later]].sort(), 'the unmailed extension falls back to the first digest\'s time');
    assert.deepEqual(reservationsOf(raterId(2)), [], 'nothing held for a rater who got no mail');
    assert.ok(two.length === 2 && campaign.countsNow(NOW + 1000).reserved === 2);
    // A send that failed for good: every reservation it made goes.
    campaign.assignBatch(raterId(3), 2, NOW + 2000, later);
    campaign.digestSettled([]);
    assert.deepEqual(reservationsOf(raterId(3)), []);
  });

  it('should take gold on email campaigns too: digests mix it in (campaign-gold-digest.test.ts)', () => {
    const gold = { ...item(9), answer: 'first', explanation: 'right is wrong' };
    const inline = validateCampaignInput({ items: [item(0)], ...email, gold: [gold] }, 'camp', NOW);
    assert.ok(inline.ok, JSON.stringify(inline));
    assert.equal(inline.plan.goldCount, 1);
    assert.ok(inline.plan.digest, 'still an email campaign with digests');
    const stored = validateCampaignInput({ items: [item(0)], ...email, goldRef: `sha256:${'a'.repeat(64)}`, goldCount: 2 }, 'camp', NOW);
    assert.ok(stored.ok, JSON.stringify(stored));
    assert.equal(stored.plan.goldCount, 2);
    assert.ok(validateCampaignInput({ items: [item(0)], channel: 'slack:#ratings', gold: [gold] }, 'camp', NOW).ok, 'slack takes gold');
  });

  it('should be due once the started items open, then every digestEvery, and carry its count across continue-as-new', () => {
    assert.equal(running(2).digestDue(NOW), false, 'not an email campaign');
    const campaign = RatingCampaign.start('camp', plan({ ...email, digestEvery: '1h', maxOpen: 2 }), {}, NOW);
    for (let i = 0; i < 2; i++) {
      const taken = campaign.takeItem();
      campaign.started(taken.index, taken.lifecycleId);
    }
    assert.equal(campaign.digestDue(NOW), false, 'its items have not opened');
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'opened' });
    assert.equal(campaign.digestDue(NOW), false, 'one has not opened yet');
    assert.equal(campaign.digestDue(NOW + 5 * 60_000), true, 'five minutes on, with what is open');
    campaign.report({ lifecycleId: 'camp-item-1', kind: 'opened' });
    assert.equal(campaign.digestDue(NOW), true);
    campaign.digestSent(NOW);
    assert.equal(campaign.digestDue(NOW + 3_599_999), false);
    assert.equal(campaign.digestDue(NOW + 3_600_000), true);
    const resumed = RatingCampaign.resume('camp', JSON.parse(JSON.stringify(campaign.toCarry())));
    assert.deepEqual(resumed.digests, { sent: 1, nextAtMs: NOW + 3_600_000 });
  });
});
