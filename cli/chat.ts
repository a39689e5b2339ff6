/**
 * `prefline chat show <conversation id> [--at <ISO time>] [--format text|json]`: a conversation rebuilt
 * from the ledger's event log as it stood at that moment (every event if `--at` is absent): messages,
 * the owner's standing ratings, feedback, corrections, A/B judgements, and whether it had ended.
 * Reads through the ledger worker's endpoint while it runs (store/chat-rebuild.ts does the rebuilding).
 */
import type { PreflineConfig } from '../config';
import { CHAT_REBUILD_COLUMNS, formatConversation, rebuildConversation, type ChatEventRow } from '../store/chat-rebuild';
import { UsageError, type ParsedArgs } from './args';
import { EXIT, type CommandGroup } from './command';
import { queryLedger } from './query';
import { jsonForTerminal, safeForTerminal } from './terminal';

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

async function runShow(config: PreflineConfig, args: ParsedArgs): Promise<number> {
  const id = args.positional[0] as string;
  const at = args.flags.at;
  if (at !== undefined && (typeof at !== 'string' || !ISO_WITH_ZONE.test(at) || Number.isNaN(Date.parse(at)))) {
    throw new UsageError('--at takes an ISO-8601 time with a zone, e.g. 2026-12-01T10:30:00Z', 'chat show');
  }
  const format = args.flags.format ?? 'text';
  const { rows } = await queryLedger(config, `SELECT ${CHAT_REBUILD_COLUMNS.join(', ')} FROM chat_events WHERE conversation_id = $1 ORDER BY seq`, [id]);
  const asOf = at === undefined ? undefined : new Date(Date.parse(at)).toISOString();
  const conversation = rebuildConversation(rows as unknown as ChatEventRow[], asOf);
  if (!conversation) {
    const why = rows.length === 0 ? `no conversation "${id}" in the ledger (its first events are committed within seconds of them)` : `conversation "${id}" had not started at ${asOf}`;
    process.stderr.write(safeForTerminal(why) + '\n');
    return EXIT.refused;
  }
  // Shown, never obeyed, by the terminal: what users typed is in here (cli/terminal.ts).
  process.stdout.write((format === 'json' ? jsonForTerminal(JSON.stringify(conversation, null, 2)) : safeForTerminal(formatConversation(conversation))) + '\n');
  return EXIT.ok;
}

export const CHAT_COMMANDS: CommandGroup = {
  name: 'chat',
  summary: 'chat conversations, as the ledger recorded them (docs/chat.md)',
  commands: [
    {
      spec: {
        name: 'chat show',
        args: '<conversation-id>',
        summary: 'a chat conversation rebuilt from the ledger, as of a moment',
        options: {
          at: { type: 'string', value: 'TIME', description: 'as the conversation stood at this ISO-8601 time with a zone (default: every event)' },
          format: { type: 'string', value: 'FORMAT', description: 'text (default) or json', choices: ['text', 'json'] },
        },
        details: 'Exit code 3 when the ledger has no such conversation, or it had not started at --at.',
        positionals: [1, 1],
      },
      run: runShow,
    },
  ],
};
