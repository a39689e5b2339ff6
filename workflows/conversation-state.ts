/**
 * The state of one chat conversation and its message handlers, as a deterministic class (the
 * cluster-manager pattern): `chatConversation` creates it with `start` or `resume`, lets its loop
 * commit the events it accepts, and hands `toCarry()` to continue-as-new. Handlers never issue commands
 * themselves except through the `ReplyGenerator` the workflow function passes in (the inference
 * activity, in a cancellable scope), so the script stays the one place that talks to Temporal.
 *
 * Every accepted request becomes a `ChatEvent` in the outbox, with its own sequence number, until the
 * ledger has it. Messages of this run keep their text; carried ones keep only their artifact digest.
 */
import { ApplicationFailure, log, setHandler } from '@temporalio/workflow';
import type { ContextMessageRef, GeneratedReply, GenerateReplyRequest } from '../activities/types';
import type {
  CarriedMessage, ChatCarry, ChatEndReason, ChatEvent, ChatMessageView, ChatOutcome, ChatPlan, ChatReceipt, ChatReplyReceipt, CompareRequest,
  ConversationStatus, CorrectionRequest, FeedbackRequest, RateReplyRequest, StreamTarget, Transcript, TurnView,
} from './chat-types';
import { ChatRejection, conversationStatusQuery, compareUpdate, correctionUpdate, endUpdate, feedbackUpdate, rateReplySignal, rateReplyUpdate, regenerateUpdate, sendMessageUpdate, transcriptQuery } from './chat-messages';
import { malformedChatReason, type ChatRequestKind } from './chat-validation';
import { CHAT_COMMIT_BATCH, cadenceWakeMs, commitAtMs, type CommitRule, type OutboxTimes } from './chat-commit-timing';

export { CHAT_COMMIT_BATCH, DEFAULT_COMMIT_AFTER_MS, MAX_UNCOMMITTED_MS, QUIET_COMMIT_AFTER_MS } from './chat-commit-timing';

/** Idempotency keys remembered across continue-as-new (late duplicates arrive within seconds). */
export const RECENT_KEYS_CARRIED = 200;
const TITLE_CHARS = 80;

/** Runs the inference activity for one reply; the workflow wraps it in a scope `cancel` can stop. */
export interface ReplyGenerator {
  generate(request: GenerateReplyRequest): Promise<GeneratedReply>;
  cancel(): void;
}

export class ChatConversation {
  ended?: ChatEndReason;
  /** Continue-as-new is pending: new requests are refused as busy, to be retried on the next run. */
  draining = false;
  generating?: { turn: number; replyId: string };
  outbox: ChatEvent[] = [];
  /** Workflow time the oldest uncommitted event was accepted. */
  outboxSinceMs?: number;
  /** Workflow time the last reply finished (or failed), while its turn is not yet committed. */
  replyEndedMs?: number;
  /** Workflow time of this run's last commit. */
  lastCommitMs?: number;
  /** When events go to the ledger: `quiet` only for runs recorded before the cadence rule. */
  commitRule: CommitRule = 'cadence';
  title?: string;
  titleChanged = false;
  lateSignalsRefused = 0;
  private messages: CarriedMessage[] = [];
  private readonly byId = new Map<string, CarriedMessage>();
  private turns: TurnView[] = [];
  private readonly recentKeys = new Map<string, string>();

  private constructor(
    readonly conversationId: string,
    readonly conversationRunId: string,
    readonly plan: ChatPlan,
    readonly startedAt: string,
    public lastActivityMs: number,
    private nextSeq: number,
    private replies: number,
  ) {}

  /** A new conversation; `now` is workflow time. */
  static start(conversationId: string, conversationRunId: string, plan: ChatPlan, now: number): ChatConversation {
    const conversation = new ChatConversation(conversationId, conversationRunId, plan, new Date(now).toISOString(), now, 1, 0);
    const { owner: _owner, ...detail } = plan;
    conversation.emit({ kind: 'start', model: plan.model, detail: { ...detail } });
    return conversation;
  }

