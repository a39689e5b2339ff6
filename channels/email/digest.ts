/**
 * An email campaign's digests (the workers' half): who is on the campaign's list, and each rater's digest
 * mail of the items their campaign reserved for them (digest-compose.ts). The items' candidates come from
 * the records their lifecycles' publish left in the email state (an assigned lifecycle is mailed to nobody
 * itself). Exactly one mail per (campaign, digest number, rater), across activity retries and processes:
 * the same MailDelivery as every other mail, under the key `<campaign id>#digest-<n>`. Plain TypeScript.
 */
import { ConfigMissingError } from '../../core/errors';
import { pseudonymiseRater } from '../../core/pseudonym';
import { parseChannel } from '../../workflows/input';
import type { JudgementChoice } from '../../workflows/types';
import { shownPair } from '../rater-view';
import type { AnswerLinks } from './compare-compose';
import type { MailCandidate } from './compose';
import { composeDigest, type DigestItem } from './digest-compose';
import { MailDelivery, type EmailLog, type Target } from './delivery';
import type { EmailPublisher, EmailPublisherOptions } from './publisher';
import type { EmailLifecycleRecord } from './state';
import { lifecycleHash, signJudgementLink, signUnsubscribe, signVoteLink } from './tokens';

export interface DigestRequest {
  campaignId: string;
  label: string;
  digest: number;
  channel: string;
  assignments: Array<{ rater: string; lifecycleIds: string[] }>;
  reservedUntil: string;
}

type RecordCandidate = EmailLifecycleRecord['candidates'][number];

export class EmailDigests {
  private readonly delivery: MailDelivery;
  private readonly log: EmailLog;

  constructor(private readonly options: EmailPublisherOptions, private readonly publisher: Pick<EmailPublisher, 'recipients'>) {
    this.log = options.log ?? (() => undefined);
    this.delivery = new MailDelivery({
      transport: options.transport,
      from: options.from,
      domain: options.messageIdDomain ?? options.from.address.slice(options.from.address.lastIndexOf('@') + 1),
      state: options.state,
      concurrency: options.concurrency ?? 8,
      batchBudgetMs: options.batchBudgetMs ?? 90_000,
      now: options.now ?? Date.now,
      log: this.log,
    });
  }

  /** The channel's raters who may be mailed, by pseudonym (and address, for this process only). */
  private async targets(channel: string): Promise<Target[]> {
    const parsed = parseChannel(channel);
    if (!parsed.ok || parsed.channel.kind !== 'email') throw new ConfigMissingError(`a campaign digest needs an email channel, not "${channel}"`);
    const targets: Target[] = [];
    for (const address of this.publisher.recipients(parsed.channel)) {
      const rater = pseudonymiseRater(this.options.raterKey, 'email', address);
      if (!(await this.options.state.isOptedOut(rater))) targets.push({ address, rater });
    }
    return targets;
  }

  async raters(channel: string): Promise<string[]> {
    return (await this.targets(channel)).map((t) => t.rater);
  }

