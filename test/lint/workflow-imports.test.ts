import assert from 'node:assert/strict';
import { ruleErrors } from './lint-snippet';

describe('eslint: workflow import restrictions', function () {
  this.timeout(60_000);

  const restrictedImportErrors = (code: string, filePath = 'workflows/x.ts') => ruleErrors('@typescript-eslint/no-restricted-imports', code, filePath);

  it('rejects Node built-ins', async () => {
    assert.equal((await restrictedImportErrors(`import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n`)).length, 1);
    assert.equal((await restrictedImportErrors(`import { join } from 'path';\nexport const j = join;\n`)).length, 1);
  });

  it('rejects value imports from activities, config and SDK packages that do I/O', async () => {
    assert.equal((await restrictedImportErrors(`import { createActivities } from '../activities/index';\nexport const a = createActivities;\n`)).length, 1);
    assert.equal((await restrictedImportErrors(`import { loadConfig } from '../../config/config';\nexport const c = loadConfig;\n`, 'workflows/sub/y.ts')).length, 1);
    assert.equal((await restrictedImportErrors(`import { Client } from '@temporalio/client';\nexport const c = Client;\n`)).length, 1);
  });

  it('allows type-only imports of activity types and the workflow SDK', async () => {
    const code = [
      `import type { LedgerActivities } from '../activities/types';`,
      `import { proxyActivities } from '@temporalio/workflow';`,
      `export const acts = proxyActivities<LedgerActivities>({ startToCloseTimeout: '1 minute' });`,
      '',
    ].join('\n');
    assert.deepEqual(await restrictedImportErrors(code), []);
  });

  it('allows the listed pure core modules by value, and the rest of core/ as types only', async () => {
    assert.deepEqual(await restrictedImportErrors(`import { parseDuration } from '../core/duration';\nexport const p = parseDuration;\n`), []);
    assert.deepEqual(await restrictedImportErrors(`import { ErrorCode } from '../core/errors';\nexport const c = ErrorCode;\n`), []);
    assert.deepEqual(await restrictedImportErrors(`import { unsafeCharacter } from '../core/text-hygiene';\nexport const u = unsafeCharacter;\n`), []);
    assert.equal((await restrictedImportErrors(`import { retrying } from '../core/retry';\nexport const r = retrying;\n`)).length, 1);
    assert.equal((await restrictedImportErrors(`import { TemporalLifecycleDirectory } from '../core/temporal-directory';\nexport const d = TemporalLifecycleDirectory;\n`)).length, 1);
    assert.deepEqual(await restrictedImportErrors(`import type { LifecycleDirectory } from '../core/lifecycle-directory';\nexport type D = LifecycleDirectory;\n`), []);
  });

  it('rejects value imports from every other folder (releases/, cli/, ops/ too)', async () => {
    for (const folder of ['releases/publisher', 'cli/main', 'ops/log', 'workers/main', 'gateway/main', 'store/Ledger', 'channels/slack/publisher', 'connectors/inference/registry']) {
      assert.equal((await restrictedImportErrors(`import * as m from '../${folder}';\nexport const x = m;\n`)).length, 1, folder);
    }
  });

  it('does not restrict files outside workflows/', async () => {
    assert.deepEqual(await restrictedImportErrors(`import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n`, 'activities/x.ts'), []);
  });
});
