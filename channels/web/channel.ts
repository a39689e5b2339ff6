/**
 * The web channel: the gateway's rating page. Workers' half: publisher.ts (the page's link, no remote
 * post). Gateway half: routes.ts (the vote API, mounted by the gateway host, raters signed in by the
 * gateway's sessions) and vote-request.ts (request body → VoteRequest).
 */
import type { Channel } from '../types';

export const webChannel: Channel = {
  kind: 'web',
  // The page polls each lifecycle's status, so raters see the tally without the publisher pushing it.
  capabilities: { thumbs: true, compare: true, freeText: true, liveTally: true, remind: false },
};
