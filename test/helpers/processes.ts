/** Runs `prefline` commands as real child processes, as users and `prefline up` do. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { childNodeArgs } from '../../ops/node-args';
import { parseBoolean } from '../../core/boolean';

export const CLI = resolve(__dirname, '..', '..', 'cli', 'main.js');

export interface CliProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** `nodeArgs` go to node itself, before the CLI (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, nodeArgs: string[] = []): CliProcess {
  // As `prefline up` starts them (cli/up.ts); tests keep source-mapped stacks unless the env says otherwise.
  const maps = childNodeArgs(parseBoolean(env.PREFLINE_SOURCE_MAPS ?? process.env.PREFLINE_SOURCE_MAPS ?? '1') ?? true);
  const child = spawn(process.execPath, [...maps, ...nodeArgs, CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    if (process.env.PREFLINE_TEST_VERBOSE) process.stderr.write(chunk);
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      for (const l of listeners) l();
      r({ code, signal });
    }),
  );
  return {
    child,
    exited,
    output: () => output,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolveWait, rejectWait) => {
        const check = () => {
          if (pattern.test(output)) {
            cleanup();
            resolveWait();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            rejectWait(new Error(`process exited before ${pattern}; output:\n${output.slice(-4000)}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          rejectWait(new Error(`timed out waiting for ${pattern}; output:\n${output.slice(-4000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a CLI command to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export async function waitUntil<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined;
    try {
      value = await probe();
    } catch {
      value = undefined;
    }
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}
