/**
 * A campaign's notifications outside Temporal: the `notify` input (workflows/campaign-notify-input.ts),
 * when the quota is reached, how an end is named, and the notice every target is sent
 * (workflows/campaign-notify.ts, core/campaign-notice.ts).
 */
import assert from 'node:assert/strict';
import { noticeLines, noticeTitle } from '../../core/campaign-notice';
import { validateCampaignInput } from '../../workflows/campaign-input';
import { buildNotice, endOutcome, noticeEventId, noticeTargets, notifyDue, quotaReached } from '../../workflows/campaign-notify';
import { RatingCampaign } from '../../workflows/campaign-state';
import type { CampaignItem, CampaignPlan } from '../../workflows/types';

const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const item = (n: number): CampaignItem => ({ prompt: `p${n}`, candidates: [{ text: `left ${n}`, model: 'a' }, { text: `right ${n}`, model: 'b' }] });

function check(notify: unknown): { ok: true; plan: CampaignPlan } | { ok: false; errors: string[] } {
  return validateCampaignInput({ items: [item(0), item(1)], responses: 2, notify }, 'camp', NOW);
}

function errorsOf(notify: unknown): string[] {
  const result = check(notify);
  assert.ok(!result.ok, `accepted ${JSON.stringify(notify)}`);
  return result.errors;
}

/** A campaign of two items, both started and open. */
function running(notify: Record<string, unknown> = { webhook: 'results' }): RatingCampaign {
  const result = check(notify);
  assert.ok(result.ok, JSON.stringify(result));
  const campaign = RatingCampaign.start('camp', result.plan, {}, NOW);
  for (let i = 0; i < 2; i++) {
    const taken = campaign.takeItem();
    campaign.started(taken.index, taken.lifecycleId);
    campaign.report({ lifecycleId: taken.lifecycleId, kind: 'opened' });
  }
  return campaign;
}

describe('workflows/campaign-notify-input: the notify field', () => {
  it('should plan every target, both events by default, and keep the events it is given', () => {
    const result = check({ slack: '#results', email: 'Owner@Example.com, team@example.com', webhook: ' results ' });
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual(result.plan.notify, {
      on: ['completed', 'quota'], slack: '#results', email: { recipients: ['owner@example.com', 'team@example.com'] }, webhook: 'results',
    });
    const list = check({ email: '@owners', on: ['quota'] });
    assert.ok(list.ok);
    assert.deepEqual(list.plan.notify, { on: ['quota'], email: { recipients: [], list: 'owners' } });
    const none = check(undefined);
    assert.ok(none.ok && none.plan.notify === undefined);
  });

  it('should name every wrong notify field', () => {
    assert.deepEqual(errorsOf('slack:#x'), ['notify: must be an object like {"slack": "#results", "email": "team@example.com", "webhook": "results", "on": ["completed", "quota"]}']);
    assert.deepEqual(errorsOf({}), ['notify: name at least one of slack, email, webhook']);
    const errors = errorsOf({ slack: 'results channel', email: 'not-an-address', webhook: 'results hook', on: ['done'], colour: 'red' });
    assert.deepEqual(errors.map((e) => e.split(':')[0]), ['notify.colour', 'notify.slack', 'notify.email', 'notify.webhook', 'notify.on']);
    assert.match(errors[2]!, /not valid email addresses: "not-an-address"/);
    assert.match(errors[3]!, /must be a receiver name from PREFLINE_WEBHOOKS/);
    assert.match(errorsOf({ webhook: 'results', on: [] })[0]!, /notify\.on: must be a non-empty list/);
  });

  it('should refuse a webhook URL (its tokens would sit in history), pointing to PREFLINE_WEBHOOKS', () => {
    for (const url of ['https://hooks.example.com/p?token=s3cret', 'http://10.0.0.1/x', 'ftp://hooks.example.com/x', 'hooks.example.com/p']) {
      const [error] = errorsOf({ webhook: url });
      assert.match(error!, /^notify\.webhook: takes the name of a receiver in PREFLINE_WEBHOOKS on the workers .*, not a URL/, url);
      assert.doesNotMatch(error!, /s3cret/, 'the refusal does not repeat the URL');
    }
    assert.match(errorsOf({ webhook: 'x'.repeat(64) })[0]!, /at most 63 characters/);
  });
});

