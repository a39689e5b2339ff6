/**
 * Slack as deployed, for the end-to-end suites: `prefline worker` and `prefline gateway` processes
 * configured only through PREFLINE_* variables, the shared dev server, the Slack stand-in in Slack's
 * place and a data folder of the suite's own. Shared by test/e2e/slack.test.ts and
 * test/e2e/slack-commands.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../ops/dev-server';
import { spawnCli, type CliProcess } from './processes';
import { sharedTemporal, uniqueQueue, type SharedTemporal } from './temporal';
import { SlackStandIn } from '../standins/slack-server';

export interface SlackProcessesOptions {
  /** Label of the unique task queue. */
  queue: string;
  /** Variables for both processes on top of the Slack ones. */
  env?: NodeJS.ProcessEnv;
  /** Variables for the gateway only. */
  gatewayEnv?: NodeJS.ProcessEnv;
  /** The gateway's line that says Slack is on, as these variables should configure it. */
  slackEnabled: RegExp;
}

export interface SlackProcesses {
  client: SharedTemporal['client'];
  taskQueue: string;
  gatewayUrl: string;
  worker: CliProcess;
  gateway: CliProcess;
}

export class SlackE2e {
  /** Every process a test started; close() SIGKILLs those a failed test left running. */
  private readonly processes: CliProcess[] = [];

  private constructor(
    readonly slack: SlackStandIn,
    readonly dataDir: string,
    private readonly raterKey: string,
  ) {}

  /** For a suite's before hook; `name` names its data folder. */
  static async start(name: string, raterKey: string): Promise<SlackE2e> {
    const slack = await SlackStandIn.start();
    return new SlackE2e(slack, mkdtempSync(join(tmpdir(), `prefline-${name}-e2e-`)), raterKey);
  }

  /** What a worker and a gateway need to reach Temporal at `address`, the data folder and the stand-in. */
  env(address: string, taskQueue: string, gatewayPort: number): NodeJS.ProcessEnv {
    return {
      PREFLINE_TEMPORAL_ADDRESS: address,
      PREFLINE_DATA_DIR: this.dataDir,
      PREFLINE_TASK_QUEUE: taskQueue,
      PREFLINE_GATEWAY_PORT: String(gatewayPort),
      PREFLINE_RATER_KEY: this.raterKey,
      PREFLINE_SLACK_BOT_TOKEN: this.slack.botToken,
      PREFLINE_SLACK_SIGNING_SECRET: this.slack.signingSecret,
      PREFLINE_SLACK_API_URL: this.slack.apiUrl,
    };
  }

  spawn(args: string[], env: NodeJS.ProcessEnv): CliProcess {
    const child = spawnCli(args, env);
    this.processes.push(child);
    return child;
  }

  /** A worker and a gateway on a new task queue, once the worker polls and the gateway listens with Slack on. */
  async startWorkerAndGateway(options: SlackProcessesOptions): Promise<SlackProcesses> {
    const { client, address } = await sharedTemporal();
    const taskQueue = uniqueQueue(options.queue);
    const gatewayPort = await freePort();
    const env = { ...this.env(address, taskQueue, gatewayPort), ...options.env };
    const worker = this.spawn(['worker'], env);
    const gateway = this.spawn(['gateway'], { ...env, ...options.gatewayEnv });
    await Promise.all([worker.waitFor(/worker polling/, 90_000), gateway.waitFor(options.slackEnabled, 60_000)]);
    await gateway.waitFor(/listening/, 30_000);
    return { client, taskQueue, gatewayUrl: `http://127.0.0.1:${gatewayPort}`, worker, gateway };
  }

  /** For the suite's after hook. */
  async close(): Promise<void> {
    for (const p of this.processes) await p.kill('SIGKILL');
    await this.slack.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
