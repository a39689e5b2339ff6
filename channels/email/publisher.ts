/**
 * The email channel: mails each rater the prompt and candidates with signed vote links (and a signed
 * reply address), reminds non-voters, and optionally mails the result. A compare lifecycle's mails show
 * both candidates in each rater's order with one signed answer link per answer (compare-compose.ts).
 * Plain TypeScript, no Temporal.
 * Exactly one mail per (kind, lifecycle, rater), even across activity retries: see delivery.ts, which
 * sends every batch; compose.ts writes the mails, smtp.ts is the transport.
 */
import { pseudonymiseRater } from '../../core/pseudonym';
import { ConfigMissingError } from '../../core/errors';
import type { Candidate, JudgementChoice, LifecyclePlan } from '../../workflows/types';
import { shownPair } from '../rater-view';
import { composeCompareClosing, composeCompareInvite, composeCompareReminder, type AnswerLinks } from './compare-compose';
import type { ChannelPublisher, ClosePostRequest, PublishRequest, RemindRequest } from '../types';
import { composeClosing, composeInvite, composeReminder, type MailCandidate, type Sender } from './compose';
import { MailDelivery, type EmailLog, type Target } from './delivery';
import { EmailRejectedError } from './errors';
import { redactAddresses, type MailTransport } from './smtp';
import type { EmailState } from './state';
import { lifecycleHash, messageIdFor, replyLocalPart, signJudgementLink, signUnsubscribe, signVoteLink } from './tokens';

/** A reader of artifact bytes (the ArtifactStore). */
export interface ArtifactReader {
  read(sha256: string): Promise<{ bytes: Buffer }>;
}

export interface EmailPublisherOptions {
  transport: MailTransport;
  from: Sender;
  /** Right-hand side of Message-IDs; defaults to the From address's domain. */
  messageIdDomain?: string;
  /** The gateway's public URL: vote and unsubscribe links point there. */
  publicUrl: string;
  /** Domain of reply addresses (`vote+…@domain`); without it, mails offer links only. */
  inboundDomain?: string;
  raterKey: Buffer;
  tokenKey: Buffer;
  state: EmailState;
  artifacts: ArtifactReader;
  /** Named rater lists for `email:@name`. */
  lists?: Record<string, string[]>;
  /** Mail the result to raters when the lifecycle closes. */
  closingNote?: boolean;
  /** Concurrent sends (keep at or above the pool size so every connection stays busy). */
  concurrency?: number;
  /** Stop starting new sends after this long and let the activity retry carry on (it has 2 minutes). */
  batchBudgetMs?: number;
  now?: () => number;
  log?: EmailLog;
}

export class EmailPublisher implements ChannelPublisher {
  private readonly domain: string;
  private readonly log: EmailLog;
  private readonly delivery: MailDelivery;

  constructor(private readonly options: EmailPublisherOptions) {
    this.domain = options.messageIdDomain ?? options.from.address.slice(options.from.address.lastIndexOf('@') + 1);
    this.log = options.log ?? (() => undefined);
    this.delivery = new MailDelivery({
      transport: options.transport,
      from: options.from,
      domain: this.domain,
      state: options.state,
      concurrency: options.concurrency ?? 8,
      batchBudgetMs: options.batchBudgetMs ?? 90_000,
      now: options.now ?? Date.now,
      log: this.log,
    });
  }

