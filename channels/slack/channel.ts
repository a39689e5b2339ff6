/**
 * The Slack channel: a header and one message per candidate in a Slack channel. Workers' half:
 * publisher.ts (posts, live tally, close). Gateway half: routes.ts (Events API and interactivity over
 * HTTP, verified by verify.ts) or socket-mode.ts, both feeding inbound.ts; votes.ts maps reactions and
 * clicks to VoteRequests; answers.ts tells the clicker.
 */
import type { Channel } from '../types';

export const slackChannel: Channel = {
  kind: 'slack',
  // compare: a two-model lifecycle's header carries "A is better" / "B is better" / "Tie".
  capabilities: { thumbs: true, compare: true, freeText: false, liveTally: true, remind: false },
};
