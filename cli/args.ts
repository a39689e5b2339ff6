/**
 * The command line of every `prefline` command: a spec per command (its arguments and options, with
 * help text), parsed by node:util's parseArgs in strict mode. Unknown options, a value given to a
 * switch, an option missing its value, a value outside an option's choices and a wrong number of
 * arguments are refused with a UsageError (exit code 2) that says what was wrong.
 */
import { parseArgs as parseNodeArgs } from 'node:util';
import { ErrorCode, PreflineError } from '../core/errors';

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** The value's name in help, e.g. `ID`. */
  value?: string;
  description: string;
  /** The values allowed; with `list`, each of a comma-separated list. */
  choices?: readonly string[];
  list?: boolean;
  /** The value of the option given bare (`--release` alone means `--release latest`). */
  bare?: string;
}

export interface CommandSpec {
  /** As typed: `start`, `release diff`. */
  name: string;
  /** The arguments after the name in the usage line, e.g. `<id> <candidate> up|down|retract`. */
  args?: string;
  summary: string;
  /** Lines after the usage and options in `--help`. */
  details?: string;
  options?: Record<string, OptionSpec>;
  /** Minimum and maximum number of arguments. Default none. */
  positionals?: readonly [number, number];
}

export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string | true>;
}

/** The command line is wrong; nothing was done. */
export class UsageError extends PreflineError {
  constructor(message: string, readonly command?: string) {
    super(ErrorCode.Usage, message);
  }
}

/** True when `--help` or `-h` comes before any `--`. */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

export function parseCommandArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options = spec.options ?? {};
  const args = withBareValues(options, argv);
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({
      args,
      options: Object.fromEntries(Object.entries(options).map(([name, o]) => [name, { type: o.type }])),
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError(explainParseError(spec, args, err as Error), spec.name);
  }
  const flags: Record<string, string | true> = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === undefined || value === false) continue;
    const option = options[name] as OptionSpec;
    if (typeof value === 'string') checkChoices(spec, name, option, value);
    flags[name] = value as string | true;
  }
  const [min, max] = spec.positionals ?? [0, 0];
  const positional = [...parsed.positionals];
  if (positional.length < min) throw new UsageError(`missing arguments: prefline ${usageLine(spec)}`, spec.name);
  if (positional.length > max) {
    const extra = positional.slice(max).map((p) => JSON.stringify(p)).join(' ');
    throw new UsageError(`unexpected argument${positional.length - max > 1 ? 's' : ''} ${extra}: prefline ${usageLine(spec)}`, spec.name);
  }
  return { positional, flags };
}

/** `--release` alone (at the end, or before another option) becomes `--release=<bare>`. */
function withBareValues(options: Record<string, OptionSpec>, argv: readonly string[]): string[] {
  const out: string[] = [];
  const end = argv.indexOf('--');
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const option = arg.startsWith('--') && (end === -1 || i < end) ? options[arg.slice(2)] : undefined;
    const next = argv[i + 1];
    if (option?.bare !== undefined && (next === undefined || next.startsWith('-'))) out.push(`${arg}=${option.bare}`);
    else out.push(arg);
  }
  return out;
}

function checkChoices(spec: CommandSpec, name: string, option: OptionSpec, value: string): void {
  if (!option.choices) return;
  const values = option.list ? value.split(',').map((v) => v.trim()).filter(Boolean) : [value];
  if (values.length === 0) {
    throw new UsageError(`--${name} needs at least one of ${option.choices.join(', ')}`, spec.name);
  }
  const unknown = values.filter((v) => !option.choices!.includes(v));
  if (unknown.length > 0) {
    throw new UsageError(`--${name}: unknown ${unknown.length > 1 ? 'values' : 'value'} ${unknown.map((v) => JSON.stringify(v)).join(', ')} (valid: ${option.choices.join(', ')})`, spec.name);
  }
}

/**
 * parseArgs says what kind of mistake it met but words it for programmers; a second, lenient pass
 * over the tokens finds the option involved so the message can name it and the fix.
 */
function explainParseError(spec: CommandSpec, args: string[], err: Error): string {
  const options = spec.options ?? {};
  const { tokens } = parseNodeArgs({ args, options: {}, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (!option || token.rawName.length === 2) {
      const guess = closest(token.name, Object.keys(options));
      return `unknown option ${token.rawName}${guess ? ` (did you mean --${guess}?)` : ''}`;
    }
    if (option.type === 'boolean' && token.inlineValue) return `--${token.name} is a switch and takes no value (got "${token.value}")`;
    if (option.type === 'string') {
      const next = args[token.index + 1];
      if (!token.inlineValue && (next === undefined || next.startsWith('-'))) {
        const placeholder = option.value ?? 'VALUE';
        return next === undefined
          ? `--${token.name} needs a value: --${token.name} ${placeholder}`
          : `--${token.name} needs a value, but is followed by ${JSON.stringify(next)}: give one (--${token.name} ${placeholder}), or write --${token.name}=${next} if that is the value`;
      }
    }
  }
  return err.message.split('\n')[0] as string;
}

/** The known name within two edits of `name`, or that starts like it. */
function closest(name: string, known: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = candidate.startsWith(name) || name.startsWith(candidate) ? 1 : editDistance(name, candidate);
    if (distance <= 2 && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** `start <json|@file|-> [--id ID] [--wait] [--no-validate]` */
export function usageLine(spec: CommandSpec): string {
  const options = Object.entries(spec.options ?? {}).map(([name, o]) => `[--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}]`);
  return [spec.name, ...(spec.args ? [spec.args] : []), ...options].join(' ');
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`usage: prefline ${usageLine(spec)}`, '', spec.summary];
  const options = Object.entries(spec.options ?? {});
  const rows = [
    ...options.map(([name, o]) => {
      const choices = o.choices ? ` (${o.list ? 'comma-separated, of' : 'one of'} ${o.choices.join(', ')})` : '';
      return [`--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`, `${o.description}${choices}`];
    }),
    ['-h, --help', 'show this help'],
  ];
  const width = Math.max(...rows.map(([left]) => (left as string).length));
  lines.push('', 'options:', ...rows.map(([left, right]) => `  ${(left as string).padEnd(width)}  ${right}`));
  if (spec.details) lines.push('', spec.details);
  return lines.join('\n');
}