  async publish(request: PublishRequest): Promise<{ channel: string }> {
    const { lifecycleId, plan, candidates, deadlineAt } = request;
    const hash = lifecycleHash(lifecycleId);
    if (plan.delivery === 'assigned') {
      // A campaign's item: mailed to nobody now; its campaign's digests show it to the raters it is handed to.
      await this.options.state.saveLifecycle(hash, {
        lifecycleId, deadlineAt, prompt: plan.prompt,
        candidates: candidates.map((c) => ({
          id: c.id, label: c.label, kind: c.kind, placeholder: c.placeholder, sha256: c.artifact.sha256, mime: c.artifact.mime, ...(c.text !== undefined ? { text: c.text } : {}),
        })),
        ...(plan.task !== undefined ? { task: plan.task } : {}),
        ...(plan.question !== undefined ? { question: plan.question } : {}),
        ...(plan.allowBothBad !== undefined ? { allowBothBad: plan.allowBothBad } : {}),
      });
      return { channel: 'email' };
    }
    const targets = await this.deliverable(this.recipients(request.plan.channel));
    if (targets.length === 0) this.log('warn', 'email lifecycle has no rater to mail: every recipient opted out', { lifecycleId });
    // The gateway maps reply addresses back to the lifecycle (and reminders find the candidates) here.
    await this.options.state.saveLifecycle(hash, { lifecycleId, deadlineAt, prompt: plan.prompt, candidates: candidates.map((c) => ({ id: c.id, label: c.label })) });
    const images = await this.loadImages(candidates);
    const compare = plan.task === 'compare';
    const result = await this.delivery.deliver('invite', lifecycleId, targets, (t, messageId) => {
      if (compare) {
        const [left, right] = this.pairFor(lifecycleId, plan, candidates, t.rater);
        const side = (c: Candidate) => ({ kind: c.kind, placeholder: c.placeholder, ...(c.text !== undefined ? { text: c.text } : {}), ...(images.get(c.id) ? { image: images.get(c.id)! } : {}) });
        return composeCompareInvite({
          from: this.options.from, to: t.address, messageId, prompt: plan.prompt, question: plan.question ?? 'Which is better?', deadlineAt,
          sides: [side(left), side(right)],
          links: this.answerLinks(lifecycleId, plan, t.rater, [left.id, right.id], Date.parse(deadlineAt)),
          unsubscribeUrl: this.unsubscribeUrl(t.rater),
        });
      }
      return composeInvite({
        from: this.options.from,
        to: t.address,
        messageId,
        prompt: plan.prompt,
        deadlineAt,
        candidates: candidates.map((c) => this.mailCandidate(c, lifecycleId, t.rater, Date.parse(deadlineAt), images.get(c.id))),
        unsubscribeUrl: this.unsubscribeUrl(t.rater),
        ...this.replyTo(lifecycleId, t.rater),
      });
    });
    if (targets.length > 0 && result.sent + result.already === 0) {
      throw new EmailRejectedError(`no rater could be mailed: every recipient was refused (last: ${redactAddresses(result.lastError?.message ?? 'unknown')})`);
    }
    return { channel: 'email' };
  }

  async remind(request: RemindRequest): Promise<{ reminded: number }> {
    const { lifecycleId, plan, deadlineAt } = request;
    const hash = lifecycleHash(lifecycleId);
    const voted = new Set(request.ratersWhoVoted);
    const record = await this.options.state.lifecycle(hash);
    // Only raters whose invitation went out (a refused address stays refused) and who have not voted.
    const invited = await this.options.state.sendRecords(hash, 'invite');
    const targets = (await this.deliverable(this.recipients(plan.channel))).filter((t) => !voted.has(t.rater) && invited.get(t.rater) === 'sent');
    const result = await this.delivery.deliver('remind', lifecycleId, targets, (t, messageId) => {
      const inReplyTo = messageIdFor('invite', lifecycleId, t.rater, this.domain);
      if (plan.task === 'compare') {
        const [left, right] = this.pairFor(lifecycleId, plan, record?.candidates ?? [], t.rater);
        return composeCompareReminder({
          from: this.options.from, to: t.address, messageId, inReplyTo, prompt: plan.prompt, question: plan.question ?? 'Which is better?', deadlineAt,
          links: this.answerLinks(lifecycleId, plan, t.rater, [left.id, right.id], Date.parse(deadlineAt)),
          unsubscribeUrl: this.unsubscribeUrl(t.rater),
        });
      }
      return composeReminder({
        from: this.options.from,
        to: t.address,
        messageId,
        inReplyTo: messageIdFor('invite', lifecycleId, t.rater, this.domain),
        prompt: plan.prompt,
        deadlineAt,
        candidates: (record?.candidates ?? []).map((c) => ({ label: c.label, links: this.links(lifecycleId, t.rater, c.id, Date.parse(deadlineAt)) })),
        unsubscribeUrl: this.unsubscribeUrl(t.rater),
        ...this.replyTo(lifecycleId, t.rater),
      });
    });
    return { reminded: result.sent + result.already };
  }

  async close(request: ClosePostRequest): Promise<void> {
    if (!this.options.closingNote) return;
    const { lifecycleId, plan } = request;
    const hash = lifecycleHash(lifecycleId);
    const invited = await this.options.state.sendRecords(hash, 'invite');
    const targets = (await this.deliverable(this.recipients(plan.channel))).filter((t) => invited.get(t.rater) === 'sent');
    // Voting has closed: the models may be named now (the tally lists candidates in plan.models' order).
    const names = request.tally.map((c, i) => ({ id: c.candidateId, name: plan.models.length === request.tally.length ? plan.models[i]! : `Candidate ${c.label}` }));
    await this.delivery.deliver('close', lifecycleId, targets, (t, messageId) =>
      plan.task === 'compare'
        ? composeCompareClosing({
          from: this.options.from, to: t.address, messageId, inReplyTo: messageIdFor('invite', lifecycleId, t.rater, this.domain), prompt: plan.prompt,
          closeReason: request.closeReason, candidates: names, ...(request.judgements ? { judgements: request.judgements } : {}), unsubscribeUrl: this.unsubscribeUrl(t.rater),
        })
        : composeClosing({
        from: this.options.from,
        to: t.address,
        messageId,
        inReplyTo: messageIdFor('invite', lifecycleId, t.rater, this.domain),
        prompt: plan.prompt,
        closeReason: request.closeReason,
        tally: request.tally,
        unsubscribeUrl: this.unsubscribeUrl(t.rater),
      }),
    );
  }

