import assert from 'node:assert/strict';
import { MAX_COMMENT_LENGTH, MAX_KEY_LENGTH, VoteTally, malformedVoteReason } from '../../workflows/vote-tally';
import type { CandidateTally, VoteRequest, VoteValue } from '../../workflows/types';

const CANDIDATES = [
  { id: 'c1', label: 'A' },
  { id: 'c2', label: 'B' },
  { id: 'c3', label: 'C' },
];

const T0 = Date.parse('2026-03-01T12:00:00Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const rater = (n: number): string => `r_${n.toString(16).padStart(16, '0')}`;

let keyCounter = 0;
function req(candidateId: string, value: VoteValue, raterNo: number, castAtSeconds: number, extra: Partial<VoteRequest> = {}): VoteRequest {
  keyCounter += 1;
  return { idempotencyKey: `k${keyCounter}`, candidateId, value, rater: rater(raterNo), channel: 'web', castAt: at(castAtSeconds), ...extra };
}

function tally(t: VoteTally, id: string): Pick<CandidateTally, 'up' | 'down' | 'score' | 'votes'> {
  const { up, down, score, votes } = t.tallyOf(id);
  return { up, down, score, votes };
}

describe('workflows/vote-tally', () => {
  describe('VoteTally.record outcomes', () => {
    let t: VoteTally;
    beforeEach(() => {
      t = new VoteTally(CANDIDATES);
    });

    it('should answer recorded for a first vote and count it', () => {
      const r = t.record(req('c1', 'up', 1, 0), at(1));
      assert.equal(r.outcome, 'recorded');
      assert.ok(r.event);
      assert.equal(r.event.seq, 1);
      assert.equal(r.event.acceptedAt, at(1));
      assert.equal(r.event.candidateId, 'c1');
      assert.deepEqual(tally(t, 'c1'), { up: 1, down: 0, score: 1, votes: 1 });
      assert.equal(t.accepted, 1);
    });

    it('should answer changed when the rater flips a vote, and move the count', () => {
      t.record(req('c1', 'up', 1, 0), at(0));
      const r = t.record(req('c1', 'down', 1, 5), at(5));
      assert.equal(r.outcome, 'changed');
      assert.deepEqual(tally(t, 'c1'), { up: 0, down: 1, score: -1, votes: 1 });
    });

    it('should answer unchanged when the rater repeats the same value with a new key', () => {
      t.record(req('c1', 'up', 1, 0), at(0));
      const r = t.record(req('c1', 'up', 1, 5), at(5));
      assert.equal(r.outcome, 'unchanged');
      assert.ok(r.event, 'an unchanged vote is still an accepted event');
      assert.equal(t.accepted, 2);
      assert.deepEqual(tally(t, 'c1'), { up: 1, down: 0, score: 1, votes: 1 });
    });

    it('should answer retracted and remove the vote', () => {
      t.record(req('c1', 'down', 1, 0), at(0));
      const r = t.record(req('c1', 'retract', 1, 5), at(5));
      assert.equal(r.outcome, 'retracted');
      assert.deepEqual(tally(t, 'c1'), { up: 0, down: 0, score: 0, votes: 0 });
    });

    it('should answer unchanged for a retraction without a prior vote, and still keep it as an event', () => {
      const r = t.record(req('c1', 'retract', 1, 0), at(0));
      assert.equal(r.outcome, 'unchanged');
      assert.ok(r.event);
      assert.equal(t.accepted, 1);
      assert.deepEqual(tally(t, 'c1'), { up: 0, down: 0, score: 0, votes: 0 });
    });

    it('should answer unchanged for a second retraction', () => {
      t.record(req('c1', 'up', 1, 0), at(0));
      assert.equal(t.record(req('c1', 'retract', 1, 1), at(1)).outcome, 'retracted');
      assert.equal(t.record(req('c1', 'retract', 1, 2), at(2)).outcome, 'unchanged');
    });

    it('should answer recorded for a vote after a retraction', () => {
      t.record(req('c1', 'up', 1, 0), at(0));
      t.record(req('c1', 'retract', 1, 1), at(1));
      assert.equal(t.record(req('c1', 'down', 1, 2), at(2)).outcome, 'recorded');
      assert.deepEqual(tally(t, 'c1'), { up: 0, down: 1, score: -1, votes: 1 });
    });

    it('should answer duplicate for a repeated idempotency key, without an event or a count', () => {
      const first = req('c1', 'up', 1, 0);
      t.record(first, at(0));
      const again = t.record(first, at(1));
      assert.equal(again.outcome, 'duplicate');
      assert.equal(again.event, undefined);
      assert.equal(t.accepted, 1);
      assert.deepEqual(tally(t, 'c1'), { up: 1, down: 0, score: 1, votes: 1 });
    });

    it('should treat a reused key as duplicate even if the rest of the request differs', () => {
      t.record(req('c1', 'up', 1, 0, { idempotencyKey: 'same' }), at(0));
      const r = t.record(req('c2', 'down', 2, 5, { idempotencyKey: 'same' }), at(5));
      assert.equal(r.outcome, 'duplicate');
      assert.deepEqual(tally(t, 'c2'), { up: 0, down: 0, score: 0, votes: 0 });
      assert.equal(t.isDuplicate('same'), true);
      assert.equal(t.isDuplicate('other'), false);
    });

    it('should number events by acceptance order from 1 and keep every one', () => {
      const a = t.record(req('c1', 'up', 1, 10), at(10));
      const b = t.record(req('c1', 'up', 1, 5), at(11)); // older, arrives late
      const c = t.record(req('c2', 'retract', 2, 12), at(12));
      assert.deepEqual([a.event?.seq, b.event?.seq, c.event?.seq], [1, 2, 3]);
      assert.deepEqual(t.uncommittedEvents().map((e) => e.seq), [1, 2, 3]);
      assert.equal(t.accepted, 3);
    });
  });

  describe('ordering by castAt', () => {
    let t: VoteTally;
    beforeEach(() => {
      t = new VoteTally(CANDIDATES);
    });

    it('should let the latest castAt win even when it arrived first', () => {
      t.record(req('c1', 'down', 1, 10), at(10));
      const late = t.record(req('c1', 'up', 1, 5), at(11));
      assert.equal(late.outcome, 'unchanged');
      assert.deepEqual(tally(t, 'c1'), { up: 0, down: 1, score: -1, votes: 1 });
      assert.equal(t.isStanding(late.event?.idempotencyKey as string), false);
    });

    it('should break a castAt tie by acceptance order (the later seq wins)', () => {
      t.record(req('c1', 'down', 1, 10), at(10));
      const r = t.record(req('c1', 'up', 1, 10), at(11));
      assert.equal(r.outcome, 'changed');
      assert.deepEqual(tally(t, 'c1'), { up: 1, down: 0, score: 1, votes: 1 });
    });

    it('should compare castAt as instants, not as strings', () => {
      // 12:00:10+02:00 is 10:00:10Z, earlier than 11:00:00Z although it sorts later as text.
      t.record(req('c1', 'up', 1, 0, { castAt: '2026-03-01T11:00:00Z' }), at(0));
      const r = t.record(req('c1', 'down', 1, 0, { castAt: '2026-03-01T12:00:10+02:00' }), at(1));
      assert.equal(r.outcome, 'unchanged');
      assert.deepEqual(tally(t, 'c1'), { up: 1, down: 0, score: 1, votes: 1 });
    });

    it('should let a retraction that overtook its vote in transit win', () => {
      const retraction = t.record(req('c1', 'retract', 1, 20), at(21));
      assert.equal(retraction.outcome, 'unchanged', 'nothing to retract yet');
      const vote = t.record(req('c1', 'up', 1, 10), at(22));
      assert.equal(vote.outcome, 'unchanged', 'the older vote is kept as a row but changes nothing');
      assert.deepEqual(tally(t, 'c1'), { up: 0, down: 0, score: 0, votes: 0 });
      assert.equal(t.isStanding(vote.event?.idempotencyKey as string), false);
      assert.equal(t.accepted, 2);
    });

    it('should let a newer vote win over an older retraction', () => {
      t.record(req('c1', 'retract', 1, 5), at(5));
      const r = t.record(req('c1', 'up', 1, 6), at(6));
      assert.equal(r.outcome, 'recorded');
      assert.deepEqual(tally(t, 'c1'), { up: 1, down: 0, score: 1, votes: 1 });
    });

    it('should answer unchanged for a late retraction older than the standing vote', () => {
      t.record(req('c1', 'up', 1, 10), at(10));
      const r = t.record(req('c1', 'retract', 1, 5), at(11));
      assert.equal(r.outcome, 'unchanged');
      assert.deepEqual(tally(t, 'c1'), { up: 1, down: 0, score: 1, votes: 1 });
    });
  });

  describe('tallies', () => {
    it('should count per candidate and per rater independently', () => {
      const t = new VoteTally(CANDIDATES);
      t.record(req('c1', 'up', 1, 0), at(0));
      t.record(req('c1', 'up', 2, 0), at(0));
      t.record(req('c1', 'down', 3, 0), at(0));
      t.record(req('c2', 'down', 1, 0), at(0));
      t.record(req('c2', 'down', 2, 0), at(0));
      t.record(req('c2', 'retract', 2, 1), at(1));
      assert.deepEqual(t.tallies(), [
        { candidateId: 'c1', label: 'A', up: 2, down: 1, score: 1, votes: 3 },
        { candidateId: 'c2', label: 'B', up: 0, down: 1, score: -1, votes: 1 },
        { candidateId: 'c3', label: 'C', up: 0, down: 0, score: 0, votes: 0 },
      ]);
    });

    it('should list tallies in candidate order with their labels', () => {
      const t = new VoteTally([{ id: 'c2', label: 'B' }, { id: 'c1', label: 'A' }]);
      assert.deepEqual(t.tallies().map((x) => [x.candidateId, x.label]), [['c2', 'B'], ['c1', 'A']]);
    });

    it('should report an unknown candidate by its id with zero counts', () => {
      const t = new VoteTally(CANDIDATES);
      assert.deepEqual(t.tallyOf('c9'), { candidateId: 'c9', label: 'c9', up: 0, down: 0, score: 0, votes: 0 });
      assert.equal(t.hasCandidate('c9'), false);
      assert.equal(t.hasCandidate('c2'), true);
    });
  });

  describe('isStanding', () => {
    it('should be true only for the counted event of a rater on a candidate', () => {
      const t = new VoteTally(CANDIDATES);
      const first = t.record(req('c1', 'up', 1, 0), at(0)).event!;
      assert.equal(t.isStanding(first.idempotencyKey), true);
      const second = t.record(req('c1', 'down', 1, 1), at(1)).event!;
      assert.equal(t.isStanding(first.idempotencyKey), false);
      assert.equal(t.isStanding(second.idempotencyKey), true);
      const retraction = t.record(req('c1', 'retract', 1, 2), at(2)).event!;
      assert.equal(t.isStanding(second.idempotencyKey), false);
      assert.equal(t.isStanding(retraction.idempotencyKey), false, 'a retraction is never a standing vote');
    });

    it('should be false for unknown keys', () => {
      assert.equal(new VoteTally(CANDIDATES).isStanding('nope'), false);
    });

    it('should agree with the tallies: standing events are exactly the counted votes', () => {
      const t = new VoteTally(CANDIDATES);
      const script: Array<[string, VoteValue, number, number]> = [
        ['c1', 'up', 1, 3], ['c1', 'down', 1, 1], ['c1', 'retract', 2, 5], ['c1', 'up', 2, 4],
        ['c2', 'down', 1, 0], ['c2', 'up', 3, 2], ['c2', 'up', 3, 2], ['c3', 'retract', 4, 1],
      ];
      for (const [c, v, r, s] of script) t.record(req(c, v, r, s), at(10));
      const standing = t.uncommittedEvents().filter((e) => t.isStanding(e.idempotencyKey));
      const total = t.tallies().reduce((n, x) => n + x.votes, 0);
      assert.equal(standing.length, total);
      for (const c of CANDIDATES) {
        const mine = standing.filter((e) => e.candidateId === c.id);
        assert.equal(mine.filter((e) => e.value === 'up').length, t.tallyOf(c.id).up);
        assert.equal(mine.filter((e) => e.value === 'down').length, t.tallyOf(c.id).down);
      }
      assert.deepEqual(tally(t, 'c1'), { up: 1, down: 0, score: 1, votes: 1 });
      assert.deepEqual(tally(t, 'c2'), { up: 1, down: 1, score: 0, votes: 2 });
    });
  });

  describe('quorumReached', () => {
    it('should need every candidate to reach the per-candidate count', () => {
      const t = new VoteTally(CANDIDATES.slice(0, 2));
      const q = { kind: 'perCandidate', votes: 2 } as const;
      t.record(req('c1', 'up', 1, 0), at(0));
      t.record(req('c1', 'down', 2, 0), at(0));
      t.record(req('c1', 'up', 3, 0), at(0));
      assert.equal(t.quorumReached(q), false, 'c2 has no votes yet');
      t.record(req('c2', 'up', 1, 0), at(0));
      assert.equal(t.quorumReached(q), false);
      t.record(req('c2', 'down', 2, 0), at(0));
      assert.equal(t.quorumReached(q), true);
    });

    it('should not count repeated votes of one rater twice toward quorum', () => {
      const t = new VoteTally(CANDIDATES.slice(0, 1));
      t.record(req('c1', 'up', 1, 0), at(0));
      t.record(req('c1', 'down', 1, 1), at(1));
      t.record(req('c1', 'up', 1, 2), at(2));
      assert.equal(t.accepted, 3);
      assert.equal(t.quorumReached({ kind: 'perCandidate', votes: 2 }), false);
      assert.equal(t.quorumReached({ kind: 'total', votes: 2 }), false);
      assert.equal(t.quorumReached({ kind: 'total', votes: 1 }), true);
    });

    it('should count only standing votes for a total quorum', () => {
      const t = new VoteTally(CANDIDATES);
      t.record(req('c1', 'up', 1, 0), at(0));
      t.record(req('c2', 'down', 1, 0), at(0));
      t.record(req('c3', 'retract', 2, 0), at(0));
      assert.equal(t.quorumReached({ kind: 'total', votes: 3 }), false, 'a retraction is not a vote');
      t.record(req('c3', 'up', 2, 1), at(1));
      assert.equal(t.quorumReached({ kind: 'total', votes: 3 }), true);
    });

    it('should go back below quorum when votes are retracted', () => {
      const t = new VoteTally(CANDIDATES.slice(0, 1));
      t.record(req('c1', 'up', 1, 0), at(0));
      t.record(req('c1', 'up', 2, 0), at(0));
      assert.equal(t.quorumReached({ kind: 'perCandidate', votes: 2 }), true);
      assert.equal(t.quorumReached({ kind: 'total', votes: 2 }), true);
      t.record(req('c1', 'retract', 2, 1), at(1));
      assert.equal(t.quorumReached({ kind: 'perCandidate', votes: 2 }), false);
      assert.equal(t.quorumReached({ kind: 'total', votes: 2 }), false);
    });

    it('should never reach a per-candidate quorum without candidates', () => {
      const t = new VoteTally([]);
      assert.equal(t.quorumReached({ kind: 'perCandidate', votes: 1 }), false);
    });

    it('should not count votes on unknown candidates toward a total quorum', () => {
      // The workflow refuses them first; the tally must still not let them tip quorum.
      const t = new VoteTally(CANDIDATES.slice(0, 1));
      t.record(req('c9', 'up', 1, 0), at(0));
      assert.equal(t.quorumReached({ kind: 'total', votes: 1 }), false);
    });
  });

  describe('rebuilding from events (continue-as-new)', () => {
    function busyTally(): VoteTally {
      const t = new VoteTally(CANDIDATES);
      const script: Array<[string, VoteValue, number, number]> = [
        ['c1', 'up', 1, 10], ['c1', 'down', 1, 5], ['c1', 'up', 2, 1], ['c1', 'retract', 2, 2],
        ['c2', 'retract', 3, 9], ['c2', 'down', 3, 8], ['c2', 'up', 4, 3], ['c3', 'down', 1, 4],
        ['c3', 'down', 1, 4], ['c3', 'up', 5, 6],
      ];
      script.forEach(([c, v, r, s], i) => t.record(req(c, v, r, s), at(100 + i)));
      return t;
    }

    it('should give the same tallies, events and standing votes', () => {
      const original = busyTally();
      const rebuilt = new VoteTally(CANDIDATES, original.uncommittedEvents());
      assert.deepEqual(rebuilt.tallies(), original.tallies());
      assert.deepEqual(rebuilt.uncommittedEvents(), original.uncommittedEvents());
      assert.equal(rebuilt.accepted, original.accepted);
      for (const e of original.uncommittedEvents()) assert.equal(rebuilt.isStanding(e.idempotencyKey), original.isStanding(e.idempotencyKey), e.idempotencyKey);
      for (const q of [{ kind: 'total', votes: 4 }, { kind: 'total', votes: 5 }, { kind: 'perCandidate', votes: 1 }] as const) {
        assert.equal(rebuilt.quorumReached(q), original.quorumReached(q));
      }
    });

    it('should survive a JSON round trip of the events (what continue-as-new carries)', () => {
      const original = busyTally();
      const carried = JSON.parse(JSON.stringify(original.uncommittedEvents()));
      const rebuilt = new VoteTally(CANDIDATES, carried);
      assert.deepEqual(rebuilt.tallies(), original.tallies());
    });

    it('should still detect duplicates of keys seen before the rebuild', () => {
      const original = busyTally();
      const rebuilt = new VoteTally(CANDIDATES, original.uncommittedEvents());
      const seen = original.uncommittedEvents()[0]!;
      assert.equal(rebuilt.isDuplicate(seen.idempotencyKey), true);
      const r = rebuilt.record({ ...seen, value: 'down' }, at(500));
      assert.equal(r.outcome, 'duplicate');
      assert.deepEqual(rebuilt.tallies(), original.tallies());
    });

    it('should continue numbering and ordering after the rebuild', () => {
      const original = busyTally();
      const rebuilt = new VoteTally(CANDIDATES, original.uncommittedEvents());
      const r = rebuilt.record(req('c1', 'down', 2, 0), at(500)); // older than rater 2's retraction at 2s
      assert.equal(r.event?.seq, original.accepted + 1);
      assert.equal(r.outcome, 'unchanged');
      const r2 = rebuilt.record(req('c1', 'down', 2, 50), at(501));
      assert.equal(r2.outcome, 'recorded');
      assert.equal(r2.event?.seq, original.accepted + 2);
    });

    it('should reach the same result whatever order the events are replayed in', () => {
      const original = busyTally();
      const reversed = [...original.uncommittedEvents()].reverse();
      const rebuilt = new VoteTally(CANDIDATES, reversed);
      assert.deepEqual(rebuilt.tallies(), original.tallies());
    });
  });

  describe('malformedVoteReason', () => {
    const good: VoteRequest = {
      idempotencyKey: 'web:abc',
      candidateId: 'c1',
      value: 'up',
      rater: 'r_0123abcd',
      channel: 'web',
      castAt: '2026-03-01T12:00:00Z',
    };
    const reasonFor = (patch: Record<string, unknown>): string | undefined => malformedVoteReason({ ...good, ...patch });

    it('should accept a well-formed vote, with and without a comment, for every value', () => {
      assert.equal(malformedVoteReason(good), undefined);
      assert.equal(reasonFor({ comment: 'nice' }), undefined);
      assert.equal(reasonFor({ comment: '' }), undefined);
      assert.equal(reasonFor({ comment: 'x'.repeat(MAX_COMMENT_LENGTH) }), undefined);
      for (const value of ['up', 'down', 'retract']) assert.equal(reasonFor({ value }), undefined);
      assert.equal(reasonFor({ idempotencyKey: 'k'.repeat(MAX_KEY_LENGTH) }), undefined);
      assert.equal(reasonFor({ rater: `slack_${'f'.repeat(64)}` }), undefined);
    });

    it('should refuse non-objects', () => {
      for (const v of [null, undefined, 'vote', 42]) assert.equal(malformedVoteReason(v), 'vote must be an object');
    });

    it('should refuse a missing, empty, too long or non-string idempotencyKey', () => {
      for (const idempotencyKey of [undefined, '', 'k'.repeat(MAX_KEY_LENGTH + 1), 7]) {
        assert.match(reasonFor({ idempotencyKey }) ?? '', /^idempotencyKey: required, 1–200 characters$/, String(idempotencyKey));
      }
    });

    it('should refuse a missing or empty candidateId', () => {
      for (const candidateId of [undefined, '', 1]) assert.equal(reasonFor({ candidateId }), 'candidateId: required');
    });

    it('should refuse any other value', () => {
      for (const value of [undefined, 'UP', 'like', 1, '']) assert.equal(reasonFor({ value }), 'value: must be "up", "down" or "retract"');
    });

    it('should refuse raw identities as raters', () => {
      for (const r of [undefined, 'alice@example.com', 'alice', 'r_0123abc', 'R_0123abcd', 'r_0123abcg', `r_${'a'.repeat(65)}`, '_0123abcd', 'r0123abcd']) {
        assert.equal(reasonFor({ rater: r }), 'rater: must be a pseudonym (keyed hash), not a raw identity', String(r));
      }
    });

    it('should refuse a comment too long or not text', () => {
      for (const comment of ['x'.repeat(MAX_COMMENT_LENGTH + 1), 5, null, { text: 'hi' }]) {
        assert.equal(reasonFor({ comment }), `comment: must be text of at most ${MAX_COMMENT_LENGTH} characters`, JSON.stringify(comment));
      }
    });

    it('should refuse a missing or odd channel', () => {
      for (const channel of [undefined, '', 'w', 'Web', 'web1', 'x'.repeat(17), 3]) {
        assert.equal(reasonFor({ channel }), 'channel: required, e.g. "web"', String(channel));
      }
    });

    it('should refuse a missing or unparsable castAt', () => {
      for (const castAt of [undefined, '', 'yesterday', 1_700_000_000_000]) {
        assert.equal(reasonFor({ castAt }), 'castAt: must be an ISO-8601 time', String(castAt));
      }
    });

    it('should take castAt only as an RFC 3339 date-time with seconds and a zone, which DuckDB stores as the same instant', () => {
      for (const castAt of ['2026-03-01T12:00:00Z', '2026-03-01T12:00:00.5Z', '2026-03-01T12:00:00.123456789Z', '2026-03-01T12:00:00+02:00',
        '2026-03-01T12:00:00-23:59', '2028-02-29T00:00:00Z', '2000-01-01T00:00:00Z', '2199-12-31T23:59:59.999Z']) {
        assert.equal(reasonFor({ castAt }), undefined, castAt);
      }
      // Each one Date.parse takes: DuckDB refuses it, or reads it in its own time zone.
      for (const castAt of ['March 1, 2026', 'Sun, 01 Mar 2026 12:00:00 GMT', '2026-03-01', '2026-03-01T12:00:00', '2026-03-01T12:00Z',
        '2026-03-01 12:00:00Z', '2026-03-01t12:00:00z', '2026-03-01T12:00:00+0200', '2026-02-30T12:00:00Z', '2026-03-01T24:00:00Z',
        '2026-03-01T12:00:00.1234567890Z', '+002026-03-01T12:00:00Z', '1999-12-31T23:59:59Z', '2200-01-01T00:00:00Z', '2199-12-31T23:00:00-01:00']) {
        assert.ok(!Number.isNaN(Date.parse(castAt)), `${castAt} is one Date.parse takes`);
        assert.equal(reasonFor({ castAt }), 'castAt: must be an ISO-8601 time with seconds and a zone, like 2026-03-01T12:00:00Z, in 2000–2199', castAt);
      }
    });

    it('should take any castAt Date.parse takes under the rules of histories from before the ISO rule', () => {
      assert.equal(malformedVoteReason({ ...good, castAt: 'March 1, 2026' }, { isoCastAt: false }), undefined);
      assert.equal(malformedVoteReason({ ...good, castAt: 'yesterday' }, { isoCastAt: false }), 'castAt: must be an ISO-8601 time');
      assert.match(malformedVoteReason({ ...good, castAt: 'March 1, 2026' }, { isoCastAt: true }) ?? '', /^castAt: must be an ISO-8601 time with seconds and a zone/);
    });

    it('should report the first problem in field order', () => {
      assert.match(malformedVoteReason({}) ?? '', /^idempotencyKey:/);
      assert.match(reasonFor({ value: 'x', rater: 'bob' }) ?? '', /^value:/);
    });
  });
});
