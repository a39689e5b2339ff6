/**
 * Records the history of a complete lifecycle (votes by update and signal, a change, a retraction,
 * a duplicate, a close) as a replay fixture: `node dist/test/replay/record-history.js <name>`.
 * Re-record only when a workflow change is deliberately incompatible (and guard it with patched()).
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { closeSignal, voteSignal, voteUpdate } from '../../workflows/messages';
import { createLifecycleWorkers, sharedTemporal, stopSharedTemporal, waitForVoting } from '../helpers/temporal';
import { vote } from '../helpers/votes';

async function main(name: string): Promise<void> {
  const { client } = await sharedTemporal();
  const workers = await createLifecycleWorkers('record');
  try {
    await workers.run(async () => {
      const handle = await client.workflow.start('ratingLifecycle', {
        taskQueue: workers.taskQueue,
        workflowId: `replay-fixture-${name}`,
        args: [{ prompt: 'replay fixture', models: ['demo:shapes', 'demo:text'], votesPerCandidate: 3, campaign: 'fixtures' }],
      });
      await waitForVoting(handle);
      const first = vote('c1', 'up', 1);
      await handle.executeUpdate(voteUpdate, { args: [first] });
      await handle.executeUpdate(voteUpdate, { args: [first], updateId: 'replay-duplicate' });
      await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'down', 1)] });
      await handle.executeUpdate(voteUpdate, { args: [vote('c2', 'up', 1, { castAt: new Date(Date.now() + 1000).toISOString() })] });
      await handle.signal(voteSignal, vote('c1', 'down', 2));
      await handle.executeUpdate(voteUpdate, { args: [vote('c1', 'retract', 2, { castAt: new Date(Date.now() + 2000).toISOString() })] });
      await handle.signal(closeSignal, { reason: 'fixture' });
      await handle.result();
      const history = await handle.fetchHistory();
      const file = join(resolve(__dirname, '..', '..', '..', 'test', 'replay', 'histories'), `${name}.json`);
      writeFileSync(file, historyToJSON(history));
      process.stdout.write(`wrote ${file} (${history.events?.length} events)\n`);
    });
  } finally {
    workers.close();
    await stopSharedTemporal();
  }
}

main(process.argv[2] ?? 'ratingLifecycle_v1').catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
