/**
 * PostDirectory backed by Temporal, for one channel's message references (Slack's `slack:<channel>:<ts>`).
 * A reference finds its lifecycle through the search attribute the lifecycle records its post references
 * in (`PreflinePostRefs`: any gateway process, no local state needed), then the lifecycle's
 * `statusQuery().posts` maps every message of that post to its candidate; all of them are cached at
 * once, so a burst of reactions costs one visibility query per lifecycle.
 *
 * A signalled vote (or a vote or judgement) through another channel than the lifecycle's (a Slack reaction
 * on a post recorded by a web or email lifecycle) is refused before it is sent, like the directory's updates
 * (lifecycle-channels.ts); the lifecycle's channel comes from the status its post was found in.
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { WORKFLOW_TYPE, voteSignal } from '../workflows/messages';
import type { JudgementReceipt, JudgementRequest, LifecycleStatus, VoteReceipt, VoteRequest } from '../workflows/types';
import { ErrorCode } from './errors';
import { LifecycleChannels } from './lifecycle-channels';
import { VoteRejectedError, type LifecycleDirectory } from './lifecycle-directory';
import type { PostDirectory, PostInfo } from './post-directory';

export interface PostRefLookup {
  /** The channel whose references these are: the prefix of its refs, e.g. `slack`. */
  channel: string;
  /** References worth a query (built only from well-formed ids); any other is never looked up. */
  refPattern: RegExp;
  /** The search attribute lifecycles record their post references in (workflows/search-attributes.ts). */
  searchAttribute: string;
}

const MAX_CACHED_REFS = 50_000;
const GRPC_NOT_FOUND = 5;

export class TemporalPostDirectory implements PostDirectory {
  private readonly cache = new Map<string, PostInfo>();
  private readonly lookups = new Map<string, Promise<PostInfo | undefined>>();
  private readonly channels: LifecycleChannels;

  constructor(
    private readonly client: Client,
    private readonly directory: LifecycleDirectory,
    private readonly refs: PostRefLookup,
  ) {
    this.channels = new LifecycleChannels((id) => this.directory.status(id));
  }

  findPost(ref: string): Promise<PostInfo | undefined> {
    const cached = this.cache.get(ref);
    if (cached) return Promise.resolve(cached);
    if (!this.refs.refPattern.test(ref)) return Promise.resolve(undefined); // never let odd text into the query
    // Concurrent reactions on one message share one lookup.
    let lookup = this.lookups.get(ref);
    if (!lookup) {
      lookup = this.lookUp(ref).finally(() => this.lookups.delete(ref));
      this.lookups.set(ref, lookup);
    }
    return lookup;
  }

  async signalVote(lifecycleId: string, vote: VoteRequest): Promise<void> {
    await this.channels.check(lifecycleId, vote);
    try {
      await this.client.workflow.getHandle(lifecycleId).signal(voteSignal, vote);
    } catch (err) {
      // A completed lifecycle cannot take votes: retrying would not help.
      if (err instanceof WorkflowNotFoundError || (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND)) {
        throw new VoteRejectedError(ErrorCode.VotingClosed, 'the lifecycle has completed');
      }
      throw err;
    }
  }

  async vote(lifecycleId: string, vote: VoteRequest): Promise<VoteReceipt> {
    await this.channels.check(lifecycleId, vote);
    return this.directory.vote(lifecycleId, vote);
  }

  async judge(lifecycleId: string, judgement: JudgementRequest): Promise<JudgementReceipt> {
    await this.channels.check(lifecycleId, judgement);
    return this.directory.judge(lifecycleId, judgement);
  }

  private async lookUp(ref: string): Promise<PostInfo | undefined> {
    const query = `WorkflowType = '${WORKFLOW_TYPE}' AND ${this.refs.searchAttribute} = '${ref}'`;
    const ids: string[] = [];
    for await (const execution of this.client.workflow.list({ query, pageSize: 5 })) {
      ids.push(execution.workflowId);
      if (ids.length >= 5) break;
    }
    for (const id of ids) {
      const status = await this.directory.status(id);
      if (status) this.index(status);
    }
    return this.cache.get(ref);
  }

  private index(status: LifecycleStatus): void {
    this.channels.learn(status);
    const candidates = [...status.candidates].sort((a, b) => a.label.localeCompare(b.label)).map((c) => ({ id: c.id, label: c.label }));
    for (const post of status.posts ?? []) {
      if (!post.ref.startsWith(`${this.refs.channel}:`)) continue;
      this.cache.set(post.ref, { lifecycleId: status.lifecycleId, ...(post.candidateId !== undefined ? { candidateId: post.candidateId } : {}), candidates, ...(status.task ? { task: status.task } : {}) });
    }
    while (this.cache.size > MAX_CACHED_REFS) this.cache.delete(this.cache.keys().next().value as string);
  }
}
