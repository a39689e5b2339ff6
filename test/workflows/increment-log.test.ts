import assert from 'node:assert/strict';
import { digest64 } from '../../workflows/compact';
import { IncrementLog, type LoggedEvent } from '../../workflows/increment-log';

interface Event extends LoggedEvent {
  value: string;
}

const event = (seq: number, rater = 'r_1', value = 'up'): Event => ({ idempotencyKey: `k${seq}`, rater, seq, value });

describe('workflows/increment-log', () => {
  it('should count accepted events, know their keys, and hand them out in acceptance order', () => {
    const log = new IncrementLog<Event>();
    log.add(event(1));
    log.add(event(2, 'r_2'));
    assert.equal(log.accepted, 2);
    assert.equal(log.committed, 0);
    assert.ok(log.isDuplicate('k1'));
    assert.ok(!log.isDuplicate('k3'));
    assert.deepEqual(log.events().map((e) => e.seq), [1, 2]);
    assert.equal(log.uncommittedEvent('k2')?.rater, 'r_2');
    assert.deepEqual(log.ratersSorted(), ['r_1', 'r_2']);
  });

  it('should flag events with the caller\'s standing rule, then forget them once committed but keep their keys', () => {
    const log = new IncrementLog<Event>();
    for (const seq of [1, 2, 3]) log.add(event(seq));
    const flagged = log.flag(2, (e) => e.seq === 2);
    assert.deepEqual(flagged.map((e) => [e.seq, e.standing]), [[1, false], [2, true]]);
    assert.equal(log.flaggedThrough, 2);
    log.markCommitted(2, 0);
    assert.equal(log.committed, 2);
    assert.equal(log.accepted, 3);
    assert.equal(log.uncommittedEvent('k1'), undefined);
    assert.ok(log.isDuplicate('k1'), 'a committed key still counts as seen');
    // Only committed keys are carried as digests: the uncommitted event travels whole.
    assert.deepEqual(log.committedKeyDigests().sort(), [digest64('k1'), digest64('k2')].sort());
  });

  it('should ask the next commit to clear a superseded event only if it went to the ledger counted', () => {
    const log = new IncrementLog<Event>();
    for (const seq of [1, 2, 3]) log.add(event(seq));
    log.flag(2, () => true);
    log.superseded(1, true); // flagged standing: must be cleared
    log.superseded(2, false); // a withdrawal, never counted
    log.superseded(3, true); // not flagged yet: it goes out with its final flag
    assert.deepEqual(log.peekUnstood(), [1]);
    log.markCommitted(2, 1);
    assert.deepEqual(log.peekUnstood(), []);
  });

  it('should restore what a run carried', () => {
    const log = new IncrementLog<Event>();
    log.restore({ committed: 5, flaggedThrough: 6, keyDigests: [digest64('old')], unstood: [4], raters: ['r_9'] });
    assert.equal(log.accepted, 5);
    assert.equal(log.flaggedThrough, 6);
    assert.ok(log.isDuplicate('old'));
    assert.deepEqual(log.unstoodSeqs(), [4]);
    assert.deepEqual(log.ratersSorted(), ['r_9']);
  });
});
