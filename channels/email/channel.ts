/**
 * The email channel: one invitation per rater, with signed vote links and a signed reply address.
 * Workers' half: publisher.ts (invitations, reminders, results). Gateway half: routes.ts (the vote and
 * unsubscribe links) and the reply intake (smtp-inbound.ts or imap.ts, sharing replies.ts); tokens.ts
 * verifies, votes.ts maps a verified link or reply to VoteRequests.
 */
import type { Channel } from '../types';

export const emailChannel: Channel = {
  kind: 'email',
  capabilities: { thumbs: true, compare: true, freeText: false, liveTally: false, remind: true },
};
