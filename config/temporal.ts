/** Temporal: the server, the task queue, and which queues this worker process polls. */
import { resolve } from 'node:path';
import { type Env, ConfigError, flag, int, list, text } from './read';
import type { PreflineConfig } from './types';

const WORKER_QUEUES = ['workflows', 'inference', 'ledger'] as const;

/** The Prefline checkout (dist/config/ is two levels below it). */
const PROJECT_ROOT = resolve(__dirname, '..', '..');

export function readTemporal(env: Env, cwd: string): Pick<PreflineConfig, 'temporal' | 'taskQueue' | 'workerQueues' | 'inferenceConcurrency'> {
  const queues = list(env, 'PREFLINE_WORKER_QUEUES');
  for (const q of queues) {
    if (!(WORKER_QUEUES as readonly string[]).includes(q)) {
      throw new ConfigError(`PREFLINE_WORKER_QUEUES: unknown queue "${q}" (expected ${WORKER_QUEUES.join(', ')})`);
    }
  }
  return {
    temporal: {
      address: text(env, 'PREFLINE_TEMPORAL_ADDRESS'),
      namespace: text(env, 'PREFLINE_TEMPORAL_NAMESPACE'),
      uiPort: int(env, 'PREFLINE_TEMPORAL_UI_PORT'),
      external: flag(env, 'PREFLINE_EXTERNAL_TEMPORAL'),
      // The default binary is inside the checkout (scripts/install-temporal.sh builds it there); a value given is relative to the working directory.
      binary: resolve(env.PREFLINE_TEMPORAL_BIN ? cwd : PROJECT_ROOT, text(env, 'PREFLINE_TEMPORAL_BIN')),
    },
    taskQueue: text(env, 'PREFLINE_TASK_QUEUE'),
    workerQueues: queues as PreflineConfig['workerQueues'],
    inferenceConcurrency: Math.max(1, int(env, 'PREFLINE_INFERENCE_CONCURRENCY')),
  };
}
