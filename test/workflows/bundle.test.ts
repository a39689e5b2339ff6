/**
 * The workflow bundle guards determinism at build time: workflow code must bundle, and must not pull
 * in activities, connectors, DuckDB or Node built-ins (the worker would crash-loop at startup).
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorkflowBundle } from '../../workers/bundle';

describe('workflow bundle', function () {
  this.timeout(120_000);

  it('should bundle the workflows without Node-only dependencies', async () => {
    const { code } = await buildWorkflowBundle();
    assert.ok(code.includes('ratingLifecycle'));
    assert.ok(code.includes('chatConversation'));
    for (const forbidden of ['@duckdb/node-api', 'node:fs', 'node:crypto', 'ArtifactStore', 'createDemoBackend', 'nodemailer']) {
      assert.ok(!code.includes(forbidden), `bundle must not contain ${forbidden}`);
    }
  });

  it('should refuse a workflow that imports a Node built-in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefline-bundle-'));
    try {
      writeFileSync(join(dir, 'index.js'), "const fs = require('fs');\nexports.bad = async function bad() { return fs.readFileSync('/etc/hostname', 'utf8'); };\n");
      await assert.rejects(bundleWorkflowCode({ workflowsPath: join(dir, 'index.js'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } }), /Webpack finished with errors/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
