/**
 * `prefline chat show <conversation id> [--at <ISO time>] [--format text|json]`: a conversation rebuilt
 * from the ledger's event log as it stood at that moment (every event if `--at` is absent): messages,
 * the owner's standing ratings, feedback, corrections, A/B judgements, and whether it had ended.
 * Reads through the ledger worker's endpoint while it runs (store/chat-rebuild.ts does the rebuilding).
 *
 * Its arguments, for the strict parser (cli/args.ts) when it is merged:
 *   positionals: [conversationId]   (exactly one)
 *   options:     at: string (ISO-8601 with a zone), format: 'text' | 'json' (default text)
 */
import type { PreflineConfig } from '../config';
import { CHAT_REBUILD_COLUMNS, formatConversation, rebuildConversation, type ChatEventRow } from '../store/chat-rebuild';
import type { ParsedArgs } from './main';
import { queryLedger } from './query';

export const CHAT_USAGE = 'chat show <conversation id> [--at <ISO time>] [--format text|json]   rebuild a chat conversation from the ledger';

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

export async function runChat(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const [verb, id, ...extra] = args.positional;
  if (verb !== 'show' || id === undefined || extra.length > 0) {
    process.stderr.write(`usage: prefline ${CHAT_USAGE}\n`);
    return 2;
  }
  const unknown = Object.keys(args.flags).filter((f) => f !== 'at' && f !== 'format');
  if (unknown.length > 0) throw new Error(`chat show: unknown option --${unknown[0]}; known: --at, --format`);
  const at = args.flags.at;
  if (at !== undefined && (typeof at !== 'string' || !ISO_WITH_ZONE.test(at) || Number.isNaN(Date.parse(at)))) {
    throw new Error('chat show: --at takes an ISO-8601 time with a zone, e.g. 2026-12-01T10:30:00Z');
  }
  const format = args.flags.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new Error('chat show: --format must be text or json');
  const { rows } = await queryLedger(config, `SELECT ${CHAT_REBUILD_COLUMNS.join(', ')} FROM chat_events WHERE conversation_id = $1 ORDER BY seq`, [id]);
  const asOf = at === undefined ? undefined : new Date(Date.parse(at)).toISOString();
  const conversation = rebuildConversation(rows as unknown as ChatEventRow[], asOf);
  if (!conversation) {
    process.stderr.write(rows.length === 0 ? `no conversation "${id}" in the ledger (its first events are committed within seconds of them)\n` : `conversation "${id}" had not started at ${asOf}\n`);
    return 1;
  }
  process.stdout.write((format === 'json' ? JSON.stringify(conversation, null, 2) : formatConversation(conversation)) + '\n');
  return 0;
}