  /** The conversation a previous run carried over; `reopened` continues one that ended for inactivity. */
  static resume(carry: ChatCarry, now: number, reopened: boolean): ChatConversation {
    const c = new ChatConversation(carry.conversationId, carry.conversationRunId, carry.plan, carry.startedAt, reopened ? now : Date.parse(carry.lastActivityAt), carry.nextSeq, carry.replies);
    c.messages = carry.messages.map((m) => ({ ...m }));
    for (const m of c.messages) c.byId.set(m.id, m);
    c.turns = carry.turns.map((t) => ({ ...t, replyIds: [...t.replyIds] }));
    c.outbox = [...carry.outbox];
    if (c.outbox.length > 0) c.outboxSinceMs = now;
    for (const [key, answer] of carry.recentKeys) c.recentKeys.set(key, answer);
    if (carry.title !== undefined) {
      c.title = carry.title;
      c.titleChanged = true; // a reopened run starts with an empty memo
    }
    if (carry.endReason !== undefined && !reopened) c.ended = carry.endReason;
    if (reopened) c.emit({ kind: 'reopen', detail: { after: carry.endReason ?? 'idle' } });
    return c;
  }

  toCarry(): ChatCarry {
    return {
      conversationId: this.conversationId,
      conversationRunId: this.conversationRunId,
      plan: this.plan,
      startedAt: this.startedAt,
      lastActivityAt: new Date(this.lastActivityMs).toISOString(),
      nextSeq: this.nextSeq,
      replies: this.replies,
      ...(this.title !== undefined ? { title: this.title } : {}),
      // By reference: a message keeps its text only while no digest of it exists (its reply never came).
      messages: this.messages.map(({ text, ...m }) => (m.sha256 === undefined && text !== undefined ? { ...m, text } : m)),
      turns: this.turns,
      outbox: this.outbox,
      recentKeys: [...this.recentKeys].slice(-RECENT_KEYS_CARRIED),
      ...(this.ended !== undefined ? { endReason: this.ended } : {}),
    };
  }

  private outboxTimes(): OutboxTimes {
    // Cadence: the oldest waiting event's own acceptance time, so one accepted while a commit was in flight,
    // or carried over from the previous run, is held to the same bound. The quiet rule kept its own clock.
    const oldest = this.outbox[0];
    const since = this.commitRule === 'cadence' && oldest !== undefined ? Date.parse(oldest.at) : this.outboxSinceMs;
    return {
      rule: this.commitRule, commitAfterMs: this.plan.thresholds.commitAfterMs, outboxLength: this.outbox.length, outboxSinceMs: since,
      lastCommitMs: this.lastCommitMs, replyEndedMs: this.replyEndedMs, lastActivityMs: this.lastActivityMs, generating: this.generating !== undefined,
    };
  }

  /** When the outbox must go to the ledger (undefined: it is empty); the rule is in chat-commit-timing.ts. */
  commitAtMs(): number | undefined {
    return commitAtMs(this.outboxTimes());
  }

  /** With nothing waiting, the next cadence point after `now` (chat-commit-timing.ts cadenceWakeMs). */
  cadenceWakeMs(now: number): number | undefined {
    return cadenceWakeMs(this.outboxTimes(), now);
  }

  /** The events a ledger call takes next (the oldest first). */
  nextBatch(): ChatEvent[] {
    return this.outbox.slice(0, CHAT_COMMIT_BATCH);
  }

  /** The ledger holds `batch`: drop it from the outbox. */
  committed(batch: ChatEvent[]): void {
    const done = new Set(batch.map((e) => e.seq));
    this.outbox = this.outbox.filter((e) => !done.has(e.seq));
    this.outboxSinceMs = this.outbox.length > 0 ? Date.now() : undefined;
    this.lastCommitMs = Date.now();
    this.replyEndedMs = undefined;
  }

  endForIdle(): void {
    this.end('idle');
  }

  /** What the workflow loop's deadlines depend on: it wakes when this changes. */
  wakeKey(): string {
    return [this.ended ?? '', this.generating ? 'g' : '', this.outbox.length > 0 ? 'o' : '', this.outbox.length >= CHAT_COMMIT_BATCH ? 'f' : '', this.titleChanged ? 't' : ''].join('|');
  }

