/**
 * The worker of bench/campaign's raw baselines (bench/campaign-baseline.ts), its own OS process like
 * the product's worker, so the baseline and the campaign pay the same process hops:
 *
 *   node dist/bench/campaign-baseline-worker.js <temporal address> <task queue>
 *
 * Prints "ready" once it polls; stops on SIGTERM.
 */
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { createLogger } from '../ops/log';

async function main(): Promise<void> {
  const [address, taskQueue] = process.argv.slice(2);
  if (!address || !taskQueue) throw new Error('usage: campaign-baseline-worker <temporal address> <task queue>');
  Runtime.install({ logger: createLogger('bench-baseline', 'warn'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }), forward: {} } } });
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({ connection, taskQueue, workflowsPath: require.resolve('./campaign-baseline') });
    const running = worker.run();
    process.stdout.write('ready\n');
    await running;
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
