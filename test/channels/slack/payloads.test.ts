import assert from 'node:assert/strict';
import { foreignTeamOfAction, foreignTeamOfReaction, type BlockActionsPayload, type ReactionEnvelope } from '../../../channels/slack/payloads';

const OURS = new Set(['T0OURS001']);
const reaction = (extra: Partial<ReactionEnvelope> = {}, event: Partial<ReactionEnvelope['event']> = {}): ReactionEnvelope => ({
  event_id: 'Ev1', team_id: 'T0OURS001', ...extra,
  event: { type: 'reaction_added', user: 'U0ALICE01', reaction: '+1', item: { type: 'message', channel: 'C0FEEDBK01', ts: '1.000001' }, ...event },
});

describe('channels/slack/payloads: which team a vote comes from', () => {
  it('should accept a reaction of our team, also in a shared channel when Slack names the user\'s team', () => {
    assert.equal(foreignTeamOfReaction(reaction(), OURS), undefined);
    assert.equal(foreignTeamOfReaction(reaction({}, { user_team: 'T0OURS001' }), OURS), undefined);
    assert.equal(foreignTeamOfReaction(reaction({ is_ext_shared_channel: true }, { user_team: 'T0OURS001' }), OURS), undefined);
  });

  it('should refuse a reaction of another team, of no team, or of a user whose team a shared channel does not name', () => {
    assert.equal(foreignTeamOfReaction(reaction({ team_id: 'T0OTHER01' }), OURS), 'T0OTHER01');
    assert.equal(foreignTeamOfReaction(reaction({}, { user_team: 'T0OTHER01' }), OURS), 'T0OTHER01');
    assert.equal(foreignTeamOfReaction(reaction({ is_ext_shared_channel: true }), OURS), 'unknown');
    const { team_id: _, ...noTeam } = reaction();
    assert.equal(foreignTeamOfReaction(noTeam as ReactionEnvelope, OURS), 'none');
    assert.equal(foreignTeamOfReaction(reaction(), new Set()), 'T0OURS001', 'no team known (auth.test without team_id): nobody counts');
  });

  it('should accept a click naming only our team, and refuse one naming another anywhere, or none', () => {
    const click = (p: Partial<BlockActionsPayload>): BlockActionsPayload => ({ type: 'block_actions', ...p });
    assert.equal(foreignTeamOfAction(click({ team: { id: 'T0OURS001' }, user: { id: 'U0ALICE01', team_id: 'T0OURS001' } }), OURS), undefined);
    assert.equal(foreignTeamOfAction(click({ team: null, user: { id: 'U0ALICE01', team_id: 'T0OURS001' } }), OURS), undefined);
    assert.equal(foreignTeamOfAction(click({ team: { id: 'T0OURS001' }, user: { id: 'U0EVE0001', team_id: 'T0OTHER01' } }), OURS), 'T0OTHER01');
    assert.equal(foreignTeamOfAction(click({ team: { id: 'T0OTHER01' }, user: { id: 'U0EVE0001' } }), OURS), 'T0OTHER01');
    assert.equal(foreignTeamOfAction(click({ user: { id: 'U0EVE0001' } }), OURS), 'none');
  });
});