  get idleAtMs(): number {
    return this.lastActivityMs + this.plan.idleTimeoutMs;
  }

  // ---- requests ------------------------------------------------------------------------------

  /** The checks every request passes before anything is written to history. */
  private validate(kind: ChatRequestKind, request: { idempotencyKey?: unknown; rater?: unknown }, whileDraining = false): 'duplicate' | undefined {
    const malformed = malformedChatReason(kind, request, this.plan);
    if (malformed) throw ApplicationFailure.nonRetryable(`malformed request: ${malformed}`, ChatRejection.Malformed);
    if (request.rater !== this.plan.owner) throw ApplicationFailure.nonRetryable('this is not your conversation', ChatRejection.NotOwner);
    // A repeated delivery answers as the first one did, even after the end.
    if (this.recentKeys.has(request.idempotencyKey as string)) return 'duplicate';
    if (kind === 'end' && this.ended !== undefined) return undefined;
    if (this.ended !== undefined) throw ApplicationFailure.nonRetryable('this conversation has ended', ChatRejection.Ended);
    if (this.draining && !whileDraining) throw ApplicationFailure.retryable('the conversation is moving to a fresh run, try again', ChatRejection.Busy);
    return undefined;
  }

  private validateReplyTarget(replyId: string): CarriedMessage {
    const reply = this.byId.get(replyId);
    if (!reply || reply.role !== 'assistant') throw ApplicationFailure.nonRetryable(`no reply "${replyId}" in this conversation`, ChatRejection.UnknownReply);
    return reply;
  }

  validateSend(request: Parameters<ChatConversation['send']>[0]): void {
    if (this.validate('send', request) === 'duplicate') return;
    if (this.generating) throw ApplicationFailure.nonRetryable('a reply is still being written', ChatRejection.ReplyInProgress);
    if (this.turns.length >= this.plan.maxTurns) throw ApplicationFailure.nonRetryable(`this conversation has reached ${this.plan.maxTurns} turns`, ChatRejection.TurnLimit);
  }

  async send(request: { idempotencyKey: string; text: string; stream?: StreamTarget }, generator: ReplyGenerator): Promise<ChatReplyReceipt> {
    const seen = this.recentKeys.get(request.idempotencyKey);
    if (seen !== undefined) return this.duplicateReceipt(seen);
    this.touch();
    const turn = this.turns.length + 1;
    const user = this.addMessage({ role: 'user', turn, text: request.text });
    this.turns.push({ turn, userMessageId: user.id, replyIds: [] });
    this.remember(request.idempotencyKey, `turn:${turn}`);
    this.emit({ kind: 'user_message', idempotencyKey: request.idempotencyKey, turn, messageId: user.id, role: 'user', content: request.text });
    if (this.title === undefined) {
      this.title = request.text.replace(/\s+/g, ' ').trim().slice(0, TITLE_CHARS);
      this.titleChanged = true;
    }
    return this.reply(turn, request.stream, generator);
  }

  validateRegenerate(request: { idempotencyKey: string; rater: string }): void {
    if (this.validate('regenerate', request) === 'duplicate') return;
    if (this.generating) throw ApplicationFailure.nonRetryable('a reply is still being written', ChatRejection.ReplyInProgress);
    if (this.turns.length === 0) throw ApplicationFailure.nonRetryable('malformed request: nothing to regenerate yet', ChatRejection.Malformed);
  }

  async regenerate(request: { idempotencyKey: string; stream?: StreamTarget }, generator: ReplyGenerator): Promise<ChatReplyReceipt> {
    const seen = this.recentKeys.get(request.idempotencyKey);
    if (seen !== undefined) return this.duplicateReceipt(seen);
    this.touch();
    const turn = this.turns.at(-1)!;
    this.remember(request.idempotencyKey, `turn:${turn.turn}`);
    this.emit({ kind: 'regenerate', idempotencyKey: request.idempotencyKey, turn: turn.turn, ...(turn.replyIds.length > 0 ? { replyId: turn.replyIds.at(-1)! } : {}) });
    return this.reply(turn.turn, request.stream, generator);
  }

