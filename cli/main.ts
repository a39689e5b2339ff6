/**
 * `prefline <command>`: one entry point for ops and analysts.
 *
 *   up                      start dev server, worker and gateway; Ctrl-C stops all
 *   server                  only the Temporal dev server
 *   worker [--queues q,..]  a worker process (workflows, inference, ledger)
 *   gateway                 the rating page and vote API
 *   start <json|@file|->    start a ratingLifecycle exactly as the Temporal UI does
 *   list                    open lifecycles
 *   status <id>             a lifecycle's live tally
 *   vote <id> <candidate> up|down|retract --rater NAME [--comment TEXT]
 *   close <id>              close voting now (the lifecycle then commits)
 *   query "<sql>" [--format table|csv|json]   read the ledger without stopping anything
 *   raters invite|list|revoke   who may rate on the web page (invite links)
 */
import { loadConfig } from '../config';
import { runClose, runList, runStart, runStatus, runVote } from './lifecycle-commands';
import { runQuery } from './query';
import { runRaters } from './raters';
import { runRelease } from './release';
import { runGatewayCommand, runServerCommand, runUp, runWorkerCommand } from './up';

export interface ParsedArgs {
  positional: string[];
  flags: Record<string, string | true>;
}

export function parseArgs(argv: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const next = argv[i + 1];
      if (inline !== undefined) flags[name] = inline;
      else if (next !== undefined && !next.startsWith('--')) {
        flags[name] = next;
        i++;
      } else flags[name] = true;
    } else positional.push(arg);
  }
  return { positional, flags };
}

const USAGE = `usage: prefline <command>
  up                         start the whole system (dev server, worker, gateway)
  server                     start only the Temporal dev server
  worker [--queues q,...]    run a worker (queues: workflows, inference, ledger)
  gateway                    run the rating page and vote API
  start <json|@file|->  [--id ID] [--wait]   start a ratingLifecycle
  list                       list open lifecycles
  status <id>                show a lifecycle's live tally
  vote <id> <candidate> up|down|retract --rater NAME [--comment TEXT]
  close <id>                 close voting now
  query "<sql>" [--format table|csv|json]    query the ledger (tables lifecycles, candidates, votes; view feedback)
  release [verify [id] | list | diff <a> <b> | export <id> <dir>]   publish a parquet release now, or inspect releases
  raters invite <email-or-label> [--campaign NAME] [--expires 30d] [--can-generate] | list | revoke <id|label>   invite links for the rating page`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const args = parseArgs(rest);
  if (!command || command === 'help' || args.flags.help) {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  const config = loadConfig();
  switch (command) {
    case 'up': return runUp(config);
    case 'server': return runServerCommand(config);
    case 'worker': return runWorkerCommand(config, args);
    case 'gateway': return runGatewayCommand(config);
    case 'start': return runStart(config, args);
    case 'list': return runList(config);
    case 'status': return runStatus(config, args);
    case 'vote': return runVote(config, args);
    case 'close': return runClose(config, args);
    case 'query': return runQuery(config, args);
    case 'release': return runRelease(config, args);
    case 'raters': return runRaters(config, args);
    default:
      process.stderr.write(`prefline: unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

if (require.main === module || process.argv[1]?.endsWith('bin/prefline')) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`prefline: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
