/**
 * What a `prefline` command is: its spec (cli/args.ts) and what it runs. A file of commands exports
 * its Command values (or a CommandGroup for `prefline <group> <subcommand>`), and cli/main.ts lists
 * them; nothing else is needed to add one, its `--help` included.
 */
import type { PreflineConfig } from '../config';
import { formatHelp, parseCommandArgs, UsageError, wantsHelp, type CommandSpec, type ParsedArgs } from './args';

/**
 * The exit codes of every command (README "Commands", `prefline --help`):
 * 0 done; 1 failed (Temporal unreachable, a check found problems, the work failed); 2 the command
 * line or the settings are wrong and nothing was done; 3 refused or not found (the lifecycle refused
 * the vote, no such lifecycle, a lifecycle with that id exists already, no standing invite to revoke).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

export interface Command {
  spec: CommandSpec;
  run(config: PreflineConfig, args: ParsedArgs): Promise<number>;
}

export interface CommandGroup {
  name: string;
  summary: string;
  commands: Command[];
  /** The subcommand run when none is named (`prefline release` publishes). */
  defaultCommand?: string;
}

export type Resolved = { help: string } | { command: Command; args: ParsedArgs };

/** The subcommand of a group named by argv[0] (or its default), with the rest parsed by its spec. */
export function resolveInGroup(group: CommandGroup, argv: readonly string[]): Resolved {
  const [first, ...rest] = argv;
  const named = first !== undefined && !first.startsWith('-') ? group.commands.find((c) => c.spec.name === `${group.name} ${first}`) : undefined;
  if (first !== undefined && !first.startsWith('-') && !named) {
    throw new UsageError(`unknown subcommand "${first}" (expected ${group.commands.map((c) => c.spec.name.split(' ')[1]).join(', ')})`, group.name);
  }
  if (!named && wantsHelp(argv)) return { help: groupHelp(group) };
  const command = named ?? group.commands.find((c) => c.spec.name === `${group.name} ${group.defaultCommand}`);
  if (!command) throw new UsageError(`give a subcommand (${group.commands.map((c) => c.spec.name.split(' ')[1]).join(', ')})`, group.name);
  const args = named ? rest : argv;
  if (wantsHelp(args)) return { help: formatHelp(command.spec) };
  return { command, args: parseCommandArgs(command.spec, args) };
}

/** Parses and runs a group's subcommand with a configuration already loaded. */
export async function runGroup(group: CommandGroup, config: PreflineConfig, argv: readonly string[]): Promise<number> {
  const resolved = resolveInGroup(group, argv);
  if ('help' in resolved) {
    process.stdout.write(resolved.help + '\n');
    return EXIT.ok;
  }
  return resolved.command.run(config, resolved.args);
}

export function groupHelp(group: CommandGroup): string {
  const width = Math.max(...group.commands.map((c) => c.spec.name.length + (c.spec.args ? c.spec.args.length + 1 : 0)));
  return [
    `usage: prefline ${group.name} <subcommand> [options]`,
    '',
    group.summary,
    '',
    'subcommands:',
    ...group.commands.map((c) => {
      const left = [c.spec.name, c.spec.args].filter(Boolean).join(' ');
      const isDefault = group.defaultCommand !== undefined && c.spec.name === `${group.name} ${group.defaultCommand}`;
      return `  ${left.padEnd(width)}  ${c.spec.summary}${isDefault ? ` (also: prefline ${group.name} alone)` : ''}`;
    }),
    '',
    `Run "prefline ${group.name} <subcommand> --help" for its options.`,
  ].join('\n');
}
