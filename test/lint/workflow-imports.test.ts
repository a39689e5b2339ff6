import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ESLint } from 'eslint';

/** The repository root: the nearest ancestor holding eslint.config.mjs (from dist/test/lint). */
function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'eslint.config.mjs'))) return dir;
  }
  return process.cwd();
}
const cwd = repoRoot();

describe('eslint: workflow import restrictions', function () {
  this.timeout(60_000);
  // The snippets aren't files of the TS project, so lint them without type information.
  const eslint = new ESLint({
    cwd,
    overrideConfig: {
      files: ['**/*.ts'],
      languageOptions: { parserOptions: { projectService: false, project: null } },
      rules: { '@typescript-eslint/no-floating-promises': 'off' },
    },
  });

  async function restrictedImportErrors(code: string, filePath = 'workflows/x.ts'): Promise<string[]> {
    const [result] = await eslint.lintText(code, { filePath });
    assert.ok(result);
    const fatal = result.messages.filter((m) => m.fatal);
    assert.deepEqual(fatal, [], 'snippet parses');
    return result.messages
      .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports' && m.severity === 2)
      .map((m) => m.message);
  }

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

  it('does not restrict files outside workflows/', async () => {
    assert.deepEqual(await restrictedImportErrors(`import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n`, 'activities/x.ts'), []);
  });
});
