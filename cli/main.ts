/**
 * `prefline <command>`: one entry point for ops and analysts. Each command's arguments and options
 * are declared beside its code (a Command or a CommandGroup, cli/command.ts) and listed below; the
 * command line is parsed strictly (cli/args.ts) before the configuration is read, so `--help` works
 * whatever the environment holds.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, loadConfig, type PreflineConfig } from '../config';
import { formatHelp, parseCommandArgs, UsageError, wantsHelp } from './args';
import { CAMPAIGN_COMMANDS } from './campaign';
import { CHAT_COMMANDS } from './chat';
import { CLUSTER_COMMANDS } from './cluster';
import { EXIT, groupHelp, resolveInGroup, type Command, type CommandGroup, type Resolved } from './command';
import { IMPORT_COMMAND } from './import';
import { LIFECYCLE_COMMANDS } from './lifecycle-commands';
import { QUERY_COMMAND } from './query';
import { RATERS_COMMANDS } from './raters';
import { RELEASE_COMMANDS } from './release';
import { RESULTS_COMMAND } from './results';
import { safeForTerminal } from './terminal';
import { PROCESS_COMMANDS } from './up';

/** Every command, in the order `prefline --help` lists them. */
export const COMMANDS: ReadonlyArray<Command | CommandGroup> = [...PROCESS_COMMANDS, ...LIFECYCLE_COMMANDS, IMPORT_COMMAND, QUERY_COMMAND, RESULTS_COMMAND, RELEASE_COMMANDS, RATERS_COMMANDS, CAMPAIGN_COMMANDS, CHAT_COMMANDS, CLUSTER_COMMANDS];

const PROJECT_ROOT = resolve(__dirname, '..', '..');

export function version(): string {
  return (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

const isGroup = (entry: Command | CommandGroup): entry is CommandGroup => 'commands' in entry;
const entryName = (entry: Command | CommandGroup): string => (isGroup(entry) ? entry.name : entry.spec.name);

export function usage(): string {
  const rows = COMMANDS.flatMap((entry) =>
    isGroup(entry) ? entry.commands.map((c) => [[c.spec.name, c.spec.args].filter(Boolean).join(' '), c.spec.summary]) : [[[entry.spec.name, entry.spec.args].filter(Boolean).join(' '), entry.spec.summary]],
  );
  const width = Math.max(...rows.map(([left]) => (left as string).length));
  return [
    'usage: prefline <command> [arguments] [options]',
    '',
    'commands:',
    ...rows.map(([left, right]) => `  ${(left as string).padEnd(width)}  ${right}`),
    '',
    'Run "prefline <command> --help" for its options; "prefline --version" prints the version.',
    '',
    'exit codes: 0 done; 1 failed (Temporal unreachable, a check found problems, the work failed);',
    '            2 the command line or the settings are wrong (nothing was done);',
    '            3 refused or not found (a vote refused, no such lifecycle or invite, the id exists already).',
  ].join('\n');
}

/** The command `argv` names, parsed by its spec; or the help text it asks for. */
export function resolveCommandLine(argv: readonly string[]): Resolved {
  const [name, ...rest] = argv;
  const entry = COMMANDS.find((e) => entryName(e) === name);
  if (!entry) {
    const known = COMMANDS.map(entryName);
    throw new UsageError(`unknown command "${name}" (commands: ${known.join(', ')})`);
  }
  if (isGroup(entry)) return resolveInGroup(entry, rest);
  if (wantsHelp(rest)) return { help: formatHelp(entry.spec) };
  return { command: entry, args: parseCommandArgs(entry.spec, rest) };
}

export async function main(argv: string[], load: () => PreflineConfig = () => loadConfig()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(usage() + '\n');
    return EXIT.usage;
  }
  if (first === '--version') {
    process.stdout.write(`prefline ${version()}\n`);
    return EXIT.ok;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const entry = COMMANDS.find((e) => entryName(e) === rest[0]);
    process.stdout.write((entry ? (isGroup(entry) ? groupHelp(entry) : formatHelp(entry.spec)) : usage()) + '\n');
    return EXIT.ok;
  }
  let resolved: Resolved;
  let config: PreflineConfig;
  try {
    resolved = resolveCommandLine(argv);
    if ('help' in resolved) {
      process.stdout.write(resolved.help + '\n');
      return EXIT.ok;
    }
    config = load();
  } catch (err) {
    return reportUsage(err, first);
  }
  try {
    return await resolved.command.run(config, resolved.args);
  } catch (err) {
    return reportUsage(err, first);
  }
}

/**
 * A UsageError or ConfigError as a message and exit code 2; anything else is rethrown (exit 1). The
 * message may quote what was typed (an unknown command): shown, never obeyed, by the terminal.
 */
function reportUsage(err: unknown, command: string): number {
  if (err instanceof UsageError) {
    const name = err.command ?? command;
    process.stderr.write(safeForTerminal(`prefline ${name}: ${err.message}\n(see "prefline ${COMMANDS.some((e) => entryName(e) === name.split(' ')[0]) ? `${name} ` : ''}--help")`) + '\n');
    return EXIT.usage;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`prefline: ${safeForTerminal(err.message)}\n`);
    return EXIT.usage;
  }
  throw err;
}

if (require.main === module || process.argv[1]?.endsWith('bin/prefline')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // Errors can quote data (DuckDB's do: "Could not convert string '…'"): shown, never obeyed, by the terminal.
      process.stderr.write(`prefline: ${safeForTerminal(err instanceof Error ? err.message : String(err))}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
