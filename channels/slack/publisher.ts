/**
 * The Slack channel: posts a lifecycle to a channel (a header, then one message per candidate; a compare
 * lifecycle as one message with both candidates, compare-messages.ts), keeps the header's live tally
 * current and closes the post. Plain TypeScript; the channel activities map
 * its coded errors to Temporal failures.
 *
 * Idempotency, across retries and worker hosts: every message carries metadata
 * (`prefline_lifecycle`, `{lifecycleId, part}`), and before posting the publisher reads the channel's
 * recent history with `include_all_metadata` and skips every part already there. A local cache saves
 * that read on the host that posted. `chat.postMessage` is sent by a client that never retries on its
 * own (a 5xx after Slack stored the message would otherwise post it twice); the activity retry does the
 * history check first.
 *
 * Images are uploaded from bytes (never paths) into the header's thread, which shares the file with the
 * channel so the candidate message's image block may show it (`slack_file`); an unshared file is
 * refused by Slack as "invalid slack file".
 */
import type { KnownBlock, WebClient } from '@slack/web-api';
import type { ChannelPublisher, ClosePostRequest, PostRef, PublishRequest, UpdatePostRequest } from '../types';
import type { Candidate, LifecyclePlan } from '../../workflows/types';
import { shownPair } from '../rater-view';
import { compareBlocks, compareText, formatFiles, pairSides, parseFiles, postedSides } from './compare-messages';
import { ChannelPacer, SlackCaller, createSlackWebClient, type SlackCallerOptions } from './client';
import { SlackRejectedError, slackErrorCode } from './errors';
import {
  METADATA_EVENT_TYPE, candidateBlocks, candidatePart, candidateText, closedCandidateBlocks, closedCandidateText, headerBlocks, headerText, isPairwise, messageRef, postShowsModels, readPartMeta,
  type Block, type CandidateMeta, type HeaderMeta, type PartMeta,
} from './messages';

export type SlackLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export interface SlackPublisherOptions {
  token: string;
  apiUrl?: string;
  /** The bytes of an artifact (the artifact store's `read`). */
  readArtifact(sha256: string): Promise<Buffer>;
  /** Minimum time between writes to one channel. Default 1100 ms (Slack: ~1 message/s/channel). */
  paceMs?: number;
  /** How far back `conversations.history` is searched for earlier posts. Default 48 h. */
  lookbackMs?: number;
  /** History pages (200 messages each) searched at most. Default 10. */
  maxHistoryPages?: number;
  /** WebClient retries for reads and edits (posts never retry inside the client). Default 2. */
  retries?: number;
  timeoutMs?: number;
  caller?: SlackCallerOptions;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: SlackLog;
}

interface PostedPart {
  ts: string;
  meta: PartMeta;
  /** What was posted (our own blocks, or Slack's echo from history). */
  blocks?: Block[];
}

interface LifecyclePosts {
  channelId: string;
  parts: Map<string, PostedPart>;
  /** Uploaded image file ids by candidate, so a retry in this process does not upload again. */
  files: Map<string, string>;
}

const MAX_CACHED_LIFECYCLES = 1000;
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,20}$/;

export function createSlackPublisher(options: SlackPublisherOptions): ChannelPublisher {
  return new SlackPublisher(options);
}

