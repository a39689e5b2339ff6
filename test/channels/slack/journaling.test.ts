import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliveryJournal } from '../../../channels/slack/delivery-journal';
import { InboundJournal, journalBody, readJournalEntry, type AcceptedDelivery } from '../../../channels/slack/journaling';
import type { BlockActionsPayload, ReactionEnvelope } from '../../../channels/slack/payloads';

const envelope: ReactionEnvelope = { event_id: 'Ev1', event: { type: 'reaction_added', user: 'U0ALICE01', reaction: '+1', item: { type: 'message', channel: 'C0FEEDBK01', ts: '1.2' } } };
const payload: BlockActionsPayload = {
  type: 'block_actions',
  user: { id: 'U0BOB0001', team_id: 'T0TEAM001' },
  actions: [{ action_id: 'prefline_other', action_ts: '1.1' }, { action_id: 'prefline_vote_up', action_ts: '1.3', value: '{}' }],
};

describe('channels/slack/journaling', () => {
  it('should write a reaction as its envelope and a click as {payload, index}, and read both back', () => {
    const event: AcceptedDelivery = { kind: 'event', envelope };
    const action: AcceptedDelivery = { kind: 'action', payload, index: 1, action: payload.actions![1]!, user: 'U0BOB0001', team: 'T0TEAM001' };
    assert.equal(journalBody(event), envelope);
    assert.deepEqual(journalBody(action), { payload, index: 1 });
    assert.deepEqual(readJournalEntry({ key: 'event:Ev1', kind: 'event', body: journalBody(event), acceptedAt: 1 }), event);
    assert.deepEqual(readJournalEntry({ key: 'slack:T0TEAM001:1.3:U0BOB0001', kind: 'action', body: journalBody(action), acceptedAt: 1 }), action);
  });

  it('should read the team as a click\'s handling does: the payload\'s team, else the user\'s', () => {
    const withTeam = readJournalEntry({ key: 'k', kind: 'action', body: { payload: { ...payload, team: { id: 'T0OTHER01' } }, index: 0 }, acceptedAt: 1 });
    assert.equal(withTeam?.kind === 'action' && withTeam.team, 'T0OTHER01');
  });

  it('should not read entries it cannot make sense of', () => {
    const unreadable = [
      { kind: 'action', body: { payload, index: 5 } },
      { kind: 'action', body: { index: 0 } },
      { kind: 'action', body: null },
      { kind: 'action', body: { payload: { ...payload, user: {} }, index: 0 } },
      { kind: 'something-new', body: { payload, index: 0 } },
    ];
    for (const e of unreadable) assert.equal(readJournalEntry({ key: 'k', acceptedAt: 1, ...e }), undefined, JSON.stringify(e));
  });

  describe('InboundJournal', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'prefline-inbound-journal-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('should append before acknowledgement and mark done, so only what is pending is recovered', async () => {
      const { journal } = await DeliveryJournal.open(dir);
      const inbound = new InboundJournal(journal, () => 42, () => undefined);
      assert.equal(inbound.keeps, true);
      assert.equal(await inbound.append('event:Ev1', { kind: 'event', envelope }), true);
      assert.equal(await inbound.append('event:Ev2', { kind: 'event', envelope: { ...envelope, event_id: 'Ev2' } }), true);
      inbound.done('event:Ev1');
      await journal.close();
      const reopened = await DeliveryJournal.open(dir);
      assert.deepEqual(reopened.recovered.map((e) => [e.key, e.kind, e.acceptedAt]), [['event:Ev2', 'event', 42]]);
      await reopened.journal.close();
    });

    it('should report a journal that cannot be written, loudly', async () => {
      const { journal } = await DeliveryJournal.open(dir);
      await journal.close(); // refuses appends, as a full disk would
      const logs: string[] = [];
      const inbound = new InboundJournal(journal, Date.now, (level, msg) => logs.push(`${level}: ${msg}`));
      assert.equal(await inbound.append('event:Ev1', { kind: 'event', envelope }), false);
      assert.deepEqual(logs, ['error: Slack delivery refused: the delivery journal cannot be written; Slack will deliver it again']);
    });

    it('should accept everything and keep nothing without a journal', async () => {
      const inbound = new InboundJournal(undefined, Date.now, () => undefined);
      assert.equal(inbound.keeps, false);
      assert.equal(await inbound.append('event:Ev1', { kind: 'event', envelope }), true);
      inbound.done('event:Ev1');
    });
  });
});
