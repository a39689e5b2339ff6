/**
 * How the Slack inbound uses the delivery journal (delivery-journal.ts): what an accepted delivery is
 * written as before it is acknowledged, how a journal entry left by a stopped gateway is read back,
 * and marking a delivery done once it reached its lifecycle or was refused for good.
 *
 * Entry formats (stable: a newer gateway replays what an older one wrote):
 *   kind `event`:  the Events API envelope of a reaction, as received
 *   kind `action`: `{payload, index}`, the interactivity payload and the index of the action in it
 *   kind `start`:  a lifecycle start a slash command asked for, as accepted (command-starts.ts `AcceptedStart`)
 */
import type { AcceptedStart } from './command-starts';
import type { DeliveryJournal, JournalEntry } from './delivery-journal';
import { teamOf, type BlockAction, type BlockActionsPayload, type ReactionEnvelope } from './payloads';
import { messageOf, type GatewayLog } from '../../core/http';

/** One accepted delivery: a reaction event, or one action of a click. */
export type AcceptedDelivery =
  | { kind: 'event'; envelope: ReactionEnvelope }
  | { kind: 'action'; payload: BlockActionsPayload; index: number; action: BlockAction; user: string; team: string }
  | { kind: 'start'; start: AcceptedStart };

/** The journal entry body of a delivery. */
export function journalBody(delivery: AcceptedDelivery): unknown {
  if (delivery.kind === 'start') return delivery.start;
  return delivery.kind === 'event' ? delivery.envelope : { payload: delivery.payload, index: delivery.index };
}

/** The delivery a journal entry holds, or undefined for an entry this gateway cannot read. */
export function readJournalEntry(entry: JournalEntry): AcceptedDelivery | undefined {
  if (entry.kind === 'event') return { kind: 'event', envelope: entry.body as ReactionEnvelope };
  if (entry.kind === 'start') {
    const start = entry.body as Partial<AcceptedStart> | null;
    const fields = [start?.lifecycleId, start?.summary, start?.team, start?.channel, start?.user];
    if (!fields.every((f) => typeof f === 'string') || typeof start?.input !== 'object' || start.input === null) return undefined;
    return { kind: 'start', start: start as AcceptedStart };
  }
  const { payload, index } = (entry.body ?? {}) as { payload?: BlockActionsPayload; index?: number };
  const action = payload?.actions?.[index ?? -1];
  const user = payload?.user?.id;
  if (entry.kind !== 'action' || !payload || !action || typeof user !== 'string') return undefined;
  return { kind: 'action', payload, index: index!, action, user, team: teamOf(payload) };
}

/** The journal as the inbound sees it; without a journal (unit tests) every write "succeeds" and nothing is kept. */
export class InboundJournal {
  constructor(
    private readonly journal: DeliveryJournal | undefined,
    private readonly now: () => number,
    private readonly log: GatewayLog,
  ) {}

  /** Whether deliveries that cannot be forwarded now are kept for later (else they are lost, loudly). */
  get keeps(): boolean {
    return this.journal !== undefined;
  }

  /** Writes an accepted delivery before it may be acknowledged; false (logged) when it cannot be written. */
  async append(key: string, delivery: AcceptedDelivery): Promise<boolean> {
    if (!this.journal) return true;
    try {
      await this.journal.append(key, delivery.kind, journalBody(delivery), this.now());
      return true;
    } catch (err) {
      this.log('error', 'Slack delivery refused: the delivery journal cannot be written; Slack will deliver it again', { key, error: messageOf(err) });
      return false;
    }
  }

  /** The delivery reached its lifecycle, or was refused for good: not to be replayed. */
  done(key: string): void {
    this.journal?.done(key);
  }
}
