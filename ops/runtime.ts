/**
 * The process's Temporal runtime (one per process, installed before its first connection). The SDK's
 * logs and the native core's go through Prefline's logger. With metrics on, the core's Prometheus
 * exporter serves the SDK's metrics and Prefline's own counters (workflow, activity and runtime meters
 * alike) on a loopback port of its own; the ops endpoint (ops/ops-server.ts) passes them on at the
 * address the deployment chose, beside `/healthz`.
 */
import { IllegalStateError, type Logger, type MetricMeter } from '@temporalio/common';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { freePort } from './dev-server';

export interface InstalledRuntime {
  /** Where the core's exporter answers (`http://127.0.0.1:<port>/metrics`); absent with metrics off. */
  metricsUrl?: string;
  /** For counters outside workflows and activities (the gateway's); a no-op with metrics off. */
  meter: MetricMeter;
}

/** The free port is chosen before the core binds it; another process may take it in between. */
const BIND_ATTEMPTS = 3;

let installed: InstalledRuntime | undefined;

/**
 * Installs the runtime, once per process. A runtime someone else created first (a test harness, an
 * earlier connection) is kept as it is, unless metrics are asked for: those it cannot add.
 */
export async function installRuntime(logger: Logger, options: { metrics: boolean }): Promise<InstalledRuntime> {
  if (installed) {
    if (options.metrics && !installed.metricsUrl) throw new Error('internal: the Temporal runtime of this process was installed without metrics');
    return installed;
  }
  for (let attempt = 1; ; attempt++) {
    const port = options.metrics ? await freePort() : undefined;
    try {
      Runtime.install({
        logger,
        shutdownSignals: [],
        telemetryOptions: {
          logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
          ...(port !== undefined ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${port}` } } } : {}),
        },
      });
    } catch (err) {
      if (port !== undefined && attempt < BIND_ATTEMPTS && /address already in use/i.test((err as Error).message)) continue;
      if (err instanceof IllegalStateError && /already been (installed|instantiated)/.test(err.message)) {
        if (options.metrics) throw new Error('the Temporal runtime of this process was created before its metrics could be turned on; install it first (ops/runtime.ts)');
        installed = { meter: Runtime.instance().metricMeter };
        return installed;
      }
      throw err;
    }
    installed = { ...(port !== undefined ? { metricsUrl: `http://127.0.0.1:${port}/metrics` } : {}), meter: Runtime.instance().metricMeter };
    return installed;
  }
}