  /** Runs the inference activity for a new reply to `turn` and records it. */
  private async reply(turnNumber: number, stream: StreamTarget | undefined, generator: ReplyGenerator): Promise<ChatReplyReceipt> {
    const turn = this.turns[turnNumber - 1]!;
    const replyId = `m${this.messages.length + 1}`;
    this.replies += 1;
    const seed = this.plan.seed + this.replies - 1;
    const context = this.contextFor(turnNumber);
    this.generating = { turn: turnNumber, replyId };
    try {
      const result = await generator.generate({
        conversationId: this.conversationId, conversationRunId: this.conversationRunId, turn: turnNumber, replyId,
        model: this.plan.model, params: this.plan.params, seed, context: context.refs, ...(stream ? { stream } : {}),
      });
      for (const [id, sha256] of Object.entries(result.stored)) {
        const message = this.byId.get(id);
        if (message && message.sha256 === undefined) message.sha256 = sha256;
      }
      const { provenance } = result;
      const reply = this.addMessage({
        id: replyId, role: 'assistant', turn: turnNumber, text: result.text, sha256: result.sha256, model: this.plan.model, replyIndex: turn.replyIds.length,
        placeholder: provenance.placeholder, latencyMs: provenance.latencyMs, ...(provenance.ttftMs !== undefined ? { ttftMs: provenance.ttftMs } : {}),
      });
      turn.replyIds.push(reply.id);
      delete turn.failed;
      // A new reply is what the user asked for: the conversation continues from it.
      turn.activeReplyId = reply.id;
      this.emit({
        kind: 'reply', turn: turnNumber, messageId: reply.id, role: 'assistant', content: result.text, model: this.plan.model,
        provenance, contextIds: context.ids, replyIndex: reply.replyIndex!,
      });
      return { outcome: 'recorded', turn: turnNumber, userMessageId: turn.userMessageId, reply: this.view(reply) };
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      turn.failed = String(cause).slice(0, 300);
      if (this.ended !== undefined) throw ApplicationFailure.nonRetryable('the conversation ended while the reply was written', ChatRejection.Ended);
      throw ApplicationFailure.nonRetryable(`the model could not answer: ${turn.failed}`, ChatRejection.ReplyFailed);
    } finally {
      this.generating = undefined;
      this.touch();
      this.replyEndedMs = this.lastActivityMs;
    }
  }

  /**
   * What the model sees for a reply to `turnNumber`: the conversation so far (each earlier turn's user
   * message and its active reply; failed turns left out), then this turn's message, at most
   * `contextMessages` of them. Only this conversation's own messages: never another rater's.
   */
  private contextFor(turnNumber: number): { refs: ContextMessageRef[]; ids: string[] } {
    const ids: string[] = [];
    for (const t of this.turns.slice(0, turnNumber - 1)) {
      if (t.activeReplyId === undefined) continue;
      ids.push(t.userMessageId, t.activeReplyId);
    }
    ids.push(this.turns[turnNumber - 1]!.userMessageId);
    const window = ids.slice(-this.plan.contextMessages);
    const refs = window.map((id) => {
      const m = this.byId.get(id)!;
      return m.sha256 !== undefined ? { id, role: m.role, sha256: m.sha256 } : { id, role: m.role, text: m.text ?? '' };
    });
    return { refs, ids: window };
  }

  /** A signal cannot be retried on the next run, so it is taken while draining too (the carry holds it). */
  validateRate(request: RateReplyRequest, fromSignal = false): void {
    if (this.validate('rate', request, fromSignal) === 'duplicate') return;
    this.validateReplyTarget(request.replyId);
  }

