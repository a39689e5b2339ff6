/**
 * The parts of Slack's inbound payloads Prefline reads: a reaction event's envelope (Events API) and a
 * `block_actions` interactivity payload. Slack sends more; everything here is optional because nothing
 * from outside is trusted to have the documented shape.
 */

export interface ReactionEnvelope {
  event_id: string;
  event_time?: number;
  event: {
    type: 'reaction_added' | 'reaction_removed';
    user?: string;
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
  channel?: { id?: string };
  container?: { channel_id?: string; message_ts?: string };
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
