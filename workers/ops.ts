/**
 * A worker process's ops endpoint (PREFLINE_WORKER_METRICS_ADDRESS): Prometheus metrics, and the
 * health report `{ ok, temporal, queues }`: ok when Temporal answers and the worker of every queue
 * this process polls is running. A worker cannot work while Temporal is unreachable, so that is
 * unhealthy too; use it for readiness, or for liveness with a failure threshold longer than an outage
 * you would ride out.
 */
import type { NativeConnection, Worker } from '@temporalio/worker';
import type { ListenAddress } from '../config';
import { startOpsServer, type HealthReport, type RunningOpsServer } from '../ops/ops-server';
import { TemporalProbe } from '../ops/temporal-probe';

export interface PollingWorker {
  queue: string;
  worker: Pick<Worker, 'getState'>;
}

export function workerHealth(probe: TemporalProbe, workers: readonly PollingWorker[]): () => Promise<HealthReport> {
  return async () => {
    const temporal = await probe.check();
    const queues = Object.fromEntries(workers.map(({ queue, worker }) => [queue, worker.getState()]));
    const running = workers.length > 0 && workers.every(({ worker }) => worker.getState() === 'RUNNING');
    return { ok: temporal.temporal === 'ok' && running, ...temporal, queues };
  };
}

export function startWorkerOps(
  address: ListenAddress,
  metricsUrl: string,
  connection: NativeConnection,
  workers: readonly PollingWorker[],
): Promise<RunningOpsServer> {
  return startOpsServer({ ...address, metricsUrl, health: workerHealth(TemporalProbe.of(connection), workers) });
}
