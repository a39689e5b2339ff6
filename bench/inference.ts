/**
 * bench/inference: N lifecycles × 4 candidates against the local Replicate stand-in with 1–5 s simulated
 * predictions, through the real worker process (inference queue, concurrency limit) and the real
 * `replicate` client. Reports wall time against the ideal (total prediction time / concurrency limit) as
 * a ratio, and the number of duplicate predictions created (target 0).
 *
 *   node dist/bench/inference.js [--lifecycles 200] [--concurrency 50]
 */
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { STANDIN_DOWNLOAD_ENV, startReplicateStandIn } from '../test/standins/replicate-server';
import { fmt, formatCpu, startBenchStack, withCpu } from './util';

const RUN_MS = [1000, 2000, 3000, 4000, 5000];

export async function benchInference(options: { lifecycles?: number; concurrency?: number } = {}): Promise<Record<string, number>> {
  const lifecycles = options.lifecycles ?? 200;
  const concurrency = options.concurrency ?? 50;
  const candidates = 4;
  const replicate = await startReplicateStandIn();
  RUN_MS.forEach((runMs, i) => replicate.setModel(`bench/model-${i + 1}s`, { queueMs: 0, runMs }));
  const stack = await startBenchStack('inference', {
    REPLICATE_API_TOKEN: replicate.token,
    PREFLINE_REPLICATE_BASE_URL: replicate.baseUrl,
    ...STANDIN_DOWNLOAD_ENV,
    PREFLINE_INFERENCE_CONCURRENCY: String(concurrency),
  });
  const connection = await NativeConnection.connect({ address: stack.server.address });
  const client = new Client({ connection });
  try {
    const models = Array.from({ length: lifecycles }, (_, i) => `replicate:bench/model-${(i % RUN_MS.length) + 1}s`);
    const idealMs = models.reduce((sum, m) => sum + RUN_MS[Number(/model-(\d)s/.exec(m)![1]) - 1]! * candidates, 0) / concurrency;
    const t0 = performance.now();
    // Progress: predictions created so far, every 10 s (shows whether the concurrency limit is filled).
    const progress = setInterval(() => process.stderr.write(`  ${fmt((performance.now() - t0) / 1000, 0)} s: ${replicate.createdCount} predictions created\n`), 10_000);
    const { result: handles, cpu } = await withCpu(stack, async () => {
      const started = await Promise.all(
        models.map((model, i) =>
          client.workflow.start('ratingLifecycle', {
            taskQueue: stack.config.taskQueue,
            workflowId: `bench-inf-${i}-${randomUUID().slice(0, 8)}`,
            args: [{ prompt: `benchmark prompt ${i}`, model, candidates, votesPerCandidate: 1, deadline: '1h' }],
          }),
        ),
      );
      // Generation is done when voting opens. Count through visibility once a second: polling 200 status
      // queries would load the very worker being measured.
      const ids = new Set(started.map((h) => h.workflowId));
      for (;;) {
        let voting = 0;
        for await (const wf of client.workflow.list({ query: `WorkflowType = 'ratingLifecycle' AND PreflineStatus = 'voting' AND WorkflowId STARTS_WITH 'bench-inf-'` })) {
          if (ids.has(wf.workflowId)) voting++;
        }
        if (voting >= ids.size) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      return started;
    });
    const wallMs = performance.now() - t0;
    clearInterval(progress);
    const expected = lifecycles * candidates;
    const duplicates = replicate.createdCount - expected;
    process.stdout.write(
      [
        `bench/inference: ${lifecycles} lifecycles × ${candidates} candidates, predictions of 1–5 s, inference concurrency ${concurrency}`,
        `ideal (total prediction time / concurrency): ${fmt(idealMs / 1000)} s`,
        `measured wall time to all candidates generated: ${fmt(wallMs / 1000)} s   ratio ${fmt(wallMs / idealMs, 2)}× the ideal`,
        `predictions created ${replicate.createdCount} for ${expected} candidates: duplicates ${duplicates}`,
        `cpu: ${formatCpu(cpu)}`,
      ].join('\n') + '\n',
    );
    await Promise.all(handles.map((h) => h.terminate('benchmark done')));
    return { wallMs, idealMs, ratio: wallMs / idealMs, duplicates };
  } finally {
    await connection.close();
    await stack.stop();
    await replicate.close();
  }
}

if (require.main === module) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  benchInference({ ...(arg('lifecycles') ? { lifecycles: arg('lifecycles') } : {}), ...(arg('concurrency') ? { concurrency: arg('concurrency') } : {}) }).then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
