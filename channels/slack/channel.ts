/**
 * The Slack channel: a header and one message per candidate in a Slack channel (a compare lifecycle:
 * one message with both, compare-messages.ts). Workers' half: publisher.ts (posts, live tally, close).
 * Gateway half: routes.ts (Events API and interactivity over HTTP, verified by verify.ts) or
 * socket-mode.ts, both feeding inbound.ts; votes.ts maps reactions and clicks to VoteRequests and
 * comparison clicks to JudgementRequests; answers.ts tells the clicker.
 */
import type { Channel } from '../types';

export const slackChannel: Channel = {
  kind: 'slack',
  // compare: a compare lifecycle's message, and a two-model thumbs header, carry A / B / Tie (/ Both bad) / Withdraw, answered as judgements.
  capabilities: { thumbs: true, compare: true, freeText: false, liveTally: true, remind: false },
};
