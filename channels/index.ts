/**
 * Every channel Prefline has, by kind. Typed by `ChannelSpec['kind']`, so a kind added to the
 * workflows' contract without its channel folder does not compile.
 */
import { emailChannel } from './email/channel';
import { slackChannel } from './slack/channel';
import type { Channel, ChannelKind } from './types';
import { webChannel } from './web/channel';

export const CHANNELS: Readonly<Record<ChannelKind, Channel>> = {
  web: webChannel,
  slack: slackChannel,
  email: emailChannel,
};
