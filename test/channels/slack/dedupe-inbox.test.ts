import assert from 'node:assert/strict';
import { DeliveryInbox } from '../../../channels/slack/dedupe-inbox';

describe('channels/slack/dedupe-inbox', () => {
  let now: number;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('should claim a delivery once while it is in flight, and after it is done within the TTL', () => {
    const inbox = new DeliveryInbox(15 * 60_000, () => now);
    assert.equal(inbox.claim('event:Ev1'), true);
    assert.equal(inbox.claim('event:Ev1'), false, 'a retry arriving while the first is handled');
    inbox.finish('event:Ev1', true);
    now += 5 * 60_000;
    assert.equal(inbox.claim('event:Ev1'), false, 'Slack retrying minutes later');
    assert.equal(inbox.claim('event:Ev2'), true, 'another delivery');
  });

  it('should forget a done delivery after the TTL', () => {
    const inbox = new DeliveryInbox(1000, () => now);
    inbox.claim('k');
    inbox.finish('k', true);
    now += 1000;
    assert.equal(inbox.claim('k'), true);
  });

  it('should forget a failed delivery at once, so the redelivery is tried afresh', () => {
    const inbox = new DeliveryInbox(60_000, () => now);
    inbox.claim('k');
    inbox.finish('k', false);
    assert.equal(inbox.claim('k'), true);
  });

  it('should remember at most a bounded number of done deliveries, dropping the oldest', () => {
    const inbox = new DeliveryInbox(60_000, () => now, 3);
    for (const key of ['a', 'b', 'c', 'd']) {
      inbox.claim(key);
      inbox.finish(key, true);
    }
    assert.equal(inbox.claim('x'), true); // prunes down to the limit
    assert.equal(inbox.claim('a'), true, 'the oldest is forgotten');
    assert.equal(inbox.claim('d'), false, 'the newest is kept');
  });
});