class SlackPublisher implements ChannelPublisher {
  /** Reads and edits: idempotent, so the client may retry them. */
  private readonly reader: WebClient;
  /** Posts and uploads: never retried inside the client (see the module comment). */
  private readonly writer: WebClient;
  private readonly caller: SlackCaller;
  private readonly pacer: ChannelPacer;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: SlackLog;
  private readonly cache = new Map<string, LifecyclePosts>();
  private readonly channelIds = new Map<string, string>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly options: SlackPublisherOptions) {
    if (!options.token) throw new SlackRejectedError('configuration', 'missing bot token', 'set PREFLINE_SLACK_BOT_TOKEN');
    const common = { token: options.token, ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) };
    this.reader = createSlackWebClient({ ...common, retries: options.retries ?? 2 });
    this.writer = createSlackWebClient({ ...common, retries: 0 });
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.log = options.log ?? (() => undefined);
    this.caller = new SlackCaller({
      sleep: this.sleep,
      onRateLimited: (method, seconds) => this.log('warn', 'Slack rate limit: waiting as asked', { method, retryAfterSeconds: seconds }),
      ...options.caller,
    });
    this.pacer = new ChannelPacer(options.paceMs ?? 1100, this.now, this.sleep);
  }

  publish(request: PublishRequest): Promise<PostRef> {
    return this.locked(request.lifecycleId, async () => {
      const { lifecycleId, plan, candidates } = request;
      const channelId = await this.channelIdOf(plan);
      if (plan.task === 'compare') return this.publishCompare(request, channelId);
      const posts = await this.postsOf(lifecycleId, channelId, 1 + candidates.length);
      let header = posts.parts.get('header');
      if (header) this.log('info', 'Slack header already posted; not posting again', { lifecycleId, ts: header.ts });
      else {
        const meta: HeaderMeta = {
          lifecycleId,
          part: 'header',
          deadlineAt: request.deadlineAt,
          placeholder: candidates.some((c) => c.placeholder),
          pair: isPairwise(plan, candidates) ? candidates.map((c) => c.id).join(',') : '',
        };
        header = await this.post(channelId, headerText(plan), headerBlocks(plan, meta), meta, false);
        posts.parts.set('header', header);
      }
      for (const candidate of candidates) {
        const part = candidatePart(candidate.id);
        if (posts.parts.has(part)) continue;
        const fileId = candidate.kind === 'image' ? await this.uploadImage(posts, channelId, header.ts, plan, candidate) : undefined;
        const meta: CandidateMeta = { lifecycleId, part, ...(fileId ? { fileId } : {}) };
        const blocks = candidateBlocks(lifecycleId, plan.prompt, candidate, fileId, postShowsModels(plan, false));
        posts.parts.set(part, await this.post(channelId, candidateText(candidate), blocks, meta, fileId !== undefined));
      }
      const url = await this.permalink(channelId, header.ts);
      return {
        channel: 'slack',
        ...(url ? { url } : {}),
        messages: [
          { ref: messageRef(channelId, header.ts) },
          ...candidates.map((c) => ({ ref: messageRef(channelId, posts.parts.get(candidatePart(c.id))!.ts), candidateId: c.id })),
        ],
      };
    });
  }

  update(request: UpdatePostRequest): Promise<void> {
    return this.locked(request.lifecycleId, async () => {
      const channelId = await this.channelIdOf(request.plan);
      const header = (await this.postsOf(request.lifecycleId, channelId, 1)).parts.get('header');
      if (!header) return this.log('warn', 'Slack header not found; live tally not shown', { lifecycleId: request.lifecycleId });
      const meta = header.meta as HeaderMeta;
      if (meta.task === 'compare') {
        const blocks = compareBlocks(request.plan, meta, postedSides(header.blocks ?? [], meta), request.judgements ? { judgements: request.judgements } : {});
        return this.edit(channelId, header.ts, compareText(request.plan), blocks, meta);
      }
      const blocks = headerBlocks(request.plan, header.meta as HeaderMeta, { tally: request.tally, votesAccepted: request.votesAccepted });
      await this.edit(channelId, header.ts, headerText(request.plan), blocks, header.meta);
    });
  }

  close(request: ClosePostRequest): Promise<void> {
    return this.locked(request.lifecycleId, async () => {
      const channelId = await this.channelIdOf(request.plan);
      const posts = await this.postsOf(request.lifecycleId, channelId, 1 + request.tally.length);
      const header = posts.parts.get('header');
      const closed = { reason: request.closeReason, tally: request.tally };
      if (header && (header.meta as HeaderMeta).task === 'compare') {
        const meta = header.meta as HeaderMeta;
        // The tally lists the candidates in the lifecycle's order, as plan.models does (c1 = model A).
        const models = request.plan.models.length === request.tally.length ? new Map(request.tally.map((t, i) => [t.candidateId, request.plan.models[i]!])) : undefined;
        const state = { closed: { reason: request.closeReason, ...(request.judgements ? { judgements: request.judgements } : {}), ...(models ? { models } : {}) } };
        return this.edit(channelId, header.ts, compareText(request.plan, true), compareBlocks(request.plan, meta, postedSides(header.blocks ?? [], meta), state), meta);
      }
      if (header) await this.edit(channelId, header.ts, headerText(request.plan, { closed }), headerBlocks(request.plan, header.meta as HeaderMeta, { closed }), header.meta);
      else this.log('warn', 'Slack header not found; result not shown', { lifecycleId: request.lifecycleId });
      // Buttons come off every candidate message, so nobody clicks on a closed lifecycle.
      for (const tally of request.tally) {
        const part = posts.parts.get(candidatePart(tally.candidateId));
        if (!part) continue;
        const blocks = closedCandidateBlocks(part.blocks ?? [], part.meta as CandidateMeta, tally);
        await this.edit(channelId, part.ts, closedCandidateText(tally.label), blocks, part.meta);
      }
    });
  }

  /**
   * A compare lifecycle's one message: posted with both sides in the message's order (shownPair without
   * a rater), then its images uploaded into its thread and the message edited to show them. A retry
   * finds the message in the history (its metadata holds the order and the files) and only finishes it.
   */
  private async publishCompare(request: PublishRequest, channelId: string): Promise<PostRef> {
    const { lifecycleId, plan, candidates } = request;
    const shown = shownPair({ lifecycleId, task: plan.task, candidates }, undefined);
    if (!shown) throw new SlackRejectedError('publish', `a compare lifecycle needs exactly two candidates (got ${candidates.length})`);
    const showModel = postShowsModels(plan, false);
    const posts = await this.postsOf(lifecycleId, channelId, 1);
    let header = posts.parts.get('header');
    if (header) this.log('info', 'Slack compare message already posted; not posting again', { lifecycleId, ts: header.ts });
    else {
      const meta: HeaderMeta = {
        lifecycleId, part: 'header', deadlineAt: request.deadlineAt, placeholder: candidates.some((c) => c.placeholder),
        pair: shown.map((c) => c.id).join(','), task: 'compare', files: '',
      };
      header = await this.post(channelId, compareText(plan), compareBlocks(plan, meta, pairSides(plan, shown, new Map(), showModel)), meta, false);
      posts.parts.set('header', header);
    }
    const meta = header.meta as HeaderMeta;
    const files = parseFiles(meta.files);
    const missing = shown.filter((c) => c.kind === 'image' && !files.has(c.id));
    if (missing.length > 0) {
      for (const candidate of missing) files.set(candidate.id, await this.uploadImage(posts, channelId, header.ts, plan, candidate, candidate === shown[0] ? 'A' : 'B'));
      const withFiles: HeaderMeta = { ...meta, files: formatFiles(files) };
      const blocks = compareBlocks(plan, withFiles, pairSides(plan, shown, files, showModel));
      await this.edit(channelId, header.ts, compareText(plan), blocks, withFiles, true);
      posts.parts.set('header', (header = { ts: header.ts, meta: withFiles, blocks }));
    }
    const url = await this.permalink(channelId, header.ts);
    return { channel: 'slack', ...(url ? { url } : {}), messages: [{ ref: messageRef(channelId, header.ts) }] };
  }

  // ---- internals -------------------------------------------------------------------------------

  /** One operation per lifecycle at a time in this process (a retry may overlap a slow attempt). */
  private locked<T>(lifecycleId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(lifecycleId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(task);
    const tail = run.catch(() => undefined);
    this.locks.set(lifecycleId, tail);
    void tail.then(() => {
      if (this.locks.get(lifecycleId) === tail) this.locks.delete(lifecycleId);
    });
    return run;
  }

  private async channelIdOf(plan: LifecyclePlan): Promise<string> {
    if (plan.channel.kind !== 'slack') throw new SlackRejectedError('publish', `not a Slack lifecycle (${plan.channel.kind})`);
    const wanted = plan.channel.channel;
    if (CHANNEL_ID.test(wanted)) return wanted;
    const name = wanted.replace(/^#/, '');
    const cached = this.channelIds.get(name);
    if (cached) return cached;
    let cursor: string | undefined;
    do {
      const page = await this.caller.call('conversations.list', () =>
        this.reader.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 1000, ...(cursor ? { cursor } : {}) }),
      );
      for (const channel of page.channels ?? []) if (channel.name && channel.id) this.channelIds.set(channel.name, channel.id);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor && !this.channelIds.has(name));
    const id = this.channelIds.get(name);
    if (!id) throw new SlackRejectedError('conversations.list', 'channel_not_found', `no channel #${name} visible to the app; for a private channel, /invite the app first`);
    return id;
  }

  /**
   * The lifecycle's posts in this channel: from the cache when it holds `expected` parts, else merged
   * with what the channel's history shows (another host, or a crash after posting).
   */
  private async postsOf(lifecycleId: string, channelId: string, expected: number): Promise<LifecyclePosts> {
    let posts = this.cache.get(lifecycleId);
    if (!posts || posts.channelId !== channelId) {
      posts = { channelId, parts: new Map(), files: new Map() };
      this.remember(lifecycleId, posts);
    }
    if (posts.parts.size >= expected) return posts;
    for (const [part, found] of await this.findInHistory(lifecycleId, channelId)) {
      if (!posts.parts.has(part)) posts.parts.set(part, found);
      const fileId = (found.meta as CandidateMeta).fileId;
      if (fileId) posts.files.set(part.slice('candidate:'.length), fileId);
    }
    return posts;
  }

  private remember(lifecycleId: string, posts: LifecyclePosts): void {
    this.cache.set(lifecycleId, posts);
    if (this.cache.size > MAX_CACHED_LIFECYCLES) this.cache.delete(this.cache.keys().next().value as string);
  }

  private async findInHistory(lifecycleId: string, channelId: string): Promise<Map<string, PostedPart>> {
    const found = new Map<string, PostedPart>();
    const oldest = ((this.now() - (this.options.lookbackMs ?? 48 * 3600_000)) / 1000).toFixed(6);
    let cursor: string | undefined;
    for (let page = 0; page < (this.options.maxHistoryPages ?? 10); page++) {
      const result = await this.caller.call('conversations.history', () =>
        this.reader.conversations.history({ channel: channelId, include_all_metadata: true, oldest, limit: 200, ...(cursor ? { cursor } : {}) }),
      );
      for (const message of result.messages ?? []) {
        const meta = readPartMeta(message.metadata);
        if (!meta || meta.lifecycleId !== lifecycleId || !message.ts) continue;
        const earlier = found.get(meta.part);
        // Newest first: keep the earliest copy of a part, the one a rater most likely reacted to.
        if (!earlier || Number(message.ts) < Number(earlier.ts)) found.set(meta.part, { ts: message.ts, meta, ...(message.blocks ? { blocks: message.blocks as Block[] } : {}) });
      }
      cursor = result.has_more ? result.response_metadata?.next_cursor || undefined : undefined;
      if (!cursor) break;
    }
    if (found.size > 0) this.log('info', 'found earlier Slack posts of the lifecycle', { lifecycleId, parts: [...found.keys()].join(',') });
    return found;
  }

  private async post(channelId: string, text: string, blocks: Block[], meta: PartMeta, hasImage: boolean): Promise<PostedPart> {
    for (let attempt = 0; ; attempt++) {
      await this.pacer.wait(channelId);
      try {
        const result = await this.caller.call('chat.postMessage', () =>
          this.writer.chat.postMessage({
            channel: channelId,
            text,
            blocks: blocks as unknown as KnownBlock[],
            metadata: { event_type: METADATA_EVENT_TYPE, event_payload: { ...meta } },
            unfurl_links: false,
            unfurl_media: false,
          }),
        );
        if (!result.ts) throw new SlackRejectedError('chat.postMessage', 'no ts in the response');
        return { ts: result.ts, meta, blocks };
      } catch (err) {
        // A just-shared file can take a moment before an image block may reference it.
        if (hasImage && slackErrorCode(err) === 'invalid_blocks' && attempt < 3) {
          await this.sleep(1000 * 2 ** attempt);
          continue;
        }
        throw err;
      }
    }
  }

  /** `name`: what the upload is called where raters see it (a compare message's side: its position, A or B). */
  private async uploadImage(posts: LifecyclePosts, channelId: string, threadTs: string, plan: LifecyclePlan, candidate: Candidate, name = `Candidate ${candidate.label}`): Promise<string> {
    const known = posts.files.get(candidate.id);
    if (known) return known;
    const bytes = await this.options.readArtifact(candidate.artifact.sha256);
    if (!Buffer.isBuffer(bytes)) throw new SlackRejectedError('files.uploadV2', 'artifact bytes must be a Buffer'); // a string would be read as a path
    await this.pacer.wait(channelId); // the share posts a message in the thread
    const result = await this.caller.call('files.uploadV2', () =>
      this.writer.filesUploadV2({
        file: bytes,
        filename: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.${extensionOf(candidate.artifact.mime)}`,
        title: name,
        alt_text: `${name} for: ${plan.prompt}`.slice(0, 1000),
        channel_id: channelId,
        thread_ts: threadTs,
      }),
    );
    const completed = (result as { files?: Array<{ files?: Array<{ id?: string }> }> }).files;
    const fileId = completed?.[0]?.files?.[0]?.id;
    if (!fileId) throw new SlackRejectedError('files.completeUploadExternal', 'no file id in the response');
    posts.files.set(candidate.id, fileId);
    return fileId;
  }

  /** `hasImage`: a just-shared file may need a moment before an image block may show it (retried). */
  private async edit(channelId: string, ts: string, text: string, blocks: Block[], meta: PartMeta, hasImage = false): Promise<void> {
    for (let attempt = 0; hasImage; attempt++) {
      try {
        return await this.editOnce(channelId, ts, text, blocks, meta);
      } catch (err) {
        if (slackErrorCode(err) !== 'invalid_blocks' || attempt >= 3) throw err;
        await this.sleep(1000 * 2 ** attempt);
      }
    }
    return this.editOnce(channelId, ts, text, blocks, meta);
  }

  private async editOnce(channelId: string, ts: string, text: string, blocks: Block[], meta: PartMeta): Promise<void> {
    await this.pacer.wait(channelId);
    try {
      // The metadata is sent again so an edit can never strip what later lookups find the message by.
      const metadata = { event_type: METADATA_EVENT_TYPE, event_payload: { ...meta } };
      await this.caller.call('chat.update', () => this.reader.chat.update({ channel: channelId, ts, text, blocks: blocks as unknown as KnownBlock[], metadata }));
    } catch (err) {
      const code = slackErrorCode(err);
      // Someone deleted the message: the votes are safe in the lifecycle; only the display is lost.
      if (code === 'message_not_found' || code === 'cant_update_message') return this.log('warn', 'Slack message could not be edited', { channelId, ts, error: code });
      throw err;
    }
  }

  private async permalink(channelId: string, ts: string): Promise<string | undefined> {
    try {
      const result = await this.caller.call('chat.getPermalink', () => this.reader.chat.getPermalink({ channel: channelId, message_ts: ts }));
      return result.permalink;
    } catch (err) {
      this.log('debug', 'no permalink for the Slack post', { error: (err as Error).message });
      return undefined;
    }
  }
}

function extensionOf(mime: string): string {
  const essence = (mime.split(';', 1)[0] ?? '').trim().toLowerCase();
  return { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/webp': 'webp' }[essence] ?? 'bin';
}