  rate(request: RateReplyRequest): ChatReceipt {
    const seen = this.recentKeys.get(request.idempotencyKey);
    if (seen !== undefined) return { outcome: 'duplicate' };
    this.touch();
    const reply = this.byId.get(request.replyId)!;
    const before = reply.rating;
    let outcome: ChatOutcome;
    if (request.value === 'retract') {
      outcome = before ? 'retracted' : 'unchanged';
      delete reply.rating;
    } else {
      const same = before?.value === request.value && before.reason === request.reason;
      outcome = same ? 'unchanged' : before ? 'changed' : 'recorded';
      reply.rating = { value: request.value, ...(request.reason !== undefined ? { reason: request.reason } : {}) };
    }
    this.remember(request.idempotencyKey, outcome);
    this.emit({ kind: 'rating', idempotencyKey: request.idempotencyKey, turn: reply.turn, replyId: reply.id, value: request.value, ...(request.reason !== undefined ? { reason: request.reason } : {}) });
    return { outcome };
  }

  /** Signals cannot be refused, so a bad or late one is counted and logged instead. */
  rateBySignal(request: RateReplyRequest): void {
    try {
      this.validateRate(request, true);
    } catch (err) {
      this.lateSignalsRefused += 1;
      log.warn('rating signal refused', { reason: (err as Error).message });
      return;
    }
    this.rate(request);
  }

  validateText(kind: 'feedback' | 'correction', request: FeedbackRequest | CorrectionRequest): void {
    if (this.validate(kind, request) === 'duplicate') return;
    this.validateReplyTarget(request.replyId);
  }

  addText(kind: 'feedback' | 'correction', request: FeedbackRequest | CorrectionRequest): ChatReceipt {
    if (this.recentKeys.has(request.idempotencyKey)) return { outcome: 'duplicate' };
    this.touch();
    const reply = this.byId.get(request.replyId)!;
    let outcome: ChatOutcome = 'recorded';
    if (kind === 'feedback') reply.feedbackCount = (reply.feedbackCount ?? 0) + 1;
    else {
      if (reply.corrected) outcome = 'changed';
      reply.corrected = true;
    }
    this.remember(request.idempotencyKey, outcome);
    this.emit({ kind, idempotencyKey: request.idempotencyKey, turn: reply.turn, replyId: reply.id, content: request.text });
    return { outcome };
  }

  validateCompare(request: CompareRequest): void {
    if (this.validate('compare', request) === 'duplicate') return;
    const left = this.validateReplyTarget(request.left);
    const right = this.validateReplyTarget(request.right);
    if (left.turn !== right.turn) throw ApplicationFailure.nonRetryable('malformed request: left and right must be replies to the same turn', ChatRejection.Malformed);
  }

  compare(request: CompareRequest): ChatReceipt {
    if (this.recentKeys.has(request.idempotencyKey)) return { outcome: 'duplicate' };
    this.touch();
    const turn = this.turns[this.byId.get(request.left)!.turn - 1]!;
    const before = turn.judgement;
    const winner = request.choice === 'left' ? request.left : request.choice === 'right' ? request.right : undefined;
    let outcome: ChatOutcome;
    if (request.choice === 'retract') {
      outcome = before ? 'retracted' : 'unchanged';
      delete turn.judgement;
      turn.activeReplyId = turn.replyIds.at(-1);
    } else {
      const same = before !== undefined && before.choice === request.choice && before.left === request.left && before.right === request.right;
      outcome = same ? 'unchanged' : before ? 'changed' : 'recorded';
      turn.judgement = { left: request.left, right: request.right, choice: request.choice };
      // The conversation continues from the reply the user preferred.
      turn.activeReplyId = winner ?? turn.replyIds.at(-1);
    }
    this.remember(request.idempotencyKey, outcome);
    this.emit({
      kind: 'compare', idempotencyKey: request.idempotencyKey, turn: turn.turn, left: request.left, right: request.right, choice: request.choice,
      ...(winner !== undefined ? { winner } : {}),
    });
    return { outcome };
  }

  clear(request: { idempotencyKey: string }, generator: ReplyGenerator): ChatReceipt {
    if (this.recentKeys.has(request.idempotencyKey)) return { outcome: 'duplicate' };
    if (this.ended !== undefined) return { outcome: 'unchanged' };
    this.remember(request.idempotencyKey, 'recorded');
    if (this.generating) generator.cancel();
    this.end('cleared', request.idempotencyKey);
    return { outcome: 'recorded' };
  }