  /** Addresses of the channel: its own list, or a named list from configuration. Lowercased (pseudonyms depend on it). */
  recipients(channel: PublishRequest['plan']['channel']): string[] {
    if (channel.kind !== 'email') throw new ConfigMissingError(`the email publisher got a "${channel.kind}" lifecycle`);
    if (channel.list === undefined) return channel.recipients.map((a) => a.toLowerCase());
    const list = this.options.lists?.[channel.list];
    if (!list) throw new ConfigMissingError(`rater list "@${channel.list}" is not configured on this worker (PREFLINE_EMAIL_LISTS)`);
    return [...new Set(list.map((a) => a.toLowerCase()))];
  }

  /** The recipients with their pseudonyms, minus those who opted out. */
  private async deliverable(addresses: string[]): Promise<Target[]> {
    const targets: Target[] = [];
    for (const address of addresses) {
      const rater = pseudonymiseRater(this.options.raterKey, 'email', address);
      if (await this.options.state.isOptedOut(rater)) continue;
      targets.push({ address, rater });
    }
    return targets;
  }

  private async loadImages(candidates: Candidate[]): Promise<Map<string, MailCandidate['image']>> {
    const images = new Map<string, MailCandidate['image']>();
    for (const c of candidates) {
      if (c.kind !== 'image') continue;
      const { bytes } = await this.options.artifacts.read(c.artifact.sha256);
      const ext = c.artifact.mime.split('/')[1]?.split(/[;+]/)[0] ?? 'bin';
      images.set(c.id, { cid: `${c.id}.${c.artifact.sha256.slice(0, 16)}@prefline`, content: bytes, contentType: c.artifact.mime, filename: `candidate-${c.label}.${ext}` });
    }
    return images;
  }

  private mailCandidate(c: Candidate, lifecycleId: string, rater: string, expiresAt: number, image: MailCandidate['image']): MailCandidate {
    return {
      id: c.id,
      label: c.label,
      kind: c.kind,
      placeholder: c.placeholder,
      ...(c.text !== undefined ? { text: c.text } : {}),
      ...(image ? { image } : {}),
      links: this.links(lifecycleId, rater, c.id, expiresAt),
    };
  }

  private links(lifecycleId: string, rater: string, candidateId: string, expiresAt: number): MailCandidate['links'] {
    const link = (value: 'up' | 'down' | 'retract') =>
      `${this.options.publicUrl}/email/v/${signVoteLink(this.options.tokenKey, { lifecycleId, rater, candidateId, value, expiresAt })}`;
    return { up: link('up'), down: link('down'), retract: link('retract') };
  }

  /** The pair as `rater` is shown it, [left, right] (shownPair: presentationOrder per rater). */
  private pairFor<C extends { id: string }>(lifecycleId: string, plan: LifecyclePlan, candidates: readonly C[], rater: string): [C, C] {
    const pair = shownPair({ lifecycleId, task: plan.task, candidates }, rater);
    if (!pair) throw new EmailRejectedError(`a compare lifecycle needs exactly two candidates (got ${candidates.length})`);
    return pair;
  }

  /** One signed link per answer, bound to this rater and the order they are shown. */
  private answerLinks(lifecycleId: string, plan: LifecyclePlan, rater: string, [left, right]: [string, string], expiresAt: number): AnswerLinks {
    const link = (choice: JudgementChoice) => `${this.options.publicUrl}/email/j/${signJudgementLink(this.options.tokenKey, { lifecycleId, rater, left, right, choice, expiresAt })}`;
    return { left: link('left'), right: link('right'), tie: link('tie'), ...(plan.allowBothBad === false ? {} : { bothBad: link('both_bad') }), retract: link('retract') };
  }

  private unsubscribeUrl(rater: string): string {
    return `${this.options.publicUrl}/email/unsubscribe/${signUnsubscribe(this.options.tokenKey, rater)}`;
  }

  private replyTo(lifecycleId: string, rater: string): { replyTo?: string } {
    const domain = this.options.inboundDomain;
    return domain ? { replyTo: `${replyLocalPart(this.options.tokenKey, lifecycleId, rater)}@${domain}` } : {};
  }
}

export function createEmailPublisher(options: EmailPublisherOptions): EmailPublisher {
  return new EmailPublisher(options);
}
