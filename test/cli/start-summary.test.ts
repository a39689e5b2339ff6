/** `prefline start` gives every lifecycle the summary and details the Temporal UI shows, kept by the server. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/processes';
import { sharedTemporal, uniqueQueue } from '../helpers/temporal';

describe('prefline start: the summary in the Temporal UI', function () {
  this.timeout(60_000);
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'prefline-start-summary-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it("should start the lifecycle with its prompt, models and channel as the summary, and the rest in the details", async () => {
    const { address, client } = await sharedTemporal();
    const taskQueue = uniqueQueue('start-summary'); // nothing polls it: the lifecycle only needs to exist
    const workflowId = `summary-${taskQueue}`;
    const input = { prompt: `a red fox in the snow,\nat dusk ${'and more '.repeat(40)}`, model: 'demo:shapes', channel: 'email:alice@example.com,bob@example.com', votesPerCandidate: 2 };
    const run = runCli(['start', JSON.stringify(input), '--id', workflowId], { PREFLINE_DATA_DIR: dataDir, PREFLINE_TEMPORAL_ADDRESS: address, PREFLINE_TASK_QUEUE: taskQueue });
    assert.equal(run.code, 0, run.stderr);
    const handle = client.workflow.getHandle(workflowId);
    try {
      const description = await handle.describe();
      const summary = await description.staticSummary();
      assert.ok(summary !== undefined && [...summary].length <= 200, summary);
      assert.match(summary, /^"a red fox in the snow, at dusk and more and more .*…" · demo:shapes ×4 · email \(2 recipients\)$/);
      const details = await description.staticDetails();
      assert.match(details ?? '', /^\*\*Prompt:\*\* a red fox in the snow, at dusk and more/);
      assert.match(details ?? '', /\n\*\*Quorum:\*\* 2 votes per candidate\n/);
      assert.doesNotMatch(`${summary}\n${details}`, /example\.com/, 'no email addresses');
    } finally {
      await handle.terminate('test done');
    }
  });
});