  /**
   * Mails every assigned rater their digest; a rater whose items all lack records (or who left the list) is
   * skipped. `delivered`: the raters whose digest was sent (now or by an earlier attempt; not refused), with
   * the items it shows, so the campaign releases every other reservation.
   */
  async send(request: DigestRequest): Promise<{ mailed: number; delivered: Array<{ rater: string; lifecycleIds: string[] }> }> {
    const byRater = new Map(request.assignments.map((a) => [a.rater, a.lifecycleIds]));
    const targets = (await this.targets(request.channel)).filter((t) => byRater.has(t.rater));
    const records = new Map<string, EmailLifecycleRecord | undefined>();
    for (const id of new Set(request.assignments.flatMap((a) => a.lifecycleIds))) records.set(id, await this.options.state.lifecycle(lifecycleHash(id)));
    const images = await this.loadImages([...records.values()].flatMap((r) => r?.candidates ?? []));
    const itemsOf = (rater: string) => (byRater.get(rater) ?? []).flatMap((id) => {
      const record = records.get(id);
      return record ? [this.item(record, rater, images)] : [];
    });
    const mailable = targets.filter((t) => itemsOf(t.rater).length > 0);
    if (mailable.length < targets.length) this.log('warn', 'campaign digest items without an email record skipped', { campaignId: request.campaignId, digest: request.digest });
    const key = `${request.campaignId}#digest-${request.digest}`;
    const result = await this.delivery.deliver('digest', key, mailable, (t, messageId) => composeDigest({
      from: this.options.from, to: t.address, messageId, campaign: request.label, items: itemsOf(t.rater), reservedUntil: request.reservedUntil,
      unsubscribeUrl: `${this.options.publicUrl}/email/unsubscribe/${signUnsubscribe(this.options.tokenKey, t.rater)}`,
    }));
    // The send records say who has the mail, whichever attempt sent it; a refused address has none.
    const sent = await this.options.state.sendRecords(lifecycleHash(key), 'digest');
    const delivered = mailable.filter((t) => sent.get(t.rater) === 'sent')
      .map((t) => ({ rater: t.rater, lifecycleIds: (byRater.get(t.rater) ?? []).filter((id) => records.get(id) !== undefined) }));
    return { mailed: result.sent + result.already, delivered };
  }

  /** One item as `rater` sees it: the pair in their order with answer links, or each candidate with 👍/👎 links. */
  private item(record: EmailLifecycleRecord, rater: string, images: Map<string, MailCandidate['image']>): DigestItem {
    const { lifecycleId } = record;
    const expiresAt = Date.parse(record.deadlineAt);
    const pair = record.task === 'compare' ? shownPair({ lifecycleId, task: record.task, candidates: record.candidates }, rater) : undefined;
    const side = (c: RecordCandidate) => ({ kind: c.kind ?? 'text', placeholder: c.placeholder ?? false, ...(c.text !== undefined ? { text: c.text } : {}), ...(images.get(c.id + c.sha256) ? { image: images.get(c.id + c.sha256)! } : {}) });
    if (pair) {
      const [left, right] = pair;
      const link = (choice: JudgementChoice) => `${this.options.publicUrl}/email/j/${signJudgementLink(this.options.tokenKey, { lifecycleId, rater, left: left.id, right: right.id, choice, expiresAt })}`;
      const links: AnswerLinks = { left: link('left'), right: link('right'), tie: link('tie'), ...(record.allowBothBad === false ? {} : { bothBad: link('both_bad') }), retract: link('retract') };
      return { task: 'compare', prompt: record.prompt, question: record.question ?? 'Which is better?', sides: [side(left), side(right)], links };
    }
    const vote = (candidateId: string, value: 'up' | 'down' | 'retract') =>
      `${this.options.publicUrl}/email/v/${signVoteLink(this.options.tokenKey, { lifecycleId, rater, candidateId, value, expiresAt })}`;
    return {
      task: 'thumbs', prompt: record.prompt,
      candidates: record.candidates.map((c) => ({ id: c.id, label: c.label, ...side(c), links: { up: vote(c.id, 'up'), down: vote(c.id, 'down'), retract: vote(c.id, 'retract') } })),
    };
  }

  private async loadImages(candidates: RecordCandidate[]): Promise<Map<string, MailCandidate['image']>> {
    const images = new Map<string, MailCandidate['image']>();
    for (const c of candidates) {
      if (c.kind !== 'image' || !c.sha256 || images.has(c.id + c.sha256)) continue;
      const { bytes } = await this.options.artifacts.read(c.sha256);
      const mime = c.mime ?? 'application/octet-stream';
      const ext = mime.split('/')[1]?.split(/[;+]/)[0] ?? 'bin';
      images.set(c.id + c.sha256, { cid: `${c.id}.${c.sha256.slice(0, 16)}@prefline`, content: bytes, contentType: mime, filename: `candidate-${c.label}.${ext}` });
    }
    return images;
  }
}