describe('workflows/campaign-notify: quota, ends and notices', () => {
  it('should reach the quota only when every item ended with its answers in full', () => {
    const campaign = running();
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 2, votesAccepted: 2 });
    assert.equal(quotaReached(campaign), false);
    campaign.report({ lifecycleId: 'camp-item-1', kind: 'closed', closeReason: 'quorum', progress: 2, votesAccepted: 2 });
    assert.equal(quotaReached(campaign), true);
    assert.equal(endOutcome(campaign, NOW + 1000), 'finished');
    // The carry keeps what counts toward the quota.
    campaign.outcomesCommitted(campaign.outcomes.length, NOW);
    assert.equal(quotaReached(RatingCampaign.resume('camp', campaign.toCarry())), true);
  });

  it('should not reach the quota when an item ended short, and name a deadline or a cancel', () => {
    const short = running();
    short.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 2, votesAccepted: 2 });
    short.report({ lifecycleId: 'camp-item-1', kind: 'closed', closeReason: 'deadline', progress: 1, votesAccepted: 1 });
    assert.deepEqual(short.counts.ended, { quorum: 1, insufficient: 1 });
    assert.equal(quotaReached(short), false);
    assert.equal(endOutcome(short, short.deadlineAtMs + 1), 'deadline');
    const cancelled = running();
    cancelled.cancelReason = 'wrong question';
    assert.equal(endOutcome(cancelled, NOW), 'cancelled');
    const failed = running();
    failed.report({ lifecycleId: 'camp-item-0', kind: 'failed', message: 'boom' });
    failed.report({ lifecycleId: 'camp-item-1', kind: 'closed', closeReason: 'quorum', progress: 2, votesAccepted: 2 });
    assert.equal(quotaReached(failed), false, 'a failed item is not answered');
  });

  it('should send each wanted event once: what was sent is carried across continue-as-new', () => {
    const campaign = running({ slack: '#results', webhook: 'results', on: ['completed'] });
    assert.deepEqual([notifyDue(campaign, 'completed'), notifyDue(campaign, 'quota')], [true, false]);
    campaign.notified.push('completed');
    const resumed = RatingCampaign.resume('camp', campaign.toCarry());
    assert.equal(notifyDue(resumed, 'completed'), false);
    assert.deepEqual(noticeTargets(campaign.plan.notify!), [{ kind: 'slack', channel: '#results' }, { kind: 'webhook', name: 'results' }]);
  });

  it('should build a notice with a stable event id, the counts and the results command, and say it in words', () => {
    const campaign = running();
    campaign.report({ lifecycleId: 'camp-item-0', kind: 'closed', closeReason: 'quorum', progress: 2, votesAccepted: 2 });
    campaign.report({ lifecycleId: 'camp-item-1', kind: 'closed', closeReason: 'deadline', progress: 1, votesAccepted: 1 });
    const notice = buildNotice(campaign, 'completed', 'run-1', campaign.deadlineAtMs + 5);
    assert.equal(notice.eventId, 'camp/run-1/completed');
    assert.equal(noticeEventId('camp', 'run-1', 'quota'), 'camp/run-1/quota');
    assert.deepEqual([notice.outcome, notice.counts.done, notice.counts.answers, notice.resultsCommand], ['deadline', 2, 3, 'prefline campaign results camp']);
    assert.equal(noticeTitle(notice), 'Campaign camp reached its deadline before every item ended');
    assert.deepEqual(noticeLines(notice).slice(0, 3), ['Items: 2 done, 0 failed of 2', 'Why they ended: quorum 1, insufficient 1', 'Answers: 3 (compare, 2 per item)']);
    const quota = buildNotice(campaign, 'quota', 'run-1', NOW);
    assert.equal(quota.outcome, undefined);
    assert.equal(noticeTitle(quota), 'Campaign camp reached its quota: every item has its 2 answers');
  });
});
