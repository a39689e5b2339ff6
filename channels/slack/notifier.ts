/**
 * Campaign notifications in a Slack channel: one message per (event id, channel), even across activity
 * retries and worker hosts. Like the publisher (publisher.ts), the message carries metadata
 * (`prefline_campaign_notice`, `{eventId}`) and, before posting, the channel's recent history is read
 * with `include_all_metadata`: a notice already there is not posted again. Posts go through a client
 * that never retries on its own (a 5xx after Slack stored the message would post it twice); the
 * activity's retry does the history check first. Plain TypeScript.
 */
import type { KnownBlock, WebClient } from '@slack/web-api';
import { noticeLines, noticeTitle } from '../../core/campaign-notice';
import type { CampaignNotice } from '../../workflows/types';
import { ChannelPacer, SlackCaller, createSlackWebClient, type SlackCallerOptions } from './client';
import { SlackRejectedError } from './errors';
import { escapeMrkdwn } from './messages';
import type { SlackLog } from './publisher';

export const NOTICE_METADATA_EVENT_TYPE = 'prefline_campaign_notice';
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,20}$/;
const MAX_CACHED = 1000;

export interface SlackNotifierOptions {
  token: string;
  apiUrl?: string;
  /** How far back the history is searched for an earlier copy. Default 48 h. */
  lookbackMs?: number;
  /** History pages (200 messages each) searched at most. Default 5. */
  maxHistoryPages?: number;
  paceMs?: number;
  timeoutMs?: number;
  caller?: SlackCallerOptions;
  now?: () => number;
  log?: SlackLog;
}

export interface SlackNotifier {
  /** `channel`: `#name` or a channel id. */
  notify(channel: string, notice: CampaignNotice): Promise<'sent' | 'already'>;
}

/** The message's blocks: the title, then the facts, with everything from the input escaped. */
export function noticeBlocks(notice: CampaignNotice): Array<Record<string, unknown>> {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(noticeTitle(notice))}*` } },
    { type: 'section', text: { type: 'mrkdwn', text: noticeLines(notice).map((line) => escapeMrkdwn(line)).join('\n') } },
  ];
}

export function createSlackNotifier(options: SlackNotifierOptions): SlackNotifier {
  if (!options.token) throw new SlackRejectedError('configuration', 'missing bot token', 'set PREFLINE_SLACK_BOT_TOKEN');
  const common = { token: options.token, ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) };
  const reader: WebClient = createSlackWebClient({ ...common, retries: 2 });
  const writer: WebClient = createSlackWebClient({ ...common, retries: 0 });
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const caller = new SlackCaller({ onRateLimited: (method, seconds) => log('warn', 'Slack rate limit: waiting as asked', { method, retryAfterSeconds: seconds }), ...options.caller });
  const pacer = new ChannelPacer(options.paceMs ?? 1100, now);
  const channelIds = new Map<string, string>();
  /** Notices this process posted (or found), by channel and event: a retry here needs no history read. */
  const posted = new Set<string>();
  const running = new Map<string, Promise<'sent' | 'already'>>();

  async function channelIdOf(wanted: string): Promise<string> {
    if (CHANNEL_ID.test(wanted)) return wanted;
    const name = wanted.replace(/^#/, '');
    const cached = channelIds.get(name);
    if (cached) return cached;
    let cursor: string | undefined;
    do {
      const page = await caller.call('conversations.list', () =>
        reader.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) }),
      );
      for (const channel of page.channels ?? []) if (channel.name && channel.id) channelIds.set(channel.name, channel.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor && !channelIds.has(name));
    const id = channelIds.get(name);
    if (!id) throw new SlackRejectedError('conversations.list', 'channel_not_found', `no channel #${name} visible to the app; for a private channel, /invite the app first`);
    return id;
  }

  async function inHistory(channelId: string, eventId: string): Promise<boolean> {
    const oldest = ((now() - (options.lookbackMs ?? 48 * 3600_000)) / 1000).toFixed(6);
    let cursor: string | undefined;
    for (let page = 0; page < (options.maxHistoryPages ?? 5); page++) {
      const result = await caller.call('conversations.history', () =>
        reader.conversations.history({ channel: channelId, include_all_metadata: true, oldest, limit: 200, ...(cursor ? { cursor } : {}) }),
      );
      for (const message of result.messages ?? []) {
        const meta = message.metadata as { event_type?: string; event_payload?: { eventId?: unknown } } | undefined;
        if (meta?.event_type === NOTICE_METADATA_EVENT_TYPE && meta.event_payload?.eventId === eventId) return true;
      }
      cursor = result.has_more ? result.response_metadata?.next_cursor || undefined : undefined;
      if (!cursor) return false;
    }
    return false;
  }

  async function notifyOnce(channel: string, notice: CampaignNotice): Promise<'sent' | 'already'> {
    const channelId = await channelIdOf(channel);
    const key = `${channelId}\0${notice.eventId}`;
    if (posted.has(key) || (await inHistory(channelId, notice.eventId))) {
      log('info', 'campaign notice already in the Slack channel; not posting again', { eventId: notice.eventId, channelId });
      remember(key);
      return 'already';
    }
    await pacer.wait(channelId);
    await caller.call('chat.postMessage', () =>
      writer.chat.postMessage({
        channel: channelId,
        text: noticeTitle(notice),
        blocks: noticeBlocks(notice) as unknown as KnownBlock[],
        metadata: { event_type: NOTICE_METADATA_EVENT_TYPE, event_payload: { eventId: notice.eventId } },
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    remember(key);
    return 'sent';
  }

  function remember(key: string): void {
    posted.add(key);
    if (posted.size > MAX_CACHED) posted.delete(posted.values().next().value as string);
  }

  return {
    notify(channel, notice) {
      // One attempt per notice at a time in this process: a retry may overlap a slow attempt.
      const lock = `${channel}\0${notice.eventId}`;
      const previous = running.get(lock) ?? Promise.resolve('already' as const);
      const run = previous.catch(() => undefined).then(() => notifyOnce(channel, notice));
      const tail = run.catch(() => 'already' as const);
      running.set(lock, tail);
      void tail.then(() => {
        if (running.get(lock) === tail) running.delete(lock);
      });
      return run;
    },
  };
}