  private end(reason: ChatEndReason, idempotencyKey?: string): void {
    this.ended = reason;
    this.emit({ kind: 'end', ...(idempotencyKey !== undefined ? { idempotencyKey } : {}), detail: { reason } });
  }

  // ---- views ---------------------------------------------------------------------------------

  status(): ConversationStatus {
    return {
      conversationId: this.conversationId,
      owner: this.plan.owner,
      model: this.plan.model,
      phase: this.ended !== undefined ? 'ended' : this.generating ? 'generating' : 'open',
      ...(this.ended !== undefined ? { endReason: this.ended } : {}),
      turns: this.turns.length,
      startedAt: this.startedAt,
      lastActivityAt: new Date(this.lastActivityMs).toISOString(),
      idleTimeoutMs: this.plan.idleTimeoutMs,
      reasonTags: this.plan.reasonTags,
      maxMessageChars: this.plan.maxMessageChars,
      maxTurns: this.plan.maxTurns,
      uncommitted: this.outbox.length,
      ...(this.title !== undefined ? { title: this.title } : {}),
    };
  }

  transcript(): Transcript {
    return { status: this.status(), messages: this.messages.map((m) => this.view(m)), turns: this.turns };
  }

  private view(m: CarriedMessage): ChatMessageView {
    return { ...m };
  }

  private duplicateReceipt(answer: string): ChatReplyReceipt {
    const turn = this.turns[Number(answer.slice('turn:'.length)) - 1];
    const replyId = turn?.replyIds.at(-1);
    if (!turn || replyId === undefined) throw ApplicationFailure.nonRetryable('the reply to this message failed; regenerate it', ChatRejection.ReplyFailed);
    return { outcome: 'duplicate', turn: turn.turn, userMessageId: turn.userMessageId, reply: this.view(this.byId.get(replyId)!) };
  }

  // ---- bookkeeping ---------------------------------------------------------------------------

  private addMessage(fields: Omit<CarriedMessage, 'id' | 'createdAt'> & { id?: string }): CarriedMessage {
    const message: CarriedMessage = { ...fields, id: fields.id ?? `m${this.messages.length + 1}`, createdAt: new Date().toISOString() };
    this.messages.push(message);
    this.byId.set(message.id, message);
    return message;
  }

  private emit(event: Omit<ChatEvent, 'seq' | 'at'>): void {
    this.outbox.push({ seq: this.nextSeq++, at: new Date().toISOString(), ...event });
    this.outboxSinceMs ??= Date.now();
  }

  private remember(key: string, answer: string): void {
    this.recentKeys.set(key, answer);
    // Keep memory bounded within a run too: the oldest keys go first.
    if (this.recentKeys.size > RECENT_KEYS_CARRIED * 5) this.recentKeys.delete(this.recentKeys.keys().next().value as string);
  }

  private touch(): void {
    this.lastActivityMs = Date.now();
  }

  get turnCount(): number {
    return this.turns.length;
  }

  get eventCount(): number {
    return this.nextSeq - 1;
  }

  register(generator: ReplyGenerator): void {
    setHandler(conversationStatusQuery, () => this.status());
    setHandler(transcriptQuery, () => this.transcript());
    setHandler(sendMessageUpdate, (r) => this.send(r, generator), { validator: (r) => this.validateSend(r) });
    setHandler(regenerateUpdate, (r) => this.regenerate(r, generator), { validator: (r) => this.validateRegenerate(r) });
    setHandler(rateReplyUpdate, (r) => this.rate(r), { validator: (r) => this.validateRate(r) });
    setHandler(rateReplySignal, (r) => this.rateBySignal(r));
    setHandler(feedbackUpdate, (r) => this.addText('feedback', r), { validator: (r) => this.validateText('feedback', r) });
    setHandler(correctionUpdate, (r) => this.addText('correction', r), { validator: (r) => this.validateText('correction', r) });
    setHandler(compareUpdate, (r) => this.compare(r), { validator: (r) => this.validateCompare(r) });
    setHandler(endUpdate, (r) => this.clear(r, generator), { validator: (r) => void this.validate('end', r) });
  }
}
