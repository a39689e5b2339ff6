/**
 * `prefline` as users type it, run as a real process: help and version, mistakes refused with exit 2
 * before anything runs, and the lifecycle verbs' exit codes against a dev server with workers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultLifecycleId } from '../../cli/lifecycle-commands';
import { COMMANDS, main } from '../../cli/main';
import type { LifecycleSummary } from '../../workflows/types';
import { runCli, spawnCli } from '../helpers/processes';
import { createLifecycleWorkers, sharedTemporal, type LifecycleWorkers } from '../helpers/temporal';

const ROOT = resolve(__dirname, '..', '..', '..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Every command as typed, groups expanded: `up`, …, `release verify`, `cluster setup`. */
const commandNames = COMMANDS.flatMap((entry) => ('commands' in entry ? entry.commands.map((c) => c.spec.name) : [entry.spec.name]));

/** main() in this process, its output captured; reading the configuration fails the call. */
async function inProcess(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv, () => {
      throw new Error('the configuration was read');
    });
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

describe('prefline commands: help, version and refused mistakes', function () {
  // A setting that would stop every command, to show what runs before the configuration is read.
  const brokenConfig = { PREFLINE_LOG_LEVEL: 'loud' };

  it('should print the version', () => {
    const result = runCli(['--version'], {});
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `prefline ${VERSION}\n`);
  });

  it('should list every command and the exit codes in --help, and exit 2 with it on stderr when no command is given', () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const result = runCli(args, brokenConfig);
      assert.equal(result.code, 0, result.stderr);
      for (const name of commandNames) assert.match(result.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
      assert.match(result.stdout, /exit codes: 0 done; 1 failed .*\n.*2 the command line or the settings are wrong .*\n.*3 refused or not found/);
    }
    const bare = runCli([], {});
    assert.equal(bare.code, 2);
    assert.equal(bare.stdout, '');
    assert.match(bare.stderr, /^usage: prefline <command>/);
  });

  it('should give every command its own --help and -h, without reading the configuration', async () => {
    assert.ok(commandNames.length >= 16, commandNames.join(', '));
    for (const name of commandNames) {
      for (const flag of ['--help', '-h']) {
        const result = await inProcess([...name.split(' '), flag]);
        assert.equal(result.code, 0, `${name} ${flag}: ${result.stderr}`);
        assert.match(result.stdout, new RegExp(`^usage: prefline ${name}\\b`), name);
        assert.match(result.stdout, /-h, --help +show this help/, name);
      }
    }
    const worker = runCli(['worker', '--help'], brokenConfig);
    assert.equal(worker.code, 0, worker.stderr);
    assert.match(worker.stdout, /--queues QUEUES +the queues to poll \(comma-separated, of workflows, inference, ledger\)/);
    assert.equal((await inProcess(['help', 'vote'])).stdout, (await inProcess(['vote', '--help'])).stdout);
    const group = await inProcess(['release', '--help']);
    assert.match(group.stdout, /^usage: prefline release <subcommand>/);
    assert.match(group.stdout, /release verify \[id\|latest\]/);
    const raters = await inProcess(['raters', '--help']);
    assert.equal(raters.code, 0, raters.stderr);
    assert.match(raters.stdout, /^usage: prefline raters <subcommand>/);
    assert.match(raters.stdout, /raters invite <email-or-label> +make an invite link/);
    assert.match(raters.stdout, /raters revoke <invite-id\|email-or-label> /);
    const invite = await inProcess(['raters', 'invite', '-h']);
    assert.match(invite.stdout, /^usage: prefline raters invite <email-or-label> \[--campaign NAME\] \[--expires DURATION\] \[--can-generate\]\n/);
  });

  /** Runs a command line that must be refused with exit 2 before anything runs. */
  const refused = (args: string[], message: RegExp, env: NodeJS.ProcessEnv = {}) => {
    const started = Date.now();
    const result = runCli(args, { PREFLINE_TEMPORAL_ADDRESS: '127.0.0.1:1', ...env });
    assert.equal(result.code, 2, `${args.join(' ')}: exit ${result.code}\n${result.stdout}${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.equal(result.stdout, '', 'nothing ran');
    assert.ok(Date.now() - started < 15_000, 'refused at once, not after a connection attempt');
  };

  it('should refuse an unknown command and an unknown subcommand', () => {
    refused(['strat', '{}'], /prefline strat: unknown command "strat" \(commands: up, server, worker, .*cluster\)/);
    refused(['release', 'verfy'], /prefline release: unknown subcommand "verfy" \(expected publish, verify, list, diff, export\)/);
    refused(['cluster'], /prefline cluster: give a subcommand \(setup\)/);
    refused(['raters', 'grant', 'x'], /prefline raters: unknown subcommand "grant" \(expected invite, list, revoke\)/);
    refused(['raters'], /prefline raters: give a subcommand \(invite, list, revoke\)/);
  });

  it('should refuse unknown options, naming the likely one, instead of ignoring them', () => {
    // The typo that used to run all three queues (the ledger writer included) on a GPU host.
    refused(['worker', '--queue', 'inference'], /prefline worker: unknown option --queue \(did you mean --queues\?\)\n\(see "prefline worker --help"\)/);
    refused(['start', '@in.json', '--wiat'], /unknown option --wiat \(did you mean --wait\?\)/);
    refused(['list', '--all'], /prefline list: unknown option --all\n/);
    refused(['status', 'lc-1', '-j'], /unknown option -j/);
    refused(['raters', 'invite', 'bob@example.org', '--campain', 'spring'], /prefline raters invite: unknown option --campain \(did you mean --campaign\?\)\n\(see "prefline raters invite --help"\)/);
    refused(['raters', 'list', '--all'], /prefline raters list: unknown option --all\n/);
    refused(['raters', 'revoke', 'bob@example.org', '--force'], /prefline raters revoke: unknown option --force\n/);
  });

  it('should refuse unknown queue names, listing the valid ones', () => {
    refused(['worker', '--queues', 'inferenc'], /prefline worker: --queues: unknown value "inferenc" \(valid: workflows, inference, ledger\)/);
    refused(['worker', '--queues', 'workflows,gpu,ledgr'], /unknown values "gpu", "ledgr" \(valid: workflows, inference, ledger\)/);
    refused(['worker', '--queues', ','], /--queues needs at least one of workflows, inference, ledger/);
    refused(['query', 'FROM votes', '--format', 'xml'], /--format: unknown value "xml" \(valid: table, csv, json\)/);
  });

  it('should refuse an option without its value instead of taking the next word', () => {
    refused(['vote', 'lc-1', 'c1', 'up', '--rater'], /--rater needs a value: --rater NAME/);
    refused(['vote', 'lc-1', 'c1', 'up', '--rater', '--comment', 'nice'], /--rater needs a value, but is followed by "--comment": give one \(--rater NAME\), or write --rater=--comment if that is the value/);
    refused(['vote', 'lc-1', 'c1', 'up', '--comment', 'nice'], /prefline vote: --rater NAME is required/);
    refused(['start', '--wait=yes', '@in.json'], /--wait is a switch and takes no value \(got "yes"\)/);
    refused(['raters', 'invite', 'bob@example.org', '--expires'], /prefline raters invite: --expires needs a value: --expires DURATION/);
    refused(['raters', 'invite', '--campaign', 'bob@example.org'], /prefline raters invite: give an email address or a label/);
  });

  it('should refuse missing and extra arguments, and bad values of the command itself', () => {
    refused(['start'], /prefline start: missing arguments: prefline start <json\|@file\|->/);
    refused(['start', '--wait'], /missing arguments/);
    refused(['status', 'lc-1', 'lc-2'], /unexpected argument "lc-2": prefline status <id>/);
    refused(['vote', 'lc-1', 'c1', 'sideways', '--rater', 'alice'], /the vote must be up, down or retract, got "sideways"/);
    refused(['start', '{"prompt": '], /prefline start: the input is not valid JSON/);
    refused(['start', '@/nonexistent/in.json'], /prefline start: cannot read the input @\/nonexistent\/in\.json: ENOENT/);
    refused(['release', '--cutoff', 'yesterday'], /--cutoff must be an ISO-8601 time/);
    refused(['cluster', 'setup', '--retention', '7d'], /--retention applies only with --create-namespace/);
    refused(['cluster', 'setup', '--create-namespace', '--retention', '1h'], /--retention must be a duration of at least a day/);
    refused(['raters', 'list', 'everyone'], /prefline raters list: unexpected argument "everyone": prefline raters list\n/);
    refused(['raters', 'invite', 'alice@example.org', 'bob@example.org'], /unexpected argument "bob@example\.org": prefline raters invite <email-or-label>/);
    refused(['raters', 'revoke', 'inv_1', 'inv_2'], /unexpected argument "inv_2": prefline raters revoke <invite-id\|email-or-label>/);
  });

  it('should refuse settings that do not parse with exit 2 too', () => {
    refused(['list'], /prefline: PREFLINE_LOG_LEVEL must be debug, info, warn or error/, brokenConfig);
    refused(['list'], /prefline: TEMPORAL_PROFILE is "prod", but there is no Temporal config file/, { TEMPORAL_PROFILE: 'prod', HOME: '/nonexistent' });
  });

  it('should refuse TLS or an API key for the plain-text dev server that up and server start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefline-up-tls-'));
    try {
      for (const command of ['up', 'server']) {
        const result = runCli([command], { PREFLINE_DATA_DIR: dir, TEMPORAL_API_KEY: 'k-123', PREFLINE_TEMPORAL_ADDRESS: '127.0.0.1:1' });
        assert.equal(result.code, 1, result.stdout + result.stderr);
        assert.match(result.stderr, /the Temporal settings ask for TLS or an API key \(127\.0\.0\.1:1, namespace default, TLS \(system CAs\), API key\), but prefline starts a plain-text dev server here: set PREFLINE_EXTERNAL_TEMPORAL=1/);
        assert.ok(!result.stderr.includes('k-123'));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('should exit 1 with the cause when Temporal cannot be reached', () => {
    const result = runCli(['list'], { PREFLINE_TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^prefline: cannot connect to Temporal \(127\.0\.0\.1:1, namespace default, plain text\): connect ECONNREFUSED 127\.0\.0\.1:1\n {2}nothing accepts connections at that address/);
  });
});

describe('prefline lifecycle verbs against a dev server: --wait, links and exit codes', function () {
  let workers: LifecycleWorkers;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  before(async () => {
    const { address } = await sharedTemporal();
    workers = await createLifecycleWorkers('cli-verbs');
    dir = mkdtempSync(join(tmpdir(), 'prefline-cli-verbs-'));
    env = { PREFLINE_DATA_DIR: dir, PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_TASK_QUEUE: workers.taskQueue, PREFLINE_TEMPORAL_UI_PORT: '18233' };
  });
  after(() => {
    workers?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The CLI as a child process, while the in-process workers keep polling. */
  const cli = async (args: string[]) => {
    const child = spawnCli(args, env);
    const { code } = await child.exited;
    return { code, output: child.output() };
  };

  it('should take start --wait @file (a switch before the file), print the rating page and the Temporal UI link, then the summary', async () => {
    const input = { prompt: `cli wait ${Date.now()}`, model: 'demo:text', candidates: 2, deadline: '2s' };
    const inputFile = join(dir, 'in.json');
    writeFileSync(inputFile, JSON.stringify(input));
    const id = defaultLifecycleId(input);
    await workers.run(async () => {
      const started = await cli(['start', '--wait', `@${inputFile}`]);
      assert.equal(started.code, 0, started.output);
      assert.match(started.output, new RegExp(`^started ${id}\\n  rating page: http://127\\.0\\.0\\.1:8080/#/lifecycles/${id}\\n  Temporal UI: http://127\\.0\\.0\\.1:18233/namespaces/default/workflows/${id}\\n`));
      const summary = JSON.parse(started.output.slice(started.output.indexOf('{'))) as LifecycleSummary;
      assert.equal(summary.closeReason, 'deadline');
      assert.equal(summary.tally.length, 2);
      assert.equal(summary.rowsCommitted, 0);

      // The same input again the same day: the lifecycle exists, which is a refusal (3), not a failure.
      const again = await cli(['start', `@${inputFile}`]);
      assert.equal(again.code, 3, again.output);
      assert.match(again.output, new RegExp(`a lifecycle with id ${id} already exists`));

      const late = await cli(['vote', id, 'c1', 'up', '--rater', 'alice']);
      assert.equal(late.code, 3, late.output);
      assert.match(late.output, /voting closed/);
    });
  });

  it('should exit 3 for a lifecycle that does not exist', async () => {
    const status = await cli(['status', 'lc-none-such']);
    assert.equal(status.code, 3, status.output);
    assert.match(status.output, /no lifecycle lc-none-such/);
    const close = await cli(['close', 'lc-none-such']);
    assert.equal(close.code, 3, close.output);
    assert.match(close.output, /no open lifecycle lc-none-such/);
    const vote = await cli(['vote', 'lc-none-such', 'c1', 'up', '--rater', 'alice']);
    assert.equal(vote.code, 3, vote.output);
    assert.match(vote.output, /no lifecycle "lc-none-such"/);
  });
});
