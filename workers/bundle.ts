/**
 * The workflow bundle, built once per version of the workflow code and cached under the data folder:
 * bundling takes seconds, and a restarted worker (crash recovery, `prefline up`) should not wait for it.
 */
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createLogger, type LogFormat } from '../ops/log';

export const WORKFLOWS_PATH = resolve(__dirname, '..', 'workflows');

function workflowSourceHash(): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(WORKFLOWS_PATH).filter((f) => f.endsWith('.js')).sort()) {
    hash.update(name).update(readFileSync(join(WORKFLOWS_PATH, name)));
  }
  hash.update(JSON.stringify(require('@temporalio/workflow/package.json').version));
  return hash.digest('hex').slice(0, 16);
}

export async function buildWorkflowBundle(logFormat: LogFormat = 'text'): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: createLogger('bundler', { logLevel: 'warn', logFormat }) });
}

export async function loadWorkflowBundle(cacheDir: string, logFormat: LogFormat = 'text'): Promise<{ code: string }> {
  const file = join(cacheDir, `workflow-bundle-${workflowSourceHash()}.js`);
  if (existsSync(file)) return { code: readFileSync(file, 'utf8') };
  const { code } = await buildWorkflowBundle(logFormat);
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, file);
  return { code };
}
