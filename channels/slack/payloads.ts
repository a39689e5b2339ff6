/**
 * The parts of Slack's inbound payloads Prefline reads: a reaction event's envelope (Events API) and a
 * `block_actions` interactivity payload. Slack sends more; everything here is optional because nothing
 * from outside is trusted to have the documented shape.
 */

export interface ReactionEnvelope {
  event_id: string;
  event_time?: number;
  /** The workspace the event happened in (the app's installation). */
  team_id?: string;
  /** True in a channel shared with other organisations (Slack Connect). */
  is_ext_shared_channel?: boolean;
  event: {
    type: 'reaction_added' | 'reaction_removed';
    user?: string;
    /** The reacting user's own team, where Slack says (shared channels). */
    user_team?: string;
    reaction?: string;
    item_user?: string;
    item?: { type?: string; channel?: string; ts?: string };
    event_ts?: string;
  };
}

export interface BlockAction {
  action_id?: string;
  block_id?: string;
  value?: string;
  action_ts?: string;
}

export interface BlockActionsPayload {
  type?: string;
  user?: { id?: string; team_id?: string };
  team?: { id?: string } | null;
  channel?: { id?: string; name?: string };
  container?: { channel_id?: string; message_ts?: string; is_ephemeral?: boolean };
  message?: { ts?: string };
  actions?: BlockAction[];
  response_url?: string;
}

/** Slack user, channel and team ids. */
export const SLACK_ID = /^[A-Z0-9]{1,24}$/;

/** The team of a click (payloads from Enterprise Grid carry it on the user only). */
export function teamOf(payload: BlockActionsPayload): string {
  return payload.team?.id ?? payload.user?.team_id ?? 'team';
}

/** The channel a click happened in. */
export function channelOf(payload: BlockActionsPayload): string | undefined {
  return payload.container?.channel_id ?? payload.channel?.id;
}

/**
 * The team a reaction comes from when it is not one of `allowed`, else undefined. The envelope's
 * `team_id` must be allowed, and so must the event's `user_team` when Slack names it; in a channel
 * shared with other organisations a reaction that does not name its user's team cannot be placed
 * and is refused too (`unknown`).
 */
export function foreignTeamOfReaction(envelope: ReactionEnvelope, allowed: ReadonlySet<string>): string | undefined {
  const team = envelope.team_id;
  if (typeof team !== 'string' || !allowed.has(team)) return String(team ?? 'none');
  const userTeam = envelope.event.user_team;
  if (userTeam !== undefined) return typeof userTeam === 'string' && allowed.has(userTeam) ? undefined : String(userTeam);
  return envelope.is_ext_shared_channel === true ? 'unknown' : undefined;
}

/**
 * The team a click comes from when it is not one of `allowed`, else undefined: the clicking user's
 * `user.team_id` and the payload's `team.id` must be allowed wherever they are given, and one must be.
 */
export function foreignTeamOfAction(payload: BlockActionsPayload, allowed: ReadonlySet<string>): string | undefined {
  const named = [payload.user?.team_id, payload.team?.id].filter((t) => t !== undefined && t !== null);
  if (named.length === 0) return 'none';
  return named.map(String).find((t) => !allowed.has(t));
}
